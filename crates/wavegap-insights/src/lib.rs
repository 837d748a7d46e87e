//! The CloudWatch Logs Insights query language, run locally over VPC Flow Logs records.
//!
//! This crate owns the parser ([`Query::parse`]), the planner that binds field names to a
//! flow-log format, and the executor ([`Executor`]) whose partial states can be filled on
//! several threads and merged. It does no I/O: the local source in `wavegap-runner` reads
//! files and the test endpoint reads fixtures; both hand [`Event`]s to an executor. The query
//! text is the same that wavegap sends to CloudWatch, so the two must agree.
//!
//! ```ignore
//! let query = Query::parse("filter action = \"REJECT\" | stats count(*) as records by srcAddr")?;
//! let result = query.run(events); // rows of (field, value) like GetQueryResults
//! ```
//!
//! # Fields
//! Every event has `@message` (the flow-log line), `@timestamp` and `@ingestionTime`
//! (milliseconds), `@logStream` and `@log` (`account-id:log-group-name`). The flow-log fields
//! are discovered from the event's [`FlowFormat`] under their Insights names (`srcAddr`,
//! `dstPort`, `startTime`, `logStatus`, `interfaceId`, `tcpFlags`, …). A line whose field count
//! differs from its format has no flow-log fields (as when Insights' discovery fails).
//! Values are the text as written: `-` is the text `-`, not a missing value.
//!
//! # Choices where the AWS documentation is silent (each is tested)
//! - **Comparison**: two values compare as numbers when both are numbers or text that is a
//!   number (`protocol = 17`, `dstPort = "443"`, `"9" < "10"`), otherwise as text. Any
//!   comparison with a missing field is false, including `!=`, `not in` and `not like`.
//! - **Booleans** are the numbers 1 and 0 (so `stats sum(strcontains(…))` counts).
//! - **Numbers** print without a fraction when whole (`12345`), otherwise in the shortest form
//!   that reads back exactly (`2.5`). Times print as `2024-05-06 00:00:00.000` (UTC).
//! - **Columns**: `stats` results list the `by` keys first, then the aggregates, in the order
//!   written; an unnamed item is named by its text as written (`count(*)`, `bin(1h)`).
//!   Record results list the `fields` (or the last `display`) in order; without either,
//!   `@timestamp`, `@message`, `@logStream`, `@log` and the `parse` outputs.
//!   A missing value is left out of its row, as `GetQueryResults` does.
//! - **Order without `sort`**: `stats` rows by their keys ascending (numbers before text,
//!   missing last); records newest first by `@timestamp`. `sort` is stable and breaks its
//!   ties by that order, so results never depend on thread scheduling. `sort … desc` keeps
//!   missing values last.
//! - **Aggregates**: `count_distinct` is exact; `pct(f, p)` is the nearest-rank percentile;
//!   `stddev` is the sample standard deviation (missing for fewer than two values); `min` and
//!   `max` compare numerically when the values are numbers; `sum`/`avg` ignore non-numbers and
//!   are missing when there is none. `stats` without `by` over no records gives one row.
//! - **Limit**: at most [`DEFAULT_LIMIT`] rows (the `StartQuery` default) unless
//!   [`Executor::with_limit`] says otherwise; `limit n` lowers it.
//! - **`parse`** with a glob: each `*` matches up to the next literal part, a final `*` takes
//!   the rest; no match leaves every output field missing.
//!
//! Anything outside the supported subset (other commands such as `pattern` or `unnest`,
//! unknown functions) is a [`QueryError`] with the line and column of the offending token,
//! never a silently different answer.

mod ast;
mod bind;
mod eval;
mod exec;
mod groups;
mod lexer;
mod parser;
mod plan;
mod prefilter;
mod result;
mod typed;
mod value;

use std::sync::Arc;

use wavegap_core::flowlog::FlowFormat;

pub use exec::{DEFAULT_LIMIT, Executor};
pub use result::{QueryResult, ResultRow, Statistics};

/// A query that does not parse, or is outside the supported subset: where and why, in the
/// spirit of `MalformedQueryException`'s `QueryCompileError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed query at line {line}, column {column} near `{token}`: {message}")]
pub struct QueryError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    pub token: String,
    pub message: String,
}

impl QueryError {
    pub(crate) fn new(line: usize, column: usize, token: &str, message: &str) -> Self {
        QueryError { line, column, token: token.to_owned(), message: message.to_owned() }
    }
}

/// One log event: a flow-log line plus the system fields CloudWatch gives it.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// The flow-log line (`@message`).
    pub message: &'a str,
    /// `@timestamp` in milliseconds since the epoch (the record's `start` for flow logs).
    pub timestamp: i64,
    /// `@ingestionTime` in milliseconds.
    pub ingestion_time: i64,
    /// `@logStream`; `None` takes the record's `interface-id`, as for flow logs in S3,
    /// which have no streams (CloudWatch writes one stream per ENI).
    pub log_stream: Option<&'a str>,
    /// `@log`: `account-id:log-group-name`.
    pub log: &'a str,
    /// The format of `message`, which names the discovered fields.
    pub format: &'a FlowFormat,
}

/// Complete lines of one flow-log file (S3 layout), for [`Executor::push_flow_lines`].
#[derive(Debug, Clone, Copy)]
pub struct FlowLines<'a> {
    /// Whole lines, without the header.
    pub text: &'a str,
    /// Line number of the first line in the file (1-based), for problem reports.
    pub first_line: u64,
    pub format: &'a FlowFormat,
    /// `@log`: for S3 objects `account-id:flow-log-id`.
    pub log: &'a str,
    /// `@timestamp` (ms) of records whose format lacks `start` or whose `start` is `-`.
    pub default_timestamp: i64,
    /// `@ingestionTime` (ms), for S3 the object's time.
    pub ingestion_time: i64,
    /// Only records with `@timestamp` in this range (ms, inclusive) can match.
    pub window_ms: Option<(i64, i64)>,
}

/// A parsed, planned query. Cheap to clone; executors share the plan.
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    plan: Arc<plan::Plan>,
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let commands = parser::parse(text)?;
        let plan = plan::compile(&commands);
        Ok(Query { text: text.to_owned(), plan: Arc::new(plan) })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// An empty partial state to feed events into (one per thread).
    pub fn executor(&self) -> Executor {
        Executor::new(Arc::clone(&self.plan))
    }

    /// Runs the query over `events` on this thread.
    pub fn run<'a>(&self, events: impl IntoIterator<Item = Event<'a>>) -> QueryResult {
        let mut exec = self.executor();
        exec.push_all(events);
        exec.finish()
    }

    /// Whether the query reads `@timestamp` ordering only (helps sources skip work): true when
    /// it aggregates with `stats` before any row command.
    pub fn is_aggregation(&self) -> bool {
        matches!(self.plan.mode, plan::Mode::Stats(_))
    }
}
