//! `wavegap watch WAVE`: follow a cutover. Every `--every` it queries only what is new —
//! CloudWatch Logs: the window from the last one's end to `now − lag`; files and S3: the
//! objects no cycle read before —, merges it into the flows of the watch so far, resolves the
//! inventory again, analyses all of it, marks each finding `new`, `open` or `fixed`
//! (`wavegap_reporter::live`), rewrites the report directory, and runs `--on-new` once per new
//! finding. A query that fails is a gap until a later cycle runs it again and it answers.
//!
//! An interrupt stops the running queries (`StopQuery`) and exits 130/143/129; the report of
//! the last complete cycle stays as it was written.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use anyhow::anyhow;
use tokio::io::AsyncWriteExt as _;
use wavegap_core::analyze::CLOUDWATCH_DELIVERY_LAG;
use wavegap_core::flow::{CoverageGap, FlowData, TimeWindow};
use wavegap_core::inventory::Inventory;
use wavegap_reporter::baseline::Baseline;
use wavegap_reporter::live::{self, CycleView, Log, NewFinding, Status, Tracker};
use wavegap_reporter::{Comparison, RenderedFile};
use wavegap_resolver::WaveContexts;
use wavegap_runner::plan::QueryPlan;
use wavegap_runner::rows;

use crate::commands::fetch::{self, Gathered};
use crate::commands::{plan, report};
use crate::exit::{Failure, Kind, Success};
use crate::settings;

/// The first cycle's findings.json, kept in the report directory: the report's marks (new,
/// still open, fixed) are since then.
const START_FILE: &str = "findings-at-start.json";

/// How long one `--on-new` command may run.
const HOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

pub fn run(s: &settings::Watch) -> Result<Success, Failure> {
    crate::runtime::block_on(watch(s))?
}

/// The watch's one interrupt: set once, seen by every cycle's queries and by the wait.
#[derive(Clone)]
struct Stop(tokio::sync::watch::Receiver<bool>);

impl Stop {
    fn start() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            crate::runtime::interrupted().await;
            let _ = tx.send(true);
        });
        Stop(rx)
    }

    async fn wait(mut self) {
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }

    fn stopped(&self) -> bool {
        *self.0.borrow()
    }

    fn failure() -> Failure {
        Failure::new(Kind::Interrupted, anyhow!("interrupted: the report of the last complete cycle is kept"))
    }
}

/// What the watch carries from cycle to cycle.
struct Watcher<'a> {
    s: &'a settings::Watch,
    ctx: Option<WaveContexts>,
    stop: Stop,
    /// The start of the watched span (Unix seconds).
    start: i64,
    /// Where the next CloudWatch window starts.
    next: i64,
    /// Every flow so far (without gaps: those are the current cycle's).
    data: FlowData,
    /// Objects read by earlier cycles (files and S3).
    read: BTreeSet<String>,
    /// The queries that failed and run again next cycle.
    retries: Vec<QueryPlan>,
    inventory: Option<(Inventory, Option<String>, i64)>,
    tracker: Tracker,
    /// The first cycle's findings (and their text): the report marks findings since the start.
    baseline: Option<(Baseline, String)>,
    log: Log,
    /// What the last cycle's `--on-new` commands ran into, shown with the next cycle.
    hook_notes: Vec<String>,
}

async fn watch(s: &settings::Watch) -> Result<Success, Failure> {
    let q = &s.query;
    let stop = Stop::start();
    let ctx = fetch::contexts(q, None).await?;
    let first = s.clock.now()?;
    let start = first - s.since;
    let mut w = Watcher {
        s,
        ctx,
        stop,
        start,
        next: start,
        data: FlowData::default(),
        read: BTreeSet::new(),
        retries: Vec::new(),
        inventory: None,
        tracker: Tracker::new(),
        baseline: None,
        log: Log::default(),
        hook_notes: Vec::new(),
    };
    let mut at = first;
    let mut cycle = 0u32;
    loop {
        cycle += 1;
        let last = s.cycles.is_some_and(|n| cycle >= n);
        let next = (!last).then_some(at + s.every);
        w.cycle(at, next).await?;
        let Some(next) = next else { return Ok(Success::Ok) };
        at = tokio::select! {
            t = s.clock.wait_until(next) => t?,
            () = w.stop.clone().wait() => return Err(Stop::failure()),
        };
    }
}

impl Watcher<'_> {
    async fn cycle(&mut self, now: i64, next: Option<i64>) -> Result<(), Failure> {
        let s = self.s;
        let q = &s.query;
        let mut notes = std::mem::take(&mut self.hook_notes);
        self.resolve(now, &mut notes).await?;
        let Some((inventory, snapshot, _)) = self.inventory.clone() else {
            unreachable!("resolve sets the inventory or fails")
        };

        // The retries of the last cycle's failed queries, then the new window.
        let mut runs: Vec<FlowData> = Vec::new();
        let mut retries = Vec::new();
        let mut failed: Vec<CoverageGap> = Vec::new();
        for plan in std::mem::take(&mut self.retries) {
            match self.query(&plan).await {
                Ok(data) => {
                    retries.extend(data.gaps.iter().filter_map(|g| plan.retry(g)));
                    runs.push(data);
                }
                Err(e) if self.stop.stopped() => return Err(e),
                Err(e) => {
                    failed.extend(plan.windows.iter().map(|&window| whole_gap(&plan, window, &e)));
                    retries.push(plan);
                }
            }
        }
        let objects = q.wave.source.reads_objects();
        let end = if objects { now } else { now - self.lag(&inventory) };
        let mut plan_now = None;
        if end >= self.next {
            // Objects are read whole, once: each cycle reads the ones not read before, over
            // the whole span. CloudWatch windows follow each other.
            let window = TimeWindow { start: if objects { self.start } else { self.next }, end };
            let mut plan = QueryPlan::build(&q.wave, &inventory, window, &q.plan).map_err(plan::runner_failure)?;
            plan.read_before = std::sync::Arc::new(self.read.clone());
            match self.query(&plan).await {
                Ok(data) => {
                    self.read.extend(data.objects_read.iter().cloned());
                    retries.extend(data.gaps.iter().filter_map(|g| plan.retry(g)));
                    runs.push(data);
                    self.next = end + 1;
                }
                Err(e) if self.stop.stopped() => return Err(e),
                // The window is asked for again, whole, next cycle.
                Err(e) => failed.push(whole_gap(&plan, window, &e)),
            }
            plan_now = Some(plan);
        }
        self.retries = retries;

        let mut merged = rows::merge(std::iter::once(std::mem::take(&mut self.data)).chain(runs));
        let gaps = std::mem::take(&mut merged.gaps);
        self.data = merged;
        let mut data = self.data.clone();
        data.gaps = gaps.into_iter().chain(failed).collect();

        let window = TimeWindow { start: self.start, end: (self.next - 1).max(self.start) };
        let plan = match plan_now {
            Some(p) => p,
            None => QueryPlan::build(&q.wave, &inventory, window, &q.plan).map_err(plan::runner_failure)?,
        };
        let answered = self.data.stats.queries_answered > 0 || objects && !self.read.is_empty();
        let mut gathered = Gathered { inventory, snapshot, plan, data };
        let data = &gathered.data;
        let report_dir = s.out_dir.display().to_string();
        let mut status = Status {
            wave: q.wave.name.clone(),
            cycle: 0,
            now,
            data_to: answered.then_some(window.end),
            last_record: data.aggregates.iter().map(|a| a.last_seen).max(),
            queries: data.stats.queries,
            bytes_scanned: data.stats.bytes_scanned,
            cost: data.stats.estimated_cost,
            gaps: data.gaps.iter().map(gap_line).collect(),
            notes,
            next,
            report: report_dir,
        };

        let view = if answered {
            let comparison = match &self.baseline {
                Some((baseline, _)) => Comparison::Baseline { baseline, file: START_FILE },
                None => Comparison::None,
            };
            // The first cycle's findings stay in the directory, as the file the marks compare with.
            let extra: Vec<RenderedFile> =
                self.baseline.iter().map(|(_, text)| RenderedFile::new(START_FILE, text.clone())).collect();
            let clock = chrono::DateTime::from_timestamp(now, 0).unwrap_or(q.now);
            let run = report::Run { wave: &q.wave, window, now: clock, out_dir: &s.out_dir, renderer: &s.renderer };
            let (analysis, _model, _files) = report::write(&run, &mut gathered, true, comparison, &extra)?;
            if self.baseline.is_none() {
                self.baseline = first_findings(&s.out_dir);
            }
            let inventory = &gathered.inventory;
            let view = self.tracker.cycle(&q.wave, inventory, &analysis, now, inventory.aggregation_interval());
            status.report = s.out_dir.join("report.md").display().to_string();
            view
        } else {
            status.notes.push("nothing answered yet: the report is written once a query comes back".to_owned());
            self.tracker.idle()
        };
        status.cycle = view.cycle;
        self.show(&status, &view);
        self.on_new(&view.new).await;
        Ok(())
    }

    /// Resolves the inventory when it is due; a failure after the first keeps the last one.
    async fn resolve(&mut self, now: i64, notes: &mut Vec<String>) -> Result<(), Failure> {
        let due = match (&self.inventory, self.s.inventory_every) {
            (None, _) | (Some(_), None) => true,
            (Some((_, _, at)), Some(every)) => now - at >= every,
        };
        if !due {
            return Ok(());
        }
        match fetch::inventory(&self.s.query, self.ctx.as_ref()).await {
            Ok((inventory, snapshot)) => self.inventory = Some((inventory, snapshot, now)),
            Err(e) if self.inventory.is_none() => return Err(e),
            Err(e) => {
                notes.push(format!("the inventory could not be resolved again, the last one is used: {}", e.error));
            }
        }
        Ok(())
    }

    async fn query(&self, plan: &QueryPlan) -> Result<FlowData, Failure> {
        fetch::query(&self.s.query, self.ctx.as_ref(), plan, self.stop.clone().wait()).await
    }

    /// How far behind now a CloudWatch window ends: `--lag`, else one aggregation interval
    /// (a record's event is its start) plus the delivery lag.
    fn lag(&self, inventory: &Inventory) -> i64 {
        self.s.lag.unwrap_or_else(|| inventory.aggregation_interval() + CLOUDWATCH_DELIVERY_LAG)
    }

    fn show(&mut self, status: &Status, view: &CycleView) {
        // The screen is made safe piece by piece (it holds its own escape sequences); the log
        // lines as a whole.
        let text = if self.s.redraw {
            let width = console::Term::stdout().size_checked().map_or(120, |(_, cols)| usize::from(cols));
            live::screen(status, view, self.s.color, width)
        } else {
            crate::terminal::printable(&self.log.changes(status, view)).into_owned()
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Runs `--on-new` once per new finding, its JSON on stdin, after the view is shown; a
    /// command that fails (or runs over [`HOOK_TIMEOUT`]) is said on stderr and in the next
    /// cycle's view, and does not stop the watch.
    async fn on_new(&mut self, new: &[NewFinding]) {
        let Some(command) = &self.s.on_new else { return };
        for finding in new {
            let json = serde_json::to_string(finding).unwrap_or_default();
            let id = finding.finding["id"].as_str().unwrap_or_default();
            let result = tokio::time::timeout(HOOK_TIMEOUT, run_hook(command, &json, id, finding.kind))
                .await
                .unwrap_or_else(|_| Err(format!("stopped after {} s", HOOK_TIMEOUT.as_secs())));
            if let Err(problem) = result {
                tracing::warn!("--on-new for {id}: {problem}");
                self.hook_notes.push(format!("--on-new for {id}: {problem}"));
            }
        }
    }
}

async fn run_hook(command: &str, json: &str, id: &str, kind: &str) -> Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("WAVEGAP_FINDING_ID", id)
        .env("WAVEGAP_FINDING_KIND", kind)
        .stdin(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start `sh -c`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is not an error.
        let _ = stdin.write_all(json.as_bytes()).await;
        let _ = stdin.write_all(b"\n").await;
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("the command exited with {status}")) }
}

/// A gap for a query that failed as a whole (the service unreachable, a listing refused).
fn whole_gap(plan: &QueryPlan, window: TimeWindow, e: &Failure) -> CoverageGap {
    let log_groups = match &plan.objects {
        Some(objects) => vec![objects.to_string()],
        None => plan.log_groups().map(str::to_owned).collect(),
    };
    let reason = e.error.to_string().lines().next().unwrap_or_default().to_owned();
    CoverageGap { account: None, log_groups, window, reason, unreachable: e.kind == Kind::Aws, chunk: None }
}

fn gap_line(g: &CoverageGap) -> String {
    let account = g.account.as_deref().map(|a| format!("account {a}: ")).unwrap_or_default();
    format!(
        "{account}{} {} .. {}: {}",
        g.log_groups.join(", "),
        wavegap_reporter::format::time(g.window.start),
        wavegap_reporter::format::time(g.window.end),
        g.reason
    )
}

/// The first cycle's findings.json, read back as the baseline of the later cycles.
fn first_findings(report: &Path) -> Option<(Baseline, String)> {
    let text = std::fs::read_to_string(report.join("findings.json")).ok()?;
    Some((Baseline::parse(&text).ok()?, text))
}
