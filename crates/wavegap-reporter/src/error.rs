//! The one error type of the reporter.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("template {name}: {source}")]
    Template {
        name: String,
        #[source]
        source: Box<minijinja::Error>,
    },

    #[error(
        "cannot read template {path}: {source}\nhint: --templates DIR overrides any built-in template by its file name plus .j2 (report.md.j2, fix.sh.j2, …); missing ones fall back to the built-in templates"
    )]
    TemplateRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "templates directory {path} does not exist\nhint: pass a directory holding templates named after the report's files plus .j2 (report.md.j2, fix.sh.j2, …)"
    )]
    TemplateDir { path: PathBuf },

    #[error(
        "cannot write {path}: {source}\nhint: check that the directory is writable; the previous report, if any, was left as it was"
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "cannot write {path}: {source}\nthe report is mixed: replaced: {}; kept as they were: {}\nhint: fix the cause and run the report again",
        replaced.join(", "),
        kept.join(", ")
    )]
    Partial {
        path: PathBuf,
        replaced: Vec<String>,
        kept: Vec<String>,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{path} is a directory where the report writes a file; nothing was changed\nhint: move it out of the way and run the report again"
    )]
    Taken { path: PathBuf },
}

impl ReportError {
    pub(crate) fn template(name: &str, source: minijinja::Error) -> Self {
        ReportError::Template { name: name.to_owned(), source: Box::new(source) }
    }
}
