//! `wavegap report WAVE`: resolve, query, analyse and write `reports/<wave>/`.
//!
//! Files waves read their inventory snapshot and run the aggregating query over the local
//! flow-log files; CloudWatch waves resolve the servers with EC2 and fan the query out with
//! Logs Insights. Either way the aggregates are saved next to the report (`flows.json`) so
//! `--from-saved` can render again without querying.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use wavegap_core::analyze::{AnalysisOptions, analyze};
use wavegap_core::flow::FlowData;
use wavegap_core::inventory::{FlowLogDestination, Inventory};
use wavegap_core::wave::{Source, WaveConfig};
use wavegap_reporter::baseline::Baseline;
use wavegap_reporter::{Comparison, RenderedFile, Renderer, ReportInput, Style};
use wavegap_resolver::AwsContext;
use wavegap_runner::cloudwatch::{self, ExecOptions};
use wavegap_runner::plan::QueryPlan;
use wavegap_runner::saved::{self, SavedRun};

use crate::cli::{FailOn, ReportArgs, SummaryFormat};
use crate::commands::plan::runner_failure;
use crate::exit::{Failure, Kind, OrFail, Success};

/// Delivery lag of flow logs to CloudWatch Logs and to S3 (seconds), see docs/domain.md §1.
const CLOUDWATCH_LAG: i64 = 300;
const S3_LAG: i64 = 600;

pub fn run(args: &ReportArgs, color: bool, quiet: bool) -> Result<Success, Failure> {
    let wave = load_wave(&args.query.wave, &args.query.waves_dir, color)?;
    let now = chrono::Utc::now();
    let window = wave.window.resolve(now.timestamp());
    if args.out.is_none() {
        // Two waves of one name would write over each other's reports/<name>/.
        let others = crate::waves::others_named(&wave.name, &wave.path, &args.query.waves_dir);
        if let Some(other) = others.first() {
            return Err(Failure::new(
                Kind::Config,
                anyhow!(
                    "wave name `{}` is used by {} and {}: their reports would overwrite each other in reports/{}/\nhint: set a different `name` in one of them, or pass --out DIR",
                    wave.name,
                    wave.path.display(),
                    other.display(),
                    wave.name
                ),
            ));
        }
    }
    let out_dir = args.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&wave.name));
    // Template errors surface before any query runs or any file is touched.
    let renderer = match &args.templates {
        Some(dir) => Renderer::with_overrides(dir),
        None => Renderer::new(),
    }
    .or_fail(Kind::Config)?;
    // The run to compare with is read before anything is queried or replaced.
    let previous = previous_run(args, &wave, &out_dir)?;

    let mut extra: Vec<RenderedFile> = Vec::new();
    let (inventory, data, log_groups) = match &wave.source {
        Source::Files { inventory, .. } => {
            let inventory = args.query.inventory.as_ref().unwrap_or(inventory);
            let inv = wavegap_resolver::load_inventory(inventory)
                .with_context(|| format!("cannot load the inventory snapshot of wave {}", wave.name))
                .or_fail(Kind::Config)?;
            let targets = s3_flow_logs(&inv);
            let plan = crate::commands::plan::prepare(&args.query, Some(inv.clone()), color)?.plan;
            if args.dry_run {
                return print_plan(&plan);
            }
            let data = if let Some(path) = &args.from_saved {
                load_saved(path, &wave)?
            } else {
                let progress = crate::progress::for_stderr(quiet);
                wavegap_runner::files::run(&plan, false, progress.as_ref()).map_err(runner_failure)?
            };
            (inv, data, targets)
        }
        Source::CloudWatch if args.dry_run => {
            let prepared = crate::commands::plan::prepare(&args.query, None, color)?;
            return print_plan(&prepared.plan);
        }
        Source::CloudWatch => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")
                .or_fail(Kind::Aws)?;
            let (inv, data, groups, snapshot) = runtime.block_on(run_cloudwatch(args, &wave, color, quiet))?;
            // Nothing came back: an empty report would read as "no findings". Keep the last one.
            if data.nothing_answered()
                && let Some(first) = data.gaps.first()
            {
                return Err(Failure::new(
                    Kind::Incomplete,
                    anyhow!(
                        "no query of the run came back: {} gap(s), the first in {} ({}); the previous report in {} is kept\nhint: run `wavegap report {}` again when CloudWatch Logs answers (see the gaps with -v)",
                        data.gaps.len(),
                        first.log_groups.join(", "),
                        first.reason,
                        out_dir.display(),
                        wave.name
                    ),
                ));
            }
            if let Some(snapshot) = snapshot {
                extra.push(RenderedFile { name: "inventory.json", content: snapshot });
            }
            (inv, data, groups)
        }
    };
    if args.from_saved.is_none() {
        let saved = SavedRun::new(&wave.name, window, data.clone());
        let mut text =
            serde_json::to_string_pretty(&saved).context("cannot serialise flows.json").or_fail(Kind::Aws)?;
        text.push('\n');
        extra.push(RenderedFile { name: "flows.json", content: text });
    }

    let aggregation_interval =
        inventory.flow_logs.values().filter_map(|f| f.max_aggregation_interval).max().map_or(600, i64::from);
    let lag = match wave.source {
        Source::Files { .. } => S3_LAG,
        Source::CloudWatch => CLOUDWATCH_LAG,
    };
    let mut options = AnalysisOptions::new(window);
    options.aggregation_interval = aggregation_interval;
    // A window that ended long ago has had every record delivered.
    options.delivery_lag = if now.timestamp() - window.end > lag { 0 } else { lag };
    let analysis = analyze(&wave, &inventory, &data, &options);

    let generated_at = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let generator = format!("wavegap {}", env!("CARGO_PKG_VERSION"));
    let model = wavegap_reporter::build(&ReportInput {
        wave: &wave,
        inventory: &inventory,
        flows: &data,
        analysis: &analysis,
        log_groups: &log_groups,
        generated_at: &generated_at,
        generator: &generator,
        comparison: previous.comparison(),
    });
    let mut files = renderer.render_all(&model).or_fail(Kind::Config)?;
    files.extend(extra);
    wavegap_reporter::write_atomically(&out_dir, &files).or_fail(Kind::Aws)?;

    let names: Vec<&str> = files.iter().map(|f| f.name).collect();
    let style = match args.format {
        Some(SummaryFormat::Table) => Style::Table,
        Some(SummaryFormat::Json) => Style::Json,
        None if std::io::stdout().is_terminal() => Style::Table,
        Some(SummaryFormat::Plain) | None => Style::Plain,
    };
    let summary = wavegap_reporter::summary(&model, &out_dir, &names, 10, style);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(summary.as_bytes());
    let _ = stdout.flush();

    let fail_on = |what: FailOn| args.fail_on_findings || args.fail_on.contains(&what);
    if !data.complete() && fail_on(FailOn::Gaps) {
        return Err(Failure::new(
            Kind::Incomplete,
            anyhow!(
                "{} log group window(s) could not be queried and {} object(s) could not be read whole: the report is incomplete\nhint: re-run later, or see the coverage section of {}",
                data.gaps.len(),
                data.damaged.len(),
                out_dir.join("report.md").display()
            ),
        ));
    }
    let found = [
        (FailOn::Rejected, analysis.rejected.iter().filter(|f| f.needs_change()).count()),
        (FailOn::Unanswered, analysis.unanswered.iter().filter(|f| f.is_open()).count()),
        (FailOn::NotSeen, analysis.not_seen.len()),
    ];
    if found.iter().any(|(what, n)| *n > 0 && fail_on(*what)) {
        return Ok(Success::FindingsPresent);
    }
    Ok(Success::Ok)
}

/// The earlier run a report is compared with: `--baseline FILE` (which must be readable),
/// else the findings.json the new report replaces (which may not be: the report says so).
enum Previous {
    None,
    Read { baseline: Box<Baseline>, file: String },
    Unreadable { file: String, problem: String },
}

impl Previous {
    fn comparison(&self) -> Comparison<'_> {
        match self {
            Previous::None => Comparison::None,
            Previous::Read { baseline, file } => Comparison::Baseline { baseline, file },
            Previous::Unreadable { file, problem } => Comparison::Unreadable { file, problem },
        }
    }
}

fn previous_run(args: &ReportArgs, wave: &WaveConfig, out_dir: &Path) -> Result<Previous, Failure> {
    if args.no_baseline {
        return Ok(Previous::None);
    }
    let (path, explicit) = if let Some(path) = &args.baseline {
        (path.clone(), true)
    } else {
        let path = out_dir.join("findings.json");
        if !path.exists() {
            return Ok(Previous::None);
        }
        (path, false)
    };
    let file = path.display().to_string();
    let read = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read it: {e}"))
        .and_then(|text| Baseline::parse(&text))
        .and_then(|b| {
            if b.wave.name == wave.name {
                Ok(b)
            } else {
                Err(format!("it holds the findings of wave {}, not {}", b.wave.name, wave.name))
            }
        });
    match read {
        Ok(baseline) => Ok(Previous::Read { baseline: Box::new(baseline), file }),
        Err(problem) if explicit => Err(Failure::new(
            Kind::Config,
            anyhow!(
                "--baseline {file}: {problem}\nhint: pass the findings.json of an earlier report of wave {}, or --no-baseline",
                wave.name
            ),
        )),
        Err(problem) => Ok(Previous::Unreadable { file, problem }),
    }
}

/// The wave by name or path, with a located, readable error.
fn load_wave(arg: &str, waves_dir: &Path, color: bool) -> Result<WaveConfig, Failure> {
    crate::waves::load(&crate::waves::locate(arg, waves_dir)).map_err(|e| {
        let text = e.render(color);
        let text = text.trim_end();
        Failure::new(Kind::Config, anyhow!("{}", text.strip_prefix("error: ").unwrap_or(text)))
    })
}

fn print_plan(plan: &QueryPlan) -> Result<Success, Failure> {
    let mut stdout = std::io::stdout().lock();
    wavegap_runner::plan::write_plan(&mut stdout, plan).context("cannot write the plan").or_fail(Kind::Aws)?;
    Ok(Success::Ok)
}

fn load_saved(path: &Path, wave: &WaveConfig) -> Result<FlowData, Failure> {
    let run = saved::load(path).map_err(runner_failure)?;
    if run.wave != wave.name {
        return Err(Failure::new(
            Kind::Config,
            anyhow!(
                "{} holds the flows of wave {}, not {}\nhint: pass the flows.json of a report of this wave",
                path.display(),
                run.wave,
                wave.name
            ),
        ));
    }
    Ok(run.data)
}

/// The flow logs a files wave reads: every S3 flow log of the inventory (the directory holds
/// their objects, whichever account or VPC they watch).
fn s3_flow_logs(inventory: &Inventory) -> Vec<String> {
    inventory
        .flow_logs
        .values()
        .filter(|f| f.destination_type == FlowLogDestination::S3)
        .map(|f| f.id.clone())
        .collect()
}

type CloudWatchRun = (Inventory, FlowData, Vec<String>, Option<String>);

async fn run_cloudwatch(
    args: &ReportArgs,
    wave: &WaveConfig,
    color: bool,
    quiet: bool,
) -> Result<CloudWatchRun, Failure> {
    let ctx = AwsContext::new(&args.aws.settings(&wave.aws)).await.or_fail(Kind::Aws)?;
    // The inventory: --inventory, or the one saved beside --from-saved flows, or EC2.
    let saved_inventory = args.from_saved.as_ref().map(|p| p.with_file_name("inventory.json")).filter(|p| p.is_file());
    let (inventory, snapshot) = if let Some(path) = args.query.inventory.clone().or(saved_inventory) {
        (wavegap_resolver::load_inventory(&path).or_fail(Kind::Config)?, None)
    } else {
        let resolved = wavegap_resolver::Resolver::new(&ctx).resolve(wave).await.or_fail(Kind::Aws)?;
        let text = wavegap_resolver::snapshot::to_json(&resolved.snapshot);
        (resolved.inventory().clone(), Some(text))
    };
    let prepared = crate::commands::plan::prepare(&args.query, Some(inventory), color)?;
    let log_groups: Vec<String> = prepared.plan.log_groups().map(str::to_owned).collect();
    let data = if let Some(path) = &args.from_saved {
        load_saved(path, wave)?
    } else {
        let options = ExecOptions { price_per_gb: wave.query.price_per_gb, ..ExecOptions::default() };
        let interrupt = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        cloudwatch::run(&ctx.logs_client(), &prepared.plan, &options, crate::progress::for_stderr(quiet), interrupt)
            .await
            .map_err(runner_failure)?
    };
    Ok((prepared.inventory, data, log_groups, snapshot))
}
