//! From flow aggregates to findings: who dropped each rejected flow, which flows went
//! unanswered, which expected flows never showed up, and what is noise.
//!
//! The flow log never says which layer dropped a packet (docs/domain.md §4 "What a REJECT record
//! can and cannot say"), so every rejected conversation is evaluated against the inventory and
//! the verdict is cross-checked with the ENI that logged the REJECT. Responses are only ever
//! blamed on NACLs: security groups are stateful.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use crate::direction::{DirectionFrom, Orientation, Orienter};
use crate::eval::{Evaluator, FlowSpec, Outcome, PathEvaluation, service_label};
use crate::findings::{
    AcceptedFlow, Analysis, Attribution, Caveat, CaveatKind, Culprit, Evidence, FlowEnd, HeldBack, Hop, IgnoredCount,
    Leg, Noise, NoiseSource, NotSeenFinding, PeerKind, RejectedFinding, SCHEMA_VERSION, Summary, UnansweredFinding,
    UnansweredSignal,
};
use crate::flow::{FlowAggregate, FlowData, TimeWindow};
use crate::flowlog::Action;
use crate::inventory::{Inventory, Os, PortRange, proto};
use crate::propose;
use crate::scope::Scope;
use crate::wave::{EphemeralPolicy, Service, Source, WaveConfig};

/// What the analysis needs besides the wave, the inventory and the flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// The report window (resolved by the caller: this crate never reads the clock).
    pub window: TimeWindow,
    /// The flow logs' aggregation interval in seconds (600 by default, 60 on request).
    pub aggregation_interval: i64,
    /// How long after the end of an interval records may still arrive (CloudWatch about 5
    /// minutes, S3 about 10).
    pub delivery_lag: i64,
    /// A source outside the wave rejected on at least this many distinct service ports is
    /// treated as a scanner: summarised, never proposed as rules.
    pub scanner_ports: usize,
}

/// How long after an interval flow logs are still being delivered (seconds): about 5 minutes
/// to CloudWatch Logs, about 10 to S3 (docs/domain.md §1).
pub const CLOUDWATCH_DELIVERY_LAG: i64 = 300;
pub const S3_DELIVERY_LAG: i64 = 600;

impl AnalysisOptions {
    pub fn new(window: TimeWindow) -> Self {
        AnalysisOptions { window, aggregation_interval: 600, delivery_lag: 600, scanner_ports: 10 }
    }

    /// The options of a run over `window` as of `now` (Unix seconds, read by the caller): the
    /// longest aggregation interval of the inventory's flow logs (600 s when none says), and
    /// the delivery lag of the wave's source — none once the window ended longer ago than
    /// that, when every record has been delivered.
    pub fn for_run(window: TimeWindow, now: i64, source: &Source, inventory: &Inventory) -> Self {
        let lag = match source {
            Source::Files { .. } => S3_DELIVERY_LAG,
            Source::CloudWatch => CLOUDWATCH_DELIVERY_LAG,
        };
        let mut options = AnalysisOptions::new(window);
        options.aggregation_interval =
            inventory.flow_logs.values().filter_map(|f| f.max_aggregation_interval).max().map_or(600, i64::from);
        options.delivery_lag = if now - window.end > lag { 0 } else { lag };
        options
    }
}

/// Services that are one-way by design: syslog, SNMP traps, NetFlow/IPFIX/sFlow.
pub const DEFAULT_ONE_WAY: [Service; 7] = [
    Service { protocol: proto::UDP, port: 514 },
    Service { protocol: proto::UDP, port: 162 },
    Service { protocol: proto::UDP, port: 2055 },
    Service { protocol: proto::UDP, port: 4739 },
    Service { protocol: proto::UDP, port: 6343 },
    Service { protocol: proto::UDP, port: 9995 },
    Service { protocol: proto::UDP, port: 9996 },
];

/// UDP services that answer every request, so a missing answer means something.
pub const UDP_REQUEST_RESPONSE: [u16; 8] = [53, 67, 88, 123, 161, 389, 1434, 1812];

/// The ports a client answers on, from its OS when known (docs/domain.md §4), else the wave's policy.
pub fn ephemeral_range(os: Option<Os>, policy: EphemeralPolicy) -> PortRange {
    match os {
        // 32768-60999 is the Linux default; the AWS documentation says 61000: cover both.
        Some(Os::Linux) => PortRange { from: 32768, to: 61000 },
        Some(Os::Windows) => PortRange { from: 49152, to: 65535 },
        Some(Os::WindowsLegacy) => PortRange { from: 1025, to: 5000 },
        None => PortRange { from: policy.from, to: policy.to },
    }
}

/// The flow `wavegap explain` and reports evaluate for a conversation: the client's ephemeral
/// range comes from its OS (the wave's server entry, else the instance's platform), else the
/// wave's ephemeral policy.
pub fn flow_spec(
    wave: &WaveConfig,
    inv: &Inventory,
    client: IpAddr,
    server: IpAddr,
    protocol: u8,
    port: u16,
) -> FlowSpec {
    Context::new(wave, inv).spec(Conv { client, server, protocol, port })
}

/// A conversation: client, server, protocol, service port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Conv {
    pub client: IpAddr,
    pub server: IpAddr,
    pub protocol: u8,
    pub port: u16,
}

/// Shared look-ups for one analysis run.
pub(crate) struct Context<'a> {
    pub wave: &'a WaveConfig,
    pub eval: Evaluator<'a>,
    pub scope: Scope<'a>,
}

impl<'a> Context<'a> {
    pub fn new(wave: &'a WaveConfig, inv: &'a Inventory) -> Self {
        Context { wave, eval: Evaluator::new(inv), scope: Scope::new(wave, inv) }
    }

    pub fn in_wave(&self, ip: IpAddr) -> bool {
        self.scope.server(ip).is_some()
    }

    pub fn kind(&self, ip: IpAddr) -> PeerKind {
        if self.eval.eni(ip).is_some() || self.in_aws_subnet(ip) {
            PeerKind::Aws
        } else if self.wave.networks.on_premises.iter().any(|n| n.contains(&ip))
            || self.scope.server(ip).is_some_and(|s| s.on_premises)
        {
            PeerKind::OnPremises
        } else if self.scope.is_internal(ip) {
            PeerKind::Internal
        } else {
            PeerKind::External
        }
    }

    /// Whether a subnet of the inventory holds the address (whether or not an ENI does).
    fn in_aws_subnet(&self, ip: IpAddr) -> bool {
        self.eval.inventory().subnets.values().any(|s| s.cidrs.iter().any(|c| c.contains(&ip)))
    }

    /// The OS of an address: the wave's server entry, else the instance's platform.
    pub fn os(&self, ip: IpAddr) -> Option<Os> {
        if let Some(os) = self.scope.server(ip).and_then(|s| s.os) {
            return Some(os);
        }
        let eni = self.eval.eni(ip)?;
        let inst = self.eval.inventory().instances.get(eni.instance_id.as_deref()?)?;
        inst.platform
    }

    pub fn spec(&self, c: Conv) -> FlowSpec {
        FlowSpec {
            src: c.client,
            dst: c.server,
            protocol: c.protocol,
            port: c.port,
            client_ports: ephemeral_range(self.os(c.client), self.wave.ephemeral),
        }
    }

    pub fn end(&self, ip: IpAddr) -> FlowEnd {
        let eni = self.eval.eni(ip);
        let server = self.scope.server(ip);
        FlowEnd {
            ip,
            kind: self.kind(ip),
            server: server.map(|s| s.name.clone()),
            app: server.map(|s| s.app.clone()),
            eni: eni.map(|e| e.id.clone()),
            subnet: eni.map(|e| e.subnet_id.clone()),
            vpc: eni.map(|e| e.vpc_id.clone()),
            in_wave: server.is_some(),
            dependency: self.wave.dependency_by_ip(ip).map(|d| d.name.clone()),
        }
    }
}

#[derive(Default)]
struct EvidenceAcc {
    records: u64,
    packets: u64,
    bytes: u64,
    first: Option<i64>,
    last: Option<i64>,
    enis: BTreeSet<String>,
    log_groups: BTreeSet<String>,
    flags: Option<u16>,
    direction: Option<(DirectionFrom, bool)>,
}

impl EvidenceAcc {
    fn add(&mut self, a: &FlowAggregate, o: &Orientation) {
        self.direction = Some(match self.direction {
            None => (o.from, o.split),
            Some((from, split)) => (from.strongest(o.from), split || o.split),
        });
        self.records += a.records;
        self.packets += a.packets;
        self.bytes += a.bytes;
        self.first = Some(self.first.map_or(a.first_seen, |f| f.min(a.first_seen)));
        self.last = Some(self.last.map_or(a.last_seen, |l| l.max(a.last_seen)));
        self.enis.insert(a.interface_id.clone());
        self.log_groups.insert(a.log_group.clone());
        if let Some(f) = a.tcp_flags {
            self.flags = Some(self.flags.unwrap_or(0) | f);
        }
    }

    /// How the direction was decided: the strongest evidence of any record group, and
    /// whether any of them was a guess.
    fn direction(&self) -> (DirectionFrom, bool) {
        self.direction.unwrap_or((DirectionFrom::PortEvidence, true))
    }

    fn finish(self) -> Evidence {
        Evidence {
            records: self.records,
            packets: self.packets,
            bytes: self.bytes,
            first_seen: self.first.unwrap_or(0),
            last_seen: self.last.unwrap_or(0),
            enis: self.enis.into_iter().collect(),
            log_groups: self.log_groups.into_iter().collect(),
            tcp_flags: self.flags,
        }
    }
}

fn ip_key(ip: IpAddr) -> String {
    ip.to_string()
}

fn proto_name(p: u8) -> String {
    match p {
        proto::TCP => "tcp".into(),
        proto::UDP => "udp".into(),
        proto::ICMP => "icmp".into(),
        proto::ICMPV6 => "icmpv6".into(),
        n => n.to_string(),
    }
}

pub(crate) fn rejected_id(c: Conv, leg: Leg) -> String {
    format!(
        "rejected/{}/{}/{}/{}/{}",
        proto_name(c.protocol),
        c.port,
        ip_key(c.client),
        ip_key(c.server),
        match leg {
            Leg::Request => "request",
            Leg::Response => "response",
        }
    )
}

/// Which hops a REJECT logged on `eni` can come from (docs/domain.md §4).
fn hops_logged_at(ev: &PathEvaluation, leg: Leg, enis: &[String]) -> Option<Vec<Hop>> {
    let at_src = ev.src_eni.as_ref().is_some_and(|e| enis.contains(e));
    let at_dst = ev.dst_eni.as_ref().is_some_and(|e| enis.contains(e));
    if !at_src && !at_dst {
        return None;
    }
    let mut hops = Vec::new();
    match leg {
        Leg::Request => {
            if at_src {
                hops.extend([Hop::SourceSgEgress, Hop::SourceNaclOutbound]);
            }
            if at_dst {
                hops.extend([Hop::DestinationNaclInbound, Hop::DestinationSgIngress]);
            }
        }
        Leg::Response => {
            if at_dst {
                hops.push(Hop::ReturnDestinationNaclOutbound);
            }
            if at_src {
                hops.push(Hop::ReturnSourceNaclInbound);
            }
        }
    }
    Some(hops)
}

pub(crate) fn culprit(h: &crate::eval::HopVerdict) -> Culprit {
    let rule = if h.hop.is_sg() {
        h.decided_by.join("; ")
    } else {
        h.decided_by.iter().filter(|d| d.contains(" deny ")).cloned().collect::<Vec<_>>().join("; ")
    };
    Culprit { hop: h.hop, resource: h.resource.clone().unwrap_or_default(), rule, rule_number: h.deny_rule_number }
}

/// Attributes a rejected conversation leg: the culprits and how sure we are.
pub(crate) fn attribute(ev: &PathEvaluation, leg: Leg, enis: &[String]) -> (Attribution, Vec<Culprit>, String) {
    let leg_hops = |h: &&crate::eval::HopVerdict| match leg {
        Leg::Request => !h.hop.is_return(),
        Leg::Response => h.hop.is_return(),
    };
    let culprits: Vec<Culprit> = ev.hops.iter().filter(leg_hops).filter(|h| h.outcome.denies()).map(culprit).collect();
    let unknown = ev.hops.iter().filter(leg_hops).any(|h| h.outcome == Outcome::Unknown);
    let what = match leg {
        Leg::Request => "the request",
        Leg::Response => "the response",
    };
    if culprits.is_empty() {
        return if unknown {
            (
                Attribution::Unknown,
                culprits,
                format!("{what} was rejected, but the inventory lacks a security group or NACL on its path"),
            )
        } else {
            (
                Attribution::ShouldPass,
                culprits,
                format!(
                    "{what} was rejected, but it should pass per the current configuration: a rule was changed since, \
                     or the flow log and the inventory disagree"
                ),
            )
        };
    }
    let names =
        culprits.iter().map(|c| format!("{} ({})", c.hop.label(), c.resource)).collect::<Vec<_>>().join(" and ");
    match hops_logged_at(ev, leg, enis) {
        Some(at) if !culprits.iter().any(|c| at.contains(&c.hop)) => (
            Attribution::Inconsistent,
            culprits,
            format!(
                "{what} is dropped by {names} per the current configuration, but the REJECT was logged on the other \
                 end's ENI: the configuration may have changed"
            ),
        ),
        _ => (Attribution::Confirmed, culprits, format!("{what} is dropped by {names}")),
    }
}

fn is_one_way(wave: &WaveConfig, c: Conv) -> bool {
    let s = Service { protocol: c.protocol, port: c.port };
    DEFAULT_ONE_WAY.contains(&s) || wave.one_way.iter().any(|o| o.matches(s, c.client, c.server))
}

/// Whether a missing answer means something for this service.
fn expects_answer(wave: &WaveConfig, c: Conv) -> bool {
    if is_one_way(wave, c) {
        return false;
    }
    match c.protocol {
        proto::TCP => true,
        proto::UDP => UDP_REQUEST_RESPONSE.contains(&c.port),
        _ => false,
    }
}

const TCP_ACK: u16 = 16;
const TCP_SYN: u16 = 2;

/// Runs the whole analysis.
pub fn analyze(wave: &WaveConfig, inv: &Inventory, data: &FlowData, opts: &AnalysisOptions) -> Analysis {
    let ctx = Context::new(wave, inv);
    let orienter = Orienter::new(&ctx, &data.aggregates);
    let oriented: Vec<(&FlowAggregate, Orientation)> =
        data.aggregates.iter().map(|a| (a, orienter.orient(a))).collect();
    // Conversations whose answer was seen: an accepted response.
    let answered: HashSet<Conv> = oriented
        .iter()
        .filter(|(a, o)| a.action == Action::Accept && o.leg == Leg::Response)
        .map(|(_, o)| o.conv)
        .collect();

    let mut caveats = Vec::new();
    let mut ignored: BTreeMap<usize, (u64, BTreeSet<Conv>)> = BTreeMap::new();
    let mut outside: BTreeMap<IpAddr, Vec<(&FlowAggregate, Conv)>> = BTreeMap::new();
    let mut rejected: BTreeMap<(Conv, Leg), Vec<(&FlowAggregate, Orientation)>> = BTreeMap::new();
    let mut accepted: BTreeMap<Conv, Vec<(&FlowAggregate, Orientation)>> = BTreeMap::new();
    let mut accepted_flows: BTreeSet<Conv> = BTreeSet::new();
    let mut rejected_convs: HashSet<Conv> = HashSet::new();
    let mut unknown_enis: BTreeSet<&str> = BTreeSet::new();
    let mut in_scope = 0usize;

    for &(a, o) in &oriented {
        let (conv, leg) = (o.conv, o.leg);
        if !ctx.in_wave(conv.client) && !ctx.in_wave(conv.server) {
            continue;
        }
        in_scope += 1;
        if !inv.enis.contains_key(&a.interface_id) {
            unknown_enis.insert(&a.interface_id);
        }
        if a.action == Action::Reject {
            rejected_convs.insert(conv);
        }
        // Ignore rules name outside sources: they never match the wave's own servers.
        if let Some(i) = wave.ignore.iter().position(|r| {
            ((!ctx.in_wave(conv.client) && r.network.contains(&conv.client))
                || (!ctx.in_wave(conv.server) && r.network.contains(&conv.server)))
                && r.service.is_none_or(|s| s.protocol == conv.protocol && s.port == conv.port)
        }) {
            let e = ignored.entry(i).or_default();
            e.0 += a.records;
            e.1.insert(conv);
            continue;
        }
        match a.action {
            Action::Reject => {
                let peer = if ctx.in_wave(conv.client) { conv.server } else { conv.client };
                if ctx.kind(peer) == PeerKind::External {
                    outside.entry(a.src).or_default().push((a, conv));
                } else {
                    rejected.entry((conv, leg)).or_default().push((a, o));
                }
            }
            Action::Accept => {
                if leg == Leg::Request && !o.split {
                    accepted.entry(conv).or_default().push((a, o));
                }
                if leg == Leg::Request {
                    accepted_flows.insert(conv);
                }
            }
        }
    }

    // Scanners: outside the wave, rejected on many distinct ports.
    let mut probe_ports: HashMap<IpAddr, BTreeSet<(u8, u16)>> = HashMap::new();
    for (conv, leg) in rejected.keys() {
        if *leg == Leg::Request && !ctx.in_wave(conv.client) {
            probe_ports.entry(conv.client).or_default().insert((conv.protocol, conv.port));
        }
    }
    let scanners: HashSet<IpAddr> =
        probe_ports.iter().filter(|(_, p)| p.len() >= opts.scanner_ports).map(|(ip, _)| *ip).collect();
    let mut scanner_aggs: BTreeMap<IpAddr, Vec<(&FlowAggregate, Conv)>> = BTreeMap::new();
    // Everything a scanner sent is its noise, whichever way its records were oriented (a probe
    // from a high source port to a high port can read as a response).
    rejected.retain(|(conv, leg), aggs| {
        let source = if *leg == Leg::Request { conv.client } else { conv.server };
        if scanners.contains(&source) {
            scanner_aggs.entry(source).or_default().extend(aggs.iter().map(|(a, _)| (*a, *conv)));
            false
        } else {
            true
        }
    });

    // Rejected findings.
    let mut findings = Vec::new();
    let mut evaluations = Vec::new();
    for ((conv, leg), aggs) in &rejected {
        let mut acc = EvidenceAcc::default();
        for (a, o) in aggs {
            acc.add(a, o);
        }
        let (direction_from, direction_split) = acc.direction();
        let evidence = acc.finish();
        let ev = ctx.eval.evaluate(&ctx.spec(*conv));
        let (attribution, culprits, explanation) = attribute(&ev, *leg, &evidence.enis);
        findings.push(RejectedFinding {
            id: rejected_id(*conv, *leg),
            client: ctx.end(conv.client),
            server: ctx.end(conv.server),
            protocol: conv.protocol,
            port: conv.port,
            leg: *leg,
            direction_from,
            direction_split,
            attribution,
            culprits,
            explanation: format!("{} {}: {explanation}", service_label(conv.protocol, conv.port), leg_words(*leg)),
            evidence,
            proposals: Vec::new(),
            held_back: None,
        });
        evaluations.push(ev);
    }

    // Unanswered.
    let window_short = opts.window.seconds() < opts.aggregation_interval + opts.delivery_lag;
    // Records of the last minutes may still be in delivery: an answer may be on its way.
    let recent_after = opts.window.end - opts.delivery_lag;
    let mut unanswered = Vec::new();
    for (conv, aggs) in &accepted {
        if !expects_answer(wave, *conv) || rejected_convs.contains(conv) || answered.contains(conv) {
            continue;
        }
        let kind = ctx.kind(if ctx.in_wave(conv.client) { conv.server } else { conv.client });
        if kind == PeerKind::External {
            continue;
        }
        let mut acc = EvidenceAcc::default();
        for (a, o) in aggs {
            acc.add(a, o);
        }
        let (direction_from, direction_split) = acc.direction();
        let evidence = acc.finish();
        let signal = match evidence.tcp_flags {
            // The client acknowledged something: a handshake completed, the return records
            // are missing from the logs rather than from the wire.
            Some(f) if conv.protocol == proto::TCP && f & TCP_ACK != 0 => continue,
            Some(f) if conv.protocol == proto::TCP && f & TCP_SYN != 0 => UnansweredSignal::SynOnly,
            _ => UnansweredSignal::NoReturnRecord,
        };
        let server_kind = ctx.kind(conv.server);
        let likely_cause = match server_kind {
            PeerKind::OnPremises => {
                "no answer from on-premises: an on-premises firewall, a missing route back to AWS, \
                                     or a host that is down"
                    .to_owned()
            }
            PeerKind::Aws if ctx.eval.eni(conv.server).is_none() => {
                "no interface holds this address: the instance was terminated, is not launched yet, or moved \
                 to another address"
                    .to_owned()
            }
            PeerKind::Aws => "the AWS peer never answered and no REJECT was logged: the service is not listening, \
                              the host is down or its own firewall drops it"
                .to_owned(),
            _ => "no answer: a firewall or route outside AWS, or a host that is down".to_owned(),
        };
        let skip: Vec<&String> =
            evidence.enis.iter().filter(|e| data.skipdata.get(*e).is_some_and(|n| *n > 0)).collect();
        let suppressed = if !skip.is_empty() {
            Some(format!(
                "{} had SKIPDATA records in the window: the answer may be among the dropped records",
                skip.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ))
        } else if window_short {
            Some("the window is shorter than the aggregation interval plus the delivery lag".to_owned())
        } else if evidence.first_seen > recent_after {
            Some("first seen within the delivery lag of the window end: the answer may not be delivered yet".to_owned())
        } else {
            None
        };
        unanswered.push(UnansweredFinding {
            id: format!("unanswered/{}/{}/{}/{}", proto_name(conv.protocol), conv.port, conv.client, conv.server),
            client: ctx.end(conv.client),
            server: ctx.end(conv.server),
            protocol: conv.protocol,
            port: conv.port,
            direction_from,
            direction_split,
            signal,
            likely_cause,
            suppressed,
            evidence,
        });
    }

    // Expected flows never seen.
    let seen: HashSet<Conv> = oriented.iter().map(|(_, o)| o.conv).collect();
    let not_seen = expected_not_seen(wave, &seen);

    // Noise.
    let noise = Noise {
        outside: noise_sources(&outside),
        ignored: ignored
            .into_iter()
            .map(|(i, (records, convs))| {
                let r = &wave.ignore[i];
                IgnoredCount {
                    network: r.network,
                    service: r.service.map(|s| service_label(s.protocol, s.port)),
                    reason: r.reason.clone(),
                    records,
                    flows: convs.len(),
                }
            })
            .collect(),
        scanners: noise_sources(&scanner_aggs),
    };

    // Caveats.
    if !data.skipdata.is_empty() {
        caveats.push(Caveat {
            kind: CaveatKind::Skipdata,
            message: format!(
                "{} ENI(s) had SKIPDATA records (flows dropped for capacity): {}",
                data.skipdata.len(),
                data.skipdata.keys().take(10).cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    for g in &data.gaps {
        caveats.push(Caveat {
            kind: CaveatKind::CoverageGap,
            message: format!(
                "no data for {} between {} and {}: {}",
                g.log_groups.join(", "),
                g.window.start,
                g.window.end,
                g.reason
            ),
        });
    }
    if window_short {
        caveats.push(Caveat {
            kind: CaveatKind::ShortWindow,
            message: format!(
                "the window ({} s) is shorter than the aggregation interval plus the delivery lag ({} s): \
                 unanswered flows are not reported",
                opts.window.seconds(),
                opts.aggregation_interval + opts.delivery_lag
            ),
        });
    }
    for d in &data.damaged {
        let at = d.line.map_or_else(String::new, |l| format!(":{l}"));
        caveats.push(Caveat {
            kind: CaveatKind::DamagedInput,
            message: format!(
                "{}{at}: {} problem(s), first: {}; records there are missing",
                d.object, d.problems, d.what
            ),
        });
    }
    caveats.extend(visibility_caveats(&ctx));
    if !unknown_enis.is_empty() {
        caveats.push(Caveat {
            kind: CaveatKind::UnknownInventory,
            message: format!(
                "{} ENI(s) in the flow logs are not in the inventory: {}",
                unknown_enis.len(),
                unknown_enis.iter().take(10).copied().collect::<Vec<_>>().join(", ")
            ),
        });
    }

    // Proposals.
    let proposals = propose::propose(&ctx, &mut findings, &evaluations);

    let summary = Summary {
        servers: wave.servers().count(),
        aggregates: in_scope,
        rejected: findings.len(),
        rejected_should_pass: findings.iter().filter(|f| f.attribution == Attribution::ShouldPass).count(),
        rejected_single_attempts: findings.iter().filter(|f| f.held_back == Some(HeldBack::SingleAttempt)).count(),
        unanswered: unanswered.iter().filter(|u| u.suppressed.is_none()).count(),
        unanswered_suppressed: unanswered.iter().filter(|u| u.suppressed.is_some()).count(),
        not_seen: not_seen.len(),
        proposals: proposals.len(),
        proposals_over_quota: proposals.iter().filter(|p| p.over_quota).count(),
        noise_records: noise.outside.iter().chain(&noise.scanners).map(|n| n.records).sum(),
        ignored_records: noise.ignored.iter().map(|n| n.records).sum(),
    };
    findings.sort_by(|a, b| a.id.cmp(&b.id));
    unanswered.sort_by(|a, b| a.id.cmp(&b.id));
    caveats.sort();
    Analysis {
        schema_version: SCHEMA_VERSION,
        wave: wave.name.clone(),
        window: opts.window,
        summary,
        rejected: findings,
        unanswered,
        not_seen,
        noise,
        proposals,
        caveats,
        accepted: accepted_flows
            .into_iter()
            .map(|c| AcceptedFlow { client: c.client, server: c.server, protocol: c.protocol, port: c.port })
            .collect(),
    }
}

/// One caveat per server whose flow logs record only one action (`TrafficType`).
fn visibility_caveats(ctx: &Context<'_>) -> Vec<Caveat> {
    let inv = ctx.eval.inventory();
    let mut out = Vec::new();
    for server in ctx.wave.servers().filter(|s| !s.on_premises) {
        let Some(eni) = server.addresses().find_map(|ip| ctx.eval.eni(ip)) else { continue };
        let logged = inv.logged_traffic(eni);
        let missing = match (logged.accepted, logged.rejected) {
            (true, false) => {
                "its flow logs record only ACCEPT: rejected flows are invisible, so no REJECT proves nothing"
            }
            (false, true) => {
                "its flow logs record only REJECT: accepted flows are invisible, so unanswered and expected \
                 flows cannot be checked"
            }
            // Both, or no flow log at all (reported as a server without flow logs).
            _ => continue,
        };
        out.push(Caveat {
            kind: CaveatKind::LimitedVisibility,
            message: format!("{} ({}): {missing}", server.name, eni.id),
        });
    }
    out
}

fn leg_words(leg: Leg) -> &'static str {
    match leg {
        Leg::Request => "request",
        Leg::Response => "response",
    }
}

fn noise_sources(by_src: &BTreeMap<IpAddr, Vec<(&FlowAggregate, Conv)>>) -> Vec<NoiseSource> {
    by_src
        .iter()
        .map(|(src, aggs)| {
            // The port each record was sent to: the service port, or the client port of a
            // record read as a response.
            let probed = |a: &FlowAggregate, c: &Conv| {
                if a.src == c.client { c.port } else { a.dst_ports.map_or(c.port, |r| r.from) }
            };
            let targets: BTreeSet<(IpAddr, u8, u16)> =
                aggs.iter().map(|(a, c)| (a.dst, c.protocol, probed(a, c))).collect();
            let ports: BTreeSet<(u16, u8)> = aggs.iter().map(|(a, c)| (probed(a, c), c.protocol)).collect();
            NoiseSource {
                source: *src,
                records: aggs.iter().map(|(a, _)| a.records).sum(),
                targets: targets.len(),
                sample_ports: ports.iter().take(10).map(|(port, p)| service_label(*p, *port)).collect(),
                first_seen: aggs.iter().map(|(a, _)| a.first_seen).min().unwrap_or(0),
                last_seen: aggs.iter().map(|(a, _)| a.last_seen).max().unwrap_or(0),
            }
        })
        .collect()
}

fn expected_not_seen(wave: &WaveConfig, seen: &HashSet<Conv>) -> Vec<NotSeenFinding> {
    let mut out = Vec::new();
    for x in &wave.expected_flows {
        let flow = x.resolve(wave);
        let unknown_end = flow.has_unknown_end();
        if unknown_end || !seen.iter().any(|c| flow.matches(c.client, c.server, c.protocol, c.port)) {
            let (src_name, dst_name) = (x.src.to_string(), x.dst.to_string());
            out.push(NotSeenFinding {
                id: format!("not-seen/{}/{}/{src_name}/{dst_name}", proto_name(x.protocol), x.port),
                src: src_name,
                dst: dst_name,
                protocol: x.protocol,
                port: x.port,
                note: if unknown_end {
                    "an end names no server of the wave".to_owned()
                } else {
                    "no record of this flow in the window, in either direction".to_owned()
                },
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::eval::tests::{nacl, sg_rule, world};
    use crate::findings::Analysis;
    use crate::flowlog::FlowDirection;
    use crate::inventory::SgPeer;
    use crate::wave::{App, Endpoint, IgnoreRule, LogGroups, Networks, QuerySettings, Server, Source, WindowSpec};

    pub(crate) const WINDOW: TimeWindow = TimeWindow { start: 1_000_000, end: 1_007_200 };

    #[test]
    fn run_options_take_the_sources_lag_until_the_window_is_delivered_and_the_longest_interval() {
        let cloudwatch = Source::CloudWatch;
        let files = Source::Files { dir: PathBuf::from("flows"), inventory: PathBuf::from("inventory.json") };
        let mut inv = Inventory::default();
        let opts = AnalysisOptions::for_run(WINDOW, WINDOW.end + 60, &cloudwatch, &inv);
        assert_eq!((opts.delivery_lag, opts.aggregation_interval), (CLOUDWATCH_DELIVERY_LAG, 600));
        assert_eq!(AnalysisOptions::for_run(WINDOW, WINDOW.end + 60, &files, &inv).delivery_lag, S3_DELIVERY_LAG);
        // Long after the end, every record has arrived: no lag.
        assert_eq!(AnalysisOptions::for_run(WINDOW, WINDOW.end + 3600, &files, &inv).delivery_lag, 0);
        for (id, interval) in [("fl-1", Some(60)), ("fl-2", None)] {
            let log = crate::inventory::FlowLog {
                id: id.into(),
                resource_id: "vpc-1".into(),
                destination_type: crate::inventory::FlowLogDestination::S3,
                log_group: None,
                destination: None,
                traffic_type: None,
                log_format: None,
                status: None,
                max_aggregation_interval: interval,
            };
            inv.flow_logs.insert(id.into(), log);
        }
        assert_eq!(AnalysisOptions::for_run(WINDOW, WINDOW.end, &cloudwatch, &inv).aggregation_interval, 60);
    }

    /// Wave with web 10.0.0.6 (windows), app 10.0.0.7 (linux), db 10.0.20.8 (no os).
    pub(crate) fn wave() -> WaveConfig {
        let server = |name: &str, ip: &str, os| Server {
            name: name.into(),
            app: "app001".into(),
            ip: ip.parse().unwrap(),
            ips: Vec::new(),
            instance_id: None,
            role: None,
            os,
            on_premises: false,
        };
        WaveConfig {
            name: "wave-test".into(),
            description: None,
            path: PathBuf::from("waves/wave-test.toml"),
            window: WindowSpec::Absolute(WINDOW),
            aws: crate::wave::AwsSettings::default(),
            networks: Networks {
                internal: vec!["10.0.0.0/8".parse().unwrap()],
                on_premises: vec![
                    "192.168.0.0/16".parse().unwrap(),
                    "192.168.20.0/24".parse().unwrap(),
                    "172.16.0.0/12".parse().unwrap(),
                ],
            },
            log_groups: LogGroups::default(),
            apps: vec![App {
                name: "app001".into(),
                description: None,
                servers: vec![
                    server("web01", "10.0.0.6", Some(Os::Windows)),
                    server("app01", "10.0.0.7", Some(Os::Linux)),
                    server("db01", "10.0.20.8", None),
                ],
            }],
            expected_flows: Vec::new(),
            source: Source::CloudWatch,
            ephemeral: EphemeralPolicy::default(),
            ignore: Vec::new(),
            one_way: Vec::new(),
            query: QuerySettings::default(),
            dependencies: Vec::new(),
        }
    }

    /// How a test aggregate's ports look: the service port on the destination side with
    /// the client's ports varying, the other way round, or one port on both sides.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Role {
        Request,
        Response,
        Unknown,
    }

    pub(crate) fn agg(
        src: &str,
        dst: &str,
        protocol: u8,
        port: u16,
        role: Role,
        action: Action,
        eni: &str,
    ) -> FlowAggregate {
        let service = Some(PortRange::single(port));
        let clients = Some(PortRange { from: 49152, to: 60000 });
        let (src_ports, dst_ports) = match role {
            Role::Request => (clients, service),
            Role::Response => (service, clients),
            Role::Unknown => (service, service),
        };
        FlowAggregate {
            src_ports,
            dst_ports,
            log_group: "/aws/vpc/flowlogs".into(),
            interface_id: eni.into(),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            protocol,
            port,
            action,
            direction: None,
            tcp_flags: None,
            records: 3,
            packets: 9,
            bytes: 468,
            first_seen: WINDOW.start + 60,
            last_seen: WINDOW.start + 120,
        }
    }

    pub(crate) fn run(inv: &Inventory, wave: &WaveConfig, aggs: Vec<FlowAggregate>) -> Analysis {
        let data = FlowData { aggregates: aggs, ..FlowData::default() };
        analyze(wave, inv, &data, &AnalysisOptions::new(WINDOW))
    }

    use Action::{Accept as ACC, Reject as REJ};
    use Role::{Request as RQ, Response as RS, Unknown as UN};

    /// Runs the analysis and checks the rejected findings' ids, attributions and culprit hops.
    fn check(inv: &Inventory, aggs: Vec<FlowAggregate>, expected: &[(&str, Attribution, &[Hop])]) -> Analysis {
        let a = run(inv, &wave(), aggs);
        let got: Vec<(&str, Attribution, Vec<Hop>)> = a
            .rejected
            .iter()
            .map(|f| (f.id.as_str(), f.attribution, f.culprits.iter().map(|c| c.hop).collect()))
            .collect();
        let want: Vec<(&str, Attribution, Vec<Hop>)> =
            expected.iter().map(|(i, at, h)| (*i, *at, h.to_vec())).collect();
        assert_eq!(got, want, "{:#?}", a.rejected);
        a
    }

    fn db_without_app_rule() -> Inventory {
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().ingress.clear();
        inv
    }

    #[test]
    fn request_rejected_at_destination_blames_destination_sg_ingress() {
        let a = check(
            &db_without_app_rule(),
            vec![
                agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, ACC, "eni-app"),
                agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db"),
            ],
            &[("rejected/tcp/1433/10.0.0.7/10.0.20.8/request", Attribution::Confirmed, &[Hop::DestinationSgIngress])],
        );
        let f = &a.rejected[0];
        assert_eq!(f.culprits[0].resource, "sg-db,sg-base");
        assert_eq!((f.evidence.records, f.evidence.enis.as_slice()), (3, ["eni-db".to_owned()].as_slice()));
        assert!(a.unanswered.is_empty(), "a rejected request is not also unanswered");
    }

    #[test]
    fn request_rejected_at_source_eni_blames_source_egress() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-app").unwrap().egress.clear();
        check(
            &inv,
            vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-app")],
            &[("rejected/tcp/1433/10.0.0.7/10.0.20.8/request", Attribution::Confirmed, &[Hop::SourceSgEgress])],
        );
    }

    #[test]
    fn response_rejected_by_nacl_is_never_blamed_on_sg() {
        // db's SGs allow nothing outbound, yet a rejected response can only be a NACL's doing
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().egress.clear();
        inv.nacls.get_mut("acl-db").unwrap().entries.push(nacl(
            89,
            true,
            "tcp",
            Some((32768, 65535)),
            "10.0.0.0/24",
            false,
        ));
        let a = check(
            &inv,
            vec![
                agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, ACC, "eni-db"),
                agg("10.0.20.8", "10.0.0.7", 6, 1433, RS, REJ, "eni-db"),
            ],
            &[(
                "rejected/tcp/1433/10.0.0.7/10.0.20.8/response",
                Attribution::Confirmed,
                &[Hop::ReturnDestinationNaclOutbound],
            )],
        );
        assert_eq!(a.rejected[0].culprits[0].rule_number, Some(89));
        assert!(a.rejected[0].culprits.iter().all(|c| !c.hop.is_sg()));
    }

    #[test]
    fn response_with_no_nacl_to_blame_should_pass_rather_than_blame_an_sg() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().egress.clear();
        check(
            &inv,
            vec![agg("10.0.20.8", "10.0.0.7", 6, 1433, RS, REJ, "eni-db")],
            &[("rejected/tcp/1433/10.0.0.7/10.0.20.8/response", Attribution::ShouldPass, &[])],
        );
    }

    #[test]
    fn rejected_flow_that_should_pass_says_so_instead_of_guessing() {
        let a = check(
            &world(),
            vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db")],
            &[("rejected/tcp/1433/10.0.0.7/10.0.20.8/request", Attribution::ShouldPass, &[])],
        );
        assert!(a.rejected[0].explanation.contains("should pass per the current configuration"));
        assert!(a.proposals.is_empty() && a.rejected[0].proposals.is_empty());
        assert_eq!(a.summary.rejected_should_pass, 1);
    }

    #[test]
    fn reject_logged_on_the_other_end_is_inconsistent() {
        // config drops at the destination SG, but the REJECT was logged on the source ENI
        check(
            &db_without_app_rule(),
            vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-app")],
            &[(
                "rejected/tcp/1433/10.0.0.7/10.0.20.8/request",
                Attribution::Inconsistent,
                &[Hop::DestinationSgIngress],
            )],
        );
    }

    #[test]
    fn nacl_and_sg_both_dropping_are_both_named() {
        let mut inv = db_without_app_rule();
        inv.nacls.get_mut("acl-db").unwrap().entries.push(nacl(
            90,
            false,
            "tcp",
            Some((1433, 1433)),
            "10.0.0.0/24",
            false,
        ));
        check(
            &inv,
            vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db")],
            &[(
                "rejected/tcp/1433/10.0.0.7/10.0.20.8/request",
                Attribution::Confirmed,
                &[Hop::DestinationNaclInbound, Hop::DestinationSgIngress],
            )],
        );
    }

    #[test]
    fn responses_on_many_ephemeral_ports_are_one_finding_per_service() {
        let mut inv = world();
        inv.nacls.get_mut("acl-web").unwrap().entries.push(nacl(
            89,
            false,
            "tcp",
            Some((49152, 65535)),
            "10.0.20.0/24",
            false,
        ));
        // two aggregates of the same service (e.g. two log groups / windows) merge
        let mut second = agg("10.0.20.8", "10.0.0.6", 6, 445, RS, REJ, "eni-web");
        second.log_group = "/other".into();
        second.first_seen = WINDOW.start + 3000;
        let a = check(
            &inv,
            vec![agg("10.0.20.8", "10.0.0.6", 6, 445, RS, REJ, "eni-web"), second],
            &[(
                "rejected/tcp/445/10.0.0.6/10.0.20.8/response",
                Attribution::Confirmed,
                &[Hop::ReturnSourceNaclInbound],
            )],
        );
        let e = &a.rejected[0].evidence;
        assert_eq!((e.records, e.log_groups.len(), e.first_seen), (6, 2, WINDOW.start + 60));
    }

    #[test]
    fn unknown_role_reject_opposite_an_accept_is_a_response() {
        // the ping of docs/domain.md §4: inbound ICMP accepted, the answer rejected by the NACL outbound
        let mut inv = world();
        let acl = inv.nacls.get_mut("acl-web").unwrap();
        acl.entries.retain(|e| !e.egress);
        acl.entries.push(nacl(100, true, "tcp", Some((1024, 65535)), "0.0.0.0/0", true));
        inv.security_groups.get_mut("sg-base").unwrap().ingress.push(sg_rule(
            "icmp",
            None,
            SgPeer::Cidr("203.0.113.0/24".parse().unwrap()),
        ));
        let mut w = wave();
        w.networks.internal.push("203.0.113.0/24".parse().unwrap());
        let a = run(
            &inv,
            &w,
            vec![
                agg("203.0.113.12", "10.0.0.6", 1, 0, UN, ACC, "eni-web"),
                agg("10.0.0.6", "203.0.113.12", 1, 0, UN, REJ, "eni-web"),
            ],
        );
        assert_eq!(a.rejected.len(), 1);
        let f = &a.rejected[0];
        assert_eq!((f.leg, f.attribution), (Leg::Response, Attribution::Confirmed));
        assert_eq!(f.culprits.iter().map(|c| c.hop).collect::<Vec<_>>(), [Hop::ReturnDestinationNaclOutbound]);
    }

    #[test]
    fn rejected_from_outside_the_networks_is_noise_not_a_finding() {
        let a = run(&world(), &wave(), vec![agg("45.1.2.3", "10.0.0.6", 6, 22, RQ, REJ, "eni-web")]);
        assert!(a.rejected.is_empty() && a.proposals.is_empty());
        assert_eq!(a.noise.outside.len(), 1);
        assert_eq!(
            (a.noise.outside[0].records, a.noise.outside[0].sample_ports.as_slice()),
            (3, ["tcp/22".to_owned()].as_slice())
        );
    }

    #[test]
    fn ignored_sources_are_counted_not_dropped() {
        let mut w = wave();
        w.ignore.push(IgnoreRule {
            network: "192.168.200.50/32".parse().unwrap(),
            service: None,
            reason: "vulnerability scanner".into(),
        });
        let a = run(
            &world(),
            &w,
            vec![
                agg("192.168.200.50", "10.0.0.6", 6, 23, RQ, REJ, "eni-web"),
                agg("192.168.200.50", "10.0.0.7", 6, 21, RQ, REJ, "eni-app"),
            ],
        );
        assert!(a.rejected.is_empty());
        assert_eq!((a.noise.ignored[0].records, a.noise.ignored[0].flows), (6, 2));
        assert_eq!(a.summary.ignored_records, 6);
    }

    #[test]
    fn source_rejected_on_many_ports_is_a_scanner() {
        let mut aggs: Vec<FlowAggregate> =
            (1..=12).map(|p| agg("192.168.9.9", "10.0.0.6", 6, p * 100, RQ, REJ, "eni-web")).collect();
        // A probe from a high source port to a high port, read as a response of the server:
        // still the scanner's.
        aggs.push(agg("192.168.9.9", "10.0.0.6", 6, 46426, RS, REJ, "eni-web"));
        let a = run(&world(), &wave(), aggs);
        assert!(a.rejected.is_empty() && a.proposals.is_empty(), "{:#?}", a.rejected);
        assert_eq!((a.noise.scanners.len(), a.noise.scanners[0].targets, a.noise.scanners[0].records), (1, 13, 39));
    }

    #[test]
    fn flows_not_touching_the_wave_are_out_of_scope() {
        let a = run(&world(), &wave(), vec![agg("10.1.0.5", "10.0.0.9", 6, 80, RQ, REJ, "eni-b")]);
        assert!(a.rejected.is_empty() && a.noise.outside.is_empty());
        assert_eq!(a.summary.aggregates, 0);
    }

    #[test]
    fn unanswered_on_premises_flow_with_syn_only_is_reported() {
        let mut x = agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app");
        x.tcp_flags = Some(2);
        x.direction = Some(FlowDirection::Egress);
        let a = run(&world(), &wave(), vec![x]);
        assert_eq!(a.unanswered.len(), 1);
        let u = &a.unanswered[0];
        assert_eq!(
            (u.signal, u.server.kind, u.suppressed.is_none()),
            (UnansweredSignal::SynOnly, PeerKind::OnPremises, true)
        );
        assert!(u.likely_cause.contains("on-premises firewall"));
    }

    #[test]
    fn unanswered_aws_peer_is_told_apart_from_on_premises() {
        let a = run(&world(), &wave(), vec![agg("10.0.0.7", "10.1.0.5", 6, 5432, RQ, ACC, "eni-app")]);
        assert_eq!(
            (a.unanswered[0].server.kind, a.unanswered[0].signal),
            (PeerKind::Aws, UnansweredSignal::NoReturnRecord)
        );
    }

    #[test]
    fn flow_with_a_return_record_is_answered() {
        let a = run(
            &world(),
            &wave(),
            vec![
                agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app"),
                agg("192.168.50.20", "10.0.0.7", 6, 1433, RS, ACC, "eni-app"),
            ],
        );
        assert!(a.unanswered.is_empty());
    }

    #[test]
    fn ack_in_tcp_flags_means_the_handshake_completed() {
        let mut x = agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app");
        x.tcp_flags = Some(2 | 16);
        assert!(run(&world(), &wave(), vec![x]).unanswered.is_empty());
    }

    #[test]
    fn unanswered_is_suppressed_when_the_eni_had_skipdata() {
        let data = FlowData {
            aggregates: vec![agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app")],
            skipdata: BTreeMap::from([("eni-app".to_owned(), 2)]),
            ..FlowData::default()
        };
        let a = analyze(&wave(), &world(), &data, &AnalysisOptions::new(WINDOW));
        assert!(a.unanswered[0].suppressed.as_deref().unwrap().contains("SKIPDATA"));
        assert_eq!((a.summary.unanswered, a.summary.unanswered_suppressed), (0, 1));
        assert!(a.caveats.iter().any(|c| c.kind == CaveatKind::Skipdata));
    }

    #[test]
    fn unanswered_is_suppressed_when_the_window_is_too_short() {
        let data = FlowData {
            aggregates: vec![agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app")],
            ..FlowData::default()
        };
        let short = TimeWindow { start: WINDOW.start, end: WINDOW.start + 900 };
        let a = analyze(&wave(), &world(), &data, &AnalysisOptions::new(short));
        assert!(a.unanswered[0].suppressed.is_some());
        assert!(a.caveats.iter().any(|c| c.kind == CaveatKind::ShortWindow));
    }

    #[test]
    fn unanswered_seen_only_at_the_end_of_the_window_is_suppressed() {
        let mut x = agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app");
        x.first_seen = WINDOW.end - 300;
        x.last_seen = WINDOW.end - 200;
        assert!(
            run(&world(), &wave(), vec![x]).unanswered[0]
                .suppressed
                .as_deref()
                .unwrap()
                .contains("not be delivered yet")
        );
    }

    #[test]
    fn one_way_services_are_never_unanswered() {
        let mut w = wave();
        w.one_way.push(crate::wave::OneWay { service: Service { protocol: proto::TCP, port: 9997 }, peer: None });
        let a = run(
            &world(),
            &w,
            vec![
                agg("10.0.0.6", "192.168.20.5", 17, 514, RQ, ACC, "eni-web"),
                agg("10.0.0.6", "192.168.20.6", 6, 9997, RQ, ACC, "eni-web"),
                // UDP that is not request/response is not expected to answer either
                agg("10.0.0.6", "192.168.20.9", 17, 7777, RQ, ACC, "eni-web"),
            ],
        );
        assert!(a.unanswered.is_empty(), "{:?}", a.unanswered);
        // DNS over UDP is request/response
        let a = run(&world(), &wave(), vec![agg("10.0.0.6", "192.168.10.10", 17, 53, RQ, ACC, "eni-web")]);
        assert_eq!(a.unanswered.len(), 1);
    }

    #[test]
    fn expected_flow_never_seen_is_reported() {
        let mut w = wave();
        w.expected_flows = vec![
            crate::wave::ExpectedFlow {
                src: Endpoint::Server("app01".into()),
                dst: Endpoint::Server("db01".into()),
                protocol: 6,
                port: 1433,
            },
            crate::wave::ExpectedFlow {
                src: Endpoint::Network("192.168.0.0/16".parse().unwrap()),
                dst: Endpoint::Server("web01".into()),
                protocol: 6,
                port: 443,
            },
        ];
        let a = run(&world(), &w, vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, ACC, "eni-app")]);
        assert_eq!(
            a.not_seen.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
            ["not-seen/tcp/443/192.168.0.0/16/web01"]
        );
    }

    #[test]
    fn expected_flow_to_a_secondary_address_of_the_server_is_seen() {
        let mut w = wave();
        w.apps[0].servers[0].ips = vec!["10.0.0.60".parse().unwrap()];
        w.expected_flows = vec![crate::wave::ExpectedFlow {
            src: Endpoint::Network("192.168.0.0/16".parse().unwrap()),
            dst: Endpoint::Server("web01".into()),
            protocol: 6,
            port: 443,
        }];
        let a = run(&world(), &w, vec![agg("192.168.1.5", "10.0.0.60", 6, 443, RQ, ACC, "eni-web")]);
        assert!(a.not_seen.is_empty(), "{:?}", a.not_seen);
    }

    #[test]
    fn coverage_gaps_and_unknown_enis_become_caveats() {
        let data = FlowData {
            aggregates: vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, ACC, "eni-gone")],
            gaps: vec![crate::flow::CoverageGap {
                log_groups: vec!["/aws/vpc/flowlogs".into()],
                window: WINDOW,
                reason: "query timed out".into(),
            }],
            ..FlowData::default()
        };
        let a = analyze(&wave(), &world(), &data, &AnalysisOptions::new(WINDOW));
        let kinds: Vec<CaveatKind> = a.caveats.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [CaveatKind::CoverageGap, CaveatKind::UnknownInventory]);
        assert!(a.caveats[1].message.contains("eni-gone"));
    }

    #[test]
    fn ephemeral_range_follows_the_os() {
        let p = EphemeralPolicy::default();
        assert_eq!(ephemeral_range(Some(Os::Linux), p), PortRange { from: 32768, to: 61000 });
        assert_eq!(ephemeral_range(Some(Os::Windows), p), PortRange { from: 49152, to: 65535 });
        assert_eq!(ephemeral_range(Some(Os::WindowsLegacy), p), PortRange { from: 1025, to: 5000 });
        assert_eq!(ephemeral_range(None, p), PortRange { from: 1024, to: 65535 });
    }

    #[test]
    fn output_is_sorted_and_serialises_identically() {
        let aggs = vec![
            agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db"),
            agg("10.0.0.6", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db"),
        ];
        let mut rev = aggs.clone();
        rev.reverse();
        let a = serde_json::to_string(&run(&db_without_app_rule(), &wave(), aggs)).unwrap();
        let b = serde_json::to_string(&run(&db_without_app_rule(), &wave(), rev)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn unanswered_address_in_a_subnet_that_no_eni_holds_is_an_aws_peer() {
        let a = run(&world(), &wave(), vec![agg("10.0.0.7", "10.0.20.50", 6, 5432, RQ, ACC, "eni-app")]);
        let u = &a.unanswered[0];
        assert_eq!(u.server.kind, PeerKind::Aws);
        assert!(u.likely_cause.starts_with("no interface holds this address"), "{}", u.likely_cause);
    }

    #[test]
    fn one_way_limited_to_a_peer_holds_only_there() {
        let mut w = wave();
        w.one_way.push(crate::wave::OneWay {
            service: Service { protocol: proto::TCP, port: 9997 },
            peer: Some("192.168.20.6/32".parse().unwrap()),
        });
        let a = run(
            &world(),
            &w,
            vec![
                agg("10.0.0.6", "192.168.20.6", 6, 9997, RQ, ACC, "eni-web"),
                agg("10.0.0.6", "192.168.20.7", 6, 9997, RQ, ACC, "eni-web"),
            ],
        );
        let ids: Vec<&str> = a.unanswered.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["unanswered/tcp/9997/10.0.0.6/192.168.20.7"]);
    }

    #[test]
    fn dependencies_are_named_but_never_in_scope() {
        let mut w = wave();
        w.dependencies.push(crate::wave::Dependency {
            name: "ad-dc-1".into(),
            ip: "192.168.10.5".parse().unwrap(),
            note: None,
        });
        let a = run(
            &world(),
            &w,
            vec![
                agg("10.0.0.7", "192.168.10.5", 6, 636, RQ, ACC, "eni-app"),
                // The dependency's own traffic with a third party is not the wave's.
                agg("192.168.10.5", "192.168.10.6", 6, 445, RQ, REJ, "eni-x"),
            ],
        );
        assert_eq!(a.unanswered[0].server.name(), Some("ad-dc-1"));
        assert!(!a.unanswered[0].server.in_wave);
        assert!(a.rejected.is_empty() && a.noise.outside.is_empty());
    }

    #[test]
    fn damaged_input_and_one_sided_flow_logs_are_caveats() {
        let mut inv = world();
        for (id, eni, traffic) in
            [("fl-web", "eni-web", "ACCEPT"), ("fl-db", "eni-db", "REJECT"), ("fl-app", "eni-app", "ALL")]
        {
            inv.flow_logs.insert(
                id.into(),
                crate::inventory::FlowLog {
                    id: id.into(),
                    resource_id: eni.into(),
                    destination_type: crate::inventory::FlowLogDestination::S3,
                    log_group: None,
                    destination: None,
                    traffic_type: Some(traffic.into()),
                    log_format: None,
                    status: None,
                    max_aggregation_interval: None,
                },
            );
        }
        let data = FlowData {
            damaged: vec![crate::flow::DamagedInput {
                object: "flowlogs/a.log.gz".into(),
                problems: 2,
                line: Some(41),
                what: "the gzip stream is truncated".into(),
            }],
            ..FlowData::default()
        };
        let a = analyze(&wave(), &inv, &data, &AnalysisOptions::new(WINDOW));
        let got: Vec<(CaveatKind, &str)> = a.caveats.iter().map(|c| (c.kind, c.message.as_str())).collect();
        assert_eq!(got.len(), 3, "{got:#?}");
        assert_eq!(got[0].0, CaveatKind::DamagedInput);
        assert!(got[0].1.starts_with("flowlogs/a.log.gz:41: 2 problem(s), first: the gzip stream is truncated"));
        assert!(got.iter().any(|(k, m)| *k == CaveatKind::LimitedVisibility
            && m.starts_with("web01 (eni-web): its flow logs record only ACCEPT")));
        assert!(got.iter().any(|(k, m)| *k == CaveatKind::LimitedVisibility
            && m.starts_with("db01 (eni-db): its flow logs record only REJECT")));
        assert!(!data.complete());
    }
}
