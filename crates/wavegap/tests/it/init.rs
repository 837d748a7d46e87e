//! `wavegap init NAME --from-csv FILE`: a wave file from a wave plan spreadsheet.

use std::fs;

use crate::{repo_root, stderr, stdout, wavegap};

#[test]
fn a_wave_plan_csv_becomes_a_wave_that_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let csv = repo_root().join("tests/fixtures/wave-plan.csv");
    let out = wavegap(dir.path(), &["init", "wave-7", "--from-csv", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("4 servers in 2 app(s)"), "{}", stderr(&out));
    let text = fs::read_to_string(dir.path().join("waves/wave-7.toml")).unwrap();
    assert!(text.starts_with("# Written by `wavegap init wave-7 --from-csv"), "{text}");
    // Apps in the order they first appear, each server under its app; `os` in lower case.
    let crm = text.find("name = \"crm\"").unwrap();
    let billing = text.find("name = \"billing\"").unwrap();
    assert!(crm < billing && text.find("name = \"crm-batch\"").unwrap() < billing, "{text}");
    assert!(text.contains("name = \"crm-web\"\nip = \"10.0.0.6\"\nrole = \"web\"\nos = \"linux\"\ninstance-id = \"i-0123456789abcdef0\"\n"), "{text}");
    assert!(text.contains("role = \"batch, nightly\"\n"), "{text}");
    assert!(text.contains("os = \"windows\""), "{text}");
    let out = wavegap(dir.path(), &["check", "wave-7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("wave-7  2 apps, 4 servers, log groups: discover, last 1d, cloudwatch"),
        "{}",
        stdout(&out)
    );

    // An existing wave is kept unless --force.
    let out = wavegap(dir.path(), &["init", "wave-7", "--from-csv", csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("exists already\nhint: pick another name, or pass --force"), "{}", stderr(&out));
    let out = wavegap(dir.path(), &["init", "wave-7", "--from-csv", csv.to_str().unwrap(), "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_mistake_in_the_csv_is_named_at_its_row_and_column_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "name,ip,app\nweb,10.0.0.6,crm\ndb,10.0.0.300,crm\n",
            "plan.csv:3: column `ip`: invalid IP address \"10.0.0.300\"",
        ),
        (
            "name,ip,app,rol\nweb,10.0.0.6,crm,web\n",
            "plan.csv:1: unknown column `rol`\nhint: the columns are name, ip, app, role, os, instance-id",
        ),
        ("name,app\nweb,crm\n", "plan.csv:1: no `ip` column"),
        ("name,ip,app\nweb,,crm\n", "plan.csv:2: column `ip` is empty"),
        ("name,ip,app\nweb,10.0.0.6,crm\nweb,10.0.0.7,crm\n", "plan.csv:3: column `name`: two servers named `web`"),
        ("name,ip,app,os\nweb,10.0.0.6,crm,beos\n", "plan.csv:2: column `os`:"),
        ("name,ip,app\n", "plan.csv has no servers"),
        ("name,ip,app\nweb,10.0.0.6\n", "plan.csv:2:"),
    ];
    for (csv, expected) in cases {
        fs::write(dir.path().join("plan.csv"), csv).unwrap();
        let out = wavegap(dir.path(), &["init", "w", "--from-csv", "plan.csv"]);
        assert_eq!(out.status.code(), Some(2), "{csv}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{csv}: {}", stderr(&out));
        assert!(!dir.path().join("waves/w.toml").exists(), "{csv}");
    }
}
