//! `wavegap plan WAVE`: the chunks, windows and exact query texts a wave would run, without
//! calling AWS, ready to paste into the Logs Insights console. `report --dry-run` prints the
//! same through [`print`].

use anyhow::Context as _;
use wavegap_core::inventory::Inventory;
use wavegap_core::wave::WaveConfig;
use wavegap_runner::RunnerError;
use wavegap_runner::plan::{QueryPlan, write_plan};

use crate::exit::{Failure, Kind, OrFail, Success};
use crate::settings::{self, InventoryChoice};

pub fn run(s: &settings::Plan) -> Result<Success, Failure> {
    print(&s.query)
}

/// Prints the plan of a wave. Makes no AWS call: a wave whose inventory would come from EC2
/// is planned with the servers and log groups it lists.
pub fn print(q: &settings::Query) -> Result<Success, Failure> {
    let inventory = offline_inventory(&q.inventory, &q.wave)?.unwrap_or_default();
    let plan = build(q, &inventory)?;
    let mut out = std::io::stdout().lock();
    write_plan(&mut out, &plan).context("cannot write the plan").or_fail(Kind::Aws)?;
    Ok(Success::Ok)
}

/// The inventory a choice names when it needs no AWS call; `None` for the EC2 API.
pub fn offline_inventory(choice: &InventoryChoice, wave: &WaveConfig) -> Result<Option<Inventory>, Failure> {
    match choice {
        InventoryChoice::Snapshot(path) => load_inventory(path).map(Some),
        InventoryChoice::Live => Ok(None),
        InventoryChoice::Listed => {
            if wave.log_groups.discover {
                tracing::warn!(
                    "log-group discovery needs the inventory; planning only the listed log groups\n  hint: pass --inventory SNAPSHOT"
                );
            }
            Ok(Some(Inventory::default()))
        }
    }
}

/// The query plan of a wave over an inventory.
pub fn build(q: &settings::Query, inventory: &Inventory) -> Result<QueryPlan, Failure> {
    QueryPlan::build(&q.wave, inventory, q.window, &q.plan).map_err(runner_failure)
}

/// An inventory snapshot, with the file named when it cannot be loaded.
pub fn load_inventory(path: &std::path::Path) -> Result<Inventory, Failure> {
    wavegap_resolver::load_inventory(path)
        .with_context(|| format!("cannot load the inventory snapshot {}", path.display()))
        .or_fail(Kind::Config)
}

/// The exit code a runner error deserves.
pub fn runner_failure(e: RunnerError) -> Failure {
    let kind = match &e {
        RunnerError::Interrupted { .. } => Kind::Interrupted,
        RunnerError::Aws { .. }
        | RunnerError::SavedRead { .. }
        | RunnerError::SavedParse { .. }
        | RunnerError::SavedVersion { .. }
        | RunnerError::Files(_)
        | RunnerError::S3 { .. }
        | RunnerError::NoS3Client
        | RunnerError::Task { .. } => Kind::Aws,
        _ => Kind::Config,
    };
    Failure::new(kind, e)
}
