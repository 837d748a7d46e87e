use std::path::Path;

use wavegap_reporter::{RenderedFile, Renderer, Style, build, file_names, write_atomically};

use crate::fixtures::{self, Input};

pub fn render(input: &Input) -> Vec<RenderedFile> {
    let model = build(&input.report_input());
    Renderer::new().unwrap().render_all(&model).unwrap()
}

/// Snapshots every file of a case, with the run-time header line filtered.
fn check(case: &str, input: &Input) {
    let files = render(input);
    assert_eq!(files.iter().map(|f| &*f.name).collect::<Vec<_>>(), file_names());
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"Generated [0-9T:Z-]+ by wavegap [0-9.]+", "Generated [time] by wavegap [version]");
    settings.add_filter(r#""generated_at": "[^"]*""#, r#""generated_at": "[time]""#);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for f in &files {
            insta::assert_snapshot!(format!("{case}__{}", f.name), f.text());
        }
    });
    let json = files.iter().find(|f| f.name == "findings.json").unwrap();
    let json: serde_json::Value = serde_json::from_str(json.text()).expect("findings.json is valid JSON");
    assert_eq!(json["schema_version"], 1);
}

#[test]
fn demo() {
    check("demo", &fixtures::demo());
}

#[test]
fn no_findings() {
    check("no_findings", &fixtures::no_findings());
}

#[test]
fn only_unanswered() {
    check("only_unanswered", &fixtures::only_unanswered());
}

#[test]
fn failed_chunk() {
    check("failed_chunk", &fixtures::failed_chunk());
}

#[test]
fn a_scan_that_split_the_servers_says_every_log_group_was_scanned_that_many_times() {
    let mut input = fixtures::demo();
    input.flows.stats.server_parts = 3;
    input.flows.stats.objects_skipped = 2;
    let files = render(&input);
    for name in ["report.md", "report.html"] {
        let text = files.iter().find(|f| f.name == name).unwrap().text().to_owned();
        let row = text.lines().find(|l| l.contains("Data scanned")).unwrap_or_default();
        assert!(row.contains("2 object(s) not opened"), "{name}: {row}");
        assert!(
            row.contains("split into 3 queries per log group: each log group was scanned 3 times"),
            "{name}: {row}"
        );
    }
}

#[test]
fn hostile_names() {
    let input = fixtures::hostile_names();
    check("hostile_names", &input);
    let files = render(&input);
    let get = |name: &str| files.iter().find(|f| f.name == name).unwrap().text().to_owned();
    let html = get("report.html");
    assert!(!html.contains("<script>alert"), "raw script tag in the HTML");
    assert!(!html.contains("<img src=x"), "raw img tag in the HTML");
    assert_eq!(html.matches("<script>").count(), 1, "only the report's own script");
    let md = get("report.md");
    // Outside code blocks (where Markdown shows text as is) no raw HTML may remain.
    let mut in_fence = false;
    for line in md.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        assert!(in_fence || (!line.contains("<script>") && !line.contains("<img")), "raw HTML in the Markdown: {line}");
        assert!(!in_fence || !line.starts_with("# heading"), "a line break from the data inside a block: {line}");
    }
    for line in md.lines().filter(|l| l.starts_with('|')) {
        // Every table row keeps its column count: no unescaped `|` from the data.
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells >= 3, "{line}");
    }
    let sh = get("fix.sh");
    for line in sh.lines() {
        assert!(
            line.is_empty()
                || line.starts_with('#')
                || line.starts_with("rule ")
                || line.starts_with("entry ")
                || !line.contains("touch pwned"),
            "data escaped a comment in fix.sh: {line}"
        );
    }
    let tf = get("fix.tf");
    let code: Vec<&str> = tf.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    assert!(code.iter().all(|l| !l.replace("$${", "").contains("${")), "interpolation left in fix.tf");
    assert!(code.iter().any(|l| l.contains("$${var}")), "descriptions kept, escaped");
}

#[test]
fn rerendering_is_byte_identical_apart_from_the_header_line() {
    let input = fixtures::demo();
    let first = render(&input);
    let mut later = input.clone();
    let model = wavegap_reporter::build(&wavegap_reporter::ReportInput {
        generated_at: "2027-01-01T00:00:00Z",
        ..later.report_input()
    });
    let second = Renderer::new().unwrap().render_all(&model).unwrap();
    later.log_groups.reverse();
    for (a, b) in first.iter().zip(&second) {
        let differing: Vec<(&str, &str)> = a.text().lines().zip(b.text().lines()).filter(|(x, y)| x != y).collect();
        let stamped = usize::from(a.text().contains("2026-11-27T05:00:00Z"));
        assert_eq!(differing.len(), stamped, "{}: {differing:?}", a.name);
        assert!(differing.iter().all(|d| d.0.contains("2026-11-27T05:00:00Z")), "{}: {differing:?}", a.name);
        assert_eq!(a.text().lines().count(), b.text().lines().count());
    }
    assert_eq!(render(&input), first, "same input, same bytes");
}

#[test]
fn templates_can_be_overridden_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.md.j2"), "# {{ wave.name }} by ACME\n{{ counts.rejected }} rejected\n")
        .unwrap();
    let renderer = Renderer::with_overrides(dir.path()).unwrap();
    let input = fixtures::demo();
    let files = renderer.render_all(&build(&input.report_input())).unwrap();
    assert_eq!(files[0].text(), "# demo by ACME\n5 rejected\n");
    assert_eq!(files[1], render(&input)[1], "report.html still the built-in one");

    std::fs::write(dir.path().join("fix.sh.j2"), "{{ no_such_field }}").unwrap();
    let err = Renderer::with_overrides(dir.path()).unwrap().render_all(&build(&input.report_input())).unwrap_err();
    assert!(err.to_string().starts_with("template fix.sh"), "{err}");
    let err = Renderer::with_overrides(Path::new("/no/such/dir")).err().unwrap();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn writes_every_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports/demo");
    let paths = write_atomically(&out, &render(&fixtures::demo())).unwrap();
    assert_eq!(paths.len(), wavegap_reporter::FORMATS.len());
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut expected = file_names();
    expected.sort_unstable();
    assert_eq!(names, expected);
}

#[test]
fn console_summary_lists_the_top_findings() {
    let model = build(&fixtures::demo().report_input());
    let files = file_names();
    let text = wavegap_reporter::summary(&model, Path::new("reports/demo"), &files, 3, Style::Table);
    assert!(text.starts_with("wave demo: 5 rejected, 1 unanswered, 0 expected not seen, 5 proposed changes"), "{text}");
    assert!(text.contains("\n5 changes fix all 5 rejected flows\n"), "{text}");
    assert!(text.contains("┆ db01 (10.0.0.8)"), "the most records first: {text}");
    assert!(text.contains("… and 3 more in the report"), "{text}");
    let written = format!("report written to reports/demo/ ({})", files.join(", "));
    assert!(text.trim_end().ends_with(&written), "{text}");

    // Without a terminal: one plain line per group, no table drawing.
    let plain = wavegap_reporter::summary(&model, Path::new("reports/demo"), &files, 10, Style::Plain);
    assert!(!plain.contains('┆') && !plain.contains('─'), "{plain}");
    assert!(
        plain.contains("rejected app01 (10.0.0.7) -> db01 (10.0.0.8) tcp/49172: destination security group ingress, fix P001 (12 records)"),
        "{plain}"
    );
    assert!(plain.contains("unanswered app01 (10.0.0.7) -> 192.168.50.20 tcp/443:"), "{plain}");

    // For scripts: one JSON object.
    let json = wavegap_reporter::summary(&model, Path::new("reports/demo"), &files, 10, Style::Json);
    let json: serde_json::Value = serde_json::from_str(&json).expect("one JSON object");
    assert_eq!(json["counts"]["rejected"], 5);
    assert_eq!(json["proposals"].as_array().unwrap().len(), 5);
    assert_eq!(json["headline"], "5 changes fix all 5 rejected flows");
}

/// fix.sh in a directory with a stand-in `aws` first on PATH. The stand-in logs each call's
/// arguments, answers a dry run with `DryRunOperation`, `describe-network-acls` with
/// `$PRESENT` (default 1: the entry is there), and a change naming `$DUPLICATE`, `$DENIED` or `$TAKEN` with the error
/// AWS gives for a duplicate rule, missing permissions and a taken NACL rule number.
struct FakeAws {
    dir: tempfile::TempDir,
}

impl FakeAws {
    fn new(input: &fixtures::Input) -> Self {
        let files = render(input);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fix.sh"), &files.iter().find(|f| f.name == "fix.sh").unwrap().content).unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let log = dir.path().join("calls");
        std::fs::write(
            bin.join("aws"),
            format!(
                r#"#!/bin/sh
for a in "$@"; do printf '%s\n' "$a" >> {log}; done
echo ---- >> {log}
case "$*" in *describe-network-acls*) echo "${{PRESENT:-1}}"; exit 0 ;; esac
for a in "$@"; do [ "$a" = --dry-run ] && {{ echo 'An error occurred (DryRunOperation) when calling the operation: Request would have succeeded, but DryRun flag is set.' >&2; exit 254; }}; done
case "$*" in
  *"${{DUPLICATE:-@}}"*) echo 'An error occurred (InvalidPermission.Duplicate) when calling the AuthorizeSecurityGroupIngress operation: the specified rule already exists' >&2; exit 254 ;;
  *"${{DENIED:-@}}"*) echo 'An error occurred (UnauthorizedOperation) when calling the operation: You are not authorized to perform this operation.' >&2; exit 254 ;;
  *"${{TAKEN:-@}}"*) echo 'An error occurred (NetworkAclEntryAlreadyExists) when calling the CreateNetworkAclEntry operation: EntryAlreadyExists' >&2; exit 254 ;;
esac
exit 0
"#,
                log = log.display()
            ),
        )
        .unwrap();
        std::process::Command::new("chmod").arg("+x").arg(bin.join("aws")).status().unwrap();
        FakeAws { dir }
    }

    /// Runs `sh fix.sh ARGS` with `env`; the output and every call's arguments.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (std::process::Output, Vec<Vec<String>>) {
        let log = self.dir.path().join("calls");
        let _ = std::fs::remove_file(&log);
        let path = format!("{}:{}", self.dir.path().join("bin").display(), std::env::var("PATH").unwrap_or_default());
        let out = std::process::Command::new("sh")
            .arg("fix.sh")
            .args(args)
            .env("PATH", &path)
            .envs(env.iter().copied())
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        let calls =
            calls.split("----\n").filter(|c| !c.is_empty()).map(|c| c.lines().map(str::to_owned).collect()).collect();
        (out, calls)
    }
}

/// Every command gets `--dry-run` unless `--apply` is given, the wave's region and profile,
/// and hostile descriptions arrive as one argument.
#[test]
fn fix_sh_passes_each_argument_intact_and_dry_runs_by_default() {
    let mut input = fixtures::hostile_names();
    input.wave.aws.region = Some("eu-west-1".into());
    input.wave.aws.profile = Some("migration admin".into());
    let fake = FakeAws::new(&input);
    for (args, dry) in [(vec![], true), (vec!["--apply"], false)] {
        let (out, calls) = fake.run(&args, &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(calls.len(), 5, "{calls:?}");
        for call in &calls {
            assert_eq!(call.contains(&"--dry-run".to_owned()), dry, "{call:?}");
            let flag = |f: &str| call.iter().position(|a| a == f).map(|i| call[i + 1].as_str());
            assert_eq!(flag("--region"), Some("eu-west-1"), "{call:?}");
            assert_eq!(flag("--profile"), Some("migration admin"), "{call:?}");
            if let Some(perms) = flag("--ip-permissions") {
                let perms: serde_json::Value = serde_json::from_str(perms).expect("one JSON argument");
                let text = perms.to_string();
                assert!(text.contains("$(touch pwned)") && text.contains("it's"), "{text}");
            }
        }
        let summary =
            if dry { "(dry run): 5 would apply, 0 already present, 0 failed" } else { ": 5 applied, 0 already" };
        assert!(stdout.contains(summary), "{stdout}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(fake.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 3, "nothing but fix.sh, bin and the log: {leftovers:?}");
}

/// A wave across accounts: each change runs in its owning account's region, with the profile
/// named for that account when one is given, and the wave's otherwise.
#[test]
fn fix_sh_makes_each_change_in_the_account_that_owns_it() {
    let mut input = fixtures::demo();
    input.wave.aws.region = Some("eu-west-1".into());
    input.wave.aws.profile = Some("landing-zone".into());
    input.wave.accounts = vec![wavegap_core::wave::Account {
        id: "222222222222".into(),
        name: Some("web".into()),
        region: Some("eu-central-1".into()),
        assume_role_arn: None,
        external_id: None,
        log_groups: wavegap_core::wave::LogGroups::default(),
    }];
    input.inventory.security_groups.get_mut(fixtures::SG_WEB).unwrap().owner_id = Some("222222222222".into());
    let fake = FakeAws::new(&input);
    let web = format!("--group-id={}", fixtures::SG_WEB);
    for (env, web_profile) in
        [(vec![], "landing-zone"), (vec![("WAVEGAP_PROFILE_222222222222", "web-admin")], "web-admin")]
    {
        let (out, calls) = fake.run(&[], &env);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(calls.len(), 5, "{calls:?}");
        for call in &calls {
            let flag = |f: &str| call.iter().position(|a| a == f).map(|i| call[i + 1].as_str());
            let in_web = call.iter().any(|a| a == &web || a == fixtures::SG_WEB);
            let expected = if in_web { ("eu-central-1", web_profile) } else { ("eu-west-1", "landing-zone") };
            assert_eq!((flag("--region").unwrap(), flag("--profile").unwrap()), expected, "{call:?}");
        }
        assert!(calls.iter().any(|c| c.iter().any(|a| a == &web || a == fixtures::SG_WEB)), "{calls:?}");
    }
}

/// Run twice, or after someone added a rule by hand: what is there counts as done, a
/// failure does not stop the rest, and the summary and the exit status tell.
#[test]
fn fix_sh_is_idempotent_goes_on_after_a_failure_and_sums_up() {
    let fake = FakeAws::new(&fixtures::demo());
    let duplicate = format!("--group-id {}", fixtures::SG_WEB);
    let denied = format!("--group-id {}", fixtures::SG_APP);
    let taken = "--network-acl-id acl-42a246adb36420e01";
    let env = [("DUPLICATE", duplicate.as_str()), ("DENIED", denied.as_str()), ("TAKEN", taken)];
    let (out, calls) = fake.run(&["--apply"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for line in ["P001: applied", "P002: FAILED", "P003: already present", "P004: applied", "P005: already present"] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(stdout.ends_with("fix.sh: 2 applied, 2 already present, 1 failed\n"), "{stdout}");
    assert!(stderr.contains("UnauthorizedOperation"), "the failure says why: {stderr}");
    // The taken NACL rule number was checked against the proposed entry.
    let check = calls.iter().find(|c| c.contains(&"describe-network-acls".to_owned())).expect("a check");
    let query = &check[check.iter().position(|a| a == "--query").unwrap() + 1];
    assert!(query.contains("RuleNumber==`140`") && query.contains("CidrBlock==`\"10.250.1.10/32\"`"), "{query}");

    // When the number holds another entry, the entry is a failure with what to do.
    let (out, _) = fake.run(&["--apply"], &[("TAKEN", taken), ("PRESENT", "0")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("P005: FAILED") && stdout.ends_with("4 applied, 0 already present, 1 failed\n"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("pick a free number in acl-42a246adb36420e01"));
}

/// A real wave's size: 5,707 findings that two changes fix, nothing in AWS can, or that are strays. report.md
/// fits a GitHub comment (65,536 characters), summary.md a step summary (8 KB), and every
/// finding is still one row of findings.csv.
#[test]
fn a_large_wave_gives_a_short_report() {
    let input = fixtures::large();
    let files = render(&input);
    let get = |name: &str| files.iter().find(|f| f.name == name).unwrap().text().to_owned();
    let md = get("report.md");
    assert!(md.chars().count() <= 65_536, "report.md has {} characters", md.chars().count());
    let summary = get("summary.md");
    assert!(summary.len() <= 8 * 1024, "summary.md has {} bytes", summary.len());
    assert!(
        md.contains("**7 changes fix 5,006 of 5,306 rejected flows; 300 single connection attempts held back.**"),
        "{md}"
    );
    assert!(
        md.contains("| 150 clients: 150 in internal 10.0.0.0/8 (all in 10.99.0.0/23); e.g. "),
        "the 150 strays to one service are one row: {md}"
    );
    assert!(
        md.contains("| 5,000 clients: 5,000 in on-premises 172.16.0.0/12 (all in 172.16.0.0/19); e.g. 172.16.0.7, "),
        "the 5,000 clients are one row: {md}"
    );
    assert!(md.contains("| 400 clients: 400 in on-premises 192.168.0.0/16 (all in 192.168.30.0/23)"), "{md}");
    let csv = get("findings.csv");
    assert_eq!(csv.lines().count(), 1 + 5_306 + 401, "a header and one row per finding");
    let html = get("report.html");
    assert!(html.len() < 2_000_000, "report.html is {} bytes", html.len());
    assert!(html.contains("… and 4,900 more in findings.csv"), "the collapsed list is capped");
    // The diagram draws networks: one box for the 5,000 clients, one for the 2,000 accepted.
    assert!(md.contains("[\"on-premises 172.16.0.0/12<br/>5,000 addresses\"]"), "{md}");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"Generated [0-9T:Z-]+ by wavegap [0-9.]+", "Generated [time] by wavegap [version]");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!("large__report.md", &md);
        insta::assert_snapshot!("large__summary.md", &summary);
    });
}
