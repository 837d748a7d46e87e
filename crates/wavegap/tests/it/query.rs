//! `wavegap query` over a small flow-log tree: output formats, statistics on stderr, exit codes.

use std::io::Write;
use std::path::Path;

use crate::{stderr, stdout, wavegap};

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/06/123456789012_vpcflowlogs_us-east-1_fl-1_20240506T0010Z_ab.log.gz");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
    writeln!(gz, "{HEADER}").unwrap();
    writeln!(gz, "2 123456789012 eni-a 10.0.0.7 10.0.0.8 56691 1433 6 3 156 1714953732 1714953753 REJECT OK").unwrap();
    writeln!(gz, "2 123456789012 eni-a 10.0.0.7 10.0.0.8 56692 1433 6 3 156 1714953792 1714953813 REJECT OK").unwrap();
    writeln!(gz, "2 123456789012 eni-b 10.0.0.6, 10.0.0.9 1 2 6 3 156 1714953792 1714953813 ACCEPT OK").unwrap();
    writeln!(gz, "garbage").unwrap();
    gz.finish().unwrap();
    dir
}

fn query(dir: &Path, extra: &[&str]) -> std::process::Output {
    let files = dir.to_str().unwrap();
    let mut args = vec!["query", "stats count(*) as records by srcAddr, dstPort | sort records desc", "--files", files];
    args.extend_from_slice(extra);
    wavegap(dir, &args)
}

#[test]
fn csv_json_and_statistics() {
    let dir = tree();
    let out = query(dir.path(), &["--output", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "srcAddr,dstPort,records\n10.0.0.7,1433,2\n\"10.0.0.6,\",2,1\n");
    let err = stderr(&out);
    assert!(err.contains("records scanned 3, matched 3"), "{err}");
    assert!(err.contains(":5: not a record of the header's 14 fields"), "{err}");

    let out = query(dir.path(), &["--output", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["results"][0][2], serde_json::json!({"field": "records", "value": "2"}));
    assert_eq!(doc["statistics"]["recordsMatched"], 3);

    let out =
        query(dir.path(), &["--output", "table", "--start", "2024-05-06T00:03:00Z", "--end", "2024-05-06T00:10:00Z"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("srcAddr") && table.contains("10.0.0.6,"), "{table}");
    assert!(stderr(&out).contains("records scanned 3, matched 2"), "{}", stderr(&out));
}

#[test]
fn a_missing_value_is_an_empty_csv_field_and_left_out_of_json() {
    let dir = tree();
    let files = dir.path().to_str().unwrap();
    let text = "fields srcAddr, nothing, dstPort | filter dstPort = 1433 | limit 1";
    let out = wavegap(dir.path(), &["query", text, "--files", files, "--output", "csv"]);
    assert_eq!(stdout(&out), "srcAddr,nothing,dstPort\n10.0.0.7,,1433\n");
    let out = wavegap(dir.path(), &["query", text, "--files", files, "--output", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["columns"], serde_json::json!(["srcAddr", "nothing", "dstPort"]));
    assert_eq!(
        doc["results"],
        serde_json::json!([[{"field": "srcAddr", "value": "10.0.0.7"}, {"field": "dstPort", "value": "1433"}]])
    );
}

#[test]
fn exit_codes() {
    let dir = tree();
    let out = wavegap(dir.path(), &["query", "filter srcAddr = ", "--files", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 1, column 18"), "{}", stderr(&out));
    let out = wavegap(dir.path(), &["query", "stats count(*)", "--files", "nope"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("`nope` does not exist"), "{}", stderr(&out));
    let out = query(dir.path(), &["--strict"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("1 problem(s)"), "{}", stderr(&out));
    let out = query(dir.path(), &["--start", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    // 4,500 nested parentheses: a located error and exit 2, never a stack overflow.
    let deep = format!("filter {}srcPort = 1{}", "(".repeat(4_500), ")".repeat(4_500));
    let out = wavegap(dir.path(), &["query", &deep, "--files", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("nests deeper than 128 levels"), "{}", stderr(&out));
}
