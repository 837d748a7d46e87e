//! Query planning and fan-out: turns a wave and its inventory into Logs Insights queries, runs
//! them, and hands back [`FlowData`](wavegap_core::flow::FlowData) — core types only.
//!
//! - [`plan`]: which log groups, in which chunks and windows, with which exact query text
//!   (the same text goes to CloudWatch and to the local engine), and its printout for
//!   `wavegap plan` / `report --dry-run`.
//! - [`cloudwatch`]: the CloudWatch Logs source — chunks run concurrently under an in-flight
//!   limit, admission back-off, polling back-off, reruns of failed queries, truncation
//!   splitting, `StopQuery` on interrupt, summed statistics.
//! - [`files`]: a files or S3 plan run with the local engine, rows converted the same way.
//! - [`fetch`]: picks the source a plan needs.
//! - [`local`]: the local source — flow-log files in the S3 layout and CloudWatch exports,
//!   read on every core and queried with `wavegap-insights`.
//! - [`s3`]: the S3 source — a bucket's flow-log objects listed by the window's date
//!   prefixes and streamed into the local engine.
//! - [`rows`]: result rows → flow aggregates, shared by every source.
//! - [`saved`]: the raw aggregates saved as JSON so a report can be rendered again later.
//! - [`progress`]: what a run reports while it goes; the binary decides how to show it.
//!
//! Left to others: building the SDK client and reading the inventory (the resolver), the
//! Insights language (`wavegap-insights`), and what the aggregates mean (`wavegap-core`).

pub mod cloudwatch;
pub mod files;
pub mod local;
pub mod plan;
pub mod progress;
pub mod rows;
pub mod s3;
pub mod saved;

use std::path::PathBuf;

use wavegap_core::flow::TimeWindow;
use wavegap_core::flowlog::FormatError;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("no log groups to query\nhint: list them under `log-groups` in the wave, or set `discover = true`")]
    NoLogGroups,
    #[error("the wave has no servers to filter on")]
    NoServers,
    #[error("the window {} .. {} is empty", window.start, window.end)]
    EmptyWindow { window: TimeWindow },
    #[error("flow log `{flow_log}` has a log format wavegap cannot read")]
    BadLogFormat {
        flow_log: String,
        #[source]
        source: FormatError,
    },
    #[error(
        "log group `{log_group}` receives flow logs with different formats ({})\nhint: give each flow log format its own log group",
        flow_logs.join(", ")
    )]
    MixedFormats { log_group: String, flow_logs: Vec<String> },
    #[error("the flow-log format of log group `{log_group}` lacks `{field}`, which the analysis needs")]
    MissingField { log_group: String, field: String },
    #[error(
        "the query for chunk {chunk} is {len} characters even for one server, over the {} Logs Insights accepts: the wave's networks are too many to name in one query\nhint: list fewer, wider networks in `on-premises` (the VPC CIDRs are the rest)",
        plan::MAX_QUERY_LEN
    )]
    QueryTooLong { chunk: usize, len: usize },
    #[error(
        "CloudWatch Logs refused the query of chunk {chunk}: {message}\nhint: `wavegap plan WAVE` prints the query text"
    )]
    MalformedQuery { chunk: usize, message: String },
    #[error("CloudWatch Logs {operation} failed: {message}")]
    Aws { operation: &'static str, message: String },
    #[error("a query task failed: {message}")]
    Task { message: String },
    #[error("this plan reads CloudWatch Logs, not files")]
    NotAFilesPlan,
    #[error(
        "this plan reads CloudWatch Logs and needs a client\nhint: the resolver builds it (`wavegap_resolver::AwsContext`)"
    )]
    NoClient,
    #[error(transparent)]
    Files(#[from] local::LocalError),
    #[error("S3 {operation} on {target} failed: {code}: {message}\nhint: {hint}")]
    S3 { operation: &'static str, target: String, code: String, message: String, hint: &'static str },
    #[error("this plan reads an S3 bucket and needs an S3 client")]
    NoS3Client,
    #[error("interrupted: stopped {stopped} running queries{}", unanswered_starts_note(*unanswered_starts))]
    Interrupted {
        stopped: usize,
        /// `StartQuery` calls still unanswered when the run gave up waiting: their queries
        /// may run on.
        unanswered_starts: usize,
    },
    #[error("cannot read saved results `{}`", path.display())]
    SavedRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("saved results `{}` are not valid\nhint: they are written by `wavegap fetch --save` / `report`; re-run the queries", path.display())]
    SavedParse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("saved results `{}` have version {found}, this wavegap reads version {expected}", path.display())]
    SavedVersion { path: PathBuf, found: u32, expected: u32 },
}

fn unanswered_starts_note(n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    format!(
        "; {n} StartQuery call(s) never answered, so their queries may still run\nhint: list them with \
         `aws logs describe-queries --status Running` and stop them with `aws logs stop-query --query-id ID`"
    )
}

/// The clients a run may call; a plan that reads files needs neither.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    pub logs: Option<cloudwatch::LogsClients>,
    pub s3: Option<aws_sdk_s3::Client>,
}

/// Runs a plan with the source it was made for: flow-log objects (files, or a bucket through
/// `clients.s3`) on blocking threads, or CloudWatch Logs Insights through `clients.logs`.
pub async fn fetch(
    plan: &plan::QueryPlan,
    clients: &Clients,
    options: &cloudwatch::ExecOptions,
    progress: std::sync::Arc<dyn progress::Progress>,
    interrupt: impl std::future::Future<Output = ()>,
) -> Result<wavegap_core::flow::FlowData, RunnerError> {
    if plan.objects.is_some() {
        let plan = plan.clone();
        let s3 = clients.s3.clone();
        let files = tokio::task::spawn_blocking(move || files::run(&plan, false, s3.as_ref(), progress.as_ref()));
        return tokio::select! {
            joined = files => joined.map_err(|e| RunnerError::Task { message: e.to_string() })?,
            () = interrupt => Err(RunnerError::Interrupted { stopped: 0, unanswered_starts: 0 }),
        };
    }
    let client = clients.logs.as_ref().ok_or(RunnerError::NoClient)?;
    cloudwatch::run(client, plan, options, progress, interrupt).await
}
