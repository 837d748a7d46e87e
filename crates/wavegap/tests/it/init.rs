//! `wavegap init NAME --from-csv FILE`: a wave file from a wave plan spreadsheet.

use std::fs;

use wavegap_resolver::testing;

use crate::{FAKE_CREDENTIALS, repo_root, stderr, stdout, wavegap, wavegap_aws};

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

/// The seeded account's instances `names` (see `testing::seed`).
fn instance_ids<'a>(seeded: &'a testing::Seeded, names: &[&str]) -> Vec<&'a str> {
    names.iter().map(|n| seeded.server(n).instance_id.as_deref().expect("an instance")).collect()
}

#[tokio::test]
async fn instances_tagged_for_the_wave_become_a_wave_that_resolves() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let wave = instance_ids(&seeded, &["web01", "web02", "app01", "db01", "db02", "tools01"]);
    moto.tag(&wave, &[("Wave", "wave-7")]).await;
    moto.tag(&wave[..3], &[("Application", "Shop Front")]).await;
    moto.tag(&wave[..2], &[("Role", "web")]).await;
    moto.tag(&wave[3..5], &[("App", "shop-db")]).await;
    // Another wave's instance, and one tagged for this wave that was terminated.
    moto.tag(&instance_ids(&seeded, &["tools02"]), &[("Wave", "wave-8")]).await;
    moto.tag(&[seeded.terminated_instance.as_str()], &[("Wave", "wave-7"), ("App", "gone")]).await;

    let dir = tempfile::tempdir().unwrap();
    let init = ["init", "wave-7", "--from-tags", "Wave=wave-7", "--endpoint-url", moto.endpoint()];
    let out = wavegap_aws(dir.path(), &[&init[..], &["--region", testing::REGION]].concat(), &FAKE_CREDENTIALS);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("6 servers in 3 app(s)"), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 instance(s) have no `App` or `Application`"), "{}", stderr(&out));
    let text = fs::read_to_string(dir.path().join("waves/wave-7.toml")).unwrap();
    assert!(text.starts_with("# Written by `wavegap init wave-7 --from-tags Wave=wave-7`, from the EC2 instances of account 123456789012 in us-east-1"), "{text}");
    assert!(text.contains("\n[aws]\nregion = \"us-east-1\"\n"), "{text}");
    assert!(text.contains("[log-groups]\ndiscover = true\n"), "{text}");
    // Apps sorted, the untagged instance last with a comment saying what to do.
    let (front, db, untagged) = (
        text.find("name = \"Shop-Front\"").unwrap(),
        text.find("name = \"shop-db\"").unwrap(),
        text.find("name = \"untagged\"").unwrap(),
    );
    assert!(front < db && db < untagged, "{text}");
    assert!(text[..untagged].ends_with("# No `App` or `Application` tag on these instances: move each under its app, or tag it and run init again.\n[[apps]]\n"), "{text}");
    // Linux only where EC2 says so (`PlatformDetails`, which moto leaves out), Windows from `Platform`.
    let web01 = &seeded.server("web01");
    let web01 = format!("name = \"web01\"\nip = \"{}\"\nrole = \"web\"\ninstance-id = \"{}\"\n", web01.ip, wave[0]);
    assert!(text.contains(&web01), "{text}");
    assert!(
        text.contains(&format!("name = \"db01\"\nip = \"{}\"\nos = \"windows\"\n", seeded.server("db01").ip)),
        "{text}"
    );
    assert!(!text.contains("tools02") && !text.contains("gone"), "{text}");

    let out = wavegap(dir.path(), &["check", "wave-7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let inventory = ["inventory", "wave-7", "-o", "inv.json", "--endpoint-url", moto.endpoint()];
    let out = wavegap_aws(dir.path(), &inventory, &FAKE_CREDENTIALS);
    assert!(stderr(&out).starts_with("wave-7: 6 of 6 servers resolved"), "{}", stderr(&out));
}

#[tokio::test]
async fn no_instance_with_the_tag_is_a_clear_error_and_writes_nothing() {
    let moto = testing::moto();
    testing::seed(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    for (tag, expected) in [
        ("Wave=wave-9", "no EC2 instance in us-east-1 is tagged Wave=wave-9\nhint: check the tag's spelling and case"),
        ("wave-9", "--from-tags \"wave-9\": expected KEY=VALUE"),
    ] {
        let args =
            ["init", "wave-9", "--from-tags", tag, "--endpoint-url", moto.endpoint(), "--region", testing::REGION];
        let out = wavegap_aws(dir.path(), &args, &FAKE_CREDENTIALS);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
        assert!(!dir.path().join("waves/wave-9.toml").exists());
    }
}
