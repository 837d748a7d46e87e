//! Serves flow-log events (bench generator `--format cwl` output) as a CloudWatch Logs
//! endpoint on 127.0.0.1, printing its URL on stdout, until killed.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use wavegap_core::flowlog::FlowFormat;
use wavegap_testsupport::{Faults, Fixture, TestEndpoint};

#[derive(Debug, Parser)]
#[command(about = "A local CloudWatch Logs Insights endpoint over fixture flow logs (for tests and benchmarks)")]
struct Args {
    /// Directory of `*.jsonl` / `*.jsonl.gz` CloudWatch events (`gen_flowlogs.py --format cwl`)
    #[arg(long)]
    cwl: PathBuf,
    /// The flow logs' `LogFormat` (`${version} ${account-id} …`); default: the version 2 format
    #[arg(long)]
    log_format: Option<String>,
    /// Spread the streams over this many log groups named `/bench/flowlogs/NNN`
    #[arg(long)]
    spread: Option<usize>,
    /// Port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Time from starting a query to its completion, e.g. `2s`
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    latency: Duration,
    /// Part of the latency spent `Scheduled`
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    scheduled: Duration,
    /// Refuse new queries (limit exceeded) above this many running ones
    #[arg(long)]
    concurrency_cap: Option<usize>,
    /// Throttle the first N query starts
    #[arg(long, default_value_t = 0)]
    throttle_starts: u32,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let format = match &args.log_format {
        Some(text) => FlowFormat::from_log_format(text)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?,
        None => FlowFormat::default_v2(),
    };
    let mut fixture = Fixture::load_cwl(&args.cwl, &format)?;
    if let Some(n) = args.spread {
        fixture = fixture.spread("/bench/flowlogs/", n);
    }
    let faults = Faults {
        latency: args.latency,
        scheduled: args.scheduled,
        throttle_starts: args.throttle_starts,
        concurrency_cap: args.concurrency_cap,
        ..Faults::default()
    };
    let groups = fixture.groups.len();
    let endpoint = TestEndpoint::start_on(fixture, faults, args.port).await?;
    eprintln!("serving {groups} log groups");
    #[allow(clippy::print_stdout)]
    {
        println!("{}", endpoint.url());
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
