//! Test support (feature `test-support`): a moto EC2 emulator started by the test itself, and
//! a seeded account — 3 VPCs (two peered), SGs with CIDR, SG-reference and prefix-list rules,
//! custom NACLs, ENIs with secondary IPs, instances, flow logs to CloudWatch Logs and S3 —
//! with the wave of 30 servers that lives in it.
//!
//! moto comes from the repository's `.venv` (`scripts/setup-python.sh`); when it is missing
//! the test fails with that hint rather than being skipped. One moto process serves a whole
//! test binary: [`moto`] hands out exclusive access and resets its state first. It listens on
//! 127.0.0.1 only and dies with the test process (a shell wrapper kills it when its stdin,
//! held by the test process, closes).

#![allow(clippy::missing_panics_doc)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::types::{
    AddPrefixListEntry, FlowLogsResourceType, IcmpTypeCode, IpPermission, IpRange, LogDestinationType, PortRange,
    PrefixListId, ResourceType, RuleAction, Tag, TagSpecification, TrafficType, UserIdGroupPair,
};
use wavegap_core::wave::{
    App, AwsSettings, EphemeralPolicy, LogGroups, Networks, QuerySettings, Server, Source, WaveConfig, WindowSpec,
};

use crate::error::CallContext;
use crate::resolve::Resolver;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// The repository root. Every crate is `crates/<name>`, and cargo runs a test with the
/// running crate's directory in `CARGO_MANIFEST_DIR`. That is read at run time: a build
/// reused from a clone elsewhere would carry the other clone's path.
pub fn repo_root() -> PathBuf {
    let crate_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from);
    Path::new(&crate_dir).join("../..")
}

pub struct MotoServer {
    pub endpoint: String,
    pub port: u16,
    _child: Child,
    _stdin: ChildStdin,
}

static MOTO: OnceLock<MotoServer> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());

/// Exclusive use of this process's moto server, freshly reset.
pub struct Moto {
    server: &'static MotoServer,
    _guard: MutexGuard<'static, ()>,
}

/// Starts moto on first use, then waits for exclusive use and resets it.
pub fn moto() -> Moto {
    let guard = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let server = MOTO.get_or_init(start_moto);
    let moto = Moto { server, _guard: guard };
    moto.reset();
    moto
}

fn start_moto() -> MotoServer {
    let bin = repo_root().join(".venv/bin/moto_server");
    assert!(
        bin.exists(),
        "{} is missing\nhint: run `scripts/setup-python.sh` (or `just setup`) to create the Python venv with moto",
        bin.display()
    );
    // The wrapper starts moto and kills it once stdin (a pipe held by this process) closes,
    // which happens however this process ends.
    let script = r#"set -e
"$0" -H 127.0.0.1 -p 0 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
cat >/dev/null
"#;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn moto_server");
    let stdin = child.stdin.take().expect("moto stdin");
    let stderr = child.stderr.take().expect("moto stderr");
    let (tx, rx) = mpsc::channel();
    // Keep draining stderr (moto logs every request there) so moto never blocks on it.
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("Running on http://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let (Some(tx), Ok(port)) = (tx.take(), port.parse::<u16>()) {
                    let _ = tx.send(port);
                }
            }
        }
    });
    let port = rx.recv_timeout(Duration::from_secs(60)).expect("moto_server did not report its port within 60 s");
    MotoServer { endpoint: format!("http://127.0.0.1:{port}"), port, _child: child, _stdin: stdin }
}

impl Moto {
    pub fn endpoint(&self) -> &str {
        &self.server.endpoint
    }

    /// `POST /moto-api/reset`: forget every resource, and stop enforcing IAM (see
    /// [`Moto::enforce_iam`]).
    pub fn reset(&self) {
        let (status, body) = self.http("POST", "/moto-api/reset", &[]);
        assert!(status == 200, "moto reset failed: {status} {body}");
        let (status, body) = self.http_body("POST", "/moto-api/reset-auth", &[], "inf");
        assert!(status == 200, "moto reset-auth failed: {status} {body}");
    }

    /// From now on moto checks every request's credentials and IAM policies.
    pub fn enforce_iam(&self) {
        let (status, body) = self.http_body("POST", "/moto-api/reset-auth", &[], "0");
        assert!(status == 200, "moto reset-auth failed: {status} {body}");
    }

    /// Creates an IAM user allowed only `actions` and returns its access key id and secret.
    pub fn iam_user(&self, name: &str, actions: &[&str]) -> (String, String) {
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
            actions.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(",")
        );
        let encoded = url_encode(&policy);
        self.iam(&format!("Action=CreateUser&UserName={name}"));
        self.iam(&format!("Action=PutUserPolicy&UserName={name}&PolicyName=only&PolicyDocument={encoded}"));
        let key = self.iam(&format!("Action=CreateAccessKey&UserName={name}"));
        let field = |tag: &str| {
            let start = key.find(&format!("<{tag}>")).expect(tag) + tag.len() + 2;
            let end = key[start..].find('<').expect(tag) + start;
            key[start..end].to_owned()
        };
        (field("AccessKeyId"), field("SecretAccessKey"))
    }

    fn iam(&self, query: &str) -> String {
        let auth =
            "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0";
        let headers = [("Authorization", auth), ("Content-Type", "application/x-www-form-urlencoded")];
        let (status, body) = self.http_body("POST", "/", &headers, &format!("{query}&Version=2010-05-08"));
        assert!(status == 200, "IAM {query}: {status} {body}");
        body
    }

    /// A minimal HTTP/1.1 request to moto (no client library needed for a few calls).
    pub fn http(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        self.http_body(method, path, headers, "")
    }

    pub fn http_body(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.server.port)).expect("connect to moto");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n", self.server.port);
        for (k, v) in headers {
            let _ = write!(req, "{k}: {v}\r\n");
        }
        let _ = write!(req, "Content-Length: {}\r\n\r\n{body}", body.len());
        stream.write_all(req.as_bytes()).expect("write to moto");
        let mut resp = String::new();
        stream.read_to_string(&mut resp).expect("read from moto");
        let status = resp.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, resp)
    }

    /// Creates an S3 bucket (moto routes by the credential scope of the Authorization header;
    /// it does not check signatures).
    pub fn create_bucket(&self, name: &str) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20240101/{REGION}/s3/aws4_request, SignedHeaders=host, Signature=0"
        );
        let (status, body) = self.http("PUT", &format!("/{name}"), &[("Authorization", &auth)]);
        assert!(status == 200, "create bucket {name}: {status} {body}");
    }

    fn credentials() -> Credentials {
        Credentials::new("testing", "testing", None, None, "moto")
    }

    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::Config::builder()
            .http_client(crate::aws::http_client())
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Self::credentials())
            .endpoint_url(self.endpoint())
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    /// Adds `tags` (key, value) to the EC2 resources `ids`.
    pub async fn tag(&self, ids: &[&str], tags: &[(&str, &str)]) {
        let mut call = self.ec2().create_tags();
        for id in ids {
            call = call.resources(*id);
        }
        for (key, value) in tags {
            call = call.tags(Tag::builder().key(*key).value(*value).build());
        }
        call.send().await.expect("create tags");
    }

    /// An EC2 client acting in `account`: moto's STS hands out credentials for a role of any
    /// account, and moto keeps each account's resources apart by them.
    pub async fn ec2_in(&self, account: &str) -> aws_sdk_ec2::Client {
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .http_client(crate::aws::http_client())
                .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                .region(aws_sdk_sts::config::Region::new(REGION))
                .credentials_provider(Self::credentials())
                .endpoint_url(self.endpoint())
                .build(),
        );
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/seed"))
            .role_session_name("seed")
            .send()
            .await
            .expect("assume role");
        let c = out.credentials().expect("credentials");
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "moto-sts",
        );
        let conf = aws_sdk_ec2::Config::builder()
            .http_client(crate::aws::http_client())
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(credentials)
            .endpoint_url(self.endpoint())
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    /// The account moto acts in for requests signed with `access_key` (STS
    /// `GetCallerIdentity`; moto reads the key from the header and checks no signature).
    pub fn account_of(&self, access_key: &str) -> String {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={access_key}/20240101/{REGION}/sts/aws4_request, SignedHeaders=host, Signature=0"
        );
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
        let (status, body) = self.http_body("POST", "/", &headers, "Action=GetCallerIdentity&Version=2011-06-15");
        assert!(status == 200, "GetCallerIdentity: {status} {body}");
        let start = body.find("<Account>").expect("Account") + "<Account>".len();
        body[start..start + 12].to_owned()
    }

    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::Config::builder()
            .http_client(crate::aws::http_client())
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatchlogs::config::Region::new(REGION))
            .credentials_provider(Self::credentials())
            .endpoint_url(self.endpoint())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }

    pub fn resolver(&self) -> Resolver {
        self.resolver_as(Self::credentials())
    }

    /// A resolver that signs with `credentials` (an IAM user of [`Moto::iam_user`]).
    pub fn resolver_as(&self, credentials: Credentials) -> Resolver {
        let ec2 = aws_sdk_ec2::Config::builder()
            .http_client(crate::aws::http_client())
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(credentials)
            .endpoint_url(self.endpoint())
            .build();
        let call =
            CallContext { region: Some(REGION.into()), endpoint_url: Some(self.endpoint().into()), max_attempts: 3 };
        Resolver::from_clients(aws_sdk_ec2::Client::from_conf(ec2), self.logs(), call)
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// One server of the seeded wave, with the ids moto gave it.
#[derive(Debug, Clone)]
pub struct SeedServer {
    pub name: String,
    pub app: &'static str,
    pub ip: IpAddr,
    pub secondary_ips: Vec<IpAddr>,
    pub instance_id: Option<String>,
    pub eni_id: String,
    pub vpc: &'static str,
    pub subnet: &'static str,
    pub windows: bool,
}

/// Everything [`seed`] created, by the names the seed gave it.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub vpcs: BTreeMap<&'static str, String>,
    pub subnets: BTreeMap<&'static str, String>,
    pub groups: BTreeMap<&'static str, String>,
    pub nacls: BTreeMap<&'static str, String>,
    pub peering: String,
    pub prefix_list: String,
    pub servers: Vec<SeedServer>,
    /// An interface that is no wave server but carries the `monitor` group, which a wave
    /// server's group references.
    pub monitor_eni: String,
    pub terminated_instance: String,
    pub nat_gateway: String,
    pub flow_logs: BTreeMap<&'static str, String>,
}

impl Seeded {
    pub fn server(&self, name: &str) -> &SeedServer {
        self.servers.iter().find(|s| s.name == name).expect("seeded server")
    }
}

fn tag(name: &str) -> Tag {
    Tag::builder().key("Name").value(name).build()
}

fn tagged(kind: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).tags(tag(name)).build()
}

fn tcp(from: i32, to: i32) -> aws_sdk_ec2::types::builders::IpPermissionBuilder {
    IpPermission::builder().ip_protocol("tcp").from_port(from).to_port(to)
}

fn cidr(c: &str, description: &str) -> IpRange {
    IpRange::builder().cidr_ip(c).description(description).build()
}

/// (nacl, vpc, rule number, protocol, egress, cidr, port range, icmp type and code)
type NaclSeed =
    (&'static str, &'static str, i32, &'static str, bool, &'static str, Option<(i32, i32)>, Option<(i32, i32)>);

const LINUX_AMI: &str = "ami-760aaa0f";
const WINDOWS_AMI: &str = "ami-1812c061";
pub const APP_LOG_FORMAT: &str = "${version} ${account-id} ${vpc-id} ${subnet-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction}";
pub const LOG_GROUP_APP: &str = "/wavegap/flow/app";
pub const LOG_GROUP_LOG01: &str = "/wavegap/flow/log01";
pub const LOG_GROUP_EXPLICIT: &str = "/wavegap/flow/explicit";
pub const FLOW_BUCKET: &str = "wavegap-flowlogs";

/// Seeds moto with the account the wave lives in.
pub async fn seed(moto: &Moto) -> Seeded {
    let ec2 = moto.ec2();
    let logs = moto.logs();
    let mut s = Seeded::default();

    for (key, block) in [("app", "10.10.0.0/16"), ("data", "10.20.0.0/16"), ("shared", "10.30.0.0/16")] {
        let out = ec2
            .create_vpc()
            .cidr_block(block)
            .tag_specifications(tagged(ResourceType::Vpc, &format!("{key}-vpc")))
            .send()
            .await
            .expect("create vpc");
        s.vpcs.insert(key, out.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_owned());
    }
    let pcx = ec2
        .create_vpc_peering_connection()
        .vpc_id(&s.vpcs["app"])
        .peer_vpc_id(&s.vpcs["data"])
        .send()
        .await
        .expect("peering");
    s.peering = pcx.vpc_peering_connection().and_then(|p| p.vpc_peering_connection_id()).expect("pcx id").to_owned();
    ec2.accept_vpc_peering_connection().vpc_peering_connection_id(&s.peering).send().await.expect("accept peering");

    for (key, vpc, block) in [
        ("web", "app", "10.10.1.0/24"),
        ("app", "app", "10.10.2.0/24"),
        ("db", "data", "10.20.1.0/24"),
        ("tools", "shared", "10.30.1.0/24"),
        ("public", "shared", "10.30.255.0/24"),
    ] {
        let out = ec2
            .create_subnet()
            .vpc_id(&s.vpcs[vpc])
            .cidr_block(block)
            .availability_zone("us-east-1a")
            .tag_specifications(tagged(ResourceType::Subnet, &format!("{key}-subnet")))
            .send()
            .await
            .expect("create subnet");
        s.subnets.insert(key, out.subnet().and_then(|x| x.subnet_id()).expect("subnet id").to_owned());
    }

    let pl = ec2
        .create_managed_prefix_list()
        .prefix_list_name("onprem-admin")
        .max_entries(5)
        .address_family("IPv4")
        .entries(AddPrefixListEntry::builder().cidr("192.168.100.0/24").description("admin lan").build())
        .entries(AddPrefixListEntry::builder().cidr("192.168.101.0/24").description("admin vpn").build())
        .send()
        .await
        .expect("prefix list");
    s.prefix_list = pl.prefix_list().and_then(|p| p.prefix_list_id()).expect("pl id").to_owned();

    for (key, vpc) in [("web", "app"), ("app", "app"), ("monitor", "app"), ("db", "data"), ("tools", "shared")] {
        let out = ec2
            .create_security_group()
            .group_name(format!("{key}-sg"))
            .description(format!("{key} servers"))
            .vpc_id(&s.vpcs[vpc])
            .send()
            .await
            .expect("create sg");
        s.groups.insert(key, out.group_id().expect("group id").to_owned());
    }
    let group_ref = |key: &str, vpc: Option<&str>, peering: Option<&str>, description: &str| {
        UserIdGroupPair::builder()
            .group_id(&s.groups[key])
            .set_vpc_id(vpc.map(|v| s.vpcs[v].clone()))
            .set_vpc_peering_connection_id(peering.map(ToOwned::to_owned))
            .description(description)
            .build()
    };
    let rules: Vec<(&str, IpPermission)> = vec![
        ("web", tcp(443, 443).ip_ranges(cidr("10.0.0.0/8", "https from internal")).build()),
        ("web", tcp(22, 22).prefix_list_ids(PrefixListId::builder().prefix_list_id(&s.prefix_list).build()).build()),
        (
            "web",
            IpPermission::builder()
                .ip_protocol("icmp")
                .from_port(-1)
                .to_port(-1)
                .ip_ranges(cidr("10.30.0.0/16", "ping from shared"))
                .build(),
        ),
        ("app", tcp(8080, 8080).user_id_group_pairs(group_ref("web", None, None, "from web")).build()),
        ("app", tcp(9100, 9100).user_id_group_pairs(group_ref("monitor", None, None, "node exporter")).build()),
        (
            "db",
            tcp(1433, 1433)
                .user_id_group_pairs(group_ref("app", Some("app"), Some(&s.peering), "sql from app over peering"))
                .build(),
        ),
        (
            "db",
            IpPermission::builder()
                .ip_protocol("udp")
                .from_port(1434)
                .to_port(1434)
                .ip_ranges(cidr("10.10.2.0/24", "sql browser"))
                .build(),
        ),
        (
            "tools",
            IpPermission::builder()
                .ip_protocol("udp")
                .from_port(514)
                .to_port(514)
                .ip_ranges(cidr("10.0.0.0/8", "syslog"))
                .build(),
        ),
        ("tools", tcp(22, 22).prefix_list_ids(PrefixListId::builder().prefix_list_id(&s.prefix_list).build()).build()),
    ];
    for (key, perm) in rules {
        ec2.authorize_security_group_ingress()
            .group_id(&s.groups[key])
            .ip_permissions(perm)
            .send()
            .await
            .expect("authorize ingress");
    }

    // Custom NACLs: numbered allow and deny entries (moto leaves out the `*` DENY entries).
    let nacl_entries: Vec<NaclSeed> = vec![
        ("app", "app", 100, "6", false, "10.10.1.0/24", Some((8080, 8080)), None),
        ("app", "app", 110, "6", false, "10.20.0.0/16", Some((1024, 65535)), None),
        ("app", "app", 120, "1", false, "10.0.0.0/8", None, Some((-1, -1))),
        ("app", "app", 200, "6", false, "0.0.0.0/0", Some((22, 22)), None),
        ("app", "app", 300, "-1", false, "10.0.0.0/8", None, None),
        ("app", "app", 90, "6", true, "0.0.0.0/0", Some((25, 25)), None),
        ("app", "app", 100, "-1", true, "0.0.0.0/0", None, None),
        ("db", "data", 100, "6", false, "10.10.2.0/24", Some((1433, 1433)), None),
        ("db", "data", 110, "17", false, "10.10.2.0/24", Some((1434, 1434)), None),
        ("db", "data", 120, "-1", false, "10.30.0.0/16", None, None),
        ("db", "data", 100, "6", true, "10.10.0.0/16", Some((1024, 65535)), None),
    ];
    for key in ["app", "db"] {
        let vpc = if key == "app" { "app" } else { "data" };
        let out = ec2
            .create_network_acl()
            .vpc_id(&s.vpcs[vpc])
            .tag_specifications(tagged(ResourceType::NetworkAcl, &format!("{key}-nacl")))
            .send()
            .await
            .expect("create nacl");
        s.nacls.insert(key, out.network_acl().and_then(|n| n.network_acl_id()).expect("acl id").to_owned());
    }
    for (key, _, number, proto, egress, block, ports, icmp) in nacl_entries {
        let action = if number == 200 || number == 90 || (key == "db" && number == 120) {
            RuleAction::Deny
        } else {
            RuleAction::Allow
        };
        ec2.create_network_acl_entry()
            .network_acl_id(&s.nacls[key])
            .rule_number(number)
            .protocol(proto)
            .rule_action(action)
            .egress(egress)
            .cidr_block(block)
            .set_port_range(ports.map(|(f, t)| PortRange::builder().from(f).to(t).build()))
            .set_icmp_type_code(icmp.map(|(t, c)| IcmpTypeCode::builder().r#type(t).code(c).build()))
            .send()
            .await
            .expect("nacl entry");
    }
    for key in ["app", "db"] {
        let current = ec2
            .describe_network_acls()
            .filters(
                aws_sdk_ec2::types::Filter::builder().name("association.subnet-id").values(&s.subnets[key]).build(),
            )
            .send()
            .await
            .expect("describe nacls");
        let association = current
            .network_acls()
            .iter()
            .flat_map(aws_sdk_ec2::types::NetworkAcl::associations)
            .find(|a| a.subnet_id() == Some(s.subnets[key].as_str()))
            .and_then(|a| a.network_acl_association_id())
            .expect("association")
            .to_owned();
        ec2.replace_network_acl_association()
            .association_id(association)
            .network_acl_id(&s.nacls[key])
            .send()
            .await
            .expect("replace association");
    }

    // 24 instances and 6 standalone interfaces (with secondary IPs) = 30 servers.
    let mut servers: Vec<(String, &'static str, String, &'static str, &'static str, &'static str, bool)> = Vec::new();
    for i in 1..=6 {
        servers.push((format!("web{i:02}"), "shop", format!("10.10.1.{}", 10 + i), "app", "web", "web", false));
    }
    for i in 1..=6 {
        servers.push((format!("app{i:02}"), "shop", format!("10.10.2.{}", 10 + i), "app", "app", "app", false));
    }
    for i in 1..=6 {
        servers.push((format!("db{i:02}"), "shop", format!("10.20.1.{}", 10 + i), "data", "db", "db", true));
    }
    for i in 1..=6 {
        servers.push((format!("tools{i:02}"), "ops", format!("10.30.1.{}", 10 + i), "shared", "tools", "tools", false));
    }
    for (name, app, ip, vpc, subnet, group, windows) in servers {
        let out = ec2
            .run_instances()
            .image_id(if windows { WINDOWS_AMI } else { LINUX_AMI })
            .instance_type(aws_sdk_ec2::types::InstanceType::M5Large)
            .min_count(1)
            .max_count(1)
            .subnet_id(&s.subnets[subnet])
            .private_ip_address(&ip)
            .security_group_ids(&s.groups[group])
            .tag_specifications(tagged(ResourceType::Instance, &name))
            .send()
            .await
            .expect("run instance");
        let inst = out.instances().first().expect("instance");
        let eni = inst.network_interfaces().first().and_then(|n| n.network_interface_id()).expect("eni").to_owned();
        s.servers.push(SeedServer {
            name,
            app,
            ip: ip.parse().expect("ip"),
            secondary_ips: Vec::new(),
            instance_id: Some(inst.instance_id().expect("instance id").to_owned()),
            eni_id: eni,
            vpc,
            subnet,
            windows,
        });
    }
    for (name, app, ip, secondary, vpc, subnet, group) in [
        ("cache01", "shop", "10.20.1.31", ["10.20.1.41", "10.20.1.42"], "data", "db", "db"),
        ("cache02", "shop", "10.20.1.32", ["10.20.1.51", "10.20.1.52"], "data", "db", "db"),
        ("log01", "ops", "10.30.1.31", ["10.30.1.41", "10.30.1.42"], "shared", "tools", "tools"),
        ("log02", "ops", "10.30.1.32", ["10.30.1.51", "10.30.1.52"], "shared", "tools", "tools"),
        ("lb01", "shop", "10.10.1.31", ["10.10.1.41", "10.10.1.42"], "app", "web", "web"),
        ("lb02", "shop", "10.10.1.32", ["10.10.1.51", "10.10.1.52"], "app", "web", "web"),
    ] {
        let out = ec2
            .create_network_interface()
            .subnet_id(&s.subnets[subnet])
            .private_ip_address(ip)
            .groups(&s.groups[group])
            .description(format!("{name} service address"))
            .send()
            .await
            .expect("create eni");
        let eni = out.network_interface().and_then(|n| n.network_interface_id()).expect("eni id").to_owned();
        ec2.assign_private_ip_addresses()
            .network_interface_id(&eni)
            .private_ip_addresses(secondary[0])
            .private_ip_addresses(secondary[1])
            .send()
            .await
            .expect("assign secondary ips");
        s.servers.push(SeedServer {
            name: name.to_owned(),
            app,
            ip: ip.parse().expect("ip"),
            secondary_ips: secondary.iter().map(|x| x.parse().expect("ip")).collect(),
            instance_id: None,
            eni_id: eni,
            vpc,
            subnet,
            windows: false,
        });
    }
    let monitor = ec2
        .create_network_interface()
        .subnet_id(&s.subnets["web"])
        .private_ip_address("10.10.1.100")
        .groups(&s.groups["monitor"])
        .description("monitoring agent")
        .send()
        .await
        .expect("monitor eni");
    s.monitor_eni = monitor.network_interface().and_then(|n| n.network_interface_id()).expect("eni").to_owned();

    let old = ec2
        .run_instances()
        .image_id(LINUX_AMI)
        .min_count(1)
        .max_count(1)
        .subnet_id(&s.subnets["tools"])
        .private_ip_address("10.30.1.200")
        .tag_specifications(tagged(ResourceType::Instance, "old01"))
        .send()
        .await
        .expect("run old instance");
    s.terminated_instance = old.instances()[0].instance_id().expect("id").to_owned();
    ec2.terminate_instances().instance_ids(&s.terminated_instance).send().await.expect("terminate");

    let eip = ec2.allocate_address().domain(aws_sdk_ec2::types::DomainType::Vpc).send().await.expect("eip");
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&s.subnets["public"])
        .allocation_id(eip.allocation_id().expect("allocation"))
        .send()
        .await
        .expect("nat gateway");
    s.nat_gateway = nat.nat_gateway().and_then(|n| n.nat_gateway_id()).expect("nat id").to_owned();

    for group in [LOG_GROUP_APP, LOG_GROUP_LOG01, LOG_GROUP_EXPLICIT] {
        logs.create_log_group().log_group_name(group).send().await.expect("create log group");
    }
    moto.create_bucket(FLOW_BUCKET);
    let role = format!("arn:aws:iam::{ACCOUNT}:role/flow-logs");
    let log01_eni = s.server("log01").eni_id.clone();
    let flow_logs = [
        ("app", FlowLogsResourceType::Vpc, s.vpcs["app"].clone(), Some(LOG_GROUP_APP), Some(APP_LOG_FORMAT)),
        ("db", FlowLogsResourceType::Subnet, s.subnets["db"].clone(), None, None),
        ("log01", FlowLogsResourceType::NetworkInterface, log01_eni, Some(LOG_GROUP_LOG01), None),
    ];
    for (key, kind, resource, group, format) in flow_logs {
        let mut req = ec2
            .create_flow_logs()
            .resource_type(kind)
            .resource_ids(&resource)
            .traffic_type(TrafficType::All)
            .set_log_format(format.map(ToOwned::to_owned));
        req = match group {
            Some(g) => req
                .log_destination_type(LogDestinationType::CloudWatchLogs)
                .log_group_name(g)
                .deliver_logs_permission_arn(&role),
            None => {
                req.log_destination_type(LogDestinationType::S3).log_destination(format!("arn:aws:s3:::{FLOW_BUCKET}"))
            }
        };
        let out = req.send().await.expect("create flow logs");
        assert!(out.unsuccessful().is_empty(), "flow log {key}: {:?}", out.unsuccessful());
        s.flow_logs.insert(key, out.flow_log_ids().first().expect("flow log id").clone());
    }
    s
}

/// Servers of the wave that the seeded account cannot resolve, with why.
pub const UNRESOLVABLE: [&str; 3] = ["ghost", "stale", "old01"];

/// The wave: the 30 seeded servers, three that cannot resolve, one on premises.
pub fn wave(seeded: &Seeded) -> WaveConfig {
    let server = |name: &str, app: &str, ip: &str, instance: Option<String>, on_premises: bool| Server {
        name: name.into(),
        app: app.into(),
        ip: ip.parse().expect("ip"),
        ips: Vec::new(),
        instance_id: instance,
        role: None,
        os: None,
        on_premises,
        account: None,
    };
    let mut apps: BTreeMap<&str, Vec<Server>> = BTreeMap::new();
    for s in &seeded.servers {
        apps.entry(s.app).or_default().push(server(&s.name, s.app, &s.ip.to_string(), s.instance_id.clone(), false));
    }
    let extra = apps.entry("legacy").or_default();
    extra.push(server("ghost", "legacy", "10.10.1.250", None, false));
    extra.push(server("stale", "legacy", "10.10.1.240", Some("i-0123456789abcdef0".into()), false));
    extra.push(server("old01", "legacy", "10.30.1.200", Some(seeded.terminated_instance.clone()), false));
    extra.push(server("mainframe", "legacy", "192.168.50.10", None, true));
    WaveConfig {
        name: "moto-wave".into(),
        description: Some("30 servers across 3 VPCs".into()),
        path: PathBuf::from("waves/moto-wave.toml"),
        window: WindowSpec::Last(Duration::from_secs(3600)),
        aws: AwsSettings { region: Some(REGION.into()), ..AwsSettings::default() },
        accounts: Vec::new(),
        networks: Networks {
            internal: vec!["10.0.0.0/8".parse().expect("net"), "192.168.0.0/16".parse().expect("net")],
            on_premises: vec!["192.168.0.0/16".parse().expect("net")],
        },
        log_groups: LogGroups { names: vec![LOG_GROUP_EXPLICIT.into()], discover: true },
        apps: apps.into_iter().map(|(name, servers)| App { name: name.into(), description: None, servers }).collect(),
        expected_flows: Vec::new(),
        source: Source::CloudWatch,
        ephemeral: EphemeralPolicy::default(),
        ignore: Vec::new(),
        one_way: Vec::new(),
        query: QuerySettings::default(),
        dependencies: Vec::new(),
    }
}

/// [`wave`] as a wave file, for tests of the `wavegap` binary.
pub fn wave_toml(seeded: &Seeded) -> String {
    let wave = wave(seeded);
    let mut s = String::from(
        "name = \"moto-wave\"\ndescription = \"30 servers across 3 VPCs\"\nsource = \"cloudwatch\"\n\n[window]\nlast = \"1h\"\n\n",
    );
    let _ = write!(s, "[aws]\nregion = \"{REGION}\"\n\n");
    let _ = write!(
        s,
        "[networks]\ninternal = [\"10.0.0.0/8\", \"192.168.0.0/16\"]\non-premises = [\"192.168.0.0/16\"]\n\n"
    );
    let _ = write!(s, "[log-groups]\nnames = [\"{LOG_GROUP_EXPLICIT}\"]\ndiscover = true\n");
    for app in &wave.apps {
        let _ = write!(s, "\n[[apps]]\nname = \"{}\"\n", app.name);
        for server in &app.servers {
            let _ = write!(s, "\n[[apps.servers]]\nname = \"{}\"\nip = \"{}\"\n", server.name, server.ip);
            if let Some(id) = &server.instance_id {
                let _ = writeln!(s, "instance-id = \"{id}\"");
            }
            if server.on_premises {
                s.push_str("on-premises = true\n");
            }
        }
    }
    s
}
