//! `wavegap explain`: one flow, hop by hop, from the wave's inventory snapshot.

use crate::{repo_root, stderr, stdout, wavegap};

fn fixtures() -> std::path::PathBuf {
    repo_root().join("crates/wavegap/tests/fixtures")
}

#[test]
fn ping_allowed_by_the_sg_is_dropped_by_the_nacl_on_the_way_back() {
    let out = wavegap(&fixtures(), &["explain", "ping/ping.toml", "203.0.113.12", "172.31.16.139", "icmp"]);
    assert_eq!(out.status.code(), Some(1), "not reachable exits 1: {}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "wave ping: 203.0.113.12 -> 172.31.16.139 (web01)");
    assert!(lines.iter().any(|l| l.contains("destination security group ingress") && l.contains("ALLOW")), "{text}");
    assert!(text.contains("sg-0ping0000000000a (web): allow icmp from 203.0.113.0/24"), "{text}");
    assert!(
        lines.iter().any(|l| l.contains("return: destination subnet NACL outbound") && l.contains("DENY")),
        "{text}"
    );
    assert!(text.contains("#* deny all to 0.0.0.0/0"), "{text}");
    assert!(
        text.ends_with(
            "=> NOT REACHABLE: the request passes but the response is dropped at return: destination subnet NACL outbound\n"
        ),
        "{text}"
    );
}

#[test]
fn reachable_flow_names_the_allowing_rules() {
    let out = wavegap(&repo_root(), &["explain", "demo", "10.0.0.7", "10.0.0.8", "1433/tcp"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("same subnet: NACLs are not evaluated"), "{text}");
    assert!(text.contains("=> REACHABLE"), "{text}");
}

#[test]
fn unreadable_service_is_a_usage_error_with_a_hint() {
    let out = wavegap(&fixtures(), &["explain", "ping/ping.toml", "203.0.113.12", "172.31.16.139", "443/xyz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown protocol `xyz`\nhint: write tcp/PORT"), "{}", stderr(&out));
}

#[test]
fn missing_snapshot_is_a_configuration_error() {
    let out = wavegap(
        &fixtures(),
        &["explain", "ping/ping.toml", "203.0.113.12", "172.31.16.139", "icmp", "--inventory", "ping/nope.json"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot load the inventory snapshot"), "{}", stderr(&out));
}

/// A security group named with escape sequences (from a snapshot) is shown, not obeyed: no
/// control character reaches the terminal.
#[test]
fn names_with_control_characters_are_escaped_on_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let waves = dir.path().join("waves");
    std::fs::create_dir_all(waves.join("demo")).unwrap();
    std::fs::copy(repo_root().join("waves/demo.toml"), waves.join("demo.toml")).unwrap();
    let text = std::fs::read_to_string(repo_root().join("waves/demo/inventory.json")).unwrap();
    let mut snapshot: serde_json::Value = serde_json::from_str(&text).unwrap();
    for sg in snapshot["SecurityGroups"].as_array_mut().unwrap() {
        sg["GroupName"] = "evil\u{1b}[31mRED\u{1b}[0m\u{7}".into();
        sg["Tags"] = serde_json::json!([{ "Key": "Name", "Value": "evil\u{1b}]0;title\u{7}" }]);
    }
    std::fs::write(waves.join("demo/inventory.json"), snapshot.to_string()).unwrap();
    std::os::unix::fs::symlink(repo_root().join("waves/demo/flowlogs"), waves.join("demo/flowlogs")).unwrap();
    let out = wavegap(dir.path(), &["explain", "demo", "10.0.0.6", "10.0.0.7", "tcp/8080"]);
    let stdout = stdout(&out);
    assert!(stdout.contains("(evil\\u{1b}"), "{stdout}");
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'), "{stdout}");
    let out = wavegap(dir.path(), &["report", "demo", "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
}
