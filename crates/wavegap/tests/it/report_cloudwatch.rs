//! `wavegap report` on a CloudWatch wave, end to end: the servers resolve against moto's EC2,
//! the queries run on the Logs Insights test endpoint, and the report names the missing rule.

use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

use wavegap_core::flowlog::FlowFormat;
use wavegap_resolver::testing::{self, ACCOUNT, APP_LOG_FORMAT, LOG_GROUP_APP, LOG_GROUP_EXPLICIT, LOG_GROUP_LOG01};
use wavegap_testsupport::{FailRule, FaultStatus, Faults, Fixture, TestEndpoint};

use crate::{clean_command, stderr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloudwatch_wave_reports_the_missing_security_group_rule() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let (web, app) = (seeded.server("web01"), seeded.server("app01"));
    // web01 → app01 tcp/8443: app-sg admits only 8080 from web-sg, so app01's ENI logs the
    // REJECT; web01's ENI logs the request leaving (its SG and the NACLs allow it). web01
    // tries twice (two connections, two records): a broken dependency, not a stray.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().cast_signed();
    let start = now - 600;
    let format = FlowFormat::from_log_format(APP_LOG_FORMAT).unwrap();
    let mut fixture = Fixture::new();
    let vpc = &seeded.vpcs["app"];
    for (eni, subnet, action, direction) in
        [(&web.eni_id, "web", "ACCEPT", "egress"), (&app.eni_id, "app", "REJECT", "ingress")]
    {
        let subnet = &seeded.subnets[subnet];
        for (port, at) in [(50100, start), (50102, start + 30)] {
            let line = format!(
                "5 {ACCOUNT} {vpc} {subnet} {eni} {w} {a} {port} 8443 6 3 180 {at} {end} {action} OK 2 {w} {a} {direction}",
                w = web.ip,
                a = app.ip,
                end = at + 20,
            );
            fixture.add_event(LOG_GROUP_APP, &format, &format!("{eni}-all"), at * 1000, &line);
        }
    }
    for group in [LOG_GROUP_LOG01, LOG_GROUP_EXPLICIT] {
        fixture.add_group(group, FlowFormat::default_v2());
    }
    fixture.sort();
    let fixture_again = fixture.clone();
    let logs = TestEndpoint::start(fixture, Faults::default()).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("waves")).unwrap();
    fs::write(dir.path().join("waves/moto-wave.toml"), testing::wave_toml(&seeded)).unwrap();
    let home = tempfile::tempdir().unwrap();
    // `wavegap report` with EC2 on moto and Logs Insights at `logs_url`.
    let command = |logs_url: &str| {
        let mut cmd = clean_command(dir.path(), home.path());
        cmd.env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_ENDPOINT_URL_EC2", moto.endpoint())
            .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", logs_url)
            .args(["report", "moto-wave", "--out", "out"]);
        cmd
    };
    let report = |logs_url: &str| command(logs_url).output().unwrap();
    let out = report(logs.url());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");

    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/findings.json")).unwrap()).unwrap();
    assert_eq!(doc["wave"]["source"], "cloudwatch");
    let rejected = doc["findings"]["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    let finding = &rejected[0];
    assert_eq!(finding["id"], format!("rejected/tcp/8443/{}/{}/request", web.ip, app.ip));
    assert_eq!(finding["attribution"], "confirmed", "{finding:#}");
    assert_eq!(finding["culprits"][0]["hop"], "destination-sg-ingress", "{finding:#}");
    assert_eq!(finding["culprits"][0]["resource"].as_str(), Some(seeded.groups["app"].as_str()), "{finding:#}");
    // The fix opens tcp/8443 on app-sg to web01, and nothing else.
    let proposals = doc["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 1, "{proposals:#?}");
    let proposal = proposals[0].to_string();
    assert!(proposal.contains(&seeded.groups["app"]) && proposal.contains("8443"), "{proposal}");
    // Both queries' log groups were read, and the report says which servers no flow log covers.
    assert_eq!(doc["coverage"]["complete"], true, "{:#}", doc["coverage"]);
    assert!(logs.record().started.len() >= 2, "{:?}", logs.record().started);
    let markdown = fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(markdown.contains(&seeded.groups["app"]), "{markdown}");

    // Again, with every query failing: no query came back, so no new report. Exit 4, and
    // the report above stays as it was.
    let fail = [LOG_GROUP_APP, LOG_GROUP_LOG01, LOG_GROUP_EXPLICIT]
        .into_iter()
        .map(|g| FailRule { log_group: g.into(), status: FaultStatus::Failed, times: None })
        .collect();
    let failing = TestEndpoint::start(fixture_again.clone(), Faults { fail, ..Faults::default() }).await.unwrap();
    let out = report(failing.url());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("no query of the run came back") && err.contains("the previous report in out is kept"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(dir.path().join("out/report.md")).unwrap(), markdown);

    // And with Logs Insights going away once the queries run (connection refused after the
    // retries): exit 3, and the report stays.
    let slow = Faults { latency: std::time::Duration::from_secs(600), ..Faults::default() };
    let going = TestEndpoint::start(fixture_again, slow).await.unwrap();
    // One try per call, so the test does not wait out the SDK's back-off.
    let child = command(going.url())
        .env("AWS_MAX_ATTEMPTS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while going.record().started.len() < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(going);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("CloudWatch Logs unreachable") && err.contains("the previous report in out is kept"), "{err}");
    assert_eq!(fs::read_to_string(dir.path().join("out/report.md")).unwrap(), markdown);
}
