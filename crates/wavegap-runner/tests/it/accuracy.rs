//! The engine and the local source against an independent engine: DuckDB answers the same
//! questions over the same generated S3 tree (`tests/duckdb_answers.py`), computed here, so a
//! missing Python or DuckDB fails the test rather than skipping it.

use std::path::{Path, PathBuf};
use std::process::Command;

use wavegap_insights::Query;
use wavegap_runner::local::{LocalOptions, run_query};

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The generator of `../shared/bench` (next to the repository), or `$WAVEGAP_BENCH_DIR`.
pub(crate) fn generator() -> PathBuf {
    let dir = std::env::var_os("WAVEGAP_BENCH_DIR").map_or_else(|| repo().join("../shared/bench"), PathBuf::from);
    let path = dir.join("gen_flowlogs.py");
    assert!(path.exists(), "{} is missing; set WAVEGAP_BENCH_DIR to the bench kit", path.display());
    path
}

pub(crate) fn python() -> PathBuf {
    let path = repo().join(".venv/bin/python");
    assert!(path.exists(), "{} is missing: run scripts/setup-python.sh (or `just setup`)", path.display());
    path
}

pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Two values agree when equal as text or, both numbers, within 1e-9 relative.
fn same(mine: Option<&str>, theirs: Option<&str>) -> bool {
    match (mine, theirs) {
        (Some(x), Some(y)) if x == y => true,
        (Some(x), Some(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) => (p - q).abs() <= 1e-9 * p.abs().max(q.abs()),
            _ => false,
        },
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn engine_agrees_with_duckdb_on_generated_flow_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    run(Command::new("python3")
        .arg(generator())
        .args(["--scale", "small", "--seed", "7", "--out"])
        .arg(data)
        .arg("--truth")
        .arg(data.join("truth.json")));
    let ips_path = data.join("waves/wave-01.ips");
    let ips: Vec<String> =
        std::fs::read_to_string(&ips_path).unwrap().lines().map(|l| format!("\"{}\"", l.trim())).collect();
    let ips = ips.join(",");
    let answers: serde_json::Value = serde_json::from_str(&run(Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/duckdb_answers.py"))
        .arg(data)
        .arg(&ips_path)))
    .unwrap();

    let queries = [
        ("sample_packets", "stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 15".to_owned()),
        ("sample_subnet_unchanged", r#"filter isIpv4InSubnet(srcAddr, "192.0.2.0/24") | stats sum(bytes) as bytesTransferred by dstAddr | sort bytesTransferred desc | limit 15"#.to_owned()),
        ("sample_subnet", r#"filter isIpv4InSubnet(srcAddr, "10.0.0.0/16") | stats sum(bytes) as bytesTransferred by dstAddr | sort bytesTransferred desc | limit 15"#.to_owned()),
        ("sample_udp", "filter protocol=17 | stats count(*) by srcAddr".to_owned()),
        ("sample_skipdata", r#"filter logStatus="SKIPDATA" | stats count(*) by bin(1h) as t | sort t"#.to_owned()),
        ("sample_bin_reject", r#"filter action="REJECT" | stats count(*) by bin(5m) as t | sort t"#.to_owned()),
        ("sample_like", "filter (dstAddr like '10.0.20.' and srcAddr like '10.0.10.') | stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10".to_owned()),
        ("triage_unchanged", r#"filter action="REJECT" and dstAddr like /^(10\.|192\.168\.)/ and srcAddr like /^(10\.|192\.168\.)/
  and (srcAddr = "10.0.0.6" or dstAddr = "10.0.0.6" or srcAddr = "10.0.0.7" or dstAddr = "10.0.0.7")
| stats count(*) as records by srcAddr, dstAddr, dstPort, protocol
| sort records desc | limit 5"#.to_owned()),
        ("triage_wave", format!(r#"filter action="REJECT" and dstAddr like /^(10\.|192\.168\.)/ and srcAddr like /^(10\.|192\.168\.)/
  and (srcAddr in [{ips}] or dstAddr in [{ips}])
| stats count(*) as records by srcAddr, dstAddr, dstPort, protocol | sort records desc"#)),
        ("planner", format!(r#"fields least(srcPort, dstPort) as port
| filter (srcAddr in [{ips}] or dstAddr in [{ips}])
  and (isIpv4InSubnet(srcAddr, "10.0.0.0/8") or isIpv4InSubnet(srcAddr, "192.168.0.0/16") or isIpv4InSubnet(srcAddr, "172.16.0.0/12"))
| stats count(*) as records, sum(packets) as packets, sum(bytes) as bytes, min(startTime) as firstSeen, max(endTime) as lastSeen,
  min(srcPort) as minSrcPort, max(srcPort) as maxSrcPort, min(dstPort) as minDstPort, max(dstPort) as maxDstPort
  by srcAddr, dstAddr, port, protocol, action, interfaceId, @log
| limit 10000"#)),
        ("skipdata_per_eni", r#"filter logStatus = "SKIPDATA" | stats count(*) as records by interfaceId"#.to_owned()),
        ("nodata_per_eni", r#"filter logStatus = "NODATA" | stats count(*) as records by interfaceId"#.to_owned()),
        ("per_action", "stats count(*), count_distinct(dstAddr), avg(bytes), min(dstPort), max(bytes) by action".to_owned()),
    ];
    let mut compared_rows = 0;
    for (name, text) in &queries {
        let query = Query::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = run_query(data, &query, None, &LocalOptions::default()).unwrap();
        assert_eq!(out.problem_count, 0, "{name}: {:?}", out.problems);
        let want = answers[name].as_array().unwrap_or_else(|| panic!("no DuckDB answer for {name}"));
        let got = &out.result;
        assert_eq!(got.len(), want.len(), "{name}: row count");
        for (i, (row, expected)) in got.rows().zip(want).enumerate() {
            let expected = expected.as_array().unwrap();
            assert_eq!(got.columns().len(), expected.len(), "{name}: columns {:?}", got.columns());
            for ((col, mine), e) in got.columns().iter().zip(row.values()).zip(expected) {
                assert!(same(mine, e.as_str()), "{name} row {i} column {col}: engine {mine:?}, DuckDB {e}\n{text}");
            }
            compared_rows += 1;
        }
    }
    assert!(compared_rows > 3000, "the data set exercises the queries ({compared_rows} rows)");
}
