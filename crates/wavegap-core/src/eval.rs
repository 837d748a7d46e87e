//! Security group and network ACL evaluation: what each hop of a flow's path decides, and why.
//!
//! The model follows AWS (docs/domain.md §4): security groups are allow-only, the union of an ENI's
//! groups, stateful (a response is never checked against an SG); network ACLs are per subnet,
//! lowest rule number first, first match wins, end with the `*` DENY (added here when the
//! inventory lacks it), are stateless (the response is checked again, towards the client's
//! ephemeral port) and only apply when the two ends sit in different subnets.
//!
//! A flow is evaluated on its whole path, not up to the first drop: a fix must open every hop,
//! and a report must name every layer that drops it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::findings::Hop;
use crate::inventory::{
    Eni, Inventory, NACL_DEFAULT_RULE_NUMBER, NaclEntry, NetworkAcl, PortMatch, PortRange, Protocol, RuleAction,
    SecurityGroup, SgPeer, SgRule, proto,
};

/// A conversation to evaluate: the client, the server, the service, and the ports the client
/// may answer on (its ephemeral range) for the return path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FlowSpec {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    /// The service port; 0 for protocols without ports.
    pub port: u16,
    /// The client's ephemeral ports, where the response goes (TCP and UDP only).
    pub client_ports: PortRange,
}

/// What one hop decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Allow,
    Deny,
    /// A return-path NACL denies part of the client's ephemeral range.
    PartialDeny,
    /// The hop does not apply (same subnet, an end outside the inventory, a stateful SG on
    /// the return path).
    NotApplicable,
    /// The hop applies but the inventory lacks what it needs (a subnet without its NACL).
    Unknown,
}

impl Outcome {
    pub fn denies(self) -> bool {
        matches!(self, Outcome::Deny | Outcome::PartialDeny)
    }
}

/// The verdict of one hop with the rule(s) that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HopVerdict {
    pub hop: Hop,
    pub outcome: Outcome,
    /// The security groups (comma-separated) or the network ACL checked.
    pub resource: Option<String>,
    /// Human-readable: the allowing SG rule, the NACL entries that decided each port range,
    /// or why nothing matched.
    pub decided_by: Vec<String>,
    /// For NACL hops: the number of the first entry that denies (32767 for `*`).
    pub deny_rule_number: Option<u16>,
    /// For NACL hops that deny: the denied port ranges (all of the checked range for a
    /// request, the denied parts of the ephemeral range for a return).
    pub denied_ports: Vec<PortRange>,
}

/// A flow evaluated over its whole path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathEvaluation {
    pub flow: FlowSpec,
    pub src_eni: Option<String>,
    pub dst_eni: Option<String>,
    pub same_subnet: bool,
    /// All six hops, in path order.
    pub hops: Vec<HopVerdict>,
}

impl PathEvaluation {
    pub fn hop(&self, hop: Hop) -> &HopVerdict {
        self.hops.iter().find(|h| h.hop == hop).expect("every hop is evaluated")
    }

    /// Whether the request reaches the server.
    pub fn request_passes(&self) -> bool {
        self.hops.iter().filter(|h| !h.hop.is_return()).all(|h| !h.outcome.denies())
    }

    /// Whether the response reaches the client (on every ephemeral port).
    pub fn response_passes(&self) -> bool {
        self.hops.iter().filter(|h| h.hop.is_return()).all(|h| !h.outcome.denies())
    }

    pub fn passes(&self) -> bool {
        self.hops.iter().all(|h| !h.outcome.denies())
    }

    /// The hops that drop the flow, in path order.
    pub fn denying_hops(&self) -> impl Iterator<Item = &HopVerdict> {
        self.hops.iter().filter(|h| h.outcome.denies())
    }

    /// A Reachability-Analyzer-style answer, one line per hop.
    pub fn render(&self) -> String {
        let f = &self.flow;
        let mut out = String::new();
        let ports = if matches!(f.protocol, proto::TCP | proto::UDP) {
            format!(" (client ephemeral ports {}-{})", f.client_ports.from, f.client_ports.to)
        } else {
            String::new()
        };
        let _ = writeln!(out, "{} -> {} {}{ports}", f.src, f.dst, service_label(f.protocol, f.port));
        let _ = writeln!(
            out,
            "  source ENI: {}   destination ENI: {}{}",
            self.src_eni.as_deref().unwrap_or("none (outside the inventory)"),
            self.dst_eni.as_deref().unwrap_or("none (outside the inventory)"),
            if self.same_subnet { "   (same subnet: NACLs not evaluated)" } else { "" }
        );
        for (i, h) in self.hops.iter().enumerate() {
            let mark = match h.outcome {
                Outcome::Allow => "ALLOW",
                Outcome::Deny => "DENY",
                Outcome::PartialDeny => "PARTIAL DENY",
                Outcome::NotApplicable => "n/a",
                Outcome::Unknown => "UNKNOWN",
            };
            let res = h.resource.as_deref().map(|r| format!(" [{r}]")).unwrap_or_default();
            let line = format!("  {}. {:<42} {:<12}{}", i + 1, h.hop.label(), mark, res);
            let _ = writeln!(out, "{}", line.trim_end());
            for d in &h.decided_by {
                let _ = writeln!(out, "       {d}");
            }
        }
        let verdict = match (self.request_passes(), self.response_passes()) {
            (true, true) => "REACHABLE: the request and its response pass".to_owned(),
            (false, _) => format!(
                "NOT REACHABLE: the request is dropped at {}",
                self.denying_hops()
                    .filter(|h| !h.hop.is_return())
                    .map(|h| h.hop.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (true, false) => format!(
                "NOT REACHABLE: the request passes but the response is dropped at {}",
                self.denying_hops().map(|h| h.hop.label()).collect::<Vec<_>>().join(", ")
            ),
        };
        let _ = writeln!(out, "  => {verdict}");
        out
    }
}

/// `tcp/443`, `udp/53`, `icmp`, `proto-50`.
pub fn service_label(protocol: u8, port: u16) -> String {
    match protocol {
        proto::TCP => format!("tcp/{port}"),
        proto::UDP => format!("udp/{port}"),
        proto::ICMP => "icmp".to_owned(),
        proto::ICMPV6 => "icmpv6".to_owned(),
        n => format!("proto-{n}"),
    }
}

pub fn protocol_label(p: Protocol) -> String {
    match p {
        Protocol::All => "all".to_owned(),
        Protocol::Number(proto::TCP) => "tcp".to_owned(),
        Protocol::Number(proto::UDP) => "udp".to_owned(),
        Protocol::Number(proto::ICMP) => "icmp".to_owned(),
        Protocol::Number(proto::ICMPV6) => "icmpv6".to_owned(),
        Protocol::Number(n) => n.to_string(),
    }
}

fn ports_label(p: PortMatch) -> String {
    match p {
        PortMatch::Any => String::new(),
        PortMatch::Ports(r) if r.from == r.to => format!(" {}", r.from),
        PortMatch::Ports(r) => format!(" {}-{}", r.from, r.to),
        PortMatch::Icmp(m) => match (m.icmp_type, m.code) {
            (None, _) => String::new(),
            (Some(t), None) => format!(" type {t}"),
            (Some(t), Some(c)) => format!(" type {t} code {c}"),
        },
    }
}

/// `allow tcp 1433 from sg-0abc` — how an SG rule reads in a report.
pub fn sg_rule_label(rule: &SgRule, egress: bool) -> String {
    let peer = match &rule.peer {
        SgPeer::Cidr(c) => c.to_string(),
        SgPeer::PrefixList(p) => p.clone(),
        SgPeer::Group { group_id, .. } => group_id.clone(),
    };
    let id = rule.id.as_deref().map(|i| format!(" [{i}]")).unwrap_or_default();
    format!(
        "allow {}{} {} {peer}{id}",
        protocol_label(rule.protocol),
        ports_label(rule.ports),
        if egress { "to" } else { "from" }
    )
}

/// `#89 deny tcp 49152-65535 10.250.0.0/16` — how a NACL entry reads in a report.
pub fn nacl_entry_label(e: &NaclEntry) -> String {
    let number = if e.rule_number == NACL_DEFAULT_RULE_NUMBER { "*".to_owned() } else { e.rule_number.to_string() };
    let action = e.action.as_str();
    format!(
        "#{number} {action} {}{} {} {}",
        protocol_label(e.protocol),
        ports_label(e.ports),
        if e.egress { "to" } else { "from" },
        e.cidr
    )
}

/// Whether a rule's port match covers `port` of `protocol`. Protocols without ports match any
/// port match; ICMP type/code is unknown in flow logs, so an ICMP match always applies.
fn port_match_contains(ports: PortMatch, protocol: u8, port: u16) -> bool {
    match ports {
        PortMatch::Any | PortMatch::Icmp(_) => true,
        PortMatch::Ports(r) => !matches!(protocol, proto::TCP | proto::UDP) || r.contains(port),
    }
}

/// The port range a NACL entry matches for a protocol, `None` when it does not match it.
fn nacl_entry_ports(e: &NaclEntry, protocol: u8) -> Option<PortRange> {
    if !e.protocol.matches(protocol) {
        return None;
    }
    match e.ports {
        PortMatch::Ports(r) if matches!(protocol, proto::TCP | proto::UDP) => Some(r),
        _ => Some(PortRange::ALL),
    }
}

/// Evaluates flows against one inventory. Build once, query many times.
#[derive(Debug)]
pub struct Evaluator<'a> {
    inv: &'a Inventory,
    eni_by_ip: FxHashMap<IpAddr, &'a Eni>,
    members: HashMap<&'a str, Vec<&'a Eni>>,
    nacl_by_subnet: HashMap<&'a str, &'a NetworkAcl>,
    /// Per NACL: (inbound, outbound) entries sorted by number, `*` DENY guaranteed.
    chains: HashMap<&'a str, (Vec<NaclEntry>, Vec<NaclEntry>)>,
}

impl<'a> Evaluator<'a> {
    pub fn new(inv: &'a Inventory) -> Self {
        let mut eni_by_ip = FxHashMap::default();
        let mut members: HashMap<&str, Vec<&Eni>> = HashMap::new();
        for eni in inv.enis.values() {
            for ip in &eni.private_ips {
                eni_by_ip.entry(*ip).or_insert(eni);
            }
            for g in &eni.security_groups {
                members.entry(g.as_str()).or_default().push(eni);
            }
        }
        let mut nacl_by_subnet = HashMap::new();
        let mut chains = HashMap::new();
        for acl in inv.nacls.values() {
            for s in &acl.subnet_ids {
                nacl_by_subnet.insert(s.as_str(), acl);
            }
            chains.insert(acl.id.as_str(), (nacl_chain(acl, false), nacl_chain(acl, true)));
        }
        Evaluator { inv, eni_by_ip, members, nacl_by_subnet, chains }
    }

    pub fn inventory(&self) -> &'a Inventory {
        self.inv
    }

    pub fn eni(&self, ip: IpAddr) -> Option<&'a Eni> {
        self.eni_by_ip.get(&ip).copied()
    }

    /// The ENIs that carry a security group.
    pub fn members(&self, group_id: &str) -> &[&'a Eni] {
        self.members.get(group_id).map_or(&[], Vec::as_slice)
    }

    pub fn nacl_for_subnet(&self, subnet_id: &str) -> Option<&'a NetworkAcl> {
        self.nacl_by_subnet.get(subnet_id).copied()
    }

    /// The entries of one direction of a NACL, sorted, ending with `*` DENY.
    pub fn nacl_entries(&self, acl_id: &str, egress: bool) -> &[NaclEntry] {
        self.chains.get(acl_id).map_or(&[], |(i, e)| if egress { e.as_slice() } else { i.as_slice() })
    }

    /// Whether an SG rule held by `holder` matches the peer address.
    pub fn sg_peer_matches(&self, peer: &SgPeer, holder: &Eni, ip: IpAddr) -> bool {
        match peer {
            SgPeer::Cidr(c) => c.contains(&ip),
            SgPeer::PrefixList(id) => {
                self.inv.prefix_lists.get(id).is_some_and(|pl| pl.entries.iter().any(|c| c.contains(&ip)))
            }
            SgPeer::Group { group_id, .. } => self.eni(ip).is_some_and(|peer_eni| {
                peer_eni.security_groups.iter().any(|g| g == group_id)
                    && self.inv.vpcs_connected(&holder.vpc_id, &peer_eni.vpc_id)
            }),
        }
    }

    /// The first rule of the ENI's groups that allows the flow, with its group.
    pub fn sg_allowing_rule(
        &self,
        eni: &'a Eni,
        egress: bool,
        protocol: u8,
        port: u16,
        peer: IpAddr,
    ) -> Option<(&'a SecurityGroup, &'a SgRule)> {
        for gid in &eni.security_groups {
            let Some(g) = self.inv.security_groups.get(gid) else { continue };
            let rules = if egress { &g.egress } else { &g.ingress };
            for r in rules {
                if r.protocol.matches(protocol)
                    && port_match_contains(r.ports, protocol, port)
                    && self.sg_peer_matches(&r.peer, eni, peer)
                {
                    return Some((g, r));
                }
            }
        }
        None
    }

    fn sg_hop(&self, hop: Hop, eni: &'a Eni, egress: bool, f: &FlowSpec, peer: IpAddr) -> HopVerdict {
        let resource = Some(eni.security_groups.join(","));
        let missing: Vec<&String> =
            eni.security_groups.iter().filter(|g| !self.inv.security_groups.contains_key(*g)).collect();
        match self.sg_allowing_rule(eni, egress, f.protocol, f.port, peer) {
            Some((g, r)) => HopVerdict {
                hop,
                outcome: Outcome::Allow,
                resource,
                decided_by: vec![format!("{} ({}): {}", g.id, g.name, sg_rule_label(r, egress))],
                deny_rule_number: None,
                denied_ports: Vec::new(),
            },
            None if !missing.is_empty() => HopVerdict {
                hop,
                outcome: Outcome::Unknown,
                resource,
                decided_by: vec![format!(
                    "security group(s) {} not in the inventory",
                    missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )],
                deny_rule_number: None,
                denied_ports: Vec::new(),
            },
            None => HopVerdict {
                hop,
                outcome: Outcome::Deny,
                resource,
                decided_by: vec![format!(
                    "no rule of {} allows {} {} {peer}",
                    if eni.security_groups.is_empty() {
                        "(no groups)".to_owned()
                    } else {
                        eni.security_groups.join(", ")
                    },
                    service_label(f.protocol, f.port),
                    if egress { "to" } else { "from" }
                )],
                deny_rule_number: None,
                denied_ports: Vec::new(),
            },
        }
    }

    /// First-match evaluation of one NACL direction over a port range: the range split into
    /// pieces, each with the entry that decides it.
    pub fn nacl_first_match(
        &self,
        acl_id: &str,
        egress: bool,
        protocol: u8,
        peer: IpAddr,
        range: PortRange,
    ) -> Vec<(PortRange, &NaclEntry)> {
        let mut open = vec![range];
        let mut out = Vec::new();
        for e in self.nacl_entries(acl_id, egress) {
            if open.is_empty() {
                break;
            }
            if !e.cidr.contains(&peer) {
                continue;
            }
            let Some(er) = nacl_entry_ports(e, protocol) else { continue };
            let mut rest = Vec::new();
            for r in open {
                let lo = r.from.max(er.from);
                let hi = r.to.min(er.to);
                if lo > hi {
                    rest.push(r);
                    continue;
                }
                out.push((PortRange { from: lo, to: hi }, e));
                if r.from < lo {
                    rest.push(PortRange { from: r.from, to: lo - 1 });
                }
                if hi < r.to {
                    rest.push(PortRange { from: hi + 1, to: r.to });
                }
            }
            open = rest;
        }
        out.sort_by_key(|(r, _)| *r);
        out
    }

    fn nacl_hop(
        &self,
        hop: Hop,
        subnet_id: &str,
        egress: bool,
        protocol: u8,
        peer: IpAddr,
        range: PortRange,
    ) -> HopVerdict {
        let Some(acl) = self.nacl_for_subnet(subnet_id) else {
            return HopVerdict {
                hop,
                outcome: Outcome::Unknown,
                resource: None,
                decided_by: vec![format!("no network ACL for {subnet_id} in the inventory")],
                deny_rule_number: None,
                denied_ports: Vec::new(),
            };
        };
        let pieces = self.nacl_first_match(&acl.id, egress, protocol, peer, range);
        let denied: Vec<PortRange> =
            pieces.iter().filter(|(_, e)| e.action == RuleAction::Deny).map(|(r, _)| *r).collect();
        let deny_rule_number =
            pieces.iter().filter(|(_, e)| e.action == RuleAction::Deny).map(|(_, e)| e.rule_number).min();
        let outcome = if denied.is_empty() {
            Outcome::Allow
        } else if denied.len() == pieces.len() {
            Outcome::Deny
        } else {
            Outcome::PartialDeny
        };
        let ported = matches!(protocol, proto::TCP | proto::UDP) && range != PortRange::single(range.from);
        let decided_by = pieces
            .iter()
            .map(|(r, e)| {
                if ported { format!("ports {}-{}: {}", r.from, r.to, nacl_entry_label(e)) } else { nacl_entry_label(e) }
            })
            .collect();
        HopVerdict { hop, outcome, resource: Some(acl.id.clone()), decided_by, deny_rule_number, denied_ports: denied }
    }

    fn not_applicable(hop: Hop, why: &str) -> HopVerdict {
        HopVerdict {
            hop,
            outcome: Outcome::NotApplicable,
            resource: None,
            decided_by: vec![why.to_owned()],
            deny_rule_number: None,
            denied_ports: Vec::new(),
        }
    }

    /// Evaluates every hop of a flow's path.
    pub fn evaluate(&self, f: &FlowSpec) -> PathEvaluation {
        let se = self.eni(f.src);
        let de = self.eni(f.dst);
        let same_subnet = matches!((se, de), (Some(a), Some(b)) if a.subnet_id == b.subnet_id);
        let service = PortRange::single(f.port);
        let ret = if matches!(f.protocol, proto::TCP | proto::UDP) { f.client_ports } else { service };
        let outside = "outside the inventory: no security group or NACL of ours applies";
        let same = "same subnet: NACLs are not evaluated";
        let hops = vec![
            match se {
                Some(e) => self.sg_hop(Hop::SourceSgEgress, e, true, f, f.dst),
                None => Self::not_applicable(Hop::SourceSgEgress, outside),
            },
            match se {
                Some(_) if same_subnet => Self::not_applicable(Hop::SourceNaclOutbound, same),
                Some(e) => self.nacl_hop(Hop::SourceNaclOutbound, &e.subnet_id, true, f.protocol, f.dst, service),
                None => Self::not_applicable(Hop::SourceNaclOutbound, outside),
            },
            match de {
                Some(_) if same_subnet => Self::not_applicable(Hop::DestinationNaclInbound, same),
                Some(e) => self.nacl_hop(Hop::DestinationNaclInbound, &e.subnet_id, false, f.protocol, f.src, service),
                None => Self::not_applicable(Hop::DestinationNaclInbound, outside),
            },
            match de {
                Some(e) => self.sg_hop(Hop::DestinationSgIngress, e, false, f, f.src),
                None => Self::not_applicable(Hop::DestinationSgIngress, outside),
            },
            match de {
                Some(_) if same_subnet => Self::not_applicable(Hop::ReturnDestinationNaclOutbound, same),
                Some(e) => {
                    self.nacl_hop(Hop::ReturnDestinationNaclOutbound, &e.subnet_id, true, f.protocol, f.src, ret)
                }
                None => Self::not_applicable(Hop::ReturnDestinationNaclOutbound, outside),
            },
            match se {
                Some(_) if same_subnet => Self::not_applicable(Hop::ReturnSourceNaclInbound, same),
                Some(e) => self.nacl_hop(Hop::ReturnSourceNaclInbound, &e.subnet_id, false, f.protocol, f.dst, ret),
                None => Self::not_applicable(Hop::ReturnSourceNaclInbound, outside),
            },
        ];
        PathEvaluation {
            flow: *f,
            src_eni: se.map(|e| e.id.clone()),
            dst_eni: de.map(|e| e.id.clone()),
            same_subnet,
            hops,
        }
    }
}

/// One direction of a NACL, sorted by rule number, with the `*` DENY when it is missing.
fn nacl_chain(acl: &NetworkAcl, egress: bool) -> Vec<NaclEntry> {
    let mut v: Vec<NaclEntry> = acl.entries.iter().filter(|e| e.egress == egress).cloned().collect();
    v.sort_by_key(|e| e.rule_number);
    let has_default = v.iter().any(|e| e.rule_number == NACL_DEFAULT_RULE_NUMBER);
    if !has_default {
        for net in ["0.0.0.0/0", "::/0"] {
            v.push(NaclEntry {
                rule_number: NACL_DEFAULT_RULE_NUMBER,
                egress,
                protocol: Protocol::All,
                ports: PortMatch::Any,
                cidr: net.parse().expect("valid literal"),
                action: RuleAction::Deny,
            });
        }
    } else if !v.iter().any(|e| e.rule_number == NACL_DEFAULT_RULE_NUMBER && e.cidr.addr().is_ipv6()) {
        v.push(NaclEntry {
            rule_number: NACL_DEFAULT_RULE_NUMBER,
            egress,
            protocol: Protocol::All,
            ports: PortMatch::Any,
            cidr: "::/0".parse().expect("valid literal"),
            action: RuleAction::Deny,
        });
    }
    v
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::inventory::{Subnet, Vpc, VpcPeering};

    /// A small world: VPC A (10.0.0.0/16) with subnets web 10.0.0.0/24 and db 10.0.20.0/24,
    /// VPC B (10.1.0.0/16, peered) with one subnet; every NACL allows all unless a test edits it.
    pub(crate) fn world() -> Inventory {
        let mut inv = Inventory::default();
        for (id, cidr) in [("vpc-a", "10.0.0.0/16"), ("vpc-b", "10.1.0.0/16")] {
            inv.vpcs.insert(
                id.into(),
                Vpc { id: id.into(), owner_id: None, name: None, cidrs: vec![cidr.parse().unwrap()] },
            );
        }
        for (id, vpc, cidr) in [
            ("subnet-web", "vpc-a", "10.0.0.0/24"),
            ("subnet-db", "vpc-a", "10.0.20.0/24"),
            ("subnet-b", "vpc-b", "10.1.0.0/24"),
        ] {
            inv.subnets.insert(
                id.into(),
                Subnet {
                    id: id.into(),
                    vpc_id: vpc.into(),
                    name: None,
                    availability_zone: None,
                    cidrs: vec![cidr.parse().unwrap()],
                },
            );
            let acl = format!("acl-{}", &id[7..]);
            inv.nacls.insert(
                acl.clone(),
                NetworkAcl {
                    id: acl,
                    vpc_id: vpc.into(),
                    name: None,
                    is_default: false,
                    subnet_ids: vec![id.into()],
                    entries: vec![
                        nacl(100, false, "-1", None, "0.0.0.0/0", true),
                        nacl(100, true, "-1", None, "0.0.0.0/0", true),
                    ],
                },
            );
        }
        for (id, subnet, vpc, ip, groups) in [
            ("eni-web", "subnet-web", "vpc-a", "10.0.0.6", vec!["sg-web", "sg-base"]),
            ("eni-app", "subnet-web", "vpc-a", "10.0.0.7", vec!["sg-app", "sg-base"]),
            ("eni-db", "subnet-db", "vpc-a", "10.0.20.8", vec!["sg-db", "sg-base"]),
            ("eni-b", "subnet-b", "vpc-b", "10.1.0.5", vec!["sg-b"]),
        ] {
            inv.enis.insert(
                id.into(),
                Eni {
                    id: id.into(),
                    subnet_id: subnet.into(),
                    vpc_id: vpc.into(),
                    owner_id: None,
                    private_ips: vec![ip.parse().unwrap()],
                    public_ip: None,
                    security_groups: groups.into_iter().map(String::from).collect(),
                    instance_id: None,
                    interface_type: None,
                    description: None,
                    status: None,
                },
            );
        }
        let all_out = || sg_rule("-1", None, SgPeer::Cidr("0.0.0.0/0".parse().unwrap()));
        for (id, vpc, ingress, egress) in [
            (
                "sg-web",
                "vpc-a",
                vec![sg_rule("tcp", Some((443, 443)), SgPeer::Cidr("192.168.0.0/16".parse().unwrap()))],
                vec![all_out()],
            ),
            ("sg-app", "vpc-a", vec![sg_rule("tcp", Some((8443, 8443)), group("sg-web"))], vec![all_out()]),
            ("sg-db", "vpc-a", vec![sg_rule("tcp", Some((1433, 1433)), group("sg-app"))], vec![all_out()]),
            ("sg-base", "vpc-a", vec![sg_rule("icmp", None, SgPeer::Cidr("192.168.20.0/24".parse().unwrap()))], vec![]),
            ("sg-b", "vpc-b", vec![sg_rule("tcp", Some((5432, 5432)), group("sg-app"))], vec![all_out()]),
        ] {
            inv.security_groups.insert(
                id.into(),
                SecurityGroup {
                    id: id.into(),
                    name: id.into(),
                    vpc_id: Some(vpc.into()),
                    owner_id: None,
                    description: None,
                    ingress,
                    egress,
                },
            );
        }
        inv.peerings.insert(
            "pcx-1".into(),
            VpcPeering {
                id: "pcx-1".into(),
                requester_vpc_id: "vpc-a".into(),
                accepter_vpc_id: "vpc-b".into(),
                status: Some("active".into()),
            },
        );
        inv
    }

    pub(crate) fn group(id: &str) -> SgPeer {
        SgPeer::Group { group_id: id.into(), owner_id: None, vpc_id: None, peering_id: None }
    }

    pub(crate) fn sg_rule(p: &str, ports: Option<(u16, u16)>, peer: SgPeer) -> SgRule {
        SgRule {
            id: None,
            protocol: Protocol::parse(p).unwrap(),
            ports: ports.map_or(PortMatch::Any, |(from, to)| PortMatch::Ports(PortRange { from, to })),
            peer,
            description: None,
        }
    }

    pub(crate) fn nacl(n: u16, egress: bool, p: &str, ports: Option<(u16, u16)>, cidr: &str, allow: bool) -> NaclEntry {
        NaclEntry {
            rule_number: n,
            egress,
            protocol: Protocol::parse(p).unwrap(),
            ports: ports.map_or(PortMatch::Any, |(from, to)| PortMatch::Ports(PortRange { from, to })),
            cidr: cidr.parse().unwrap(),
            action: if allow { RuleAction::Allow } else { RuleAction::Deny },
        }
    }

    pub(crate) fn flow(src: &str, dst: &str, protocol: u8, port: u16) -> FlowSpec {
        FlowSpec {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            protocol,
            port,
            client_ports: PortRange { from: 49152, to: 65535 },
        }
    }

    /// Evaluates and returns the outcomes of the six hops in path order.
    fn check(inv: &Inventory, f: &FlowSpec, expected: [Outcome; 6]) -> PathEvaluation {
        let ev = Evaluator::new(inv).evaluate(f);
        let got: Vec<Outcome> = ev.hops.iter().map(|h| h.outcome).collect();
        assert_eq!(got, expected, "{}", ev.render());
        ev
    }

    use Outcome::{Allow as A, Deny as D, NotApplicable as NA, PartialDeny as PD};

    #[test]
    fn sg_reference_matches_eni_carrying_the_group_in_same_vpc() {
        let inv = world();
        let ev = check(&inv, &flow("10.0.0.7", "10.0.20.8", 6, 1433), [A, A, A, A, A, A]);
        assert!(ev.hop(Hop::DestinationSgIngress).decided_by[0].contains("sg-db"));
        // web does not carry sg-app: the db SG rejects it
        check(&inv, &flow("10.0.0.6", "10.0.20.8", 6, 1433), [A, A, A, D, A, A]);
    }

    #[test]
    fn sg_reference_works_across_an_active_peering_only() {
        let mut inv = world();
        check(&inv, &flow("10.0.0.7", "10.1.0.5", 6, 5432), [A, A, A, A, A, A]);
        inv.peerings.get_mut("pcx-1").unwrap().status = Some("deleted".into());
        check(&inv, &flow("10.0.0.7", "10.1.0.5", 6, 5432), [A, A, A, D, A, A]);
    }

    #[test]
    fn security_groups_are_a_union() {
        let inv = world();
        // icmp comes from sg-base, not the tier group
        check(&inv, &flow("192.168.20.7", "10.0.0.6", 1, 0), [NA, NA, A, A, A, NA]);
    }

    #[test]
    fn empty_egress_denies_outbound() {
        let mut inv = world();
        inv.security_groups.get_mut("sg-db").unwrap().egress.clear();
        let ev = check(&inv, &flow("10.0.20.8", "192.168.10.10", 6, 389), [D, A, NA, NA, NA, A]);
        assert!(ev.hop(Hop::SourceSgEgress).decided_by[0].starts_with("no rule of sg-db, sg-base"));
    }

    #[test]
    fn nacls_not_evaluated_within_one_subnet() {
        let mut inv = world();
        inv.nacls.get_mut("acl-web").unwrap().entries.clear();
        let ev = check(&inv, &flow("10.0.0.6", "10.0.0.7", 6, 8443), [A, NA, NA, A, NA, NA]);
        assert!(ev.same_subnet && ev.passes());
    }

    #[test]
    fn missing_default_deny_is_added() {
        let mut inv = world();
        inv.nacls.get_mut("acl-db").unwrap().entries.retain(|e| e.egress);
        let ev = check(&inv, &flow("10.0.0.7", "10.0.20.8", 6, 1433), [A, A, D, A, A, A]);
        let hop = ev.hop(Hop::DestinationNaclInbound);
        assert_eq!(hop.deny_rule_number, Some(NACL_DEFAULT_RULE_NUMBER));
        assert_eq!(hop.decided_by, ["#* deny all from 0.0.0.0/0"]);
    }

    #[test]
    fn nacl_lowest_rule_number_wins_whatever_the_listing_order() {
        let mut inv = world();
        let acl = inv.nacls.get_mut("acl-db").unwrap();
        acl.entries.push(nacl(50, false, "tcp", Some((1433, 1433)), "10.0.0.0/24", false));
        acl.entries.push(nacl(40, false, "tcp", Some((1433, 1433)), "10.0.0.7/32", true));
        check(&inv, &flow("10.0.0.7", "10.0.20.8", 6, 1433), [A, A, A, A, A, A]);
        inv.nacls.get_mut("acl-db").unwrap().entries.retain(|e| e.rule_number != 40);
        let ev = check(&inv, &flow("10.0.0.7", "10.0.20.8", 6, 1433), [A, A, D, A, A, A]);
        assert_eq!(ev.hop(Hop::DestinationNaclInbound).deny_rule_number, Some(50));
    }

    #[test]
    fn return_path_nacl_checks_the_ephemeral_range() {
        let mut inv = world();
        inv.nacls.get_mut("acl-db").unwrap().entries.push(nacl(
            89,
            true,
            "tcp",
            Some((49152, 65535)),
            "10.0.0.0/24",
            false,
        ));
        let ev = check(&inv, &flow("10.0.0.7", "10.0.20.8", 6, 1433), [A, A, A, A, D, A]);
        assert!(ev.request_passes() && !ev.response_passes());
        // a Linux client (32768-60999) loses only the overlapping part
        let mut f = flow("10.0.0.7", "10.0.20.8", 6, 1433);
        f.client_ports = PortRange { from: 32768, to: 60999 };
        let ev = check(&inv, &f, [A, A, A, A, PD, A]);
        assert_eq!(ev.hop(Hop::ReturnDestinationNaclOutbound).denied_ports, [PortRange { from: 49152, to: 60999 }]);
    }

    #[test]
    fn outside_address_gets_no_sg_and_crosses_nacls() {
        // the ping of docs/domain.md §4: the SG allows the request, the NACL drops the response
        let mut inv = world();
        inv.security_groups.get_mut("sg-base").unwrap().ingress.push(sg_rule(
            "icmp",
            None,
            SgPeer::Cidr("203.0.113.0/24".parse().unwrap()),
        ));
        let acl = inv.nacls.get_mut("acl-web").unwrap();
        acl.entries.retain(|e| !e.egress);
        acl.entries.push(nacl(100, true, "tcp", Some((1024, 65535)), "0.0.0.0/0", true));
        let ev = check(&inv, &flow("203.0.113.12", "10.0.0.6", 1, 0), [NA, NA, A, A, D, NA]);
        assert!(
            ev.render()
                .contains("the request passes but the response is dropped at return: destination subnet NACL outbound")
        );
    }

    #[test]
    fn prefix_lists_are_expanded() {
        let mut inv = world();
        inv.prefix_lists.insert(
            "pl-1".into(),
            crate::inventory::PrefixList {
                id: "pl-1".into(),
                name: None,
                max_entries: Some(5),
                entries: vec!["172.16.0.0/12".parse().unwrap()],
            },
        );
        inv.security_groups.get_mut("sg-web").unwrap().ingress.push(sg_rule(
            "tcp",
            Some((443, 443)),
            SgPeer::PrefixList("pl-1".into()),
        ));
        check(&inv, &flow("172.20.1.1", "10.0.0.6", 6, 443), [NA, NA, A, A, A, NA]);
        check(&inv, &flow("100.64.1.1", "10.0.0.6", 6, 443), [NA, NA, A, D, A, NA]);
    }

    #[test]
    fn protocol_all_matches_every_port_and_protocol() {
        let inv = world();
        let ev = check(&inv, &flow("10.0.0.6", "203.0.113.9", 17, 123), [A, A, NA, NA, NA, A]);
        assert!(ev.hop(Hop::SourceSgEgress).decided_by[0].contains("allow all to 0.0.0.0/0"));
    }

    #[test]
    fn unknown_security_group_is_unknown_not_deny() {
        let mut inv = world();
        inv.security_groups.remove("sg-db");
        let ev = Evaluator::new(&inv).evaluate(&flow("10.0.0.7", "10.0.20.8", 6, 1433));
        assert_eq!(ev.hop(Hop::DestinationSgIngress).outcome, Outcome::Unknown);
    }
}
