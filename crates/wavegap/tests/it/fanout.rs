//! `wavegap plan` and `wavegap fetch` against the local CloudWatch Logs test endpoint: the
//! real binary, the real SDK client, a clean environment.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wavegap_core::flowlog::FlowFormat;
use wavegap_testsupport::{FailRule, FaultStatus, Faults, Fixture, TestEndpoint};

const WAVE: &str = r#"
name = "e2e"
source = "cloudwatch"

[window]
start = "1970-01-01T00:16:40Z"
end = "1970-01-01T00:33:19Z"

[networks]
internal = ["10.0.0.0/8"]

[log-groups]
names = ["/fl/a", "/fl/b"]

[query]
chunk-size = 1

[[apps]]
name = "crm"

[[apps.servers]]
name = "web"
ip = "10.0.0.6"

[[apps.servers]]
name = "db"
ip = "10.0.0.8"
"#;

fn fixture() -> Fixture {
    let mut f = Fixture::new();
    let v2 = FlowFormat::default_v2();
    for (group, eni, src, dst, t, action) in [
        ("/fl/a", "eni-web", "10.0.0.6", "10.0.0.8", 1000, "ACCEPT"),
        ("/fl/a", "eni-db", "10.0.0.6", "10.0.0.8", 1000, "REJECT"),
        ("/fl/b", "eni-db", "10.0.0.6", "10.0.0.8", 1500, "REJECT"),
    ] {
        let line = format!("2 123456789012 {eni} {src} {dst} 50000 5432 6 3 156 {t} {} {action} OK", t + 20);
        f.add_event(group, &v2, eni, t * 1000, &line);
    }
    f.sort();
    f
}

/// The binary with a clean environment (no `AWS_*` of the developer's, a temp `HOME`) and
/// fake credentials for the test endpoint.
fn wavegap(home: &Path) -> Command {
    let mut cmd = crate::clean_command(home, home);
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("waves")).unwrap();
    std::fs::write(dir.path().join("waves/e2e.toml"), WAVE).unwrap();
    dir
}

#[test]
fn plan_prints_chunks_windows_and_query_text_without_aws() {
    let dir = setup();
    let out = wavegap(dir.path()).args(["plan", "e2e", "--windows", "2"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("2 log groups in 2 chunk(s) × 2 window(s) = 4 queries"), "{stdout}");
    assert!(stdout.contains("1. 1970-01-01T00:16:40Z .. 1970-01-01T00:24:59Z  (1000 .. 1499)"), "{stdout}");
    assert!(
        stdout.contains(r#"(srcAddr in ["10.0.0.6", "10.0.0.8"] or dstAddr in ["10.0.0.6", "10.0.0.8"])"#),
        "{stdout}"
    );
    assert!(stdout.contains("chunk 1 (1 log groups, default format):\n  /fl/a\nquery:\n  fields least("), "{stdout}");
    assert!(stdout.contains("chunk 2 (1 log groups, default format):\n  /fl/b\n"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_saves_aggregates_and_names_missing_coverage_with_exit_4() {
    let dir = setup();
    let fail = vec![FailRule { log_group: "/fl/b".into(), status: FaultStatus::Failed, times: None }];
    let endpoint = TestEndpoint::start(fixture(), Faults { fail, ..Faults::default() }).await.unwrap();
    let save = dir.path().join("out/flows.json");
    // One log group per chunk: /fl/b's chunk keeps failing in both windows, /fl/a's completes.
    let mut cmd = wavegap(dir.path());
    cmd.args(["fetch", "e2e", "--windows", "2", "--fail-on-gaps", "--endpoint-url", endpoint.url()]);
    let out = tokio::task::spawn_blocking(move || cmd.arg("--save").arg(&save).output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    for window in ["1000 .. 1499", "1500 .. 1999"] {
        assert!(
            stderr.contains(&format!("missing coverage: {window} of /fl/b (query ended Failed 3 times)")),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("of /fl/a"), "{stderr}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/flows.json")).unwrap()).unwrap();
    assert_eq!(saved["data"]["gaps"].as_array().unwrap().len(), 2, "{saved}");
    assert_eq!(saved["wave"], "e2e");
    let aggregates = saved["data"]["aggregates"].as_array().unwrap();
    assert_eq!(aggregates.len(), 2, "{saved}");
    assert!(aggregates.iter().all(|a| a["log_group"] == "/fl/a" && a["port"] == 5432), "{saved}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stop_signal_stops_every_running_query_and_exits_with_its_code() {
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let dir = setup();
        let endpoint =
            TestEndpoint::start(fixture(), Faults { latency: Duration::from_secs(600), ..Faults::default() })
                .await
                .unwrap();
        let mut child = wavegap(dir.path())
            .args(["fetch", "e2e", "--windows", "2", "--save", "flows.json", "--endpoint-url", endpoint.url()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while endpoint.record().started.len() < 4 {
            assert!(std::time::Instant::now() < deadline, "queries never started: {:?}", endpoint.record());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let status = Command::new("kill").args([format!("-{signal}"), child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let out = tokio::task::spawn_blocking(move || {
            let status = child.wait().unwrap();
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            (status, stderr)
        })
        .await
        .unwrap();
        assert_eq!(out.0.code(), Some(code), "SIG{signal}: {}", out.1);
        assert!(out.1.contains("interrupted: stopped 4 running queries"), "SIG{signal}: {}", out.1);
        let record = endpoint.record();
        let mut started: Vec<_> = record.started.iter().map(|s| s.0.clone()).collect();
        let mut stopped = record.stopped.clone();
        started.sort();
        stopped.sort();
        assert_eq!(started, stopped, "SIG{signal}");
        assert!(!dir.path().join("flows.json").exists(), "nothing is saved from an interrupted run");
    }
}

#[test]
fn fetch_reads_a_files_wave_without_aws() {
    let dir = tempfile::tempdir().unwrap();
    let wave = crate::repo_root().join("waves/demo.toml");
    let out = wavegap(dir.path()).arg("fetch").arg(&wave).args(["--save", "demo.json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo.json")).unwrap()).unwrap();
    let aggregates = saved["data"]["aggregates"].as_array().unwrap();
    assert!(aggregates.iter().any(|a| a["action"] == "REJECT"), "{saved}");
    assert!(
        aggregates
            .iter()
            .all(|a| ["10.0.0.6", "10.0.0.7", "10.0.0.8"].iter().any(|ip| a["src"] == *ip || a["dst"] == *ip))
    );
    assert!(saved["data"]["stats"]["bytes_scanned"].as_u64().unwrap() > 0);
    assert_eq!(saved["data"]["stats"]["estimated_cost"], 0.0);
    assert!(saved["data"]["gaps"].as_array().unwrap().is_empty());
}
