//! `wavegap completions SHELL` and `wavegap man [COMMAND]`: shell completions and man pages,
//! both generated from the clap definitions, so they never drift from the command line.

use std::io::Write as _;

use anyhow::anyhow;
use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::exit::{Failure, Kind, OrFail, Success};

pub fn completions(shell: clap_complete::Shell) -> Success {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "wavegap", &mut out);
    print(&out);
    Success::Ok
}

/// The page of wavegap itself, or of one of its commands (`wavegap-report`).
pub fn man(name: Option<&str>) -> Result<Success, Failure> {
    let mut command = Cli::command();
    command.build();
    let page = match name {
        None => command,
        Some(name) => {
            let names: Vec<String> = command
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name().to_owned())
                .filter(|n| n != "help")
                .collect();
            let Some(sub) = command.find_subcommand(name).filter(|c| !c.is_hide_set()) else {
                return Err(Failure::new(
                    Kind::Config,
                    anyhow!("no command `{name}`\nhint: one of {}", names.join(", ")),
                ));
            };
            sub.clone()
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out).or_fail(Kind::Config)?;
    print(&out);
    Ok(Success::Ok)
}

fn print(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
}
