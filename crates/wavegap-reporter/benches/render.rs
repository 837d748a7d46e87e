//! Rendering benchmark: a wave with 10,000 findings rendered to every format.
//!
//!     cargo bench -p wavegap-reporter --bench render
//!
//! Prints the median of several runs of model building plus rendering of every file of the
//! format registry (report.md, summary.md, report.html, findings.json, findings.csv,
//! junit.xml, fix.sh, fix.tf), all in memory. The goal is < 1 s.
#![allow(
    clippy::print_stdout,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss
)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use wavegap_core::direction::DirectionFrom;
use wavegap_core::findings::{
    Analysis, Attribution, Culprit, Evidence, FlowEnd, Hop, Leg, LikelyCause, Noise, PeerKind, Proposal,
    RejectedFinding, RuleChange, SCHEMA_VERSION, Summary, UnansweredFinding, UnansweredSignal,
};
use wavegap_core::flow::{FlowData, TimeWindow};
use wavegap_core::inventory::{Eni, Inventory, PortMatch, PortRange, Protocol, SecurityGroup, SgPeer, SgRule};
use wavegap_core::wave::{
    App, AwsSettings, EphemeralPolicy, LogGroups, Networks, QuerySettings, Server, Source, WaveConfig, WindowSpec,
};
use wavegap_reporter::{Renderer, ReportInput, build};

const APPS: usize = 50;
const SERVERS_PER_APP: usize = 10;
const REJECTED: usize = 8_000;
const UNANSWERED: usize = 2_000;
const T0: i64 = 1_772_442_000;

fn server_ip(app: usize, n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, app as u8, 0, 10 + n as u8))
}

fn end(app: usize, n: usize) -> FlowEnd {
    FlowEnd {
        ip: server_ip(app, n),
        kind: PeerKind::Aws,
        server: Some(format!("app{app:02}-srv{n:02}")),
        app: Some(format!("app{app:02}")),
        eni: Some(format!("eni-{app:02}{n:02}")),
        subnet: Some(format!("subnet-{app:02}")),
        vpc: Some("vpc-1".into()),
        in_wave: true,
        dependency: None,
    }
}

fn evidence(i: usize) -> Evidence {
    Evidence {
        records: 1 + (i as u64 % 97),
        packets: 3,
        bytes: 156,
        first_seen: T0 + i as i64,
        last_seen: T0 + 3000 + i as i64,
        enis: vec![format!("eni-{i}")],
        log_groups: vec!["/vpc/flowlogs".into()],
        tcp_flags: Some(2),
    }
}

fn input() -> (WaveConfig, Inventory, FlowData, Analysis) {
    let apps: Vec<App> = (0..APPS)
        .map(|a| App {
            name: format!("app{a:02}"),
            description: None,
            servers: (0..SERVERS_PER_APP)
                .map(|n| Server {
                    name: format!("app{a:02}-srv{n:02}"),
                    app: format!("app{a:02}"),
                    ip: server_ip(a, n),
                    ips: vec![],
                    instance_id: None,
                    role: Some("app".into()),
                    os: None,
                    on_premises: false,
                    account: None,
                })
                .collect(),
        })
        .collect();
    let wave = WaveConfig {
        name: "bench".into(),
        description: None,
        path: "waves/bench.toml".into(),
        window: WindowSpec::Absolute(TimeWindow { start: T0, end: T0 + 3600 }),
        aws: AwsSettings::default(),
        accounts: Vec::new(),
        networks: Networks { internal: vec!["10.0.0.0/8".parse().unwrap()], on_premises: vec![] },
        log_groups: LogGroups::default(),
        apps,
        expected_flows: vec![],
        source: Source::CloudWatch,
        ephemeral: EphemeralPolicy::default(),
        ignore: vec![],
        one_way: vec![],
        query: QuerySettings::default(),
        dependencies: vec![],
    };
    let mut inventory = Inventory::default();
    for a in 0..APPS {
        let sg = format!("sg-{a:02}");
        inventory.security_groups.insert(
            sg.clone(),
            SecurityGroup {
                id: sg.clone(),
                name: format!("app{a:02}-sg"),
                vpc_id: Some("vpc-1".into()),
                owner_id: None,
                description: None,
                ingress: (0..20)
                    .map(|p| SgRule {
                        id: None,
                        protocol: Protocol::Number(6),
                        ports: PortMatch::Ports(PortRange::single(8000 + p)),
                        peer: SgPeer::Cidr("10.0.0.0/8".parse().unwrap()),
                        description: Some("existing".into()),
                    })
                    .collect(),
                egress: vec![],
            },
        );
        for n in 0..SERVERS_PER_APP {
            let id = format!("eni-{a:02}{n:02}");
            inventory.enis.insert(
                id.clone(),
                Eni {
                    id,
                    subnet_id: format!("subnet-{a:02}"),
                    vpc_id: "vpc-1".into(),
                    owner_id: None,
                    private_ips: vec![server_ip(a, n)],
                    public_ip: None,
                    security_groups: vec![sg.clone()],
                    instance_id: None,
                    interface_type: None,
                    description: None,
                    status: None,
                },
            );
        }
    }
    let mut rejected = Vec::with_capacity(REJECTED);
    let mut proposals = Vec::new();
    for i in 0..REJECTED {
        // Most findings stay inside one app; one in ten crosses to another app of the wave.
        let a = i % APPS;
        let b = if i % 10 == 0 { (a + 1) % APPS } else { a };
        let (client, server) = (end(a, i % SERVERS_PER_APP), end(b, (i / 7 + 1) % SERVERS_PER_APP));
        let port = 1000 + (i / (APPS * APPS)) as u16;
        let id = format!("rejected/tcp/{port}/{}/{}/request", client.ip, server.ip);
        let pid = format!("P{:05}", i + 1);
        proposals.push(Proposal {
            id: pid.clone(),
            change: RuleChange::SgRule {
                group_id: format!("sg-{b:02}"),
                group_name: None,
                egress: false,
                rule: SgRule {
                    id: None,
                    protocol: Protocol::Number(6),
                    ports: PortMatch::Ports(PortRange::single(port)),
                    peer: SgPeer::Cidr(format!("{}/32", client.ip).parse().unwrap()),
                    description: None,
                },
            },
            fixes: vec![id.clone()],
            warnings: vec![],
            over_quota: false,
        });
        rejected.push(RejectedFinding {
            id,
            client,
            server,
            protocol: 6,
            port,
            leg: Leg::Request,
            direction_from: DirectionFrom::PortEvidence,
            direction_split: false,
            attribution: Attribution::Confirmed,
            culprits: vec![Culprit {
                hop: Hop::DestinationSgIngress,
                resource: format!("sg-{b:02}"),
                rule: format!("no rule allows tcp/{port}"),
                rule_number: None,
            }],
            explanation: "the request is dropped by destination security group ingress".into(),
            evidence: evidence(i),
            proposals: vec![pid],
            held_back: None,
        });
    }
    let unanswered = (0..UNANSWERED)
        .map(|i| {
            let client = end(i % APPS, i % SERVERS_PER_APP);
            let ip = IpAddr::V4(Ipv4Addr::new(192, 168, (i / 250) as u8, (i % 250) as u8));
            UnansweredFinding {
                id: format!("unanswered/tcp/443/{}/{ip}", client.ip),
                client,
                server: FlowEnd {
                    ip,
                    kind: PeerKind::OnPremises,
                    server: None,
                    app: None,
                    eni: None,
                    subnet: None,
                    vpc: None,
                    in_wave: false,
                    dependency: None,
                },
                protocol: 6,
                port: 443,
                direction_from: DirectionFrom::TcpFlags,
                direction_split: false,
                signal: UnansweredSignal::SynOnly,
                likely_cause: LikelyCause::OnPremises,
                suppressed: None,
                evidence: evidence(i),
            }
        })
        .collect();
    let analysis = Analysis {
        schema_version: SCHEMA_VERSION,
        wave: "bench".into(),
        window: TimeWindow { start: T0, end: T0 + 3600 },
        summary: Summary { rejected: REJECTED, unanswered: UNANSWERED, proposals: REJECTED, ..Summary::default() },
        rejected,
        unanswered,
        not_seen: vec![],
        noise: Noise::default(),
        proposals,
        caveats: vec![],
        accepted: vec![],
    };
    (wave, inventory, FlowData::default(), analysis)
}

fn main() {
    let (wave, inventory, flows, analysis) = input();
    let log_groups = vec!["/vpc/flowlogs".to_owned()];
    let renderer = Renderer::new().expect("built-in templates");
    let mut times: Vec<Duration> = Vec::new();
    let mut bytes = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let model = build(&ReportInput {
            wave: &wave,
            inventory: &inventory,
            flows: &flows,
            aggregates: flows.aggregates.len(),
            analysis: &analysis,
            log_groups: &log_groups,
            generated_at: "2026-11-27T05:00:00Z",
            generator: "wavegap bench",
            comparison: wavegap_reporter::Comparison::None,
        });
        let files = renderer.render_all(&model).expect("renders");
        times.push(start.elapsed());
        bytes = files.iter().map(|f| f.content.len()).sum::<usize>();
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "render: {} findings ({} rejected, {} unanswered, {} proposals) to {} files, {:.1} MB: median {:.0} ms (min {:.0} ms, max {:.0} ms) over {} runs; goal < 1000 ms",
        REJECTED + UNANSWERED,
        REJECTED,
        UNANSWERED,
        REJECTED,
        wavegap_reporter::FORMATS.len(),
        bytes as f64 / 1e6,
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0,
        times.len()
    );
}
