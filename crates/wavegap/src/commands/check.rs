//! `wavegap check`: validate wave files.

use crate::cli::CheckArgs;
use crate::exit::{Failure, Kind, Success};

pub fn run(args: &CheckArgs) -> Result<Success, Failure> {
    // Replaced by the wave loader: until then every wave is refused rather than passed.
    let _ = args;
    Err(Failure::new(Kind::Config, anyhow::anyhow!("wave validation is not available yet")))
}
