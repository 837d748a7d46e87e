//! `wavegap check` on the shipped waves, on every bad wave in `tests/waves/bad/`, and on
//! small wave directories built per test.

use std::path::Path;

use crate::{repo_root, stderr, stdout, wavegap};

/// What a bad wave's second line promises: `# expect: LINE:COLUMN KEY: MESSAGE`.
struct Expectation {
    location: String,
    key: String,
    message: String,
}

fn expectation(path: &Path) -> Expectation {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("# expect: "))
        .unwrap_or_else(|| panic!("{} has no `# expect:` line", path.display()));
    let (location, rest) = line.split_once(' ').unwrap();
    let (key, message) = rest.split_once(": ").unwrap();
    Expectation { location: location.to_owned(), key: key.to_owned(), message: message.to_owned() }
}

fn bad_waves() -> Vec<String> {
    let root = repo_root();
    let mut names: Vec<String> = std::fs::read_dir(root.join("tests/waves/bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "toml"))
        .collect();
    names.sort();
    names
}

#[test]
fn shipped_waves_are_valid() {
    let out = wavegap(&repo_root(), &["--color", "never", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = stdout(&out);
    let wave3 = stdout.lines().find(|l| l.starts_with("wave-3 ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(wave3.ends_with("2 apps, 6 servers, 2 log groups + discover, last 1d, cloudwatch (eu-west-1)"), "{wave3}");
    assert!(stdout.lines().any(|l| l.starts_with("demo ")), "{stdout}");
    // defaults.toml is not a wave.
    assert!(!stdout.contains("defaults"), "{stdout}");
    assert_eq!(
        stdout.lines().count(),
        std::fs::read_dir(repo_root().join("waves"))
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name().to_string_lossy().into_owned();
                Path::new(&name).extension().is_some_and(|e| e == "toml") && name != "defaults.toml"
            })
            .count()
    );
}

#[test]
fn waves_by_name_and_by_path() {
    for arg in ["wave-3", "waves/wave-3.toml", "./waves/wave-3.toml"] {
        let out = wavegap(&repo_root(), &["check", arg]);
        assert_eq!(out.status.code(), Some(0), "{arg}: {}", stderr(&out));
        assert_eq!(stdout(&out).lines().count(), 1, "{arg}");
        assert!(stdout(&out).starts_with("wave-3  2 apps"), "{arg}: {}", stdout(&out));
    }
    let out = wavegap(&repo_root(), &["check", "--waves-dir", "tests/waves/bad", "invalid-ip"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tests/waves/bad/invalid-ip.toml:"), "{}", stderr(&out));
}

#[test]
fn every_bad_wave_is_rejected_at_its_location() {
    let names = bad_waves();
    assert!(names.len() >= 30, "only {} bad waves", names.len());
    for name in &names {
        let rel = format!("tests/waves/bad/{name}");
        let expected = expectation(&repo_root().join(&rel));
        let out = wavegap(&repo_root(), &["--color", "never", "check", &rel]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(stdout(&out).is_empty(), "{name}: {}", stdout(&out));
        assert!(err.contains(&format!("error: {}\n", expected.message)), "{name}: message\n{err}");
        assert!(
            err.contains(&format!("--> {rel}:{} ({})\n", expected.location, expected.key)),
            "{name}: location\n{err}"
        );
        // An excerpt, except for keys missing from the whole file (reported at 1:1).
        assert_eq!(err.contains('^'), expected.location != "1:1", "{name}: excerpt\n{err}");
        assert!(err.ends_with("error: 1 of 1 wave invalid\n"), "{name}\n{err}");
        // No colour codes when NO_COLOR is set.
        assert!(!err.contains('\x1b'), "{name}");
    }
}

#[test]
fn every_wave_is_checked_not_just_the_first() {
    let names = bad_waves();
    let out = wavegap(&repo_root(), &["check", "--waves-dir", "tests/waves/bad"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    for name in &names {
        let expected = expectation(&repo_root().join("tests/waves/bad").join(name));
        assert!(err.contains(&format!("tests/waves/bad/{name}:{} ", expected.location)), "{name}\n{err}");
    }
    assert!(err.ends_with(&format!("error: {n} of {n} waves invalid\n", n = names.len())), "{err}");
}

/// A waves directory of its own, with the given files.
fn waves_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("waves")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join("waves").join(name), text).unwrap();
    }
    dir
}

const GOOD: &str = r#"
[window]
start = "2026-11-20T00:00:00Z"
end = "2026-11-20T06:00:00Z"

[[apps]]
name = "crm"

[[apps.servers]]
name = "web"
ip = "10.0.0.6"
"#;

#[test]
fn valid_and_invalid_waves_together() {
    let bad = GOOD.replace("10.0.0.6", "10.0.0.256");
    let dir = waves_dir(&[("a.toml", GOOD), ("b.toml", &bad), ("defaults.toml", "[log-groups]\ndiscover = true\n")]);
    let out = wavegap(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stdout(&out),
        "a  1 app, 1 server, log groups: discover, 2026-11-20T00:00:00Z..2026-11-20T06:00:00Z, cloudwatch\n"
    );
    let err = stderr(&out);
    assert!(err.contains("--> waves/b.toml:11:6 (apps[0].servers[0].ip)"), "{err}");
    assert!(err.ends_with("error: 1 of 2 waves invalid\n"), "{err}");
}

#[test]
fn defaults_apply_and_their_errors_point_at_them() {
    let defaults = "[aws]\nregion = \"eu-central-1\"\n\n[log-groups]\nnames = [\"/vpc/shared\"]\n";
    let wave = format!("{GOOD}\n[aws]\nprofile = \"p\"\n");
    let dir = waves_dir(&[("w.toml", &wave), ("defaults.toml", defaults)]);
    let out = wavegap(dir.path(), &["check", "w"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .ends_with(", 1 log group, 2026-11-20T00:00:00Z..2026-11-20T06:00:00Z, cloudwatch (eu-central-1)\n")
    );

    let dir = waves_dir(&[
        ("w.toml", &wave),
        ("v.toml", &wave.replace("10.0.0.6", "10.0.0.7")),
        ("defaults.toml", "[log-groups]\nnames = [\"bad name\"]\n"),
    ]);
    let out = wavegap(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    // Both waves fail, and the one mistake is shown once.
    assert_eq!(err.matches("--> waves/defaults.toml:2:10 (log-groups.names[0])").count(), 1, "{err}");
    assert!(err.ends_with("error: 2 of 2 waves invalid\n"), "{err}");
}

#[test]
fn files_source_paths_are_relative_to_the_wave_file() {
    let wave = format!("[source]\nfiles = \"data/flowlogs\"\ninventory = \"data/inventory.json\"\n{GOOD}");
    let dir = waves_dir(&[("offline.toml", &wave)]);
    // Not there yet: an error at the line that names it.
    let out = wavegap(dir.path(), &["--color", "never", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("error: `waves/data/flowlogs` does not exist\n --> waves/offline.toml:2:9 (source.files)"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir_all(dir.path().join("waves/data/flowlogs")).unwrap();
    std::fs::write(dir.path().join("waves/data/inventory.json"), "{\"Vpcs\": []}").unwrap();
    let out = wavegap(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("no log groups, 2026-11-20T00:00:00Z..2026-11-20T06:00:00Z, files waves/data/flowlogs + waves/data/inventory.json\n"), "{}", stdout(&out));
}

#[test]
fn usage_errors() {
    let dir = waves_dir(&[
        ("a.toml", GOOD),
        ("b.toml", &format!("name = \"a\"\n{GOOD}")),
        ("defaults.toml", "[log-groups]\ndiscover = true\n"),
    ]);
    let check = |args: &[&str], expected: &str| {
        let out = wavegap(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(expected), "{args:?}\n{}", stderr(&out));
    };
    check(&["check", "nope"], "error: no wave file waves/nope.toml");
    check(&["check", "defaults"], "waves/defaults.toml holds the settings every wave shares");
    check(&["check"], "error: wave name `a` is used by waves/a.toml and waves/b.toml");
    check(&["check", "--waves-dir", "missing"], "cannot list the waves directory missing");
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    check(&["check", "--waves-dir", "empty"], "no wave files in empty");
}

#[test]
fn readme_example_wave_is_valid() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = &readme[readme.find("## Wave files").expect("README has a wave file reference")..];
    let start = section.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let dir = waves_dir(&[("example.toml", example)]);
    let out = wavegap(dir.path(), &["check", "example"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "wave-3  1 app, 2 servers, 1 log group + discover, last 1d, cloudwatch (eu-west-1)\n");
}

#[test]
fn color_follows_the_flag() {
    let bad = "tests/waves/bad/invalid-ip.toml";
    let colored = wavegap(&repo_root(), &["--color", "always", "check", bad]);
    assert!(stderr(&colored).contains("\x1b[1;31merror\x1b[0m"), "{}", stderr(&colored));
    let plain = wavegap(&repo_root(), &["--color", "never", "check", bad]);
    assert!(!stderr(&plain).contains('\x1b'));
}

#[test]
fn mistakes_in_several_parts_of_a_wave_are_all_reported() {
    let wave =
        GOOD.replace("start = \"2026-11-20T00:00:00Z\"", "start = \"yesterday\"").replace("10.0.0.6", "10.0.0.300");
    assert_ne!(wave, GOOD);
    let dir = waves_dir(&[("w.toml", &wave), ("v.toml", GOOD), ("defaults.toml", "[log-groups]\ndiscover = true\n")]);
    let out = wavegap(dir.path(), &["--color", "never", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let window = err.find("(window.start)").unwrap_or_else(|| panic!("{err}"));
    let ip = err.find("(apps[0].servers[0].ip)").unwrap_or_else(|| panic!("{err}"));
    assert!(window < ip, "in file order\n{err}");
    assert_eq!(err.matches("error: ").count(), 3, "two mistakes and the summary\n{err}");
    assert!(err.ends_with("error: 1 of 2 waves invalid\n"), "{err}");
}

/// `check` reads a files wave's inventory snapshot as `report` does: a broken one fails the
/// wave, naming the wave, the snapshot and what is wrong in it.
#[test]
fn a_broken_inventory_snapshot_fails_check() {
    let dir = waves_dir(&[]);
    let waves = dir.path().join("waves");
    let wave = std::fs::read_to_string(repo_root().join("waves/demo.toml")).unwrap();
    std::fs::create_dir_all(waves.join("demo/flowlogs")).unwrap();
    std::fs::write(waves.join("demo.toml"), wave).unwrap();
    for (snapshot, problem) in [
        ("{\"Vpcs\": [}", "not valid EC2 JSON"),
        (
            "{\"Vpcs\": [{\"VpcId\": \"vpc-1\", \"CidrBlock\": \"10.0.0.0/33\"}]}",
            "invalid CidrBlock `10.0.0.0/33` in vpc-1",
        ),
    ] {
        std::fs::write(waves.join("demo/inventory.json"), snapshot).unwrap();
        let out = wavegap(dir.path(), &["check"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("error: waves/demo.toml: cannot load the inventory snapshot"), "{err}");
        assert!(err.contains(problem), "{err}");
        assert!(err.ends_with("error: 1 of 1 wave invalid\n"), "{err}");
    }
}

/// A window that has not begun is a valid wave planned ahead, but its report would be empty:
/// `check` says so and still passes.
#[test]
fn a_window_in_the_future_is_warned_of() {
    let future = GOOD
        .replace("2026-11-20T00:00:00Z", "2099-11-20T00:00:00Z")
        .replace("2026-11-20T06:00:00Z", "2099-11-20T06:00:00Z");
    let dir =
        waves_dir(&[("later.toml", &future), ("now.toml", GOOD), ("defaults.toml", "[log-groups]\ndiscover = true\n")]);
    let out = wavegap(dir.path(), &["check"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        err,
        "warning: waves/later.toml: the window starts after now: no flow log has records there yet, a report now would be empty\n"
    );
}
