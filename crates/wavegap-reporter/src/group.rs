//! Findings that share a server, a service, a culprit and a fix, shown as one row.
//!
//! A real wave has thousands of rejected findings that a handful of changes fix: on the bench
//! set, 6,548 of wave-01's 7,041 are one on-premises client each to one web tier on tcp/443.
//! A reviewer needs "6,548 clients in 172.16.0.0/12 → web01 tcp/443, dropped by sg-web,
//! fixed by P003", not 6,548 rows. The per-client detail stays in findings.json and
//! findings.csv (and in a collapsed list in the HTML).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;
use wavegap_core::findings::{
    Attribution, FlowEnd, Hop, Leg, LikelyCause, PeerKind, RejectedFinding, Suppression, UnansweredFinding,
};
use wavegap_core::inventory::Inventory;
use wavegap_core::wave::WaveConfig;

use crate::baseline::{Since, Status};
use crate::format;

/// Clients named one by one in a group's summary.
const EXAMPLES: usize = 3;
/// Members listed in a group's collapsed detail; the rest are in findings.csv.
pub const MAX_MEMBERS: usize = 100;

/// One row of findings.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    /// The first member's id: stable, and the anchor of the row.
    pub id: String,
    pub anchor: String,
    /// `rejected` or `unanswered`.
    pub kind: &'static str,
    pub server: EndLabel,
    pub service: String,
    pub service_name: String,
    /// `request` or `response` (rejected only).
    pub leg: String,
    /// The layers that drop it, `; `-separated (rejected only).
    pub layer: String,
    pub culprits: Vec<CulpritLine>,
    pub attribution: String,
    pub explanation: String,
    /// Unanswered only.
    pub signal: String,
    pub likely_cause: String,
    pub suppressed: Option<String>,
    pub proposals: Vec<String>,
    pub clients: Clients,
    pub findings: usize,
    pub records: u64,
    pub records_text: String,
    pub first_seen: String,
    pub last_seen: String,
    pub first_seen_unix: i64,
    pub last_seen_unix: i64,
    /// The apps of the wave it touches.
    pub apps: Vec<String>,
    /// Since the baseline: `new`, `still open`, or a mix such as `2 new, 5 still open`.
    pub status: Option<String>,
    pub members: Vec<MemberView>,
    /// Members not listed in `members`.
    pub members_omitted: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndLabel {
    pub ip: String,
    /// `web01 (10.0.0.6)` or the address.
    pub label: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CulpritLine {
    pub layer: String,
    pub resource: String,
    pub rule: String,
}

/// The clients of a group, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct Clients {
    pub count: usize,
    /// One line: `web01 (10.0.0.6)`, or `6,548 clients in on-premises 172.16.0.0/12 (all in
    /// 172.16.0.0/14), e.g. 172.16.3.4, 172.16.9.1, 172.16.20.7`.
    pub text: String,
    pub networks: Vec<ClientNetwork>,
    /// Up to three clients, most records first.
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientNetwork {
    /// `on-premises 172.16.0.0/12`, `vpc-0abc (app-vpc) 10.1.0.0/16`, `outside the wave's networks`.
    pub network: String,
    pub count: usize,
    /// The narrowest CIDR holding every client of the group in this network.
    pub cover: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub id: String,
    pub client: String,
    pub records_text: String,
    pub first_seen: String,
    pub last_seen: String,
    pub status: Option<&'static str>,
}

/// What a group needs to know about where addresses are.
pub struct Places<'a> {
    wave: &'a WaveConfig,
    inventory: &'a Inventory,
}

impl<'a> Places<'a> {
    pub fn new(wave: &'a WaveConfig, inventory: &'a Inventory) -> Self {
        Places { wave, inventory }
    }

    pub fn wave(&self) -> &'a WaveConfig {
        self.wave
    }

    /// The network an end is summarised under.
    pub fn network(&self, end: &FlowEnd) -> String {
        self.network_of(end.ip, Some(end.kind))
    }

    /// The network an address is summarised under: the narrowest on-premises network, else
    /// its VPC, else the narrowest internal network. `kind` is what the analysis found, when
    /// known.
    pub fn network_of(&self, ip: IpAddr, kind: Option<PeerKind>) -> String {
        let narrowest =
            |nets: &[IpNet]| nets.iter().filter(|n| n.contains(&ip)).max_by_key(|n| n.prefix_len()).copied();
        let on_premises = narrowest(&self.wave.networks.on_premises);
        if kind == Some(PeerKind::OnPremises) || (kind.is_none() && on_premises.is_some()) {
            return on_premises.map_or_else(|| "on-premises".to_owned(), |n| format!("on-premises {n}"));
        }
        if kind == Some(PeerKind::External) {
            return "outside the wave's networks".to_owned();
        }
        let vpc = self.inventory.vpcs.values().find_map(|v| v.cidrs.iter().find(|c| c.contains(&ip)).map(|c| (v, c)));
        match (vpc, narrowest(&self.wave.networks.internal)) {
            (Some((v, cidr)), _) => match &v.name {
                Some(name) => format!("{} ({}) {cidr}", v.id, format::one_line(name)),
                None => format!("{} {cidr}", v.id),
            },
            (None, Some(n)) => format!("internal {n}"),
            (None, None) => "outside the wave's networks".to_owned(),
        }
    }
}

pub fn end_label(end: &FlowEnd) -> EndLabel {
    let ip = end.ip.to_string();
    let label = match end.name() {
        Some(name) => format!("{} ({ip})", format::one_line(name)),
        None => ip.clone(),
    };
    EndLabel { ip, label, kind: peer_kind(end.kind).to_owned() }
}

pub fn peer_kind(kind: PeerKind) -> &'static str {
    match kind {
        PeerKind::Aws => "aws",
        PeerKind::OnPremises => "on-premises",
        PeerKind::Internal => "internal",
        PeerKind::External => "external",
    }
}

/// The narrowest prefix holding every address (all of one family).
pub fn cover(ips: &[IpAddr]) -> Option<IpNet> {
    let first = *ips.first()?;
    let mut net = IpNet::from(first);
    for ip in &ips[1..] {
        while !net.contains(ip) {
            net = net.supernet()?;
        }
    }
    Some(net)
}

/// What every member of a group shares, and what differs.
struct Member<'f> {
    id: &'f str,
    client: &'f FlowEnd,
    server: &'f FlowEnd,
    records: u64,
    first_seen: i64,
    last_seen: i64,
}

fn clients(places: &Places<'_>, members: &[Member<'_>]) -> Clients {
    let mut by_records: Vec<&Member<'_>> = members.iter().collect();
    by_records.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.client.ip.cmp(&b.client.ip)));
    let mut distinct: Vec<&FlowEnd> = Vec::new();
    for m in &by_records {
        if !distinct.iter().any(|c| c.ip == m.client.ip) {
            distinct.push(m.client);
        }
    }
    let examples: Vec<String> = distinct.iter().take(EXAMPLES).map(|c| end_label(c).label).collect();
    let mut nets: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
    for c in &distinct {
        nets.entry(places.network(c)).or_default().push(c.ip);
    }
    let networks: Vec<ClientNetwork> = nets
        .into_iter()
        .map(|(network, mut ips)| {
            ips.sort();
            let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = ips.iter().partition(|ip| ip.is_ipv4());
            let cover = [cover(&v4), cover(&v6)].into_iter().flatten().map(|n| n.to_string()).collect::<Vec<_>>();
            ClientNetwork { network, count: ips.len(), cover: cover.join(", ") }
        })
        .collect();
    let count = distinct.len();
    let text = if count <= EXAMPLES {
        examples.join(", ")
    } else {
        let parts: Vec<String> = networks
            .iter()
            .map(|n| format!("{} in {} (all in {})", format::count(n.count as u64), n.network, n.cover))
            .collect();
        format!("{} clients: {}; e.g. {}", format::count(count as u64), parts.join(", "), examples.join(", "))
    };
    Clients { count, text, networks, examples }
}

fn service_words(protocol: u8, port: u16) -> (String, String) {
    (format::service(protocol, port), format::service_name(protocol, port).to_owned())
}

fn to_kebab<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn finish(
    mut view: GroupView,
    members: &[Member<'_>],
    places: &Places<'_>,
    since: Option<&Since>,
    status_of: impl Fn(&str) -> Option<Status>,
) -> GroupView {
    view.clients = clients(places, members);
    view.findings = members.len();
    view.records = members.iter().map(|m| m.records).sum();
    view.records_text = format::count(view.records);
    let first = members.iter().map(|m| m.first_seen).min().unwrap_or(0);
    let last = members.iter().map(|m| m.last_seen).max().unwrap_or(0);
    view.first_seen = format::time(first);
    view.first_seen_unix = first;
    view.last_seen = format::time(last);
    view.last_seen_unix = last;
    let mut apps: Vec<String> =
        members.iter().flat_map(|m| [m.client, m.server]).filter(|e| e.in_wave).filter_map(|e| e.app.clone()).collect();
    apps.sort();
    apps.dedup();
    view.apps = apps;
    let statuses: Vec<Option<Status>> = members.iter().map(|m| status_of(m.id)).collect();
    if since.is_some() {
        let mut tally: BTreeMap<Status, usize> = BTreeMap::new();
        for s in statuses.iter().flatten() {
            *tally.entry(*s).or_default() += 1;
        }
        view.status = match tally.len() {
            0 => None,
            1 => tally.keys().next().map(|s| s.word().to_owned()),
            _ => Some(
                tally
                    .iter()
                    .map(|(s, n)| format!("{} {}", format::count(*n as u64), s.word()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        };
    }
    let mut listed: Vec<(&Member<'_>, Option<Status>)> = members.iter().zip(statuses).collect();
    listed.sort_by(|a, b| b.0.records.cmp(&a.0.records).then_with(|| a.0.id.cmp(b.0.id)));
    view.members_omitted = listed.len().saturating_sub(MAX_MEMBERS);
    view.members = listed
        .into_iter()
        .take(MAX_MEMBERS)
        .map(|(m, status)| MemberView {
            id: m.id.to_owned(),
            client: end_label(m.client).label,
            records_text: format::count(m.records),
            first_seen: format::time(m.first_seen),
            last_seen: format::time(m.last_seen),
            status: status.map(Status::word),
        })
        .collect();
    view
}

fn empty(kind: &'static str, id: &str, server: &FlowEnd, protocol: u8, port: u16) -> GroupView {
    let (service, service_name) = service_words(protocol, port);
    GroupView {
        id: id.to_owned(),
        anchor: format::slug(id),
        kind,
        server: end_label(server),
        service,
        service_name,
        leg: String::new(),
        layer: String::new(),
        culprits: Vec::new(),
        attribution: String::new(),
        explanation: String::new(),
        signal: String::new(),
        likely_cause: String::new(),
        suppressed: None,
        proposals: Vec::new(),
        clients: Clients { count: 0, text: String::new(), networks: Vec::new(), examples: Vec::new() },
        findings: 0,
        records: 0,
        records_text: String::new(),
        first_seen: String::new(),
        last_seen: String::new(),
        first_seen_unix: 0,
        last_seen_unix: 0,
        apps: Vec::new(),
        status: None,
        members: Vec::new(),
        members_omitted: 0,
    }
}

/// The words for the layers that drop a finding, or why none is named.
pub fn layer_words(f: &RejectedFinding) -> String {
    if f.culprits.is_empty() {
        match f.attribution {
            Attribution::ShouldPass => "none: the current configuration allows it".to_owned(),
            _ => "unknown".to_owned(),
        }
    } else {
        f.culprits.iter().map(|c| c.hop.label()).collect::<Vec<_>>().join("; ")
    }
}

type RejectedKey<'f> = (IpAddr, u8, u16, Leg, Attribution, Vec<(Hop, &'f str, Option<u16>)>, &'f [String]);

/// Rejected findings grouped by server, service, leg, culprits and proposals, most records first.
pub fn rejected<'f>(
    findings: impl IntoIterator<Item = &'f RejectedFinding>,
    places: &Places<'_>,
    since: Option<&Since>,
) -> Vec<GroupView> {
    let mut groups: BTreeMap<RejectedKey<'f>, Vec<&'f RejectedFinding>> = BTreeMap::new();
    for f in findings {
        let culprits = f.culprits.iter().map(|c| (c.hop, c.resource.as_str(), c.rule_number)).collect();
        groups
            .entry((f.server.ip, f.protocol, f.port, f.leg, f.attribution, culprits, f.proposals.as_slice()))
            .or_default()
            .push(f);
    }
    let mut views: Vec<GroupView> = groups
        .into_values()
        .map(|fs| {
            let f = fs[0];
            let mut view = empty("rejected", &f.id, &f.server, f.protocol, f.port);
            view.leg = to_kebab(&f.leg);
            view.layer = layer_words(f);
            view.culprits = f
                .culprits
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    // A security group's "no rule allows … from <client>" names one client;
                    // said once for the group when the clients differ.
                    let same = fs.iter().all(|g| g.culprits.get(i).is_some_and(|x| x.rule == c.rule));
                    let rule = if same || !c.hop.is_sg() {
                        format::one_line(&c.rule)
                    } else {
                        format!(
                            "no rule of {} allows {} {} these clients",
                            format::one_line(&c.resource),
                            format::service(f.protocol, f.port),
                            if matches!(c.hop, Hop::SourceSgEgress) { "to the server from" } else { "from" }
                        )
                    };
                    CulpritLine { layer: c.hop.label().to_owned(), resource: format::one_line(&c.resource), rule }
                })
                .collect();
            view.attribution = to_kebab(&f.attribution);
            view.explanation = format::one_line(&f.explanation);
            view.proposals.clone_from(&f.proposals);
            let members: Vec<Member<'_>> = fs.iter().map(|g| rejected_member(g)).collect();
            let open = f.is_open();
            finish(view, &members, places, since, |id| since.map(|s| s.status(id, open)))
        })
        .collect();
    views.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.id.cmp(&b.id)));
    views
}

/// Rejected findings held back as single connection attempts, grouped by the clients'
/// network, the service and the layers that drop them, across servers: the strays of one
/// network read as one row however many servers they touched. Most findings first.
pub fn single_attempts<'f>(
    findings: impl IntoIterator<Item = &'f RejectedFinding>,
    places: &Places<'_>,
    since: Option<&Since>,
) -> Vec<GroupView> {
    type Key = (String, u8, u16, Leg, String);
    let mut groups: BTreeMap<Key, Vec<&'f RejectedFinding>> = BTreeMap::new();
    for f in findings {
        groups.entry((places.network(&f.client), f.protocol, f.port, f.leg, layer_words(f))).or_default().push(f);
    }
    let mut views: Vec<GroupView> = groups
        .into_iter()
        .map(|((_, _, _, _, layer), fs)| {
            let f = fs[0];
            let mut view = empty("rejected", &f.id, &f.server, f.protocol, f.port);
            view.leg = to_kebab(&f.leg);
            view.layer = layer;
            view.attribution = to_kebab(&f.attribution);
            let mut servers: Vec<&FlowEnd> = fs.iter().map(|g| &g.server).collect();
            servers.sort_by_key(|s| s.ip);
            servers.dedup_by_key(|s| s.ip);
            if servers.len() > 1 {
                let examples: Vec<String> = servers.iter().take(EXAMPLES).map(|s| end_label(s).label).collect();
                view.server.label = format!("{} servers, e.g. {}", servers.len(), examples.join(", "));
            }
            let members: Vec<Member<'_>> = fs.iter().map(|g| rejected_member(g)).collect();
            finish(view, &members, places, since, |id| since.map(|s| s.status(id, true)))
        })
        .collect();
    views.sort_by(|a, b| b.findings.cmp(&a.findings).then_with(|| a.id.cmp(&b.id)));
    views
}

fn rejected_member(f: &RejectedFinding) -> Member<'_> {
    Member {
        id: &f.id,
        client: &f.client,
        server: &f.server,
        records: f.evidence.records,
        first_seen: f.evidence.first_seen,
        last_seen: f.evidence.last_seen,
    }
}

/// Unanswered findings grouped by server, service, signal and cause, most records first.
pub fn unanswered<'f>(
    findings: impl IntoIterator<Item = &'f UnansweredFinding>,
    places: &Places<'_>,
    since: Option<&Since>,
) -> Vec<GroupView> {
    type Key<'f> = (IpAddr, u8, u16, LikelyCause, Option<&'f Suppression>);
    let mut groups: BTreeMap<Key<'f>, Vec<&'f UnansweredFinding>> = BTreeMap::new();
    for f in findings {
        groups.entry((f.server.ip, f.protocol, f.port, f.likely_cause, f.suppressed.as_ref())).or_default().push(f);
    }
    let mut views: Vec<GroupView> = groups
        .into_values()
        .map(|fs| {
            let f = fs[0];
            let mut view = empty("unanswered", &f.id, &f.server, f.protocol, f.port);
            let mut signals: Vec<String> = fs.iter().map(|g| to_kebab(&g.signal)).collect();
            signals.sort();
            signals.dedup();
            view.signal = signals.join(", ");
            format::likely_cause(f.likely_cause).clone_into(&mut view.likely_cause);
            view.suppressed = f.suppressed.as_ref().map(|s| format::one_line(&format::suppression(s)));
            let members: Vec<Member<'_>> = fs
                .iter()
                .map(|g| Member {
                    id: &g.id,
                    client: &g.client,
                    server: &g.server,
                    records: g.evidence.records,
                    first_seen: g.evidence.first_seen,
                    last_seen: g.evidence.last_seen,
                })
                .collect();
            let open = f.is_open();
            finish(view, &members, places, since, |id| since.map(|s| s.status(id, open)))
        })
        .collect();
    views.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.id.cmp(&b.id)));
    views
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_is_the_narrowest_common_prefix() {
        let ips: Vec<IpAddr> = ["172.16.3.4", "172.16.9.1", "172.17.0.1"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(cover(&ips).unwrap().to_string(), "172.16.0.0/15");
        let one: Vec<IpAddr> = vec!["10.0.0.6".parse().unwrap()];
        assert_eq!(cover(&one).unwrap().to_string(), "10.0.0.6/32");
        let v6: Vec<IpAddr> = ["2001:db8::1", "2001:db8::ff"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(cover(&v6).unwrap().to_string(), "2001:db8::/120");
        assert!(cover(&[]).is_none());
    }
}
