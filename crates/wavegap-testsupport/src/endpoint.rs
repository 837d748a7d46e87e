//! A CloudWatch Logs endpoint on 127.0.0.1 that answers Logs Insights queries with
//! `wavegap-insights` over a [`Fixture`], with faults on demand.
//!
//! It speaks the JSON 1.1 protocol the SDK uses (`POST /`, `X-Amz-Target:
//! Logs_20140328.<Operation>`, `Content-Type: application/x-amz-json-1.1`, errors as
//! `{"__type": "...", "message": "..."}` with HTTP 400/500), for `StartQuery`,
//! `GetQueryResults`, `StopQuery`, `DescribeQueries` and `DescribeLogGroups`. A query's answer is computed when
//! it starts; its status then moves `Scheduled` → `Running` → terminal with the configured
//! latency, so concurrency, polling and interrupts behave as against the service.
//!
//! An optional ingestion clock ([`TestEndpoint::set_clock`]) hides the events CloudWatch Logs
//! has not ingested yet, so a test of a `watch` loop sees flow logs arrive over time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use wavegap_core::flow::TimeWindow;
use wavegap_insights::{Event, Query, QueryResult};

use crate::fixture::Fixture;

/// How a faulty query ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultStatus {
    Failed,
    Timeout,
    Cancelled,
    /// `StartQuery` answers `MalformedQueryException`.
    Malformed,
}

/// Queries that scan `log_group` end with `status`, the first `times` of them (or always).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailRule {
    pub log_group: String,
    pub status: FaultStatus,
    pub times: Option<u32>,
}

/// What goes wrong, and how slow the service is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// From `StartQuery` to the terminal status.
    pub latency: Duration,
    /// The first part of `latency` during which the status is `Scheduled`.
    pub scheduled: Duration,
    /// The first this many `StartQuery` calls get `ThrottlingException`.
    pub throttle_starts: u32,
    /// `LimitExceededException` when this many queries are already running.
    pub concurrency_cap: Option<usize>,
    pub fail: Vec<FailRule>,
    /// `StartQuery` answers only after this long (the query is already running by then).
    pub start_delay: Duration,
    /// `GetQueryResults` never gives a terminal status, unless the query is stopped.
    pub endless: Option<Endless>,
    /// In the results of queries that scan this log group, the first row's values are `null`.
    pub null_values: Option<String>,
}

/// How a query that never ends looks to `GetQueryResults`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endless {
    /// No `status` field at all.
    NoStatus,
    /// A status no SDK knows.
    Unknown,
}

/// What the endpoint saw, for assertions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Every `StartQuery` call, accepted or not.
    pub start_calls: u32,
    pub throttled: u32,
    pub limit_exceeded: u32,
    /// Accepted queries: id, log groups, window, in order.
    pub started: Vec<(String, Vec<String>, TimeWindow)>,
    /// The access key id each accepted query was signed with, in the order of `started`
    /// (whose credentials, so whose account, ran it).
    pub signed_by: Vec<String>,
    /// `StopQuery` calls, in order.
    pub stopped: Vec<String>,
    /// Most queries running at once.
    pub peak_running: usize,
}

struct Running {
    started: Instant,
    latency: Duration,
    scheduled: Duration,
    outcome: Result<QueryResult, FaultStatus>,
    stopped: bool,
    null_values: bool,
    query_string: String,
    log_groups: Vec<String>,
    /// Epoch milliseconds, as `DescribeQueries` gives `createTime`.
    created: i64,
}

impl Running {
    fn finished(&self, now: Instant) -> bool {
        self.stopped || now.duration_since(self.started) >= self.latency
    }
}

struct Shared {
    fixture: Fixture,
    faults: Mutex<Faults>,
    fail_counts: Mutex<HashMap<usize, u32>>,
    queries: Mutex<HashMap<String, Running>>,
    record: Mutex<Record>,
    next_id: AtomicU64,
    /// Queries admitted but still being computed: they count against the concurrency cap.
    starting: AtomicUsize,
    /// The ingestion clock, epoch milliseconds: a query sees the events ingested by then.
    /// `None`: every event, whatever its ingestion time.
    clock: Mutex<Option<i64>>,
}

/// A running endpoint; dropping it shuts the server down.
pub struct TestEndpoint {
    url: String,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestEndpoint {
    /// Listens on 127.0.0.1 on a free port, on the current tokio runtime.
    pub async fn start(fixture: Fixture, faults: Faults) -> std::io::Result<Self> {
        Self::start_on(fixture, faults, 0).await
    }

    pub async fn start_on(fixture: Fixture, faults: Faults, port: u16) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            fixture,
            faults: Mutex::new(faults),
            fail_counts: Mutex::new(HashMap::new()),
            queries: Mutex::new(HashMap::new()),
            record: Mutex::new(Record::default()),
            next_id: AtomicU64::new(1),
            starting: AtomicUsize::new(0),
            clock: Mutex::new(None),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = Router::new().route("/", post(handle)).with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(TestEndpoint { url, shared, shutdown: Some(tx) })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn record(&self) -> Record {
        self.shared.record.lock().expect("record lock").clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().expect("faults lock") = faults;
    }

    /// Sets the ingestion clock (epoch milliseconds): from now on a `StartQuery` sees only the
    /// events whose `ingestion_time` is at most `now_ms`, as decided when it starts (its answer
    /// is computed then). `None`, the default, shows every event.
    pub fn set_clock(&self, now_ms: Option<i64>) {
        *self.shared.clock.lock().expect("clock lock") = now_ms;
    }

    pub fn fixture(&self) -> &Fixture {
        &self.shared.fixture
    }

    /// An SDK client for this endpoint with fake static credentials and quick retries.
    pub fn client(&self) -> aws_sdk_cloudwatchlogs::Client {
        client_for(&self.url)
    }
}

impl Drop for TestEndpoint {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A CloudWatch Logs client for a test endpoint: fake credentials, `us-east-1`, the SDK's
/// standard retries with short back-off.
pub fn client_for(url: &str) -> aws_sdk_cloudwatchlogs::Client {
    use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
    use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .http_client(wavegap_resolver::aws::http_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTESTENDPOINT", "test-secret", None, None, "wavegap-testsupport"))
        .endpoint_url(url)
        .retry_config(RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(20)))
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

fn error(status: StatusCode, kind: &str, message: &str, extra: Option<(&str, Value)>) -> Response {
    let mut body = json!({ "__type": kind, "message": message });
    if let Some((k, v)) = extra {
        body[k] = v;
    }
    reply(status, &body)
}

fn reply(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
    resp
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(op) = target.strip_prefix("Logs_20140328.") else {
        return error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("unknown target `{target}`"),
            None,
        );
    };
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "SerializationException", "body is not JSON", None);
    };
    match op {
        "StartQuery" => start_query(&shared, input, access_key(&headers)).await,
        "GetQueryResults" => get_query_results(&shared, &input),
        "StopQuery" => stop_query(&shared, &input),
        "DescribeQueries" => describe_queries(&shared, &input),
        "DescribeLogGroups" => describe_log_groups(&shared, &input),
        other => error(StatusCode::BAD_REQUEST, "UnknownOperationException", &format!("`{other}` is not served"), None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartInput {
    #[serde(default)]
    log_group_names: Vec<String>,
    log_group_name: Option<String>,
    #[serde(default)]
    log_group_identifiers: Vec<String>,
    start_time: i64,
    end_time: i64,
    query_string: String,
    limit: Option<usize>,
}

/// The access key id of a `SigV4` `Authorization` header (`… Credential=AKID/date/…`).
fn access_key(headers: &HeaderMap) -> String {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    auth.split("Credential=").nth(1).and_then(|c| c.split('/').next()).unwrap_or_default().to_owned()
}

async fn start_query(shared: &Arc<Shared>, input: Value, signed_by: String) -> Response {
    let faults = shared.faults.lock().expect("faults lock").clone();
    let clock = *shared.clock.lock().expect("clock lock");
    let throttle = {
        let mut rec = shared.record.lock().expect("record lock");
        rec.start_calls += 1;
        let throttle = rec.start_calls <= faults.throttle_starts;
        if throttle {
            rec.throttled += 1;
        }
        throttle
    };
    if throttle {
        return error(StatusCode::BAD_REQUEST, "ThrottlingException", "Rate exceeded", None);
    }
    let input: StartInput = match serde_json::from_value(input) {
        Ok(i) => i,
        Err(e) => return error(StatusCode::BAD_REQUEST, "InvalidParameterException", &e.to_string(), None),
    };
    let mut groups = input.log_group_names;
    groups.extend(input.log_group_name);
    groups.extend(input.log_group_identifiers.iter().map(|g| g.rsplit(":log-group:").next().unwrap_or(g).to_owned()));
    if groups.is_empty() || groups.len() > 50 {
        return error(StatusCode::BAD_REQUEST, "InvalidParameterException", "give 1 to 50 log groups", None);
    }
    if let Some(missing) = groups.iter().find(|g| !shared.fixture.groups.contains_key(*g)) {
        return error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            &format!("The specified log group does not exist: {missing}"),
            None,
        );
    }
    if input.end_time < input.start_time {
        return error(StatusCode::BAD_REQUEST, "InvalidParameterException", "endTime is before startTime", None);
    }
    let query = match Query::parse(&input.query_string) {
        Ok(q) => q,
        Err(e) => return malformed(&input.query_string, e.line, e.column, &e.to_string()),
    };
    // A fault rule applies to the query when it scans the rule's group; counted per rule.
    let fault = {
        let mut counts = shared.fail_counts.lock().expect("counts lock");
        faults.fail.iter().enumerate().find_map(|(i, rule)| {
            if !groups.contains(&rule.log_group) {
                return None;
            }
            let used = counts.entry(i).or_insert(0);
            if rule.times.is_some_and(|t| *used >= t) {
                return None;
            }
            *used += 1;
            Some(rule.status)
        })
    };
    if fault == Some(FaultStatus::Malformed) {
        return malformed(&input.query_string, 1, 1, "injected: the query could not be compiled");
    }
    let now = Instant::now();
    {
        let queries = shared.queries.lock().expect("queries lock");
        let running = queries.values().filter(|q| !q.finished(now)).count() + shared.starting.load(Ordering::SeqCst);
        if faults.concurrency_cap.is_some_and(|cap| running >= cap) {
            drop(queries);
            shared.record.lock().expect("record lock").limit_exceeded += 1;
            return error(
                StatusCode::BAD_REQUEST,
                "LimitExceededException",
                "Account maximum query concurrency limit of [N] reached",
                None,
            );
        }
        // Under the lock, so two starts cannot both take the last slot.
        shared.starting.fetch_add(1, Ordering::SeqCst);
    }
    let window = TimeWindow { start: input.start_time, end: input.end_time };
    let outcome = if let Some(status) = fault {
        Err(status)
    } else {
        let shared2 = shared.clone();
        let groups2 = groups.clone();
        let limit = input.limit.unwrap_or(wavegap_insights::DEFAULT_LIMIT);
        match tokio::task::spawn_blocking(move || run(&shared2.fixture, &query, &groups2, window, clock, limit)).await {
            Ok(r) => Ok(r),
            Err(e) => {
                shared.starting.fetch_sub(1, Ordering::SeqCst);
                return error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceUnavailableException", &e.to_string(), None);
            }
        }
    };
    let id = format!("{:08x}-test-query", shared.next_id.fetch_add(1, Ordering::Relaxed));
    let null_values = faults.null_values.as_ref().is_some_and(|g| groups.contains(g));
    let running = {
        let mut queries = shared.queries.lock().expect("queries lock");
        queries.insert(
            id.clone(),
            Running {
                started: Instant::now(),
                latency: faults.latency,
                scheduled: faults.scheduled,
                outcome,
                stopped: false,
                null_values,
                query_string: input.query_string,
                log_groups: groups.clone(),
                created: epoch_ms(),
            },
        );
        shared.starting.fetch_sub(1, Ordering::SeqCst);
        let now = Instant::now();
        queries.values().filter(|q| !q.finished(now)).count()
    };
    {
        let mut rec = shared.record.lock().expect("record lock");
        rec.started.push((id.clone(), groups, window));
        rec.signed_by.push(signed_by);
        rec.peak_running = rec.peak_running.max(running);
    }
    tokio::time::sleep(faults.start_delay).await;
    reply(StatusCode::OK, &json!({ "queryId": id }))
}

/// Runs the query over the groups' events in the window (each event's second inclusive) that
/// were ingested by `clock`.
fn run(
    fixture: &Fixture,
    query: &Query,
    groups: &[String],
    window: TimeWindow,
    clock: Option<i64>,
    limit: usize,
) -> QueryResult {
    let mut exec = query.executor().with_limit(limit);
    for name in groups {
        let Some(group) = fixture.groups.get(name) else { continue };
        let log = format!("{}:{}", group.account, group.name);
        exec.push_all(group.ingested_in(window, clock).map(|e| Event {
            message: &e.message,
            timestamp: e.timestamp,
            ingestion_time: e.ingestion_time,
            log_stream: Some(&e.stream),
            log: &log,
            format: &group.format,
        }));
    }
    exec.finish()
}

fn malformed(text: &str, line: usize, column: usize, message: &str) -> Response {
    // Character offset of (line, column), both 1-based.
    let start: usize = text.split('\n').take(line.saturating_sub(1)).map(|l| l.chars().count() + 1).sum::<usize>()
        + column.saturating_sub(1);
    error(
        StatusCode::BAD_REQUEST,
        "MalformedQueryException",
        "Query is malformed",
        Some((
            "queryCompileError",
            json!({ "location": { "startCharOffset": start, "endCharOffset": start + 1 }, "message": message }),
        )),
    )
}

fn get_query_results(shared: &Shared, input: &Value) -> Response {
    let id = input["queryId"].as_str().unwrap_or_default();
    let queries = shared.queries.lock().expect("queries lock");
    let Some(q) = queries.get(id) else {
        return error(StatusCode::BAD_REQUEST, "ResourceNotFoundException", &format!("unknown query {id}"), None);
    };
    let endless = shared.faults.lock().expect("faults lock").endless;
    let Some(status) = status(q, endless) else {
        return reply(StatusCode::OK, &json!({ "results": [] }));
    };
    let (results, stats) = match (&q.outcome, status) {
        (Ok(r), "Complete") => {
            let mut rows: Vec<Value> = r
                .rows()
                .map(|row| Value::Array(row.fields().map(|(f, v)| json!({ "field": f, "value": v })).collect()))
                .collect();
            if q.null_values
                && let Some(Value::Array(fields)) = rows.first_mut()
            {
                for field in fields {
                    field["value"] = Value::Null;
                }
            }
            let s = r.statistics;
            (
                rows,
                json!({ "recordsMatched": s.records_matched, "recordsScanned": s.records_scanned, "bytesScanned": s.bytes_scanned }),
            )
        }
        _ => (Vec::new(), json!({ "recordsMatched": 0.0, "recordsScanned": 0.0, "bytesScanned": 0.0 })),
    };
    reply(StatusCode::OK, &json!({ "status": status, "results": results, "statistics": stats }))
}

/// A query's status as the service would give it now; `None` when an endless fault gives none.
fn status(q: &Running, endless: Option<Endless>) -> Option<&'static str> {
    let elapsed = q.started.elapsed();
    Some(match endless {
        Some(Endless::NoStatus) if !q.stopped => return None,
        Some(Endless::Unknown) if !q.stopped => "Percolating",
        _ if q.stopped => "Cancelled",
        _ if elapsed < q.scheduled => "Scheduled",
        _ if elapsed < q.latency => "Running",
        _ => match &q.outcome {
            Ok(_) => "Complete",
            Err(FaultStatus::Timeout) => "Timeout",
            Err(FaultStatus::Cancelled) => "Cancelled",
            Err(_) => "Failed",
        },
    })
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The queries of the last hours, newest first, optionally of one status and log group; an
/// endless query counts as `Running`. Served in one page.
fn describe_queries(shared: &Shared, input: &Value) -> Response {
    let want = input["status"].as_str();
    let group = input["logGroupName"].as_str();
    let endless = shared.faults.lock().expect("faults lock").endless;
    let queries = shared.queries.lock().expect("queries lock");
    let mut listed: Vec<(i64, Value)> = queries
        .iter()
        .filter_map(|(id, q)| {
            let status = match status(q, endless) {
                None | Some("Percolating") => "Running",
                Some(s) => s,
            };
            let keep = want.is_none_or(|w| w == status) && group.is_none_or(|g| q.log_groups.iter().any(|n| n == g));
            keep.then(|| {
                (
                    q.created,
                    json!({
                        "queryId": id,
                        "queryString": q.query_string,
                        "status": status,
                        "createTime": q.created,
                        "logGroupName": q.log_groups.first(),
                    }),
                )
            })
        })
        .collect();
    listed.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
    reply(StatusCode::OK, &json!({ "queries": listed.into_iter().map(|(_, q)| q).collect::<Vec<_>>() }))
}

fn stop_query(shared: &Shared, input: &Value) -> Response {
    let id = input["queryId"].as_str().unwrap_or_default().to_owned();
    let mut queries = shared.queries.lock().expect("queries lock");
    let Some(q) = queries.get_mut(&id) else {
        return error(StatusCode::BAD_REQUEST, "ResourceNotFoundException", &format!("unknown query {id}"), None);
    };
    let was_running = !q.finished(Instant::now());
    q.stopped = true;
    drop(queries);
    shared.record.lock().expect("record lock").stopped.push(id);
    reply(StatusCode::OK, &json!({ "success": was_running }))
}

fn describe_log_groups(shared: &Shared, input: &Value) -> Response {
    let prefix = input["logGroupNamePrefix"].as_str().unwrap_or_default();
    let groups: Vec<Value> = shared
        .fixture
        .groups
        .values()
        .filter(|g| g.name.starts_with(prefix))
        .map(|g| {
            let bytes: u64 = g.events.iter().map(|e| e.message.len() as u64).sum();
            json!({
                "logGroupName": g.name,
                "arn": format!("arn:aws:logs:us-east-1:{}:log-group:{}:*", g.account, g.name),
                "storedBytes": bytes,
                "creationTime": g.events.first().map_or(0, |e| e.timestamp),
            })
        })
        .collect();
    reply(StatusCode::OK, &json!({ "logGroups": groups }))
}
