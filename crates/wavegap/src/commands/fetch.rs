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
use crate::settings::{self, InventoryChoice};

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
    let ctx = contexts(q, from_saved).await?;
    let (inventory, snapshot) = inventory(q, ctx.as_ref()).await?;
    let plan = plan::build(q, &inventory)?;
    let data = match from_saved {
        Some(path) => load_saved(path, &q.wave)?,
        None => query(q, ctx.as_ref(), &plan, crate::runtime::interrupted()).await?,
    };
    Ok(Gathered { inventory, snapshot, plan, data })
}

/// The AWS clients of a run, when it calls AWS at all: to query CloudWatch Logs or S3, or
/// to resolve the inventory with EC2.
pub async fn contexts(q: &settings::Query, from_saved: Option<&Path>) -> Result<Option<WaveContexts>, Failure> {
    let calls_aws = from_saved.is_none() && matches!(q.wave.source, Source::CloudWatch | Source::S3 { .. });
    if calls_aws || q.inventory == InventoryChoice::Live {
        return Ok(Some(WaveContexts::new(&q.aws, &q.wave).await.map_err(resolver_failure)?));
    }
    Ok(None)
}

/// The inventory the settings chose — a snapshot read now, or the EC2 API asked now — and,
/// when it was resolved live, its snapshot (saved with the report).
pub async fn inventory(
    q: &settings::Query,
    ctx: Option<&WaveContexts>,
) -> Result<(Inventory, Option<String>), Failure> {
    if let Some(inventory) = plan::offline_inventory(&q.inventory, &q.wave)? {
        return Ok((inventory, None));
    }
    let ctx = ctx.ok_or_else(|| Failure::new(Kind::Aws, anyhow!("no AWS client to resolve the inventory with")))?;
    let resolved = inventory::resolve(ctx, &q.wave).await?;
    let snapshot = wavegap_resolver::snapshot::to_json(&resolved.snapshot);
    Ok((resolved.inventory().clone(), Some(snapshot)))
}

/// Runs a plan with the clients of `ctx`, until done or `interrupt`.
pub async fn query(
    q: &settings::Query,
    ctx: Option<&WaveContexts>,
    plan: &QueryPlan,
    interrupt: impl std::future::Future<Output = ()>,
) -> Result<FlowData, Failure> {
    let options = ExecOptions::from_settings(&q.wave.query);
    let clients = wavegap_runner::Clients {
        logs: ctx.map(|c| LogsClients {
            wave: c.wave.logs_client(),
            accounts: c.accounts.iter().map(|(a, ctx)| (a.id.clone(), ctx.logs_client())).collect(),
        }),
        s3: ctx.map(|c| c.wave.s3.clone()),
    };
    wavegap_runner::fetch(plan, &clients, &options, q.progress.clone(), interrupt).await.map_err(runner_failure)
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
