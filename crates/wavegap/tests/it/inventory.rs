//! `wavegap inventory` against moto: the snapshot it writes is what the resolver sees, as a
//! file and split into per-call AWS CLI outputs; failures exit 2 or 3 with a hint.

use std::fs;
use std::path::Path;

use wavegap_resolver::ec2json::Snapshot;
use wavegap_resolver::{load_inventory, load_snapshot, testing};

use crate::{FAKE_CREDENTIALS, stderr, wavegap_aws};

fn split_into_cli_files(snapshot: &Snapshot, dir: &Path) {
    let value = serde_json::to_value(snapshot).unwrap();
    for (key, items) in value.as_object().unwrap() {
        let mut obj = serde_json::Map::new();
        obj.insert(key.clone(), items.clone());
        fs::write(dir.join(format!("aws-ec2-{key}.json")), serde_json::to_string(&obj).unwrap()).unwrap();
    }
}

#[tokio::test]
async fn writes_the_snapshot_the_resolver_sees() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("waves")).unwrap();
    fs::write(dir.path().join("waves/moto-wave.toml"), testing::wave_toml(&seeded)).unwrap();

    let out = wavegap_aws(
        dir.path(),
        &["inventory", "moto-wave", "--out", "inv.json", "--endpoint-url", moto.endpoint()],
        &FAKE_CREDENTIALS,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.starts_with("moto-wave: 30 of 33 servers resolved (1 on premises, not looked up)\n"), "{err}");
    assert!(err.contains("  log groups: /wavegap/flow/app, /wavegap/flow/explicit, /wavegap/flow/log01\n"), "{err}");
    assert!(err.contains("  warning: ghost not resolved: no network interface has private IP 10.10.1.250\n"), "{err}");
    assert!(err.contains("  warning: no flow logs cover tools01, tools02"), "{err}");
    assert!(err.ends_with("wrote inv.json\n"), "{err}");

    let written = load_snapshot(&dir.path().join("inv.json")).unwrap();
    let expected = moto.resolver().resolve(&testing::wave(&seeded)).await.unwrap();
    assert_eq!(written, expected.snapshot);
    let inventory = written.to_inventory().unwrap();
    assert_eq!(&inventory, expected.inventory());
    assert_eq!(inventory.enis.len(), expected.inventory().enis.len());

    let cli = dir.path().join("cli-outputs");
    fs::create_dir(&cli).unwrap();
    split_into_cli_files(&written, &cli);
    assert_eq!(&load_inventory(&cli).unwrap(), expected.inventory());
}

#[tokio::test]
async fn missing_credentials_exit_3_with_a_hint() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("w.toml"), testing::wave_toml(&seeded)).unwrap();
    let out = wavegap_aws(dir.path(), &["inventory", "./w.toml", "--endpoint-url", moto.endpoint()], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.starts_with("error: no AWS credentials found ("), "{err}");
    assert!(
        err.contains(
            "\nhint: run `aws configure` or `aws sso login`, pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
        ),
        "{err}"
    );
    assert!(!dir.path().join("reports").exists(), "nothing written on failure");
}

#[test]
fn bad_regions_and_waves_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let wave = "name = \"w\"\nsource = \"cloudwatch\"\n[window]\nlast = \"1h\"\n[log-groups]\ndiscover = true\n\
                [[apps]]\nname = \"a\"\n[[apps.servers]]\nname = \"s\"\nip = \"10.0.0.1\"\n";
    fs::write(dir.path().join("w.toml"), wave).unwrap();
    let check = |args: &[&str], code: i32, first_line: &str| {
        let out = wavegap_aws(dir.path(), args, &FAKE_CREDENTIALS);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert_eq!(err.lines().next(), Some(first_line), "{err}");
    };
    check(&["inventory", "./w.toml", "--region", "Mars"], 2, "error: `Mars` is not a valid AWS region name");
    check(&["inventory", "./nowhere.toml"], 2, "error: no wave file ./nowhere.toml");
}

#[tokio::test]
async fn the_waves_role_is_assumed_through_sts() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let role = format!("arn:aws:iam::{}:role/wavegap-reader", testing::ACCOUNT);
    let wave = testing::wave_toml(&seeded)
        .replace("[aws]\n", &format!("[aws]\nassume-role-arn = \"{role}\"\nexternal-id = \"wave-x\"\n"));
    fs::write(dir.path().join("w.toml"), &wave).unwrap();
    let args = ["inventory", "./w.toml", "--endpoint-url", moto.endpoint(), "-o", "i.json"];
    let out = wavegap_aws(dir.path(), &args, &FAKE_CREDENTIALS);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = load_snapshot(&dir.path().join("i.json")).unwrap();
    assert_eq!(written.network_interfaces.len(), 32);

    // A caller that may not assume the role gets the refusal, named, in one line and a hint.
    let (key, secret) = moto.iam_user("auditor", &["ec2:DescribeVpcs"]);
    moto.enforce_iam();
    let env = [("AWS_ACCESS_KEY_ID", key.as_str()), ("AWS_SECRET_ACCESS_KEY", secret.as_str())];
    let out = wavegap_aws(dir.path(), &args, &env);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.ends_with(
            "error: access denied for sts:AssumeRole: AccessDenied: User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: sts:AssumeRole\nhint: the identity in use needs `sts:AssumeRole` (see the IAM policy in README.md)\n"
        ),
        "{err}"
    );
    moto.reset();
}
