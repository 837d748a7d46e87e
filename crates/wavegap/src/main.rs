//! The `wavegap` command: parses the command line, reads the environment, wires the crates
//! together and maps every failure to a documented exit code. Domain logic lives in the
//! library crates.

mod cli;
mod commands;
mod exit;
mod progress;
mod runtime;
mod settings;
mod terminal;
mod waves;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, ColorChoice, Command};

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let env = settings::Env::read(use_color(cli.color), cli.quiet);
    // Each command's settings are resolved once, then the command runs them.
    let result = match cli.command {
        Command::Check(args) => commands::check::run(&args, env.color, env.now.timestamp()),
        Command::Plan(args) => settings::plan(&args, &env).and_then(|s| commands::plan::run(&s)),
        Command::Fetch(args) => settings::fetch(&args, &env).and_then(|s| commands::fetch::run(&s)),
        Command::Query(args) => commands::query::run(&args, env.terminal.stdout),
        Command::Inventory(args) => settings::inventory(&args, &env).and_then(|s| commands::inventory::run(&s)),
        Command::Explain(args) => settings::explain(&args, &env).and_then(|s| commands::explain::run(&s)),
        Command::Report(args) => settings::report(&args, &env).and_then(|s| commands::report::run(&s)),
        Command::Watch(args) => settings::watch(&args, &env).and_then(|s| commands::watch::run(&s)),
        Command::Init(args) => commands::init::run(&args, env.color),
        Command::Completions(args) => Ok(commands::docs::completions(args.shell)),
        Command::Man(args) => commands::docs::man(args.command.as_deref()),
    };
    match result {
        Ok(code) => code.into(),
        Err(failure) => failure.report(),
    }
}

/// Logs go to stderr through `tracing`; `RUST_LOG` overrides `-v`/`-q`.
fn init_logging(cli: &Cli) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},aws_config=warn,aws_smithy_runtime=warn"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(use_color(cli.color))
        .with_target(false)
        .without_time()
        .init();
}

/// Colour on stderr: `--color`, then `NO_COLOR`, then whether stderr is a terminal.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
        }
    }
}
