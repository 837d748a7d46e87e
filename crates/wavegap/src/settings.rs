//! The settings step: a command's arguments, its wave file, the environment and the clock,
//! resolved once into the value the command runs (ripgrep's low and high arguments).
//!
//! `main` parses the command line into the plain clap types of `cli`, reads the clock and the
//! terminal once into an [`Env`], and hands both to one function here per command. Everything
//! a command decides before it does its work is decided here — the wave (loaded once), the
//! window (from the one clock read), which inventory, the AWS client settings, the output
//! directory, the earlier run to compare with, how to show progress and the summary — so no
//! later step reads a wave file, the environment or the clock, and two steps of one run cannot
//! disagree about any of them. The one exception is `watch`, whose cycles each need the time:
//! they read it through the [`Clock`] defined here.

use std::io::IsTerminal as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::anyhow;
use wavegap_core::findings::FindingKind;
use wavegap_core::flow::TimeWindow;
use wavegap_core::wave::{Service, WaveConfig};
use wavegap_reporter::baseline::Baseline;
use wavegap_reporter::{Comparison, Renderer, Style};
use wavegap_resolver::ClientSettings;
use wavegap_runner::plan::PlanOptions;
use wavegap_runner::progress::Progress;

use crate::cli::{
    AwsArgs, ExplainArgs, FailOn, FetchArgs, InventoryArgs, PlanArgs, ReportArgs, SummaryFormat, WatchArgs, WaveArgs,
};
use crate::exit::{Failure, Kind, OrFail};

/// What a run reads from its surroundings, once, before any command runs.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// The one clock read of the run: the window of a `last = …` wave and the report's time.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Whether stderr is coloured.
    pub color: bool,
    /// `--quiet`: only errors on stderr.
    pub quiet: bool,
    pub terminal: Terminal,
}

/// Which of the standard streams are terminals.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub stdout: bool,
    pub stderr: bool,
}

impl Env {
    pub fn read(color: bool, quiet: bool) -> Env {
        Env {
            now: chrono::Utc::now(),
            color,
            quiet,
            terminal: Terminal { stdout: std::io::stdout().is_terminal(), stderr: std::io::stderr().is_terminal() },
        }
    }

    fn progress(&self) -> Arc<dyn Progress> {
        crate::progress::for_stderr(self.quiet, self.terminal.stderr)
    }
}

/// Where a run's inventory comes from. One rule for every command: `--inventory`, else the
/// wave's own snapshot (a files wave), else the snapshot saved beside `--from-saved` flows,
/// else the EC2 API — or, for the commands that only query (`plan`, `fetch`), the wave's own
/// listed servers and log groups, without calling EC2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryChoice {
    Snapshot(PathBuf),
    Live,
    Listed,
}

impl InventoryChoice {
    fn choose(wave: &WaveConfig, flag: Option<&Path>, from_saved: Option<&Path>, ec2: bool) -> InventoryChoice {
        let beside_saved = || from_saved.map(|p| p.with_file_name("inventory.json")).filter(|p| p.is_file());
        let otherwise = if ec2 { InventoryChoice::Live } else { InventoryChoice::Listed };
        match (flag, &wave.source) {
            (Some(path), _) => InventoryChoice::Snapshot(path.to_owned()),
            (None, source) => match source.snapshot() {
                Some(snapshot) => InventoryChoice::Snapshot(snapshot.to_owned()),
                None => beside_saved().map_or(otherwise, InventoryChoice::Snapshot),
            },
        }
    }
}

/// A wave ready to query: what `plan`, `fetch` and `report` share.
pub struct Query {
    pub wave: WaveConfig,
    /// The concrete window, from the one clock read.
    pub window: TimeWindow,
    pub now: chrono::DateTime<chrono::Utc>,
    pub inventory: InventoryChoice,
    pub plan: PlanOptions,
    pub aws: ClientSettings,
    pub progress: Arc<dyn Progress>,
}

pub struct Plan {
    pub query: Query,
}

pub struct Fetch {
    pub query: Query,
    pub save: PathBuf,
    pub fail_on_gaps: bool,
    /// `--quiet`: no summary line.
    pub quiet: bool,
}

pub struct Report {
    pub query: Query,
    pub out_dir: PathBuf,
    pub renderer: Renderer,
    pub previous: Previous,
    pub from_saved: Option<PathBuf>,
    pub dry_run: bool,
    /// The findings that make the run exit 1 while open.
    pub fail_on: Vec<FindingKind>,
    /// Whether missing coverage makes it exit 4.
    pub fail_on_gaps: bool,
    pub style: Style,
}

pub struct Watch {
    pub query: Query,
    pub out_dir: PathBuf,
    pub renderer: Renderer,
    /// Seconds between cycles.
    pub every: i64,
    /// Seconds before the first cycle the watch starts.
    pub since: i64,
    /// Seconds behind now that CloudWatch windows end (`None`: from the flow logs).
    pub lag: Option<i64>,
    /// Seconds between inventory resolutions (`None`: every cycle).
    pub inventory_every: Option<i64>,
    pub on_new: Option<String>,
    pub cycles: Option<u32>,
    pub clock: Clock,
    /// Redraw a view on stdout (a terminal), or print one line per change.
    pub redraw: bool,
    pub color: bool,
}

/// Where the watch reads the time: the system clock, or (`WAVEGAP_CLOCK=FILE`, for tests) the
/// Unix seconds written in a file, which the test advances to start the next cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clock {
    System,
    File(PathBuf),
}

impl Clock {
    /// The time now, in Unix seconds.
    pub fn now(&self) -> Result<i64, Failure> {
        match self {
            Clock::System => Ok(chrono::Utc::now().timestamp()),
            Clock::File(path) => Self::read(path).ok_or_else(|| {
                Failure::new(Kind::Config, anyhow!("WAVEGAP_CLOCK names {}, which holds no Unix time", path.display()))
            }),
        }
    }

    /// Waits until the clock reads `t` or later, and returns what it reads then.
    pub async fn wait_until(&self, t: i64) -> Result<i64, Failure> {
        match self {
            Clock::System => {
                let wait = t - chrono::Utc::now().timestamp();
                if wait > 0 {
                    tokio::time::sleep(std::time::Duration::from_secs(wait.cast_unsigned())).await;
                }
                Ok(chrono::Utc::now().timestamp().max(t))
            }
            Clock::File(path) => loop {
                if let Some(now) = Self::read(path).filter(|&now| now >= t) {
                    return Ok(now);
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            },
        }
    }

    fn read(path: &Path) -> Option<i64> {
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }
}

pub struct Explain {
    pub wave: WaveConfig,
    pub inventory: InventoryChoice,
    pub aws: ClientSettings,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub port: u16,
}

pub struct Inventory {
    pub wave: WaveConfig,
    pub aws: ClientSettings,
    pub out: PathBuf,
}

pub fn plan(args: &PlanArgs, env: &Env) -> Result<Plan, Failure> {
    Ok(Plan { query: query(&args.query, &AwsArgs::default(), None, false, env)? })
}

pub fn fetch(args: &FetchArgs, env: &Env) -> Result<Fetch, Failure> {
    Ok(Fetch {
        query: query(&args.query, &args.aws, None, false, env)?,
        save: args.save.clone(),
        fail_on_gaps: args.fail_on_gaps,
        quiet: env.quiet,
    })
}

pub fn report(args: &ReportArgs, env: &Env) -> Result<Report, Failure> {
    let query = query(&args.query, &args.aws, args.from_saved.as_deref(), true, env)?;
    let wave = &query.wave;
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
    let previous = previous_run(args, wave, &out_dir)?;
    let fail = |what: FailOn| args.fail_on_findings || args.fail_on.contains(&what);
    let fail_on = [
        (FailOn::Rejected, FindingKind::Rejected),
        (FailOn::Unanswered, FindingKind::Unanswered),
        (FailOn::NotSeen, FindingKind::NotSeen),
    ]
    .into_iter()
    .filter_map(|(flag, kind)| fail(flag).then_some(kind))
    .collect();
    let style = match args.format {
        Some(SummaryFormat::Table) => Style::Table,
        Some(SummaryFormat::Json) => Style::Json,
        None if env.terminal.stdout => Style::Table,
        Some(SummaryFormat::Plain) | None => Style::Plain,
    };
    Ok(Report {
        query,
        out_dir,
        renderer,
        previous,
        from_saved: args.from_saved.clone(),
        dry_run: args.dry_run,
        fail_on,
        fail_on_gaps: fail(FailOn::Gaps),
        style,
    })
}

pub fn watch(args: &WatchArgs, env: &Env) -> Result<Watch, Failure> {
    let mut query = query(&args.query, &args.aws, None, true, env)?;
    // The cycles show what the queries do; the per-query bar would scribble over the view.
    if !env.quiet && tracing::enabled!(tracing::Level::INFO) {
        query.progress = crate::progress::for_stderr(false, false);
    } else {
        query.progress = Arc::new(wavegap_runner::progress::Silent);
    }
    let out_dir = args.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&query.wave.name));
    let renderer = Renderer::new().or_fail(Kind::Config)?;
    let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let clock = match std::env::var_os("WAVEGAP_CLOCK") {
        Some(path) if !path.is_empty() => Clock::File(PathBuf::from(path)),
        _ => Clock::System,
    };
    Ok(Watch {
        query,
        out_dir,
        renderer,
        every: seconds(args.every),
        since: seconds(args.since),
        lag: args.lag.map(seconds),
        inventory_every: args.inventory_every.map(seconds),
        on_new: args.on_new.clone(),
        cycles: args.cycles,
        clock,
        redraw: env.terminal.stdout,
        color: env.color && env.terminal.stdout,
    })
}

pub fn explain(args: &ExplainArgs, env: &Env) -> Result<Explain, Failure> {
    let service = Service::parse(&args.service).map_err(|e| {
        Failure::new(Kind::Config, anyhow!("cannot read the service {:?}: {e}\nhint: {}", args.service, e.hint()))
    })?;
    let wave = wave(&args.wave, &args.waves_dir, env.color)?;
    let inventory = InventoryChoice::choose(&wave, args.inventory.as_deref(), None, true);
    let aws = args.aws.settings(&wave.aws);
    Ok(Explain { wave, inventory, aws, src: args.src, dst: args.dst, protocol: service.protocol, port: service.port })
}

pub fn inventory(args: &InventoryArgs, env: &Env) -> Result<Inventory, Failure> {
    let wave = wave(&args.wave, &args.waves_dir, env.color)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&wave.name).join("inventory.json"));
    let aws = args.aws.settings(&wave.aws);
    Ok(Inventory { wave, aws, out })
}

fn query(args: &WaveArgs, aws: &AwsArgs, from_saved: Option<&Path>, ec2: bool, env: &Env) -> Result<Query, Failure> {
    let wave = wave(&args.wave, &args.waves_dir, env.color)?;
    let window = wave.window.resolve(env.now.timestamp());
    let inventory = InventoryChoice::choose(&wave, args.inventory.as_deref(), from_saved, ec2);
    let mut plan = PlanOptions::from_settings(&wave.query);
    plan.windows = args.windows as usize;
    let aws = aws.settings(&wave.aws);
    Ok(Query { wave, window, now: env.now, inventory, plan, aws, progress: env.progress() })
}

/// The wave by name or path; an invalid one is a located, readable error (the one rendering of
/// wave errors for every command but `check`, which lists them all).
pub fn wave(arg: &str, waves_dir: &Path, color: bool) -> Result<WaveConfig, Failure> {
    crate::waves::load(&crate::waves::locate(arg, waves_dir)).map_err(|e| {
        let text = e.render(color);
        let text = text.trim_end();
        Failure::new(Kind::Config, anyhow!("{}", text.strip_prefix("error: ").unwrap_or(text)))
    })
}

/// The earlier run a report is compared with: `--baseline FILE` (which must be readable),
/// else the findings.json the new report replaces (which may not be: the report says so).
pub enum Previous {
    None,
    Read { baseline: Box<Baseline>, file: String },
    Unreadable { file: String, problem: String },
}

impl Previous {
    pub fn comparison(&self) -> Comparison<'_> {
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

impl AwsArgs {
    /// The client settings of the wave's `[aws]` table, with each flag winning over it.
    pub fn settings(&self, wave: &wavegap_core::wave::AwsSettings) -> ClientSettings {
        let mut s = ClientSettings::from_wave(wave);
        s.profile = self.profile.clone().or(s.profile);
        s.region = self.region.clone().or(s.region);
        s.endpoint_url.clone_from(&self.endpoint_url);
        s.max_attempts = self.max_attempts.unwrap_or(s.max_attempts);
        s
    }
}
