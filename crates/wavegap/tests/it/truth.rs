//! `wavegap report` on hand-made flow logs (`tests/fixtures/truth/` and `nacl/`, each record
//! explained in its README): clients below the service port, a secondary and an IPv6 address,
//! a SYN-only flow to a high port, a garbage line and a gzip object cut mid-line; network ACL
//! return paths, an ICMP answer and a subnet no ACL sits inside.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::{copy_dir, repo_root, stderr, stdout, wavegap};

/// A scratch directory holding the fixture wave `name.toml` and its directory `name/`.
fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    std::fs::copy(fixtures.join(format!("{name}.toml")), dir.path().join(format!("{name}.toml"))).unwrap();
    copy_dir(&fixtures.join(name), &dir.path().join(name));
    dir
}

/// `wavegap report name.toml` in `dir`, into `dir/out`: that directory and its findings.json.
fn report(dir: &Path, name: &str) -> (PathBuf, serde_json::Value) {
    let out_dir = dir.join("out");
    let out = wavegap(dir, &["report", &format!("{name}.toml"), "--out", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let json = serde_json::from_str(&std::fs::read_to_string(out_dir.join("findings.json")).unwrap()).unwrap();
    (out_dir, json)
}

/// Three records, gzipped, cut in the middle of the third.
fn cut_object(path: &Path) {
    let t = 1_772_442_600;
    let text = format!(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 123456789012 eni-app 10.20.1.10 10.20.2.20 33001 1433 6 10 2000 {t} {} ACCEPT OK\n\
         2 123456789012 eni-db 10.20.2.20 10.20.1.10 1433 33001 6 8 9000 {t} {} ACCEPT OK\n\
         2 123456789012 eni-db 10.20.1.10 10.20.2.20 33002 1433 6 10 2000 {t} {} ACCEPT OK\n",
        t + 60,
        t + 60,
        t + 60
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    // Past the header and most of the deflate stream: the cut lands in the last line.
    std::fs::write(path, &bytes[..bytes.len() - 12]).unwrap();
}

#[test]
fn hand_made_flows_give_the_right_findings_and_damage_is_in_the_report() {
    let dir = fixture("truth");
    cut_object(&dir.path().join("truth/flowlogs/cut.log.gz"));
    let (out_dir, json) = report(dir.path(), "truth");
    let rejected: Vec<(&str, &str, &str, &str)> = json["findings"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["direction_from"].as_str().unwrap(),
                f["server"]["server"].as_str().unwrap(),
                f["culprits"][0]["hop"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            // Client ports 40001 and 41234 are below 49733: still one request, not two responses.
            ("rejected/tcp/49733/10.20.1.10/10.20.2.20/request", "port-evidence", "db01", "destination-sg-ingress"),
            ("rejected/tcp/49800/10.20.1.10/10.20.2.21/request", "tcp-flags", "db01", "destination-sg-ingress"),
            (
                "rejected/tcp/5432/2600:1f18:aa00:1::10/2600:1f18:aa00:2::20/request",
                "port-evidence",
                "db01",
                "destination-sg-ingress"
            ),
        ]
    );
    let unanswered: Vec<&str> =
        json["findings"]["unanswered"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(unanswered, ["unanswered/tcp/50500/10.20.1.10/192.168.50.20"]);

    // Damage: in findings.json and report.md, not only on stderr.
    let coverage = &json["coverage"];
    assert_eq!(coverage["complete"], false);
    let damaged: Vec<(String, u64)> = coverage["damaged_input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let object = d["object"].as_str().unwrap();
            (object.rsplit('/').next().unwrap().to_owned(), d["line"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(damaged, [("cut.log.gz".to_owned(), 4), ("v2.log".to_owned(), 10)], "the line of the cut, not 1");
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("2 damaged object(s): data is missing"), "{md}");
    assert!(md.contains(r"v2.log:10: 1 problem(s)"), "{md}");
    assert!(md.contains(r"cut.log.gz:4: 1 problem(s), first: the gzip stream is truncated"), "{md}");
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains("could not be read whole") && html.contains("cut.log.gz:4"), "damage shown in the HTML");

    // Flow logs that record only ACCEPT: the report says no REJECT of these servers can show.
    let inventory = dir.path().join("truth/inventory.json");
    let text =
        std::fs::read_to_string(&inventory).unwrap().replace(r#""TrafficType": "ALL""#, r#""TrafficType": "ACCEPT""#);
    std::fs::write(&inventory, text).unwrap();
    let blind_dir = dir.path().join("blind");
    let out = wavegap(dir.path(), &["report", "truth.toml", "--out", blind_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = std::fs::read_to_string(blind_dir.join("report.md")).unwrap();
    assert!(md.contains("The flow logs of app01, db01 record no REJECT"), "{md}");
    assert!(md.contains("(**ACCEPT only: rejected flows are not logged**)"), "{md}");
    assert!(md.contains(r"**limited-visibility**: app01 (eni-app): its flow logs record only ACCEPT"), "{md}");

    // The gaps count for --fail-on-findings: exit 4, incomplete data.
    let out = wavegap(dir.path(), &["report", "truth.toml", "--out", out_dir.to_str().unwrap(), "--fail-on-findings"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
}

#[test]
fn network_acls_are_told_from_security_groups_without_tcp_flags() {
    let dir = fixture("nacl");
    let (_, json) = report(dir.path(), "nacl");
    let rejected: Vec<(&str, &str, Vec<&str>)> = json["findings"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let culprits = f["culprits"].as_array().unwrap();
            assert_eq!(culprits.len(), 1, "{f}");
            let fixes = f["proposals"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
            (f["id"].as_str().unwrap(), culprits[0]["hop"].as_str().unwrap(), fixes)
        })
        .collect();
    let proposal = |id: &str| {
        let p = json["proposals"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap();
        p["change"].clone()
    };
    // Each finding's proposals by finding id; the P numbers are the report's own.
    let by_fix: std::collections::BTreeMap<&str, Vec<&str>> =
        rejected.iter().map(|(id, _, f)| (*id, f.clone())).collect();
    assert_eq!(
        rejected.iter().map(|(id, hop, _)| (*id, *hop)).collect::<Vec<_>>(),
        [
            // Answers: a stateful security group never drops them, the subnet's ACL does.
            ("rejected/icmp/0/10.20.1.10/10.20.2.20/response", "return-destination-nacl-outbound"),
            ("rejected/tcp/1433/10.20.1.10/10.20.2.20/response", "return-destination-nacl-outbound"),
            // Inside one subnet no ACL applies: the security group.
            ("rejected/tcp/22/10.20.1.11/10.20.1.10/request", "destination-sg-ingress"),
            // The security group allows tcp/8080; acl-db inbound does not.
            ("rejected/tcp/8080/10.20.1.10/10.20.2.20/request", "destination-nacl-inbound"),
        ]
    );
    // The return rule opens the Linux client's ephemeral range to app01 alone, and the tcp/8080
    // request needs it too (acl-db's outbound allows only 49152-65535).
    let answer = &by_fix["rejected/tcp/1433/10.20.1.10/10.20.2.20/response"];
    assert_eq!(answer.len(), 1);
    let ret = proposal(answer[0]);
    assert_eq!(ret["kind"], "nacl_entry", "{ret}");
    assert_eq!(ret["acl_id"], "acl-db", "{ret}");
    let ret_text = ret.to_string();
    for part in [r#""egress":true"#, r#""from":32768"#, r#""to":61000"#, "10.20.1.10/32"] {
        assert!(ret_text.contains(part), "{part} in {ret_text}");
    }
    let web = &by_fix["rejected/tcp/8080/10.20.1.10/10.20.2.20/request"];
    assert_eq!(web.len(), 2, "{web:?}");
    assert!(web.contains(&answer[0]), "{web:?}");
    let inbound = proposal(web.iter().find(|p| **p != answer[0]).unwrap());
    let inbound_text = inbound.to_string();
    for part in [r#""egress":false"#, r#""from":8080"#, r#""to":8080"#, "10.20.1.10/32", "acl-db"] {
        assert!(inbound_text.contains(part), "{part} in {inbound_text}");
    }
    let icmp = proposal(by_fix["rejected/icmp/0/10.20.1.10/10.20.2.20/response"][0]).to_string();
    assert!(icmp.contains("acl-db") && icmp.contains(r#""egress":true"#), "{icmp}");
    let ssh = proposal(by_fix["rejected/tcp/22/10.20.1.11/10.20.1.10/request"][0]);
    assert_eq!(ssh["kind"], "sg_rule", "{ssh}");
    assert_eq!(ssh["group_id"], "sg-app", "{ssh}");
    assert_eq!(ssh["egress"], false, "{ssh}");
}
