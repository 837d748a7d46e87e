//! The command line, as clap derives it.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Find the security group and network ACL rules a migration wave is missing, from VPC Flow Logs.
#[derive(Debug, Parser)]
#[command(name = "wavegap", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More log output on stderr (-v info, -vv debug, -vvv trace); `RUST_LOG` wins
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// When to colour stderr output (`NO_COLOR` is respected under `auto`)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate wave files and print a one-line summary of each
    Check(CheckArgs),
    /// Print the queries a wave would run: chunks, windows and exact query texts (no AWS calls)
    Plan(PlanArgs),
    /// Run a wave's queries and save the flow aggregates as JSON (read by `report --from-saved`)
    #[command(hide = true)]
    Fetch(FetchArgs),
    /// Resolve a wave's servers with the EC2 API and write an inventory snapshot (EC2 JSON)
    Inventory(InventoryArgs),
    /// Run a Logs Insights query over local flow-log files (S3 layout or CloudWatch exports)
    Query(QueryArgs),
    /// Evaluate one flow hop by hop against the wave's security groups and network ACLs
    Explain(ExplainArgs),
    /// Resolve, query and analyse a wave; write reports/WAVE/ (the reports, findings.json,
    /// the fix scripts and the saved flows)
    Report(ReportArgs),
    /// Follow a cutover: query only what is new every few minutes, show new, open and fixed
    /// findings, and keep reports/WAVE/ up to date
    Watch(WatchArgs),
    /// Write a new wave file from a wave plan spreadsheet (CSV) or the EC2 instances tagged for the wave
    Init(InitArgs),
    /// Print a shell completion script (e.g. `wavegap completions bash > ~/.local/share/bash-completion/completions/wavegap`)
    Completions(CompletionsArgs),
    /// Print a man page in roff (e.g. `wavegap man | man -l -`; `wavegap man report` for one command)
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The new wave's name: writes `WAVES_DIR/NAME.toml`
    pub name: String,

    /// A CSV of the wave's servers: a header row naming `name`, `ip` and `app`, and optionally
    /// `role`, `os` (linux, windows, windows-legacy) and `instance-id`
    #[arg(long, value_name = "FILE", required_unless_present = "from_tags", conflicts_with = "from_tags")]
    pub from_csv: Option<PathBuf>,

    /// The EC2 instances tagged KEY=VALUE (e.g. `Wave=wave-7`), with names from `Name`, apps
    /// from `--app-tag`, roles from `Role` and the OS from the platform
    #[arg(long, value_name = "KEY=VALUE")]
    pub from_tags: Option<String>,

    /// The tag naming each instance's app, with --from-tags [default: `App`, else `Application`]
    #[arg(long, value_name = "KEY", requires = "from_tags")]
    pub app_tag: Option<String>,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// Where wave files live
    #[arg(long, default_value = "waves", env = "WAVEGAP_WAVES_DIR")]
    pub waves_dir: PathBuf,

    /// Replace the wave file if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command's own page (`wavegap-report(1)`); default: the page of wavegap itself
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The query, in the CloudWatch Logs Insights language
    pub query: String,

    /// A directory of flow-log files (S3 layout, Hive layout or CloudWatch JSON-lines exports) or one file
    #[arg(long)]
    pub files: PathBuf,

    /// Window start, RFC 3339 (inclusive), e.g. 2024-05-06T00:00:00Z
    #[arg(long)]
    pub start: Option<String>,

    /// Window end, RFC 3339 (inclusive)
    #[arg(long)]
    pub end: Option<String>,

    /// Output format; default: table on a terminal, csv otherwise
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,

    /// Fail (exit 3) on damaged files or lines instead of reading around them
    #[arg(long)]
    pub strict: bool,

    /// Format of CloudWatch export messages, as `LogFormat` (`${version} ${account-id} …`); default: version 2
    #[arg(long)]
    pub log_format: Option<String>,

    /// Most rows to return (like the limit of a Logs Insights query; default 10000)
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// What `report --fail-on` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Rejected,
    Unanswered,
    NotSeen,
    Gaps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Table,
    Plain,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Waves by name (looked up in the waves directory) or path; default: every wave there
    pub waves: Vec<String>,

    /// Where wave files live
    #[arg(long, default_value = "waves", env = "WAVEGAP_WAVES_DIR")]
    pub waves_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The wave (a name in the waves directory, or a path) whose inventory to evaluate
    pub wave: String,
    /// The client address (the request's source)
    pub src: IpAddr,
    /// The server address (the request's destination)
    pub dst: IpAddr,
    /// The service: `tcp/1433` (or `1433/tcp`), `udp/53`, `icmp` or `icmpv6`
    pub service: String,

    /// Evaluate this inventory snapshot instead of the wave's (EC2 JSON file or directory)
    #[arg(long)]
    pub inventory: Option<PathBuf>,

    /// Where wave files live
    #[arg(long, default_value = "waves", env = "WAVEGAP_WAVES_DIR")]
    pub waves_dir: PathBuf,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub query: WaveArgs,

    /// Directory to write the report into [default: reports/<wave>/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Templates that replace the built-in ones of the same name (such as report.md.j2; any
    /// missing one falls back to the built-in template)
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Exit 1 when any of these is found (comma-separated): rejected, unanswered, not-seen;
    /// exit 4 for gaps (data that could not be queried or read). Findings held back by a
    /// caveat, and rejected flows the current rules allow, do not count
    #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
    pub fail_on: Vec<FailOn>,

    /// The same as `--fail-on rejected,unanswered,not-seen,gaps`
    #[arg(long)]
    pub fail_on_findings: bool,

    /// Mark findings new, still open or fixed against this earlier findings.json
    /// [default: the findings.json the report replaces, when there is one]
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    pub baseline: Option<PathBuf>,

    /// Compare with no earlier run
    #[arg(long)]
    pub no_baseline: bool,

    /// The summary on stdout: a table, plain lines, or one JSON object
    /// [default: table on a terminal, plain otherwise]
    #[arg(long, value_enum)]
    pub format: Option<SummaryFormat>,

    /// Print the query plan (chunks, windows, exact query texts) and exit, without calling AWS
    #[arg(long, conflicts_with = "from_saved")]
    pub dry_run: bool,

    /// Render from the flows.json.gz of an earlier report (or a `fetch --save` file) instead
    /// of querying again
    #[arg(long, value_name = "FILE")]
    pub from_saved: Option<PathBuf>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub query: WaveArgs,

    /// How often to look for new data (`90s`, `2m`)
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = positive_duration)]
    pub every: std::time::Duration,

    /// Start this long before now (the wave's own window is not used)
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = positive_duration)]
    pub since: std::time::Duration,

    /// How far behind now CloudWatch windows end, so that every record of a window has been
    /// delivered before it is queried [default: the flow logs' aggregation interval plus
    /// 5 minutes]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lag: Option<std::time::Duration>,

    /// Resolve the inventory again only this often [default: every cycle]
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub inventory_every: Option<std::time::Duration>,

    /// Run this shell command once per new finding, with the finding as JSON on stdin
    #[arg(long, value_name = "COMMAND")]
    pub on_new: Option<String>,

    /// Stop after this many cycles [default: run until interrupted]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub cycles: Option<u32>,

    /// Directory to keep the report in [default: reports/<wave>/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

fn positive_duration(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.as_secs() > 0 => Ok(d),
        Ok(_) => Err("give at least one second, such as `30s` or `2m`".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// What every command that queries a wave's flow logs needs: the wave and how to cut its queries.
#[derive(Debug, Args)]
pub struct WaveArgs {
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
    pub query: WaveArgs,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub query: WaveArgs,

    /// Where to write the aggregates (JSON; gzip-compressed when the name ends in `.gz`)
    #[arg(long, value_name = "FILE")]
    pub save: PathBuf,

    /// Exit with code 4 when some log groups or windows could not be queried
    #[arg(long)]
    pub fail_on_gaps: bool,

    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// The wave, by name (looked up in the waves directory) or path
    pub wave: String,

    /// Where to write the snapshot [default: reports/<wave>/inventory.json]
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    /// Where wave files live
    #[arg(long, default_value = "waves", env = "WAVEGAP_WAVES_DIR")]
    pub waves_dir: PathBuf,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Where and as whom to call AWS; each wins over the wave's `[aws]` table.
#[derive(Debug, Default, Args)]
pub struct AwsArgs {
    /// AWS profile
    #[arg(long)]
    pub profile: Option<String>,
    /// AWS region
    #[arg(long)]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint (an emulator or the test endpoint)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Attempts per AWS call, the first included, with the SDK's back-off between them [default: 5]
    #[arg(long, value_name = "N", env = "AWS_MAX_ATTEMPTS", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
}
