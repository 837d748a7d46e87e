//! `wavegap query`: run a Logs Insights query over local flow-log files.

use std::io::{IsTerminal, Write};

use anyhow::Context as _;
use wavegap_core::flow::TimeWindow;
use wavegap_core::flowlog::FlowFormat;
use wavegap_insights::{Query, QueryResult};
use wavegap_runner::local::{LocalError, LocalOptions, run_query};

use crate::cli::{OutputFormat, QueryArgs};
use crate::exit::{Failure, Kind, OrFail, Success};

/// Problems listed on stderr before "and N more".
const SHOWN_PROBLEMS: usize = 20;

pub fn run(args: &QueryArgs) -> Result<Success, Failure> {
    let query = Query::parse(&args.query).map_err(|e| {
        Failure::new(Kind::Config, anyhow::anyhow!("{e}\nhint: the query language is CloudWatch Logs Insights'"))
    })?;
    let window = window(args.start.as_deref(), args.end.as_deref()).or_fail(Kind::Config)?;
    let mut options = LocalOptions { strict: args.strict, limit: args.limit, ..LocalOptions::default() };
    if let Some(text) = &args.log_format {
        options.log_format = FlowFormat::from_log_format(text)
            .with_context(|| format!("invalid --log-format `{text}`"))
            .or_fail(Kind::Config)?;
    }
    let output = run_query(&args.files, &query, window, &options).map_err(|e| match e {
        LocalError::Strict { .. }
        | LocalError::NotFound { .. }
        | LocalError::Io { .. }
        | LocalError::NoFiles { .. } => Failure::new(Kind::Aws, e),
    })?;
    let format =
        args.output.unwrap_or(if std::io::stdout().is_terminal() { OutputFormat::Table } else { OutputFormat::Csv });
    let text = match format {
        OutputFormat::Table => table(&output.result),
        OutputFormat::Csv => csv(&output.result),
        OutputFormat::Json => json(&output.result)?,
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => {}
        // `wavegap query … | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Failure::new(Kind::Aws, anyhow::Error::new(e).context("cannot write the results"))),
    }
    let s = output.result.statistics;
    eprintln!(
        "{} rows; records scanned {}, matched {}; {} bytes scanned; {} files read, {} skipped by time",
        output.result.rows.len(),
        s.records_scanned,
        s.records_matched,
        s.bytes_scanned,
        output.files_read,
        output.files_skipped
    );
    for p in output.problems.iter().take(SHOWN_PROBLEMS) {
        eprintln!("warning: {p}");
    }
    if output.problem_count > SHOWN_PROBLEMS as u64 {
        eprintln!(
            "warning: … and {} more problems ({} bad lines in all)",
            output.problem_count - SHOWN_PROBLEMS as u64,
            output.bad_lines
        );
    }
    Ok(Success::Ok)
}

/// `--start`/`--end` (RFC 3339, both inclusive) as a window in Unix seconds.
fn window(start: Option<&str>, end: Option<&str>) -> anyhow::Result<Option<TimeWindow>> {
    let parse = |flag: &str, s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp())
            .with_context(|| format!("{flag} `{s}` is not an RFC 3339 time\nhint: for example 2024-05-06T00:00:00Z"))
    };
    if start.is_none() && end.is_none() {
        return Ok(None);
    }
    let start = start.map(|s| parse("--start", s)).transpose()?.unwrap_or(i64::MIN / 2000);
    let end = end.map(|s| parse("--end", s)).transpose()?.unwrap_or(i64::MAX / 2000);
    if end < start {
        anyhow::bail!("--end is before --start");
    }
    Ok(Some(TimeWindow { start, end }))
}

fn cell<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    row.iter().find(|(f, _)| f == column).map_or("", |(_, v)| v.as_str())
}

fn table(result: &QueryResult) -> String {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(&result.columns);
    for row in &result.rows {
        table.add_row(result.columns.iter().map(|c| cell(row, c)));
    }
    format!("{table}\n")
}

fn csv(result: &QueryResult) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
    }
    let mut out = String::new();
    out.push_str(&result.columns.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
    out.push('\n');
    for row in &result.rows {
        out.push_str(&result.columns.iter().map(|c| field(cell(row, c))).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The shape of `GetQueryResults`: rows of `{field, value}` and the statistics.
fn json(result: &QueryResult) -> Result<String, Failure> {
    let results: Vec<Vec<serde_json::Value>> = result
        .rows
        .iter()
        .map(|row| row.iter().map(|(f, v)| serde_json::json!({ "field": f, "value": v })).collect())
        .collect();
    let doc = serde_json::json!({
        "status": "Complete",
        "columns": result.columns,
        "results": results,
        "statistics": result.statistics,
    });
    let mut text = serde_json::to_string_pretty(&doc).or_fail(Kind::Aws)?;
    text.push('\n');
    Ok(text)
}
