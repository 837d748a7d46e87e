//! `wavegap query`: run a Logs Insights query over local flow-log files.

use std::io::Write;

use anyhow::Context as _;
use serde::{Serialize, Serializer};
use wavegap_core::flow::TimeWindow;
use wavegap_core::flowlog::FlowFormat;
use wavegap_insights::{Executor, Query, QueryResult, ResultRow, Statistics};
use wavegap_runner::local::{LocalError, LocalOptions, run_query_with};

use crate::cli::{OutputFormat, QueryArgs};
use crate::exit::{Failure, Kind, OrFail, Success};

/// Problems listed on stderr before "and N more".
const SHOWN_PROBLEMS: usize = 20;

pub fn run(args: &QueryArgs, stdout_terminal: bool) -> Result<Success, Failure> {
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
    let format = args.output.unwrap_or(if stdout_terminal { OutputFormat::Table } else { OutputFormat::Csv });
    let mut stdout = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    // CSV rows are written as the query makes them; a table and JSON are made from the whole
    // result. Either way nothing is written when the query fails (damaged files are reported
    // and the rest is read, unless `--strict`).
    let output = run_query_with(&args.files, &query, window, &options, |exec| {
        if format == OutputFormat::Csv {
            return csv(exec, &mut stdout);
        }
        let result = exec.finish();
        let written = match format {
            OutputFormat::Table => stdout.write_all(table(&result).as_bytes()),
            _ => json(&result, &mut stdout),
        };
        (result.len(), result.statistics, written)
    })
    .map_err(|e| match e {
        LocalError::Strict { .. }
        | LocalError::NotFound { .. }
        | LocalError::Io { .. }
        | LocalError::NoFiles { .. } => Failure::new(Kind::Aws, e),
    })?;
    let (rows, s, written) = output.result;
    match written.and_then(|()| stdout.flush()) {
        Ok(()) => {}
        // `wavegap query … | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Failure::new(Kind::Aws, anyhow::Error::new(e).context("cannot write the results"))),
    }
    eprintln!(
        "{rows} rows; records scanned {}, matched {}; {} bytes scanned; {} files read, {} skipped by time",
        s.records_scanned,
        s.records_matched,
        s.bytes_scanned,
        output.read.len(),
        output.skipped.len()
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

fn table(result: &QueryResult) -> String {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(result.columns());
    for row in result.rows() {
        table.add_row(row.values().map(Option::unwrap_or_default));
    }
    format!("{table}\n")
}

/// A header line, then a line per row as the query makes it (`\n` line ends); a field with a
/// comma, quote or line break is quoted as RFC 4180 does it; a missing value is an empty field.
/// The rows written, the query's statistics and whether every write succeeded (after the first
/// failure the remaining rows are only counted).
fn csv(exec: Executor, out: &mut impl Write) -> (usize, Statistics, std::io::Result<()>) {
    fn line<S: AsRef<str>>(out: &mut impl Write, fields: impl Iterator<Item = S>) -> std::io::Result<()> {
        for (i, f) in fields.enumerate() {
            let f = f.as_ref();
            if i > 0 {
                out.write_all(b",")?;
            }
            if f.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
                write!(out, "\"{}\"", f.replace('"', "\"\""))?;
            } else {
                out.write_all(f.as_bytes())?;
            }
        }
        out.write_all(b"\n")
    }
    let mut written = line(out, exec.columns().iter());
    let mut rows = 0;
    let statistics = exec.finish_each(|values| {
        rows += 1;
        if written.is_ok() {
            written = line(out, values.map(Option::unwrap_or_default));
        }
    });
    (rows, statistics, written)
}

/// The shape of `GetQueryResults`: rows of `{field, value}` and the statistics, written as the
/// rows go by.
fn json(result: &QueryResult, out: &mut impl Write) -> std::io::Result<()> {
    struct Rows<'a>(&'a QueryResult);
    impl Serialize for Rows<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.rows().map(Row))
        }
    }
    struct Row<'a>(ResultRow<'a>);
    impl Serialize for Row<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.fields().map(|(field, value)| Field { field, value }))
        }
    }
    #[derive(Serialize)]
    struct Field<'a> {
        field: &'a str,
        value: &'a str,
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        status: &'static str,
        columns: &'a [String],
        results: Rows<'a>,
        statistics: wavegap_insights::Statistics,
    }
    let doc =
        Doc { status: "Complete", columns: result.columns(), results: Rows(result), statistics: result.statistics };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
