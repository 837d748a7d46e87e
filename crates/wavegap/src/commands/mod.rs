//! One module per subcommand; each exposes `run(&Args) -> Result<Success, Failure>`.

pub mod check;
pub mod docs;
pub mod explain;
pub mod fetch;
pub mod init;
pub mod inventory;
pub mod plan;
pub mod query;
pub mod report;
pub mod watch;
