//! Exit codes, the same for every command:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | `report`: findings present that `--fail-on` (or `--fail-on-findings`) names; `explain`: the flow is not reachable |
//! | 2 | usage or configuration error (bad wave file, bad arguments, bad query) |
//! | 3 | AWS or I/O failure (credentials, access denied, network, unreadable files) |
//! | 4 | incomplete data (`--fail-on gaps`): some log groups or windows could not be queried, or files read only in part |
//! | 130, 143, 129 | interrupted: Ctrl-C (SIGINT), SIGTERM, SIGHUP (128 + the signal's number); every query started is stopped |

use std::process::ExitCode;

/// A successful run's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    Ok,
    FindingsPresent,
    /// `explain`: a hop denies the flow.
    Unreachable,
}

impl From<Success> for ExitCode {
    fn from(s: Success) -> Self {
        match s {
            Success::Ok => ExitCode::SUCCESS,
            Success::FindingsPresent | Success::Unreachable => ExitCode::from(1),
        }
    }
}

/// Why a command failed, which picks the exit code; the error carries the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Config,
    Aws,
    Incomplete,
    Interrupted,
}

impl Kind {
    pub fn code(self) -> u8 {
        match self {
            Kind::Config => 2,
            Kind::Aws => 3,
            Kind::Incomplete => 4,
            Kind::Interrupted => crate::runtime::interrupted_exit_code(),
        }
    }
}

#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(kind: Kind, error: impl Into<anyhow::Error>) -> Self {
        Failure { kind, error: error.into() }
    }

    /// Prints `error: …`, the cause chain and any `hint:` lines, and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprint!("{}", error_text(&self.error));
        ExitCode::from(self.kind.code())
    }
}

/// `error: …` and a `caused by: …` line per cause, for a terminal (control characters escaped).
pub fn error_text(error: &anyhow::Error) -> String {
    let mut text = format!("error: {error}\n");
    for cause in error.chain().skip(1) {
        text.push_str("  caused by: ");
        text.push_str(&cause.to_string());
        text.push('\n');
    }
    crate::terminal::printable(&text).into_owned()
}

/// `result.or_fail(Kind::Config)?` in command code.
pub trait OrFail<T> {
    fn or_fail(self, kind: Kind) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> OrFail<T> for Result<T, E> {
    fn or_fail(self, kind: Kind) -> Result<T, Failure> {
        self.map_err(|e| Failure::new(kind, e))
    }
}
