//! The result of analysing a wave: what `findings.json` holds and the reports render.
//!
//! Everything here is plain data with a stable order (findings sorted by their id, which is
//! built from the flow itself, never from a counter or a random source), so two runs over the
//! same data serialise byte for byte the same and diff cleanly in git.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::direction::DirectionFrom;
use crate::flow::TimeWindow;
use crate::inventory::{NaclEntry, SgRule};

/// The version of the `findings.json` layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything wavegap found for one wave over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub schema_version: u32,
    pub wave: String,
    pub window: TimeWindow,
    pub summary: Summary,
    /// Flows dropped by a security group or network ACL, one per (client, server, service, leg).
    pub rejected: Vec<RejectedFinding>,
    /// Accepted flows that never got an answer.
    pub unanswered: Vec<UnansweredFinding>,
    /// Flows the wave file expects that never appeared.
    pub not_seen: Vec<NotSeenFinding>,
    /// Rejected traffic that is not the wave's business: counted, never proposed as rules.
    pub noise: Noise,
    /// The least-privilege rule changes that fix the rejected findings.
    pub proposals: Vec<Proposal>,
    /// What limits the confidence of this analysis (SKIPDATA, coverage gaps, short windows).
    pub caveats: Vec<Caveat>,
    /// Accepted conversations touching the wave, sorted: what the diagrams draw as working.
    #[serde(default)]
    pub accepted: Vec<AcceptedFlow>,
}

/// The kinds of finding a run can be told to fail on (`report --fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// Rejected flows that need a rule change.
    Rejected,
    /// Accepted flows still waiting for an answer.
    Unanswered,
    /// Expected flows that never appeared.
    NotSeen,
}

impl Analysis {
    /// How many findings of a kind are still open: the count behind `report`'s exit code 1.
    pub fn open(&self, kind: FindingKind) -> usize {
        match kind {
            FindingKind::Rejected => self.rejected.iter().filter(|f| f.needs_change()).count(),
            FindingKind::Unanswered => self.unanswered.iter().filter(|f| f.is_open()).count(),
            FindingKind::NotSeen => self.not_seen.len(),
        }
    }
}

/// A conversation seen accepted, oriented client to server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AcceptedFlow {
    pub client: IpAddr,
    pub server: IpAddr,
    pub protocol: u8,
    pub port: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub servers: usize,
    pub aggregates: usize,
    pub rejected: usize,
    /// Rejected findings the current configuration would let through (it changed, or the
    /// flow log and the inventory disagree).
    pub rejected_should_pass: usize,
    /// Rejected findings held back as single connection attempts (no proposal).
    #[serde(default)]
    pub rejected_single_attempts: usize,
    pub unanswered: usize,
    /// Unanswered findings held back by a caveat (SKIPDATA, recent flows, short window).
    pub unanswered_suppressed: usize,
    pub not_seen: usize,
    pub proposals: usize,
    /// Proposals that would push a security group or NACL over its quota.
    pub proposals_over_quota: usize,
    pub noise_records: u64,
    pub ignored_records: u64,
}

/// Where an address sits, as far as the wave and the inventory can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerKind {
    /// An ENI of the inventory.
    Aws,
    /// Inside one of the wave's on-premises networks.
    OnPremises,
    /// Inside the wave's internal networks but neither a known ENI nor on-premises.
    Internal,
    /// Outside every configured network.
    External,
}

/// One end of a flow, with what is known about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FlowEnd {
    pub ip: IpAddr,
    pub kind: PeerKind,
    /// The wave's server name, when the address is one of the wave's servers.
    pub server: Option<String>,
    pub app: Option<String>,
    pub eni: Option<String>,
    pub subnet: Option<String>,
    pub vpc: Option<String>,
    /// Whether the address is one of the wave's servers.
    pub in_wave: bool,
    /// The name of a `[[dependencies]]` entry with this address (never in the wave).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency: Option<String>,
}

impl FlowEnd {
    /// The name a report shows: the server's, else the dependency's.
    pub fn name(&self) -> Option<&str> {
        self.server.as_deref().or(self.dependency.as_deref())
    }
}

/// The records behind a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub records: u64,
    pub packets: u64,
    pub bytes: u64,
    /// Unix seconds.
    pub first_seen: i64,
    pub last_seen: i64,
    /// The ENIs whose flow logs held the records, sorted.
    pub enis: Vec<String>,
    /// The log groups (or flow-log ids) they came from, sorted.
    pub log_groups: Vec<String>,
    /// OR of the `tcp-flags` of the records, when the format carries them.
    pub tcp_flags: Option<u16>,
}

/// Which half of a conversation a rejected finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Leg {
    /// Client to server, to the service port.
    Request,
    /// Server back to the client's ephemeral port: only a NACL can drop it.
    Response,
}

/// The places a packet is checked on its way, in order. "Source" and "destination" are the
/// client and the server of the conversation; the return hops carry the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hop {
    SourceSgEgress,
    SourceNaclOutbound,
    DestinationNaclInbound,
    DestinationSgIngress,
    /// The response leaving the server's subnet.
    ReturnDestinationNaclOutbound,
    /// The response entering the client's subnet.
    ReturnSourceNaclInbound,
}

impl Hop {
    pub const ALL: [Hop; 6] = [
        Hop::SourceSgEgress,
        Hop::SourceNaclOutbound,
        Hop::DestinationNaclInbound,
        Hop::DestinationSgIngress,
        Hop::ReturnDestinationNaclOutbound,
        Hop::ReturnSourceNaclInbound,
    ];

    pub fn is_sg(self) -> bool {
        matches!(self, Hop::SourceSgEgress | Hop::DestinationSgIngress)
    }

    pub fn is_return(self) -> bool {
        matches!(self, Hop::ReturnDestinationNaclOutbound | Hop::ReturnSourceNaclInbound)
    }

    /// How the hop reads in a report.
    pub fn label(self) -> &'static str {
        match self {
            Hop::SourceSgEgress => "source security group egress",
            Hop::SourceNaclOutbound => "source subnet NACL outbound",
            Hop::DestinationNaclInbound => "destination subnet NACL inbound",
            Hop::DestinationSgIngress => "destination security group ingress",
            Hop::ReturnDestinationNaclOutbound => "return: destination subnet NACL outbound",
            Hop::ReturnSourceNaclInbound => "return: source subnet NACL inbound",
        }
    }
}

/// A layer that drops a flow and the rule that decides it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Culprit {
    pub hop: Hop,
    /// The security group ids (comma-separated) or the network ACL id.
    pub resource: String,
    /// What decides: `no rule allows tcp/1433 from 10.0.0.7`, `#89 deny tcp 49152-65535 …`.
    pub rule: String,
    /// The NACL rule number that denies (32767 for the `*` entry); `None` for security groups.
    pub rule_number: Option<u16>,
}

/// How sure the attribution of a rejected finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attribution {
    /// The configuration drops the flow at a hop consistent with the ENI that logged it.
    Confirmed,
    /// The configuration drops the flow, but not where the log says (the log is taken on the
    /// other end): the culprits are the configuration's, named anyway.
    Inconsistent,
    /// The current configuration lets the flow through: it changed since, or a peer is unknown.
    ShouldPass,
    /// Not enough inventory to evaluate (ENI, subnet or NACL missing).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedFinding {
    /// Stable and readable: `rejected/tcp/1433/10.0.0.7/10.0.0.8/request`.
    pub id: String,
    pub client: FlowEnd,
    pub server: FlowEnd,
    pub protocol: u8,
    /// The service port (0 for protocols without ports).
    pub port: u16,
    pub leg: Leg,
    /// What decided which end opened the connection (and so the service port).
    pub direction_from: DirectionFrom,
    /// The evidence was split or absent for some of the records: the direction is a guess.
    pub direction_split: bool,
    pub attribution: Attribution,
    /// The layers that drop the flow under the current configuration, in path order.
    pub culprits: Vec<Culprit>,
    /// One sentence a migration engineer can act on.
    pub explanation: String,
    pub evidence: Evidence,
    /// Ids of the proposals that fix it.
    pub proposals: Vec<String>,
    /// Why no change is proposed although one would let it through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_back: Option<HeldBack>,
}

impl RejectedFinding {
    /// Still needs someone: the current rules drop it (a flow they allow now was fixed, or
    /// the flow log and the inventory disagree).
    pub fn is_open(&self) -> bool {
        self.attribution != Attribution::ShouldPass
    }

    /// Open and not held back: a change is wanted (what `--fail-on rejected` counts).
    pub fn needs_change(&self) -> bool {
        self.is_open() && self.held_back.is_none()
    }
}

/// Why a rejected flow that a change would let through gets no proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeldBack {
    /// One record in the whole window from (or to) an address the wave does not know, and no
    /// other flow needs the same change: a single connection attempt that was never retried
    /// (a stray, a probe, a mistyped address).
    /// Applications with a broken dependency retry, and every retry is a new record; a rule
    /// for each stray would open the groups to probes. Declaring the flow in
    /// `expected-flows` lifts it.
    SingleAttempt,
}

/// What the flags and records say about an unanswered flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnansweredSignal {
    /// `tcp-flags` show SYN only: the handshake never completed.
    SynOnly,
    /// No return record at all; the format has no `tcp-flags` to confirm.
    NoReturnRecord,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnansweredFinding {
    /// `unanswered/tcp/1433/10.0.0.7/192.168.50.20`.
    pub id: String,
    pub client: FlowEnd,
    pub server: FlowEnd,
    pub protocol: u8,
    pub port: u16,
    pub direction_from: DirectionFrom,
    pub direction_split: bool,
    pub signal: UnansweredSignal,
    /// The likely reason, from where the server is.
    pub likely_cause: LikelyCause,
    /// Set when the finding is held back: the data cannot prove the absence of an answer.
    pub suppressed: Option<Suppression>,
    pub evidence: Evidence,
}

/// Where an unanswered flow's answer most likely got lost, from where its server is. The
/// reporter words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LikelyCause {
    /// The server is on premises: its firewall, a missing route back to AWS, or a host that
    /// is down.
    OnPremises,
    /// The address is in an AWS subnet but no interface holds it: terminated, not launched
    /// yet, or moved.
    NoInterface,
    /// An AWS interface that never answered, and no REJECT was logged: nothing listens, the
    /// host is down or its own firewall drops it.
    AwsPeerSilent,
    /// Anywhere else: a firewall or route outside AWS, or a host that is down.
    Elsewhere,
}

/// Why an unanswered flow is held back: what in the data keeps it from proving that no
/// answer came.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Suppression {
    /// These ENIs logged SKIPDATA in the window: the answer may be among the dropped records.
    Skipdata { enis: Vec<String> },
    /// The window is shorter than the aggregation interval plus the delivery lag.
    ShortWindow,
    /// First seen within the delivery lag of the window end: the answer may still be on its way.
    InDeliveryLag,
}

impl UnansweredFinding {
    /// Still needs someone: not held back by a caveat.
    pub fn is_open(&self) -> bool {
        self.suppressed.is_none()
    }
}

impl Analysis {
    /// The ids of the findings that still need someone: open rejected and unanswered flows,
    /// and expected flows not seen.
    pub fn open_ids(&self) -> impl Iterator<Item = &str> {
        self.rejected
            .iter()
            .filter(|r| r.is_open())
            .map(|r| r.id.as_str())
            .chain(self.unanswered.iter().filter(|u| u.is_open()).map(|u| u.id.as_str()))
            .chain(self.not_seen.iter().map(|n| n.id.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotSeenFinding {
    /// `not-seen/tcp/443/web01/10.1.0.0/16`.
    pub id: String,
    /// The ends as the wave file names them (server name or network).
    pub src: String,
    pub dst: String,
    pub protocol: u8,
    pub port: u16,
    pub note: String,
}

/// Traffic kept out of the findings, with counts so nothing disappears silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noise {
    /// Rejected traffic from outside the wave's internal and on-premises networks, by source.
    pub outside: Vec<NoiseSource>,
    /// Traffic matched by the wave's ignore rules, per rule.
    pub ignored: Vec<IgnoredCount>,
    /// Sources rejected on many ports at once that look like scanners; not proposed as rules.
    pub scanners: Vec<NoiseSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoiseSource {
    pub source: IpAddr,
    pub records: u64,
    /// Distinct (destination, protocol, port) it tried.
    pub targets: usize,
    /// Up to ten of the service ports, ascending, as `tcp/23`.
    pub sample_ports: Vec<String>,
    pub first_seen: i64,
    pub last_seen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoredCount {
    pub network: IpNet,
    /// `tcp/443`, when the rule names a service.
    pub service: Option<String>,
    pub reason: String,
    pub records: u64,
    pub flows: usize,
}

/// A rule change wavegap proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// `P001`, `P002`… in the sorted order of the changes.
    pub id: String,
    pub change: RuleChange,
    /// Ids of the findings it fixes (together with the proposals those findings also list).
    pub fixes: Vec<String>,
    /// Quota overruns, explicit DENY entries it overrides, anything to review before applying.
    pub warnings: Vec<String>,
    pub over_quota: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RuleChange {
    /// Add a rule to a security group (`authorize-security-group-ingress/egress`).
    SgRule { group_id: String, group_name: Option<String>, egress: bool, rule: SgRule },
    /// Add an entry to a network ACL (`create-network-acl-entry`).
    NaclEntry {
        acl_id: String,
        entry: NaclEntry,
        /// The first DENY entry the flow matched (32767 for `*`): the new entry goes before it.
        before_rule: u16,
        /// Whether it carries the return traffic to the clients' ephemeral ports.
        return_traffic: bool,
    },
}

impl RuleChange {
    /// The security group or network ACL it changes.
    pub fn resource(&self) -> &str {
        match self {
            RuleChange::SgRule { group_id, .. } => group_id,
            RuleChange::NaclEntry { acl_id, .. } => acl_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Caveat {
    pub kind: CaveatKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaveatKind {
    /// ENIs with SKIPDATA records: missing flows there prove nothing.
    Skipdata,
    /// Log groups or windows that could not be queried.
    CoverageGap,
    /// The window is shorter than the aggregation interval plus the delivery lag.
    ShortWindow,
    /// The last minutes of the window may not be delivered yet.
    DeliveryLag,
    /// Addresses or ENIs in the flows that the inventory does not know.
    UnknownInventory,
    /// Files, objects or lines that could not be read: their records are missing.
    DamagedInput,
    /// A server's flow logs record only ACCEPT or only REJECT: part of its traffic is invisible.
    LimitedVisibility,
    /// The window starts after the run: no flow log can have records there yet.
    FutureWindow,
    /// A server's flow logs were all created after the window ends: it has no records there.
    BeforeFlowLogs,
}
