//! `wavegap report` on a wave across two accounts, end to end: moto emulates both accounts
//! (its STS hands out each account's credentials for a role in it), the Logs Insights test
//! endpoint serves both accounts' log groups, and the report names the missing rule in the
//! account that owns it, with the scan of each account.

use std::fs;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_ec2::types::{FlowLogsResourceType, IpPermission, IpRange, LogDestinationType, TrafficType};
use wavegap_core::flowlog::FlowFormat;
use wavegap_resolver::testing::{self, APP_LOG_FORMAT, Moto};
use wavegap_testsupport::{FailRule, FaultStatus, Faults, Fixture, TestEndpoint};

use crate::{clean_command, stderr};

const WEB_ACCOUNT: &str = "111111111111";
const DATA_ACCOUNT: &str = "222222222222";
const WEB_GROUP: &str = "/flow/web";
const DATA_GROUP: &str = "/flow/data";

/// One VPC in `account` with a subnet, a security group (`ingress` on top of the default
/// egress) and an interface at `ip`, its flow log into `log_group`. Returns the VPC, subnet,
/// group and interface ids.
async fn seed_account(
    moto: &Moto,
    account: &str,
    cidr: &str,
    ip: &str,
    ingress: Option<IpPermission>,
    log_group: &str,
) -> [String; 4] {
    let ec2 = moto.ec2_in(account).await;
    let vpc = ec2.create_vpc().cidr_block(cidr).send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_owned();
    let subnet_cidr = cidr.replace(".0.0/16", ".1.0/24");
    let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block(subnet_cidr).send().await.unwrap();
    let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_owned();
    let group = ec2
        .create_security_group()
        .group_name(format!("sg-{account}"))
        .description("wave servers")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    if let Some(rule) = ingress {
        ec2.authorize_security_group_ingress().group_id(&group).ip_permissions(rule).send().await.unwrap();
    }
    let eni = ec2.create_network_interface().subnet_id(&subnet).private_ip_address(ip).groups(&group).send().await;
    let eni = eni.unwrap().network_interface().unwrap().network_interface_id().unwrap().to_owned();
    ec2.create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .resource_ids(&vpc)
        .traffic_type(TrafficType::All)
        .log_format(APP_LOG_FORMAT)
        .log_destination_type(LogDestinationType::CloudWatchLogs)
        .log_group_name(log_group)
        .deliver_logs_permission_arn(format!("arn:aws:iam::{account}:role/flow-logs"))
        .send()
        .await
        .unwrap();
    [vpc, subnet, group, eni]
}

fn wave_toml(data_external_id: &str) -> String {
    format!(
        r#"name = "two-accounts"
source = "cloudwatch"

[window]
last = "1h"

[aws]
region = "us-east-1"

[networks]
internal = ["10.0.0.0/8"]

[[accounts]]
id = "{WEB_ACCOUNT}"
name = "web"
assume-role-arn = "arn:aws:iam::{WEB_ACCOUNT}:role/wavegap-read"
discover = true

[[accounts]]
id = "{DATA_ACCOUNT}"
name = "data"
assume-role-arn = "arn:aws:iam::{DATA_ACCOUNT}:role/wavegap-read"
external-id = "{data_external_id}"
discover = true

[[apps]]
name = "shop"

[[apps.servers]]
name = "web01"
ip = "10.60.1.10"
os = "linux"
account = "web"

# No account: the resolver finds it in whichever account has it.
[[apps.servers]]
name = "db01"
ip = "10.70.1.20"
os = "linux"
"#
    )
}

/// The `wavegap` command with EC2 and STS on moto and Logs Insights at `logs`.
fn command(dir: &Path, home: &Path, moto: &Moto, logs: &str) -> std::process::Command {
    let mut cmd = clean_command(dir, home);
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL_EC2", moto.endpoint())
        .env("AWS_ENDPOINT_URL_STS", moto.endpoint())
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", logs);
    cmd
}

/// The two accounts seeded and peered, their flows on the test endpoint (with `faults`), and
/// the wave in a fresh directory.
struct TwoAccounts {
    web_vpc: String,
    web_sg: String,
    data_vpc: String,
    data_sg: String,
    peering: String,
    logs: TestEndpoint,
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

async fn two_accounts(moto: &Moto, faults: Faults) -> TwoAccounts {
    // web01 in the web account calls db01 in the data account on tcp/1433; db01's group
    // admits only tcp/5432 from the web VPC, so db01's interface logs the REJECT in the data
    // account's log group, and web01's logs the request leaving in the web account's.
    let postgres = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .ip_ranges(IpRange::builder().cidr_ip("10.60.0.0/16").build())
        .build();
    let [web_vpc, web_subnet, web_sg, web_eni] =
        seed_account(moto, WEB_ACCOUNT, "10.60.0.0/16", "10.60.1.10", None, WEB_GROUP).await;
    let [data_vpc, data_subnet, data_sg, data_eni] =
        seed_account(moto, DATA_ACCOUNT, "10.70.0.0/16", "10.70.1.20", Some(postgres), DATA_GROUP).await;

    // The two VPCs are peered across the accounts: the web account asks, the data account
    // accepts. Each account's resolution sees the peering; the merged inventory holds it once.
    let request = moto.ec2_in(WEB_ACCOUNT).await.create_vpc_peering_connection();
    let peering = request.vpc_id(&web_vpc).peer_vpc_id(&data_vpc).peer_owner_id(DATA_ACCOUNT).send().await.unwrap();
    let peering = peering.vpc_peering_connection().unwrap().vpc_peering_connection_id().unwrap().to_owned();
    let accept = moto.ec2_in(DATA_ACCOUNT).await.accept_vpc_peering_connection();
    accept.vpc_peering_connection_id(&peering).send().await.unwrap();

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().cast_signed();
    let start = now - 600;
    let format = FlowFormat::from_log_format(APP_LOG_FORMAT).unwrap();
    let mut fixture = Fixture::new();
    for (group, account, vpc, subnet, eni, action, direction) in [
        (WEB_GROUP, WEB_ACCOUNT, &web_vpc, &web_subnet, &web_eni, "ACCEPT", "egress"),
        (DATA_GROUP, DATA_ACCOUNT, &data_vpc, &data_subnet, &data_eni, "REJECT", "ingress"),
    ] {
        for (port, at) in [(50100, start), (50102, start + 30)] {
            let line = format!(
                "5 {account} {vpc} {subnet} {eni} 10.60.1.10 10.70.1.20 {port} 1433 6 3 180 {at} {end} {action} OK 2 10.60.1.10 10.70.1.20 {direction}",
                end = at + 20,
            );
            fixture.add_event(group, &format, &format!("{eni}-all"), at * 1000, &line);
        }
    }
    fixture.sort();
    let logs = TestEndpoint::start(fixture, faults).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("waves")).unwrap();
    fs::write(dir.path().join("waves/two-accounts.toml"), wave_toml("wave-7")).unwrap();
    let home = tempfile::tempdir().unwrap();
    TwoAccounts { web_vpc, web_sg, data_vpc, data_sg, peering, logs, dir, home }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_across_two_accounts_finds_the_rule_in_the_account_that_owns_it() {
    let moto = testing::moto();
    let TwoAccounts { web_vpc, web_sg, data_vpc, data_sg, peering, logs, dir, home } =
        two_accounts(&moto, Faults::default()).await;
    let out = command(dir.path(), home.path(), &moto, logs.url())
        .args(["report", "two-accounts", "--out", "out"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");

    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/findings.json")).unwrap()).unwrap();
    let rejected = doc["findings"]["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    let finding = &rejected[0];
    assert_eq!(finding["id"], "rejected/tcp/1433/10.60.1.10/10.70.1.20/request", "{finding:#}");
    assert_eq!(finding["culprits"][0]["hop"], "destination-sg-ingress", "{finding:#}");
    assert_eq!(finding["culprits"][0]["resource"].as_str(), Some(data_sg.as_str()), "{finding:#}");
    // The fix opens tcp/1433 on the data account's group to web01's group in the web account,
    // which the peering lets it reference (by account and id).
    let proposals = doc["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 1, "{proposals:#?}");
    let change = &proposals[0]["change"];
    assert_eq!(change["group_id"], data_sg.as_str(), "{change:#}");
    assert_eq!(change["rule"]["peer"]["group"]["group_id"], web_sg.as_str(), "{change:#}");
    assert_eq!(change["rule"]["peer"]["group"]["owner_id"], WEB_ACCOUNT, "{change:#}");
    let fix = fs::read_to_string(dir.path().join("out/fix.sh")).unwrap();
    assert!(fix.contains(&format!("\"UserId\":\"{WEB_ACCOUNT}\"")), "{fix}");
    // fix.sh makes it in the data account: its region, and the profile named for it.
    assert!(fix.contains("# in account data (222222222222)\nREGION=us-east-1 PROFILE=\"${WAVEGAP_PROFILE_222222222222:-$WAVE_PROFILE}\"\n"), "{fix}");
    let sh = std::process::Command::new("sh").arg("-n").arg(dir.path().join("out/fix.sh")).output().unwrap();
    assert!(sh.status.success(), "{}", String::from_utf8_lossy(&sh.stderr));
    assert!(doc["coverage"]["complete"].as_bool().unwrap(), "{:#}", doc["coverage"]);
    assert!(doc["coverage"]["servers_without_flow_logs"].as_array().unwrap().is_empty(), "{:#}", doc["coverage"]);

    // Each account's log group was queried with that account's credentials, and the scan is
    // told per account.
    let record = logs.record();
    assert_eq!(record.started.len(), 2, "{record:#?}");
    let mut signed: Vec<(&str, String)> = record
        .started
        .iter()
        .zip(&record.signed_by)
        .map(|((_, groups, _), key)| {
            assert_eq!(groups.len(), 1, "{record:#?}");
            (groups[0].as_str(), moto.account_of(key))
        })
        .collect();
    signed.sort();
    assert_eq!(signed, [(DATA_GROUP, DATA_ACCOUNT.to_owned()), (WEB_GROUP, WEB_ACCOUNT.to_owned())]);
    let accounts = doc["statistics"]["accounts"].as_array().unwrap();
    let scanned: Vec<(&str, u64)> =
        accounts.iter().map(|a| (a["account"].as_str().unwrap(), a["queries"].as_u64().unwrap())).collect();
    assert_eq!(scanned, [(WEB_ACCOUNT, 1), (DATA_ACCOUNT, 1)], "{accounts:#?}");
    let groups: Vec<&str> =
        doc["statistics"]["log_groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert_eq!(groups, [format!("{DATA_GROUP} in {DATA_ACCOUNT}"), format!("{WEB_GROUP} in {WEB_ACCOUNT}")]);
    let md = fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    for row in ["| Account web (111111111111) | ", "| Account data (222222222222) | "] {
        assert!(md.contains(row), "{row} missing from\n{md}");
    }
    // The saved inventory holds both accounts' networks.
    let inventory = fs::read_to_string(dir.path().join("out/inventory.json")).unwrap();
    assert!(inventory.contains(&web_vpc) && inventory.contains(&data_vpc) && inventory.contains(&data_sg));
    let snapshot: serde_json::Value = serde_json::from_str(&inventory).unwrap();
    let peerings = snapshot["VpcPeeringConnections"].as_array().unwrap();
    assert_eq!(peerings.len(), 1, "{peerings:#?}");
    assert_eq!(peerings[0]["VpcPeeringConnectionId"], peering.as_str());
    let owners: Vec<&str> =
        snapshot["Vpcs"].as_array().unwrap().iter().map(|v| v["OwnerId"].as_str().unwrap()).collect();
    assert_eq!(owners.len(), 2, "{owners:?}");
    assert!(owners.contains(&WEB_ACCOUNT) && owners.contains(&DATA_ACCOUNT), "{owners:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_of_another_account_are_a_clear_error_and_write_nothing() {
    let moto = testing::moto();
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("waves")).unwrap();
    // An account without a role uses the wave's own credentials, which act in moto's
    // default account, not in 333333333333.
    let text = wave_toml("wave-7").replace(
        "[[apps]]",
        "[[accounts]]\nid = \"333333333333\"\nname = \"legacy\"\nlog-groups = [\"/flow/legacy\"]\n\n[[apps]]",
    );
    fs::write(dir.path().join("waves/two-accounts.toml"), text).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = command(dir.path(), home.path(), &moto, "http://127.0.0.1:9")
        .args(["report", "two-accounts", "--out", "out"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("account legacy (333333333333): the credentials act in account 123456789012, not in 333333333333"),
        "{err}"
    );
    assert!(err.contains("hint: set the account's `assume-role-arn`"), "{err}");
    assert!(!dir.path().join("out").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_that_fails_in_one_account_is_that_account_s_gap() {
    let moto = testing::moto();
    let fail = FailRule { log_group: DATA_GROUP.into(), status: FaultStatus::Failed, times: None };
    let t = two_accounts(&moto, Faults { fail: vec![fail], ..Faults::default() }).await;
    let out = command(t.dir.path(), t.home.path(), &moto, t.logs.url())
        .args(["report", "two-accounts", "--out", "out"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(t.dir.path().join("out/findings.json").exists(), "exit {:?}: {err}", out.status.code());
    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(t.dir.path().join("out/findings.json")).unwrap()).unwrap();
    let gaps = doc["coverage"]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(
        (gaps[0]["account"].as_str(), gaps[0]["log_groups"][0].as_str()),
        (Some(DATA_ACCOUNT), Some(DATA_GROUP))
    );
    let accounts = doc["statistics"]["accounts"].as_array().unwrap();
    let gaps: Vec<(&str, u64)> =
        accounts.iter().map(|a| (a["account"].as_str().unwrap(), a["gaps"].as_u64().unwrap())).collect();
    assert_eq!(gaps, [(WEB_ACCOUNT, 0), (DATA_ACCOUNT, 1)], "{accounts:#?}");
    let md = fs::read_to_string(t.dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("| Account data (222222222222) | ") && md.contains("**1 gap(s)**"), "{md}");
    assert!(md.contains(&format!("| {DATA_GROUP} (account {DATA_ACCOUNT}) |")), "{md}");
}
