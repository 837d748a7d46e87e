//! The query language end to end: parse, run over flow-log events, compare the rows.

mod errors;
mod language;

use wavegap_core::flowlog::FlowFormat;
use wavegap_insights::{Event, Query, QueryResult};

/// Lines of the documented examples plus a few more, all in the default format.
pub const LINES: &[&str] = &[
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
    "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
    "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
    "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK",
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK",
    "2 123456789010 eni-22222222bbbbbbbbb 10.0.0.7 10.0.0.8 56691 1433 6 3 156 1714953732 1714953753 REJECT OK",
    "2 123456789010 eni-22222222bbbbbbbbb 10.0.0.7 10.0.0.8 56692 1433 6 3 156 1714953792 1714953813 REJECT OK",
    "2 123456789010 eni-33333333ccccccccc 10.0.0.6 192.168.20.5 58367 514 17 314 118378 1714953762 1714954199 ACCEPT OK",
    "2 123456789010 eni-33333333ccccccccc 192.168.1.9 10.0.0.6 50000 443 6 10 5000 1714953700 1714953760 REJECT OK",
];

/// Events for `lines`: `@timestamp` is the record's start, the stream its ENI.
pub fn events<'a>(lines: &'a [&'a str], format: &'a FlowFormat) -> Vec<Event<'a>> {
    lines
        .iter()
        .map(|line| {
            let start: i64 = line.split(' ').nth(10).and_then(|s| s.parse().ok()).unwrap_or(0);
            Event {
                message: line,
                timestamp: start * 1000,
                ingestion_time: start * 1000 + 300_000,
                log_stream: line.split(' ').nth(2),
                log: "123456789010:vpc-flow-logs",
                format,
            }
        })
        .collect()
}

pub fn run(query: &str, lines: &[&str]) -> QueryResult {
    let format = FlowFormat::default_v2();
    let q = Query::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    q.run(events(lines, &format))
}

/// Rows as `field=value` joined by spaces, one row per line.
pub fn render(result: &QueryResult) -> String {
    result
        .rows()
        .map(|row| row.fields().map(|(f, v)| format!("{f}={v}")).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `query` over [`LINES`] and compares the rendered rows.
#[track_caller]
pub fn check(query: &str, expected: &str) {
    let got = render(&run(query, LINES));
    let want = expected.trim().lines().map(str::trim).collect::<Vec<_>>().join("\n");
    assert_eq!(got, want, "\nquery: {query}\n--- got:\n{got}\n--- want:\n{want}\n");
}
