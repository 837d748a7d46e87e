//! `wavegap report` on an S3 wave, end to end: the demo's flow-log objects in a bucket of
//! moto's S3 on 127.0.0.1, read where they are. The report is the files report's but for the
//! lines that say where the flows came from and what reading them cost.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use wavegap_resolver::testing;

use crate::{clean_command, demo_copy, repo_root, stderr, stdout};

const BUCKET: &str = "central-flow-logs";
const ACCOUNT_DIR: &str = "vpc/AWSLogs/123456789012/vpcflowlogs/eu-west-1";

fn client(endpoint: &str) -> aws_sdk_s3::Client {
    client_in(endpoint, "eu-west-1")
}

/// A client in the seeded account's region.
fn testing_client(endpoint: &str) -> aws_sdk_s3::Client {
    client_in(endpoint, testing::REGION)
}

fn client_in(endpoint: &str, region: &'static str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .http_client(wavegap_resolver::aws::http_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Every demo object, by its path under `waves/demo/flowlogs/` (`AWSLogs/…`).
fn demo_objects() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.push((path.strip_prefix(root).unwrap().to_string_lossy().into_owned(), path));
            }
        }
    }
    let root = repo_root().join("waves/demo/flowlogs");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

async fn create_bucket(s3: &aws_sdk_s3::Client) {
    let eu = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
        .build();
    s3.create_bucket().bucket(BUCKET).create_bucket_configuration(eu).send().await.unwrap();
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: Vec<u8>) {
    s3.put_object().bucket(BUCKET).key(key).body(ByteStream::from(body)).send().await.unwrap();
}

/// The Hive-compatible key of a demo object's key (`AWSLogs/<account>/vpcflowlogs/<region>/
/// YYYY/MM/DD/<name>`), in an hourly partition.
fn hive_key(key: &str) -> String {
    let p: Vec<&str> = key.split('/').collect();
    let name = p[7];
    let hour = &name[name.find("_2026").unwrap() + 10..][..2];
    format!(
        "hive/AWSLogs/aws-account-id={}/aws-service=vpcflowlogs/aws-region={}/year={}/month={}/day={}/hour={hour}/{name}",
        p[1], p[3], p[4], p[5], p[6]
    )
}

/// The demo wave reading `url`, named `demo` so that the reports compare.
fn s3_wave(dir: &Path, url: &str) {
    let text = fs::read_to_string(dir.join("waves/demo.toml")).unwrap();
    let text = text.replace("files = \"demo/flowlogs\"", &format!("s3 = \"{url}\""));
    fs::write(dir.join("waves/demo.toml"), text).unwrap();
}

fn report(dir: &Path, endpoint: &str, keys: (&str, &str), out: &str) -> Output {
    let home = tempfile::tempdir().unwrap();
    clean_command(dir, home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", keys.0)
        .env("AWS_SECRET_ACCESS_KEY", keys.1)
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL_S3", endpoint)
        .args(["report", "demo", "--out", out])
        .output()
        .unwrap()
}

/// A report file with its generation time (from findings.json) replaced.
fn timeless(dir: &Path, name: &str) -> String {
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(dir.join("findings.json")).unwrap()).unwrap();
    let at = doc["generated_at"].as_str().unwrap();
    fs::read_to_string(dir.join(name)).unwrap().replace(at, "GENERATED-AT")
}

/// report.md without the lines that say where the flows came from and what they cost, and
/// without the count of objects skipped by name.
fn without_source(dir: &Path) -> String {
    timeless(dir, "report.md")
        .lines()
        .filter(|l| !l.starts_with("| Source |") && !l.starts_with("| Estimated cost |"))
        .map(|l| match l.split_once("; 1 object(s) not opened") {
            Some((before, _)) => format!("{before} |"),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn line<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("no line {start} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_wave_reports_what_the_files_wave_reports() {
    let moto = testing::moto();
    let s3 = client(moto.endpoint());
    create_bucket(&s3).await;
    let objects = demo_objects();
    for (key, path) in &objects {
        put(&s3, &format!("vpc/{key}"), fs::read(path).unwrap()).await;
        put(&s3, &hive_key(key), fs::read(path).unwrap()).await;
    }
    // Neither is ever fetched: one is under a day the window does not touch (never listed),
    // the other's name puts it 13 hours after the window (listed, then skipped by name).
    put(
        &s3,
        &format!("{ACCOUNT_DIR}/2026/03/05/123456789012_vpcflowlogs_eu-west-1_fl-1_20260305T0900Z_00.log.gz"),
        b"x".to_vec(),
    )
    .await;
    put(
        &s3,
        &format!("{ACCOUNT_DIR}/2026/03/02/123456789012_vpcflowlogs_eu-west-1_fl-1_20260302T2300Z_00.log.gz"),
        b"x".to_vec(),
    )
    .await;

    let files = demo_copy();
    let out = report(files.path(), moto.endpoint(), ("testing", "testing"), "out");
    assert!(out.status.success(), "{}", stderr(&out));
    for (url, out_dir) in [("s3://central-flow-logs/vpc/", "out-s3"), ("s3://central-flow-logs/hive/", "out-hive")] {
        let dir = demo_copy();
        s3_wave(dir.path(), url);
        let out = report(dir.path(), moto.endpoint(), ("testing", "testing"), out_dir);
        assert!(out.status.success(), "{url}: {}\n{}", stdout(&out), stderr(&out));
        let ours = dir.path().join(out_dir);
        let theirs = files.path().join("out");
        assert_eq!(without_source(&ours), without_source(&theirs), "{url}");
        for name in ["findings.csv", "fix.sh", "fix.tf", "junit.xml"] {
            assert_eq!(timeless(&ours, name), timeless(&theirs, name), "{url}: {name}");
        }
        let md = fs::read_to_string(ours.join("report.md")).unwrap();
        assert!(line(&md, "| Source |").contains(&format!("flow-log objects in {url} with the inventory snapshot")));
        let doc: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(ours.join("findings.json")).unwrap()).unwrap();
        assert_eq!(doc["wave"]["source"], "s3");
        assert!(doc["coverage"]["damaged_input"].as_array().unwrap().is_empty(), "{url}: {:#}", doc["coverage"]);
        if url.ends_with("/vpc/") {
            // LIST: AWSLogs/, each of the two accounts' regions, each account's one day.
            // GET: the demo's objects only; the two stray objects are never fetched.
            let cost = line(&md, "| Estimated cost |");
            assert!(cost.contains(&format!("5 LIST, {} GET", objects.len())), "{cost}");
            assert!(line(&md, "| Data scanned |").contains("; 1 object(s) not opened"), "{md}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_refused_access_and_a_cut_object_are_said_plainly() {
    let moto = testing::moto();
    let s3 = client(moto.endpoint());
    let dir = demo_copy();

    // No such bucket: an error naming it, exit 3, no report.
    s3_wave(dir.path(), "s3://no-such-bucket/vpc/");
    let out = report(dir.path(), moto.endpoint(), ("testing", "testing"), "out");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("S3 ListObjectsV2 on s3://no-such-bucket/vpc/AWSLogs/ failed: NoSuchBucket"), "{err}");
    assert!(err.contains("hint: check the bucket name"), "{err}");
    assert!(!dir.path().join("out").exists());

    // One object cut short: the rest is read and the report names the object.
    create_bucket(&s3).await;
    let objects = demo_objects();
    for (i, (key, path)) in objects.iter().enumerate() {
        let mut bytes = fs::read(path).unwrap();
        if i == 0 {
            bytes.truncate(bytes.len() / 2);
        }
        put(&s3, &format!("vpc/{key}"), bytes).await;
    }
    let wave = fs::read_to_string(dir.path().join("waves/demo.toml")).unwrap();
    fs::write(dir.path().join("waves/demo.toml"), wave.replace("s3://no-such-bucket/", "s3://central-flow-logs/"))
        .unwrap();
    let out = report(dir.path(), moto.endpoint(), ("testing", "testing"), "out");
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/findings.json")).unwrap()).unwrap();
    let damaged = doc["coverage"]["damaged_input"].as_array().unwrap();
    assert_eq!(damaged.len(), 1, "{damaged:#?}");
    assert_eq!(damaged[0]["object"], format!("s3://{BUCKET}/vpc/{}", objects[0].0));
    assert!(damaged[0]["what"].as_str().unwrap().contains("truncated"), "{damaged:#?}");
    let md = fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    let named = format!("s3://{BUCKET}/vpc/{}", objects[0].0).replace('_', "\\_");
    assert!(md.contains(&format!("- **damaged-input**: {named}:")), "{md}");

    // Credentials that may not list the bucket: access denied, with the permissions it needs.
    let keys = moto.iam_user("reader", &["ec2:Describe*"]);
    moto.enforce_iam();
    let out = report(dir.path(), moto.endpoint(), (&keys.0, &keys.1), "out2");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("failed: AccessDenied"), "{err}");
    assert!(err.contains("s3:ListBucket"), "{err}");
    assert!(!dir.path().join("out2").exists());
}

/// An S3 wave without an inventory snapshot: the servers resolve with moto's EC2, and the
/// objects of the seeded subnet flow log (delivered to S3) are read from moto's S3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_wave_without_a_snapshot_resolves_its_servers_with_ec2() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let (app, db) = (seeded.server("app01"), seeded.server("db01"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().cast_signed();
    let at = now - 900;
    let fields = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    let text = format!(
        "{fields}\n2 {acct} {eni} {a} {d} 50100 5432 6 3 180 {at} {end} REJECT OK\n2 {acct} {eni} {a} {d} 50102 5432 6 3 180 {at} {end} REJECT OK\n",
        acct = testing::ACCOUNT,
        eni = db.eni_id,
        a = app.ip,
        d = db.ip,
        end = at + 30,
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    let time = chrono::DateTime::from_timestamp(at + 300, 0).unwrap();
    let key = format!(
        "AWSLogs/{acct}/vpcflowlogs/{region}/{day}/{acct}_vpcflowlogs_{region}_{fl}_{stamp}_0a1b2c3d.log.gz",
        acct = testing::ACCOUNT,
        region = testing::REGION,
        day = time.format("%Y/%m/%d"),
        fl = seeded.flow_logs["db"],
        stamp = time.format("%Y%m%dT%H%MZ"),
    );
    testing_client(moto.endpoint())
        .put_object()
        .bucket(testing::FLOW_BUCKET)
        .key(key)
        .body(ByteStream::from(gz.finish().unwrap()))
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("waves")).unwrap();
    let wave = testing::wave_toml(&seeded)
        .replace("source = \"cloudwatch\"\n", &format!("[source]\ns3 = \"s3://{}/\"\n\n", testing::FLOW_BUCKET));
    fs::write(dir.path().join("waves/moto-wave.toml"), wave).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = clean_command(dir.path(), home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL_EC2", moto.endpoint())
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint())
        .args(["report", "moto-wave", "--out", "out"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let out_dir = dir.path().join("out");
    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out_dir.join("findings.json")).unwrap()).unwrap();
    assert_eq!(doc["wave"]["source"], "s3");
    let ids: Vec<&str> =
        doc["findings"]["rejected"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [format!("rejected/tcp/5432/{}/{}/request", app.ip, db.ip)], "{:#}", doc["findings"]);
    let md = fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(
        line(&md, "| Source |")
            .contains(&format!("s3://{}/ with the inventory from the EC2 API", testing::FLOW_BUCKET)),
        "{md}"
    );
    // The inventory it resolved is saved with the report, as for a CloudWatch wave.
    assert!(out_dir.join("inventory.json").is_file());
}

/// report.md as `without_source`, with the bytes of the "Data scanned" row left out: a Parquet
/// object holds the same records as its text object in other bytes.
fn without_bytes(dir: &Path) -> String {
    without_source(dir)
        .lines()
        .map(|l| match (l.strip_prefix("| Data scanned | "), l.find(" in ")) {
            (Some(_), Some(at)) => format!("| Data scanned | BYTES{}", &l[at..]),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The demo's flow logs as the S3 delivery's Parquet objects, in a bucket and on disk, report
/// what the text objects report: the same findings, records and aggregates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_flow_logs_in_s3_and_on_disk_report_what_the_text_logs_report() {
    use wavegap_testsupport::parquet::{from_text_object, object_name};
    let moto = testing::moto();
    let s3 = client(moto.endpoint());
    create_bucket(&s3).await;
    let objects = demo_objects();
    let on_disk = demo_copy();
    for (key, path) in &objects {
        let parquet = from_text_object(&fs::read(path).unwrap(), 64);
        put(&s3, &object_name(&format!("pq/{key}")), parquet.clone()).await;
        let copy = on_disk.path().join("waves/demo/flowlogs").join(key);
        fs::remove_file(&copy).unwrap();
        fs::write(object_name(&copy.to_string_lossy()), parquet).unwrap();
    }

    let text = demo_copy();
    let out = report(text.path(), moto.endpoint(), ("testing", "testing"), "out");
    assert!(out.status.success(), "{}", stderr(&out));
    let in_s3 = demo_copy();
    s3_wave(in_s3.path(), "s3://central-flow-logs/pq/");
    let theirs = text.path().join("out");
    for (dir, what) in [(&in_s3, "s3"), (&on_disk, "files")] {
        let out = report(dir.path(), moto.endpoint(), ("testing", "testing"), "out");
        assert!(out.status.success(), "{what}: {}\n{}", stdout(&out), stderr(&out));
        let ours = dir.path().join("out");
        assert_eq!(without_bytes(&ours), without_bytes(&theirs), "{what}");
        for name in ["findings.csv", "fix.sh", "fix.tf", "junit.xml"] {
            assert_eq!(timeless(&ours, name), timeless(&theirs, name), "{what}: {name}");
        }
        let doc: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(ours.join("findings.json")).unwrap()).unwrap();
        assert_eq!(doc["wave"]["source"], what);
        assert!(doc["coverage"]["damaged_input"].as_array().unwrap().is_empty(), "{what}: {:#}", doc["coverage"]);
    }
}

/// `wavegap watch` on an S3 wave: cycle 1 finds the objects of the 09:00 slot, cycle 2 the
/// ones delivered after; over both cycles each object is fetched once, and the end is the
/// report of all the objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_watch_fetches_each_object_once() {
    use crate::watch::{DEMO_FIRST, DEMO_SECOND, Watching};
    let moto = testing::moto();
    let s3 = client(moto.endpoint());
    create_bucket(&s3).await;
    let objects = demo_objects();
    let early = |key: &str| key.contains("20260302T0900Z");
    for (key, path) in objects.iter().filter(|(k, _)| early(k)) {
        put(&s3, &format!("vpc/{key}"), fs::read(path).unwrap()).await;
    }
    let dir = demo_copy();
    s3_wave(dir.path(), "s3://central-flow-logs/vpc/");
    let home = tempfile::tempdir().unwrap();
    let mut cmd = clean_command(dir.path(), home.path());
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint())
        .args(["watch", "demo", "--every", "1h", "--since", "40m", "--cycles", "2", "--out", "out"]);
    let watch = Watching::start(cmd, dir.path().join("clock"), DEMO_FIRST);
    tokio::task::block_in_place(|| watch.wait_cycle("demo", 1));
    // The GET requests so far, as the report's cost line counts them.
    let gets = || {
        let md = fs::read_to_string(dir.path().join("out/report.md")).unwrap();
        let cost = line(&md, "| Estimated cost |").to_owned();
        let n = cost.split(" GET").next().and_then(|s| s.rsplit(' ').next()).and_then(|n| n.parse::<usize>().ok());
        n.unwrap_or_else(|| panic!("{cost}"))
    };
    assert_eq!(gets(), objects.iter().filter(|(k, _)| early(k)).count());
    for (key, path) in objects.iter().filter(|(k, _)| !early(k)) {
        put(&s3, &format!("vpc/{key}"), fs::read(path).unwrap()).await;
    }
    watch.advance(DEMO_SECOND);
    let (code, out, err) = tokio::task::block_in_place(|| watch.finish());
    assert_eq!(code, Some(0), "{out}\n{err}");
    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/findings.json")).unwrap()).unwrap();
    assert_eq!(gets(), objects.len());
    let ids = |doc: &serde_json::Value| -> Vec<String> {
        doc["findings"]["rejected"].as_array().unwrap().iter().map(|f| f["id"].to_string()).collect()
    };
    // The same rejected flows as the report of every object on disk.
    let files = demo_copy();
    let once = report(files.path(), moto.endpoint(), ("testing", "testing"), "once");
    assert!(once.status.success(), "{}", stderr(&once));
    let once: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(files.path().join("once/findings.json")).unwrap()).unwrap();
    assert_eq!(ids(&doc), ids(&once));
}
