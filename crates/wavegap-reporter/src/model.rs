//! The view model every template renders: the analysis, flattened into display-ready rows.
//!
//! Building it does all the formatting (times, sizes, rule texts, diffs, diagrams) once, so
//! the templates stay declarative and the four formats say the same thing. Order is stable:
//! apps as the wave lists them, findings as the analysis sorts them, resources by id.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use wavegap_core::findings::{
    Analysis, Caveat, FlowEnd, NotSeenFinding, PeerKind, Proposal, RejectedFinding, RuleChange, UnansweredFinding,
};
use wavegap_core::flow::{CoverageGap, FlowData};
use wavegap_core::flowlog::Action;
use wavegap_core::inventory::{Inventory, NaclEntry, Os, PortMatch, Protocol, SgPeer, SgRule};
use wavegap_core::wave::{Source, WaveConfig};

use crate::diagram::{self, Diagram, Edge, EdgeStatus};
use crate::format;
use crate::json::FindingsDocument;

/// What a report is built from. Only values: the reporter never calls AWS or reads the clock.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub wave: &'a WaveConfig,
    pub inventory: &'a Inventory,
    pub flows: &'a FlowData,
    pub analysis: &'a Analysis,
    /// The log groups (CloudWatch) or flow-log sources (files) the queries covered.
    pub log_groups: &'a [String],
    /// The run time, RFC 3339: the one value that differs between two runs over the same data.
    pub generated_at: &'a str,
    /// `wavegap 0.1.0`.
    pub generator: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    pub generated_at: String,
    pub generator: String,
    pub wave: WaveView,
    pub counts: Counts,
    pub scan: ScanView,
    pub coverage: CoverageView,
    pub apps: Vec<AppView>,
    pub noise: NoiseView,
    pub proposals: Vec<ProposalView>,
    /// Every proposal, grouped per security group and NACL.
    pub changes: Vec<ChangeGroup>,
    /// The content of `findings.json`, which is serialised rather than templated.
    #[serde(skip)]
    pub document: FindingsDocument,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveView {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub source: String,
    pub window_start: String,
    pub window_end: String,
    pub window_duration: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub apps: usize,
    pub servers: usize,
    pub findings: usize,
    pub rejected: usize,
    pub rejected_should_pass: usize,
    pub unanswered: usize,
    pub unanswered_suppressed: usize,
    pub not_seen: usize,
    pub proposals: usize,
    pub over_quota: usize,
    pub noise_records: String,
    pub ignored_records: String,
    pub servers_without_flow_logs: usize,
    pub gaps: usize,
    /// Objects (files, result pages) whose records could not all be read.
    pub damaged: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanView {
    pub log_groups: Vec<String>,
    pub queries: String,
    pub records_scanned: String,
    pub records_matched: String,
    pub bytes_scanned: String,
    pub estimated_cost: String,
    pub aggregates: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageView {
    pub complete: bool,
    pub gaps: Vec<GapView>,
    pub caveats: Vec<CaveatView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapView {
    pub log_groups: String,
    pub start: String,
    pub end: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaveatView {
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppView {
    pub name: String,
    pub anchor: String,
    pub description: Option<String>,
    pub servers: Vec<ServerView>,
    pub rejected: Vec<RejectedView>,
    pub unanswered: Vec<UnansweredView>,
    pub not_seen: Vec<NotSeenView>,
    pub without_flow_logs: Vec<ServerView>,
    /// Servers whose flow logs record no REJECT: "0 rejected" would say nothing about them.
    pub rejects_invisible: Vec<String>,
    pub changes: Vec<ChangeGroup>,
    pub diagram: Diagram,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerView {
    pub name: String,
    pub ip: String,
    pub role: String,
    pub os: String,
    pub on_premises: bool,
    pub eni: String,
    pub subnet: String,
    pub vpc: String,
    pub security_groups: String,
    pub nacl: String,
    pub flow_logs: String,
    /// A flow log covers its ENI (or it stays on premises, where none can).
    pub covered: bool,
    /// Why it is invisible, when it is.
    pub problem: Option<String>,
    /// What its flow logs cannot show (`TrafficType` `ACCEPT` or `REJECT` only), when anything.
    pub blind_to: Option<String>,
    /// Its flow logs record no REJECT.
    pub logs_no_reject: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndView {
    pub ip: String,
    pub name: Option<String>,
    /// `web01 (10.0.0.6)` or the address.
    pub label: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectedView {
    pub id: String,
    pub anchor: String,
    pub client: EndView,
    pub server: EndView,
    pub service: String,
    pub service_name: String,
    pub leg: String,
    pub layer: String,
    pub culprits: Vec<CulpritView>,
    pub attribution: String,
    pub explanation: String,
    pub records: u64,
    pub records_text: String,
    pub bytes: String,
    pub first_seen: String,
    pub last_seen: String,
    pub first_seen_unix: i64,
    pub enis: String,
    pub log_groups: String,
    pub proposals: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CulpritView {
    pub layer: String,
    pub resource: String,
    pub rule: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnansweredView {
    pub id: String,
    pub anchor: String,
    pub client: EndView,
    pub server: EndView,
    pub service: String,
    pub service_name: String,
    pub signal: String,
    pub likely_cause: String,
    pub suppressed: Option<String>,
    pub records: u64,
    pub records_text: String,
    pub first_seen: String,
    pub last_seen: String,
    pub first_seen_unix: i64,
    pub enis: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotSeenView {
    pub id: String,
    pub src: String,
    pub dst: String,
    pub service: String,
    pub service_name: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoiseView {
    pub outside: Vec<NoiseSourceView>,
    pub scanners: Vec<NoiseSourceView>,
    pub ignored: Vec<IgnoredView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoiseSourceView {
    pub source: String,
    pub records: String,
    pub targets: usize,
    pub ports: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IgnoredView {
    pub network: String,
    pub service: String,
    pub reason: String,
    pub records: String,
    pub flows: usize,
}

/// One proposed change, with everything fix.sh and fix.tf need, already escaped for them.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    pub id: String,
    pub anchor: String,
    /// `security group` or `network ACL`.
    pub kind: String,
    pub resource: String,
    pub resource_name: String,
    pub owner: Option<String>,
    pub direction: String,
    /// `allow tcp 49172 from sg-0abc (orders-app)`.
    pub summary: String,
    pub fixes: Vec<String>,
    pub warnings: Vec<String>,
    pub over_quota: bool,
    /// The AWS CLI command, each argument already a shell word.
    pub cli: String,
    pub tf_type: String,
    pub tf_name: String,
    /// Terraform attributes with their values as HCL literals.
    pub tf_attrs: Vec<TfAttr>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TfAttr {
    pub key: String,
    pub value: String,
}

/// The proposals for one security group or network ACL, as a diff against its current rules.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeGroup {
    pub kind: String,
    /// `Security group` or `Network ACL`, to start a sentence.
    pub title: String,
    pub resource: String,
    pub resource_name: String,
    pub proposals: Vec<String>,
    pub lines: Vec<DiffLine>,
    /// The diff as text (`+` added, ` ` kept, `@@` section headers).
    pub diff: String,
    /// A Markdown code fence longer than any backtick run in the diff.
    pub fence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffLine {
    /// `add`, `keep` or `section`.
    pub kind: String,
    pub text: String,
}

pub fn build(input: &ReportInput<'_>) -> ReportModel {
    let ReportInput { wave, inventory, flows, analysis, .. } = *input;
    let servers: Vec<ServerView> = wave.servers().map(|s| server_view(inventory, s)).collect();
    let server_by_ip: BTreeMap<String, &ServerView> = servers.iter().map(|s| (s.ip.clone(), s)).collect();
    let proposals: Vec<ProposalView> = analysis.proposals.iter().map(|p| proposal_view(inventory, p)).collect();
    let changes = change_groups(inventory, &analysis.proposals, |_| true);

    let mut apps = Vec::with_capacity(wave.apps.len());
    for app in &wave.apps {
        let in_app = |end: &FlowEnd| end.in_wave && end.app.as_deref() == Some(app.name.as_str());
        let rejected: Vec<&RejectedFinding> =
            analysis.rejected.iter().filter(|f| in_app(&f.client) || in_app(&f.server)).collect();
        let unanswered: Vec<&UnansweredFinding> =
            analysis.unanswered.iter().filter(|f| in_app(&f.client) || in_app(&f.server)).collect();
        let app_servers: BTreeSet<&str> = app.servers.iter().map(|s| s.name.as_str()).collect();
        let not_seen: Vec<&NotSeenFinding> = analysis
            .not_seen
            .iter()
            .filter(|f| app_servers.contains(f.src.as_str()) || app_servers.contains(f.dst.as_str()))
            .collect();
        let finding_ids: BTreeSet<&str> = rejected.iter().map(|f| f.id.as_str()).collect();
        let app_proposals: Vec<&Proposal> =
            analysis.proposals.iter().filter(|p| p.fixes.iter().any(|id| finding_ids.contains(id.as_str()))).collect();
        let views: Vec<ServerView> =
            app.servers.iter().filter_map(|s| server_by_ip.get(&s.ip.to_string()).map(|v| (*v).clone())).collect();
        let diagram = app_diagram(wave, &analysis.accepted, &app.name, &app.servers, &rejected, &unanswered);
        apps.push(AppView {
            name: app.name.clone(),
            anchor: format!("app-{}", format::slug(&app.name)),
            description: app.description.clone(),
            without_flow_logs: views.iter().filter(|s| !s.covered).cloned().collect(),
            rejects_invisible: views.iter().filter(|s| s.logs_no_reject).map(|s| s.name.clone()).collect(),
            servers: views,
            rejected: rejected.iter().map(|f| rejected_view(f)).collect(),
            unanswered: unanswered.iter().map(|f| unanswered_view(f)).collect(),
            not_seen: not_seen.iter().map(|f| not_seen_view(f)).collect(),
            changes: change_groups(inventory, &app_proposals.into_iter().cloned().collect::<Vec<_>>(), |_| true),
            diagram,
        });
    }

    let summary = &analysis.summary;
    let without_flow_logs = servers.iter().filter(|s| !s.covered).count();
    let mut log_groups = input.log_groups.to_vec();
    log_groups.sort();
    log_groups.dedup();
    let counts = Counts {
        apps: wave.apps.len(),
        servers: servers.len(),
        findings: analysis.rejected.len() + analysis.unanswered.len() + analysis.not_seen.len(),
        rejected: analysis.rejected.len(),
        rejected_should_pass: summary.rejected_should_pass,
        unanswered: analysis.unanswered.len(),
        unanswered_suppressed: summary.unanswered_suppressed,
        not_seen: analysis.not_seen.len(),
        proposals: analysis.proposals.len(),
        over_quota: analysis.proposals.iter().filter(|p| p.over_quota).count(),
        noise_records: format::count(summary.noise_records),
        ignored_records: format::count(summary.ignored_records),
        servers_without_flow_logs: without_flow_logs,
        gaps: flows.gaps.len(),
        damaged: flows.damaged.len(),
    };
    let stats = &flows.stats;
    let local = matches!(wave.source, Source::Files { .. });
    let scan = ScanView {
        log_groups: log_groups.clone(),
        queries: format::count(stats.queries),
        records_scanned: format::count(stats.records_scanned),
        records_matched: format::count(stats.records_matched),
        bytes_scanned: format::bytes(stats.bytes_scanned),
        estimated_cost: if local {
            "$0 (local files, no CloudWatch charge)".to_owned()
        } else {
            format!("${:.4} at ${}/GB", stats.estimated_cost, wave.query.price_per_gb)
        },
        aggregates: format::count(flows.aggregates.len() as u64),
    };
    let coverage = CoverageView {
        complete: flows.complete(),
        gaps: flows.gaps.iter().map(gap_view).collect(),
        caveats: analysis.caveats.iter().map(caveat_view).collect(),
    };
    let noise = NoiseView {
        outside: analysis.noise.outside.iter().map(noise_source_view).collect(),
        scanners: analysis.noise.scanners.iter().map(noise_source_view).collect(),
        ignored: analysis
            .noise
            .ignored
            .iter()
            .map(|i| IgnoredView {
                network: i.network.to_string(),
                service: i.service.clone().unwrap_or_else(|| "all".to_owned()),
                reason: format::one_line(&i.reason),
                records: format::count(i.records),
                flows: i.flows,
            })
            .collect(),
    };
    let window = analysis.window;
    let document = FindingsDocument::new(input, &servers, &log_groups);
    ReportModel {
        generated_at: input.generated_at.to_owned(),
        generator: input.generator.to_owned(),
        wave: WaveView {
            name: wave.name.clone(),
            description: wave.description.clone(),
            file: wave.path.display().to_string(),
            source: match &wave.source {
                Source::CloudWatch => "CloudWatch Logs Insights".to_owned(),
                Source::Files { dir, inventory } => {
                    format!("flow-log files in {} with the inventory snapshot {}", dir.display(), inventory.display())
                }
            },
            window_start: format::time(window.start),
            window_end: format::time(window.end),
            window_duration: format::duration(window.seconds()),
        },
        counts,
        scan,
        coverage,
        apps,
        noise,
        proposals,
        changes,
        document,
    }
}

fn server_view(inventory: &Inventory, s: &wavegap_core::wave::Server) -> ServerView {
    let eni = inventory.eni_by_ip(s.ip);
    let mut view = ServerView {
        name: s.name.clone(),
        ip: s.ip.to_string(),
        role: s.role.clone().unwrap_or_default(),
        os: s.os.map(os_name).unwrap_or_default().to_owned(),
        on_premises: s.on_premises,
        eni: String::new(),
        subnet: String::new(),
        vpc: String::new(),
        security_groups: String::new(),
        nacl: String::new(),
        flow_logs: String::new(),
        covered: true,
        problem: None,
        blind_to: None,
        logs_no_reject: false,
    };
    if s.on_premises {
        return view;
    }
    let Some(eni) = eni else {
        view.covered = false;
        view.problem = Some("not found in the inventory: no ENI has this address".to_owned());
        return view;
    };
    view.eni.clone_from(&eni.id);
    view.subnet.clone_from(&eni.subnet_id);
    view.vpc.clone_from(&eni.vpc_id);
    view.security_groups =
        eni.security_groups.iter().map(|g| format::group_ref(inventory, g)).collect::<Vec<_>>().join(", ");
    view.nacl = inventory.nacl_for_subnet(&eni.subnet_id).map(|a| a.id.clone()).unwrap_or_default();
    let logs: Vec<&str> = inventory.flow_logs_for_eni(eni).map(|f| f.id.as_str()).collect();
    view.flow_logs = logs.join(", ");
    if logs.is_empty() {
        view.covered = false;
        view.problem = Some("no flow log covers its ENI, subnet or VPC: this server is invisible".to_owned());
    } else {
        let blind_to = inventory.logged_traffic(eni).blind_to();
        view.logs_no_reject = blind_to == Some(Action::Reject);
        view.blind_to = blind_to.map(|missing| match missing {
            Action::Reject => "ACCEPT only: rejected flows are not logged".to_owned(),
            Action::Accept => "REJECT only: accepted flows and answers are not logged".to_owned(),
        });
    }
    view
}

fn os_name(os: Os) -> &'static str {
    match os {
        Os::Linux => "linux",
        Os::Windows => "windows",
        Os::WindowsLegacy => "windows (2003 or older)",
    }
}

fn end_view(end: &FlowEnd) -> EndView {
    let ip = end.ip.to_string();
    let label = match end.name() {
        Some(name) => format!("{} ({ip})", format::one_line(name)),
        None => ip.clone(),
    };
    EndView { ip, name: end.name().map(format::one_line), label, kind: peer_kind(end.kind).to_owned() }
}

fn peer_kind(kind: PeerKind) -> &'static str {
    match kind {
        PeerKind::Aws => "aws",
        PeerKind::OnPremises => "on-premises",
        PeerKind::Internal => "internal",
        PeerKind::External => "external",
    }
}

fn to_kebab<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn rejected_view(f: &RejectedFinding) -> RejectedView {
    let culprits: Vec<CulpritView> = f
        .culprits
        .iter()
        .map(|c| CulpritView {
            layer: c.hop.label().to_owned(),
            resource: format::one_line(&c.resource),
            rule: format::one_line(&c.rule),
        })
        .collect();
    let layer = if culprits.is_empty() {
        match f.attribution {
            wavegap_core::findings::Attribution::ShouldPass => "none: the current configuration allows it".to_owned(),
            _ => "unknown".to_owned(),
        }
    } else {
        culprits.iter().map(|c| c.layer.as_str()).collect::<Vec<_>>().join("; ")
    };
    RejectedView {
        id: f.id.clone(),
        anchor: format::slug(&f.id),
        client: end_view(&f.client),
        server: end_view(&f.server),
        service: format::service(f.protocol, f.port),
        service_name: format::service_name(f.protocol, f.port).to_owned(),
        leg: to_kebab(&f.leg),
        layer,
        culprits,
        attribution: to_kebab(&f.attribution),
        explanation: format::one_line(&f.explanation),
        records: f.evidence.records,
        records_text: format::count(f.evidence.records),
        bytes: format::bytes(f.evidence.bytes),
        first_seen: format::time(f.evidence.first_seen),
        last_seen: format::time(f.evidence.last_seen),
        first_seen_unix: f.evidence.first_seen,
        enis: f.evidence.enis.join(", "),
        log_groups: f.evidence.log_groups.join(", "),
        proposals: f.proposals.clone(),
    }
}

fn unanswered_view(f: &UnansweredFinding) -> UnansweredView {
    UnansweredView {
        id: f.id.clone(),
        anchor: format::slug(&f.id),
        client: end_view(&f.client),
        server: end_view(&f.server),
        service: format::service(f.protocol, f.port),
        service_name: format::service_name(f.protocol, f.port).to_owned(),
        signal: to_kebab(&f.signal),
        likely_cause: format::one_line(&f.likely_cause),
        suppressed: f.suppressed.as_deref().map(format::one_line),
        records: f.evidence.records,
        records_text: format::count(f.evidence.records),
        first_seen: format::time(f.evidence.first_seen),
        last_seen: format::time(f.evidence.last_seen),
        first_seen_unix: f.evidence.first_seen,
        enis: f.evidence.enis.join(", "),
    }
}

fn not_seen_view(f: &NotSeenFinding) -> NotSeenView {
    NotSeenView {
        id: f.id.clone(),
        src: format::one_line(&f.src),
        dst: format::one_line(&f.dst),
        service: format::service(f.protocol, f.port),
        service_name: format::service_name(f.protocol, f.port).to_owned(),
        note: format::one_line(&f.note),
    }
}

fn gap_view(g: &CoverageGap) -> GapView {
    GapView {
        log_groups: g.log_groups.join(", "),
        start: format::time(g.window.start),
        end: format::time(g.window.end),
        reason: format::one_line(&g.reason),
    }
}

fn caveat_view(c: &Caveat) -> CaveatView {
    CaveatView { kind: to_kebab(&c.kind), message: format::one_line(&c.message) }
}

fn noise_source_view(n: &wavegap_core::findings::NoiseSource) -> NoiseSourceView {
    NoiseSourceView {
        source: n.source.to_string(),
        records: format::count(n.records),
        targets: n.targets,
        ports: n.sample_ports.join(", "),
        first_seen: format::time(n.first_seen),
        last_seen: format::time(n.last_seen),
    }
}

fn resource_name(inventory: &Inventory, change: &RuleChange) -> String {
    match change {
        RuleChange::SgRule { group_id, group_name, .. } => group_name
            .clone()
            .or_else(|| inventory.security_groups.get(group_id).map(|g| g.name.clone()))
            .unwrap_or_default(),
        RuleChange::NaclEntry { acl_id, .. } => {
            inventory.nacls.get(acl_id).and_then(|a| a.name.clone()).unwrap_or_default()
        }
    }
}

fn proposal_view(inventory: &Inventory, p: &Proposal) -> ProposalView {
    let name = resource_name(inventory, &p.change);
    let tf_name = format!("{}_{}", format::slug(&p.id).replace('-', "_"), format::slug(&name).replace('-', "_"));
    match &p.change {
        RuleChange::SgRule { group_id, egress, rule, .. } => {
            let owner = inventory.security_groups.get(group_id).and_then(|g| g.owner_id.clone());
            ProposalView {
                id: p.id.clone(),
                anchor: format::slug(&p.id),
                kind: "security group".to_owned(),
                resource: group_id.clone(),
                resource_name: format::one_line(&name),
                owner,
                direction: if *egress { "egress" } else { "ingress" }.to_owned(),
                summary: format!("allow {}", format::sg_rule(inventory, rule, *egress)),
                fixes: p.fixes.clone(),
                warnings: p.warnings.iter().map(|w| format::one_line(w)).collect(),
                over_quota: p.over_quota,
                cli: sg_cli(group_id, *egress, rule, &p.id),
                tf_type: if *egress {
                    "aws_vpc_security_group_egress_rule"
                } else {
                    "aws_vpc_security_group_ingress_rule"
                }
                .to_owned(),
                tf_name,
                tf_attrs: sg_tf(group_id, rule, &p.id),
            }
        }
        RuleChange::NaclEntry { acl_id, entry, .. } => {
            let owner = inventory
                .nacls
                .get(acl_id)
                .and_then(|_| inventory.vpcs.get(&inventory.nacls[acl_id].vpc_id).and_then(|v| v.owner_id.clone()));
            ProposalView {
                id: p.id.clone(),
                anchor: format::slug(&p.id),
                kind: "network ACL".to_owned(),
                resource: acl_id.clone(),
                resource_name: format::one_line(&name),
                owner,
                direction: if entry.egress { "outbound" } else { "inbound" }.to_owned(),
                summary: format::nacl_entry(entry).trim_start().to_owned(),
                fixes: p.fixes.clone(),
                warnings: p.warnings.iter().map(|w| format::one_line(w)).collect(),
                over_quota: p.over_quota,
                cli: nacl_cli(acl_id, entry),
                tf_type: "aws_network_acl_rule".to_owned(),
                tf_name,
                tf_attrs: nacl_tf(acl_id, entry),
            }
        }
    }
}

fn port_range(rule_protocol: Protocol, ports: PortMatch) -> Option<(i32, i32)> {
    match (rule_protocol, ports) {
        (Protocol::All, _) | (_, PortMatch::Any) => None,
        (_, PortMatch::Ports(r)) => Some((i32::from(r.from), i32::from(r.to))),
        (_, PortMatch::Icmp(i)) => Some((i.icmp_type.map_or(-1, i32::from), i.code.map_or(-1, i32::from))),
    }
}

fn protocol_arg(p: Protocol) -> String {
    match p {
        Protocol::All => "-1".to_owned(),
        Protocol::Number(n) => match n {
            6 => "tcp".to_owned(),
            17 => "udp".to_owned(),
            1 => "icmp".to_owned(),
            58 => "icmpv6".to_owned(),
            n => n.to_string(),
        },
    }
}

fn sg_cli(group_id: &str, egress: bool, rule: &SgRule, proposal: &str) -> String {
    let mut perm = serde_json::Map::new();
    perm.insert("IpProtocol".into(), protocol_arg(rule.protocol).into());
    if let Some((from, to)) = port_range(rule.protocol, rule.ports) {
        perm.insert("FromPort".into(), from.into());
        perm.insert("ToPort".into(), to.into());
    }
    let description = rule.description.clone().unwrap_or_else(|| format!("wavegap {proposal}"));
    let mut peer = serde_json::Map::new();
    let key = match &rule.peer {
        SgPeer::Cidr(net) => {
            let (k, list) = if net.addr().is_ipv4() { ("CidrIp", "IpRanges") } else { ("CidrIpv6", "Ipv6Ranges") };
            peer.insert(k.into(), net.to_string().into());
            list
        }
        SgPeer::PrefixList(id) => {
            peer.insert("PrefixListId".into(), id.clone().into());
            "PrefixListIds"
        }
        SgPeer::Group { group_id, owner_id, .. } => {
            peer.insert("GroupId".into(), group_id.clone().into());
            if let Some(owner) = owner_id {
                peer.insert("UserId".into(), owner.clone().into());
            }
            "UserIdGroupPairs"
        }
    };
    if !description.is_empty() {
        peer.insert("Description".into(), format::one_line(&description).into());
    }
    perm.insert(key.into(), serde_json::Value::Array(vec![peer.into()]));
    let json = serde_json::Value::Array(vec![perm.into()]).to_string();
    let command = if egress { "authorize-security-group-egress" } else { "authorize-security-group-ingress" };
    ["aws", "ec2", command, "--group-id", group_id, "--ip-permissions", &json]
        .iter()
        .map(|a| format::shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn nacl_cli(acl_id: &str, entry: &NaclEntry) -> String {
    let mut args: Vec<String> = vec![
        "aws".into(),
        "ec2".into(),
        "create-network-acl-entry".into(),
        "--network-acl-id".into(),
        acl_id.into(),
        if entry.egress { "--egress" } else { "--ingress" }.into(),
        "--rule-number".into(),
        entry.rule_number.to_string(),
        "--protocol".into(),
        match entry.protocol {
            Protocol::All => "-1".into(),
            Protocol::Number(n) => n.to_string(),
        },
    ];
    match (entry.protocol, entry.ports) {
        (Protocol::All, _) | (_, PortMatch::Any) => {}
        (_, PortMatch::Ports(r)) => {
            args.push("--port-range".into());
            args.push(format!("From={},To={}", r.from, r.to));
        }
        (_, PortMatch::Icmp(i)) => {
            args.push("--icmp-type-code".into());
            args.push(format!("Type={},Code={}", i.icmp_type.map_or(-1, i32::from), i.code.map_or(-1, i32::from)));
        }
    }
    args.push(if entry.cidr.addr().is_ipv4() { "--cidr-block" } else { "--ipv6-cidr-block" }.into());
    args.push(entry.cidr.to_string());
    args.push("--rule-action".into());
    args.push(to_kebab(&entry.action));
    args.iter().map(|a| format::shell_quote(a)).collect::<Vec<_>>().join(" ")
}

fn attr(key: &str, value: String) -> TfAttr {
    TfAttr { key: key.to_owned(), value }
}

fn sg_tf(group_id: &str, rule: &SgRule, proposal: &str) -> Vec<TfAttr> {
    let mut attrs = vec![
        attr("security_group_id", format::hcl_string(group_id)),
        attr("ip_protocol", format::hcl_string(&protocol_arg(rule.protocol))),
    ];
    if let Some((from, to)) = port_range(rule.protocol, rule.ports) {
        attrs.push(attr("from_port", from.to_string()));
        attrs.push(attr("to_port", to.to_string()));
    }
    match &rule.peer {
        SgPeer::Cidr(net) if net.addr().is_ipv4() => {
            attrs.push(attr("cidr_ipv4", format::hcl_string(&net.to_string())));
        }
        SgPeer::Cidr(net) => attrs.push(attr("cidr_ipv6", format::hcl_string(&net.to_string()))),
        SgPeer::PrefixList(id) => attrs.push(attr("prefix_list_id", format::hcl_string(id))),
        SgPeer::Group { group_id, .. } => {
            attrs.push(attr("referenced_security_group_id", format::hcl_string(group_id)));
        }
    }
    let description = rule.description.clone().unwrap_or_else(|| format!("wavegap {proposal}"));
    attrs.push(attr("description", format::hcl_string(&format::one_line(&description))));
    attrs
}

fn nacl_tf(acl_id: &str, entry: &NaclEntry) -> Vec<TfAttr> {
    let mut attrs = vec![
        attr("network_acl_id", format::hcl_string(acl_id)),
        attr("rule_number", entry.rule_number.to_string()),
        attr("egress", entry.egress.to_string()),
        attr(
            "protocol",
            format::hcl_string(&match entry.protocol {
                Protocol::All => "-1".to_owned(),
                Protocol::Number(n) => n.to_string(),
            }),
        ),
        attr("rule_action", format::hcl_string(&to_kebab(&entry.action))),
    ];
    if entry.cidr.addr().is_ipv4() {
        attrs.push(attr("cidr_block", format::hcl_string(&entry.cidr.to_string())));
    } else {
        attrs.push(attr("ipv6_cidr_block", format::hcl_string(&entry.cidr.to_string())));
    }
    match (entry.protocol, entry.ports) {
        (Protocol::All, _) | (_, PortMatch::Any) => {}
        (_, PortMatch::Ports(r)) => {
            attrs.push(attr("from_port", r.from.to_string()));
            attrs.push(attr("to_port", r.to.to_string()));
        }
        (_, PortMatch::Icmp(i)) => {
            attrs.push(attr("icmp_type", i.icmp_type.map_or(-1, i32::from).to_string()));
            attrs.push(attr("icmp_code", i.code.map_or(-1, i32::from).to_string()));
        }
    }
    attrs
}

/// Groups proposals per resource and renders each as a diff against the current rules.
fn change_groups(inventory: &Inventory, proposals: &[Proposal], keep: impl Fn(&Proposal) -> bool) -> Vec<ChangeGroup> {
    let mut by_resource: BTreeMap<&str, Vec<&Proposal>> = BTreeMap::new();
    for p in proposals.iter().filter(|p| keep(p)) {
        by_resource.entry(p.change.resource()).or_default().push(p);
    }
    by_resource
        .into_iter()
        .map(|(resource, ps)| {
            let is_sg = matches!(ps[0].change, RuleChange::SgRule { .. });
            let lines = if is_sg { sg_diff(inventory, resource, &ps) } else { nacl_diff(inventory, resource, &ps) };
            let diff: String = lines
                .iter()
                .map(|l| match l.kind.as_str() {
                    "add" => format!("+ {}\n", l.text),
                    "section" => format!("@@ {} @@\n", l.text),
                    _ => format!("  {}\n", l.text),
                })
                .collect();
            ChangeGroup {
                kind: if is_sg { "security group" } else { "network ACL" }.to_owned(),
                title: if is_sg { "Security group" } else { "Network ACL" }.to_owned(),
                resource: resource.to_owned(),
                resource_name: format::one_line(&resource_name(inventory, &ps[0].change)),
                proposals: ps.iter().map(|p| p.id.clone()).collect(),
                fence: format::fence(&diff),
                lines,
                diff,
            }
        })
        .collect()
}

fn line(kind: &str, text: String) -> DiffLine {
    DiffLine { kind: kind.to_owned(), text }
}

fn sg_diff(inventory: &Inventory, group_id: &str, proposals: &[&Proposal]) -> Vec<DiffLine> {
    let group = inventory.security_groups.get(group_id);
    let mut lines = Vec::new();
    for egress in [false, true] {
        let added: Vec<(&SgRule, &str)> = proposals
            .iter()
            .filter_map(|p| match &p.change {
                RuleChange::SgRule { egress: e, rule, .. } if *e == egress => Some((rule, p.id.as_str())),
                _ => None,
            })
            .collect();
        if added.is_empty() {
            continue;
        }
        lines.push(line("section", format!("{} {}", group_id, if egress { "egress" } else { "ingress" })));
        let current = group.map(|g| if egress { &g.egress } else { &g.ingress });
        for rule in current.into_iter().flatten() {
            lines.push(line("keep", format::sg_rule(inventory, rule, egress)));
        }
        for (rule, id) in added {
            lines.push(line("add", format!("{}  # {id}", format::sg_rule(inventory, rule, egress))));
        }
    }
    lines
}

fn nacl_diff(inventory: &Inventory, acl_id: &str, proposals: &[&Proposal]) -> Vec<DiffLine> {
    let acl = inventory.nacls.get(acl_id);
    let mut lines = Vec::new();
    for egress in [false, true] {
        let added: Vec<(&NaclEntry, &str)> = proposals
            .iter()
            .filter_map(|p| match &p.change {
                RuleChange::NaclEntry { entry, .. } if entry.egress == egress => Some((entry, p.id.as_str())),
                _ => None,
            })
            .collect();
        if added.is_empty() {
            continue;
        }
        lines.push(line("section", format!("{} {}", acl_id, if egress { "outbound" } else { "inbound" })));
        // Current entries and the new ones, in evaluation order; the `*` entry last.
        let mut rows: Vec<(u16, bool, String)> = acl
            .into_iter()
            .flat_map(|a| a.entries.iter())
            .filter(|e| e.egress == egress)
            .map(|e| (e.rule_number, false, format::nacl_entry(e)))
            .collect();
        if !rows.iter().any(|r| r.0 >= wavegap_core::inventory::NACL_DEFAULT_RULE_NUMBER) {
            rows.push((
                wavegap_core::inventory::NACL_DEFAULT_RULE_NUMBER,
                false,
                format!("{:>5} deny all traffic {} 0.0.0.0/0", "*", if egress { "to" } else { "from" }),
            ));
        }
        for (entry, id) in added {
            rows.push((entry.rule_number, true, format!("{}  # {id}", format::nacl_entry(entry))));
        }
        rows.sort_by_key(|r| (r.0, r.1));
        for (_, add, text) in rows {
            lines.push(line(if add { "add" } else { "keep" }, text));
        }
    }
    lines
}

fn app_diagram(
    wave: &WaveConfig,
    accepted_flows: &[wavegap_core::findings::AcceptedFlow],
    app: &str,
    servers: &[wavegap_core::wave::Server],
    rejected: &[&RejectedFinding],
    unanswered: &[&UnansweredFinding],
) -> Diagram {
    let mut names: BTreeMap<String, String> = wave.servers().map(|s| (s.ip.to_string(), s.name.clone())).collect();
    let mut app_ips: BTreeSet<String> = servers.iter().map(|s| s.ip.to_string()).collect();
    // A server's other addresses (secondary, IPv6) and dependencies, as the findings name them.
    let ends = rejected
        .iter()
        .flat_map(|f| [&f.client, &f.server])
        .chain(unanswered.iter().flat_map(|f| [&f.client, &f.server]));
    for end in ends {
        if let Some(name) = end.name() {
            names.entry(end.ip.to_string()).or_insert_with(|| name.to_owned());
        }
        if end.in_wave && end.app.as_deref() == Some(app) {
            app_ips.insert(end.ip.to_string());
        }
    }
    let mut edges: Vec<Edge> = Vec::new();
    let mut seen: BTreeSet<(String, String, u8, u16)> = BTreeSet::new();
    for f in rejected {
        let key = (f.client.ip.to_string(), f.server.ip.to_string(), f.protocol, f.port);
        let suffix = if matches!(f.leg, wavegap_core::findings::Leg::Response) { " (return)" } else { "" };
        edges.push(Edge {
            from: key.0.clone(),
            to: key.1.clone(),
            label: format!("{}{suffix}", format::service(f.protocol, f.port)),
            status: EdgeStatus::Rejected,
        });
        seen.insert(key);
    }
    for f in unanswered {
        let key = (f.client.ip.to_string(), f.server.ip.to_string(), f.protocol, f.port);
        edges.push(Edge {
            from: key.0.clone(),
            to: key.1.clone(),
            label: format::service(f.protocol, f.port),
            status: EdgeStatus::Unanswered,
        });
        seen.insert(key);
    }
    let mut accepted: BTreeSet<(String, String, u8, u16)> = BTreeSet::new();
    for a in accepted_flows {
        let key = (a.client.to_string(), a.server.to_string(), a.protocol, a.port);
        if (app_ips.contains(&key.0) || app_ips.contains(&key.1)) && !seen.contains(&key) {
            accepted.insert(key);
        }
    }
    edges.extend(accepted.into_iter().map(|(from, to, protocol, port)| Edge {
        from,
        to,
        label: format::service(protocol, port),
        status: EdgeStatus::Accepted,
    }));
    diagram::build(app, &app_ips, &names, &edges)
}
