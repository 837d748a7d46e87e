//! End to end: plan → `aws-sdk-cloudwatchlogs` → test endpoint (`wavegap-insights` over
//! fixture events) → flow aggregates.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use wavegap_core::flow::{FlowAggregate, FlowData, TimeWindow};
use wavegap_core::flowlog::{Action, FlowDirection, FlowFormat};
use wavegap_core::inventory::PortRange;
use wavegap_runner::RunnerError;
use wavegap_runner::cloudwatch::{self, ExecOptions};
use wavegap_runner::plan::{LogGroupTarget, PlanOptions, QueryPlan};
use wavegap_runner::progress::Silent;
use wavegap_runner::rows;
use wavegap_testsupport::{Endless, FailRule, FaultStatus, Faults, Fixture, TestEndpoint};

const WINDOW: TimeWindow = TimeWindow { start: 1000, end: 1999 };
const CUSTOM: &str = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${flow-direction}";

fn v2(eni: &str, src: &str, dst: &str, ports: (u16, u16), start: i64, action: &str) -> String {
    format!("2 123456789012 {eni} {src} {dst} {} {} 6 3 156 {start} {} {action} OK", ports.0, ports.1, start + 20)
}

/// Three log groups: two in the default format, one custom with tcp-flags and direction.
fn fixture() -> Fixture {
    let mut f = Fixture::new();
    let d = FlowFormat::default_v2();
    let c = FlowFormat::from_log_format(CUSTOM).unwrap();
    let mut add = |group: &str, format: &FlowFormat, eni: &str, start: i64, line: String| {
        f.add_event(group, format, &format!("{eni}-all"), start * 1000, &line);
    };
    add("/fl/a", &d, "eni-app", 1000, v2("eni-app", "10.0.0.7", "10.0.0.8", (50000, 1433), 1000, "ACCEPT"));
    add("/fl/a", &d, "eni-db", 1000, v2("eni-db", "10.0.0.7", "10.0.0.8", (50000, 1433), 1000, "REJECT"));
    add("/fl/a", &d, "eni-db", 1100, v2("eni-db", "10.0.0.7", "10.0.0.8", (50001, 1433), 1100, "REJECT"));
    add("/fl/a", &d, "eni-app", 1010, v2("eni-app", "10.0.0.7", "8.8.8.8", (50002, 53), 1010, "ACCEPT"));
    add("/fl/a", &d, "eni-x", 1010, v2("eni-x", "10.9.9.9", "10.9.9.10", (50002, 22), 1010, "ACCEPT"));
    add("/fl/a", &d, "eni-db", 1200, "2 123456789012 eni-db - - - - - - - 1200 1260 - SKIPDATA".into());
    add("/fl/a", &d, "eni-app", 2500, v2("eni-app", "10.0.0.7", "10.0.0.8", (50003, 1433), 2500, "ACCEPT"));
    add("/fl/b", &d, "eni-web", 1300, v2("eni-web", "10.0.0.8", "10.0.0.6", (1433, 49152), 1300, "ACCEPT"));
    for (t, flags) in [(1400, 2), (1460, 16)] {
        let line = format!("5 eni-c 10.0.0.6 10.0.0.7 50010 8443 6 2 104 {t} {} ACCEPT OK {flags} egress", t + 30);
        add("/fl/c", &c, "eni-c", t, line);
    }
    add("/fl/c", &c, "eni-c", 1500, "5 eni-c - - - - - - - 1500 1560 - NODATA - -".into());
    f.sort();
    f
}

fn targets(f: &Fixture) -> Vec<LogGroupTarget> {
    f.groups
        .values()
        .map(|g| LogGroupTarget { account: None, name: g.name.clone(), format: g.format.clone(), flow_logs: vec![] })
        .collect()
}

fn plan(f: &Fixture, chunk_size: usize, windows: usize, row_limit: usize, max_in_flight: usize) -> QueryPlan {
    let servers: BTreeSet<IpAddr> = ["10.0.0.6", "10.0.0.7", "10.0.0.8"].iter().map(|s| s.parse().unwrap()).collect();
    let networks = BTreeSet::from(["10.0.0.0/8".parse().unwrap()]);
    let options = PlanOptions { chunk_size, windows, row_limit, max_in_flight };
    QueryPlan::from_targets(&targets(f), &servers, &networks, WINDOW, &options).unwrap()
}

fn quick() -> ExecOptions {
    ExecOptions {
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        poll_initial: Duration::from_millis(10),
        poll_max: Duration::from_millis(40),
        stop_grace: Duration::from_secs(5),
        ..ExecOptions::default()
    }
}

async fn run(endpoint: &TestEndpoint, plan: &QueryPlan) -> Result<FlowData, RunnerError> {
    cloudwatch::run(&endpoint.client().into(), plan, &quick(), Arc::new(Silent), std::future::pending()).await
}

fn agg(
    group: &str,
    eni: &str,
    flow: (&str, &str, (u16, u16, u16, u16), Action),
    counts: (u64, u64, u64),
    seen: (i64, i64),
) -> FlowAggregate {
    FlowAggregate {
        log_group: group.into(),
        interface_id: eni.into(),
        src: flow.0.parse().unwrap(),
        dst: flow.1.parse().unwrap(),
        protocol: 6,
        port: flow.2.0.min(flow.2.2),
        src_ports: Some(PortRange { from: flow.2.0, to: flow.2.1 }),
        dst_ports: Some(PortRange { from: flow.2.2, to: flow.2.3 }),
        action: flow.3,
        direction: None,
        tcp_flags: None,
        records: counts.0,
        packets: counts.1,
        bytes: counts.2,
        first_seen: seen.0,
        last_seen: seen.1,
    }
}

fn expected() -> Vec<FlowAggregate> {
    let response = agg(
        "/fl/b",
        "eni-web",
        ("10.0.0.8", "10.0.0.6", (1433, 1433, 49152, 49152), Action::Accept),
        (1, 3, 156),
        (1300, 1320),
    );
    let mut custom = agg(
        "/fl/c",
        "eni-c",
        ("10.0.0.6", "10.0.0.7", (50010, 50010, 8443, 8443), Action::Accept),
        (2, 4, 208),
        (1400, 1490),
    );
    custom.direction = Some(FlowDirection::Egress);
    custom.tcp_flags = Some(18);
    vec![
        agg(
            "/fl/a",
            "eni-app",
            ("10.0.0.7", "10.0.0.8", (50000, 50000, 1433, 1433), Action::Accept),
            (1, 3, 156),
            (1000, 1020),
        ),
        agg(
            "/fl/a",
            "eni-db",
            ("10.0.0.7", "10.0.0.8", (50000, 50001, 1433, 1433), Action::Reject),
            (2, 6, 312),
            (1000, 1120),
        ),
        response,
        custom,
    ]
}

/// The answer is complete and right; every byte was scanned once.
fn check_complete(data: &FlowData, f: &Fixture) {
    check_aggregates(data);
    assert_eq!(data.stats.bytes_scanned, f.event_bytes(f.groups.keys().map(String::as_str), WINDOW));
}

fn check_aggregates(data: &FlowData) {
    assert_eq!(data.aggregates, expected());
    assert_eq!(data.skipdata.get("eni-db"), Some(&1));
    assert_eq!(data.skipdata.len(), 1);
    assert!(data.gaps.is_empty(), "{:?}", data.gaps);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_group_wave_gives_exact_aggregates_and_statistics() {
    let f = fixture();
    let endpoint = TestEndpoint::start(
        f.clone(),
        Faults { scheduled: Duration::from_millis(30), latency: Duration::from_millis(80), ..Faults::default() },
    )
    .await
    .unwrap();
    let plan = plan(&f, 1, 1, 10_000, 4);
    assert_eq!(plan.query_count(), 3);
    let data = run(&endpoint, &plan).await.unwrap();
    check_complete(&data, &f);
    assert_eq!(data.stats.queries, 3);
    assert_eq!(data.stats.records_scanned, 10);
    assert!(data.stats.estimated_cost > 0.0);
    assert_eq!(endpoint.record().started.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_chunks_are_split_by_time_until_complete() {
    let f = fixture();
    let endpoint = TestEndpoint::start(f.clone(), Faults::default()).await.unwrap();
    // Two rows fit; the default-format chunk over the whole window returns more.
    let data = run(&endpoint, &plan(&f, 50, 1, 3, 4)).await.unwrap();
    check_aggregates(&data);
    // The truncated scans were paid for too, and the statistics say so.
    assert!(data.stats.bytes_scanned > f.event_bytes(f.groups.keys().map(String::as_str), WINDOW));
    let windows: Vec<TimeWindow> = endpoint.record().started.iter().map(|s| s.2).collect();
    assert!(windows.contains(&WINDOW));
    assert!(windows.contains(&TimeWindow { start: 1000, end: 1499 }), "{windows:?}");
    assert!(windows.len() > 2, "{windows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_and_limited_starts_are_retried() {
    let f = fixture();
    let faults = Faults {
        throttle_starts: 2,
        concurrency_cap: Some(1),
        latency: Duration::from_millis(50),
        ..Faults::default()
    };
    let endpoint = TestEndpoint::start(f.clone(), faults).await.unwrap();
    let data = run(&endpoint, &plan(&f, 1, 2, 10_000, 6)).await.unwrap();
    check_complete(&data, &f);
    let record = endpoint.record();
    assert_eq!(record.throttled, 2);
    assert!(record.limit_exceeded > 0, "{record:?}");
    assert_eq!(record.peak_running, 1);
    assert_eq!(record.started.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_timed_out_queries_are_rerun() {
    let f = fixture();
    let fail = vec![
        FailRule { log_group: "/fl/a".into(), status: FaultStatus::Failed, times: Some(2) },
        FailRule { log_group: "/fl/c".into(), status: FaultStatus::Timeout, times: Some(1) },
    ];
    let endpoint = TestEndpoint::start(f.clone(), Faults { fail, ..Faults::default() }).await.unwrap();
    let data = run(&endpoint, &plan(&f, 50, 1, 10_000, 4)).await.unwrap();
    check_complete(&data, &f);
    assert_eq!(endpoint.record().started.len(), 2 + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_that_keeps_failing_is_named_as_missing_coverage() {
    let f = fixture();
    let fail = vec![FailRule { log_group: "/fl/c".into(), status: FaultStatus::Failed, times: None }];
    let endpoint = TestEndpoint::start(f.clone(), Faults { fail, ..Faults::default() }).await.unwrap();
    let mut data = run(&endpoint, &plan(&f, 50, 1, 10_000, 4)).await.unwrap();
    assert_eq!(data.gaps.len(), 1);
    assert_eq!(data.gaps[0].log_groups, ["/fl/c"]);
    assert_eq!(data.gaps[0].window, WINDOW);
    assert_eq!(data.gaps[0].reason, "query ended Failed 3 times");
    assert_eq!(data.aggregates, expected()[..3]);

    // Once the service answers again, the one failed query is run again, alone, and its rows
    // complete the first run's.
    let plan = plan(&f, 50, 1, 10_000, 4);
    let gap = data.gaps.pop().unwrap();
    assert_eq!(gap.chunk, Some(2));
    let retry = plan.retry(&gap).unwrap();
    endpoint.set_faults(Faults::default());
    let started = endpoint.record().started.len();
    let again = run(&endpoint, &retry).await.unwrap();
    let rerun: Vec<(Vec<String>, TimeWindow)> =
        endpoint.record().started[started..].iter().map(|(_, groups, window)| (groups.clone(), *window)).collect();
    assert_eq!(rerun, [(vec!["/fl/c".to_owned()], WINDOW)]);
    let merged = rows::merge([data, again]);
    check_aggregates(&merged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_query_is_an_error_with_the_compile_message() {
    let f = fixture();
    let fail = vec![FailRule { log_group: "/fl/b".into(), status: FaultStatus::Malformed, times: None }];
    let endpoint = TestEndpoint::start(f.clone(), Faults { fail, ..Faults::default() }).await.unwrap();
    let err = run(&endpoint, &plan(&f, 50, 1, 10_000, 4)).await.unwrap_err();
    assert!(matches!(&err, RunnerError::MalformedQuery { chunk: 1, message } if message.contains("injected")), "{err}");
}

/// Runs `plan` against an endpoint with `faults`, interrupting once it has admitted
/// `started` queries; returns the error and whether the started and stopped ids agree.
async fn interrupted(faults: Faults, plan: &QueryPlan, started: usize, options: &ExecOptions) -> (RunnerError, bool) {
    let endpoint = TestEndpoint::start(fixture(), faults).await.unwrap();
    let watcher = async {
        while endpoint.record().started.len() < started {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let err = cloudwatch::run(&endpoint.client().into(), plan, options, Arc::new(Silent), watcher).await.unwrap_err();
    let record = endpoint.record();
    assert_eq!(record.started.len(), started, "the in-flight limit holds the others back");
    let started: BTreeSet<_> = record.started.iter().map(|s| s.0.clone()).collect();
    let stopped: BTreeSet<_> = record.stopped.iter().cloned().collect();
    (err, started == stopped)
}

const FOREVER: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_stops_every_running_query() {
    let faults = Faults { latency: FOREVER, ..Faults::default() };
    let (err, all_stopped) = interrupted(faults, &plan(&fixture(), 1, 2, 10_000, 4), 4, &quick()).await;
    assert!(matches!(err, RunnerError::Interrupted { stopped: 4, unanswered_starts: 0 }), "{err}");
    assert!(all_stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_whose_id_arrives_after_the_interrupt_is_stopped_too() {
    // Interrupted while every StartQuery is still in flight: the endpoint has admitted the
    // queries, the runner has no id yet.
    let faults = Faults { latency: FOREVER, start_delay: Duration::from_millis(800), ..Faults::default() };
    let (err, all_stopped) = interrupted(faults, &plan(&fixture(), 1, 1, 10_000, 4), 3, &quick()).await;
    assert!(matches!(err, RunnerError::Interrupted { stopped: 3, unanswered_starts: 0 }), "{err}");
    assert!(all_stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_whose_start_outlasts_the_stop_grace_are_found_by_their_mark_and_stopped() {
    // The endpoint runs each query at once but answers StartQuery only after 3 s; the run
    // gives up waiting after 200 ms, so it never learns the ids.
    let faults = Faults { latency: FOREVER, start_delay: Duration::from_secs(3), ..Faults::default() };
    let options = ExecOptions { stop_grace: Duration::from_millis(200), ..quick() };
    let (err, all_stopped) = interrupted(faults, &plan(&fixture(), 1, 1, 10_000, 4), 3, &options).await;
    assert!(matches!(err, RunnerError::Interrupted { stopped: 3, unanswered_starts: 0 }), "{err}");
    assert!(all_stopped, "each query was found with DescribeQueries by the run's mark");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stops_only_its_own_unanswered_queries() {
    // Another run's query of the same text is running on the same account: it is not ours.
    let f = fixture();
    let faults = Faults { latency: FOREVER, start_delay: Duration::from_secs(3), ..Faults::default() };
    let endpoint = TestEndpoint::start(f.clone(), Faults { latency: FOREVER, ..Faults::default() }).await.unwrap();
    let plan = plan(&f, 50, 1, 10_000, 4);
    let other = endpoint
        .client()
        .start_query()
        .set_log_group_names(Some(plan.chunks[0].log_groups.clone()))
        .start_time(WINDOW.start)
        .end_time(WINDOW.end)
        .query_string(wavegap_runner::plan::marked(&plan.chunks[0].query, "another-run"))
        .send()
        .await
        .unwrap();
    endpoint.set_faults(faults);
    let options = ExecOptions { stop_grace: Duration::from_millis(200), ..quick() };
    let watcher = async {
        while endpoint.record().started.len() < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let err = cloudwatch::run(&endpoint.client().into(), &plan, &options, Arc::new(Silent), watcher).await.unwrap_err();
    assert!(matches!(err, RunnerError::Interrupted { stopped: 2, unanswered_starts: 0 }), "{err}");
    let record = endpoint.record();
    assert!(!record.stopped.iter().any(|id| Some(id.as_str()) == other.query_id()), "{record:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_that_never_reaches_a_terminal_status_is_stopped_at_its_deadline_as_a_gap() {
    let f = fixture();
    for endless in [Endless::NoStatus, Endless::Unknown] {
        let endpoint =
            TestEndpoint::start(f.clone(), Faults { endless: Some(endless), ..Faults::default() }).await.unwrap();
        let options = ExecOptions { query_deadline: Duration::from_millis(300), ..quick() };
        let plan = plan(&f, 50, 1, 10_000, 4);
        let data =
            cloudwatch::run(&endpoint.client().into(), &plan, &options, Arc::new(Silent), std::future::pending())
                .await
                .unwrap();
        let record = endpoint.record();
        assert_eq!(data.gaps.len(), record.started.len(), "{endless:?}: {:?}", data.gaps);
        assert!(data.gaps.iter().all(|g| g.reason == "no terminal status after 300ms: stopped"), "{:?}", data.gaps);
        assert_eq!(record.started.len(), plan.chunks.len(), "not started again: it would wait as long");
        let started: BTreeSet<_> = record.started.iter().map(|s| s.0.clone()).collect();
        assert_eq!(started, record.stopped.iter().cloned().collect());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_rows_that_do_not_parse_are_damaged_input_naming_the_log_groups_and_window() {
    let f = fixture();
    let faults = Faults { null_values: Some("/fl/b".into()), ..Faults::default() };
    let endpoint = TestEndpoint::start(f.clone(), faults).await.unwrap();
    let data = run(&endpoint, &plan(&f, 1, 1, 10_000, 4)).await.unwrap();
    assert!(data.gaps.is_empty());
    assert_eq!(data.damaged.len(), 1, "{:?}", data.damaged);
    let d = &data.damaged[0];
    assert_eq!(d.object, format!("results of /fl/b for {}..{}", WINDOW.start, WINDOW.end));
    assert_eq!(d.problems, 1);
    assert!(d.what.contains("could not be read"), "{}", d.what);
    assert!(!data.complete());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_with_packet_addresses_is_matched_on_them() {
    // The db ENI's secondary address 10.0.0.80 is a cluster listener, the wave's server; the
    // record's dstaddr shows the ENI's primary address 10.0.0.8.
    let format = FlowFormat::from_log_format(&format!("{CUSTOM} ${{pkt-srcaddr}} ${{pkt-dstaddr}}")).unwrap();
    let mut f = Fixture::new();
    for (t, dst, pkt_dst) in [(1000, "10.0.0.8", "10.0.0.80"), (1100, "10.0.0.8", "10.0.0.8")] {
        let line =
            format!("5 eni-db 10.0.0.7 {dst} 50000 1433 6 3 156 {t} {} REJECT OK 2 ingress 10.0.0.7 {pkt_dst}", t + 20);
        f.add_event("/fl/v5", &format, "eni-db-all", t * 1000, &line);
    }
    f.sort();
    let endpoint = TestEndpoint::start(f.clone(), Faults::default()).await.unwrap();
    let servers = BTreeSet::from(["10.0.0.80".parse().unwrap()]);
    let options = PlanOptions { chunk_size: 50, windows: 1, row_limit: 10_000, max_in_flight: 1 };
    let plan = QueryPlan::from_targets(&targets(&f), &servers, &BTreeSet::new(), WINDOW, &options).unwrap();
    assert!(plan.chunks[0].query.contains("packetDstAddr in [\"10.0.0.80\"]"), "{}", plan.chunks[0].query);
    let data = run(&endpoint, &plan).await.unwrap();
    let mut want = agg(
        "/fl/v5",
        "eni-db",
        ("10.0.0.7", "10.0.0.80", (50000, 50000, 1433, 1433), Action::Reject),
        (1, 3, 156),
        (1000, 1020),
    );
    want.direction = Some(FlowDirection::Ingress);
    want.tcp_flags = Some(2);
    assert_eq!(data.aggregates, [want], "only the record to the listener");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_split_into_several_queries_count_each_flow_once() {
    // 1,000 servers, each in its own /16: too many for one query even as covering prefixes.
    let servers: BTreeSet<IpAddr> = (0..1000u32).map(|i| IpAddr::from((((i + 1) << 16) | 7).to_be_bytes())).collect();
    let (first, last) = (servers.first().unwrap().to_string(), servers.last().unwrap().to_string());
    let d = FlowFormat::default_v2();
    let mut f = Fixture::new();
    // Between servers of the first and the last part (both parts' queries return it), from
    // outside to the last part's server, and a SKIPDATA record every part returns.
    f.add_event("/fl/a", &d, "eni-1", 1_000_000, &v2("eni-1", &first, &last, (40000, 5432), 1000, "REJECT"));
    f.add_event("/fl/a", &d, "eni-1", 1_100_000, &v2("eni-1", &last, &first, (5432, 40000), 1100, "ACCEPT"));
    f.add_event("/fl/a", &d, "eni-2", 1_200_000, &v2("eni-2", "192.0.2.9", &last, (40001, 22), 1200, "REJECT"));
    f.add_event("/fl/a", &d, "eni-2", 1_300_000, "2 123456789012 eni-2 - - - - - - - 1300 1360 - SKIPDATA");
    f.add_event("/fl/a", &d, "eni-3", 1_400_000, &v2("eni-3", "192.0.2.9", "192.0.2.10", (40002, 22), 1400, "REJECT"));
    f.sort();
    let options = PlanOptions { chunk_size: 50, windows: 1, row_limit: 10_000, max_in_flight: 4 };
    let plan = QueryPlan::from_targets(&targets(&f), &servers, &BTreeSet::new(), WINDOW, &options).unwrap();
    let parts = plan.server_parts();
    assert!(parts >= 2, "{parts}");
    let endpoint = TestEndpoint::start(f.clone(), Faults::default()).await.unwrap();
    let data = run(&endpoint, &plan).await.unwrap();

    let flows: Vec<(String, String, Action, u64)> =
        data.aggregates.iter().map(|a| (a.src.to_string(), a.dst.to_string(), a.action, a.records)).collect();
    assert_eq!(
        flows,
        [
            (first.clone(), last.clone(), Action::Reject, 1),
            (last.clone(), first.clone(), Action::Accept, 1),
            ("192.0.2.9".into(), last.clone(), Action::Reject, 1),
        ]
    );
    assert_eq!(data.skipdata.get("eni-2"), Some(&1));
    assert_eq!(data.stats.queries, parts as u64);
    assert_eq!(data.stats.server_parts, parts as u64);
    // Each part scanned the log group whole: the bytes (and the cost) count every scan.
    assert_eq!(data.stats.bytes_scanned, parts as u64 * f.event_bytes(["/fl/a"], WINDOW));
}
