//! wavegap-reporter: turns an analysis into the files of `reports/<wave>/`.
//!
//! It owns the view model ([`ReportModel`]), the minijinja rendering of the templates in the
//! repository's `templates/` (compiled into the binary, overridable per file with
//! `--templates DIR`), the `findings.json` layout ([`json::FindingsDocument`], documented in
//! `docs/findings-schema.md`), the console summary, and atomic writes.
//!
//! It never calls AWS, never reads the clock (the run time comes in as a string) and never
//! decides anything about the flows: culprits and proposals come from `wavegap-core`. Output
//! is deterministic: the same input gives the same bytes, apart from the one header line that
//! carries the run time.
//!
//! ```text
//! let model = wavegap_reporter::build(&input);
//! let stage = Stage::new(out_dir)?;
//! Renderer::new()?.render_into(&model, &stage)?;
//! stage.commit()?;
//! ```

pub mod baseline;
mod console;
mod diagram;
mod error;
mod fix;
pub mod format;
mod group;
pub mod json;
pub mod live;
mod model;
mod render;
mod write;

pub use console::{Style, summary};
pub use diagram::Diagram;
pub use error::ReportError;
pub use group::GroupView;
pub use model::{
    ActionView, AppView, ChangeGroup, Comparison, Counts, ProposalView, ReportInput, ReportModel, ServerView, build,
};
pub use render::{Body, FORMATS, Format, Make, Output, RenderedFile, Renderer, file_names};
pub use write::{Stage, write_atomically, write_report};
