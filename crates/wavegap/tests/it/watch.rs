//! `wavegap watch` end to end: cycles driven by a clock file (`WAVEGAP_CLOCK`), so each cycle
//! starts when the test says and sees exactly the data the test has delivered by then.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{clean_command, demo_copy, wavegap};

/// 2026-03-02T09:05:00Z: the demo's objects of the 09:00 slot have been delivered.
pub const DEMO_FIRST: i64 = 1_772_442_300;
/// 2026-03-02T10:05:00Z: all of them have.
pub const DEMO_SECOND: i64 = 1_772_445_900;

/// A running watch and everything it printed so far.
pub struct Watching {
    child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
    pub clock: PathBuf,
}

impl Watching {
    /// Starts `cmd` (a `wavegap watch …`) with its clock file at `clock` reading `at`.
    pub fn start(mut cmd: std::process::Command, clock: PathBuf, at: i64) -> Self {
        fs::write(&clock, at.to_string()).unwrap();
        let mut child = cmd.env("WAVEGAP_CLOCK", &clock).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let drain = |mut r: Box<dyn std::io::Read + Send>| {
            let buf = Arc::new(Mutex::new(String::new()));
            let b = buf.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = r.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    b.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            });
            buf
        };
        let out = drain(Box::new(child.stdout.take().unwrap()));
        let err = drain(Box::new(child.stderr.take().unwrap()));
        Watching { child, out, err, clock }
    }

    pub fn stdout(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits until stdout shows cycle `n`'s status line (the report of that cycle is written
    /// by then) and returns everything printed so far.
    pub fn wait_cycle(&self, wave: &str, n: usize) -> String {
        let needle = format!("wavegap watch {wave} · cycle {n} ·");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self.stdout();
            if out.contains(&needle) {
                return out;
            }
            assert!(
                Instant::now() < deadline,
                "no cycle {n} within 60 s\nstdout:\n{out}\nstderr:\n{}",
                self.err.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the next cycle.
    pub fn advance(&self, to: i64) {
        fs::write(&self.clock, to.to_string()).unwrap();
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let status = std::process::Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end (its last cycle done) and returns its exit code.
    pub fn finish(mut self) -> (Option<i32>, String, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the watch did not end\nstdout:\n{}", self.stdout());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the readers drain the pipes.
        std::thread::sleep(Duration::from_millis(100));
        (status.code(), self.stdout(), self.err.lock().unwrap().clone())
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The demo's flow-log objects delivered after the first cycle, moved out of the wave's folder
/// into `later` (and moved back by [`deliver`]).
pub fn hold_back_demo_objects(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut held = Vec::new();
    let later = dir.join("later");
    fs::create_dir_all(&later).unwrap();
    for path in files_under(&dir.join("waves/demo/flowlogs")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // `…_20260302T0935Z_…`: the delivery slot is in the name.
        let slot = name.split('_').find(|p| p.starts_with("2026")).unwrap().to_owned();
        if slot.as_str() > "20260302T0900Z" {
            let aside = later.join(&name);
            fs::rename(&path, &aside).unwrap();
            held.push((aside, path));
        }
    }
    assert!(!held.is_empty());
    held
}

pub fn deliver(held: &[(PathBuf, PathBuf)]) {
    for (aside, path) in held {
        fs::rename(aside, path).unwrap();
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn findings(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn ids(doc: &serde_json::Value, kind: &str) -> BTreeSet<String> {
    doc["findings"][kind].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect()
}

/// The demo wave watched over two cycles, its later objects delivered between them: each
/// object is read once, the findings of the later objects are `new` in cycle 2, `--on-new`
/// runs once per new finding, and the end equals one report over all the objects.
#[test]
fn a_files_watch_reads_each_object_once_and_ends_where_one_report_would() {
    let dir = demo_copy();
    let held = hold_back_demo_objects(dir.path());
    let home = tempfile::tempdir().unwrap();
    let mut cmd = clean_command(dir.path(), home.path());
    cmd.args(["watch", "demo", "--every", "1h", "--since", "40m", "--cycles", "2", "--out", "out"])
        .args(["--on-new", "cat >> hooks.jsonl"]);
    let watch = Watching::start(cmd, dir.path().join("clock"), DEMO_FIRST);
    let first = watch.wait_cycle("demo", 1);
    let after_first = findings(&dir.path().join("out/findings.json"));
    deliver(&held);
    watch.advance(DEMO_SECOND);
    let (code, out, err) = watch.finish();
    assert_eq!(code, Some(0), "{out}\n{err}");

    // One report over every object and the watched span, for comparison.
    let demo = fs::read_to_string(dir.path().join("waves/demo.toml")).unwrap();
    let span = "start = \"2026-03-02T08:25:00Z\"\nend = \"2026-03-02T10:05:00Z\"";
    let once = demo.replace("start = \"2026-03-02T09:00:00Z\"\nend = \"2026-03-02T10:00:00Z\"", span);
    assert_ne!(once, demo);
    fs::write(dir.path().join("waves/once.toml"), once).unwrap();
    let once = wavegap(dir.path(), &["report", "waves/once.toml", "--out", "once"]);
    assert!(once.status.success(), "{}", String::from_utf8_lossy(&once.stderr));
    let once = findings(&dir.path().join("once/findings.json"));
    let watched = findings(&dir.path().join("out/findings.json"));
    for kind in ["rejected", "unanswered"] {
        assert_eq!(ids(&watched, kind), ids(&once, kind), "{kind}");
    }
    let changes = |doc: &serde_json::Value| -> Vec<String> {
        doc["proposals"].as_array().unwrap().iter().map(|p| p["change"].to_string()).collect()
    };
    assert_eq!(changes(&watched), changes(&once));
    // Every object was read once over the two cycles: the bytes add up to one report's.
    let bytes = |doc: &serde_json::Value| doc["statistics"]["bytes_scanned"].as_u64().unwrap();
    assert_eq!(bytes(&watched), bytes(&once), "{:#}\n{:#}", watched["statistics"], once["statistics"]);
    assert!(bytes(&after_first) < bytes(&once));

    // Cycle 1 marked what the early objects hold new; cycle 2 only what the later ones added.
    let early = ids(&after_first, "rejected");
    let late: BTreeSet<String> = ids(&once, "rejected").difference(&early).cloned().collect();
    assert!(!early.is_empty() && !late.is_empty(), "{early:?} {late:?}");
    let cycle_two = &out[out.find("cycle 2 ·").unwrap()..];
    assert!(!out.contains('\x1b'), "no cursor movement without a terminal: {out:?}");
    assert!(first.lines().filter(|l| l.starts_with("new ")).count() >= 1, "{first}");
    assert!(cycle_two.lines().any(|l| l.starts_with("new ")), "{cycle_two}");
    // The view marks since the start: the report says which findings are new since cycle 1.
    let report = fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(report.contains("findings-at-start.json"), "{report}");
    assert!(dir.path().join("out/findings-at-start.json").is_file());

    // --on-new ran once per finding that became open, each with the finding's JSON.
    let hooks = fs::read_to_string(dir.path().join("hooks.jsonl")).unwrap();
    let mut hooked: Vec<String> = hooks
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["wave"], "demo");
            v["finding"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let n = hooked.len();
    hooked.sort();
    hooked.dedup();
    assert_eq!(hooked.len(), n, "a finding was handed on twice: {hooks}");
    let open: BTreeSet<String> = watched["findings"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .chain(watched["findings"]["unanswered"].as_array().unwrap())
        .filter(|f| f["attribution"] != "should-pass" && f["suppressed"].is_null() && f["held_back"].is_null())
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(hooked.into_iter().collect::<BTreeSet<_>>(), open);
}

/// A CloudWatch wave watched over three cycles against moto's EC2 and the Logs Insights test
/// endpoint, whose events are delivered a minute after they happen:
/// - cycle 1 sees only answered traffic;
/// - cycle 2 sees web01's rejected calls to app01 on tcp/8443 (`new`), while every query of
///   the log01 group fails (a gap);
/// - between cycles 2 and 3 the proposed rule is added in EC2; cycle 3 re-resolves it, marks
///   the flow `fixed`, and runs the failed query again, which fills the gap;
/// - over the three cycles each byte of the watched span is scanned once, and `--on-new`
///   ran once, for the one new finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloudwatch_watch_shows_a_new_rejected_flow_then_fixed_and_fills_its_gap() {
    use wavegap_core::flow::TimeWindow;
    use wavegap_core::flowlog::FlowFormat;
    use wavegap_resolver::testing::{
        self, ACCOUNT, APP_LOG_FORMAT, LOG_GROUP_APP, LOG_GROUP_EXPLICIT, LOG_GROUP_LOG01,
    };
    use wavegap_testsupport::{FailRule, FaultStatus, Faults, Fixture, TestEndpoint};

    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let (web, app, log) = (seeded.server("web01"), seeded.server("app01"), seeded.server("log01"));
    let t0 =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().cast_signed() / 60 * 60;
    let (every, lag, since) = (120, 300, 1800);
    let format = FlowFormat::from_log_format(APP_LOG_FORMAT).unwrap();
    let mut fixture = Fixture::new();
    let vpc = &seeded.vpcs["app"];
    // A record in the app group's format: ENI, subnet, (src, dst), (ports), action, direction, tcp flags, start.
    let app_line = |eni: &str,
                    subnet: &str,
                    (s, d): (&str, &str),
                    (sp, dp): (u16, u16),
                    action: &str,
                    direction: &str,
                    flags: u16,
                    at: i64| {
        format!(
            "5 {ACCOUNT} {vpc} {} {eni} {s} {d} {sp} {dp} 6 3 180 {at} {} {action} OK {flags} {s} {d} {direction}",
            seeded.subnets[subnet],
            at + 20
        )
    };
    let (w, a) = (web.ip.to_string(), app.ip.to_string());
    // Cycle 1's window: web01 calls app01 on tcp/8080 and is answered.
    let answered = t0 - 1500;
    for (eni, subnet, ends, ports, direction, flags) in [
        (&web.eni_id, "web", (w.as_str(), a.as_str()), (50200, 8080), "egress", 2),
        (&app.eni_id, "app", (w.as_str(), a.as_str()), (50200, 8080), "ingress", 2),
        (&app.eni_id, "app", (a.as_str(), w.as_str()), (8080, 50200), "egress", 18),
        (&web.eni_id, "web", (a.as_str(), w.as_str()), (8080, 50200), "ingress", 18),
    ] {
        let line = app_line(eni, subnet, ends, ports, "ACCEPT", direction, flags, answered);
        fixture.add_event_ingested(
            LOG_GROUP_APP,
            &format,
            &format!("{eni}-all"),
            answered * 1000,
            (answered + 60) * 1000,
            &line,
        );
    }
    // Cycle 2's window: tcp/8443 is REJECTed at app01, twice; delivered a minute later.
    for at in [t0 - 250, t0 - 220] {
        for (eni, subnet, action, direction) in
            [(&web.eni_id, "web", "ACCEPT", "egress"), (&app.eni_id, "app", "REJECT", "ingress")]
        {
            let line = app_line(eni, subnet, (w.as_str(), a.as_str()), (50300, 8443), action, direction, 2, at);
            fixture.add_event_ingested(
                LOG_GROUP_APP,
                &format,
                &format!("{eni}-all"),
                at * 1000,
                (at + 60) * 1000,
                &line,
            );
        }
    }
    // Also in cycle 2's window: syslog to log01 (one way by design), in the group that fails.
    let syslog = t0 - 240;
    let line = format!(
        "2 {ACCOUNT} {} {} {} 51400 514 17 1 120 {syslog} {} ACCEPT OK",
        log.eni_id,
        web.ip,
        log.ip,
        syslog + 20
    );
    fixture.add_event_ingested(
        LOG_GROUP_LOG01,
        &FlowFormat::default_v2(),
        &log.eni_id,
        syslog * 1000,
        (syslog + 60) * 1000,
        &line,
    );
    fixture.add_group(LOG_GROUP_EXPLICIT, FlowFormat::default_v2());
    fixture.sort();
    let span = TimeWindow { start: t0 - since, end: t0 + 2 * every - lag };
    let span_bytes = fixture.bytes_in(&[LOG_GROUP_APP, LOG_GROUP_LOG01, LOG_GROUP_EXPLICIT], span);
    let logs = TestEndpoint::start(fixture, Faults::default()).await.unwrap();
    logs.set_clock(Some(t0 * 1000));

    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("waves")).unwrap();
    fs::write(dir.path().join("waves/moto-wave.toml"), testing::wave_toml(&seeded)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = clean_command(dir.path(), home.path());
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL_EC2", moto.endpoint())
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", logs.url())
        .args(["watch", "moto-wave", "--every", "2m", "--since", "30m", "--lag", "5m", "--cycles", "4", "--out", "out"])
        .args(["--on-new", "cat >> hooks.jsonl"]);
    let watch = Watching::start(cmd, dir.path().join("clock"), t0);
    let report = || findings(&dir.path().join("out/findings.json"));
    let rejected_id = format!("rejected/tcp/8443/{w}/{a}/request");

    let first = tokio::task::block_in_place(|| watch.wait_cycle("moto-wave", 1));
    assert!(ids(&report(), "rejected").is_empty(), "{first}");
    assert!(!first.contains("\nnew "), "{first}");

    // Cycle 2: the REJECTs have been delivered, and log01's queries fail.
    let fail = vec![FailRule { log_group: LOG_GROUP_LOG01.into(), status: FaultStatus::Failed, times: None }];
    logs.set_faults(Faults { fail, ..Faults::default() });
    logs.set_clock(Some((t0 + every) * 1000));
    watch.advance(t0 + every);
    let out = tokio::task::block_in_place(|| watch.wait_cycle("moto-wave", 2));
    let second = &out[out.find("· cycle 2 ·").unwrap()..];
    let doc = report();
    assert!(ids(&doc, "rejected").contains(&rejected_id), "{second}");
    let new_line =
        second.lines().find(|l| l.starts_with("new ") && l.contains("tcp/8443")).unwrap_or_else(|| panic!("{second}"));
    assert!(new_line.contains("rejected") && new_line.contains(&a), "{new_line}");
    assert!(second.lines().any(|l| l.starts_with("gap ") && l.contains(LOG_GROUP_LOG01)), "{second}");
    assert_eq!(doc["coverage"]["complete"], false, "{:#}", doc["coverage"]);

    // The fix goes in, the service recovers: cycle 3.
    let rule = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(8443)
        .to_port(8443)
        .user_id_group_pairs(aws_sdk_ec2::types::UserIdGroupPair::builder().group_id(&seeded.groups["web"]).build())
        .build();
    moto.ec2()
        .authorize_security_group_ingress()
        .group_id(&seeded.groups["app"])
        .ip_permissions(rule)
        .send()
        .await
        .unwrap();
    logs.set_faults(Faults::default());
    logs.set_clock(Some((t0 + 2 * every) * 1000));
    watch.advance(t0 + 2 * every);
    let out = tokio::task::block_in_place(|| watch.wait_cycle("moto-wave", 3));
    let third = &out[out.find("· cycle 3 ·").unwrap()..];
    assert!(third.lines().any(|l| l.starts_with("fixed ") && l.contains("tcp/8443")), "{third}");
    assert!(!third.lines().any(|l| l.starts_with("gap ")), "{third}");
    let doc = report();
    assert_eq!(doc["coverage"]["complete"], true, "{:#}", doc["coverage"]);
    let finding =
        doc["findings"]["rejected"].as_array().unwrap().iter().find(|f| f["id"] == rejected_id.as_str()).unwrap();
    assert_eq!(finding["attribution"], "should-pass", "{finding:#}");

    // Each byte of the span once: three windows, one retry of the failed one.
    assert_eq!(doc["statistics"]["bytes_scanned"].as_u64(), Some(span_bytes), "{:#}", doc["statistics"]);
    let windows: BTreeSet<(i64, i64)> = logs.record().started.iter().map(|(_, _, w)| (w.start, w.end)).collect();
    let expected: BTreeSet<(i64, i64)> =
        [(t0 - since, t0 - lag), (t0 - lag + 1, t0 + every - lag), (t0 + every - lag + 1, t0 + 2 * every - lag)].into();
    assert_eq!(windows, expected);

    let hooks = fs::read_to_string(dir.path().join("hooks.jsonl")).unwrap();
    let hooked: Vec<serde_json::Value> = hooks.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(hooked.len(), 1, "{hooks}");
    assert_eq!(hooked[0]["finding"]["id"], rejected_id.as_str());
    assert_eq!(hooked[0]["cycle"], 2);

    // Cycle 4's queries hang; Ctrl-C stops them, exits 130, and the report of cycle 3 stays.
    let kept = fs::read_to_string(dir.path().join("out/findings.json")).unwrap();
    let before = logs.record().started.len();
    logs.set_faults(Faults { latency: Duration::from_secs(600), ..Faults::default() });
    logs.set_clock(Some((t0 + 3 * every) * 1000));
    watch.advance(t0 + 3 * every);
    let deadline = Instant::now() + Duration::from_secs(60);
    while logs.record().started.len() < before + 2 {
        assert!(Instant::now() < deadline, "cycle 4 started no queries");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watch.interrupt();
    let (code, out, err) = tokio::task::block_in_place(|| watch.finish());
    assert_eq!(code, Some(130), "{out}\n{err}");
    assert!(err.contains("interrupted: stopped 2 running queries"), "{err}");
    let record = logs.record();
    let running: BTreeSet<&str> = record.started[before..].iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(record.stopped.iter().map(String::as_str).collect::<BTreeSet<_>>(), running);
    assert_eq!(fs::read_to_string(dir.path().join("out/findings.json")).unwrap(), kept);
}

/// Kills the test's tmux server however the test ends.
struct TmuxServer<'a>(&'a dyn Fn(&[&str]) -> String);

impl Drop for TmuxServer<'_> {
    fn drop(&mut self) {
        (self.0)(&["kill-server"]);
    }
}

/// The view in a real terminal (tmux): cycle 1 draws the findings of the early objects as
/// `new`; cycle 2 redraws the screen — nothing of cycle 1's status is left — with those
/// `open` and the later objects' findings `new`. The last screen is kept as
/// `watch-terminal.txt` under the test's target directory (the README shows it).
#[test]
fn the_terminal_view_is_redrawn_every_cycle() {
    let dir = demo_copy();
    let held = hold_back_demo_objects(dir.path());
    let home = tempfile::tempdir().unwrap();
    let clock = dir.path().join("clock");
    fs::write(&clock, DEMO_FIRST.to_string()).unwrap();
    let socket = format!("wavegap-test-{}", std::process::id());
    let tmux = |args: &[&str]| {
        let out = std::process::Command::new("tmux").arg("-L").arg(&socket).args(args).output().unwrap();
        assert!(
            out.status.success() || args[0] == "kill-server",
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let command = format!(
        "cd {} && env -i PATH=/usr/bin:/bin HOME={} TERM=xterm-256color NO_COLOR=1 WAVEGAP_CLOCK={} {} watch demo --every 1h --since 40m --cycles 2 --out out; sleep 600",
        dir.path().display(),
        home.path().display(),
        clock.display(),
        env!("CARGO_BIN_EXE_wavegap"),
    );
    tmux(&["-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "48", &command]);
    let _server = TmuxServer(&tmux);
    let screen_with = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = tmux(&["capture-pane", "-p", "-J"]);
            if screen.contains(needle) {
                return screen;
            }
            assert!(Instant::now() < deadline, "no {needle:?} on the screen within 60 s:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let first = screen_with("· cycle 1 ·");
    assert!(first.lines().any(|l| l.starts_with("new ")), "{first}");
    assert!(!first.lines().any(|l| l.starts_with("open ")), "{first}");
    assert!(first.contains("next cycle at 2026-03-02 10:05:00 UTC"), "{first}");
    deliver(&held);
    fs::write(&clock, DEMO_SECOND.to_string()).unwrap();
    let second = screen_with("· cycle 2 ·");
    assert!(!second.contains("· cycle 1 ·"), "the screen was not cleared:\n{second}");
    assert!(second.lines().any(|l| l.starts_with("open ")), "{second}");
    assert!(second.lines().any(|l| l.starts_with("new ")), "{second}");
    assert!(second.contains("report: out/report.md"), "{second}");
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("watch-terminal.txt");
    fs::write(keep, second.trim_end()).unwrap();
}

/// The demo's snapshot gains the rule of the tcp/8443 proposal after cycle 1. With
/// `--inventory-every 2h` and a cycle an hour, cycle 2 still uses the inventory of cycle 1
/// (the flow stays open) and cycle 3 reads the snapshot again (the flow is fixed).
#[test]
fn the_inventory_is_read_again_every_inventory_every() {
    let dir = demo_copy();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = clean_command(dir.path(), home.path());
    cmd.args(["watch", "demo", "--every", "1h", "--since", "70m", "--inventory-every", "2h", "--cycles", "3"]);
    let watch = Watching::start(cmd, dir.path().join("clock"), DEMO_SECOND);
    let first = watch.wait_cycle("demo", 1);
    assert!(first.lines().any(|l| l.starts_with("new ") && l.contains("tcp/8443")), "{first}");

    let path = dir.path().join("waves/demo/inventory.json");
    let mut snapshot: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let group =
        snapshot["SecurityGroups"].as_array_mut().unwrap().iter_mut().find(|g| g["GroupName"] == "orders-app").unwrap();
    let web = "sg-dcbcf58f0925ed2ad";
    group["IpPermissionsEgress"].as_array_mut().unwrap().push(serde_json::json!({
        "IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443,
        "UserIdGroupPairs": [{"GroupId": web, "UserId": "123456789012"}],
        "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": []
    }));
    fs::write(&path, snapshot.to_string()).unwrap();

    watch.advance(DEMO_SECOND + 3600);
    let out = watch.wait_cycle("demo", 2);
    let second = &out[out.find("· cycle 2 ·").unwrap()..];
    assert!(!second.lines().any(|l| l.contains("tcp/8443") && l.starts_with("fixed ")), "{second}");
    watch.advance(DEMO_SECOND + 7200);
    let (code, out, err) = watch.finish();
    assert_eq!(code, Some(0), "{out}\n{err}");
    let third = &out[out.find("· cycle 3 ·").unwrap()..];
    assert!(third.lines().any(|l| l.starts_with("fixed ") && l.contains("tcp/8443")), "{third}");
}
