//! `wavegap fetch WAVE --save FILE` (hidden): runs a wave's queries (CloudWatch Logs, or the
//! wave's flow-log files) and saves the flow aggregates, coverage gaps and statistics as JSON, for `report --from-saved`.
//!
//! Missing coverage (log groups and windows that could not be queried after retries) is listed
//! on stderr and kept in the file; with `--fail-on-gaps` it also makes the exit code 4.
//! Ctrl-C stops every running query (`StopQuery`) and exits 130.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use wavegap_resolver::{AwsContext, ClientSettings};
use wavegap_runner::cloudwatch::ExecOptions;
use wavegap_runner::saved::{self, SavedRun};

use crate::commands::plan::{QueryArgs, prepare, runner_failure};
use crate::exit::{Failure, Kind, OrFail, Success};
use crate::progress;

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub query: QueryArgs,

    /// Where to write the aggregates (JSON)
    #[arg(long, value_name = "FILE")]
    pub save: PathBuf,

    /// Exit with code 4 when some log groups or windows could not be queried
    #[arg(long)]
    pub fail_on_gaps: bool,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Where and as whom to call AWS; each wins over the wave's `[aws]` table.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// AWS profile
    #[arg(long)]
    pub profile: Option<String>,
    /// AWS region
    #[arg(long)]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint (an emulator or the test endpoint)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
    pub fn settings(&self, wave: &wavegap_core::wave::AwsSettings) -> ClientSettings {
        let mut s = ClientSettings::from_wave(wave);
        s.profile = self.profile.clone().or(s.profile);
        s.region = self.region.clone().or(s.region);
        s.endpoint_url.clone_from(&self.endpoint_url);
        s
    }
}

pub fn run(args: &FetchArgs, quiet: bool, color: bool) -> Result<Success, Failure> {
    let prepared = prepare(&args.query, None, color)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime").or_fail(Kind::Aws)?;
    let data = runtime.block_on(async {
        // A files wave needs no AWS client at all.
        let client = match prepared.plan.files {
            Some(_) => None,
            None => {
                Some(AwsContext::new(&args.aws.settings(&prepared.wave.aws)).await.or_fail(Kind::Aws)?.logs_client())
            }
        };
        let options = ExecOptions { price_per_gb: prepared.wave.query.price_per_gb, ..ExecOptions::default() };
        let interrupt = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        wavegap_runner::fetch(&prepared.plan, client.as_ref(), &options, progress::for_stderr(quiet), interrupt)
            .await
            .map_err(runner_failure)
    })?;
    let run = SavedRun::new(&prepared.wave.name, prepared.window, data);
    saved::save(&args.save, &run).map_err(runner_failure)?;
    let d = &run.data;
    if !quiet {
        #[allow(clippy::cast_precision_loss)]
        let mb = d.stats.bytes_scanned as f64 / 1e6;
        eprintln!(
            "{} aggregates from {} queries, {mb:.1} MB scanned (about ${:.4}); saved {}",
            d.aggregates.len(),
            d.stats.queries,
            d.stats.estimated_cost,
            args.save.display()
        );
    }
    for gap in &d.gaps {
        eprintln!(
            "missing coverage: {} .. {} of {} ({})",
            gap.window.start,
            gap.window.end,
            gap.log_groups.join(", "),
            gap.reason
        );
    }
    if args.fail_on_gaps && !d.gaps.is_empty() {
        return Err(Failure::new(
            Kind::Incomplete,
            anyhow::anyhow!("{} log-group window(s) could not be queried; the saved data is incomplete", d.gaps.len()),
        ));
    }
    Ok(Success::Ok)
}
