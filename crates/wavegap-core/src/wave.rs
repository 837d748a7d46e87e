//! A validated migration wave: the servers to watch, where their flow logs are, the window.
//!
//! Only [`WaveConfig`] crosses into the analysis. It is built from a wave file (plus the
//! optional `waves/defaults.toml`) by the loader in this module, which applies defaults and
//! rejects anything the analysis would otherwise have to re-check.

mod error;
mod load;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub use self::error::{WaveError, WaveErrorKind};
pub use self::load::{PathKind, WaveFile, load};
use crate::flow::TimeWindow;
use crate::inventory::{Os, proto};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaveConfig {
    pub name: String,
    pub description: Option<String>,
    /// The wave file it was loaded from.
    pub path: PathBuf,
    pub window: WindowSpec,
    pub aws: AwsSettings,
    /// The AWS accounts the wave's servers and flow logs live in (`[[accounts]]`); empty for
    /// a wave of one account, which `aws` describes.
    pub accounts: Vec<Account>,
    pub networks: Networks,
    pub log_groups: LogGroups,
    pub apps: Vec<App>,
    pub expected_flows: Vec<ExpectedFlow>,
    pub source: Source,
    pub ephemeral: EphemeralPolicy,
    /// Sources whose traffic is counted but never turned into findings.
    pub ignore: Vec<IgnoreRule>,
    /// Services whose traffic is one-way by design (syslog, SNMP traps, `NetFlow`), everywhere
    /// or only with one peer network.
    pub one_way: Vec<OneWay>,
    pub query: QuerySettings,
    /// Named things outside the wave (a domain controller that stays put), so that reports
    /// can say who an address is; never in scope.
    pub dependencies: Vec<Dependency>,
}

impl WaveConfig {
    pub fn servers(&self) -> impl Iterator<Item = &Server> {
        self.apps.iter().flat_map(|app| app.servers.iter())
    }

    /// The server that has `ip` among its addresses (`ip` or `ips`).
    pub fn server_by_ip(&self, ip: IpAddr) -> Option<&Server> {
        self.servers().find(|s| s.addresses().any(|a| a == ip))
    }

    /// The account with this id.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn dependency_by_ip(&self, ip: IpAddr) -> Option<&Dependency> {
        self.dependencies.iter().find(|d| d.ip == ip)
    }
}

/// The report window: fixed, or the last span before the run (resolved by the caller,
/// because this crate never reads the clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowSpec {
    Absolute(TimeWindow),
    Last(#[serde(with = "humantime_secs")] Duration),
}

impl WindowSpec {
    /// The concrete window for a run that starts at `now` (Unix seconds).
    pub fn resolve(self, now: i64) -> TimeWindow {
        match self {
            WindowSpec::Absolute(w) => w,
            WindowSpec::Last(d) => {
                TimeWindow { start: now - i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2), end: now }
            }
        }
    }
}

impl fmt::Display for WindowSpec {
    /// `last 1d`, or `2026-11-20T00:00:00Z..2026-11-21T00:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowSpec::Last(d) => write!(f, "last {}", load::format_secs(d.as_secs())),
            WindowSpec::Absolute(w) => {
                let time = |t: i64| {
                    chrono::DateTime::from_timestamp(t, 0)
                        .map_or_else(|| t.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                };
                write!(f, "{}..{}", time(w.start), time(w.end))
            }
        }
    }
}

mod humantime_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub assume_role_arn: Option<String>,
    pub external_id: Option<String>,
}

/// One AWS account of a wave that spans several: where its servers are resolved and its log
/// groups queried, with its own region and role on top of the wave's `[aws]` credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// A short name for reports and for `account = "…"` in apps and servers.
    pub name: Option<String>,
    /// The account's region; the wave's `[aws]` region when not given.
    pub region: Option<String>,
    pub assume_role_arn: Option<String>,
    pub external_id: Option<String>,
    /// Log groups in this account; `discover` also queries those of the flow logs this
    /// account's resolution finds.
    pub log_groups: LogGroups,
}

impl Account {
    /// `prod (111111111111)`, or the id alone.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Networks {
    /// Networks counted as "ours" (AWS VPCs and on-premises); flows from elsewhere are noise.
    pub internal: Vec<IpNet>,
    /// On-premises networks: peers here are proposed by their narrowest containing CIDR.
    pub on_premises: Vec<IpNet>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogGroups {
    pub names: Vec<String>,
    /// Also query the log groups of the flow logs that cover the wave's servers.
    pub discover: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub name: String,
    pub description: Option<String>,
    pub servers: Vec<Server>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub name: String,
    pub app: String,
    pub ip: IpAddr,
    /// More addresses of the same server (besides `ip`), in file order.
    pub ips: Vec<IpAddr>,
    pub instance_id: Option<String>,
    pub role: Option<String>,
    pub os: Option<Os>,
    /// The server stays on premises (a dependency of the wave, not part of it).
    pub on_premises: bool,
    /// The id of the account it runs in, when the wave has `[[accounts]]` and says which
    /// (per server or per app); otherwise every account is searched for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl Server {
    /// `ip`, then `ips`.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        std::iter::once(self.ip).chain(self.ips.iter().copied())
    }
}

/// Something outside the wave that its servers talk to, named for readable reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    pub ip: IpAddr,
    pub note: Option<String>,
}

/// An end of an expected flow: a server of the wave by name, or an address or network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Server(String),
    Network(IpNet),
}

impl fmt::Display for Endpoint {
    /// The server's name or the network, as the wave file names it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Server(name) => f.write_str(name),
            Endpoint::Network(n) => write!(f, "{n}"),
        }
    }
}

impl Endpoint {
    /// What this end stands for: every address of the named server (nothing when no server
    /// of the wave has the name), or the network.
    pub fn nets(&self, wave: &WaveConfig) -> Vec<IpNet> {
        match self {
            Endpoint::Server(name) => {
                wave.servers().filter(|s| &s.name == name).flat_map(|s| s.addresses().map(IpNet::from)).collect()
            }
            Endpoint::Network(n) => vec![*n],
        }
    }
}

/// The widest on-premises network a wave may name (and a proposal may open), IPv4.
pub const WIDEST_ON_PREMISES_V4: u8 = 8;
/// The same for IPv6.
pub const WIDEST_ON_PREMISES_V6: u8 = 32;

/// Narrow enough to be a data centre's range rather than a slice of the internet.
pub fn is_sane_on_premises(net: IpNet) -> bool {
    let widest = if net.addr().is_ipv4() { WIDEST_ON_PREMISES_V4 } else { WIDEST_ON_PREMISES_V6 };
    net.prefix_len() >= widest
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedFlow {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub protocol: u8,
    pub port: u16,
}

impl ExpectedFlow {
    /// Its ends looked up once, for matching many flows.
    pub fn resolve(&self, wave: &WaveConfig) -> ResolvedFlow {
        ResolvedFlow { src: self.src.nets(wave), dst: self.dst.nets(wave), protocol: self.protocol, port: self.port }
    }
}

/// An expected flow with its ends as networks (a server's every address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedFlow {
    pub src: Vec<IpNet>,
    pub dst: Vec<IpNet>,
    pub protocol: u8,
    pub port: u16,
}

impl ResolvedFlow {
    /// An end names no server of the wave: nothing can match it.
    pub fn has_unknown_end(&self) -> bool {
        self.src.is_empty() || self.dst.is_empty()
    }

    /// Whether a flow from `client` to `server` on `protocol`/`port` is this one.
    pub fn matches(&self, client: IpAddr, server: IpAddr, protocol: u8, port: u16) -> bool {
        self.protocol == protocol
            && self.port == port
            && self.src.iter().any(|n| n.contains(&client))
            && self.dst.iter().any(|n| n.contains(&server))
    }
}

/// A protocol and port, such as `udp/514`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Service {
    pub protocol: u8,
    pub port: u16,
}

impl fmt::Display for Service {
    /// `tcp/443`, `udp/514`, `icmp`; other protocols by number (`47`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.protocol {
            proto::TCP => write!(f, "tcp/{}", self.port),
            proto::UDP => write!(f, "udp/{}", self.port),
            proto::ICMP => f.write_str("icmp"),
            proto::ICMPV6 => f.write_str("icmpv6"),
            n => write!(f, "{n}"),
        }
    }
}

/// Why a service could not be read (see [`Service::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("unknown protocol `{0}`")]
    UnknownProtocol(String),
    #[error("`{0}` needs a port")]
    NeedsPort(String),
    #[error("`{0}` has no ports")]
    NoPorts(String),
    #[error("port {0} is out of range")]
    OutOfRange(u64),
    #[error("invalid port `{port}` in {text:?}")]
    InvalidPort { port: String, text: String },
}

impl ServiceError {
    /// What to write instead.
    pub fn hint(&self) -> String {
        match self {
            ServiceError::UnknownProtocol(_) => {
                "write tcp/PORT, udp/PORT, icmp or icmpv6; application protocols are named by port: HTTPS is tcp/443"
                    .into()
            }
            ServiceError::NeedsPort(text) if text.bytes().all(|b| b.is_ascii_digit()) => {
                format!("name the protocol: tcp/{text} or udp/{text}")
            }
            ServiceError::NeedsPort(_) => "add the port, such as tcp/1433".into(),
            ServiceError::NoPorts(name) => format!("write just {name}"),
            ServiceError::OutOfRange(_) | ServiceError::InvalidPort { .. } => {
                "one port from 1 to 65535 (ranges are not supported)".into()
            }
        }
    }
}

impl Service {
    /// The one service syntax of every input: `tcp/1433` or `1433/tcp` (any case), `udp/53`,
    /// `icmp`, `icmpv6`. Printed back in the first form ([`fmt::Display`]).
    pub fn parse(text: &str) -> Result<Service, ServiceError> {
        let text = text.trim();
        let (name, port) = match text.split_once('/') {
            Some((a, b)) if a.bytes().all(|c| c.is_ascii_digit()) && !a.is_empty() => (b, Some(a)),
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let protocol = match name.to_ascii_lowercase().as_str() {
            "tcp" => proto::TCP,
            "udp" => proto::UDP,
            "icmp" => proto::ICMP,
            "icmpv6" => proto::ICMPV6,
            _ if port.is_none() && !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(ServiceError::NeedsPort(name.to_owned()));
            }
            other => return Err(ServiceError::UnknownProtocol(other.to_owned())),
        };
        match (matches!(protocol, proto::TCP | proto::UDP), port) {
            (true, Some(port)) => match port.parse::<u64>() {
                Ok(p @ 1..=65535) => Ok(Service { protocol, port: u16::try_from(p).unwrap_or(u16::MAX) }),
                Ok(p) => Err(ServiceError::OutOfRange(p)),
                Err(_) => Err(ServiceError::InvalidPort { port: port.to_owned(), text: text.to_owned() }),
            },
            (true, None) => Err(ServiceError::NeedsPort(text.to_owned())),
            (false, Some(_)) => Err(ServiceError::NoPorts(name.to_ascii_lowercase())),
            (false, None) => Ok(Service { protocol, port: 0 }),
        }
    }
}

/// Whether `s` is an AWS region name: `eu-west-1`, `us-gov-west-1`, `cn-northwest-1`,
/// `us-isob-east-1`. The one region check of the wave loader and the AWS client.
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((&country, rest)) = parts.split_first() else { return false };
    let Some((&number, middle)) = rest.split_last() else { return false };
    let directions = ["east", "west", "north", "south", "central", "northeast", "northwest", "southeast", "southwest"];
    let middle_ok = match middle {
        [direction] => directions.contains(direction),
        [partition, direction] => {
            ["gov", "iso", "isob", "isoe", "isof"].contains(partition) && directions.contains(direction)
        }
        _ => false,
    };
    country.len() == 2
        && country.chars().all(|c| c.is_ascii_lowercase())
        && middle_ok
        && (1..=2).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
}

/// A service that is one-way by design, everywhere or only with one peer network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OneWay {
    pub service: Service,
    pub peer: Option<IpNet>,
}

impl OneWay {
    /// Whether traffic of `service` between `a` and `b` is one-way by this entry: the service
    /// matches and, when a peer is set, either end lies in it.
    pub fn matches(&self, service: Service, a: IpAddr, b: IpAddr) -> bool {
        self.service == service && self.peer.is_none_or(|peer| peer.contains(&a) || peer.contains(&b))
    }
}

impl fmt::Display for OneWay {
    /// `udp/514`, or `udp/162 with 172.20.9.30/32`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.peer {
            None => write!(f, "{}", self.service),
            Some(peer) => write!(f, "{} with {peer}", self.service),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoreRule {
    pub network: IpNet,
    /// Only this service, when given.
    pub service: Option<Service>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    CloudWatch,
    /// Flow-log files (S3 layout, or `CloudWatch` Logs exports) on disk.
    Files {
        dir: PathBuf,
        /// The inventory snapshot; without one the servers resolve with the EC2 API.
        inventory: Option<PathBuf>,
    },
    /// The flow-log objects of an S3 destination, read where they are.
    S3 {
        location: S3Location,
        /// The inventory snapshot; without one the servers resolve with the EC2 API.
        inventory: Option<PathBuf>,
    },
}

impl Source {
    /// The inventory snapshot the source names, if any.
    pub fn snapshot(&self) -> Option<&std::path::Path> {
        match self {
            Source::CloudWatch => None,
            Source::Files { inventory, .. } | Source::S3 { inventory, .. } => inventory.as_deref(),
        }
    }

    /// Whether the flows are read from flow-log objects as delivered to S3 (on disk or in a
    /// bucket) rather than queried in CloudWatch Logs.
    pub fn reads_objects(&self) -> bool {
        !matches!(self, Source::CloudWatch)
    }

    /// `cloudwatch`, `files` or `s3`, as findings.json names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::CloudWatch => "cloudwatch",
            Source::Files { .. } => "files",
            Source::S3 { .. } => "s3",
        }
    }
}

impl fmt::Display for Source {
    /// What the report's "Source" line says.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (objects, inventory) = match self {
            Source::CloudWatch => return f.write_str("CloudWatch Logs Insights"),
            Source::Files { dir, inventory } => (format!("flow-log files in {}", dir.display()), inventory),
            Source::S3 { location, inventory } => (format!("flow-log objects in {location}"), inventory),
        };
        match inventory {
            Some(snapshot) => write!(f, "{objects} with the inventory snapshot {}", snapshot.display()),
            None => write!(f, "{objects} with the inventory from the EC2 API"),
        }
    }
}

/// Where an S3 flow-log destination keeps its objects: the bucket, and the prefix above
/// `AWSLogs/` (empty, or ending with `/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    /// Reads `s3://bucket/prefix/`. A prefix that already ends in `AWSLogs/` is taken as the
    /// part above it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest =
            text.strip_prefix("s3://").ok_or_else(|| format!("`{text}` is not an S3 URL (it starts with `s3://`)"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            return Err(format!(
                "`{bucket}` is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens)"
            ));
        }
        let mut prefix = prefix.trim_start_matches('/').to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        if prefix == "AWSLogs/" || prefix.ends_with("/AWSLogs/") {
            prefix.truncate(prefix.len() - "AWSLogs/".len());
        }
        Ok(S3Location { bucket: bucket.to_owned(), prefix })
    }

    /// The key prefix every flow-log object of the destination starts with.
    pub fn logs_prefix(&self) -> String {
        format!("{}AWSLogs/", self.prefix)
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// The client port range proposed for NACL return rules when a server's OS is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EphemeralPolicy {
    pub from: u16,
    pub to: u16,
}

impl Default for EphemeralPolicy {
    fn default() -> Self {
        EphemeralPolicy { from: 1024, to: 65535 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuerySettings {
    /// Log groups per `StartQuery` (AWS allows 50).
    pub chunk_size: usize,
    /// Queries running at once (the account allows 100, shared with dashboards).
    pub max_in_flight: usize,
    /// Rows per query before a chunk counts as truncated (AWS: 10,000).
    pub row_limit: usize,
    /// Dollars per GB scanned.
    pub price_per_gb: f64,
    /// The longest window a wave may ask for.
    pub max_window: Duration,
    /// How long one query may go without a terminal status before it is stopped and counted
    /// as a coverage gap (Logs Insights itself gives up after 60 minutes).
    pub deadline: Duration,
}

impl Default for QuerySettings {
    fn default() -> Self {
        QuerySettings {
            chunk_size: 50,
            max_in_flight: 20,
            row_limit: 10_000,
            price_per_gb: 0.005,
            max_window: Duration::from_secs(31 * 24 * 3600),
            deadline: Duration::from_secs(20 * 60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_read_in_either_order_and_print_one_way() {
        for (text, expected) in [
            ("tcp/1433", Ok("tcp/1433")),
            ("1433/tcp", Ok("tcp/1433")),
            ("53/UDP", Ok("udp/53")),
            (" icmp ", Ok("icmp")),
            ("ICMPv6", Ok("icmpv6")),
            ("443", Err(ServiceError::NeedsPort("443".into()))),
            ("tcp", Err(ServiceError::NeedsPort("tcp".into()))),
            ("icmp/0", Err(ServiceError::NoPorts("icmp".into()))),
            ("70000/tcp", Err(ServiceError::OutOfRange(70000))),
            ("tcp/0", Err(ServiceError::OutOfRange(0))),
            ("tcp/80-90", Err(ServiceError::InvalidPort { port: "80-90".into(), text: "tcp/80-90".into() })),
            ("443/xyz", Err(ServiceError::UnknownProtocol("xyz".into()))),
            ("https", Err(ServiceError::UnknownProtocol("https".into()))),
        ] {
            assert_eq!(Service::parse(text).map(|s| s.to_string()), expected.map(str::to_owned), "{text}");
        }
        assert_eq!(ServiceError::NeedsPort("443".into()).hint(), "name the protocol: tcp/443 or udp/443");
    }

    #[test]
    fn s3_urls_name_a_bucket_and_the_prefix_above_awslogs() {
        let loc = |t: &str| S3Location::parse(t).map(|l| (l.bucket, l.prefix));
        let ok = |b: &str, p: &str| Ok((b.to_owned(), p.to_owned()));
        assert_eq!(loc("s3://flow-logs"), ok("flow-logs", ""));
        assert_eq!(loc("s3://flow-logs/"), ok("flow-logs", ""));
        assert_eq!(loc("s3://flow-logs/central/vpc"), ok("flow-logs", "central/vpc/"));
        assert_eq!(loc("s3://flow-logs/central/AWSLogs/"), ok("flow-logs", "central/"));
        assert_eq!(loc("s3://flow-logs/AWSLogs"), ok("flow-logs", ""));
        assert!(loc("flow-logs/x").unwrap_err().contains("starts with `s3://`"));
        assert!(loc("s3://Flow_Logs/x").unwrap_err().contains("not a bucket name"));
        assert!(loc("s3://ab").is_err());
        assert_eq!(S3Location::parse("s3://b-1/p").unwrap().to_string(), "s3://b-1/p/");
    }

    #[test]
    fn one_way_entries_match_their_peer() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trap = Service { protocol: proto::UDP, port: 162 };
        let everywhere = OneWay { service: trap, peer: None };
        let with_nms = OneWay { service: trap, peer: Some("172.20.9.30/32".parse().unwrap()) };
        assert!(everywhere.matches(trap, ip("10.0.0.6"), ip("10.1.0.1")));
        assert!(!everywhere.matches(Service { protocol: proto::UDP, port: 514 }, ip("10.0.0.6"), ip("10.1.0.1")));
        // Either end may be the peer.
        assert!(with_nms.matches(trap, ip("10.0.0.6"), ip("172.20.9.30")));
        assert!(with_nms.matches(trap, ip("172.20.9.30"), ip("10.0.0.6")));
        assert!(!with_nms.matches(trap, ip("10.0.0.6"), ip("172.20.9.31")));
        assert!(!with_nms.matches(Service { protocol: proto::TCP, port: 162 }, ip("10.0.0.6"), ip("172.20.9.30")));
        // An IPv6 peer never holds an IPv4 end.
        let v6 = OneWay { service: trap, peer: Some("fd00::/8".parse().unwrap()) };
        assert!(v6.matches(trap, ip("10.0.0.6"), ip("fd00::9")));
        assert!(!v6.matches(trap, ip("10.0.0.6"), ip("10.0.0.7")));
    }
}
