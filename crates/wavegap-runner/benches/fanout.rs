//! The fan-out benchmark (`just bench-fanout`): a wave over 120 log groups and 3 windows
//! against the test endpoint with 2 s of query latency.
//!
//! Targets (issue "Logs Insights fan-out"): wall time < 1.5 × the latency of the rounds of
//! chunks the in-flight limit allows (`ceil(queries / max_in_flight) × latency`), and bytes
//! scanned ≤ 1.05 × the bytes of the window's events. Exits non-zero when a target is missed.
//!
//! Usage: `cargo bench -p wavegap-runner --bench fanout -- DATA_DIR` where `DATA_DIR` holds
//! `gen_flowlogs.py --format cwl` output (`cwl/*.jsonl` and `waves/wave-01.ips`).

#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use wavegap_core::flowlog::FlowFormat;
use wavegap_runner::cloudwatch::{self, ExecOptions};
use wavegap_runner::plan::{LogGroupTarget, PlanOptions, QueryPlan};
use wavegap_runner::progress::Silent;
use wavegap_testsupport::{Faults, Fixture, TestEndpoint};

const GROUPS: usize = 120;
const WINDOWS: usize = 3;
const LATENCY: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() {
    let Some(dir) = std::env::args().skip(1).find(|a| !a.starts_with("--")).map(PathBuf::from) else {
        eprintln!("usage: fanout DATA_DIR (gen_flowlogs.py --format cwl output)");
        std::process::exit(2);
    };
    let fixture = Fixture::load_cwl(&dir.join("cwl"), &FlowFormat::default_v2())
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .spread("/bench/flowlogs/", GROUPS);
    let ips = std::fs::read_to_string(dir.join("waves/wave-01.ips")).expect("waves/wave-01.ips");
    let servers: BTreeSet<IpAddr> = ips.split_whitespace().filter_map(|s| s.parse().ok()).collect();
    let networks: BTreeSet<IpNet> =
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].iter().map(|n| n.parse().unwrap()).collect();
    let window = fixture.span().expect("events");
    let targets: Vec<LogGroupTarget> = fixture
        .groups
        .values()
        .map(|g| LogGroupTarget { account: None, name: g.name.clone(), format: g.format.clone(), flow_logs: vec![] })
        .collect();
    let events: usize = fixture.groups.values().map(|g| g.events.len()).sum();
    let window_bytes = fixture.event_bytes(fixture.groups.keys().map(String::as_str), window);
    println!(
        "{} log groups, {events} events, {:.1} MB in the window, {} servers, latency {LATENCY:?}",
        fixture.groups.len(),
        window_bytes as f64 / 1e6,
        servers.len()
    );
    let endpoint = TestEndpoint::start(fixture, Faults { latency: LATENCY, ..Faults::default() }).await.unwrap();

    println!("| in flight | queries | rounds | ideal | wall | wall / ideal | bytes scanned / window bytes | rows |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut ok = true;
    for max_in_flight in [20, 4] {
        let options = PlanOptions { chunk_size: 50, windows: WINDOWS, row_limit: 10_000, max_in_flight };
        let plan = QueryPlan::from_targets(&targets, &servers, &networks, window, &options).unwrap();
        let queries = plan.query_count();
        let rounds = queries.div_ceil(max_in_flight);
        let ideal = LATENCY * u32::try_from(rounds).unwrap();
        let t = Instant::now();
        let data = cloudwatch::run(
            &endpoint.client().into(),
            &plan,
            &ExecOptions::default(),
            Arc::new(Silent),
            std::future::pending(),
        )
        .await
        .expect("run");
        let wall = t.elapsed();
        let time_ratio = wall.as_secs_f64() / ideal.as_secs_f64();
        let bytes_ratio = data.stats.bytes_scanned as f64 / window_bytes as f64;
        println!(
            "| {max_in_flight} | {queries} | {rounds} | {:.1} s | {:.2} s | {time_ratio:.2} | {bytes_ratio:.3} | {} aggregates |",
            ideal.as_secs_f64(),
            wall.as_secs_f64(),
            data.aggregates.len()
        );
        ok &= time_ratio < 1.5 && bytes_ratio <= 1.05 && data.gaps.is_empty();
    }
    println!("targets: wall / ideal < 1.5, bytes ratio <= 1.05: {}", if ok { "MET" } else { "MISSED" });
    if !ok {
        std::process::exit(1);
    }
}
