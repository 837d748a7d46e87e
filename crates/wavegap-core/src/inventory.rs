//! The network configuration a wave runs in: VPCs, subnets, ENIs, instances, security groups,
//! network ACLs, prefix lists, peerings, NAT gateways and flow logs.
//!
//! These are wavegap's own types, not the SDK's. The resolver fills them from the EC2 API or
//! from a snapshot; the analysis cannot tell which. Collections are `BTreeMap`s keyed by id so
//! that everything derived from an inventory comes out in a stable order.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// IANA protocol numbers wavegap names.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ICMPV6: u8 = 58;
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub vpcs: BTreeMap<String, Vpc>,
    pub subnets: BTreeMap<String, Subnet>,
    pub enis: BTreeMap<String, Eni>,
    pub instances: BTreeMap<String, Instance>,
    pub security_groups: BTreeMap<String, SecurityGroup>,
    pub nacls: BTreeMap<String, NetworkAcl>,
    pub prefix_lists: BTreeMap<String, PrefixList>,
    pub peerings: BTreeMap<String, VpcPeering>,
    pub nat_gateways: BTreeMap<String, NatGateway>,
    pub flow_logs: BTreeMap<String, FlowLog>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub owner_id: Option<String>,
    pub name: Option<String>,
    /// Primary CIDR first, then associated ones (IPv4 and IPv6).
    pub cidrs: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub name: Option<String>,
    pub availability_zone: Option<String>,
    /// IPv4 CIDR first, then IPv6 ones.
    pub cidrs: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eni {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub owner_id: Option<String>,
    /// Primary private IPv4 first, then secondary IPv4, then IPv6.
    pub private_ips: Vec<IpAddr>,
    pub public_ip: Option<IpAddr>,
    /// Security group ids, in attachment order.
    pub security_groups: Vec<String>,
    pub instance_id: Option<String>,
    pub interface_type: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
}

impl Eni {
    pub fn primary_ip(&self) -> Option<IpAddr> {
        self.private_ips.first().copied()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Linux,
    Windows,
    /// Windows Server 2003 and older: ephemeral ports 1025-5000.
    WindowsLegacy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub name: Option<String>,
    pub state: Option<String>,
    pub platform: Option<Os>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub private_ip: Option<IpAddr>,
    pub eni_ids: Vec<String>,
}

/// A protocol as security groups and NACLs name it: all protocols, or one IANA number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// `-1`: every protocol and every port.
    All,
    Number(u8),
}

impl Protocol {
    /// Parses `tcp`, `udp`, `icmp`, `icmpv6`, `-1`/`all` or a number, as EC2 writes them.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "-1" | "all" => Some(Protocol::All),
            "tcp" => Some(Protocol::Number(proto::TCP)),
            "udp" => Some(Protocol::Number(proto::UDP)),
            "icmp" => Some(Protocol::Number(proto::ICMP)),
            "icmpv6" => Some(Protocol::Number(proto::ICMPV6)),
            n => n.parse().ok().map(Protocol::Number),
        }
    }

    /// As the security group API writes it: `-1`, `tcp`, `udp`, `icmp`, `icmpv6` or the
    /// number (what [`Protocol::parse`] reads back).
    pub fn ec2_name(self) -> String {
        match self {
            Protocol::All => "-1".to_owned(),
            Protocol::Number(proto::TCP) => "tcp".to_owned(),
            Protocol::Number(proto::UDP) => "udp".to_owned(),
            Protocol::Number(proto::ICMP) => "icmp".to_owned(),
            Protocol::Number(proto::ICMPV6) => "icmpv6".to_owned(),
            Protocol::Number(n) => n.to_string(),
        }
    }

    /// As the network ACL API writes it: `-1` or the number.
    pub fn ec2_number(self) -> String {
        match self {
            Protocol::All => "-1".to_owned(),
            Protocol::Number(n) => n.to_string(),
        }
    }

    pub fn matches(self, protocol: u8) -> bool {
        match self {
            Protocol::All => true,
            Protocol::Number(n) => n == protocol,
        }
    }

    /// Whether rules for this protocol carry a port range (TCP and UDP do).
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Number(proto::TCP | proto::UDP))
    }
}

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange { from: 0, to: 65535 };

    pub const fn single(port: u16) -> Self {
        PortRange { from: port, to: port }
    }

    pub fn contains(self, port: u16) -> bool {
        (self.from..=self.to).contains(&port)
    }
}

/// ICMP type and code; `None` means any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IcmpMatch {
    pub icmp_type: Option<u8>,
    pub code: Option<u8>,
}

/// What a rule matches beyond the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortMatch {
    /// Every port (protocol `-1`, or a protocol without ports).
    Any,
    Ports(PortRange),
    Icmp(IcmpMatch),
}

impl PortMatch {
    /// `FromPort` and `ToPort` as EC2 writes them: the port range, or the ICMP type and code
    /// (`-1` for any); `None` for every port.
    pub fn ec2_from_to(self) -> Option<(i32, i32)> {
        match self {
            PortMatch::Any => None,
            PortMatch::Ports(r) => Some((i32::from(r.from), i32::from(r.to))),
            PortMatch::Icmp(i) => Some((i.icmp_type.map_or(-1, i32::from), i.code.map_or(-1, i32::from))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SgPeer {
    Cidr(IpNet),
    PrefixList(String),
    /// Matches the private IPs of the ENIs that carry this group.
    Group {
        group_id: String,
        owner_id: Option<String>,
        vpc_id: Option<String>,
        peering_id: Option<String>,
    },
}

/// One security group rule: one protocol/port match and one peer. EC2's `IpPermissions`
/// carry several peers per entry; the resolver flattens them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SgRule {
    /// `sgr-…` when known.
    pub id: Option<String>,
    pub protocol: Protocol,
    pub ports: PortMatch,
    pub peer: SgPeer,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub description: Option<String>,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    Allow,
    Deny,
}

impl RuleAction {
    /// `allow` or `deny`, as EC2 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Allow => "allow",
            RuleAction::Deny => "deny",
        }
    }
}

/// The number EC2 gives the unchangeable last `*` entry.
pub const NACL_DEFAULT_RULE_NUMBER: u16 = 32767;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NaclEntry {
    /// 1-32766, or [`NACL_DEFAULT_RULE_NUMBER`] for the `*` entry.
    pub rule_number: u16,
    pub egress: bool,
    pub protocol: Protocol,
    pub ports: PortMatch,
    pub cidr: IpNet,
    pub action: RuleAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkAcl {
    pub id: String,
    pub vpc_id: String,
    pub name: Option<String>,
    pub is_default: bool,
    pub subnet_ids: Vec<String>,
    /// As EC2 lists them; the evaluator sorts by rule number and adds the implicit `*` DENY
    /// when it is missing (some emulators omit it).
    pub entries: Vec<NaclEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixList {
    pub id: String,
    pub name: Option<String>,
    pub max_entries: Option<u32>,
    pub entries: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpcPeering {
    pub id: String,
    pub requester_vpc_id: String,
    pub accepter_vpc_id: String,
    pub status: Option<String>,
}

impl VpcPeering {
    pub fn is_active(&self) -> bool {
        self.status.as_deref().is_none_or(|s| s == "active")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NatGateway {
    pub id: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub private_ips: Vec<IpAddr>,
    pub eni_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowLogDestination {
    CloudWatchLogs,
    S3,
    KinesisDataFirehose,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowLog {
    pub id: String,
    /// The VPC, subnet or ENI the flow log watches.
    pub resource_id: String,
    pub destination_type: FlowLogDestination,
    /// For `CloudWatch` Logs destinations.
    pub log_group: Option<String>,
    /// The ARN of an S3 bucket (and prefix) or Firehose stream.
    pub destination: Option<String>,
    /// `ACCEPT`, `REJECT` or `ALL`.
    pub traffic_type: Option<String>,
    /// The `LogFormat` string; `None` means the default format.
    pub log_format: Option<String>,
    pub status: Option<String>,
    pub max_aggregation_interval: Option<u32>,
    /// When it was created (Unix seconds), when the inventory says: no record is older.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
}

/// Which actions the flow logs of an ENI record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedTraffic {
    pub accepted: bool,
    pub rejected: bool,
}

impl LoggedTraffic {
    /// The one action the flow logs do not record, when they record only the other (an ENI
    /// no flow log covers records neither: that is "no flow logs", not a blind spot).
    pub fn blind_to(self) -> Option<crate::flowlog::Action> {
        use crate::flowlog::Action;
        match (self.accepted, self.rejected) {
            (true, false) => Some(Action::Reject),
            (false, true) => Some(Action::Accept),
            _ => None,
        }
    }
}

impl Inventory {
    /// The longest aggregation interval of the flow logs, in seconds (600, the default,
    /// when none says).
    pub fn aggregation_interval(&self) -> i64 {
        self.flow_logs.values().filter_map(|f| f.max_aggregation_interval).max().map_or(600, i64::from)
    }

    /// The ENI whose private IPs include `ip`.
    pub fn eni_by_ip(&self, ip: IpAddr) -> Option<&Eni> {
        self.enis.values().find(|eni| eni.private_ips.contains(&ip))
    }

    /// The network ACL associated with a subnet.
    pub fn nacl_for_subnet(&self, subnet_id: &str) -> Option<&NetworkAcl> {
        self.nacls.values().find(|acl| acl.subnet_ids.iter().any(|s| s == subnet_id))
    }

    /// The VPC whose CIDRs contain `ip`.
    pub fn vpc_containing(&self, ip: IpAddr) -> Option<&Vpc> {
        self.vpcs.values().find(|vpc| vpc.cidrs.iter().any(|c| c.contains(&ip)))
    }

    /// Whether two VPCs are the same or joined by an active peering.
    pub fn vpcs_connected(&self, a: &str, b: &str) -> bool {
        a == b
            || self.peerings.values().any(|p| {
                p.is_active()
                    && ((p.requester_vpc_id == a && p.accepter_vpc_id == b)
                        || (p.requester_vpc_id == b && p.accepter_vpc_id == a))
            })
    }

    /// What the flow logs covering an ENI record: a flow log with `TrafficType` `ACCEPT`
    /// logs no REJECT, one with `REJECT` no accepted flow (so no answer either).
    pub fn logged_traffic(&self, eni: &Eni) -> LoggedTraffic {
        let mut logged = LoggedTraffic::default();
        for fl in self.flow_logs_for_eni(eni) {
            match fl.traffic_type.as_deref().map(str::to_ascii_uppercase).as_deref() {
                Some("ACCEPT") => logged.accepted = true,
                Some("REJECT") => logged.rejected = true,
                // `ALL`, or not said (older snapshots): everything.
                _ => {
                    logged.accepted = true;
                    logged.rejected = true;
                }
            }
        }
        logged
    }

    /// The flow logs that cover an ENI: on the ENI itself, its subnet or its VPC.
    pub fn flow_logs_for_eni<'a>(&'a self, eni: &'a Eni) -> impl Iterator<Item = &'a FlowLog> + 'a {
        self.flow_logs.values().filter(move |fl| {
            fl.resource_id == eni.id || fl.resource_id == eni.subnet_id || fl.resource_id == eni.vpc_id
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_and_numbers() {
        for (text, expected) in [
            ("tcp", Protocol::Number(6)),
            ("UDP", Protocol::Number(17)),
            ("icmp", Protocol::Number(1)),
            ("icmpv6", Protocol::Number(58)),
            ("-1", Protocol::All),
            ("50", Protocol::Number(50)),
        ] {
            assert_eq!(Protocol::parse(text), Some(expected), "{text}");
        }
        for p in [Protocol::All, Protocol::Number(6), Protocol::Number(17), Protocol::Number(58), Protocol::Number(50)]
        {
            assert_eq!(Protocol::parse(&p.ec2_name()), Some(p), "{p:?}");
            assert_eq!(Protocol::parse(&p.ec2_number()), Some(p), "{p:?}");
        }
        assert_eq!(Protocol::Number(6).ec2_name(), "tcp");
        assert_eq!(Protocol::Number(6).ec2_number(), "6");
        assert_eq!(Protocol::parse("tcpx"), None);
        assert_eq!(Protocol::parse("256"), None);
        assert!(Protocol::All.matches(17));
        assert!(!Protocol::Number(6).matches(17));
    }

    #[test]
    fn port_range_is_inclusive() {
        let r = PortRange { from: 1024, to: 65535 };
        assert!(r.contains(1024) && r.contains(65535) && !r.contains(1023));
    }
}
