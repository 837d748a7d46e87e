//! `wavegap plan WAVE`: the chunks, windows and exact query texts a wave would run, without
//! calling AWS, ready to paste into the Logs Insights console. `report --dry-run` prints the
//! same through [`prepare`] and [`wavegap_runner::plan::write_plan`].

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use wavegap_core::flow::TimeWindow;
use wavegap_core::inventory::Inventory;
use wavegap_core::wave::{Source, WaveConfig};
use wavegap_runner::RunnerError;
use wavegap_runner::plan::{PlanOptions, QueryPlan, write_plan};

use crate::exit::{Failure, Kind, OrFail, Success};
use crate::waves;

/// What every command that queries flow logs needs: the wave and how to cut its queries.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The wave: a name in the waves directory (`wave-3`) or a path
    pub wave: String,

    /// Where wave files live
    #[arg(long, default_value = "waves", env = "WAVEGAP_WAVES_DIR")]
    pub waves_dir: PathBuf,

    /// Inventory snapshot (EC2 Describe* JSON) for log-group discovery and flow-log formats;
    /// default: the wave's own snapshot when it reads files
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,

    /// Cut the report window into this many windows up front (busy log groups, long windows)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub windows: u32,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub query: QueryArgs,
}

/// A wave ready to query: its inventory, the concrete window and the plan.
pub struct Prepared {
    pub wave: WaveConfig,
    /// For `report`, which analyses the flows against it.
    #[allow(dead_code)]
    pub inventory: Inventory,
    pub window: TimeWindow,
    pub plan: QueryPlan,
}

pub fn run(args: &PlanArgs, color: bool) -> Result<Success, Failure> {
    let prepared = prepare(&args.query, None, color)?;
    let mut out = std::io::stdout().lock();
    write_plan(&mut out, &prepared.plan).context("cannot write the plan").or_fail(Kind::Aws)?;
    Ok(Success::Ok)
}

/// Loads the wave (and the inventory snapshot, unless the caller resolved one) and builds the
/// query plan. Makes no AWS call.
pub fn prepare(args: &QueryArgs, inventory: Option<Inventory>, color: bool) -> Result<Prepared, Failure> {
    let path = waves::locate(&args.wave, &args.waves_dir);
    let wave = waves::load(&path).map_err(|e| {
        let rendered = e.render(color);
        Failure::new(Kind::Config, anyhow::anyhow!("{}", rendered.trim_end().trim_start_matches("error: ")))
    })?;
    let inventory = match (inventory, &args.inventory, &wave.source) {
        (Some(inventory), _, _) => inventory,
        (None, Some(path), _) | (None, None, Source::Files { inventory: path, .. }) => {
            wavegap_resolver::load_inventory(path)
                .with_context(|| format!("cannot load the inventory snapshot {}", path.display()))
                .or_fail(Kind::Config)?
        }
        (None, None, Source::CloudWatch) => {
            if wave.log_groups.discover {
                tracing::warn!(
                    "log-group discovery needs the inventory; planning only the listed log groups\n  hint: pass --inventory SNAPSHOT"
                );
            }
            Inventory::default()
        }
    };
    let now = chrono::Utc::now().timestamp();
    let window = wave.window.resolve(now);
    let mut options = PlanOptions::from_settings(&wave.query);
    options.windows = args.windows as usize;
    let plan = QueryPlan::build(&wave, &inventory, window, &options).map_err(runner_failure)?;
    Ok(Prepared { wave, inventory, window, plan })
}

/// The exit code a runner error deserves.
pub fn runner_failure(e: RunnerError) -> Failure {
    let kind = match &e {
        RunnerError::Interrupted { .. } => Kind::Interrupted,
        RunnerError::Aws { .. }
        | RunnerError::SavedRead { .. }
        | RunnerError::SavedWrite { .. }
        | RunnerError::SavedParse { .. }
        | RunnerError::SavedVersion { .. }
        | RunnerError::Files(_)
        | RunnerError::Task { .. } => Kind::Aws,
        _ => Kind::Config,
    };
    Failure::new(kind, e)
}
