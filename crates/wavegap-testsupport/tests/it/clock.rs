//! The ingestion clock: a query sees only what CloudWatch Logs had ingested when it started,
//! and `Fixture::bytes_in` is the `bytesScanned` of a query over all events.
//!
//! The SDK clients come from `TestEndpoint::client`, which sets static credentials and a
//! region itself: nothing reads the environment or asks EC2 instance metadata, so these tests
//! need no `AWS_EC2_METADATA_DISABLED`.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use wavegap_core::flow::TimeWindow;
use wavegap_core::flowlog::FlowFormat;
use wavegap_testsupport::{Faults, Fixture, TestEndpoint};

/// 2024-05-06 00:00:00 UTC, in seconds.
const T: i64 = 1_714_953_600;
/// Flow logs reach CloudWatch Logs minutes after their records start.
const DELAY_MS: i64 = 5 * 60 * 1000;
const QUERY: &str = "fields @message, toMillis(@ingestionTime) as ingested";

fn line(eni: &str, dstport: u16, start: i64) -> String {
    format!("2 123456789012 {eni} 10.0.0.7 10.0.0.8 50000 {dstport} 6 3 156 {start} {} ACCEPT OK", start + 20)
}

/// `/fl/a`: one record at `T` ingested `DELAY_MS` later, one at `T + 60` ingested at once.
/// `/fl/b`: one record at `T + 30`. `/fl/c`: one record at `T + 10` ingested late, and one
/// outside every window used here.
fn fixture() -> Fixture {
    let mut f = Fixture::new();
    let v2 = FlowFormat::default_v2();
    f.add_event_ingested("/fl/a", &v2, "eni-a-all", T * 1000, T * 1000 + DELAY_MS, &line("eni-a", 443, T));
    f.add_event("/fl/a", &v2, "eni-a-all", (T + 60) * 1000, &line("eni-a", 22, T + 60));
    f.add_event("/fl/b", &v2, "eni-b-all", (T + 30) * 1000, &line("eni-b", 5432, T + 30));
    f.add_event_ingested("/fl/c", &v2, "eni-c-all", (T + 10) * 1000, (T + 900) * 1000, &line("eni-c", 8443, T + 10));
    f.add_event("/fl/c", &v2, "eni-c-all", (T + 7200) * 1000, &line("eni-c", 53, T + 7200));
    f.sort();
    f
}

/// What one finished query gave back.
#[derive(Debug)]
struct Answer {
    /// `(@message, ingested)` per row.
    rows: Vec<(String, String)>,
    bytes_scanned: u64,
}

/// `bytesScanned` comes as a JSON number, which the SDK reads as `f64`; the endpoint only ever
/// counts whole bytes.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn whole(bytes: f64) -> u64 {
    assert!(bytes >= 0.0 && bytes.fract() == 0.0, "bytesScanned {bytes}");
    bytes as u64
}

/// Starts the query and polls it to `Complete`.
async fn query(endpoint: &TestEndpoint, groups: &[&str], window: TimeWindow) -> Answer {
    let client = endpoint.client();
    let id = start(&client, groups, window).await;
    finish(&client, &id).await
}

async fn start(client: &aws_sdk_cloudwatchlogs::Client, groups: &[&str], window: TimeWindow) -> String {
    let started = client
        .start_query()
        .set_log_group_names(Some(groups.iter().map(|g| (*g).to_owned()).collect()))
        .start_time(window.start)
        .end_time(window.end)
        .query_string(QUERY)
        .send()
        .await
        .unwrap();
    started.query_id().unwrap().to_owned()
}

async fn finish(client: &aws_sdk_cloudwatchlogs::Client, id: &str) -> Answer {
    for _ in 0..200 {
        let out = client.get_query_results().query_id(id).send().await.unwrap();
        match out.status() {
            Some(QueryStatus::Complete) => {
                let value = |row: &[aws_sdk_cloudwatchlogs::types::ResultField], name: &str| {
                    row.iter().find(|f| f.field() == Some(name)).and_then(|f| f.value()).unwrap_or_default().to_owned()
                };
                let rows = out.results().iter().map(|row| (value(row, "@message"), value(row, "ingested"))).collect();
                return Answer { rows, bytes_scanned: whole(out.statistics().unwrap().bytes_scanned()) };
            }
            Some(QueryStatus::Scheduled | QueryStatus::Running) => tokio::time::sleep(Duration::from_millis(10)).await,
            other => panic!("query {id} ended {other:?}"),
        }
    }
    panic!("query {id} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_appears_once_the_clock_passes_its_ingestion_time() {
    let f = fixture();
    let endpoint = TestEndpoint::start(f, Faults::default()).await.unwrap();
    let window = TimeWindow { start: T, end: T };
    let ingested = T * 1000 + DELAY_MS;

    // Its record has started, but CloudWatch Logs has not delivered it yet.
    endpoint.set_clock(Some(ingested - 1));
    let before = query(&endpoint, &["/fl/a"], window).await;
    assert!(before.rows.is_empty(), "{before:?}");
    assert_eq!(before.bytes_scanned, 0);

    // Ingestion time is inclusive, and `@ingestionTime` is the event's own, in milliseconds.
    endpoint.set_clock(Some(ingested));
    let after = query(&endpoint, &["/fl/a"], window).await;
    let message = line("eni-a", 443, T);
    assert_eq!(after.rows, [(message.clone(), ingested.to_string())]);
    assert_eq!(after.bytes_scanned, message.len() as u64);
    assert_eq!(after.bytes_scanned, endpoint.fixture().bytes_in(&["/fl/a"], window));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_sees_what_was_ingested_when_it_started() {
    let f = fixture();
    let latency = Faults { latency: Duration::from_millis(150), ..Faults::default() };
    let endpoint = TestEndpoint::start(f, latency).await.unwrap();
    let window = TimeWindow { start: T, end: T + 60 };
    let client = endpoint.client();

    endpoint.set_clock(Some(T * 1000 + DELAY_MS - 1));
    let id = start(&client, &["/fl/a"], window).await;
    // The clock passes the late event while the query is still running: too late for it.
    endpoint.set_clock(Some(T * 1000 + DELAY_MS));
    let early = finish(&client, &id).await;
    let on_time = line("eni-a", 22, T + 60);
    assert_eq!(early.rows, [(on_time.clone(), ((T + 60) * 1000).to_string())]);
    assert_eq!(early.bytes_scanned, on_time.len() as u64);

    let late = query(&endpoint, &["/fl/a"], window).await;
    assert_eq!(late.rows.len(), 2, "{late:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_in_is_the_bytes_scanned_of_a_query_without_a_clock() {
    let f = fixture();
    let endpoint = TestEndpoint::start(f.clone(), Faults::default()).await.unwrap();
    // Late-ingested events count: without a clock every event is there.
    let window = TimeWindow { start: T, end: T + 3599 };
    let groups = ["/fl/a", "/fl/c"];
    let answer = query(&endpoint, &groups, window).await;
    assert_eq!(answer.rows.len(), 3, "{answer:?}");
    let expected = [line("eni-a", 443, T), line("eni-a", 22, T + 60), line("eni-c", 8443, T + 10)];
    assert_eq!(f.bytes_in(&groups, window), expected.iter().map(|l| l.len() as u64).sum::<u64>());
    assert_eq!(answer.bytes_scanned, f.bytes_in(&groups, window));
    // The clock changes what a query sees, never what `bytes_in` counts.
    endpoint.set_clock(Some(T * 1000));
    assert!(query(&endpoint, &groups, window).await.bytes_scanned < f.bytes_in(&groups, window));
    assert_eq!(f.bytes_in(&["/fl/b"], window), line("eni-b", 5432, T + 30).len() as u64);
}
