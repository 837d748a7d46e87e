//! `wavegap fetch WAVE --save FILE` (hidden): runs a wave's queries (CloudWatch Logs, or the
//! wave's flow-log files) and saves the flow aggregates, coverage gaps and statistics as JSON,
//! for `report --from-saved`. [`gather`] is the part `report` shares: the inventory, the plan
//! and the flows of one run.
//!
//! Missing coverage (log groups and windows that could not be queried after retries) is listed
//! on stderr and kept in the file; with `--fail-on-gaps` it also makes the exit code 4.
//! An interrupt (Ctrl-C, SIGTERM, SIGHUP) stops every running query (`StopQuery`) and exits
//! 130, 143 or 129.

use std::path::Path;

use anyhow::anyhow;
use wavegap_core::flow::FlowData;
use wavegap_core::inventory::Inventory;
use wavegap_core::wave::{Source, WaveConfig};
use wavegap_resolver::WaveContexts;
use wavegap_runner::cloudwatch::{ExecOptions, LogsClients};
use wavegap_runner::plan::QueryPlan;
use wavegap_runner::saved;

use crate::commands::inventory::{self, resolver_failure};
use crate::commands::plan::{self, runner_failure};
use crate::exit::{Failure, Kind, OrFail, Success};
use crate::settings;

/// What one run of a wave gathered before the analysis.
pub struct Gathered {
    pub inventory: Inventory,
    /// The EC2 inventory as a snapshot, when it was resolved live (saved with the report).
    pub snapshot: Option<String>,
    pub plan: QueryPlan,
    pub data: FlowData,
}

/// The inventory the settings chose, the plan over it, and the flows: queried with the
/// source the plan needs (`wavegap_runner::fetch`), or read from `from_saved`. An AWS client
/// is built only when EC2 or CloudWatch Logs is called.
pub async fn gather(q: &settings::Query, from_saved: Option<&Path>) -> Result<Gathered, Failure> {
    let offline = plan::offline_inventory(&q.inventory, &q.wave)?;
    let calls_aws = from_saved.is_none() && matches!(q.wave.source, Source::CloudWatch | Source::S3 { .. });
    let ctx = if calls_aws || offline.is_none() {
        Some(WaveContexts::new(&q.aws, &q.wave).await.map_err(resolver_failure)?)
    } else {
        None
    };
    let (inventory, snapshot) = match (offline, &ctx) {
        (Some(inventory), _) => (inventory, None),
        (None, Some(ctx)) => {
            let resolved = inventory::resolve(ctx, &q.wave).await?;
            (resolved.inventory().clone(), Some(wavegap_resolver::snapshot::to_json(&resolved.snapshot)))
        }
        (None, None) => {
            return Err(Failure::new(Kind::Aws, anyhow!("no AWS client to resolve the inventory with")));
        }
    };
    let plan = plan::build(q, &inventory)?;
    let data = if let Some(path) = from_saved {
        load_saved(path, &q.wave)?
    } else {
        let options = ExecOptions::from_settings(&q.wave.query);
        let clients = wavegap_runner::Clients {
            logs: ctx.as_ref().map(|c| LogsClients {
                wave: c.wave.logs_client(),
                accounts: c.accounts.iter().map(|(a, ctx)| (a.id.clone(), ctx.logs_client())).collect(),
            }),
            s3: ctx.as_ref().map(|c| c.wave.s3.clone()),
        };
        wavegap_runner::fetch(&plan, &clients, &options, q.progress.clone(), crate::runtime::interrupted())
            .await
            .map_err(runner_failure)?
    };
    Ok(Gathered { inventory, snapshot, plan, data })
}

pub fn run(s: &settings::Fetch) -> Result<Success, Failure> {
    let gathered = crate::runtime::block_on(gather(&s.query, None))??;
    let d = &gathered.data;
    let (dir, name) = split_path(&s.save);
    let bytes = saved::encode(&name, &s.query.wave.name, s.query.window, d);
    wavegap_reporter::write_atomically(dir, &[wavegap_reporter::RenderedFile::new(name, bytes)]).or_fail(Kind::Aws)?;
    if !s.quiet {
        #[allow(clippy::cast_precision_loss)]
        let mb = d.stats.bytes_scanned as f64 / 1e6;
        eprintln!(
            "{} aggregates from {} queries, {mb:.1} MB scanned (about ${:.4}); saved {}",
            d.aggregates.len(),
            d.stats.queries,
            d.stats.estimated_cost,
            s.save.display()
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
    if s.fail_on_gaps && !d.gaps.is_empty() {
        return Err(Failure::new(
            Kind::Incomplete,
            anyhow!("{} log-group window(s) could not be queried; the saved data is incomplete", d.gaps.len()),
        ));
    }
    Ok(Success::Ok)
}

/// A file path as the directory and the name [`wavegap_reporter::write_atomically`] takes.
pub fn split_path(path: &Path) -> (&Path, String) {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map_or_else(|| "out.json".to_owned(), |n| n.to_string_lossy().into_owned());
    (dir, name)
}

/// The flows saved by an earlier run of the same wave.
fn load_saved(path: &Path, wave: &WaveConfig) -> Result<FlowData, Failure> {
    let run = saved::load(path).map_err(runner_failure)?;
    if run.wave != wave.name {
        return Err(Failure::new(
            Kind::Config,
            anyhow!(
                "{} holds the flows of wave {}, not {}\nhint: pass the flows.json.gz of a report of this wave",
                path.display(),
                run.wave,
                wave.name
            ),
        ));
    }
    Ok(run.data)
}
