//! `wavegap report` end to end on the shipped demo wave (files source, fully offline).

use std::collections::BTreeMap;
use std::path::Path;

use crate::{copy_dir, demo_copy, repo_root, stderr, stdout, wavegap};

const REPORT_FILES: [&str; 9] = [
    "report.md",
    "summary.md",
    "report.html",
    "findings.json",
    "findings.csv",
    "junit.xml",
    "fix.sh",
    "fix.tf",
    "flows.json.gz",
];

/// The files of a report directory, each as text (the saved flows decompressed).
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), read_text(&e.path()))
        })
        .collect()
}

/// A file's text, decompressed when it is gzip.
fn read_text(path: &Path) -> String {
    if path.extension().is_some_and(|e| e == "gz") { gunzip(path) } else { std::fs::read_to_string(path).unwrap() }
}

fn gunzip(path: &Path) -> String {
    use std::io::Read as _;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    text
}

/// The saved flows of a report directory.
fn saved_flows(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&gunzip(&dir.join("flows.json.gz"))).unwrap()
}

fn report(out: &Path, extra: &[&str]) -> std::process::Output {
    let out = out.to_str().unwrap();
    let mut args = vec!["report", "demo", "--out", out];
    args.extend_from_slice(extra);
    wavegap(&repo_root(), &args)
}

#[test]
fn demo_finds_the_five_missing_rules_and_the_unanswered_flow() {
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path(), &[]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let files = read_dir(dir.path());
    assert_eq!(files.keys().collect::<Vec<_>>(), {
        let mut names = REPORT_FILES.to_vec();
        names.sort_unstable();
        names
    });
    let json: serde_json::Value = serde_json::from_str(&files["findings.json"]).unwrap();
    assert_eq!(json["schema_version"], 1);
    let rejected: BTreeMap<String, String> = json["findings"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["culprits"][0]["hop"].as_str().unwrap().to_owned()))
        .collect();
    let expected: BTreeMap<String, String> = [
        ("rejected/tcp/49172/10.0.0.7/10.0.0.8/request", "destination-sg-ingress"),
        ("rejected/tcp/80/192.168.10.35/10.0.0.6/request", "destination-sg-ingress"),
        ("rejected/udp/1434/10.0.0.6/10.0.0.8/request", "destination-sg-ingress"),
        ("rejected/tcp/445/10.0.0.7/10.250.1.10/response", "return-source-nacl-inbound"),
        ("rejected/tcp/8443/10.0.0.7/10.0.0.6/request", "source-sg-egress"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(rejected, expected);
    let unanswered: Vec<&str> =
        json["findings"]["unanswered"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(unanswered, ["unanswered/tcp/443/10.0.0.7/192.168.50.20"]);
    assert_eq!(json["proposals"].as_array().unwrap().len(), 5);
    let text = stdout(&out);
    assert!(text.starts_with("wave demo: 5 rejected, 1 unanswered"), "{text}");
    assert!(text.contains("report written to"), "{text}");

    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"Generated [0-9T:Z-]+ by wavegap [0-9.]+", "Generated [time] by wavegap [version]");
    settings.add_filter(r#""generated_at": "[^"]*""#, r#""generated_at": "[time]""#);
    settings.add_filter(r#""generator": "wavegap [^"]*""#, r#""generator": "wavegap [version]""#);
    settings.bind(|| {
        insta::assert_snapshot!("demo_report_md", &files["report.md"]);
        insta::assert_snapshot!("demo_summary_md", &files["summary.md"]);
        insta::assert_snapshot!("demo_findings_json", &files["findings.json"]);
        insta::assert_snapshot!("demo_fix_sh", &files["fix.sh"]);
        insta::assert_snapshot!("demo_fix_tf", &files["fix.tf"]);
    });
}

#[test]
fn rerunning_changes_only_the_header_time_line() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    assert!(report(a.path(), &[]).status.success());
    // Make sure the clock moves on to a different second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(report(b.path(), &[]).status.success());
    let (first, second) = (read_dir(a.path()), read_dir(b.path()));
    for name in REPORT_FILES {
        let (x, y) = (&first[name], &second[name]);
        let differing: Vec<(&str, &str)> = x.lines().zip(y.lines()).filter(|(l, r)| l != r).collect();
        assert_eq!(x.lines().count(), y.lines().count(), "{name}");
        let allowed = usize::from(x.contains("Generated ") || x.contains("\"generated_at\""));
        assert_eq!(differing.len(), allowed, "{name}: {differing:?}");
        for (l, _) in differing {
            assert!(l.contains("Generated ") || l.contains("\"generated_at\""), "{name}: {l}");
        }
    }
}

#[test]
fn fail_on_findings_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path(), &["--fail-on-findings"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(dir.path().join("report.md").is_file(), "the report is written before failing");
}

#[test]
fn from_saved_renders_the_same_report_without_querying() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    assert!(report(a.path(), &[]).status.success());
    let saved = a.path().join("flows.json.gz");
    let out = report(b.path(), &["--from-saved", saved.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (first, second) = (read_dir(a.path()), read_dir(b.path()));
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("Generated ") && !l.contains("\"generated_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for name in ["report.md", "findings.json", "fix.sh", "fix.tf"] {
        assert_eq!(strip(&first[name]), strip(&second[name]), "{name}");
    }
    assert!(!second.contains_key("flows.json.gz"), "a re-render does not save the flows again");
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("never");
    let out = report(&out_dir, &["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("query:") && text.contains("stats count(*)"), "{text}");
    assert!(!out_dir.exists());
}

#[test]
fn a_failed_run_leaves_the_previous_report_intact() {
    let dir = tempfile::tempdir().unwrap();
    assert!(report(dir.path(), &[]).status.success());
    let before = read_dir(dir.path());
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("fix.tf.j2"), "{{ no_such_value.at_all }}").unwrap();
    let out = report(dir.path(), &["--templates", templates.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("template fix.tf"), "{}", stderr(&out));
    assert_eq!(read_dir(dir.path()), before);
}

#[test]
fn demo_html_works_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    assert!(report(dir.path(), &[]).status.success());
    let root = repo_root();
    assert!(
        root.join("scripts/browser/node_modules/playwright-core").is_dir(),
        "playwright-core is missing\nhint: run scripts/setup-browser.sh"
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("demo-end-to-end.png");
    let out = std::process::Command::new("node")
        .arg(root.join("scripts/browser/check-report.mjs"))
        .arg(dir.path().join("report.html"))
        .arg(&shot)
        .output()
        .expect("node runs");
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(shot.is_file());
}

/// The demo, then its tcp/80 proposal (from the users' LAN into orders-web) applied to its
/// inventory snapshot, then the demo again into the same directory: the earlier findings.json
/// is the baseline, the tcp/80 finding is fixed and the rest are still open, in every format.
#[test]
fn a_rerun_after_applying_one_proposal_marks_its_finding_fixed() {
    let dir = demo_copy();
    let out_dir = dir.path().join("reports/demo");
    let first = wavegap(dir.path(), &["report", "demo"]);
    assert!(first.status.success(), "{}", stderr(&first));

    let snapshot = dir.path().join("waves/demo/inventory.json");
    let mut inventory: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    let web = inventory["SecurityGroups"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|g| g["GroupId"] == "sg-dcbcf58f0925ed2ad")
        .unwrap();
    web["IpPermissions"].as_array_mut().unwrap().push(serde_json::json!({
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
        "IpRanges": [{"CidrIp": "192.168.10.0/24", "Description": "wavegap P003"}],
        "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []
    }));
    std::fs::write(&snapshot, serde_json::to_string_pretty(&inventory).unwrap()).unwrap();

    let second = wavegap(dir.path(), &["report", "demo", "--format", "plain"]);
    assert!(second.status.success(), "{}", stderr(&second));
    let fixed = "rejected/tcp/80/192.168.10.35/10.0.0.6/request";
    let files = read_dir(&out_dir);
    let json: serde_json::Value = serde_json::from_str(&files["findings.json"]).unwrap();
    let since = &json["since"];
    assert_eq!(
        (since["new"].as_u64(), since["still_open"].as_u64(), since["fixed"].as_u64()),
        (Some(0), Some(5), Some(1))
    );
    assert_eq!(since["fixed_findings"][0]["id"], fixed);
    assert_eq!(since["fixed_findings"][0]["still_logged"], true, "its REJECT records predate the rule");
    let no_longer_needed = &since["fixed_proposals"][0]["change"];
    assert_eq!(
        (&no_longer_needed["group_id"], &no_longer_needed["rule"]["ports"]["ports"]["from"]),
        (&serde_json::json!("sg-dcbcf58f0925ed2ad"), &serde_json::json!(80)),
        "{since}"
    );
    for f in json["findings"]["rejected"].as_array().unwrap() {
        let expected = if f["id"] == fixed { "fixed" } else { "still-open" };
        assert_eq!(f["status"], expected, "{}", f["id"]);
    }
    assert_eq!(json["findings"]["unanswered"][0]["status"], "still-open");
    assert!(json["proposals"].as_array().unwrap().iter().all(|p| p["status"] == "still-open"));
    assert_eq!(json["proposals"].as_array().unwrap().len(), 4, "P003 is no longer proposed");

    let stdout = stdout(&second);
    assert!(stdout.contains(": 0 new, 5 still open, 1 fixed\n"), "{stdout}");
    assert!(files["report.md"].contains("**0 new**, 5 still open, **1 fixed**"), "{}", files["report.md"]);
    assert!(
        files["report.md"]
            .contains("| rejected | 192.168.10.35 | web01 (10.0.0.6) | tcp/80 | allowed by the current rules")
    );
    assert!(files["summary.md"].contains(": **0 new**, 5 still open, **1 fixed**."), "{}", files["summary.md"]);
    assert!(files["report.html"].contains("<strong>1 fixed</strong>") && files["report.html"].contains("Fixed since"));
    let csv: Vec<&str> = files["findings.csv"].lines().filter(|l| l.starts_with("rejected,")).collect();
    assert_eq!(csv.len(), 5, "{csv:?}");
    assert_eq!(csv.iter().filter(|l| l.contains(",fixed,") && l.contains(fixed)).count(), 1, "{csv:?}");
    assert_eq!(csv.iter().filter(|l| l.contains(",still open,")).count(), 4, "{csv:?}");
    let junit = &files["junit.xml"];
    let case = format!("<testcase classname=\"wavegap.demo\" name=\"{fixed}\"");
    let at = junit.find(&case).expect("a test case for the fixed finding");
    assert!(!junit[at..].lines().nth(1).unwrap_or_default().contains("<failure"), "{junit}");

    // An explicit baseline of another wave is an error, before anything is queried.
    let other = dir.path().join("other.json");
    std::fs::write(&other, files["findings.json"].replace("\"name\": \"demo\"", "\"name\": \"wave-9\"")).unwrap();
    let out = wavegap(dir.path(), &["report", "demo", "--baseline", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("holds the findings of wave wave-9, not demo"), "{}", stderr(&out));
    // A damaged default baseline is said in the report, and the report is still written.
    std::fs::write(out_dir.join("findings.json"), "{ not json").unwrap();
    let out = wavegap(dir.path(), &["report", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("Not compared with `") && md.contains("not a wavegap findings.json"), "{md}");
}

#[test]
fn fail_on_names_what_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let code = |args: &[&str]| report(dir.path(), args).status.code();
    assert_eq!(code(&["--fail-on", "not-seen,gaps"]), Some(0), "the demo has neither");
    assert_eq!(code(&["--fail-on", "unanswered"]), Some(1));
    assert_eq!(code(&["--fail-on", "rejected", "--no-baseline"]), Some(1));
    let out = report(dir.path(), &["--fail-on", "everything"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A second wave file with the demo's name would write over the demo's reports/demo/: the
/// report refuses, naming both files, and writes nothing; `--out` elsewhere is fine.
#[test]
fn a_wave_name_two_files_share_is_refused() {
    let dir = demo_copy();
    std::fs::copy(repo_root().join("waves/demo.toml"), dir.path().join("waves/copy.toml")).unwrap();
    let out = wavegap(dir.path(), &["report", "demo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("wave name `demo` is used by waves/demo.toml and waves/copy.toml"), "{err}");
    assert!(!dir.path().join("reports").exists());
    let out = wavegap(dir.path(), &["report", "demo", "--out", "elsewhere"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A `last = …` window is read from one clock: the query, the report and the saved flows of
/// one run cover the same seconds, ending when the report says it was generated.
#[test]
fn a_last_window_is_one_window_in_query_report_and_saved_flows() {
    let dir = tempfile::tempdir().unwrap();
    let demo = repo_root().join("waves/demo");
    let wave = std::fs::read_to_string(repo_root().join("waves/demo.toml"))
        .unwrap()
        .replace("start = \"2026-03-02T09:00:00Z\"", "last = \"24h\"")
        .replace("end = \"2026-03-02T10:00:00Z\"\n", "")
        .replace("\"demo/", &format!("\"{}/", demo.display()));
    assert!(wave.contains("last = \"24h\""));
    let path = dir.path().join("last.toml");
    std::fs::write(&path, wave).unwrap();
    let out_dir = dir.path().join("out");
    let out = wavegap(
        dir.path(),
        &["-v", "report", path.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--no-baseline"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let saved = saved_flows(&out_dir);
    let (start, end) = (saved["window"]["start"].as_i64().unwrap(), saved["window"]["end"].as_i64().unwrap());
    assert_eq!(end - start, 24 * 3600);
    // The query ran over exactly that window.
    assert!(stderr(&out).contains(&format!("chunk 1 {start}..{end}: started")), "{}", stderr(&out));
    // The report states it, and was generated at its end.
    let time = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap();
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let shown = format!("| Window | {} to {} (1d) |", time(start).format("%F %T UTC"), time(end).format("%F %T UTC"));
    assert!(report.contains(&shown), "{shown}\n{report}");
    let findings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("findings.json")).unwrap()).unwrap();
    assert_eq!(findings["generated_at"], time(end).format("%FT%TZ").to_string());
}

/// Twenty reports written into one directory at once, each of another wave: the directory
/// ends up holding one run's whole report, every file of it from the same run. The runs
/// seldom write at the same instant, so this checks the binary's path end to end; the
/// interleaving itself is reproduced by `write::tests::concurrent_reports_of_one_directory_each_land_whole`.
#[test]
fn concurrent_reports_into_one_directory_leave_one_runs_whole_report() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("waves/demo"), &dir.path().join("waves/demo"));
    let demo = std::fs::read_to_string(repo_root().join("waves/demo.toml")).unwrap();
    let names: Vec<String> = (1..=20).map(|i| format!("run-{i:02}")).collect();
    for name in &names {
        let text = demo.replacen("name = \"demo\"", &format!("name = \"{name}\""), 1);
        std::fs::write(dir.path().join(format!("waves/{name}.toml")), text).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let children: Vec<_> = names
        .iter()
        .map(|name| {
            crate::clean_command(dir.path(), home.path())
                .args(["report", name, "--out", "shared", "--no-baseline", "-q"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let shared = dir.path().join("shared");
    let mut runs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&shared).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let text = read_text(&shared.join(&file));
        let seen: Vec<&String> = names.iter().filter(|n| text.contains(n.as_str())).collect();
        assert!(seen.len() <= 1, "{file} mixes runs {seen:?}");
        if let Some(name) = seen.first() {
            runs.entry((*name).clone()).or_default().push(file);
        }
    }
    assert_eq!(runs.len(), 1, "files of several runs: {runs:?}");
    let files = runs.into_values().next().unwrap();
    for report in ["report.md", "report.html", "findings.json", "summary.md", "flows.json.gz"] {
        assert!(files.iter().any(|f| f == report), "{report} is not from the run the others are from: {files:?}");
    }
    let staged: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".shared.") && n != ".shared.lock")
        .collect();
    assert!(staged.is_empty(), "{staged:?}");
}

/// `[source] inventory` may name a directory of `aws ec2 describe-…` outputs: the demo with
/// its snapshot split into one file per call reports the same findings.
#[test]
fn a_files_wave_reads_an_inventory_directory() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("waves/demo"), &dir.path().join("waves/demo"));
    let snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("waves/demo/inventory.json")).unwrap()).unwrap();
    let calls = dir.path().join("waves/demo/describe");
    std::fs::create_dir(&calls).unwrap();
    for (key, value) in snapshot.as_object().unwrap() {
        let one = serde_json::json!({ key: value });
        std::fs::write(calls.join(format!("describe-{key}.json")), one.to_string()).unwrap();
    }
    let demo = std::fs::read_to_string(repo_root().join("waves/demo.toml")).unwrap();
    let split = demo.replace("inventory = \"demo/inventory.json\"", "inventory = \"demo/describe\"");
    assert_ne!(split, demo);
    std::fs::write(dir.path().join("waves/demo.toml"), split).unwrap();
    let out = wavegap(dir.path(), &["check", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let findings = |out: &Path| {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).unwrap()).unwrap();
        (doc["findings"].clone(), doc["proposals"].clone())
    };
    let out = wavegap(dir.path(), &["report", "demo", "--out", "split"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let whole = tempfile::tempdir().unwrap();
    let out = report(whole.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(findings(&dir.path().join("split")), findings(whole.path()));
}

/// An S3 object whose name puts it hours after the window is not opened, and the report says
/// so next to the data it scanned (not only on stderr).
#[test]
fn objects_not_opened_for_their_names_are_said_in_the_report() {
    let dir = demo_copy();
    let day = dir.path().join("waves/demo/flowlogs/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/03/02");
    let object = std::fs::read_dir(&day).unwrap().next().unwrap().unwrap().path();
    let late = object.file_name().unwrap().to_string_lossy().replace("20260302T09", "20260302T13");
    std::fs::copy(&object, day.join(late)).unwrap();
    let out = wavegap(dir.path(), &["report", "demo", "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let markdown = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(markdown.contains("; 1 object(s) not opened: their names put them outside the window"), "{markdown}");
    let saved = saved_flows(&dir.path().join("out"));
    assert_eq!(saved["data"]["stats"]["objects_skipped"], 1);
    // The shipped demo reads every object it has.
    let out = wavegap(&repo_root(), &["report", "demo", "--out", dir.path().join("demo").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!std::fs::read_to_string(dir.path().join("demo/report.md")).unwrap().contains("not opened"));
}
