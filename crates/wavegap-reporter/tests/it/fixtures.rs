//! Report inputs built by hand: the demo wave's expected analysis and variations of it.
//!
//! The analysis here is what `wavegap-core` should produce for `waves/demo.toml` (five
//! rejected flows, one unanswered); the end-to-end test in the binary crate renders the real
//! one. Keeping a hand-made copy here lets the reporter be tested on its own, edge cases
//! included.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use wavegap_core::direction::DirectionFrom;
use wavegap_core::findings::{
    AcceptedFlow, Analysis, Attribution, Caveat, CaveatKind, Culprit, Evidence, FlowEnd, HeldBack, Hop, IgnoredCount,
    Leg, LikelyCause, Noise, NoiseSource, NotSeenFinding, PeerKind, Proposal, RejectedFinding, RuleChange,
    SCHEMA_VERSION, Summary, Suppression, UnansweredFinding, UnansweredSignal,
};
use wavegap_core::flow::{CoverageGap, FlowAggregate, FlowData, ScanStats, TimeWindow};
use wavegap_core::flowlog::{Action, FlowDirection};
use wavegap_core::inventory::{
    Eni, FlowLog, FlowLogDestination, Inventory, NaclEntry, NetworkAcl, PortMatch, PortRange, Protocol, RuleAction,
    SecurityGroup, SgPeer, SgRule, Subnet, Vpc, VpcPeering,
};
use wavegap_core::wave::{
    App, AwsSettings, EphemeralPolicy, IgnoreRule, LogGroups, Networks, OneWay, QuerySettings, Server, Service, Source,
    WaveConfig, WindowSpec,
};

pub const T0: i64 = 1_772_442_000;
pub const WEB: &str = "10.0.0.6";
pub const APP: &str = "10.0.0.7";
pub const DB: &str = "10.0.0.8";
pub const FS: &str = "10.250.1.10";
pub const SG_WEB: &str = "sg-dcbcf58f0925ed2ad";
pub const SG_APP: &str = "sg-43fbfe2103459dade";
pub const SG_DB: &str = "sg-dbdc99efaaf35db8b";
pub const ACL: &str = "acl-42a246adb36420e01";
const VPC: &str = "vpc-0080e242d1d87a6e3";
const VPC_SHARED: &str = "vpc-9b4609287edcaad40";
const SUBNET: &str = "subnet-3a4f14560c2c3ccb2";
const FLOW_LOG: &str = "fl-4949171d49ad4b4d1";

/// Everything a report is built from, owned.
#[derive(Debug, Clone)]
pub struct Input {
    pub wave: WaveConfig,
    pub inventory: Inventory,
    pub flows: FlowData,
    pub analysis: Analysis,
    pub log_groups: Vec<String>,
}

impl Input {
    pub fn report_input(&self) -> wavegap_reporter::ReportInput<'_> {
        wavegap_reporter::ReportInput {
            wave: &self.wave,
            inventory: &self.inventory,
            flows: &self.flows,
            aggregates: self.flows.aggregates.len(),
            analysis: &self.analysis,
            log_groups: &self.log_groups,
            generated_at: "2026-11-27T05:00:00Z",
            generator: "wavegap 0.1.0",
            comparison: wavegap_reporter::Comparison::None,
        }
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn server(name: &str, addr: &str, role: &str) -> Server {
    Server {
        name: name.into(),
        app: "orders".into(),
        ip: ip(addr),
        ips: vec![],
        instance_id: None,
        role: Some(role.into()),
        os: Some(wavegap_core::inventory::Os::Windows),
        on_premises: false,
        account: None,
    }
}

pub fn wave() -> WaveConfig {
    WaveConfig {
        name: "demo".into(),
        description: Some("orders: three-tier app (IIS, app service, SQL Server) after cutover".into()),
        path: PathBuf::from("waves/demo.toml"),
        window: WindowSpec::Absolute(TimeWindow { start: T0, end: T0 + 3600 }),
        aws: AwsSettings::default(),
        accounts: Vec::new(),
        networks: Networks {
            internal: vec![net("10.0.0.0/8"), net("192.168.0.0/16")],
            on_premises: vec![net("192.168.0.0/16"), net("192.168.10.0/24")],
        },
        log_groups: LogGroups::default(),
        apps: vec![App {
            name: "orders".into(),
            description: Some("order entry: IIS front end, .NET app service, SQL Server".into()),
            servers: vec![server("web01", WEB, "web"), server("app01", APP, "app"), server("db01", DB, "db")],
        }],
        expected_flows: vec![],
        source: Source::Files {
            dir: "waves/demo/flowlogs".into(),
            inventory: Some("waves/demo/inventory.json".into()),
        },
        ephemeral: EphemeralPolicy::default(),
        ignore: vec![IgnoreRule {
            network: net("192.168.99.10/32"),
            service: None,
            reason: "vulnerability scanner (weekly sweep)".into(),
        }],
        one_way: vec![OneWay { service: Service { protocol: 17, port: 514 }, peer: None }],
        query: QuerySettings { max_window: Duration::from_secs(86_400), ..QuerySettings::default() },
        dependencies: vec![],
    }
}

fn sg_rule(protocol: u8, port: u16, peer: SgPeer, description: &str) -> SgRule {
    SgRule {
        id: None,
        protocol: Protocol::Number(protocol),
        ports: PortMatch::Ports(PortRange::single(port)),
        peer,
        description: (!description.is_empty()).then(|| description.into()),
    }
}

fn group(id: &str) -> SgPeer {
    SgPeer::Group { group_id: id.into(), owner_id: Some("123456789012".into()), vpc_id: None, peering_id: None }
}

fn all_out() -> SgRule {
    SgRule {
        id: None,
        protocol: Protocol::All,
        ports: PortMatch::Any,
        peer: SgPeer::Cidr(net("0.0.0.0/0")),
        description: None,
    }
}

fn sg(id: &str, name: &str, ingress: Vec<SgRule>, egress: Vec<SgRule>) -> (String, SecurityGroup) {
    (
        id.into(),
        SecurityGroup {
            id: id.into(),
            name: name.into(),
            vpc_id: Some(VPC.into()),
            owner_id: Some("123456789012".into()),
            description: None,
            ingress,
            egress,
        },
    )
}

fn entry(rule_number: u16, egress: bool, protocol: u8, cidr: &str, from: u16, to: u16) -> NaclEntry {
    NaclEntry {
        rule_number,
        egress,
        protocol: Protocol::Number(protocol),
        ports: PortMatch::Ports(PortRange { from, to }),
        cidr: net(cidr),
        action: RuleAction::Allow,
    }
}

fn eni(id: &str, addr: &str, groups: &[&str]) -> (String, Eni) {
    (
        id.into(),
        Eni {
            id: id.into(),
            subnet_id: SUBNET.into(),
            vpc_id: VPC.into(),
            owner_id: Some("123456789012".into()),
            private_ips: vec![ip(addr)],
            public_ip: None,
            security_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            instance_id: None,
            interface_type: Some("interface".into()),
            description: None,
            status: Some("in-use".into()),
        },
    )
}

pub fn inventory() -> Inventory {
    let mut acl_entries = vec![
        entry(100, false, 6, "192.168.0.0/16", 80, 80),
        entry(110, false, 6, "192.168.0.0/16", 443, 443),
        entry(130, false, 17, "10.250.0.0/16", 1024, 65535),
        entry(100, true, 6, "192.168.0.0/16", 1024, 65535),
        entry(120, true, 6, "10.250.0.0/16", 445, 445),
    ];
    for egress in [false, true] {
        acl_entries.push(NaclEntry {
            rule_number: 32767,
            egress,
            protocol: Protocol::All,
            ports: PortMatch::Any,
            cidr: net("0.0.0.0/0"),
            action: RuleAction::Deny,
        });
    }
    Inventory {
        vpcs: BTreeMap::from([
            (
                VPC.into(),
                Vpc {
                    id: VPC.into(),
                    owner_id: Some("123456789012".into()),
                    name: Some("orders-vpc".into()),
                    cidrs: vec![net("10.0.0.0/16")],
                },
            ),
            (
                VPC_SHARED.into(),
                Vpc {
                    id: VPC_SHARED.into(),
                    owner_id: Some("210987654321".into()),
                    name: Some("shared-services-vpc".into()),
                    cidrs: vec![net("10.250.0.0/16")],
                },
            ),
        ]),
        subnets: BTreeMap::from([(
            SUBNET.into(),
            Subnet {
                id: SUBNET.into(),
                vpc_id: VPC.into(),
                name: Some("orders-private-a".into()),
                availability_zone: None,
                cidrs: vec![net("10.0.0.0/24")],
            },
        )]),
        enis: BTreeMap::from([
            eni("eni-d0b4d77f904465850", WEB, &[SG_WEB]),
            eni("eni-fcfe4b12eb3580a8f", APP, &[SG_APP]),
            eni("eni-9ff7eabb283909112", DB, &[SG_DB]),
        ]),
        security_groups: BTreeMap::from([
            sg(
                SG_WEB,
                "orders-web",
                vec![
                    sg_rule(6, 443, SgPeer::Cidr(net("192.168.0.0/16")), "HTTPS from on-premises users"),
                    sg_rule(6, 8443, group(SG_APP), "callbacks from the app tier"),
                ],
                vec![all_out()],
            ),
            sg(
                SG_APP,
                "orders-app",
                vec![sg_rule(6, 8080, group(SG_WEB), "web tier to the app service")],
                vec![
                    sg_rule(6, 1433, group(SG_DB), "SQL Server default instance"),
                    sg_rule(6, 445, SgPeer::Cidr(net("10.250.1.10/32")), "SMB to fs01"),
                ],
            ),
            sg(
                SG_DB,
                "orders-db",
                vec![sg_rule(6, 1433, group(SG_APP), "SQL Server from the app tier")],
                vec![all_out()],
            ),
        ]),
        nacls: BTreeMap::from([(
            ACL.into(),
            NetworkAcl {
                id: ACL.into(),
                vpc_id: VPC.into(),
                name: Some("orders-private".into()),
                is_default: false,
                subnet_ids: vec![SUBNET.into()],
                entries: acl_entries,
            },
        )]),
        peerings: BTreeMap::from([(
            "pcx-1976b94265c3722f2".into(),
            VpcPeering {
                id: "pcx-1976b94265c3722f2".into(),
                requester_vpc_id: VPC.into(),
                accepter_vpc_id: VPC_SHARED.into(),
                status: Some("active".into()),
            },
        )]),
        flow_logs: BTreeMap::from([(
            FLOW_LOG.into(),
            FlowLog {
                id: FLOW_LOG.into(),
                resource_id: VPC.into(),
                destination_type: FlowLogDestination::S3,
                log_group: None,
                destination: Some("arn:aws:s3:::acme-flowlogs-central".into()),
                traffic_type: Some("ALL".into()),
                log_format: None,
                status: Some("ACTIVE".into()),
                max_aggregation_interval: Some(600),
                created: None,
            },
        )]),
        ..Inventory::default()
    }
}

fn end(addr: &str, kind: PeerKind, name: Option<&str>, eni: Option<&str>) -> FlowEnd {
    FlowEnd {
        ip: ip(addr),
        kind,
        server: name.map(Into::into),
        app: name.map(|_| "orders".into()),
        eni: eni.map(Into::into),
        subnet: eni.map(|_| SUBNET.into()),
        vpc: eni.map(|_| VPC.into()),
        in_wave: name.is_some(),
        dependency: None,
    }
}

fn web() -> FlowEnd {
    end(WEB, PeerKind::Aws, Some("web01"), Some("eni-d0b4d77f904465850"))
}
fn app() -> FlowEnd {
    end(APP, PeerKind::Aws, Some("app01"), Some("eni-fcfe4b12eb3580a8f"))
}
fn db() -> FlowEnd {
    end(DB, PeerKind::Aws, Some("db01"), Some("eni-9ff7eabb283909112"))
}

fn evidence(records: u64, enis: &[&str]) -> Evidence {
    Evidence {
        records,
        packets: records * 3,
        bytes: records * 156,
        first_seen: T0 + 35,
        last_seen: T0 + 3300,
        enis: enis.iter().map(|e| (*e).to_owned()).collect(),
        log_groups: vec![FLOW_LOG.into()],
        tcp_flags: Some(2),
    }
}

#[allow(clippy::too_many_arguments)]
fn rejected(
    client: FlowEnd,
    server: FlowEnd,
    protocol: u8,
    port: u16,
    leg: Leg,
    hop: Hop,
    resource: &str,
    rule: &str,
    records: u64,
    proposal: &str,
) -> RejectedFinding {
    let proto = if protocol == 6 { "tcp" } else { "udp" };
    let leg_name = if leg == Leg::Request { "request" } else { "response" };
    RejectedFinding {
        id: format!("rejected/{proto}/{port}/{}/{}/{leg_name}", client.ip, server.ip),
        explanation: format!("{} drops {proto}/{port} from {} to {}", hop.label(), client.ip, server.ip),
        evidence: evidence(records, &[client.eni.as_deref().or(server.eni.as_deref()).unwrap_or("eni-unknown")]),
        client,
        server,
        protocol,
        port,
        leg,
        direction_from: DirectionFrom::PortEvidence,
        direction_split: false,
        attribution: Attribution::Confirmed,
        culprits: vec![Culprit { hop, resource: resource.into(), rule: rule.into(), rule_number: None }],
        proposals: if proposal.is_empty() { Vec::new() } else { vec![proposal.into()] },
        held_back: None,
    }
}

fn sg_change(id: &str, group_id: &str, name: &str, egress: bool, rule: SgRule, fixes: &str) -> Proposal {
    Proposal {
        id: id.into(),
        change: RuleChange::SgRule { group_id: group_id.into(), group_name: Some(name.into()), egress, rule },
        fixes: vec![fixes.into()],
        warnings: vec![],
        over_quota: false,
    }
}

pub fn analysis() -> Analysis {
    let user = end("192.168.10.35", PeerKind::OnPremises, None, None);
    let fs = end(FS, PeerKind::Aws, None, Some("eni-80958e604250d7b3a"));
    let rejected = vec![
        rejected(
            user,
            web(),
            6,
            80,
            Leg::Request,
            Hop::DestinationSgIngress,
            SG_WEB,
            "no rule allows tcp/80 from 192.168.10.35",
            6,
            "P003",
        ),
        rejected(
            app(),
            fs,
            6,
            445,
            Leg::Response,
            Hop::ReturnSourceNaclInbound,
            ACL,
            "* deny all traffic from 0.0.0.0/0",
            6,
            "P005",
        ),
        rejected(
            app(),
            web(),
            6,
            8443,
            Leg::Request,
            Hop::SourceSgEgress,
            SG_APP,
            "no rule allows tcp/8443 to 10.0.0.6",
            6,
            "P002",
        ),
        rejected(
            app(),
            db(),
            6,
            49172,
            Leg::Request,
            Hop::DestinationSgIngress,
            SG_DB,
            "no rule allows tcp/49172 from 10.0.0.7",
            12,
            "P001",
        ),
        rejected(
            web(),
            db(),
            17,
            1434,
            Leg::Request,
            Hop::DestinationSgIngress,
            SG_DB,
            "no rule allows udp/1434 from 10.0.0.6",
            6,
            "P004",
        ),
    ];
    let unanswered = vec![UnansweredFinding {
        id: format!("unanswered/tcp/443/{APP}/192.168.50.20"),
        client: app(),
        server: end("192.168.50.20", PeerKind::OnPremises, None, None),
        protocol: 6,
        port: 443,
        direction_from: DirectionFrom::TcpFlags,
        direction_split: false,
        signal: UnansweredSignal::SynOnly,
        likely_cause: LikelyCause::OnPremises,
        suppressed: None,
        evidence: evidence(12, &["eni-fcfe4b12eb3580a8f"]),
    }];
    let proposals = vec![
        sg_change("P001", SG_DB, "orders-db", false, sg_rule(6, 49172, group(SG_APP), ""), &rejected[3].id),
        sg_change("P002", SG_APP, "orders-app", true, sg_rule(6, 8443, group(SG_WEB), ""), &rejected[2].id),
        sg_change(
            "P003",
            SG_WEB,
            "orders-web",
            false,
            sg_rule(6, 80, SgPeer::Cidr(net("192.168.10.0/24")), ""),
            &rejected[0].id,
        ),
        sg_change("P004", SG_DB, "orders-db", false, sg_rule(17, 1434, group(SG_WEB), ""), &rejected[4].id),
        Proposal {
            id: "P005".into(),
            change: RuleChange::NaclEntry {
                acl_id: ACL.into(),
                entry: entry(140, false, 6, "10.250.1.10/32", 49152, 65535),
                before_rule: 32767,
                return_traffic: true,
            },
            fixes: vec![rejected[1].id.clone()],
            warnings: vec![],
            over_quota: false,
        },
    ];
    Analysis {
        schema_version: SCHEMA_VERSION,
        wave: "demo".into(),
        window: TimeWindow { start: T0, end: T0 + 3600 },
        summary: Summary {
            servers: 3,
            aggregates: 40,
            rejected: rejected.len(),
            unanswered: 1,
            proposals: proposals.len(),
            noise_records: 5,
            ignored_records: 21,
            ..Summary::default()
        },
        rejected,
        unanswered,
        not_seen: vec![],
        noise: Noise {
            outside: vec![NoiseSource {
                source: ip("198.51.100.77"),
                records: 4,
                targets: 2,
                sample_ports: vec!["tcp/22".into(), "tcp/3389".into()],
                first_seen: T0 + 700,
                last_seen: T0 + 2600,
            }],
            ignored: vec![IgnoredCount {
                network: net("192.168.99.10/32"),
                service: None,
                reason: "vulnerability scanner (weekly sweep)".into(),
                records: 21,
                flows: 21,
            }],
            scanners: vec![],
        },
        proposals,
        caveats: vec![],
        // What the analysis makes of `flows()`: each accepted aggregate is a request.
        accepted: flows()
            .aggregates
            .iter()
            .filter(|a| a.action == Action::Accept)
            .map(|a| AcceptedFlow { client: a.src, server: a.dst, protocol: a.protocol, port: a.port })
            .collect(),
    }
}

fn aggregate(src: &str, dst: &str, protocol: u8, port: u16, action: Action, records: u64) -> FlowAggregate {
    FlowAggregate {
        log_group: FLOW_LOG.into(),
        interface_id: "eni-fcfe4b12eb3580a8f".into(),
        src: ip(src),
        dst: ip(dst),
        protocol,
        port,
        src_ports: Some(PortRange { from: 49152, to: 60000 }),
        dst_ports: Some(PortRange::single(port)),
        action,
        direction: Some(FlowDirection::Egress),
        tcp_flags: Some(3),
        records,
        packets: records * 12,
        bytes: records * 4800,
        first_seen: T0,
        last_seen: T0 + 3599,
    }
}

pub fn flows() -> FlowData {
    FlowData {
        aggregates: vec![
            aggregate("192.168.10.21", WEB, 6, 443, Action::Accept, 6),
            aggregate(WEB, APP, 6, 8080, Action::Accept, 24),
            aggregate(APP, DB, 6, 1433, Action::Accept, 24),
            aggregate(APP, FS, 6, 445, Action::Accept, 6),
            aggregate(APP, "192.168.50.20", 6, 443, Action::Accept, 12),
            aggregate(APP, "192.168.20.5", 17, 514, Action::Accept, 6),
        ],
        skipdata: BTreeMap::new(),
        gaps: vec![],
        damaged: vec![],
        stats: ScanStats {
            queries: 1,
            queries_answered: 1,
            records_scanned: 453,
            records_matched: 400,
            bytes_scanned: 52_000,
            estimated_cost: 0.0,
            objects_skipped: 0,
            server_parts: 0,
            s3: None,
            accounts: Vec::new(),
        },
        objects_read: Vec::new(),
    }
}

pub fn demo() -> Input {
    Input {
        wave: wave(),
        inventory: inventory(),
        flows: flows(),
        analysis: analysis(),
        log_groups: vec![FLOW_LOG.into()],
    }
}

/// Nothing wrong at all.
pub fn no_findings() -> Input {
    let mut input = demo();
    let a = &mut input.analysis;
    a.rejected.clear();
    a.unanswered.clear();
    a.proposals.clear();
    a.noise = Noise::default();
    a.summary = Summary { servers: 3, aggregates: 40, ..Summary::default() };
    input
}

/// Only the unanswered flow, and an expected flow that never showed.
pub fn only_unanswered() -> Input {
    let mut input = demo();
    let a = &mut input.analysis;
    a.rejected.clear();
    a.proposals.clear();
    a.summary.rejected = 0;
    a.summary.proposals = 0;
    a.summary.not_seen = 1;
    a.not_seen.push(NotSeenFinding {
        id: "not-seen/tcp/1433/app01/10.250.2.30/32".into(),
        src: "app01".into(),
        dst: "10.250.2.30/32".into(),
        protocol: 6,
        port: 1433,
        note: "listed in the wave file, no record in the window".into(),
    });
    input
}

/// A chunk that kept failing: its log groups and window are missing.
pub fn failed_chunk() -> Input {
    let mut input = demo();
    input.flows.gaps.push(CoverageGap {
        account: None,
        log_groups: vec!["/vpc/flowlogs/orders".into(), "/vpc/flowlogs/shared".into()],
        window: TimeWindow { start: T0, end: T0 + 1800 },
        reason: "query Failed three times (last: Timeout)".into(),
        unreachable: false,
        chunk: None,
    });
    input.analysis.caveats.push(Caveat {
        kind: CaveatKind::CoverageGap,
        message: "2 log groups could not be queried from 09:00 to 09:30: flows there are missing".into(),
    });
    input
}

/// Names and descriptions that try to break out of every format.
pub fn hostile_names() -> Input {
    let mut input = demo();
    let evil = "<script>alert(1)</script> *bold* _x_ | [l](http://x) `tick` $(touch pwned) ${var}\n# heading";
    input.wave.description = Some(evil.into());
    input.wave.apps[0].name = format!("orders {evil}");
    input.wave.apps[0].description = Some(evil.into());
    let app_name = input.wave.apps[0].name.clone();
    for s in &mut input.wave.apps[0].servers {
        s.name = format!("{}<img src=x onerror=alert(1)>|*", s.name);
        s.app.clone_from(&app_name);
    }
    let names: BTreeMap<IpAddr, String> = input.wave.apps[0].servers.iter().map(|s| (s.ip, s.name.clone())).collect();
    let fix = |end: &mut FlowEnd| {
        if let Some(n) = names.get(&end.ip) {
            end.server = Some(n.clone());
            end.app = Some(app_name.clone());
        }
    };
    for f in &mut input.analysis.rejected {
        fix(&mut f.client);
        fix(&mut f.server);
        f.explanation = format!("{} {evil}", f.explanation);
    }
    for f in &mut input.analysis.unanswered {
        fix(&mut f.client);
        fix(&mut f.server);
        // Held back by an ENI whose id the flow log gave: data, like the names.
        f.suppressed = Some(Suppression::Skipdata { enis: vec![evil.into()] });
    }
    let held_back = input.analysis.unanswered.len();
    input.analysis.summary.unanswered -= held_back;
    input.analysis.summary.unanswered_suppressed += held_back;
    for p in &mut input.analysis.proposals {
        if let RuleChange::SgRule { rule, .. } = &mut p.change {
            rule.description = Some(format!("it's {evil}"));
        }
        p.warnings.push(evil.into());
    }
    if let Some(g) = input.inventory.security_groups.get_mut(SG_DB) {
        g.name = format!("orders-db {evil}");
    }
    input.analysis.noise.ignored[0].reason = evil.into();
    input
}

/// A wave the size of a real one: the demo plus 5,000 on-premises clients rejected on
/// tcp/443 at web01 (one change fixes them all), 400 clients unanswered on tcp/8443, 2,000
/// accepted clients, and a second app. The report must stay short where the wave is big.
pub fn large() -> Input {
    let mut input = demo();
    input.wave.name = "large".into();
    input.wave.networks.on_premises.push(net("172.16.0.0/12"));
    input.wave.networks.internal.push(net("172.16.0.0/12"));
    input.wave.apps.push(App {
        name: "billing".into(),
        description: None,
        servers: vec![Server { app: "billing".into(), ..server("bill01", "10.0.0.20", "app") }],
    });
    let (id, bill_eni) = eni("eni-bill", "10.0.0.20", &[SG_APP]);
    input.inventory.enis.insert(id, bill_eni);
    let a = &mut input.analysis;
    let mut ids = Vec::new();
    for i in 0..5_000_u32 {
        let client = format!("172.16.{}.{}", i / 250, i % 250 + 1);
        let mut f = rejected(
            end(&client, PeerKind::OnPremises, None, None),
            web(),
            6,
            443,
            Leg::Request,
            Hop::DestinationSgIngress,
            SG_WEB,
            &format!("no rule of {SG_WEB} allows tcp/443 from {client}"),
            u64::from(1 + i % 7),
            "P006",
        );
        f.evidence.last_seen = T0 + 600 + i64::from(i % 3000);
        ids.push(f.id.clone());
        a.rejected.push(f);
    }
    let bill =
        FlowEnd { app: Some("billing".into()), ..end("10.0.0.20", PeerKind::Aws, Some("bill01"), Some("eni-bill")) };
    a.rejected.push(rejected(
        bill,
        db(),
        6,
        1433,
        Leg::Request,
        Hop::DestinationSgIngress,
        SG_DB,
        "no rule of sg-dbdc99efaaf35db8b allows tcp/1433 from 10.0.0.20",
        40,
        "P007",
    ));
    let bill_id = a.rejected.last().map(|f| f.id.clone()).unwrap_or_default();
    for i in 0..400_u32 {
        let client = format!("192.168.{}.{}", 30 + i / 200, i % 200 + 1);
        a.unanswered.push(UnansweredFinding {
            id: format!("unanswered/tcp/8443/{client}/{WEB}"),
            client: end(&client, PeerKind::OnPremises, None, None),
            server: web(),
            protocol: 6,
            port: 8443,
            direction_from: DirectionFrom::TcpFlags,
            direction_split: false,
            signal: UnansweredSignal::SynOnly,
            likely_cause: LikelyCause::AwsPeerSilent,
            suppressed: None,
            evidence: evidence(3, &["eni-d0b4d77f904465850"]),
        });
    }
    // 300 strays from an internal range no host of the inventory holds, one record each, to
    // two servers on two ports: held back, one row per service.
    for i in 0..300_u32 {
        let client = format!("10.99.{}.{}", i / 200, i % 200 + 4);
        let (server, port, sg) = if i % 2 == 0 { (web(), 22, SG_WEB) } else { (db(), 1433, SG_DB) };
        let mut f = rejected(
            end(&client, PeerKind::Internal, None, None),
            server,
            6,
            port,
            Leg::Request,
            Hop::DestinationSgIngress,
            sg,
            &format!("no rule of {sg} allows tcp/{port} from {client}"),
            1,
            "",
        );
        f.held_back = Some(HeldBack::SingleAttempt);
        a.rejected.push(f);
    }
    a.rejected.sort_by(|x, y| x.id.cmp(&y.id));
    a.unanswered.sort_by(|x, y| x.id.cmp(&y.id));
    a.proposals.push(Proposal {
        id: "P006".into(),
        change: RuleChange::SgRule {
            group_id: SG_WEB.into(),
            group_name: Some("orders-web".into()),
            egress: false,
            rule: sg_rule(6, 443, SgPeer::Cidr(net("172.16.0.0/12")), ""),
        },
        fixes: ids,
        warnings: vec![],
        over_quota: false,
    });
    a.proposals.push(sg_change(
        "P007",
        SG_DB,
        "orders-db",
        false,
        sg_rule(6, 1433, SgPeer::Cidr(net("10.0.0.20/32")), ""),
        &bill_id,
    ));
    for i in 0..2_000_u32 {
        a.accepted.push(AcceptedFlow {
            client: ip(&format!("192.168.{}.{}", 100 + i / 250, i % 250 + 1)),
            server: ip(WEB),
            protocol: 6,
            port: 443,
        });
    }
    a.accepted.sort();
    a.summary.rejected = a.rejected.len();
    a.summary.rejected_single_attempts = 300;
    a.summary.unanswered = a.unanswered.len();
    a.summary.proposals = a.proposals.len();
    input
}
