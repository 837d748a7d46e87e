//! Which end of a flow opened the connection, and so which port is the service.
//!
//! A record says who sent a packet, never who opened the connection. The service port is the
//! destination port of the packet that opened it, and "the lower port" is wrong whenever a
//! client's ephemeral port is below the service port: a Linux client (32768–60999) calling a
//! SQL Server named instance on 49733, Windows dynamic RPC (49152–65535), a Windows 2003
//! client (1025–5000) calling Kafka on 9092. Each aggregate is oriented from the strongest
//! evidence there is (docs/domain.md, "Who opened the connection"):
//!
//! 1. **`tcp-flags`**: SYN without ACK is sent by the client, SYN-ACK by the server; the
//!    record's own flags, else those of the opposite record of the same port pair.
//! 2. **`flow-direction`** of a REJECT: it says on which side of the logging ENI the packet
//!    was dropped. Read as a request, the drop is at the server's inbound or the client's
//!    outbound checks; read as a response, only a return-path NACL can drop it (security groups
//!    are stateful). When the inventory drops the packet at that side under one reading only,
//!    that reading is the record's.
//! 3. **Port evidence**: the port that stays fixed while the other varies (the end of more
//!    distinct peer and port pairs: a client may reuse its port towards two services, a
//!    listener is the fixed end of many clients); the same REJECT test with the side taken from the ENI that logged
//!    it; an expected flow of the wave; a port a security group of that end opens; a
//!    well-known service port; the OS ephemeral range of each end.
//!
//! When nothing decides, the lower port is taken as the service port and the orientation is
//! marked *split*, so a report says the direction is a guess instead of hiding it.

use std::hash::BuildHasher as _;
use std::net::IpAddr;

use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use serde::{Deserialize, Serialize};

use crate::analyze::{Context, Conv, ephemeral_range};
use crate::findings::{Hop, Leg};
use crate::flow::FlowAggregate;
use crate::flowlog::{Action, FlowDirection};
use crate::inventory::{PortMatch, PortRange, Protocol, proto};
use crate::wave::Endpoint;

/// What decided the direction of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirectionFrom {
    /// SYN or SYN-ACK in the records' `tcp-flags`.
    TcpFlags,
    /// A REJECT's `flow-direction` with the inventory's rules on that side.
    FlowDirection,
    /// The ports: fixed against varying, opened by the inventory, well known, ephemeral.
    PortEvidence,
}

impl DirectionFrom {
    /// The stronger of two (flags over direction over ports).
    #[must_use]
    pub fn strongest(self, other: Self) -> Self {
        self.min(other)
    }
}

/// How one aggregate was oriented: which leg it is and the service port, from which its
/// conversation follows ([`Orientation::conv`]), so 600 k oriented aggregates cost a few
/// bytes each instead of a copy of their addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Orientation {
    /// The service port: the destination port of the conversation's requests.
    pub port: u16,
    pub leg: Leg,
    pub from: DirectionFrom,
    /// The evidence was split or absent: the reading is a guess.
    pub split: bool,
}

impl Orientation {
    /// The conversation `a` (the aggregate this orients) is a leg of: a request goes from
    /// the client to the server, a response back.
    pub fn conv(self, a: &FlowAggregate) -> Conv {
        let (client, server) = match self.leg {
            Leg::Request => (a.src, a.dst),
            Leg::Response => (a.dst, a.src),
        };
        Conv { client, server, protocol: a.protocol, port: self.port }
    }
}

const TCP_SYN: u16 = 2;
const TCP_ACK: u16 = 16;

/// Registered service ports at or above 1024 that servers commonly listen on; every port
/// below 1024 counts as well known too.
const WELL_KNOWN: [u16; 29] = [
    1433, 1434, 1521, 2049, 2181, 2379, 3268, 3269, 3306, 3389, 5432, 5672, 5985, 5986, 6379, 6443, 8000, 8080, 8081,
    8443, 8888, 9090, 9092, 9200, 9300, 9443, 11211, 15672, 27017,
];

fn well_known(port: u16) -> bool {
    port < 1024 || WELL_KNOWN.contains(&port)
}

/// How many distinct partners (peer address and port) of one end's port are counted: past
/// that, the port is plainly one that many talk to.
const PARTNERS_CAP: u8 = 4;

/// The distinct (peer, peer port) pairs seen with one end's port, up to [`PARTNERS_CAP`],
/// held in place as 32-bit hashes (there is one per port of every end): two pairs with one
/// hash would count once, which can only lower a count that is capped at four anyway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Partners {
    count: u8,
    seen: [u32; PARTNERS_CAP as usize],
}

impl Partners {
    fn add(&mut self, peer: Addr, ports: PortRange) {
        if ports.from != ports.to {
            // A range is several ports already: a listener's many clients.
            self.count = PARTNERS_CAP;
            return;
        }
        let n = usize::from(self.count);
        let cap = usize::from(PARTNERS_CAP);
        #[allow(clippy::cast_possible_truncation)]
        let pair = FxBuildHasher.hash_one((peer, ports.from)) as u32;
        if n < cap && !self.seen[..n].contains(&pair) {
            self.seen[n] = pair;
            self.count += 1;
        }
    }

    fn count(&self) -> u8 {
        self.count
    }
}

/// An address of the aggregates, by number: the indexes below hold four bytes an end, not
/// the seventeen of an `IpAddr`.
type Addr = u32;

/// The numbers of an aggregate's source and destination.
#[derive(Debug, Clone, Copy)]
struct Ends {
    src: Addr,
    dst: Addr,
}

/// Every aggregate with the conversation and leg it was read as, from indexes over all of
/// them that are gone when this returns.
pub(crate) fn orient_all<'d>(
    ctx: &Context<'_>,
    aggregates: &'d [FlowAggregate],
) -> Vec<(&'d FlowAggregate, Orientation)> {
    let (orienter, ends) = Orienter::new(ctx, aggregates);
    aggregates.iter().zip(ends).map(|(a, ends)| (a, orienter.orient(a, ends))).collect()
}

/// Orients the aggregates of one analysis, with indexes over all of them.
struct Orienter<'c, 'a> {
    ctx: &'c Context<'a>,
    /// (end, its port, protocol) → the peers and peer ports seen with it. A service port is
    /// the fixed end of many (client, client port) pairs; a client port, reused at most
    /// towards a few services, of few.
    partners: FxHashMap<(Addr, u16, u8), Partners>,
    /// OR of the flags of single-port-pair records: (src, src port, dst, dst port, protocol).
    flags: FxHashMap<(Addr, u16, Addr, u16, u8), u16>,
    /// Accepted (src, dst, protocol, port) tuples, for flows without ports.
    accepted: FxHashSet<(Addr, Addr, u8, u16)>,
}

fn has_ports(protocol: u8) -> bool {
    matches!(protocol, proto::TCP | proto::UDP)
}

fn single(r: PortRange) -> bool {
    r.from == r.to
}

impl<'c, 'a> Orienter<'c, 'a> {
    /// The orienter, and the numbers of each aggregate's ends.
    fn new(ctx: &'c Context<'a>, aggregates: &[FlowAggregate]) -> (Self, Vec<Ends>) {
        let mut partners: FxHashMap<(Addr, u16, u8), Partners> = FxHashMap::default();
        let mut flags: FxHashMap<(Addr, u16, Addr, u16, u8), u16> = FxHashMap::default();
        let mut accepted = FxHashSet::default();
        let mut numbers: FxHashMap<IpAddr, Addr> = FxHashMap::default();
        let mut number = |ip: IpAddr| {
            let next = Addr::try_from(numbers.len()).expect("fewer than 2^32 addresses");
            *numbers.entry(ip).or_insert(next)
        };
        let mut ends = Vec::with_capacity(aggregates.len());
        for a in aggregates {
            let e = Ends { src: number(a.src), dst: number(a.dst) };
            ends.push(e);
            if a.action == Action::Accept {
                accepted.insert((e.src, e.dst, a.protocol, a.port));
            }
            let (Some(s), Some(d)) = (a.src_ports, a.dst_ports) else { continue };
            if !has_ports(a.protocol) {
                continue;
            }
            for (end, range, other, other_range) in [(e.src, s, e.dst, d), (e.dst, d, e.src, s)] {
                if single(range) {
                    partners.entry((end, range.from, a.protocol)).or_default().add(other, other_range);
                }
            }
            if let (Some(f), true) = (a.tcp_flags, single(s) && single(d)) {
                *flags.entry((e.src, s.from, e.dst, d.from, a.protocol)).or_default() |= f;
            }
        }
        (Orienter { ctx, partners, flags, accepted }, ends)
    }

    fn orient(&self, a: &FlowAggregate, e: Ends) -> Orientation {
        let (Some(s), Some(d)) = (a.src_ports, a.dst_ports) else {
            return self.without_ports(a, e);
        };
        if !has_ports(a.protocol) {
            return self.without_ports(a, e);
        }
        let read = |leg: Leg, from: DirectionFrom, split: bool| match leg {
            Leg::Request => Orientation { port: d.from, leg, from, split },
            Leg::Response => Orientation { port: s.from, leg, from, split },
        };
        if let Some(leg) = self.by_flags(a, e, s, d) {
            // The flags win; ports that say the opposite are worth a word.
            let agrees = match leg {
                Leg::Request => single(d),
                Leg::Response => single(s),
            };
            return read(leg, DirectionFrom::TcpFlags, !agrees);
        }
        match (single(s), single(d)) {
            (false, true) => read(Leg::Request, DirectionFrom::PortEvidence, false),
            (true, false) => read(Leg::Response, DirectionFrom::PortEvidence, false),
            (true, true) => match self.port_pair(a, e, s.from, d.from) {
                Some((leg, from)) => read(leg, from, false),
                None => read(lower_port_reading(s.from, d.from), DirectionFrom::PortEvidence, true),
            },
            // Both sides vary within one group: the lower port is the best guess.
            (false, false) => read(lower_port_reading(s.from, d.from), DirectionFrom::PortEvidence, true),
        }
    }

    /// ICMP and other protocols without ports: a REJECT opposite an accepted flow is the
    /// answer to it (the ping of docs/domain.md), anything else a request.
    fn without_ports(&self, a: &FlowAggregate, e: Ends) -> Orientation {
        let response = a.action == Action::Reject && self.accepted.contains(&(e.dst, e.src, a.protocol, a.port));
        let leg = if response { Leg::Response } else { Leg::Request };
        Orientation { port: a.port, leg, from: DirectionFrom::PortEvidence, split: false }
    }

    fn by_flags(&self, a: &FlowAggregate, e: Ends, s: PortRange, d: PortRange) -> Option<Leg> {
        if a.protocol != proto::TCP {
            return None;
        }
        let syn = |f: u16| (f & TCP_SYN != 0).then_some(f & TCP_ACK != 0);
        if let Some(ack) = a.tcp_flags.and_then(syn) {
            return Some(if ack { Leg::Response } else { Leg::Request });
        }
        if single(s) && single(d) {
            let opposite = self.flags.get(&(e.dst, d.from, e.src, s.from, a.protocol)).copied();
            if let Some(ack) = opposite.and_then(syn) {
                // The opposite record opened (SYN) or answered (SYN-ACK): this one is the other half.
                return Some(if ack { Leg::Request } else { Leg::Response });
            }
        }
        None
    }

    /// One source port and one destination port: every other kind of evidence, in order.
    fn port_pair(&self, a: &FlowAggregate, e: Ends, x: u16, y: u16) -> Option<(Leg, DirectionFrom)> {
        let port_evidence = |leg: Option<Leg>| leg.map(|l| (l, DirectionFrom::PortEvidence));
        // A REJECT is the drop at the end whose interface recorded it (flow-direction says
        // which, else the ENI is one of the ends): the reading the inventory drops there
        // outweighs how many partners each port has, which a client port reused towards two
        // services of one host can tip.
        if a.action == Action::Reject
            && let Some((local, from)) = self.reject_local(a)
            && let Some(leg) = self.reject_side(a, x, y, local)
        {
            return Some((leg, from));
        }
        let partners = |end, port| self.partners.get(&(end, port, a.protocol)).map_or(0, Partners::count);
        let (server_y, server_x) = (partners(e.dst, y), partners(e.src, x));
        if let Some(leg) = either(server_y > server_x, server_x > server_y) {
            return Some((leg, DirectionFrom::PortEvidence));
        }
        let expected = |client, server, port| self.expected(client, server, a.protocol, port);
        if let Some(r) = port_evidence(either(expected(a.src, a.dst, y), expected(a.dst, a.src, x))) {
            return Some(r);
        }
        let opens = |ip, port| self.opens(ip, a.protocol, port);
        if let Some(r) = port_evidence(either(opens(a.dst, y), opens(a.src, x))) {
            return Some(r);
        }
        if let Some(r) = port_evidence(either(well_known(y), well_known(x))) {
            return Some(r);
        }
        port_evidence(self.by_ephemeral_range(a, x, y))
    }

    /// The end where a REJECT was taken, and what says so: flow-direction, else the end
    /// whose ENI recorded it.
    fn reject_local(&self, a: &FlowAggregate) -> Option<(IpAddr, DirectionFrom)> {
        if let Some(dir) = a.direction {
            let local = match dir {
                FlowDirection::Ingress => a.dst,
                FlowDirection::Egress => a.src,
            };
            return Some((local, DirectionFrom::FlowDirection));
        }
        let recorded = |ip| self.ctx.eval.eni(ip).is_some_and(|e| *e.id == *a.interface_id);
        [a.dst, a.src].into_iter().find(|&ip| recorded(ip)).map(|ip| (ip, DirectionFrom::PortEvidence))
    }

    /// The OS ephemeral ranges of the ends whose OS is known: a client's port is in its range.
    /// With one end known, the port pair must split across that range (one in, one out).
    fn by_ephemeral_range(&self, a: &FlowAggregate, x: u16, y: u16) -> Option<Leg> {
        let range = |ip| self.ctx.os(ip).map(|os| ephemeral_range(Some(os), self.ctx.wave.ephemeral));
        match (range(a.src), range(a.dst)) {
            (Some(src), Some(dst)) => either(src.contains(x) && !dst.contains(y), dst.contains(y) && !src.contains(x)),
            (Some(r), None) | (None, Some(r)) => {
                either(r.contains(x) && !r.contains(y), r.contains(y) && !r.contains(x))
            }
            (None, None) => None,
        }
    }

    /// Reads a REJECT taken on `local`'s side both ways, and keeps the reading under which the
    /// inventory drops the packet there.
    fn reject_side(&self, a: &FlowAggregate, x: u16, y: u16, local: IpAddr) -> Option<Leg> {
        let at_dst = local == a.dst;
        let request = Conv { client: a.src, server: a.dst, protocol: a.protocol, port: y };
        let response = Conv { client: a.dst, server: a.src, protocol: a.protocol, port: x };
        let request_hops: &[Hop] = if at_dst {
            &[Hop::DestinationNaclInbound, Hop::DestinationSgIngress]
        } else {
            &[Hop::SourceSgEgress, Hop::SourceNaclOutbound]
        };
        // Read as a response, the record goes from the server to the client.
        let response_hops: &[Hop] =
            if at_dst { &[Hop::ReturnSourceNaclInbound] } else { &[Hop::ReturnDestinationNaclOutbound] };
        let drops = |conv: Conv, client_port: u16, hops: &[Hop]| {
            let mut spec = self.ctx.spec(conv);
            spec.client_ports = PortRange::single(client_port);
            let ev = self.ctx.eval.evaluate(&spec);
            hops.iter().any(|h| ev.hop(*h).outcome.denies())
        };
        either(drops(request, x, request_hops), drops(response, y, response_hops))
    }

    fn expected(&self, client: IpAddr, server: IpAddr, protocol: u8, port: u16) -> bool {
        let names = |e: &Endpoint, ip: IpAddr| match e {
            Endpoint::Server(name) => self.ctx.scope.server(ip).is_some_and(|s| &s.name == name),
            Endpoint::Network(n) => n.contains(&ip),
        };
        self.ctx
            .wave
            .expected_flows
            .iter()
            .any(|x| x.protocol == protocol && x.port == port && names(&x.src, client) && names(&x.dst, server))
    }

    /// Whether a security group of `ip`'s ENI opens `port` inbound with a rule narrower than
    /// "every port": a sign that something listens there.
    fn opens(&self, ip: IpAddr, protocol: u8, port: u16) -> bool {
        let Some(eni) = self.ctx.eval.eni(ip) else { return false };
        let inv = self.ctx.eval.inventory();
        eni.security_groups.iter().filter_map(|g| inv.security_groups.get(g)).flat_map(|g| &g.ingress).any(|r| {
            r.protocol == Protocol::Number(protocol)
                && matches!(r.ports, PortMatch::Ports(range) if range.contains(port) && (range.from > 1 || range.to < 65535))
        })
    }
}

/// Request when only the first holds, response when only the second does.
fn either(request: bool, response: bool) -> Option<Leg> {
    match (request, response) {
        (true, false) => Some(Leg::Request),
        (false, true) => Some(Leg::Response),
        _ => None,
    }
}

/// The old rule, kept only as the last resort: the lower port is the service.
fn lower_port_reading(src_port: u16, dst_port: u16) -> Leg {
    if dst_port <= src_port { Leg::Request } else { Leg::Response }
}

#[cfg(test)]
mod tests {
    //! Hand-made cases from AWS's documented semantics, none of which the bench generator
    //! produces: clients whose ephemeral port is below the service port.
    use super::*;
    use crate::analyze::tests::{Role, agg, run, wave};
    use crate::eval::tests::{sg_rule, world};
    use crate::findings::{Analysis, Attribution};
    use crate::inventory::{Inventory, Os, SgPeer};

    /// One record group with one port on each side, as the query returns a single connection.
    fn pair(src: &str, sport: u16, dst: &str, dport: u16, action: Action, eni: &str) -> FlowAggregate {
        let mut a = agg(src, dst, proto::TCP, sport.min(dport), Role::Unknown, action, eni);
        a.src_ports = Some(PortRange::single(sport));
        a.dst_ports = Some(PortRange::single(dport));
        a
    }

    fn ids(a: &Analysis) -> Vec<(&str, DirectionFrom, bool)> {
        a.rejected.iter().map(|f| (f.id.as_str(), f.direction_from, f.direction_split)).collect()
    }

    /// db01 as a SQL Server named instance on 49733 that its security group does not open.
    fn named_instance() -> Inventory {
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().ingress =
            vec![sg_rule("tcp", Some((1433, 1433)), SgPeer::Cidr("10.0.0.0/16".parse().unwrap()))];
        inv
    }

    const APP: &str = "10.0.0.7";
    const DB: &str = "10.0.20.8";
    const FINDING: &str = "rejected/tcp/49733/10.0.0.7/10.0.20.8/request";

    #[test]
    fn linux_client_ports_below_a_high_service_port_are_one_request_finding() {
        // v2, no flags: app01 (Linux, 32768-61000) opens five connections to 49733; three of
        // its ports are lower than the service port, so the query keys them on the client port.
        let mut aggs: Vec<FlowAggregate> =
            [40001, 41234, 47000].iter().map(|p| pair(APP, *p, DB, 49733, Action::Reject, "eni-db")).collect();
        let mut high = pair(APP, 52000, DB, 49733, Action::Reject, "eni-db");
        high.src_ports = Some(PortRange { from: 52000, to: 58000 });
        aggs.push(high);
        let a = run(&named_instance(), &wave(), aggs);
        assert_eq!(ids(&a), [(FINDING, DirectionFrom::PortEvidence, false)], "{:#?}", a.rejected);
        let f = &a.rejected[0];
        assert_eq!(f.attribution, Attribution::Confirmed);
        assert_eq!(f.evidence.records, 12, "every client port is one conversation");
        assert_eq!(a.proposals.len(), 1);
    }

    #[test]
    fn a_single_connection_is_read_from_where_the_inventory_drops_it() {
        // One client port only: nothing varies, but read as a response the record would be
        // dropped by no rule at db01's side, read as a request by db01's security group.
        let a = run(&named_instance(), &wave(), vec![pair(APP, 40001, DB, 49733, Action::Reject, "eni-db")]);
        assert_eq!(ids(&a), [(FINDING, DirectionFrom::PortEvidence, false)]);
    }

    #[test]
    fn flow_direction_places_the_drop() {
        let mut r = pair(APP, 40001, DB, 49733, Action::Reject, "eni-db");
        r.direction = Some(FlowDirection::Ingress);
        let a = run(&named_instance(), &wave(), vec![r]);
        assert_eq!(ids(&a), [(FINDING, DirectionFrom::FlowDirection, false)]);
    }

    #[test]
    fn tcp_flags_decide_before_any_port_and_a_syn_is_never_a_response() {
        // The client's source port (1000) is lower and "well known": only the flags tell.
        let mut syn = pair(APP, 1000, DB, 49733, Action::Reject, "eni-db");
        syn.tcp_flags = Some(2);
        let a = run(&world(), &wave(), vec![syn]);
        assert_eq!(ids(&a), [("rejected/tcp/49733/10.0.0.7/10.0.20.8/request", DirectionFrom::TcpFlags, false)]);
        // A SYN-ACK from the server's port is the answer, even from a port above the client's.
        let mut synack = pair(DB, 49733, APP, 40001, Action::Reject, "eni-app");
        synack.tcp_flags = Some(18);
        let a = run(&world(), &wave(), vec![synack]);
        assert_eq!(ids(&a), [("rejected/tcp/49733/10.0.0.7/10.0.20.8/response", DirectionFrom::TcpFlags, false)]);
    }

    #[test]
    fn the_opposite_records_flags_orient_a_flagless_group() {
        let mut req = pair(APP, 40001, DB, 49733, Action::Accept, "eni-db");
        req.tcp_flags = Some(3);
        let resp = pair(DB, 49733, APP, 40001, Action::Reject, "eni-db");
        let a = run(&world(), &wave(), vec![req, resp]);
        assert_eq!(ids(&a), [("rejected/tcp/49733/10.0.0.7/10.0.20.8/response", DirectionFrom::TcpFlags, false)]);
    }

    #[test]
    fn windows_2003_client_calling_kafka_is_unanswered_on_9092() {
        // app01 as Windows Server 2003 (1025-5000) calls Kafka on premises; nothing comes back.
        let mut w = wave();
        w.apps[0].servers[1].os = Some(Os::WindowsLegacy);
        let a = run(&world(), &w, vec![pair(APP, 3001, "192.168.50.20", 9092, Action::Accept, "eni-app")]);
        let got: Vec<_> = a.unanswered.iter().map(|u| (u.id.as_str(), u.direction_from)).collect();
        assert_eq!(got, [("unanswered/tcp/9092/10.0.0.7/192.168.50.20", DirectionFrom::PortEvidence)]);
        assert!(a.rejected.is_empty());
    }

    #[test]
    fn the_os_ephemeral_range_decides_when_nothing_else_does() {
        // 9999 is no well-known port; app01's Linux range holds 40001 and not 9999.
        let a = run(&world(), &wave(), vec![pair(APP, 40001, "192.168.50.20", 9999, Action::Accept, "eni-app")]);
        let got: Vec<_> = a.unanswered.iter().map(|u| (u.id.as_str(), u.direction_split)).collect();
        assert_eq!(got, [("unanswered/tcp/9999/10.0.0.7/192.168.50.20", false)]);
    }

    #[test]
    fn split_evidence_is_said_not_hidden() {
        // Both ends Linux, both ports in its ephemeral range, logged on an ENI the inventory
        // does not know: nothing decides, so the lower port is a guess and says so.
        let mut w = wave();
        w.apps[0].servers[2].os = Some(Os::Linux);
        let a = run(&world(), &w, vec![pair(APP, 50002, DB, 50001, Action::Reject, "eni-gone")]);
        assert_eq!(ids(&a), [("rejected/tcp/50001/10.0.0.7/10.0.20.8/request", DirectionFrom::PortEvidence, true)]);
        // A guessed accepted request is never reported unanswered.
        let a = run(&world(), &w, vec![pair(APP, 50002, "192.168.50.20", 50001, Action::Accept, "eni-app")]);
        assert!(a.unanswered.is_empty(), "{:#?}", a.unanswered);
    }

    #[test]
    fn a_client_port_reused_towards_two_services_of_one_host_is_the_client_of_both() {
        // app01 (Linux) reaches db01 on 5432 and 8443 from one port, 40500, below both the
        // range's top and 49733; v2, no flags. db01's ENI records both REJECTs, and its group
        // opens neither port. 40500 has two partners and each service one: the count alone
        // would read 40500 as db01's service.
        let aggs = vec![
            pair(APP, 40500, DB, 5432, Action::Reject, "eni-db"),
            pair(APP, 40500, DB, 8443, Action::Reject, "eni-db"),
        ];
        let a = run(&named_instance(), &wave(), aggs);
        assert_eq!(
            ids(&a),
            [
                ("rejected/tcp/5432/10.0.0.7/10.0.20.8/request", DirectionFrom::PortEvidence, false),
                ("rejected/tcp/8443/10.0.0.7/10.0.20.8/request", DirectionFrom::PortEvidence, false),
            ]
        );
        assert!(a.rejected.iter().all(|f| f.attribution == Attribution::Confirmed));
    }

    #[test]
    fn a_client_port_reused_towards_two_services_is_still_the_client() {
        // 10.1.0.5 reuses port 53803 for web01:80 (answered) and web01:443 (rejected); 443 is
        // the fixed end of other clients too. Seen on the generated bench set.
        let c = "10.1.0.5";
        let web = "10.0.0.6";
        let aggs = vec![
            pair(c, 53803, web, 80, Action::Accept, "eni-web"),
            pair(web, 80, c, 53803, Action::Accept, "eni-web"),
            pair(c, 53803, web, 443, Action::Reject, "eni-web"),
            pair("192.168.10.1", 50000, web, 443, Action::Accept, "eni-web"),
            pair("192.168.10.2", 50001, web, 443, Action::Accept, "eni-web"),
        ];
        let a = run(&world(), &wave(), aggs);
        assert_eq!(ids(&a), [("rejected/tcp/443/10.1.0.5/10.0.0.6/request", DirectionFrom::PortEvidence, false)]);
        assert_eq!(a.rejected[0].attribution, Attribution::Confirmed);
    }
}
