//! From flow aggregates to findings: who dropped each rejected flow, which flows went
//! unanswered, which expected flows never showed up, and what is noise.
//!
//! The flow log never says which layer dropped a packet (docs/domain.md §4 "What a REJECT record
//! can and cannot say"), so every rejected conversation is evaluated against the inventory and
//! the verdict is cross-checked with the ENI that logged the REJECT. Responses are only ever
//! blamed on NACLs: security groups are stateful.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::direction::{DirectionFrom, Orientation, orient_all};
use crate::eval::{Evaluator, FlowSpec, Outcome, PathEvaluation, service_label};
use crate::findings::{
    AcceptedFlow, Analysis, Attribution, Caveat, CaveatKind, Culprit, Evidence, FlowEnd, HeldBack, Hop, IgnoredCount,
    Leg, LikelyCause, Noise, NoiseSource, NotSeenFinding, PeerKind, RejectedFinding, SCHEMA_VERSION, Summary,
    Suppression, UnansweredFinding, UnansweredSignal,
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
    /// When the run happens (Unix seconds, read by the caller), if known.
    pub now: Option<i64>,
}

/// How long after an interval flow logs are still being delivered (seconds): about 5 minutes
/// to CloudWatch Logs, about 10 to S3 (docs/domain.md §1).
pub const CLOUDWATCH_DELIVERY_LAG: i64 = 300;
pub const S3_DELIVERY_LAG: i64 = 600;

impl AnalysisOptions {
    pub fn new(window: TimeWindow) -> Self {
        AnalysisOptions { window, aggregation_interval: 600, delivery_lag: 600, scanner_ports: 10, now: None }
    }

    /// The options of a run over `window` as of `now` (Unix seconds, read by the caller): the
    /// longest aggregation interval of the inventory's flow logs (600 s when none says), and
    /// the delivery lag of the wave's source — none once the window ended longer ago than
    /// that, when every record has been delivered.
    pub fn for_run(window: TimeWindow, now: i64, source: &Source, inventory: &Inventory) -> Self {
        let lag = if source.reads_objects() { S3_DELIVERY_LAG } else { CLOUDWATCH_DELIVERY_LAG };
        let mut options = AnalysisOptions::new(window);
        options.aggregation_interval = inventory.aggregation_interval();
        options.delivery_lag = if now - window.end > lag { 0 } else { lag };
        options.now = Some(now);
        options
    }

    /// Whether the window is too short to hold one aggregation interval and its delivery: then
    /// no flow can be proved unanswered.
    pub fn window_short(&self) -> bool {
        self.window.seconds() < self.aggregation_interval + self.delivery_lag
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
    enis: BTreeSet<Arc<str>>,
    log_groups: BTreeSet<Arc<str>>,
    flags: Option<u16>,
    direction: Option<(DirectionFrom, bool)>,
}

impl EvidenceAcc {
    fn add(&mut self, a: &FlowAggregate, o: Orientation) {
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
            enis: self.enis.iter().map(ToString::to_string).collect(),
            log_groups: self.log_groups.iter().map(ToString::to_string).collect(),
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

/// One aggregate with the conversation and leg it was read as.
type Oriented<'d> = (&'d FlowAggregate, Orientation);

/// Runs the whole analysis, phase by phase: orient every aggregate, sort the wave's traffic,
/// build the not-seen and unanswered findings, set scanners apart, then build the rejected
/// findings, the noise, the caveats, the proposals and the summary. Each phase's working sets
/// are released before the next, larger one (the path evaluations) starts.
pub fn analyze(wave: &WaveConfig, inv: &Inventory, data: &FlowData, opts: &AnalysisOptions) -> Analysis {
    let ctx = Context::new(wave, inv);
    // The orienter's indexes span every aggregate: gone before the next phase builds its own.
    let oriented: Vec<Oriented<'_>> = orient_all(&ctx, &data.aggregates);

    let mut sorted = Sorted::new(&ctx, &oriented);
    let not_seen = expected_not_seen(wave, &oriented);
    drop(oriented);
    // The candidates for unanswered, and what answers them, are gone before the rejected
    // findings and their path evaluations are made.
    let mut unanswered = unanswered_findings(&ctx, &sorted.candidates, data, opts);
    sorted.candidates = Candidates::default();
    let scanners = take_scanners(&ctx, &mut sorted.rejected, opts.scanner_ports);
    let (mut rejected, evaluations) = rejected_findings(&ctx, &sorted.rejected);
    let noise = Noise {
        outside: noise_sources(&sorted.outside),
        ignored: ignored_counts(wave, &sorted.ignored),
        scanners: noise_sources(&scanners),
    };
    let caveats = caveats(&ctx, data, opts, &sorted.unknown_enis);
    let proposals = propose::propose(&ctx, &mut rejected, &evaluations);

    let summary = Summary {
        servers: wave.servers().count(),
        aggregates: sorted.in_scope,
        rejected: rejected.len(),
        rejected_should_pass: rejected.iter().filter(|f| f.attribution == Attribution::ShouldPass).count(),
        rejected_single_attempts: rejected.iter().filter(|f| f.held_back == Some(HeldBack::SingleAttempt)).count(),
        unanswered: unanswered.iter().filter(|u| u.suppressed.is_none()).count(),
        unanswered_suppressed: unanswered.iter().filter(|u| u.suppressed.is_some()).count(),
        not_seen: not_seen.len(),
        proposals: proposals.len(),
        proposals_over_quota: proposals.iter().filter(|p| p.over_quota).count(),
        noise_records: noise.outside.iter().chain(&noise.scanners).map(|n| n.records).sum(),
        ignored_records: noise.ignored.iter().map(|n| n.records).sum(),
    };
    rejected.sort_by(|a, b| a.id.cmp(&b.id));
    unanswered.sort_by(|a, b| a.id.cmp(&b.id));
    Analysis {
        schema_version: SCHEMA_VERSION,
        wave: wave.name.clone(),
        window: opts.window,
        summary,
        rejected,
        unanswered,
        not_seen,
        noise,
        proposals,
        caveats,
        accepted: sorted
            .accepted
            .into_iter()
            .map(|c| AcceptedFlow { client: c.client, server: c.server, protocol: c.protocol, port: c.port })
            .collect(),
    }
}

/// The aggregates, sorted by what the analysis does with them.
#[derive(Default)]
struct Sorted<'d> {
    /// Aggregates with an end in the wave.
    in_scope: usize,
    /// Rejected conversation legs whose peer is in a known network.
    rejected: BTreeMap<(Conv, Leg), Vec<Oriented<'d>>>,
    /// Rejected traffic with a peer outside every known network, by source: noise.
    outside: BTreeMap<IpAddr, Vec<(&'d FlowAggregate, Conv)>>,
    /// What the unanswered findings are made from.
    candidates: Candidates<'d>,
    /// Every conversation with an accepted request.
    accepted: BTreeSet<Conv>,
    /// Records and conversations matched by each ignore rule, by its index.
    ignored: BTreeMap<usize, (u64, BTreeSet<Conv>)>,
    /// ENIs in the flow logs that the inventory does not hold.
    unknown_enis: BTreeSet<&'d str>,
}

/// Accepted requests that may have gone unanswered, and what rules them out.
#[derive(Default)]
struct Candidates<'d> {
    /// Accepted requests from records that hold one leg only: sorted by conversation.
    requests: Vec<Oriented<'d>>,
    /// Conversations whose answer was seen: an accepted response, in scope or not.
    answered: FxHashSet<Conv>,
    /// Conversations with a REJECT on either leg, ignored ones included.
    rejected: FxHashSet<Conv>,
}

impl<'d> Sorted<'d> {
    fn new(ctx: &Context<'_>, oriented: &[Oriented<'d>]) -> Self {
        let mut sorted = Sorted::default();
        for &(a, o) in oriented {
            let (conv, leg) = (o.conv(a), o.leg);
            if a.action == Action::Accept && leg == Leg::Response {
                sorted.candidates.answered.insert(conv);
            }
            if !ctx.in_wave(conv.client) && !ctx.in_wave(conv.server) {
                continue;
            }
            sorted.in_scope += 1;
            if !ctx.eval.inventory().enis.contains_key(&*a.interface_id) {
                sorted.unknown_enis.insert(&a.interface_id);
            }
            if a.action == Action::Reject {
                sorted.candidates.rejected.insert(conv);
            }
            if let Some(i) = ignore_rule(ctx, conv) {
                let e = sorted.ignored.entry(i).or_default();
                e.0 += a.records;
                e.1.insert(conv);
                continue;
            }
            match a.action {
                Action::Reject => {
                    let peer = if ctx.in_wave(conv.client) { conv.server } else { conv.client };
                    if ctx.kind(peer) == PeerKind::External {
                        sorted.outside.entry(a.src).or_default().push((a, conv));
                    } else {
                        sorted.rejected.entry((conv, leg)).or_default().push((a, o));
                    }
                }
                Action::Accept if leg == Leg::Request => {
                    if !o.split {
                        sorted.candidates.requests.push((a, o));
                    }
                    sorted.accepted.insert(conv);
                }
                Action::Accept => {}
            }
        }
        // By conversation only: a conversation's evidence is sums, bounds and sets, the same
        // in any order of its aggregates, so the sort need not be stable (nor need scratch).
        sorted.candidates.requests.sort_unstable_by_key(|(a, o)| o.conv(a));
        sorted
    }
}

/// The first ignore rule that matches a conversation. Ignore rules name outside sources:
/// they never match the wave's own servers.
fn ignore_rule(ctx: &Context<'_>, conv: Conv) -> Option<usize> {
    let outside_in = |ip: IpAddr, r: &crate::wave::IgnoreRule| !ctx.in_wave(ip) && r.network.contains(&ip);
    ctx.wave.ignore.iter().position(|r| {
        (outside_in(conv.client, r) || outside_in(conv.server, r))
            && r.service.is_none_or(|s| s.protocol == conv.protocol && s.port == conv.port)
    })
}

/// Takes the scanners' traffic out of `rejected`: sources outside the wave rejected on at
/// least `threshold` distinct services. Everything a scanner sent is its noise, whichever way
/// its records were oriented (a probe from a high source port to a high port can read as a
/// response).
fn take_scanners<'d>(
    ctx: &Context<'_>,
    rejected: &mut BTreeMap<(Conv, Leg), Vec<Oriented<'d>>>,
    threshold: usize,
) -> BTreeMap<IpAddr, Vec<(&'d FlowAggregate, Conv)>> {
    let mut probed: FxHashMap<IpAddr, BTreeSet<(u8, u16)>> = FxHashMap::default();
    for (conv, leg) in rejected.keys() {
        if *leg == Leg::Request && !ctx.in_wave(conv.client) {
            probed.entry(conv.client).or_default().insert((conv.protocol, conv.port));
        }
    }
    let scanners: FxHashSet<IpAddr> =
        probed.into_iter().filter(|(_, p)| p.len() >= threshold).map(|(ip, _)| ip).collect();
    let mut taken: BTreeMap<IpAddr, Vec<(&FlowAggregate, Conv)>> = BTreeMap::new();
    rejected.retain(|(conv, leg), aggs| {
        let source = if *leg == Leg::Request { conv.client } else { conv.server };
        if scanners.contains(&source) {
            taken.entry(source).or_default().extend(aggs.iter().map(|(a, _)| (*a, *conv)));
            false
        } else {
            true
        }
    });
    taken
}

/// The evidence of a group of aggregates, and how their direction was decided.
fn evidence(aggs: &[Oriented<'_>]) -> (Evidence, DirectionFrom, bool) {
    let mut acc = EvidenceAcc::default();
    for (a, o) in aggs {
        acc.add(a, *o);
    }
    let (from, split) = acc.direction();
    (acc.finish(), from, split)
}

/// One finding per rejected conversation leg, attributed against the inventory, with the
/// path evaluations the proposals start from (in the same order).
fn rejected_findings(
    ctx: &Context<'_>,
    rejected: &BTreeMap<(Conv, Leg), Vec<Oriented<'_>>>,
) -> (Vec<RejectedFinding>, Vec<PathEvaluation>) {
    // Each conversation's finding is made on its own: many are made in two halves, side by
    // side, and joined in order.
    let legs: Vec<_> = rejected.iter().collect();
    if legs.len() < PARALLEL_FINDINGS {
        return rejected_part(ctx, &legs);
    }
    let (first, second) = legs.split_at(legs.len() / 2);
    std::thread::scope(|scope| {
        let later = scope.spawn(|| rejected_part(ctx, second));
        let (mut findings, mut evaluations) = rejected_part(ctx, first);
        let (more, more_evaluations) = crate::threads::joined(later);
        findings.extend(more);
        evaluations.extend(more_evaluations);
        (findings, evaluations)
    })
}

/// Rejected conversation legs above which their findings are made on two threads.
const PARALLEL_FINDINGS: usize = 512;

/// The findings and path evaluations of `legs`, in their order.
fn rejected_part(
    ctx: &Context<'_>,
    legs: &[(&(Conv, Leg), &Vec<Oriented<'_>>)],
) -> (Vec<RejectedFinding>, Vec<PathEvaluation>) {
    let mut findings = Vec::with_capacity(legs.len());
    let mut evaluations = Vec::with_capacity(legs.len());
    for &((conv, leg), aggs) in legs {
        let (evidence, direction_from, direction_split) = evidence(aggs);
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
    (findings, evaluations)
}

/// Accepted requests that expect an answer and got none: no accepted response, no REJECT of
/// either leg, and no ACK from the client.
fn unanswered_findings(
    ctx: &Context<'_>,
    candidates: &Candidates<'_>,
    data: &FlowData,
    opts: &AnalysisOptions,
) -> Vec<UnansweredFinding> {
    let mut out = Vec::new();
    for aggs in candidates.requests.chunk_by(|(a, x), (b, y)| x.conv(a) == y.conv(b)) {
        let conv = &aggs[0].1.conv(aggs[0].0);
        if !expects_answer(ctx.wave, *conv)
            || candidates.rejected.contains(conv)
            || candidates.answered.contains(conv)
            || ctx.kind(if ctx.in_wave(conv.client) { conv.server } else { conv.client }) == PeerKind::External
        {
            continue;
        }
        let (evidence, direction_from, direction_split) = evidence(aggs);
        let signal = match evidence.tcp_flags {
            // The client acknowledged something: a handshake completed, the return records
            // are missing from the logs rather than from the wire.
            Some(f) if conv.protocol == proto::TCP && f & TCP_ACK != 0 => continue,
            Some(f) if conv.protocol == proto::TCP && f & TCP_SYN != 0 => UnansweredSignal::SynOnly,
            _ => UnansweredSignal::NoReturnRecord,
        };
        out.push(UnansweredFinding {
            id: format!("unanswered/{}/{}/{}/{}", proto_name(conv.protocol), conv.port, conv.client, conv.server),
            client: ctx.end(conv.client),
            server: ctx.end(conv.server),
            protocol: conv.protocol,
            port: conv.port,
            direction_from,
            direction_split,
            signal,
            likely_cause: likely_cause(ctx, conv.server),
            suppressed: suppression(&evidence, &data.skipdata, opts),
            evidence,
        });
    }
    out
}

/// Where the answer from `server` most likely got lost.
fn likely_cause(ctx: &Context<'_>, server: IpAddr) -> LikelyCause {
    match ctx.kind(server) {
        PeerKind::OnPremises => LikelyCause::OnPremises,
        PeerKind::Aws if ctx.eval.eni(server).is_none() => LikelyCause::NoInterface,
        PeerKind::Aws => LikelyCause::AwsPeerSilent,
        PeerKind::Internal | PeerKind::External => LikelyCause::Elsewhere,
    }
}

/// What keeps an unanswered flow's evidence from proving that no answer came, if anything:
/// SKIPDATA on its ENIs, a window too short to hold an interval and its delivery, or a first
/// record so recent that the answer may still be in delivery.
fn suppression(evidence: &Evidence, skipdata: &BTreeMap<String, u64>, opts: &AnalysisOptions) -> Option<Suppression> {
    let skipped: Vec<String> =
        evidence.enis.iter().filter(|e| skipdata.get(*e).is_some_and(|n| *n > 0)).cloned().collect();
    if !skipped.is_empty() {
        Some(Suppression::Skipdata { enis: skipped })
    } else if opts.window_short() {
        Some(Suppression::ShortWindow)
    } else if evidence.first_seen > opts.window.end - opts.delivery_lag {
        Some(Suppression::InDeliveryLag)
    } else {
        None
    }
}

/// The records and conversations each ignore rule matched.
fn ignored_counts(wave: &WaveConfig, ignored: &BTreeMap<usize, (u64, BTreeSet<Conv>)>) -> Vec<IgnoredCount> {
    ignored
        .iter()
        .map(|(i, (records, convs))| {
            let r = &wave.ignore[*i];
            IgnoredCount {
                network: r.network,
                service: r.service.map(|s| service_label(s.protocol, s.port)),
                reason: r.reason.clone(),
                records: *records,
                flows: convs.len(),
            }
        })
        .collect()
}

/// What limits the findings, sorted: SKIPDATA, coverage gaps, a window in the future or too
/// short, damaged input, flow logs one-sided or created after the window, and ENIs the
/// inventory does not know.
fn caveats(ctx: &Context<'_>, data: &FlowData, opts: &AnalysisOptions, unknown_enis: &BTreeSet<&str>) -> Vec<Caveat> {
    let mut caveats = Vec::new();
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
    if let Some(now) = opts.now.filter(|now| opts.window.start > *now) {
        caveats.push(Caveat {
            kind: CaveatKind::FutureWindow,
            message: format!(
                "the window starts {} s after this run: no flow log can have records there yet, so an empty \
                 report proves nothing",
                opts.window.start - now
            ),
        });
    }
    if opts.window_short() {
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
    caveats.extend(flow_log_caveats(ctx, opts.window));
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
    caveats.sort();
    caveats
}

/// What each AWS server's flow logs cannot show: one action only (`TrafficType`), so part of
/// its traffic is invisible; or nothing at all, when every one was created after the window.
fn flow_log_caveats(ctx: &Context<'_>, window: TimeWindow) -> Vec<Caveat> {
    let inv = ctx.eval.inventory();
    let mut out = Vec::new();
    for server in ctx.wave.servers().filter(|s| !s.on_premises) {
        let Some(eni) = server.addresses().find_map(|ip| ctx.eval.eni(ip)) else { continue };
        let logged = inv.logged_traffic(eni);
        let one_sided = match (logged.accepted, logged.rejected) {
            (true, false) => {
                Some("its flow logs record only ACCEPT: rejected flows are invisible, so no REJECT proves nothing")
            }
            (false, true) => Some(
                "its flow logs record only REJECT: accepted flows are invisible, so unanswered and expected \
                 flows cannot be checked",
            ),
            // Both, or no flow log at all (reported as a server without flow logs).
            _ => None,
        };
        if let Some(missing) = one_sided {
            out.push(Caveat {
                kind: CaveatKind::LimitedVisibility,
                message: format!("{} ({}): {missing}", server.name, eni.id),
            });
        }
        // Known only when the inventory gives every one of its flow logs a creation time.
        let created: Option<Vec<i64>> = inv.flow_logs_for_eni(eni).map(|f| f.created).collect();
        if let Some(first) = created.and_then(|c| c.into_iter().min())
            && first > window.end
        {
            out.push(Caveat {
                kind: CaveatKind::BeforeFlowLogs,
                message: format!(
                    "{} ({}): its flow logs were created {} s after the window ends: there are no records of it",
                    server.name,
                    eni.id,
                    first - window.end
                ),
            });
        }
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

fn expected_not_seen(wave: &WaveConfig, oriented: &[Oriented<'_>]) -> Vec<NotSeenFinding> {
    let mut out = Vec::new();
    for x in &wave.expected_flows {
        let flow = x.resolve(wave);
        let unknown_end = flow.has_unknown_end();
        if unknown_end
            || !oriented.iter().any(|(a, o)| {
                let c = o.conv(a);
                flow.matches(c.client, c.server, c.protocol, c.port)
            })
        {
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
pub(crate) mod tests;
