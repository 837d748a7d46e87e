//! Parquet flow-log objects answer as the text objects of the same records: generated trees
//! rewritten by the test support's writer, a file DuckDB wrote, and damaged files.

use std::path::{Path, PathBuf};
use std::process::Command;

use wavegap_insights::Query;
use wavegap_runner::local::{LocalOptions, LocalOutput, run_query};
use wavegap_testsupport::parquet;

use crate::accuracy::{generator, python, repo, run};

/// Every `.log.gz` under `from`, rewritten as a `.log.parquet` at the same place under `to`.
fn parquet_twin(from: &Path, to: &Path, rows_per_group: usize) -> usize {
    let mut written = 0;
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".log.gz") {
                let target =
                    to.join(path.parent().unwrap().strip_prefix(from).unwrap()).join(parquet::object_name(&name));
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::write(&target, parquet::from_text_object(&std::fs::read(&path).unwrap(), rows_per_group))
                    .unwrap();
                written += 1;
            }
        }
    }
    written
}

fn answer(root: &Path, text: &str) -> LocalOutput {
    run_query(root, &Query::parse(text).unwrap(), None, &LocalOptions::default()).unwrap()
}

fn rows(out: &LocalOutput) -> Vec<String> {
    out.result.rows().map(|r| r.fields().map(|(f, v)| format!("{f}={v}")).collect::<Vec<_>>().join(" ")).collect()
}

#[test]
fn parquet_objects_answer_every_query_as_their_text_objects() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text");
    run(Command::new("python3")
        .arg(generator())
        .args(["--scale", "small", "--seed", "11", "--hours", "1", "--fields", "v5", "--out"])
        .arg(&text));
    let columnar = dir.path().join("parquet");
    // Row groups smaller than a batch and a batch smaller than a row group both occur.
    assert!(parquet_twin(&text, &columnar, 20_000) > 10);
    let queries = [
        // The report's shape: subnet tests, a computed key, @log and the interface.
        r#"fields least(srcPort, dstPort) as port
| filter isIpv4InSubnet(srcAddr, "10.0.0.0/8") or isIpv4InSubnet(dstAddr, "10.0.0.0/8")
| stats count(*) as records, sum(packets) as packets, sum(bytes) as bytes, min(startTime) as firstSeen,
  max(endTime) as lastSeen by srcAddr, dstAddr, port, protocol, action, interfaceId, @log
| sort records desc, srcAddr, dstAddr, port | limit 10000"#,
        // v5 fields, the packet addresses with their fallback, text and integer columns.
        "stats count(*) as n, sum(tcpFlags) as flags by coalesce(pktSrcAddr, srcAddr) as src, flowDirection, \
         trafficPath, type | sort n desc, src | limit 10000",
        // Whole records: @message, @timestamp and @logStream come from every field.
        r#"parse @message "* * * * * * * * *" as v, account, eni, src, dst, sport, dport, proto, rest
| filter action = "REJECT" | fields @timestamp, @logStream, @message, src, dport
| sort @timestamp, @message | limit 5000"#,
        r#"filter logStatus != "OK" | stats count(*) as records by interfaceId, logStatus | sort interfaceId, logStatus"#,
        "stats count(*) as records, count_distinct(dstAddr) as peers by bin(5m) as t, action | sort t, action",
    ];
    for query in queries {
        let (want, got) = (answer(&text, query), answer(&columnar, query));
        assert_eq!(got.problem_count, 0, "{query}: {:?}", got.problems);
        assert_eq!(got.read.len(), want.read.len());
        assert!(!want.result.is_empty(), "{query}: the data exercises it");
        assert_eq!(rows(&got), rows(&want), "{query}");
        assert_eq!(got.result.statistics.records_scanned, want.result.statistics.records_scanned, "{query}");
    }
}

/// DuckDB's Parquet writer, not ours: INT64 for every number, its own row groups, plus a
/// DOUBLE column no flow log has.
fn duckdb_parquet(text_object: &Path, out: &Path) {
    let script = r#"
import sys, duckdb
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute(f"""COPY (SELECT *, 0.25::DOUBLE AS rtt FROM read_csv('{src}', delim=' ', header=true, nullstr='-'))
    TO '{out}' (FORMAT parquet, COMPRESSION gzip)""")
"#;
    run(Command::new(python()).args(["-c", script]).arg(text_object).arg(out));
}

#[test]
fn a_parquet_object_duckdb_wrote_reads_as_its_text_object_and_only_the_columns_read() {
    let demo = repo().join("waves/demo/flowlogs");
    let object = walk(&demo).into_iter().find(|p| p.to_string_lossy().ends_with(".log.gz")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = object.file_name().unwrap().to_string_lossy().into_owned();
    let text = dir.path().join("text");
    std::fs::create_dir(&text).unwrap();
    std::fs::copy(&object, text.join(&name)).unwrap();
    // DuckDB's column names are the header's; a Parquet object's have `_` for `-`.
    let plain = dir.path().join("one.log");
    let text_of = flate_text(&object);
    let (header, records) = text_of.split_once('\n').unwrap();
    std::fs::write(&plain, format!("{}\n{records}", header.replace('-', "_"))).unwrap();
    let columnar = dir.path().join("columnar");
    std::fs::create_dir(&columnar).unwrap();
    duckdb_parquet(&plain, &columnar.join(parquet::object_name(&name)));

    let query = "stats count(*) as records, sum(bytes) as bytes by srcAddr, dstAddr, dstPort, action, @log \
                 | sort records desc, srcAddr, dstAddr, dstPort";
    let (want, got) = (answer(&text, query), answer(&columnar, query));
    assert!(!want.result.is_empty());
    // The one problem is the notice that `rtt` is no flow-log field.
    assert_eq!(got.problem_count, 1, "{:?}", got.problems);
    assert!(got.problems[0].what.contains("unknown field `rtt` in the schema"), "{:?}", got.problems);
    assert!(got.damaged.is_empty(), "{:?}", got.damaged);
    assert_eq!(rows(&got), rows(&want));

    // A query that reads `rtt` needs the DOUBLE column: the file is skipped and says why.
    let out = answer(&columnar, "stats count(*) by rtt");
    assert_eq!(out.damaged.len(), 1);
    assert!(out.damaged[0].what.contains("column `rtt` is of type DOUBLE"), "{:?}", out.damaged);
    assert!(out.result.is_empty());
}

#[test]
fn damaged_parquet_objects_are_named_and_the_rest_is_read() {
    let demo = repo().join("waves/demo/flowlogs");
    let dir = tempfile::tempdir().unwrap();
    let columnar = dir.path().join("columnar");
    let files = parquet_twin(&demo, &columnar, 5);
    let mut objects: Vec<PathBuf> = walk(&columnar);
    objects.sort();
    let (cut, garbage) = (&objects[0], &objects[1]);
    let bytes = std::fs::read(cut).unwrap();
    std::fs::write(cut, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(garbage, b"version account-id\n2 1\n").unwrap();

    let out = answer(&columnar, "stats count(*) as records");
    assert_eq!(out.read.len(), files);
    let mut damaged: Vec<(PathBuf, String)> = out.damaged.iter().map(|d| (d.file.clone(), d.what.clone())).collect();
    damaged.sort();
    assert_eq!(damaged.len(), 2, "{damaged:?}");
    for (file, what) in &damaged {
        assert!([cut, garbage].contains(&file), "{file:?}");
        assert!(what.starts_with("not a readable Parquet file"), "{what}");
    }
    let all = answer(&demo, "stats count(*) as records");
    let count = |o: &LocalOutput| o.result.rows().next().unwrap().get("records").unwrap().parse::<u64>().unwrap();
    assert!(count(&out) > 0 && count(&out) < count(&all));
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { out.push(path) }
        }
    }
    out.sort();
    out
}

fn flate_text(path: &Path) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    text
}
