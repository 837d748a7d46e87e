use std::path::PathBuf;

use super::*;
use crate::eval::tests::{nacl, sg_rule, world};
use crate::findings::Analysis;
use crate::flowlog::FlowDirection;
use crate::inventory::SgPeer;
use crate::wave::{App, Endpoint, IgnoreRule, LogGroups, Networks, QuerySettings, Server, Source, WindowSpec};

pub(crate) const WINDOW: TimeWindow = TimeWindow { start: 1_000_000, end: 1_007_200 };

/// A flow log of `resource` to S3 recording `traffic` (ALL when `None`).
fn flow_log(id: &str, resource: &str, traffic: Option<&str>) -> crate::inventory::FlowLog {
    crate::inventory::FlowLog {
        id: id.into(),
        resource_id: resource.into(),
        destination_type: crate::inventory::FlowLogDestination::S3,
        log_group: None,
        destination: None,
        traffic_type: traffic.map(Into::into),
        log_format: None,
        status: None,
        created: None,
        max_aggregation_interval: None,
    }
}

#[test]
fn run_options_take_the_sources_lag_until_the_window_is_delivered_and_the_longest_interval() {
    let cloudwatch = Source::CloudWatch;
    let files = Source::Files { dir: PathBuf::from("flows"), inventory: Some(PathBuf::from("inventory.json")) };
    let mut inv = Inventory::default();
    let opts = AnalysisOptions::for_run(WINDOW, WINDOW.end + 60, &cloudwatch, &inv);
    assert_eq!((opts.delivery_lag, opts.aggregation_interval), (CLOUDWATCH_DELIVERY_LAG, 600));
    assert_eq!(AnalysisOptions::for_run(WINDOW, WINDOW.end + 60, &files, &inv).delivery_lag, S3_DELIVERY_LAG);
    // Long after the end, every record has arrived: no lag.
    assert_eq!(AnalysisOptions::for_run(WINDOW, WINDOW.end + 3600, &files, &inv).delivery_lag, 0);
    for (id, interval) in [("fl-1", Some(60)), ("fl-2", None)] {
        let log = crate::inventory::FlowLog { max_aggregation_interval: interval, ..flow_log(id, "vpc-1", None) };
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
        account: None,
    };
    WaveConfig {
        name: "wave-test".into(),
        description: None,
        path: PathBuf::from("waves/wave-test.toml"),
        window: WindowSpec::Absolute(WINDOW),
        aws: crate::wave::AwsSettings::default(),
        accounts: Vec::new(),
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
    let got: Vec<(&str, Attribution, Vec<Hop>)> =
        a.rejected.iter().map(|f| (f.id.as_str(), f.attribution, f.culprits.iter().map(|c| c.hop).collect())).collect();
    let want: Vec<(&str, Attribution, Vec<Hop>)> = expected.iter().map(|(i, at, h)| (*i, *at, h.to_vec())).collect();
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
        &[("rejected/tcp/1433/10.0.0.7/10.0.20.8/request", Attribution::Inconsistent, &[Hop::DestinationSgIngress])],
    );
}

#[test]
fn nacl_and_sg_both_dropping_are_both_named() {
    let mut inv = db_without_app_rule();
    inv.nacls.get_mut("acl-db").unwrap().entries.push(nacl(90, false, "tcp", Some((1433, 1433)), "10.0.0.0/24", false));
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
        &[("rejected/tcp/445/10.0.0.6/10.0.20.8/response", Attribution::Confirmed, &[Hop::ReturnSourceNaclInbound])],
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
    assert_eq!(u.likely_cause, LikelyCause::OnPremises);
}

#[test]
fn unanswered_aws_peer_is_told_apart_from_on_premises() {
    let a = run(&world(), &wave(), vec![agg("10.0.0.7", "10.1.0.5", 6, 5432, RQ, ACC, "eni-app")]);
    let u = &a.unanswered[0];
    assert_eq!(
        (u.server.kind, u.signal, u.likely_cause),
        (PeerKind::Aws, UnansweredSignal::NoReturnRecord, LikelyCause::AwsPeerSilent)
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
    assert_eq!(a.unanswered[0].suppressed, Some(Suppression::Skipdata { enis: vec!["eni-app".to_owned()] }));
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
    assert_eq!(a.unanswered[0].suppressed, Some(Suppression::ShortWindow));
    assert!(a.caveats.iter().any(|c| c.kind == CaveatKind::ShortWindow));
}

#[test]
fn unanswered_seen_only_at_the_end_of_the_window_is_suppressed() {
    let mut x = agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app");
    x.first_seen = WINDOW.end - 300;
    x.last_seen = WINDOW.end - 200;
    assert_eq!(run(&world(), &wave(), vec![x]).unanswered[0].suppressed, Some(Suppression::InDeliveryLag));
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
    assert_eq!(a.not_seen.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["not-seen/tcp/443/192.168.0.0/16/web01"]);
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
            account: None,
            log_groups: vec!["/aws/vpc/flowlogs".into()],
            window: WINDOW,
            reason: "query timed out".into(),
            unreachable: false,
            chunk: None,
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
    // An unanswered request recorded by three aggregates (two ENIs, one with flags, another
    // log group) besides the rejected ones: its evidence must not depend on their order.
    let mut syn = agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app");
    syn.tcp_flags = Some(2);
    syn.first_seen -= 30;
    let mut other_log = agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-web");
    other_log.log_group = "/aws/vpc/other".into();
    other_log.first_seen += 10;
    other_log.last_seen += 30;
    let aggs = vec![
        agg("10.0.0.7", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db"),
        agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-db"),
        syn,
        agg("10.0.0.6", "10.0.20.8", 6, 1433, RQ, REJ, "eni-db"),
        other_log,
    ];
    let mut rev = aggs.clone();
    rev.reverse();
    let forward = run(&db_without_app_rule(), &wave(), aggs);
    let evidence = &forward.unanswered[0].evidence;
    assert_eq!((evidence.records, evidence.enis.len(), evidence.log_groups.len()), (9, 3, 2));
    assert_eq!((evidence.first_seen, evidence.last_seen), (WINDOW.start + 30, WINDOW.start + 150));
    let a = serde_json::to_string(&forward).unwrap();
    let b = serde_json::to_string(&run(&db_without_app_rule(), &wave(), rev)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn unanswered_address_in_a_subnet_that_no_eni_holds_is_an_aws_peer() {
    let a = run(&world(), &wave(), vec![agg("10.0.0.7", "10.0.20.50", 6, 5432, RQ, ACC, "eni-app")]);
    let u = &a.unanswered[0];
    assert_eq!(u.server.kind, PeerKind::Aws);
    assert_eq!(u.likely_cause, LikelyCause::NoInterface);
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
        inv.flow_logs.insert(id.into(), flow_log(id, eni, Some(traffic)));
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

// The phases, one at a time.

/// A TCP conversation.
fn conv(client: &str, server: &str, port: u16) -> Conv {
    Conv { client: client.parse().unwrap(), server: server.parse().unwrap(), protocol: 6, port }
}

fn oriented<'d>(ctx: &Context<'_>, aggs: &'d [FlowAggregate]) -> Vec<Oriented<'d>> {
    orient_all(ctx, aggs)
}

#[test]
fn sorting_keeps_the_waves_traffic_and_says_where_each_aggregate_went() {
    let mut w = wave();
    w.ignore.push(IgnoreRule { network: "192.168.60.0/24".parse().unwrap(), service: None, reason: "backup".into() });
    let (inv, aggs) = (
        world(),
        vec![
            // Ignored, from an ENI the inventory lacks: still in scope and still a REJECT.
            agg("192.168.60.5", "10.0.0.7", 6, 22, RQ, REJ, "eni-gone"),
            // Between two addresses of no server: out of scope.
            agg("10.1.0.5", "10.0.20.50", 6, 22, RQ, REJ, "eni-b"),
            // From the internet: noise.
            agg("203.0.113.9", "10.0.0.7", 6, 22, RQ, REJ, "eni-app"),
            agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app"),
            agg("192.168.50.20", "10.0.0.7", 6, 1433, RS, ACC, "eni-app"),
            agg("10.0.0.7", "10.1.0.5", 6, 5432, RQ, REJ, "eni-app"),
        ],
    );
    let ctx = Context::new(&w, &inv);
    let oriented = oriented(&ctx, &aggs);
    let sorted = Sorted::new(&ctx, &oriented);
    assert_eq!(sorted.in_scope, 5);
    assert_eq!(sorted.unknown_enis, BTreeSet::from(["eni-gone"]));
    assert_eq!(sorted.ignored[&0].0, 3);
    assert!(sorted.candidates.rejected.contains(&conv("192.168.60.5", "10.0.0.7", 22)));
    assert_eq!(sorted.outside.keys().map(ToString::to_string).collect::<Vec<_>>(), ["203.0.113.9"]);
    let rejected: Vec<_> = sorted.rejected.keys().copied().collect();
    assert_eq!(rejected, [(conv("10.0.0.7", "10.1.0.5", 5432), Leg::Request)]);
    let sql = conv("10.0.0.7", "192.168.50.20", 1433);
    assert!(
        sorted.candidates.answered.contains(&sql)
            && sorted.accepted.contains(&sql)
            && sorted.candidates.requests.iter().any(|(a, o)| o.conv(a) == sql)
    );
}

#[test]
fn an_ignore_rule_never_matches_a_wave_server() {
    let mut w = wave();
    let rule = IgnoreRule {
        network: "10.0.0.0/8".parse().unwrap(),
        service: Some(Service { protocol: 6, port: 443 }),
        reason: "monitoring".into(),
    };
    w.ignore.push(rule);
    let inv = world();
    let ctx = Context::new(&w, &inv);
    assert_eq!(ignore_rule(&ctx, conv("10.1.0.5", "10.0.0.7", 443)), Some(0));
    assert_eq!(ignore_rule(&ctx, conv("10.0.0.7", "10.1.0.5", 443)), Some(0));
    assert_eq!(ignore_rule(&ctx, conv("10.1.0.5", "10.0.0.7", 22)), None, "another service");
    assert_eq!(ignore_rule(&ctx, conv("10.0.0.6", "10.0.0.7", 443)), None, "both ends are servers");
}

#[test]
fn scanners_are_taken_with_everything_they_sent_and_nothing_else() {
    let (w, inv) = (wave(), world());
    let mut aggs: Vec<FlowAggregate> =
        (0..10).map(|i| agg("10.1.0.5", "10.0.0.7", 6, 1000 + i, RQ, REJ, "eni-app")).collect();
    // Read as a response: the scanner is the server of that conversation.
    aggs.push(agg("10.1.0.5", "10.0.0.6", 6, 40000, RS, REJ, "eni-web"));
    aggs.extend((0..9).map(|i| agg("192.168.50.20", "10.0.0.7", 6, 2000 + i, RQ, REJ, "eni-app")));
    let ctx = Context::new(&w, &inv);
    let oriented = oriented(&ctx, &aggs);
    let mut rejected = Sorted::new(&ctx, &oriented).rejected;
    assert_eq!(rejected.len(), 20);
    let taken = take_scanners(&ctx, &mut rejected, 10);
    assert_eq!(taken.keys().map(ToString::to_string).collect::<Vec<_>>(), ["10.1.0.5"]);
    assert_eq!(taken.values().next().unwrap().len(), 11);
    assert_eq!(rejected.len(), 9, "nine ports is not a scan");
    assert!(take_scanners(&ctx, &mut rejected, 9).contains_key(&"192.168.50.20".parse().unwrap()));
    assert!(rejected.is_empty());
}

#[test]
fn the_likely_cause_follows_where_the_server_is() {
    let (w, inv) = (wave(), world());
    let ctx = Context::new(&w, &inv);
    for (server, cause) in [
        ("192.168.50.20", LikelyCause::OnPremises),
        ("10.1.0.5", LikelyCause::AwsPeerSilent),
        ("10.0.20.50", LikelyCause::NoInterface),
        ("10.200.0.1", LikelyCause::Elsewhere),
    ] {
        assert_eq!(likely_cause(&ctx, server.parse().unwrap()), cause, "{server}");
    }
}

#[test]
fn skipdata_outranks_a_short_window_which_outranks_the_delivery_lag() {
    let mut recent = agg("10.0.0.7", "192.168.50.20", 6, 1433, RQ, ACC, "eni-app");
    recent.first_seen = WINDOW.end - 60;
    let (w, inv) = (wave(), world());
    let ctx = Context::new(&w, &inv);
    let aggs = [recent];
    let (evidence, _, _) = evidence(&oriented(&ctx, &aggs));
    let skipped = BTreeMap::from([("eni-app".to_owned(), 1)]);
    let short = AnalysisOptions::new(TimeWindow { start: WINDOW.end - 600, end: WINDOW.end });
    let long = AnalysisOptions::new(WINDOW);
    let skipdata = Suppression::Skipdata { enis: vec!["eni-app".to_owned()] };
    assert_eq!(suppression(&evidence, &skipped, &short), Some(skipdata));
    assert_eq!(suppression(&evidence, &BTreeMap::new(), &short), Some(Suppression::ShortWindow));
    assert_eq!(suppression(&evidence, &BTreeMap::new(), &long), Some(Suppression::InDeliveryLag));
    let delivered = AnalysisOptions { delivery_lag: 0, ..long };
    assert_eq!(suppression(&evidence, &BTreeMap::from([("eni-app".to_owned(), 0)]), &delivered), None);
}

#[test]
fn a_window_that_starts_after_the_run_is_a_caveat() {
    let opts = AnalysisOptions::for_run(WINDOW, WINDOW.start - 3600, &Source::CloudWatch, &world());
    let a = analyze(&wave(), &world(), &FlowData::default(), &opts);
    let future: Vec<_> = a.caveats.iter().filter(|c| c.kind == CaveatKind::FutureWindow).collect();
    assert_eq!(future.len(), 1, "{:?}", a.caveats);
    assert!(future[0].message.starts_with("the window starts 3600 s after this run"), "{}", future[0].message);
    let now = AnalysisOptions::for_run(WINDOW, WINDOW.end + 3600, &Source::CloudWatch, &world());
    assert!(
        !analyze(&wave(), &world(), &FlowData::default(), &now)
            .caveats
            .iter()
            .any(|c| c.kind == CaveatKind::FutureWindow)
    );
}

#[test]
fn servers_whose_flow_logs_began_after_the_window_are_a_caveat() {
    let mut inv = world();
    for (id, eni, created) in [("fl-app", "eni-app", WINDOW.end + 60), ("fl-db", "eni-db", WINDOW.start)] {
        let log = crate::inventory::FlowLog { created: Some(created), ..flow_log(id, eni, None) };
        inv.flow_logs.insert(id.into(), log);
    }
    let a = analyze(&wave(), &inv, &FlowData::default(), &AnalysisOptions::new(WINDOW));
    let before: Vec<&str> =
        a.caveats.iter().filter(|c| c.kind == CaveatKind::BeforeFlowLogs).map(|c| c.message.as_str()).collect();
    assert_eq!(
        before,
        ["app01 (eni-app): its flow logs were created 60 s after the window ends: there are no records of it"]
    );
}

#[test]
fn many_rejected_legs_make_the_findings_they_make_one_by_one() {
    // More legs than one thread takes, from clients the rules treat differently.
    let inv = db_without_app_rule();
    let wave = wave();
    let aggs: Vec<FlowAggregate> = (0..PARALLEL_FINDINGS * 2 + 3)
        .map(|i| {
            let client = if i % 3 == 0 {
                format!("10.0.{}.{}", 1 + i / 250, i % 250)
            } else {
                format!("192.168.{}.{}", i / 250, i % 250)
            };
            let (server, eni) = if i % 2 == 0 { ("10.0.20.8", "eni-db") } else { ("10.0.0.7", "eni-app") };
            agg(&client, server, 6, [1433, 8080, 22][i % 3], RQ, REJ, eni)
        })
        .collect();
    let ctx = Context::new(&wave, &inv);
    let oriented = oriented(&ctx, &aggs);
    let sorted = Sorted::new(&ctx, &oriented);
    assert!(sorted.rejected.len() > PARALLEL_FINDINGS);
    let (findings, evaluations) = rejected_findings(&ctx, &sorted.rejected);
    let (one_by_one, one_by_one_evaluations) = rejected_part(&ctx, &sorted.rejected.iter().collect::<Vec<_>>());
    assert_eq!(serde_json::to_string(&findings).unwrap(), serde_json::to_string(&one_by_one).unwrap());
    assert_eq!(evaluations, one_by_one_evaluations);
    let culprits: BTreeSet<_> = findings.iter().flat_map(|f| f.culprits.iter().map(|c| (c.hop, &c.resource))).collect();
    assert!(culprits.len() > 1, "the legs differ in what rejected them: {culprits:?}");
}
