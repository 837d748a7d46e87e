//! Least-privilege rule proposals: the smallest SG and NACL changes that let each rejected
//! finding through, merged and deduplicated across findings, checked against quotas.
//!
//! A wrong proposal is a security hole, so the rules are narrow by construction: the exact
//! protocol and service port; an SG reference (the most specific group of the peer) when both
//! ends are in one VPC or peered VPCs; otherwise the /32 of an AWS peer or of a server, or, for
//! more than [`HOSTS_BEFORE_NETWORK`] on-premises clients of one change, the narrowest
//! configured on-premises network that holds them; NACL entries just before the first DENY the
//! flow hits; the client's ephemeral range for return traffic. Never `0.0.0.0/0`, `::/0`, all
//! ports or protocol `-1`. A change asked for by a single record (one connection attempt,
//! never retried) is held back, not proposed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::analyze::Context;
use crate::eval::{PathEvaluation, service_label};
use crate::findings::{Attribution, HeldBack, Hop, PeerKind, Proposal, RejectedFinding, RuleChange};
use crate::inventory::{
    Eni, IcmpMatch, Inventory, NACL_DEFAULT_RULE_NUMBER, NaclEntry, PortMatch, PortRange, Protocol, RuleAction, SgPeer,
    SgRule, proto,
};
use crate::wave::ResolvedFlow;

/// Rules per security group per direction (per IP family).
pub const SG_RULES_QUOTA: usize = 60;
/// Entries per network ACL per direction (per IP family), the `*` entry excluded.
pub const NACL_ENTRIES_QUOTA: usize = 20;

/// A change before merging: the change, the findings it fixes, the DENY it must precede.
struct Draft {
    change: RuleChange,
    fixes: BTreeSet<String>,
    deny_number: u16,
    /// The records of the findings it fixes: the evidence that the change is needed.
    records: u64,
}

/// A change for a peer the wave does not know (inside the internal networks, but no ENI of
/// the inventory, no server of the wave, outside the on-premises networks) is proposed on
/// evidence of at least this many records. A single record in the whole window is one
/// connection attempt nobody retried (every retry is a new connection, so a new record:
/// docs/domain.md §1); such findings are held back instead (see [`HeldBack::SingleAttempt`]).
/// Servers of the wave, inventory ENIs and on-premises peers are vouched for by the wave
/// itself: one record of a SQL Browser lookup between two of its servers is a dependency.
pub const MIN_RECORDS: u64 = 2;

/// Up to this many on-premises clients of one change get a host rule each; more are a
/// population (desktops, DHCP pools) and get the narrowest configured network holding them.
pub const HOSTS_BEFORE_NETWORK: usize = 3;

/// Resource, direction, protocol, ports, peer.
type MergeKey = (String, bool, Protocol, PortMatch, String);

fn merge_into(merged: &mut BTreeMap<MergeKey, Draft>, d: Draft) {
    match merged.entry(merge_key(&d.change)) {
        std::collections::btree_map::Entry::Occupied(mut o) => {
            let m = o.get_mut();
            m.fixes.extend(d.fixes);
            m.deny_number = m.deny_number.min(d.deny_number);
            m.records += d.records;
        }
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert(d);
        }
    }
}

/// The CIDR a change opens to, when it names one (not a group or a prefix list).
fn peer_net(c: &RuleChange) -> Option<IpNet> {
    match c {
        RuleChange::SgRule { rule, .. } => match rule.peer {
            SgPeer::Cidr(n) => Some(n),
            _ => None,
        },
        RuleChange::NaclEntry { entry, .. } => Some(entry.cidr),
    }
}

/// The same change, opened to `net` instead.
fn with_peer(c: &RuleChange, net: IpNet) -> RuleChange {
    let mut c = c.clone();
    match &mut c {
        RuleChange::SgRule { rule, .. } => rule.peer = SgPeer::Cidr(net),
        RuleChange::NaclEntry { entry, .. } => entry.cidr = net,
    }
    c
}

/// The key two drafts are the same change under (descriptions and numbers aside).
fn merge_key(c: &RuleChange) -> MergeKey {
    match c {
        RuleChange::SgRule { group_id, egress, rule, .. } => {
            let peer = match &rule.peer {
                SgPeer::Cidr(n) => n.to_string(),
                SgPeer::PrefixList(p) => p.clone(),
                SgPeer::Group { group_id, .. } => group_id.clone(),
            };
            (group_id.clone(), *egress, rule.protocol, rule.ports, peer)
        }
        RuleChange::NaclEntry { acl_id, entry, .. } => {
            (acl_id.clone(), entry.egress, entry.protocol, entry.ports, entry.cidr.to_string())
        }
    }
}

/// The group of an ENI that the fewest ENIs carry (the most specific), ties by attachment order.
fn most_specific_group<'a>(ctx: &Context<'a>, eni: &'a Eni) -> Option<&'a str> {
    eni.security_groups
        .iter()
        .filter(|g| ctx.eval.inventory().security_groups.contains_key(*g))
        .min_by_key(|g| ctx.eval.members(g).len())
        .map(String::as_str)
}

fn host_net(ip: IpAddr) -> IpNet {
    IpNet::from(ip)
}

/// The CIDR that stands for a peer: the narrowest configured on-premises network for an
/// on-premises client (many clients, one rule), else the host itself.
fn peer_cidr(ctx: &Context<'_>, ip: IpAddr, is_client: bool) -> IpNet {
    if is_client
        && ctx.kind(ip) == PeerKind::OnPremises
        && let Some(n) = ctx
            .wave
            .networks
            .on_premises
            .iter()
            .filter(|n| n.contains(&ip) && crate::wave::is_sane_on_premises(**n))
            .max_by_key(|n| n.prefix_len())
    {
        return *n;
    }
    host_net(ip)
}

fn service_ports(protocol: u8, port: u16) -> PortMatch {
    match protocol {
        proto::TCP | proto::UDP => PortMatch::Ports(PortRange::single(port)),
        proto::ICMP | proto::ICMPV6 => PortMatch::Icmp(IcmpMatch { icmp_type: None, code: None }),
        _ => PortMatch::Any,
    }
}

/// The return range, never "all ports".
fn return_ports(protocol: u8, range: PortRange) -> PortMatch {
    match protocol {
        proto::TCP | proto::UDP => {
            let from = if range == PortRange::ALL { 1024 } else { range.from };
            PortMatch::Ports(PortRange { from, to: range.to })
        }
        proto::ICMP | proto::ICMPV6 => PortMatch::Icmp(IcmpMatch { icmp_type: None, code: None }),
        _ => PortMatch::Any,
    }
}

/// Drafts the changes that open every denying hop of one evaluated flow.
fn drafts_for(ctx: &Context<'_>, f: &RejectedFinding, ev: &PathEvaluation) -> Vec<Draft> {
    let flow = ev.flow;
    let inv = ctx.eval.inventory();
    let se = ctx.eval.eni(flow.src);
    let de = ctx.eval.eni(flow.dst);
    let svc = service_label(flow.protocol, flow.port);
    let mut out = Vec::new();
    for h in ev.denying_hops() {
        let fixes = BTreeSet::from([f.id.clone()]);
        let deny_number = h.deny_rule_number.unwrap_or(NACL_DEFAULT_RULE_NUMBER);
        let change = match h.hop {
            Hop::SourceSgEgress | Hop::DestinationSgIngress => {
                let egress = h.hop == Hop::SourceSgEgress;
                let (holder, peer_ip, peer_is_client) =
                    if egress { (se, flow.dst, false) } else { (de, flow.src, true) };
                let Some(holder) = holder else { continue };
                let Some(group_id) = most_specific_group(ctx, holder) else { continue };
                let peer = match ctx.eval.eni(peer_ip) {
                    Some(pe) if inv.vpcs_connected(&holder.vpc_id, &pe.vpc_id) => match most_specific_group(ctx, pe) {
                        Some(g) => SgPeer::Group {
                            group_id: g.to_owned(),
                            owner_id: inv.security_groups.get(g).and_then(|x| x.owner_id.clone()),
                            vpc_id: None,
                            peering_id: None,
                        },
                        None => SgPeer::Cidr(host_net(peer_ip)),
                    },
                    _ => SgPeer::Cidr(peer_cidr(ctx, peer_ip, peer_is_client)),
                };
                RuleChange::SgRule {
                    group_id: group_id.to_owned(),
                    group_name: inv.security_groups.get(group_id).map(|g| g.name.clone()),
                    egress,
                    rule: SgRule {
                        id: None,
                        protocol: Protocol::Number(flow.protocol),
                        ports: service_ports(flow.protocol, flow.port),
                        peer,
                        description: Some(format!("wavegap {}: {svc}", ctx.wave.name)),
                    },
                }
            }
            Hop::SourceNaclOutbound
            | Hop::DestinationNaclInbound
            | Hop::ReturnDestinationNaclOutbound
            | Hop::ReturnSourceNaclInbound => {
                let Some(acl_id) = h.resource.clone() else { continue };
                let (egress, cidr, ports, return_traffic) = match h.hop {
                    Hop::SourceNaclOutbound => {
                        (true, peer_cidr(ctx, flow.dst, false), service_ports(flow.protocol, flow.port), false)
                    }
                    Hop::DestinationNaclInbound => {
                        (false, peer_cidr(ctx, flow.src, true), service_ports(flow.protocol, flow.port), false)
                    }
                    Hop::ReturnDestinationNaclOutbound => {
                        (true, peer_cidr(ctx, flow.src, true), return_ports(flow.protocol, flow.client_ports), true)
                    }
                    _ => (false, peer_cidr(ctx, flow.dst, false), return_ports(flow.protocol, flow.client_ports), true),
                };
                RuleChange::NaclEntry {
                    acl_id,
                    entry: NaclEntry {
                        rule_number: 0,
                        egress,
                        protocol: Protocol::Number(flow.protocol),
                        ports,
                        cidr,
                        action: RuleAction::Allow,
                    },
                    before_rule: deny_number,
                    return_traffic,
                }
            }
        };
        out.push(Draft { change, fixes, deny_number, records: f.evidence.records });
    }
    out
}

fn ports_overlap(a: PortMatch, b: PortMatch) -> bool {
    match (a, b) {
        (PortMatch::Ports(x), PortMatch::Ports(y)) => x.from <= y.to && y.from <= x.to,
        _ => true,
    }
}

fn nets_overlap(a: IpNet, b: IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A free rule number before `deny`, after every existing entry that overlaps `entry` (so the
/// new entry never pre-empts a rule it shares traffic with), preferring multiples of ten.
fn pick_rule_number(existing: &[NaclEntry], used: &BTreeSet<u16>, entry: &NaclEntry, deny: u16) -> Option<u16> {
    let floor = existing
        .iter()
        .filter(|e| {
            e.rule_number < deny
                && e.rule_number != NACL_DEFAULT_RULE_NUMBER
                && (e.protocol == Protocol::All || entry.protocol == Protocol::All || e.protocol == entry.protocol)
                && ports_overlap(e.ports, entry.ports)
                && nets_overlap(e.cidr, entry.cidr)
        })
        .map(|e| e.rule_number)
        .max()
        .unwrap_or(0);
    if deny == NACL_DEFAULT_RULE_NUMBER {
        // After everything: the next multiple of ten past the last entry.
        let last = existing.iter().map(|e| e.rule_number).filter(|n| *n != NACL_DEFAULT_RULE_NUMBER).max().unwrap_or(0);
        let mut n = (last.max(floor) / 10 + 1) * 10;
        while n < NACL_DEFAULT_RULE_NUMBER {
            if !used.contains(&n) {
                return Some(n);
            }
            n += 10;
        }
        return (floor + 1..NACL_DEFAULT_RULE_NUMBER).rev().find(|n| !used.contains(n));
    }
    (floor + 1..deny)
        .rev()
        .find(|n| n % 10 == 0 && !used.contains(n))
        .or_else(|| (floor + 1..deny).rev().find(|n| !used.contains(n)))
}

/// Builds, merges, numbers and quota-checks the proposals; links findings to them.
pub(crate) fn propose(ctx: &Context<'_>, findings: &mut [RejectedFinding], evals: &[PathEvaluation]) -> Vec<Proposal> {
    let inv = ctx.eval.inventory();
    // Merge identical changes.
    let mut merged: BTreeMap<MergeKey, Draft> = BTreeMap::new();
    for (f, ev) in findings.iter().zip(evals) {
        if !matches!(f.attribution, Attribution::Confirmed | Attribution::Inconsistent) {
            continue;
        }
        for d in drafts_for(ctx, f, ev) {
            merge_into(&mut merged, d);
        }
    }
    let by_id: HashMap<&str, &RejectedFinding> = findings.iter().map(|f| (f.id.as_str(), f)).collect();
    // A configured network is proposed for a population of clients, never for a few hosts:
    // up to HOSTS_BEFORE_NETWORK clients get a host rule each.
    let few: Vec<MergeKey> = merged
        .iter()
        .filter(|(_, d)| {
            peer_net(&d.change).is_some_and(|n| n.prefix_len() < n.max_prefix_len()) && {
                let clients: BTreeSet<IpAddr> =
                    d.fixes.iter().filter_map(|id| by_id.get(id.as_str())).map(|f| f.client.ip).collect();
                clients.len() <= HOSTS_BEFORE_NETWORK
            }
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in few {
        let Some(d) = merged.remove(&k) else { continue };
        for id in d.fixes {
            let Some(f) = by_id.get(id.as_str()) else { continue };
            merge_into(
                &mut merged,
                Draft {
                    change: with_peer(&d.change, host_net(f.client.ip)),
                    fixes: BTreeSet::from([id]),
                    deny_number: d.deny_number,
                    records: f.evidence.records,
                },
            );
        }
    }
    // Drop changes another one covers (a /32 inside a proposed on-premises range). Changes of
    // one rule but their peer are neighbours in the map's order.
    let keys: Vec<(MergeKey, Option<IpNet>)> = merged.keys().map(|k| (k.clone(), k.4.parse().ok())).collect();
    let mut covered = Vec::new();
    for run in keys.chunk_by(|(a, _), (b, _)| (&a.0, a.1, a.2, a.3) == (&b.0, b.1, b.2, b.3)) {
        for (k, net) in run {
            let Some(net) = net else { continue };
            let by = run.iter().find(|(other, o)| other != k && o.is_some_and(|o| o != *net && o.contains(net)));
            if let Some((by, _)) = by {
                covered.push((k.clone(), by.clone()));
            }
        }
    }
    for (k, by) in covered {
        if let Some(d) = merged.remove(&k)
            && let Some(b) = merged.get_mut(&by)
        {
            b.fixes.extend(d.fixes);
            b.deny_number = b.deny_number.min(d.deny_number);
            b.records += d.records;
        }
    }

    // Hold back what only a single connection attempt from an address the wave does not know
    // asks for, unless the wave expects the flow; a finding held back by one of its changes is
    // taken out of the others too, so that `fixes` never claims a flow the proposals alone do
    // not let through.
    let held: BTreeSet<String> = {
        let expected: Vec<ResolvedFlow> = ctx.wave.expected_flows.iter().map(|x| x.resolve(ctx.wave)).collect();
        let vouched = |id: &String| {
            by_id.get(id.as_str()).is_none_or(|f| {
                let peer = if f.client.in_wave { &f.server } else { &f.client };
                peer.in_wave
                    || peer.kind != PeerKind::Internal
                    || expected.iter().any(|x| x.matches(f.client.ip, f.server.ip, f.protocol, f.port))
            })
        };
        let mut held = BTreeSet::new();
        merged.retain(|_, d| {
            let weak = d.records < MIN_RECORDS && !d.fixes.iter().any(vouched);
            if weak {
                held.extend(d.fixes.iter().cloned());
            }
            !weak
        });
        held
    };
    drop(by_id);
    for d in merged.values_mut() {
        d.fixes.retain(|id| !held.contains(id));
    }
    merged.retain(|_, d| !d.fixes.is_empty());

    let mut drafts: Vec<Draft> = merged.into_values().collect();
    let mut warnings: Vec<Vec<String>> = vec![Vec::new(); drafts.len()];

    // NACL rule numbers.
    let mut used: BTreeMap<(String, bool), BTreeSet<u16>> = BTreeMap::new();
    for (i, d) in drafts.iter_mut().enumerate() {
        if let RuleChange::NaclEntry { acl_id, entry, before_rule, .. } = &mut d.change {
            let existing = ctx.eval.nacl_entries(acl_id, entry.egress);
            let taken = used
                .entry((acl_id.clone(), entry.egress))
                .or_insert_with(|| existing.iter().map(|e| e.rule_number).collect());
            *before_rule = d.deny_number;
            match pick_rule_number(existing, taken, entry, d.deny_number) {
                Some(n) => {
                    entry.rule_number = n;
                    taken.insert(n);
                }
                None => warnings[i].push(format!(
                    "no free rule number before #{} in {acl_id}: renumber the ACL before adding this entry",
                    d.deny_number
                )),
            }
            if d.deny_number != NACL_DEFAULT_RULE_NUMBER {
                let deny = existing.iter().find(|e| e.rule_number == d.deny_number);
                warnings[i].push(format!(
                    "goes before the explicit DENY {}: if that entry is not intentional, deleting it is the cleaner fix",
                    deny.map_or_else(|| format!("#{}", d.deny_number), crate::eval::nacl_entry_label)
                ));
            }
        }
    }

    // Quotas.
    let mut new_per: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for d in &drafts {
        let key = match &d.change {
            RuleChange::SgRule { group_id, egress, .. } => (group_id.clone(), *egress),
            RuleChange::NaclEntry { acl_id, entry, .. } => (acl_id.clone(), entry.egress),
        };
        *new_per.entry(key).or_default() += 1;
    }
    let mut over = vec![false; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        let (key, existing, quota) = match &d.change {
            RuleChange::SgRule { group_id, egress, .. } => {
                let existing = inv.security_groups.get(group_id).map_or(0, |g| {
                    let rules = if *egress { &g.egress } else { &g.ingress };
                    rules
                        .iter()
                        .map(|r| match &r.peer {
                            SgPeer::PrefixList(p) => inv
                                .prefix_lists
                                .get(p)
                                .and_then(|pl| pl.max_entries)
                                .map_or(1, |m| usize::try_from(m).unwrap_or(usize::MAX)),
                            _ => 1,
                        })
                        .sum()
                });
                ((group_id.clone(), *egress), existing, SG_RULES_QUOTA)
            }
            RuleChange::NaclEntry { acl_id, entry, .. } => {
                let existing = ctx
                    .eval
                    .nacl_entries(acl_id, entry.egress)
                    .iter()
                    .filter(|e| {
                        e.rule_number != NACL_DEFAULT_RULE_NUMBER
                            && e.cidr.addr().is_ipv4() == entry.cidr.addr().is_ipv4()
                    })
                    .count();
                ((acl_id.clone(), entry.egress), existing, NACL_ENTRIES_QUOTA)
            }
        };
        let added = new_per[&key];
        if existing + added > quota {
            over[i] = true;
            warnings[i].push(format!(
                "{} {} would hold {} rules with the {added} proposed, over the quota of {quota}",
                key.0,
                if key.1 { "outbound" } else { "inbound" },
                existing + added
            ));
        }
    }

    // Stable order and ids.
    let mut order: Vec<usize> = (0..drafts.len()).collect();
    order.sort_by(|a, b| drafts[*a].change.cmp(&drafts[*b].change));
    let mut proposals = Vec::with_capacity(drafts.len());
    for (n, i) in order.into_iter().enumerate() {
        let d = &drafts[i];
        debug_assert!(is_narrow(&d.change), "a proposal must never open everything: {:?}", d.change);
        if !is_narrow(&d.change) {
            continue;
        }
        proposals.push(Proposal {
            id: format!("P{:03}", n + 1),
            change: d.change.clone(),
            fixes: d.fixes.iter().cloned().collect(),
            warnings: std::mem::take(&mut warnings[i]),
            over_quota: over[i],
        });
    }
    let mut fixed_by: HashMap<&str, Vec<String>> = HashMap::new();
    for p in &proposals {
        for id in &p.fixes {
            fixed_by.entry(id.as_str()).or_default().push(p.id.clone());
        }
    }
    for f in findings.iter_mut() {
        f.proposals = fixed_by.remove(f.id.as_str()).unwrap_or_default();
        f.held_back = held.contains(&f.id).then_some(HeldBack::SingleAttempt);
    }
    proposals
}

/// Never `0.0.0.0/0`, `::/0`, all ports or protocol `-1`, never a peer wider than the widest
/// on-premises network (`/8`, IPv6 `/32`), whatever the wave's configuration.
pub fn is_narrow(c: &RuleChange) -> bool {
    let (protocol, ports, net) = match c {
        RuleChange::SgRule { rule, .. } => (
            rule.protocol,
            rule.ports,
            match &rule.peer {
                SgPeer::Cidr(n) => Some(*n),
                _ => None,
            },
        ),
        RuleChange::NaclEntry { entry, .. } => (entry.protocol, entry.ports, Some(entry.cidr)),
    };
    let all_ports = match ports {
        PortMatch::Ports(r) => r.from == 0 && r.to == 65535,
        PortMatch::Any => protocol.has_ports(),
        PortMatch::Icmp(_) => false,
    };
    protocol != Protocol::All && !all_ports && net.is_none_or(crate::wave::is_sane_on_premises)
}

/// The inventory with the proposals applied (to re-evaluate, or to check a fix).
pub fn apply(inv: &Inventory, proposals: &[Proposal]) -> Inventory {
    let mut out = inv.clone();
    for p in proposals {
        match &p.change {
            RuleChange::SgRule { group_id, egress, rule, .. } => {
                if let Some(g) = out.security_groups.get_mut(group_id) {
                    if *egress {
                        g.egress.push(rule.clone());
                    } else {
                        g.ingress.push(rule.clone());
                    }
                }
            }
            RuleChange::NaclEntry { acl_id, entry, .. } => {
                if let Some(acl) = out.nacls.get_mut(acl_id) {
                    acl.entries.push(entry.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tests::{Role, agg, run, wave};
    use crate::eval::tests::{nacl, world};
    use crate::eval::{Evaluator, FlowSpec};
    use crate::findings::Analysis;
    use crate::flow::FlowAggregate;
    use crate::flowlog::Action;

    use Action::Reject as REJ;
    use Role::{Request as RQ, Response as RS};

    fn sg(group: &str, egress: bool, protocol: u8, port: u16, peer: SgPeer) -> RuleChange {
        RuleChange::SgRule {
            group_id: group.into(),
            group_name: Some(group.into()),
            egress,
            rule: SgRule {
                id: None,
                protocol: Protocol::Number(protocol),
                ports: service_ports(protocol, port),
                peer,
                description: Some(format!("wavegap wave-test: {}", service_label(protocol, port))),
            },
        }
    }

    fn cidr(s: &str) -> SgPeer {
        SgPeer::Cidr(s.parse().unwrap())
    }

    fn grp(s: &str) -> SgPeer {
        crate::eval::tests::group(s)
    }

    /// Runs the analysis and checks the proposed changes, in order.
    fn check(inv: &Inventory, aggs: Vec<FlowAggregate>, expected: &[RuleChange]) -> Analysis {
        let a = run(inv, &wave(), aggs);
        let got: Vec<&RuleChange> = a.proposals.iter().map(|p| &p.change).collect();
        assert_eq!(got, expected.iter().collect::<Vec<_>>(), "{:#?}", a.proposals);
        // every linked finding passes once the proposals are applied
        let fixed = apply(inv, &a.proposals);
        let ev = Evaluator::new(&fixed);
        for f in &a.rejected {
            let spec = FlowSpec {
                src: f.client.ip,
                dst: f.server.ip,
                protocol: f.protocol,
                port: f.port,
                client_ports: crate::analyze::ephemeral_range(
                    wave().server_by_ip(f.client.ip).and_then(|s| s.os),
                    crate::wave::EphemeralPolicy::default(),
                ),
            };
            assert!(f.proposals.is_empty() || ev.evaluate(&spec).passes(), "{}", ev.evaluate(&spec).render());
        }
        a
    }

    fn nacl_change(acl: &str, entry: NaclEntry, before: u16, ret: bool) -> RuleChange {
        RuleChange::NaclEntry { acl_id: acl.into(), entry, before_rule: before, return_traffic: ret }
    }

    #[test]
    fn sg_reference_is_proposed_within_one_vpc() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().ingress.clear();
        // the app ENI carries sg-app and sg-base: the reference names the most specific one
        check(
            &inv,
            vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db")],
            &[sg("sg-db", false, 6, 1433, grp("sg-app"))],
        );
    }

    #[test]
    fn sg_reference_is_proposed_across_a_peering() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-b").unwrap().ingress.clear();
        check(
            &inv,
            vec![agg("10.0.0.7", "10.1.0.5", 6, 5432, RQ, REJ, "eni-b")],
            &[sg("sg-b", false, 6, 5432, grp("sg-app"))],
        );
    }

    #[test]
    fn aws_peer_in_an_unpeered_vpc_gets_a_host_cidr() {
        let mut inv = world();
        inv.peerings.clear();
        check(
            &inv,
            vec![agg("10.0.0.7", "10.1.0.5", 6, 5432, RQ, REJ, "eni-b")],
            &[sg("sg-b", false, 6, 5432, cidr("10.0.0.7/32"))],
        );
    }

    #[test]
    fn on_premises_clients_merge_into_the_narrowest_configured_cidr() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-web").unwrap().ingress.clear();
        let a = check(
            &inv,
            vec![
                agg("192.168.1.10", "10.0.0.6", 6, 443, RQ, REJ, "eni-web"),
                agg("192.168.7.33", "10.0.0.6", 6, 443, RQ, REJ, "eni-web"),
                agg("192.168.9.9", "10.0.0.6", 6, 443, RQ, REJ, "eni-web"),
                agg("192.168.40.1", "10.0.0.6", 6, 443, RQ, REJ, "eni-web"),
                agg("192.168.20.7", "10.0.0.6", 6, 443, RQ, REJ, "eni-web"),
                agg("172.20.1.1", "10.0.0.6", 6, 443, RQ, REJ, "eni-web"),
            ],
            // 192.168.20.0/24 is configured too, but the /16 rule already covers its client;
            // 172.20.1.1 is one host, not a population: its own /32, not 172.16.0.0/12
            &[sg("sg-web", false, 6, 443, cidr("172.20.1.1/32")), sg("sg-web", false, 6, 443, cidr("192.168.0.0/16"))],
        );
        assert_eq!(a.proposals[1].fixes.len(), 5, "one rule for the five 192.168 clients");
    }

    #[test]
    fn no_peer_is_wider_than_an_on_premises_network_can_be() {
        // A wave built around the loader's check: half the internet as "on premises". The
        // clients get a /32 each, never 128.0.0.0/1.
        let mut inv = world();
        inv.security_groups.get_mut("sg-web").unwrap().ingress.clear();
        let mut w = wave();
        w.networks.on_premises = vec!["0.0.0.0/1".parse().unwrap(), "128.0.0.0/1".parse().unwrap()];
        let clients = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "203.0.113.9"];
        let a = run(&inv, &w, clients.iter().map(|c| agg(c, "10.0.0.6", 6, 22, RQ, REJ, "eni-web")).collect());
        assert!(!a.proposals.is_empty());
        for p in &a.proposals {
            assert!(is_narrow(&p.change), "{:?}", p.change);
            assert_eq!(peer_net(&p.change).map(|n| n.prefix_len()), Some(32), "{:?}", p.change);
        }
        assert!(!is_narrow(&with_peer(&a.proposals[0].change, "128.0.0.0/1".parse().unwrap())));
    }

    fn once(mut a: FlowAggregate) -> FlowAggregate {
        a.records = 1;
        a
    }

    #[test]
    fn a_single_connection_attempt_is_held_back_not_proposed() {
        // 10.99.0.75 is inside the internal networks but no known host: one record in the
        // whole window, never retried. A /32 rule for it would be a rule for a stray.
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().ingress.clear();
        let a = run(&inv, &wave(), vec![once(agg("10.99.0.75", "10.0.20.8", 6, 22, RQ, REJ, "eni-db"))]);
        assert!(a.proposals.is_empty(), "{:#?}", a.proposals);
        assert_eq!(a.rejected[0].held_back, Some(HeldBack::SingleAttempt));
        assert!(a.rejected[0].is_open() && !a.rejected[0].needs_change());
        assert_eq!(a.summary.rejected_single_attempts, 1);
    }

    #[test]
    fn single_attempts_that_share_a_change_are_evidence_together() {
        // Four on-premises clients, one record each: together a population that asks for one
        // network rule.
        let mut inv = world();
        inv.security_groups.get_mut("sg-web").unwrap().ingress.clear();
        let clients = ["192.168.1.10", "192.168.7.33", "192.168.9.1", "192.168.40.2"];
        let a = check(
            &inv,
            clients.iter().map(|c| once(agg(c, "10.0.0.6", 6, 443, RQ, REJ, "eni-web"))).collect(),
            &[sg("sg-web", false, 6, 443, cidr("192.168.0.0/16"))],
        );
        assert!(a.rejected.iter().all(|f| f.held_back.is_none() && f.proposals == ["P001"]));
        // Two of them are two hosts: a /32 each. On-premises networks are the wave's own, so
        // one record from them is a client, not a stray.
        check(
            &inv,
            clients[..2].iter().map(|c| once(agg(c, "10.0.0.6", 6, 443, RQ, REJ, "eni-web"))).collect(),
            &[
                sg("sg-web", false, 6, 443, cidr("192.168.1.10/32")),
                sg("sg-web", false, 6, 443, cidr("192.168.7.33/32")),
            ],
        );
    }

    #[test]
    fn a_single_record_between_servers_of_the_wave_is_proposed() {
        // A SQL Browser lookup from the app server, once in the window: both ends are the
        // wave's, so it is a dependency, not a stray.
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().ingress.clear();
        let a = run(&inv, &wave(), vec![once(agg("10.0.0.7", "10.0.20.8", 17, 1434, RQ, REJ, "eni-db"))]);
        assert_eq!(a.proposals.len(), 1, "{:#?}", a.rejected);
        assert!(a.rejected[0].held_back.is_none());
    }

    #[test]
    fn a_single_attempt_the_wave_expects_is_proposed() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().ingress.clear();
        let mut w = wave();
        w.expected_flows.push(crate::wave::ExpectedFlow {
            src: crate::wave::Endpoint::Network("10.99.0.0/16".parse().unwrap()),
            dst: crate::wave::Endpoint::Server("db01".into()),
            protocol: 6,
            port: 22,
        });
        let a = run(&inv, &w, vec![once(agg("10.99.0.75", "10.0.20.8", 6, 22, RQ, REJ, "eni-db"))]);
        assert_eq!(a.proposals.len(), 1);
        assert_eq!(
            (a.rejected[0].held_back, a.rejected[0].proposals.as_slice()),
            (None, ["P001".to_owned()].as_slice())
        );
    }

    #[test]
    fn on_premises_server_gets_a_host_cidr_not_its_network() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-app").unwrap().egress.clear();
        check(
            &inv,
            vec![agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, REJ, "eni-app")],
            &[sg("sg-app", true, 6, 1433, cidr("192.168.50.20/32"))],
        );
    }

    #[test]
    fn nacl_entry_goes_before_the_first_matching_deny() {
        let mut inv = world();
        inv.nacls.get_mut("acl-db").unwrap().entries.push(nacl(
            89,
            false,
            "tcp",
            Some((1433, 1433)),
            "10.0.0.0/24",
            false,
        ));
        let a = check(
            &inv,
            vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db")],
            &[nacl_change("acl-db", nacl(80, false, "tcp", Some((1433, 1433)), "10.0.0.7/32", true), 89, false)],
        );
        assert!(a.proposals[0].warnings[0].contains("explicit DENY #89 deny tcp 1433 from 10.0.0.0/24"));
    }

    #[test]
    fn nacl_entry_never_preempts_an_overlapping_earlier_entry() {
        let mut inv = world();
        let acl = inv.nacls.get_mut("acl-web").unwrap();
        acl.entries.push(nacl(85, false, "tcp", Some((443, 443)), "192.168.200.0/24", false));
        acl.entries.push(nacl(89, false, "tcp", Some((443, 443)), "192.168.0.0/16", false));
        let clients = ["192.168.1.10", "192.168.1.11", "192.168.1.12", "192.168.1.13"];
        check(
            &inv,
            clients.iter().map(|c| agg(c, "10.0.0.6", 6, 443, RQ, REJ, "eni-web")).collect(),
            &[nacl_change("acl-web", nacl(88, false, "tcp", Some((443, 443)), "192.168.0.0/16", true), 89, false)],
        );
    }

    #[test]
    fn nacl_entry_follows_the_last_entry_when_only_the_star_denies() {
        let mut inv = world();
        let acl = inv.nacls.get_mut("acl-db").unwrap();
        acl.entries.retain(|e| e.egress);
        acl.entries.push(nacl(100, false, "tcp", Some((5432, 5432)), "10.0.0.0/16", true));
        let a = check(
            &inv,
            vec![agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db")],
            &[nacl_change("acl-db", nacl(110, false, "tcp", Some((1433, 1433)), "10.0.0.7/32", true), 32767, false)],
        );
        assert!(a.proposals[0].warnings.is_empty());
    }

    #[test]
    fn return_entry_uses_the_client_os_ephemeral_range() {
        let mut inv = world();
        inv.nacls.get_mut("acl-db").unwrap().entries.retain(|e| !e.egress);
        let web = crate::eval::tests::sg_rule("tcp", Some((1433, 1433)), grp("sg-web"));
        inv.security_groups.get_mut("sg-db").unwrap().ingress.push(web);
        // web01 is Windows, app01 Linux
        check(
            &inv,
            vec![
                agg("10.0.20.8", "10.0.0.6", 6, 1433, RS, REJ, "eni-db"),
                agg("10.0.20.8", "10.0.0.7", 6, 1433, RS, REJ, "eni-db"),
            ],
            &[
                nacl_change("acl-db", nacl(10, true, "tcp", Some((32768, 61000)), "10.0.0.7/32", true), 32767, true),
                nacl_change("acl-db", nacl(20, true, "tcp", Some((49152, 65535)), "10.0.0.6/32", true), 32767, true),
            ],
        );
    }

    #[test]
    fn request_fix_includes_the_missing_return_range() {
        let mut inv = world();
        let acl = inv.nacls.get_mut("acl-db").unwrap();
        acl.entries.clear();
        acl.entries.push(nacl(100, false, "tcp", Some((1433, 1433)), "10.0.0.0/24", true));
        // the request passes the NACL inbound, but the NACL outbound denies everything
        check(
            &inv,
            vec![agg("10.0.20.8", "10.0.0.7", 6, 1433, RS, REJ, "eni-db")],
            &[nacl_change("acl-db", nacl(10, true, "tcp", Some((32768, 61000)), "10.0.0.7/32", true), 32767, true)],
        );
    }

    #[test]
    fn the_same_change_is_proposed_once_and_links_every_finding() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().ingress.clear();
        let mut app2 = inv.enis["eni-app"].clone();
        app2.id = "eni-app2".into();
        app2.private_ips = vec!["10.0.0.9".parse().unwrap()];
        inv.enis.insert(app2.id.clone(), app2);
        let a = check(
            &inv,
            vec![
                agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db"),
                agg("10.0.0.9", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db"),
            ],
            &[sg("sg-db", false, 6, 1433, grp("sg-app"))],
        );
        assert_eq!(a.proposals[0].fixes.len(), 2);
        assert!(a.rejected.iter().all(|f| f.proposals == ["P001"]));
    }

    #[test]
    fn quota_overrun_is_flagged() {
        let mut inv = world();
        inv.peerings.clear();
        let g = inv.security_groups.get_mut("sg-b").unwrap();
        g.ingress = (0..59)
            .map(|i| crate::eval::tests::sg_rule("tcp", Some((1000 + i, 1000 + i)), cidr("10.9.9.9/32")))
            .collect();
        let a = run(
            &inv,
            &wave(),
            vec![
                agg("10.0.0.7", "10.1.0.5", 6, 5432, RQ, REJ, "eni-b"),
                agg("10.0.0.6", "10.1.0.5", 6, 5432, RQ, REJ, "eni-b"),
            ],
        );
        assert_eq!(a.proposals.len(), 2);
        assert!(a.proposals.iter().all(|p| p.over_quota && p.warnings[0].contains("61 rules")));
        assert_eq!(a.summary.proposals_over_quota, 2);
    }

    #[test]
    fn never_proposes_open_cidrs_all_ports_or_all_protocols() {
        let mut inv = world();
        inv.nacls.get_mut("acl-db").unwrap().entries.retain(|e| !e.egress);
        inv.security_groups.get_mut("sg-web").unwrap().ingress.clear();
        let mut w = wave();
        w.ephemeral = crate::wave::EphemeralPolicy { from: 0, to: 65535 };
        w.networks.on_premises = vec!["0.0.0.0/0".parse().unwrap()];
        w.apps[0].servers.retain(|s| s.name != "app01");
        w.apps[0].servers.push(crate::wave::Server {
            name: "app01".into(),
            app: "app001".into(),
            ip: "10.0.0.7".parse().unwrap(),
            ips: Vec::new(),
            instance_id: None,
            role: None,
            os: None,
            on_premises: false,
            account: None,
        });
        let a = run(
            &inv,
            &w,
            vec![
                agg("10.0.20.8", "10.0.0.7", 6, 1433, RS, REJ, "eni-db"),
                agg("192.168.1.1", "10.0.0.6", 6, 443, RQ, REJ, "eni-web"),
            ],
        );
        let changes: Vec<&RuleChange> = a.proposals.iter().map(|p| &p.change).collect();
        assert_eq!(
            changes,
            [
                &sg("sg-web", false, 6, 443, cidr("192.168.1.1/32")),
                &nacl_change("acl-db", nacl(10, true, "tcp", Some((1024, 65535)), "10.0.0.7/32", true), 32767, true),
            ]
        );
        assert!(a.proposals.iter().all(|p| is_narrow(&p.change)));
        assert!(!is_narrow(&sg("sg-web", false, 6, 443, cidr("0.0.0.0/0"))));
        assert!(!is_narrow(&nacl_change("acl-db", nacl(10, true, "-1", None, "10.0.0.7/32", true), 32767, false)));
        assert!(!is_narrow(&nacl_change(
            "acl-db",
            nacl(10, true, "tcp", Some((0, 65535)), "10.0.0.7/32", true),
            32767,
            false
        )));
    }

    mod property {
        use proptest::prelude::*;

        use super::*;
        use crate::eval::Outcome;
        use crate::flowlog::Action;

        const IPS: [&str; 7] =
            ["10.0.0.6", "10.0.0.7", "10.0.20.8", "10.1.0.5", "192.168.1.10", "192.168.20.7", "172.16.5.5"];
        const SERVICES: [(u8, u16); 6] = [(6, 443), (6, 8443), (6, 1433), (6, 5432), (1, 0), (17, 53)];
        const ACLS: [&str; 3] = ["acl-web", "acl-db", "acl-b"];
        const DENY_CIDRS: [&str; 4] = ["10.0.0.0/24", "10.0.20.0/24", "192.168.0.0/16", "10.0.0.7/32"];
        const DENY_PORTS: [(u16, u16); 4] = [(443, 443), (1433, 1433), (49152, 65535), (1024, 65535)];

        fn rules(inv: &Inventory) -> Vec<(String, bool, usize)> {
            let mut v = Vec::new();
            for g in inv.security_groups.values() {
                v.extend((0..g.ingress.len()).map(|i| (g.id.clone(), false, i)));
                v.extend((0..g.egress.len()).map(|i| (g.id.clone(), true, i)));
            }
            v
        }

        fn spec(src: &str, dst: &str, s: (u8, u16)) -> FlowSpec {
            let w = wave();
            let src = src.parse().unwrap();
            FlowSpec {
                src,
                dst: dst.parse().unwrap(),
                protocol: s.0,
                port: s.1,
                client_ports: crate::analyze::ephemeral_range(
                    w.server_by_ip(src).and_then(|s| s.os),
                    crate::wave::EphemeralPolicy::default(),
                ),
            }
        }

        /// The aggregate a rejected flow leaves: the first denying hop's ENI logs it.
        fn observed(ev: &crate::eval::PathEvaluation) -> Option<FlowAggregate> {
            let h = ev.denying_hops().next()?;
            let f = ev.flow;
            let (src, dst, role, eni) = match h.hop {
                Hop::SourceSgEgress | Hop::SourceNaclOutbound => (f.src, f.dst, RQ, ev.src_eni.clone()?),
                Hop::DestinationNaclInbound | Hop::DestinationSgIngress => (f.src, f.dst, RQ, ev.dst_eni.clone()?),
                Hop::ReturnDestinationNaclOutbound => (f.dst, f.src, RS, ev.dst_eni.clone()?),
                Hop::ReturnSourceNaclInbound => (f.dst, f.src, RS, ev.src_eni.clone()?),
            };
            let role = if f.protocol == 1 { Role::Unknown } else { role };
            Some(agg(&src.to_string(), &dst.to_string(), f.protocol, f.port, role, Action::Reject, &eni))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            /// Applying the proposals makes every linked finding pass, keeps every passing flow
            /// passing, and opens nothing the intended configuration keeps closed.
            #[test]
            fn proposals_fix_their_findings_and_open_nothing_else(
                removed in proptest::collection::vec(any::<bool>(), 9),
                denies in proptest::collection::vec((0..3usize, any::<bool>(), 0..4usize, 0..4usize, 1..99u16), 0..4),
            ) {
                let correct = world();
                let mut broken = correct.clone();
                let all = rules(&correct);
                for ((gid, egress, i), drop) in all.iter().zip(&removed).rev() {
                    if *drop {
                        let g = broken.security_groups.get_mut(gid).unwrap();
                        if *egress { g.egress.remove(*i); } else { g.ingress.remove(*i); }
                    }
                }
                for (acl, egress, c, p, n) in &denies {
                    let (from, to) = DENY_PORTS[*p];
                    broken.nacls.get_mut(ACLS[*acl]).unwrap().entries.push(nacl(*n, *egress, "tcp", Some((from, to)), DENY_CIDRS[*c], false));
                }
                let good = Evaluator::new(&correct);
                let bad = Evaluator::new(&broken);
                let mut probes = Vec::new();
                for src in IPS {
                    for dst in IPS {
                        if src != dst {
                            for s in SERVICES {
                                probes.push(spec(src, dst, s));
                            }
                        }
                    }
                }
                // what the wave's traffic shows: the intended flows the broken config drops
                let aggs: Vec<FlowAggregate> = probes
                    .iter()
                    .filter(|p| good.evaluate(p).passes())
                    .filter_map(|p| observed(&bad.evaluate(p)))
                    .collect();
                let a = run(&broken, &wave(), aggs);
                let fixed_inv = apply(&broken, &a.proposals);
                let fixed = Evaluator::new(&fixed_inv);
                for f in a.rejected.iter().filter(|f| !f.proposals.is_empty()) {
                    let ev = fixed.evaluate(&spec(&f.client.ip.to_string(), &f.server.ip.to_string(), (f.protocol, f.port)));
                    prop_assert!(ev.passes(), "{} still fails:\n{}", f.id, ev.render());
                }
                for p in &probes {
                    let before = bad.evaluate(p);
                    let after = fixed.evaluate(p);
                    for (b, x) in before.hops.iter().zip(&after.hops) {
                        prop_assert!(!(b.outcome == Outcome::Allow && x.outcome.denies()), "{:?} closed at {:?}", p, b.hop);
                    }
                    if !good.evaluate(p).passes() {
                        prop_assert!(!after.passes(), "opened a flow the intended config denies:\n{}", after.render());
                    }
                }
            }
        }
    }
}
