//! The local source over small S3-layout trees and CloudWatch exports written by the test.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;
use wavegap_core::flow::{FlowData, TimeWindow};
use wavegap_core::flowlog::FlowFormat;
use wavegap_insights::Query;
use wavegap_runner::files;
use wavegap_runner::local::{LocalError, LocalOptions, LocalOutput, run_query};
use wavegap_runner::plan::{Objects, PlanOptions, QueryPlan};
use wavegap_runner::progress::Silent;

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
/// 2024-05-06T00:10:00Z, the time in the object names below.
const T0: i64 = 1_714_954_200;

fn line(eni: &str, src: &str, dst: &str, dport: u16, start: i64, action: &str) -> String {
    format!("2 123456789012 {eni} {src} {dst} 50000 {dport} 6 3 156 {start} {} {action} OK", start + 20)
}

fn write_gz(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut enc = GzEncoder::new(std::fs::File::create(path).unwrap(), Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
}

fn s3_path(root: &Path, account: &str, fl: &str, stamp: &str) -> std::path::PathBuf {
    root.join(format!("AWSLogs/{account}/vpcflowlogs/us-east-1/2024/05/06/{account}_vpcflowlogs_us-east-1_{fl}_{stamp}_abcd1234.log.gz"))
}

fn query(
    root: &Path,
    text: &str,
    window: Option<TimeWindow>,
    options: &LocalOptions,
) -> Result<LocalOutput, LocalError> {
    run_query(root, &Query::parse(text).unwrap(), window, options)
}

fn rows(out: &LocalOutput) -> String {
    out.result
        .rows()
        .map(|r| r.fields().map(|(f, v)| format!("{f}={v}")).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every problem as `file:line: what`, one per line.
fn problems(out: &LocalOutput) -> String {
    out.problems
        .iter()
        .map(|p| format!("{}:{:?}: {}", p.file.file_name().unwrap().to_string_lossy(), p.line, p.what))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A tree with two accounts, gzip and plain objects, a Hive-layout object and some damage.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let a = [
        HEADER.to_owned(),
        line("eni-a", "10.0.0.7", "10.0.0.8", 1433, T0 - 200, "REJECT"),
        line("eni-a", "10.0.0.7", "10.0.0.8", 1433, T0 - 100, "REJECT"),
        line("eni-b", "10.0.0.8", "10.0.0.7", 50000, T0 - 100, "ACCEPT"),
    ]
    .join("\n");
    write_gz(&s3_path(root, "123456789012", "fl-1", "20240506T0010Z"), &(a + "\n"));
    // Other account, other format (fields in another order plus tcp-flags), plain text.
    let b = "srcaddr dstaddr dstport protocol action start interface-id tcp-flags account-id\n\
             10.250.1.10 10.0.0.7 64022 6 REJECT 1714953900 eni-c 18 210987654321\n";
    let plain = root.join("AWSLogs/210987654321/vpcflowlogs/us-east-1/2024/05/06/210987654321_vpcflowlogs_us-east-1_fl-2_20240506T0010Z_ffff0000.log");
    std::fs::create_dir_all(plain.parent().unwrap()).unwrap();
    std::fs::write(&plain, b).unwrap();
    // Hive layout, two hours later.
    let hive = root.join("aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=05/day=06/hour=02/123456789012_vpcflowlogs_us-east-1_fl-1_20240506T0210Z_0000aaaa.log.gz");
    write_gz(&hive, &format!("{HEADER}\n{}\n", line("eni-a", "10.0.0.7", "10.0.0.8", 1433, T0 + 7200, "REJECT")));
    dir
}

#[test]
fn reads_s3_layouts_and_formats_per_file() {
    let dir = tree();
    let out = query(
        dir.path(),
        r#"filter action = "REJECT" | stats count(*) as records by srcAddr, dstAddr, dstPort, @log, @logStream | sort records desc"#,
        None,
        &LocalOptions::default(),
    )
    .unwrap();
    assert_eq!(
        rows(&out),
        "srcAddr=10.0.0.7 dstAddr=10.0.0.8 dstPort=1433 @log=123456789012:fl-1 @logStream=eni-a records=3\n\
         srcAddr=10.250.1.10 dstAddr=10.0.0.7 dstPort=64022 @log=210987654321:fl-2 @logStream=eni-c records=1"
    );
    assert_eq!(out.read.len(), 3);
    assert_eq!(out.problem_count, 0);
    assert_eq!(out.result.statistics.records_scanned, 5);
    assert_eq!(out.result.statistics.records_matched, 4);
    // tcpFlags exists only in the second format; elsewhere it is missing.
    let out = query(
        dir.path(),
        "filter ispresent(tcpFlags) | stats count(*) as n by tcpFlags",
        None,
        &LocalOptions::default(),
    )
    .unwrap();
    assert_eq!(rows(&out), "tcpFlags=18 n=1");
}

#[test]
fn window_skips_objects_by_name_and_records_by_time() {
    let dir = tree();
    let window = TimeWindow { start: T0 - 150, end: T0 + 600 };
    let out = query(dir.path(), "stats count(*) as n by @timestamp", Some(window), &LocalOptions::default()).unwrap();
    assert_eq!(out.skipped.len(), 1, "the Hive object two hours later is not opened");
    assert_eq!(rows(&out), "@timestamp=2024-05-06 00:08:20.000 n=2");
    // The inclusive end second counts.
    let window = TimeWindow { start: T0 - 200, end: T0 - 200 };
    let out = query(dir.path(), "stats count(*) as n", Some(window), &LocalOptions::default()).unwrap();
    assert_eq!(rows(&out), "n=1");
}

#[test]
fn damage_is_reported_and_the_rest_is_read() {
    let dir = tree();
    let root = dir.path();
    // Garbage lines and an unknown header field.
    write_gz(
        &s3_path(root, "123456789012", "fl-3", "20240506T0015Z"),
        &format!(
            "{HEADER} future-field\n{} x\nthis is not a record\n{} y\n",
            line("eni-d", "10.0.0.1", "10.0.0.2", 22, T0, "REJECT"),
            line("eni-d", "10.0.0.1", "10.0.0.2", 22, T0, "REJECT")
        ),
    );
    // Truncated gzip: the first half of a valid stream.
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    for i in 0..2000 {
        writeln!(
            enc,
            "{}",
            if i == 0 { HEADER.to_owned() } else { line("eni-e", "10.0.0.3", "10.0.0.4", 80, T0, "REJECT") }
        )
        .unwrap();
    }
    let full = enc.finish().unwrap();
    let cut = s3_path(root, "123456789012", "fl-4", "20240506T0015Z");
    std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
    // Named .gz but plain text.
    std::fs::write(s3_path(root, "123456789012", "fl-5", "20240506T0015Z"), format!("{HEADER}\n")).unwrap();

    let text = r#"filter action = "REJECT" | stats count(*) as n by interfaceId"#;
    let out = query(root, text, None, &LocalOptions::default()).unwrap();
    let joined = problems(&out);
    assert!(joined.contains("fl-3_20240506T0015Z_abcd1234.log.gz:Some(1): unknown field `future-field`"), "{joined}");
    assert!(
        joined.contains("fl-3_20240506T0015Z_abcd1234.log.gz:Some(3): not a record of the header's 15 fields"),
        "{joined}"
    );
    assert!(joined.contains("fl-4_20240506T0015Z_abcd1234.log.gz") && joined.contains("truncated"), "{joined}");
    assert!(joined.contains("fl-5_20240506T0015Z_abcd1234.log.gz:None: not a gzip file"), "{joined}");
    assert_eq!(out.bad_lines, 1);
    let result = rows(&out);
    assert!(result.contains("interfaceId=eni-d n=2"), "{result}");
    let eni_e: u64 = out
        .result
        .rows()
        .find(|r| r.get("interfaceId") == Some("eni-e"))
        .and_then(|r| r.get("n"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(eni_e > 0 && eni_e < 1999, "part of the cut stream is read: {eni_e}");

    let strict = LocalOptions { strict: true, ..LocalOptions::default() };
    let err = query(root, text, None, &strict).unwrap_err();
    assert!(matches!(err, LocalError::Strict { count: 4, .. }), "{err}");
}

#[test]
fn cloudwatch_exports_use_the_given_format() {
    let dir = tempfile::tempdir().unwrap();
    let format = FlowFormat::from_log_format(
        "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${tcp-flags}",
    )
    .unwrap();
    let ev = |group: &str, stream: &str, ts: i64, msg: &str| {
        serde_json::json!({"logGroup": group, "logStream": stream, "timestamp": ts, "message": msg}).to_string()
    };
    let text = [
        ev("/vpc/a", "eni-1-all", 1_000, "3 111122223333 eni-1 10.0.0.1 10.0.0.2 443 ACCEPT 2"),
        ev("/vpc/a", "eni-1-all", 2_000, "3 111122223333 eni-1 10.0.0.1 10.0.0.2 443 ACCEPT 2"),
        ev("/vpc/b", "eni-2-all", 3_000, "3 444455556666 eni-2 10.0.0.2 10.0.0.1 443 REJECT 18"),
        "{not json".to_owned(),
        ev("/vpc/b", "eni-2-all", 4_000, "too short"),
    ]
    .join("\n");
    std::fs::write(dir.path().join("export.jsonl"), text).unwrap();
    let options = LocalOptions { log_format: format, ..LocalOptions::default() };
    let out = query(dir.path(), "stats count(*) as n, max(tcpFlags) as f by @log, @logStream", None, &options).unwrap();
    assert_eq!(
        rows(&out),
        "@log=111122223333:/vpc/a @logStream=eni-1-all n=2 f=2\n@log=444455556666:/vpc/b @logStream=eni-2-all n=2 f=18"
    );
    let lines: Vec<Option<u64>> = out.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(4), Some(5)]);
    let out = query(dir.path(), "stats count(*) as n", Some(TimeWindow { start: 2, end: 3 }), &options).unwrap();
    assert_eq!(rows(&out), "n=2");
}

#[test]
fn missing_or_empty_inputs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let q = "stats count(*)";
    assert!(matches!(
        query(&dir.path().join("nope"), q, None, &LocalOptions::default()),
        Err(LocalError::NotFound { .. })
    ));
    std::fs::write(dir.path().join("truth.json"), "{}").unwrap();
    assert!(matches!(query(dir.path(), q, None, &LocalOptions::default()), Err(LocalError::NoFiles { .. })));
}

#[test]
fn files_larger_than_a_chunk_keep_every_record_and_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // About 1.3 MB of text, so several chunks, with one damaged line far in.
    let mut text = format!("{HEADER}\n");
    for i in 0..14_000u32 {
        if i == 12_345 {
            text.push_str("2 123456789012 eni-a cut short\n");
        }
        let action = if i % 4 == 0 { "REJECT" } else { "ACCEPT" };
        text.push_str(&line("eni-a", "10.0.0.1", "10.0.0.2", 1000 + (i % 7) as u16, T0, action));
        text.push('\n');
    }
    write_gz(&s3_path(root, "123456789012", "fl-1", "20240506T0010Z"), &text);
    for (query_text, want) in [
        // The literal prefilter path and the split-every-line path.
        (r#"filter action = "REJECT" | stats count(*) as n"#, "n=3500"),
        ("stats count(*) as n, sum(dstPort) as ports", "n=14000 ports=14042000"),
    ] {
        let out = query(root, query_text, None, &LocalOptions::default());
        let out = out.unwrap();
        assert_eq!(rows(&out), want, "{query_text}");
        assert_eq!(out.result.statistics.records_scanned, 14_000, "{query_text}");
        assert_eq!(out.bad_lines, 1, "{query_text}");
        // Line 1 is the header; the damaged line comes after 12,345 records.
        assert_eq!(out.problems[0].line, Some(12_347), "{query_text}");
    }
}

/// The plan of the files under `root` for `servers` over `window`, cut into `windows`.
fn files_plan(root: &Path, servers: &[&str], window: TimeWindow, windows: usize) -> QueryPlan {
    let servers = servers.iter().map(|s| s.parse().unwrap()).collect();
    let options = PlanOptions { chunk_size: 50, windows, row_limit: 10_000, max_in_flight: 1 };
    QueryPlan::for_objects(Objects::Dir(root.to_path_buf()), &servers, &BTreeSet::new(), window, &options).unwrap()
}

#[test]
fn servers_on_secondary_addresses_are_found_through_the_packet_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A cluster listener on the db ENI's secondary address 10.0.0.80 (primary 10.0.0.8): the
    // v5 record shows the primary in dstaddr and the listener in pkt-dstaddr. A v2 file beside
    // it has no packet addresses at all.
    let v5 = "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-srcaddr pkt-dstaddr";
    let rec = |dst: &str, pkt_dst: &str, action: &str| {
        format!("5 eni-db 10.0.0.7 {dst} 50000 1433 6 3 156 {T0} {} {action} OK 10.0.0.7 {pkt_dst}", T0 + 20)
    };
    let text = format!("{v5}\n{}\n{}\n", rec("10.0.0.8", "10.0.0.80", "REJECT"), rec("10.0.0.8", "10.0.0.8", "ACCEPT"));
    write_gz(&s3_path(root, "123456789012", "fl-5", "20240506T0010Z"), &text);
    let v2 = format!("{HEADER}\n{}\n", line("eni-app", "10.0.0.7", "10.0.0.80", 1433, T0, "REJECT"));
    write_gz(&s3_path(root, "123456789012", "fl-2", "20240506T0010Z"), &v2);

    let plan = files_plan(root, &["10.0.0.80"], TimeWindow { start: T0 - 600, end: T0 + 600 }, 1);
    let data = files::run(&plan, false, None, &Silent).unwrap();
    let mut found: Vec<(String, String, String)> = data
        .aggregates
        .iter()
        .map(|a| (a.interface_id.to_string(), a.dst.to_string(), format!("{:?}", a.action)))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("eni-app".to_owned(), "10.0.0.80".to_owned(), "Reject".to_owned()),
            ("eni-db".to_owned(), "10.0.0.80".to_owned(), "Reject".to_owned()),
        ],
        "the record to the primary address is not the listener's"
    );
}

/// A watch's next cycle leaves out the objects the last one read: they are not opened, not
/// counted as skipped by name, and a new object beside them is read alone.
#[test]
fn objects_read_before_are_not_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let object = |fl: &str, eni: &str| {
        let path = s3_path(root, "123456789012", fl, "20240506T0010Z");
        write_gz(&path, &format!("{HEADER}\n{}\n", line(eni, "10.0.0.7", "10.0.0.8", 1433, T0 - 100, "REJECT")));
        path.display().to_string()
    };
    let enis = |data: &FlowData| data.aggregates.iter().map(|a| a.interface_id.to_string()).collect::<Vec<_>>();
    let (a, b) = (object("fl-1", "eni-a"), object("fl-2", "eni-b"));
    // Two windows, each reading both objects: each is named once.
    let plan = files_plan(root, &["10.0.0.8"], TimeWindow { start: T0 - 600, end: T0 + 600 }, 2);
    let first = files::run(&plan, false, None, &Silent).unwrap();
    assert_eq!(enis(&first), ["eni-a", "eni-b"]);
    assert_eq!(first.objects_read, [a, b]);

    let next = QueryPlan { read_before: Arc::new(first.objects_read.iter().cloned().collect()), ..plan };
    let second = files::run(&next, false, None, &Silent).unwrap();
    assert!(second.aggregates.is_empty() && second.objects_read.is_empty(), "{second:?}");
    assert_eq!((second.stats.bytes_scanned, second.stats.records_scanned, second.stats.objects_skipped), (0, 0, 0));

    let c = object("fl-3", "eni-c");
    let third = files::run(&next, false, None, &Silent).unwrap();
    assert_eq!(enis(&third), ["eni-c"]);
    assert_eq!(third.objects_read, [c]);
    assert!(third.stats.bytes_scanned > 0);
}

/// A 3 MiB line with no newline inside, between two records: reported with its line number and
/// skipped to its end, the records around it read. A link to /dev/zero (never ends, never a
/// newline) and a FIFO (opening it would wait for a writer) are refused unread.
#[test]
fn overlong_lines_and_files_that_are_not_files_are_damage_not_hangs() {
    let dir = tree();
    let root = dir.path();
    let long = "x".repeat(3 << 20);
    write_gz(
        &s3_path(root, "123456789012", "fl-6", "20240506T0015Z"),
        &format!(
            "{HEADER}\n{}\n{long}\n{}\n",
            line("eni-f", "10.0.0.1", "10.0.0.2", 22, T0, "REJECT"),
            line("eni-f", "10.0.0.1", "10.0.0.2", 22, T0, "REJECT")
        ),
    );
    let zero = s3_path(root, "123456789012", "fl-7", "20240506T0015Z");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let fifo = s3_path(root, "123456789012", "fl-8", "20240506T0015Z");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());

    let text = r#"filter action = "REJECT" | stats count(*) as n by interfaceId"#;
    let out = query(root, text, None, &LocalOptions::default()).unwrap();
    let joined = problems(&out);
    assert!(
        joined
            .contains("fl-6_20240506T0015Z_abcd1234.log.gz:Some(3): a line longer than 1 MiB is not a flow-log record"),
        "{joined}"
    );
    assert!(joined.contains("fl-7_20240506T0015Z_abcd1234.log.gz:None: not a regular file"), "{joined}");
    assert!(joined.contains("fl-8_20240506T0015Z_abcd1234.log.gz:None: not a regular file"), "{joined}");
    assert!(rows(&out).contains("interfaceId=eni-f n=2"), "{}", rows(&out));
}
