//! Which of a wave's servers the inventory knows, and which of them flow logs can see.
//!
//! The same check runs on an inventory fresh from EC2 and on one loaded from a snapshot, so
//! the report says the same thing about a server whichever way the inventory was obtained.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::inventory::{FlowLogDestination, Inventory};
use crate::wave::{Server, WaveConfig};

/// An inventory together with what it says about the wave's servers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub inventory: Inventory,
    /// Servers (not on premises) that match no network interface, by server name.
    pub unresolved: Vec<Unresolved>,
    /// Servers that resolved but that no flow log covers: their traffic is invisible.
    pub uncovered: Vec<String>,
    /// The CloudWatch Logs log groups to query: the wave's explicit ones, plus (with
    /// `discover`) those of the flow logs that cover the wave's servers. Sorted, unique.
    pub log_groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unresolved {
    pub server: String,
    pub reason: UnresolvedReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum UnresolvedReason {
    /// No network interface has this private IP.
    NoInterface { ip: IpAddr },
    /// The wave names an instance that does not exist (or is no longer listed).
    InstanceNotFound { instance_id: String },
    /// The wave names an instance that is terminated or shutting down.
    InstanceGone { instance_id: String, state: String },
    /// The IP belongs to an interface of another instance than the one the wave names.
    InstanceMismatch { instance_id: String, ip: IpAddr, found: Option<String> },
}

impl fmt::Display for UnresolvedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnresolvedReason::NoInterface { ip } => write!(f, "no network interface has private IP {ip}"),
            UnresolvedReason::InstanceNotFound { instance_id } => write!(f, "instance {instance_id} not found"),
            UnresolvedReason::InstanceGone { instance_id, state } => write!(f, "instance {instance_id} is {state}"),
            UnresolvedReason::InstanceMismatch { instance_id, ip, found: Some(other) } => {
                write!(f, "{ip} belongs to instance {other}, not {instance_id}")
            }
            UnresolvedReason::InstanceMismatch { instance_id, ip, found: None } => {
                write!(f, "{ip} is on an interface not attached to instance {instance_id}")
            }
        }
    }
}

impl Resolution {
    /// Checks every server of the wave against `inventory` and picks the log groups to query:
    /// `explicit` (already checked to exist by the caller) plus, when the wave says `discover`,
    /// the CloudWatch Logs groups of the flow logs covering the resolved servers.
    pub fn new(wave: &WaveConfig, inventory: Inventory, explicit: &[String]) -> Self {
        let mut unresolved = Vec::new();
        let mut uncovered = Vec::new();
        let mut groups: BTreeSet<String> = explicit.iter().cloned().collect();
        for server in wave.servers().filter(|s| !s.on_premises) {
            if let Err(reason) = check_server(server, &inventory) {
                unresolved.push(Unresolved { server: server.name.clone(), reason });
                continue;
            }
            let Some(eni) = inventory.eni_by_ip(server.ip) else { continue };
            let mut covered = false;
            for fl in inventory.flow_logs_for_eni(eni) {
                covered = true;
                if wave.log_groups.discover && fl.destination_type == FlowLogDestination::CloudWatchLogs {
                    groups.extend(fl.log_group.iter().cloned());
                }
            }
            if !covered {
                uncovered.push(server.name.clone());
            }
        }
        Resolution { inventory, unresolved, uncovered, log_groups: groups.into_iter().collect() }
    }
}

fn check_server(server: &Server, inventory: &Inventory) -> Result<(), UnresolvedReason> {
    if let Some(id) = &server.instance_id {
        let Some(instance) = inventory.instances.get(id) else {
            return Err(UnresolvedReason::InstanceNotFound { instance_id: id.clone() });
        };
        if let Some(state) = instance.state.as_deref().filter(|s| matches!(*s, "terminated" | "shutting-down")) {
            return Err(UnresolvedReason::InstanceGone { instance_id: id.clone(), state: state.to_owned() });
        }
    }
    let Some(eni) = inventory.eni_by_ip(server.ip) else {
        return Err(UnresolvedReason::NoInterface { ip: server.ip });
    };
    match &server.instance_id {
        Some(id) if eni.instance_id.as_ref() != Some(id) => Err(UnresolvedReason::InstanceMismatch {
            instance_id: id.clone(),
            ip: server.ip,
            found: eni.instance_id.clone(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::inventory::{Eni, FlowLog, Instance};
    use crate::wave::{App, AwsSettings, EphemeralPolicy, LogGroups, Networks, QuerySettings, Source, WindowSpec};

    fn server(name: &str, ip: &str, instance: Option<&str>, on_premises: bool) -> Server {
        Server {
            name: name.into(),
            app: "app".into(),
            ip: ip.parse().unwrap(),
            ips: vec![],
            instance_id: instance.map(Into::into),
            role: None,
            os: None,
            on_premises,
        }
    }

    fn wave(servers: Vec<Server>, discover: bool) -> WaveConfig {
        WaveConfig {
            name: "w".into(),
            description: None,
            path: PathBuf::from("w.toml"),
            window: WindowSpec::Last(std::time::Duration::from_secs(3600)),
            aws: AwsSettings::default(),
            networks: Networks { internal: vec![], on_premises: vec![] },
            log_groups: LogGroups { names: vec![], discover },
            apps: vec![App { name: "app".into(), description: None, servers }],
            expected_flows: vec![],
            source: Source::CloudWatch,
            ephemeral: EphemeralPolicy::default(),
            ignore: vec![],
            one_way: vec![],
            query: QuerySettings::default(),
            dependencies: vec![],
        }
    }

    fn inventory() -> Inventory {
        let mut inv = Inventory::default();
        for (eni, ip, instance, subnet) in
            [("eni-1", "10.0.0.5", Some("i-1"), "subnet-a"), ("eni-2", "10.0.0.6", None, "subnet-b")]
        {
            inv.enis.insert(
                eni.into(),
                Eni {
                    id: eni.into(),
                    subnet_id: subnet.into(),
                    vpc_id: "vpc-1".into(),
                    owner_id: None,
                    private_ips: vec![ip.parse().unwrap()],
                    public_ip: None,
                    security_groups: vec![],
                    instance_id: instance.map(Into::into),
                    interface_type: None,
                    description: None,
                    status: None,
                },
            );
        }
        for (id, state) in [("i-1", "running"), ("i-9", "terminated")] {
            inv.instances.insert(
                id.into(),
                Instance {
                    id: id.into(),
                    name: None,
                    state: Some(state.into()),
                    platform: None,
                    subnet_id: None,
                    vpc_id: None,
                    private_ip: None,
                    eni_ids: vec![],
                },
            );
        }
        inv.flow_logs.insert(
            "fl-1".into(),
            FlowLog {
                id: "fl-1".into(),
                resource_id: "subnet-a".into(),
                destination_type: FlowLogDestination::CloudWatchLogs,
                log_group: Some("/vpc/flow".into()),
                destination: None,
                traffic_type: Some("ALL".into()),
                log_format: None,
                status: Some("ACTIVE".into()),
                max_aggregation_interval: Some(600),
                created: None,
            },
        );
        inv
    }

    #[test]
    fn servers_are_checked_by_ip_and_instance() {
        let w = wave(
            vec![
                server("web", "10.0.0.5", Some("i-1"), false),
                server("app", "10.0.0.6", None, false),
                server("gone", "10.0.0.7", None, false),
                server("dead", "10.0.0.5", Some("i-9"), false),
                server("missing", "10.0.0.5", Some("i-404"), false),
                server("wrong", "10.0.0.6", Some("i-1"), false),
                server("mainframe", "192.168.1.1", None, true),
            ],
            true,
        );
        let r = Resolution::new(&w, inventory(), &["/explicit".to_owned()]);
        let reasons: Vec<(String, String)> =
            r.unresolved.iter().map(|u| (u.server.clone(), u.reason.to_string())).collect();
        assert_eq!(
            reasons,
            [
                ("gone".to_owned(), "no network interface has private IP 10.0.0.7".to_owned()),
                ("dead".to_owned(), "instance i-9 is terminated".to_owned()),
                ("missing".to_owned(), "instance i-404 not found".to_owned()),
                ("wrong".to_owned(), "10.0.0.6 is on an interface not attached to instance i-1".to_owned()),
            ]
        );
        assert_eq!(r.uncovered, ["app"]);
        assert_eq!(r.log_groups, ["/explicit", "/vpc/flow"]);
    }

    #[test]
    fn without_discover_only_explicit_groups_are_queried() {
        let w = wave(vec![server("web", "10.0.0.5", None, false)], false);
        let r = Resolution::new(&w, inventory(), &[]);
        assert!(r.unresolved.is_empty() && r.uncovered.is_empty());
        assert!(r.log_groups.is_empty());
    }
}
