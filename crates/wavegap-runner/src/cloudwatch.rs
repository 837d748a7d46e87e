//! The CloudWatch Logs source: runs a [`QueryPlan`] with Logs Insights.
//!
//! Every (chunk, window) query is a task; a semaphore keeps at most `max_in_flight` of them
//! between `StartQuery` and a terminal status. The SDK retries each call (throttling included)
//! with the client's retry config; on top of that, two things are query-level and not
//! retries of one call:
//! - *admission*: `LimitExceededException` means the account runs too many queries (dashboards
//!   count too). It lasts as long as other queries run, far past the SDK's few seconds of
//!   back-off, so the task waits with its own longer, bounded back-off and starts again;
//! - *reruns*: a query that ends `Failed`, `Timeout` or `Cancelled` is started again, a bounded
//!   number of times, then reported as a [`CoverageGap`] naming its log groups and window.
//!
//! A query whose rows reach the row limit is replaced by one query per half window, until
//! every piece is complete (truncation is detected by the row count, never `recordsMatched`).
//! On interrupt every task stops at its next await, each query that was started and has not
//! finished gets a `StopQuery`, and the run returns [`RunnerError::Interrupted`]. Every query
//! text carries a comment naming the run ([`plan::marked`]): a query whose `StartQuery` never
//! answered within the grace is found by it with `DescribeQueries` and stopped too.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryError;
use aws_sdk_cloudwatchlogs::types::{QueryStatistics, QueryStatus};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use wavegap_core::flow::{CoverageGap, FlowData, TimeWindow};
use wavegap_core::wave::QuerySettings;

use crate::RunnerError;
use crate::plan::{self, QueryPlan};
use crate::progress::{Event, Progress};
use crate::rows::Aggregator;

/// How patient a run is. The defaults suit real CloudWatch; tests shorten the waits.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecOptions {
    /// Starts of one query that may end `Failed`/`Timeout`/`Cancelled` before it is a gap.
    pub max_attempts: u32,
    /// `LimitExceededException`s (after the SDK's own retries) one query waits out.
    pub max_admission_waits: u32,
    /// First back-off after a refused start or a failed query; doubles up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// First `GetQueryResults` poll; grows by half each poll up to `poll_max`.
    pub poll_initial: Duration,
    pub poll_max: Duration,
    /// How long an interrupted run waits for its tasks before stopping the queries it knows:
    /// long enough for a `StartQuery` in flight to come back with the id to stop.
    pub stop_grace: Duration,
    /// How long one query may go without a terminal status (none, or one this SDK does not
    /// know) before it is stopped and counted as a gap.
    pub query_deadline: Duration,
    pub price_per_gb: f64,
}

impl ExecOptions {
    /// The options a wave's `[query]` table sets (price, deadline), the defaults for the rest.
    pub fn from_settings(settings: &QuerySettings) -> Self {
        ExecOptions { price_per_gb: settings.price_per_gb, query_deadline: settings.deadline, ..ExecOptions::default() }
    }
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            max_attempts: 3,
            max_admission_waits: 10,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
            poll_initial: Duration::from_millis(500),
            poll_max: Duration::from_secs(5),
            stop_grace: Duration::from_secs(10),
            query_deadline: Duration::from_secs(20 * 60),
            price_per_gb: 0.005,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Job {
    chunk: usize,
    window: TimeWindow,
}

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    scanned: u64,
    matched: u64,
    bytes: u64,
}

enum Outcome {
    Rows { job: Job, rows: Vec<Vec<(String, String)>>, stats: Vec<Stats> },
    Truncated { job: Job, rows: usize, stats: Vec<Stats> },
    Gap { job: Job, reason: String, unreachable: bool, stats: Vec<Stats> },
    Stopped,
    Fatal(RunnerError),
}

/// The CloudWatch Logs clients of a run: the wave's own, and for a wave of several accounts
/// one per account, with that account's credentials and region.
#[derive(Debug, Clone)]
pub struct LogsClients {
    pub wave: Client,
    pub accounts: BTreeMap<String, Client>,
}

impl From<Client> for LogsClients {
    fn from(wave: Client) -> Self {
        LogsClients { wave, accounts: BTreeMap::new() }
    }
}

impl LogsClients {
    /// The client for log groups in `account` (`None`: the wave's own account).
    pub fn for_account(&self, account: Option<&str>) -> &Client {
        account.and_then(|a| self.accounts.get(a)).unwrap_or(&self.wave)
    }

    fn each(&self) -> impl Iterator<Item = &Client> {
        std::iter::once(&self.wave).chain(self.accounts.values())
    }
}

struct Ctx {
    clients: LogsClients,
    plan: QueryPlan,
    options: ExecOptions,
    progress: Arc<dyn Progress>,
    permits: Semaphore,
    stop: watch::Receiver<bool>,
    /// Started queries without a terminal status: what an interrupt must stop.
    running: Mutex<BTreeMap<String, Job>>,
    /// Queries whose id came back after the run was told to stop, stopped by their task.
    stopped_late: AtomicUsize,
    /// `StartQuery` calls in flight.
    starting: AtomicUsize,
    /// Every id a `StartQuery` answered with.
    answered: Mutex<BTreeSet<String>>,
    /// The comment ending each query text of this run.
    mark: String,
}

/// Runs every query of `plan`; returns early with [`RunnerError::Interrupted`] when
/// `interrupt` resolves (the binary passes its interrupt handler), after stopping the running
/// queries.
pub async fn run(
    clients: &LogsClients,
    plan: &QueryPlan,
    options: &ExecOptions,
    progress: Arc<dyn Progress>,
    interrupt: impl Future<Output = ()>,
) -> Result<FlowData, RunnerError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        clients: clients.clone(),
        plan: plan.clone(),
        options: options.clone(),
        progress,
        permits: Semaphore::new(plan.max_in_flight),
        stop: stop_rx,
        running: Mutex::new(BTreeMap::new()),
        stopped_late: AtomicUsize::new(0),
        starting: AtomicUsize::new(0),
        answered: Mutex::new(BTreeSet::new()),
        mark: plan::marked("", &run_id()),
    });
    ctx.progress.event(&Event::Planned { queries: plan.query_count() });
    let mut tasks = JoinSet::new();
    for chunk in &plan.chunks {
        for &window in &plan.windows {
            tasks.spawn(run_query(ctx.clone(), Job { chunk: chunk.number, window }));
        }
    }

    let mut agg = Aggregator::new();
    let mut bad_rows = 0u64;
    let mut failure: Option<RunnerError> = None;
    let mut interrupt = std::pin::pin!(interrupt);
    let mut interrupted = false;
    // Once stopping, tasks get `stop_grace` to come back with the ids of queries they started.
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let joined = tokio::select! {
            () = &mut interrupt, if !interrupted && failure.is_none() => {
                interrupted = true;
                let _ = stop_tx.send(true);
                deadline = Some(tokio::time::Instant::now() + options.stop_grace);
                let running = ctx.running.lock().map_or(0, |r| r.len());
                ctx.progress.event(&Event::Stopping { running });
                continue;
            }
            () = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)), if deadline.is_some() => {
                tasks.abort_all();
                break;
            }
            joined = tasks.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let outcome = match joined {
            Ok(outcome) => outcome,
            Err(e) if e.is_cancelled() => continue,
            Err(e) => Outcome::Fatal(RunnerError::Task { message: e.to_string() }),
        };
        let add_stats = |agg: &mut Aggregator, job: Job, stats: &[Stats]| {
            let account = chunk_account(&ctx.plan, job.chunk);
            for s in stats {
                agg.add_stats(s.scanned, s.matched, s.bytes);
                if let Some(account) = account {
                    agg.add_account_stats(account, s.scanned, s.bytes);
                }
            }
        };
        match outcome {
            Outcome::Rows { job, rows, stats } => {
                add_stats(&mut agg, job, &stats);
                agg.answered();
                let part = ctx.plan.chunks.iter().find(|c| c.number == job.chunk).and_then(|c| c.part.as_ref());
                bad_rows += agg.add_rows(
                    part,
                    || {
                        let groups = chunk_groups(&ctx.plan, job.chunk).join(", ");
                        format!("results of {groups} for {}..{}", job.window.start, job.window.end)
                    },
                    rows.iter().map(|row| row.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
                );
            }
            Outcome::Truncated { job, rows, stats } => {
                add_stats(&mut agg, job, &stats);
                agg.answered();
                if failure.is_some() || interrupted {
                    continue;
                }
                if let Some((a, b)) = job.window.halves() {
                    ctx.progress.event(&Event::Split { chunk: job.chunk, window: job.window, rows });
                    tasks.spawn(run_query(ctx.clone(), Job { chunk: job.chunk, window: a }));
                    tasks.spawn(run_query(ctx.clone(), Job { chunk: job.chunk, window: b }));
                } else {
                    let reason = format!("{rows} rows in a single second reach the row limit");
                    ctx.progress.event(&Event::Gap {
                        chunk: job.chunk,
                        window: job.window,
                        reason: &reason,
                        ended: true,
                    });
                    agg.add_gap(gap(&ctx.plan, job, reason));
                }
            }
            Outcome::Gap { job, reason, unreachable, stats } => {
                add_stats(&mut agg, job, &stats);
                agg.add_gap(CoverageGap { unreachable, ..gap(&ctx.plan, job, reason) });
            }
            Outcome::Stopped => {}
            Outcome::Fatal(e) => {
                if failure.is_none() && !interrupted {
                    let _ = stop_tx.send(true);
                    deadline = Some(tokio::time::Instant::now() + options.stop_grace);
                    failure = Some(e);
                }
            }
        }
    }
    if bad_rows > 0 {
        tracing::warn!("{bad_rows} result rows could not be read and were skipped");
    }

    if interrupted || failure.is_some() {
        // The running queries by account, each account's stopped concurrently with its client.
        let mut by_account: BTreeMap<Option<&str>, Vec<String>> = BTreeMap::new();
        for (id, job) in ctx.running.lock().map(|r| r.clone()).unwrap_or_default() {
            by_account.entry(chunk_account(&ctx.plan, job.chunk)).or_default().push(id);
        }
        let mut stopped = ctx.stopped_late.load(Ordering::SeqCst);
        for (account, ids) in by_account {
            stopped += stop_queries(ctx.clients.for_account(account), &ids).await;
        }
        let mut unanswered_starts = ctx.starting.load(Ordering::SeqCst);
        if unanswered_starts > 0 {
            let found = stop_unanswered(&ctx).await;
            stopped += found;
            unanswered_starts = unanswered_starts.saturating_sub(found);
        }
        return Err(failure.unwrap_or(RunnerError::Interrupted { stopped, unanswered_starts }));
    }
    agg.set_server_parts(plan.server_parts());
    Ok(agg.finish(options.price_per_gb))
}

/// The log groups of chunk `number`.
fn chunk_groups(plan: &QueryPlan, number: usize) -> &[String] {
    plan.chunks.iter().find(|c| c.number == number).map_or(&[], |c| c.log_groups.as_slice())
}

/// The account of chunk `number`'s log groups (`None`: the wave's own).
fn chunk_account(plan: &QueryPlan, number: usize) -> Option<&str> {
    plan.chunks.iter().find(|c| c.number == number).and_then(|c| c.account.as_deref())
}

fn gap(plan: &QueryPlan, job: Job, reason: String) -> CoverageGap {
    CoverageGap {
        account: chunk_account(plan, job.chunk).map(str::to_owned),
        log_groups: chunk_groups(plan, job.chunk).to_vec(),
        window: job.window,
        reason,
        unreachable: false,
        chunk: Some(job.chunk),
    }
}

/// An id for this run's queries: the process and the time it started, in hex.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", std::process::id(), nanos)
}

/// Finds the queries of this run whose `StartQuery` never answered (scheduled or running,
/// their text ending with the run's mark, their id never seen) and stops them; returns how
/// many were stopped. A failure to list them is a warning: the caller still names them.
async fn stop_unanswered(ctx: &Ctx) -> usize {
    let answered = ctx.answered.lock().map(|a| a.clone()).unwrap_or_default();
    let mut stopped = 0;
    let mut seen = BTreeSet::new();
    for client in ctx.clients.each() {
        let ids: Vec<String> =
            unanswered(client, &ctx.mark, &answered).await.into_iter().filter(|id| seen.insert(id.clone())).collect();
        stopped += stop_queries(client, &ids).await;
    }
    stopped
}

/// The scheduled or running queries `client`'s account lists whose text ends with `mark` and
/// whose id is not in `answered`.
async fn unanswered(client: &Client, mark: &str, answered: &BTreeSet<String>) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for status in [QueryStatus::Scheduled, QueryStatus::Running] {
        let mut token = None;
        loop {
            let request = client.describe_queries().status(status.clone()).max_results(1000);
            let page = match request.set_next_token(token).send().await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!("could not list running queries: {}", wavegap_core::error_line(&e));
                    break;
                }
            };
            ids.extend(
                page.queries()
                    .iter()
                    .filter(|q| q.query_string().is_some_and(|text| text.ends_with(mark)))
                    .filter_map(|q| q.query_id())
                    .filter(|id| !answered.contains(*id))
                    .map(str::to_owned),
            );
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
    }
    ids
}

/// `StopQuery` for each id, concurrently; returns how many were stopped.
async fn stop_queries(client: &Client, ids: &[String]) -> usize {
    let mut set = JoinSet::new();
    for id in ids {
        let (client, id) = (client.clone(), id.clone());
        set.spawn(async move {
            match client.stop_query().query_id(&id).send().await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!("could not stop query {id}: {}", wavegap_core::error_line(&e));
                    false
                }
            }
        });
    }
    set.join_all().await.into_iter().filter(|ok| *ok).count()
}

/// Resolves when the run is told to stop.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Sleeps, or returns `false` early when the run is told to stop.
async fn nap(ctx: &Ctx, d: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => true,
        () = stopped(ctx.stop.clone()) => false,
    }
}

fn backoff(options: &ExecOptions, attempt: u32) -> Duration {
    options.backoff.saturating_mul(1 << attempt.min(16)).min(options.max_backoff)
}

enum Start {
    Retry(String),
    /// The request never reached the service (connection refused, DNS, timeouts).
    Unreachable(String),
    Gap(String),
    Fatal(RunnerError),
}

fn classify(chunk: usize, err: &SdkError<StartQueryError>) -> Start {
    match err {
        SdkError::ServiceError(service) => match service.err() {
            StartQueryError::LimitExceededException(_) => Start::Retry("too many concurrent queries".into()),
            StartQueryError::ServiceUnavailableException(_) => Start::Retry("service unavailable".into()),
            StartQueryError::MalformedQueryException(e) => {
                let mut message = e.message().unwrap_or("malformed query").to_owned();
                if let Some(ce) = e.query_compile_error() {
                    if let Some(m) = ce.message() {
                        message = format!("{message}: {m}");
                    }
                    if let Some((start, end)) =
                        ce.location().and_then(|loc| loc.start_char_offset().zip(loc.end_char_offset()))
                    {
                        message = format!("{message} (characters {start}..{end})");
                    }
                }
                Start::Fatal(RunnerError::MalformedQuery { chunk, message })
            }
            StartQueryError::ResourceNotFoundException(e) => {
                Start::Gap(format!("log group not found: {}", e.message().unwrap_or("ResourceNotFoundException")))
            }
            StartQueryError::InvalidParameterException(e) => {
                Start::Gap(format!("invalid parameter: {}", e.message().unwrap_or("InvalidParameterException")))
            }
            other if other.code().is_some_and(|c| c.contains("Throttl")) => Start::Retry("throttled".into()),
            _ => Start::Fatal(RunnerError::Aws { operation: "StartQuery", message: wavegap_core::error_line(err) }),
        },
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            Start::Unreachable(format!("CloudWatch Logs unreachable: {}", wavegap_core::error_line(err)))
        }
        SdkError::ResponseError(_) => Start::Retry(format!("request failed: {}", wavegap_core::error_line(err))),
        _ => Start::Fatal(RunnerError::Aws { operation: "StartQuery", message: wavegap_core::error_line(err) }),
    }
}

fn stats_of(s: Option<&QueryStatistics>) -> Stats {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = |v: f64| if v.is_finite() && v > 0.0 { v as u64 } else { 0 };
    s.map(|s| Stats { scanned: n(s.records_scanned()), matched: n(s.records_matched()), bytes: n(s.bytes_scanned()) })
        .unwrap_or_default()
}

/// One (chunk, window) query, from admission to rows.
async fn run_query(ctx: Arc<Ctx>, job: Job) -> Outcome {
    let Some(chunk) = ctx.plan.chunks.iter().find(|c| c.number == job.chunk) else {
        return Outcome::Fatal(RunnerError::Task { message: format!("the plan has no chunk {}", job.chunk) });
    };
    let client = ctx.clients.for_account(chunk.account.as_deref());
    let _permit = tokio::select! {
        permit = ctx.permits.acquire() => match permit {
            Ok(p) => p,
            Err(_) => return Outcome::Stopped,
        },
        () = stopped(ctx.stop.clone()) => return Outcome::Stopped,
    };
    let row_limit = i32::try_from(ctx.plan.row_limit).unwrap_or(i32::MAX);
    let mut stats = Vec::new();
    let (mut attempts, mut admissions, mut unreachable) = (0u32, 0u32, 0u32);
    loop {
        if *ctx.stop.borrow() {
            return Outcome::Stopped;
        }
        // Not raced against the stop signal: a StartQuery in flight must come back with its
        // id, or the query would run on unseen after an interrupt.
        ctx.starting.fetch_add(1, Ordering::SeqCst);
        let started = client
            .start_query()
            .set_log_group_names(Some(chunk.log_groups.clone()))
            .start_time(job.window.start)
            .end_time(job.window.end)
            .query_string(format!("{}{}", chunk.query, ctx.mark))
            .limit(row_limit)
            .send()
            .await;
        ctx.starting.fetch_sub(1, Ordering::SeqCst);
        if let Ok(out) = &started
            && let Ok(mut answered) = ctx.answered.lock()
        {
            answered.insert(out.query_id().unwrap_or_default().to_owned());
        }
        let query_id = match started {
            // The run was told to stop while this start was in flight: the query runs (and
            // bills) until stopped, and nothing else knows its id.
            Ok(out) if *ctx.stop.borrow() => {
                let id = out.query_id().unwrap_or_default().to_owned();
                if stop_queries(client, std::slice::from_ref(&id)).await == 1 {
                    ctx.stopped_late.fetch_add(1, Ordering::SeqCst);
                }
                return Outcome::Stopped;
            }
            Ok(out) => out.query_id().unwrap_or_default().to_owned(),
            Err(e) => match classify(job.chunk, &e) {
                Start::Retry(reason) => {
                    admissions += 1;
                    if admissions > ctx.options.max_admission_waits {
                        let reason = format!("{reason}, still after {admissions} tries");
                        return give_up(&ctx, job, reason, GaveUp::BeforeStart, stats);
                    }
                    let event = Event::Retry { chunk: job.chunk, window: job.window, reason: &reason, ended: false };
                    ctx.progress.event(&event);
                    if !nap(&ctx, backoff(&ctx.options, admissions - 1)).await {
                        return Outcome::Stopped;
                    }
                    continue;
                }
                // The SDK already retried each call: a few more tries, then the service is gone.
                Start::Unreachable(reason) => {
                    unreachable += 1;
                    if unreachable >= ctx.options.max_attempts {
                        let reason = format!("{reason}, still after {unreachable} tries");
                        return give_up(&ctx, job, reason, GaveUp::Unreachable, stats);
                    }
                    let event = Event::Retry { chunk: job.chunk, window: job.window, reason: &reason, ended: false };
                    ctx.progress.event(&event);
                    if !nap(&ctx, backoff(&ctx.options, unreachable - 1)).await {
                        return Outcome::Stopped;
                    }
                    continue;
                }
                Start::Gap(reason) => return give_up(&ctx, job, reason, GaveUp::BeforeStart, stats),
                Start::Fatal(e) => return Outcome::Fatal(e),
            },
        };
        if let Ok(mut running) = ctx.running.lock() {
            running.insert(query_id.clone(), job);
        }
        ctx.progress.event(&Event::Started { chunk: job.chunk, window: job.window, query_id: &query_id });

        let finished = poll(&ctx, client, &query_id).await;
        let Some((status, results, s)) = finished else { return Outcome::Stopped };
        stats.push(s);
        if let Ok(mut running) = ctx.running.lock() {
            running.remove(&query_id);
        }
        match status {
            Ok(()) if results.len() >= ctx.plan.row_limit => {
                return Outcome::Truncated { job, rows: results.len(), stats };
            }
            Ok(()) => {
                ctx.progress.event(&Event::Finished {
                    chunk: job.chunk,
                    window: job.window,
                    rows: results.len(),
                    bytes_scanned: s.bytes,
                });
                return Outcome::Rows { job, rows: results, stats };
            }
            Err(Ended::GaveUp(reason)) => return give_up(&ctx, job, reason, GaveUp::AfterStart, stats),
            Err(Ended::Retry(reason)) => {
                attempts += 1;
                if attempts >= ctx.options.max_attempts {
                    let reason = format!("query ended {reason} {attempts} times");
                    return give_up(&ctx, job, reason, GaveUp::AfterStart, stats);
                }
                let reason = format!("query ended {reason}");
                ctx.progress.event(&Event::Retry {
                    chunk: job.chunk,
                    window: job.window,
                    reason: &reason,
                    ended: true,
                });
                if !nap(&ctx, backoff(&ctx.options, attempts - 1)).await {
                    return Outcome::Stopped;
                }
            }
        }
    }
}

/// `GetQueryResults` failures in a row (each after the SDK's retries) that end a poll.
const POLL_ERRORS: u32 = 5;

type Polled = (Result<(), Ended>, Vec<Vec<(String, String)>>, Stats);

/// How a query ended without results.
enum Ended {
    /// With a terminal status, or unreadable: worth another start.
    Retry(String),
    /// Past its deadline, stopped: a gap right away (another start would wait as long).
    GaveUp(String),
}

/// Reports a query as missing coverage.
fn give_up(ctx: &Ctx, job: Job, reason: String, how: GaveUp, stats: Vec<Stats>) -> Outcome {
    let ended = how == GaveUp::AfterStart;
    ctx.progress.event(&Event::Gap { chunk: job.chunk, window: job.window, reason: &reason, ended });
    Outcome::Gap { job, reason, unreachable: how == GaveUp::Unreachable, stats }
}

/// Where a query stood when it was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GaveUp {
    /// It never started (refused, throttled or limited past the retries).
    BeforeStart,
    /// It started and ended without results, or passed its deadline.
    AfterStart,
    /// The service could not be reached at all.
    Unreachable,
}

/// Polls until a terminal status, or the query's deadline (then it is stopped); `None` when
/// the run is told to stop first (the query stays in `running`, so the interrupt path stops it).
async fn poll(ctx: &Ctx, client: &Client, query_id: &str) -> Option<Polled> {
    let mut wait = ctx.options.poll_initial;
    let mut errors = 0u32;
    let deadline = tokio::time::Instant::now() + ctx.options.query_deadline;
    loop {
        if tokio::time::Instant::now() >= deadline {
            stop_queries(client, &[query_id.to_owned()]).await;
            let reason =
                format!("no terminal status after {}: stopped", humantime::format_duration(ctx.options.query_deadline));
            return Some((Err(Ended::GaveUp(reason)), Vec::new(), Stats::default()));
        }
        if !nap(ctx, wait.min(deadline.saturating_duration_since(tokio::time::Instant::now()))).await {
            return None;
        }
        wait = (wait + wait / 2).min(ctx.options.poll_max);
        let out = match client.get_query_results().query_id(query_id).send().await {
            Ok(out) => out,
            // The SDK already retried; the query may still be fine, so poll again later
            // unless the service says it does not know the query.
            Err(e) => {
                let message = wavegap_core::error_line(&e);
                if e.as_service_error().is_some_and(aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsError::is_resource_not_found_exception) {
                    let reason = format!("unknown to the service ({message})");
                    return Some((Err(Ended::Retry(reason)), Vec::new(), Stats::default()));
                }
                errors += 1;
                if errors >= POLL_ERRORS {
                    return Some((Err(Ended::Retry(format!("unreadable ({message})"))), Vec::new(), Stats::default()));
                }
                tracing::debug!("GetQueryResults {query_id}: {message}");
                continue;
            }
        };
        errors = 0;
        let stats = stats_of(out.statistics());
        match out.status() {
            Some(QueryStatus::Complete) => {
                let rows = out
                    .results()
                    .iter()
                    .map(|row| {
                        row.iter()
                            .filter_map(|f| Some((f.field()?.to_owned(), f.value().unwrap_or_default().to_owned())))
                            .filter(|(k, _)| k != "@ptr")
                            .collect()
                    })
                    .collect();
                return Some((Ok(()), rows, stats));
            }
            Some(s @ (QueryStatus::Failed | QueryStatus::Timeout | QueryStatus::Cancelled)) => {
                return Some((Err(Ended::Retry(s.as_str().to_owned())), Vec::new(), stats));
            }
            // Scheduled, Running, Unknown and whatever AWS adds later: not finished yet.
            _ => {}
        }
    }
}
