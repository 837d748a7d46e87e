//! A wave of 30 servers across 3 VPCs resolved against a seeded moto.

use std::net::IpAddr;

use wavegap_core::inventory::{FlowLogDestination, IcmpMatch, Os, PortMatch, PortRange, Protocol, RuleAction, SgPeer};
use wavegap_core::resolution::UnresolvedReason;
use wavegap_resolver::Error;
use wavegap_resolver::testing::{self, APP_LOG_FORMAT, LOG_GROUP_APP, LOG_GROUP_EXPLICIT, LOG_GROUP_LOG01};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn resolves_a_wave_of_30_servers_across_3_vpcs() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let wave = testing::wave(&seeded);
    let resolved = moto.resolver().resolve(&wave).await.expect("resolve");
    let r = &resolved.resolution;
    let inv = &r.inventory;

    // Every seeded server resolves to its own interface, secondary IPs included.
    assert_eq!(seeded.servers.len(), 30);
    for s in &seeded.servers {
        let eni = inv.eni_by_ip(s.ip).unwrap_or_else(|| panic!("{} not resolved", s.name));
        assert_eq!(eni.id, s.eni_id, "{}", s.name);
        assert_eq!(eni.primary_ip(), Some(s.ip), "{}", s.name);
        assert_eq!(&eni.private_ips[1..], s.secondary_ips.as_slice(), "{}", s.name);
        assert_eq!(eni.subnet_id, seeded.subnets[s.subnet], "{}", s.name);
        assert_eq!(eni.vpc_id, seeded.vpcs[s.vpc], "{}", s.name);
        assert_eq!(eni.instance_id, s.instance_id, "{}", s.name);
        if let Some(id) = &s.instance_id {
            let instance = &inv.instances[id];
            assert_eq!(instance.name.as_deref(), Some(s.name.as_str()));
            assert_eq!(instance.state.as_deref(), Some("running"));
            assert_eq!(instance.private_ip, Some(s.ip));
            assert_eq!(instance.eni_ids, std::slice::from_ref(&s.eni_id));
            assert_eq!(instance.platform, s.windows.then_some(Os::Windows), "{}", s.name);
        }
    }
    // The interface that carries a referenced group is there too, so `from monitor-sg` has IPs.
    let monitor = &inv.enis[&seeded.monitor_eni];
    assert_eq!(monitor.private_ips, [ip("10.10.1.100")]);
    assert_eq!(monitor.security_groups, [seeded.groups["monitor"].clone()]);
    assert_eq!(inv.enis.len(), 31 + usize::from(inv.enis.values().any(|e| e.private_ips.contains(&ip("10.30.1.200")))));

    // VPCs, the peering between app and data, subnets.
    assert_eq!(inv.vpcs.len(), 3);
    for (key, block) in [("app", "10.10.0.0/16"), ("data", "10.20.0.0/16"), ("shared", "10.30.0.0/16")] {
        let vpc = &inv.vpcs[&seeded.vpcs[key]];
        assert_eq!(vpc.cidrs, [block.parse().unwrap()]);
        assert_eq!(vpc.name.as_deref(), Some(format!("{key}-vpc").as_str()));
    }
    assert_eq!(inv.peerings.len(), 1);
    let pcx = &inv.peerings[&seeded.peering];
    assert_eq!(
        (pcx.requester_vpc_id.as_str(), pcx.accepter_vpc_id.as_str()),
        (seeded.vpcs["app"].as_str(), seeded.vpcs["data"].as_str())
    );
    assert!(pcx.is_active());
    assert!(inv.vpcs_connected(&seeded.vpcs["data"], &seeded.vpcs["app"]));
    assert!(!inv.vpcs_connected(&seeded.vpcs["shared"], &seeded.vpcs["app"]));
    let subnets: Vec<&str> = ["web", "app", "db", "tools"].iter().map(|k| seeded.subnets[k].as_str()).collect();
    let mut found: Vec<&str> = inv.subnets.keys().map(String::as_str).collect();
    let mut expected = subnets.clone();
    found.sort_unstable();
    expected.sort_unstable();
    assert_eq!(found, expected);
    assert_eq!(inv.subnets[&seeded.subnets["db"]].cidrs, ["10.20.1.0/24".parse().unwrap()]);
    assert_eq!(inv.subnets[&seeded.subnets["db"]].name.as_deref(), Some("db-subnet"));

    // Security groups: CIDR, prefix-list, ICMP and SG-reference rules (one across the peering).
    let web = &inv.security_groups[&seeded.groups["web"]];
    assert_eq!(web.name, "web-sg");
    let rules: Vec<(Protocol, PortMatch, SgPeer, Option<&str>)> =
        web.ingress.iter().map(|r| (r.protocol, r.ports, r.peer.clone(), r.description.as_deref())).collect();
    assert_eq!(
        rules,
        [
            (
                Protocol::Number(6),
                PortMatch::Ports(PortRange::single(443)),
                SgPeer::Cidr("10.0.0.0/8".parse().unwrap()),
                Some("https from internal")
            ),
            (
                Protocol::Number(6),
                PortMatch::Ports(PortRange::single(22)),
                SgPeer::PrefixList(seeded.prefix_list.clone()),
                None
            ),
            (
                Protocol::Number(1),
                PortMatch::Icmp(IcmpMatch { icmp_type: None, code: None }),
                SgPeer::Cidr("10.30.0.0/16".parse().unwrap()),
                Some("ping from shared")
            ),
        ]
    );
    assert_eq!(web.egress.len(), 1);
    assert_eq!(web.egress[0].protocol, Protocol::All);
    let app = &inv.security_groups[&seeded.groups["app"]];
    assert!(matches!(&app.ingress[0].peer, SgPeer::Group { group_id, .. } if *group_id == seeded.groups["web"]));
    assert!(matches!(&app.ingress[1].peer, SgPeer::Group { group_id, .. } if *group_id == seeded.groups["monitor"]));
    let db = &inv.security_groups[&seeded.groups["db"]];
    assert_eq!(
        db.ingress[0].peer,
        SgPeer::Group {
            group_id: seeded.groups["app"].clone(),
            owner_id: Some(testing::ACCOUNT.into()),
            vpc_id: Some(seeded.vpcs["app"].clone()),
            peering_id: Some(seeded.peering.clone()),
        }
    );
    assert!(inv.security_groups.contains_key(&seeded.groups["monitor"]), "referenced group described");
    assert!(inv.security_groups.contains_key(&seeded.groups["tools"]));

    // The prefix list used by the rules, with its entries.
    let pl = &inv.prefix_lists[&seeded.prefix_list];
    assert_eq!(pl.name.as_deref(), Some("onprem-admin"));
    assert_eq!(pl.max_entries, Some(5));
    assert_eq!(pl.entries, ["192.168.100.0/24".parse().unwrap(), "192.168.101.0/24".parse().unwrap()]);
    assert_eq!(inv.prefix_lists.len(), 1);

    // Network ACLs: the custom ones with their numbered entries, defaults for the others.
    let app_acl = inv.nacl_for_subnet(&seeded.subnets["app"]).expect("app nacl");
    assert_eq!(app_acl.id, seeded.nacls["app"]);
    assert!(!app_acl.is_default);
    assert_eq!(app_acl.name.as_deref(), Some("app-nacl"));
    let mut entries: Vec<(bool, u16, RuleAction, Protocol, PortMatch, String)> = app_acl
        .entries
        .iter()
        .map(|e| (e.egress, e.rule_number, e.action, e.protocol, e.ports, e.cidr.to_string()))
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            (
                false,
                100,
                RuleAction::Allow,
                Protocol::Number(6),
                PortMatch::Ports(PortRange::single(8080)),
                "10.10.1.0/24".into()
            ),
            (
                false,
                110,
                RuleAction::Allow,
                Protocol::Number(6),
                PortMatch::Ports(PortRange { from: 1024, to: 65535 }),
                "10.20.0.0/16".into()
            ),
            (
                false,
                120,
                RuleAction::Allow,
                Protocol::Number(1),
                PortMatch::Icmp(IcmpMatch { icmp_type: None, code: None }),
                "10.0.0.0/8".into()
            ),
            (
                false,
                200,
                RuleAction::Deny,
                Protocol::Number(6),
                PortMatch::Ports(PortRange::single(22)),
                "0.0.0.0/0".into()
            ),
            (false, 300, RuleAction::Allow, Protocol::All, PortMatch::Any, "10.0.0.0/8".into()),
            (
                true,
                90,
                RuleAction::Deny,
                Protocol::Number(6),
                PortMatch::Ports(PortRange::single(25)),
                "0.0.0.0/0".into()
            ),
            (true, 100, RuleAction::Allow, Protocol::All, PortMatch::Any, "0.0.0.0/0".into()),
        ]
    );
    let db_acl = inv.nacl_for_subnet(&seeded.subnets["db"]).expect("db nacl");
    assert_eq!(db_acl.id, seeded.nacls["db"]);
    assert_eq!(db_acl.entries.len(), 4);
    for key in ["web", "tools"] {
        assert!(inv.nacl_for_subnet(&seeded.subnets[key]).expect("default nacl").is_default, "{key}");
    }

    // Flow logs: CloudWatch with a custom format on the app VPC, S3 on the db subnet, one ENI.
    assert_eq!(inv.flow_logs.len(), 3);
    let app_fl = &inv.flow_logs[&seeded.flow_logs["app"]];
    assert_eq!(app_fl.resource_id, seeded.vpcs["app"]);
    assert_eq!(app_fl.destination_type, FlowLogDestination::CloudWatchLogs);
    assert_eq!(app_fl.log_group.as_deref(), Some(LOG_GROUP_APP));
    assert_eq!(app_fl.log_format.as_deref(), Some(APP_LOG_FORMAT));
    let db_fl = &inv.flow_logs[&seeded.flow_logs["db"]];
    assert_eq!(db_fl.destination_type, FlowLogDestination::S3);
    assert_eq!(db_fl.destination.as_deref(), Some("arn:aws:s3:::wavegap-flowlogs"));
    assert_eq!(db_fl.log_group, None);
    assert_eq!(inv.flow_logs[&seeded.flow_logs["log01"]].resource_id, seeded.server("log01").eni_id);

    // The NAT gateway of a VPC holding servers.
    assert!(inv.nat_gateways.contains_key(&seeded.nat_gateway));

    // What the resolution says about the wave.
    let unresolved: Vec<(&str, UnresolvedReason)> =
        r.unresolved.iter().map(|u| (u.server.as_str(), u.reason.clone())).collect();
    assert_eq!(
        unresolved,
        [
            ("ghost", UnresolvedReason::NoInterface { ip: ip("10.10.1.250") }),
            ("stale", UnresolvedReason::InstanceNotFound { instance_id: "i-0123456789abcdef0".into() }),
            (
                "old01",
                UnresolvedReason::InstanceGone {
                    instance_id: seeded.terminated_instance.clone(),
                    state: "terminated".into()
                }
            ),
        ]
    );
    let mut uncovered = r.uncovered.clone();
    uncovered.sort();
    assert_eq!(uncovered, ["log02", "tools01", "tools02", "tools03", "tools04", "tools05", "tools06"]);
    let names: Vec<String> = r.log_groups.iter().map(ToString::to_string).collect();
    assert_eq!(names, [LOG_GROUP_APP, LOG_GROUP_EXPLICIT, LOG_GROUP_LOG01]);
}

#[tokio::test]
async fn a_missing_explicit_log_group_is_a_clear_error() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let mut wave = testing::wave(&seeded);
    wave.log_groups.names.push("/wavegap/flow/typo".into());
    let err = moto.resolver().resolve(&wave).await.expect_err("missing log group");
    assert!(matches!(&err, Error::LogGroupNotFound { name, .. } if name == "/wavegap/flow/typo"), "{err:?}");
    assert_eq!(
        err.to_string(),
        "log group `/wavegap/flow/typo` does not exist in region us-east-1\nhint: fix `log-groups` in the wave file, or use `discover = true` to take them from the flow logs"
    );
}

#[tokio::test]
async fn an_empty_account_resolves_nothing_without_failing() {
    let moto = testing::moto();
    let seeded = testing::Seeded::default();
    let mut wave = testing::wave(&seeded);
    wave.log_groups.names.clear();
    let resolved = moto.resolver().resolve(&wave).await.expect("resolve");
    assert!(resolved.resolution.inventory.enis.is_empty());
    let names: Vec<&str> = resolved.resolution.unresolved.iter().map(|u| u.server.as_str()).collect();
    assert_eq!(names, testing::UNRESOLVABLE);
}

#[tokio::test]
async fn a_refused_action_is_named_over_the_wire() {
    let moto = testing::moto();
    let seeded = testing::seed(&moto).await;
    let (key, secret) = moto.iam_user("reader", &["ec2:DescribeNetworkInterfaces"]);
    moto.enforce_iam();
    let creds = aws_sdk_ec2::config::Credentials::new(key, secret, None, None, "iam-user");
    let err = moto.resolver_as(creds).resolve(&testing::wave(&seeded)).await.expect_err("denied");
    assert!(matches!(err, Error::AccessDenied { action: "ec2:DescribeSecurityGroups", .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.starts_with("access denied for ec2:DescribeSecurityGroups: "), "{shown}");
    assert!(
        shown.ends_with(
            "\nhint: the identity in use needs `ec2:DescribeSecurityGroups` (see the IAM policy in README.md)"
        ),
        "{shown}"
    );

    let unknown = aws_sdk_ec2::config::Credentials::new("AKIAUNKNOWN", "nope", None, None, "bad");
    let err = moto.resolver_as(unknown).resolve(&testing::wave(&seeded)).await.expect_err("rejected");
    assert!(matches!(err, Error::InvalidCredentials { .. }), "{err:?}");
    moto.reset();
}
