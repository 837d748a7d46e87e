//! Which of a wave's servers the inventory knows, and which of them flow logs can see.
//!
//! The same check runs on an inventory fresh from EC2 and on one loaded from a snapshot, so
//! the report says the same thing about a server whichever way the inventory was obtained.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::inventory::{FlowLog, FlowLogDestination, Inventory};
use crate::wave::{Server, WaveConfig};

/// An inventory together with what it says about the wave's servers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub inventory: Inventory,
    /// Servers (not on premises) that match no network interface, by server name.
    pub unresolved: Vec<Unresolved>,
    /// Servers that resolved but that no flow log covers: their traffic is invisible.
    pub uncovered: Vec<String>,
    /// The CloudWatch Logs log groups to query ([`log_groups`]). Sorted, unique.
    pub log_groups: Vec<LogGroupRef>,
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

/// A log group to query, and the account it is in: `None` for the wave's own (`[aws]`)
/// account, else the id of one of its `[[accounts]]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LogGroupRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub name: String,
}

impl fmt::Display for LogGroupRef {
    /// `/vpc/flow-logs`, or `/vpc/flow-logs in 111122223333`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.account {
            None => f.write_str(&self.name),
            Some(account) => write!(f, "{} in {account}", self.name),
        }
    }
}

impl Resolution {
    /// Checks every server of the wave against `inventory` and picks the log groups to query
    /// ([`log_groups`]).
    pub fn new(wave: &WaveConfig, inventory: Inventory) -> Self {
        let mut unresolved = Vec::new();
        let mut uncovered = Vec::new();
        for server in wave.servers().filter(|s| !s.on_premises) {
            if let Err(reason) = check_server(server, &inventory) {
                unresolved.push(Unresolved { server: server.name.clone(), reason });
                continue;
            }
            let covered =
                inventory.eni_by_ip(server.ip).is_some_and(|eni| inventory.flow_logs_for_eni(eni).next().is_some());
            if !covered {
                uncovered.push(server.name.clone());
            }
        }
        let log_groups = log_groups(wave, &inventory).into_iter().collect();
        Resolution { inventory, unresolved, uncovered, log_groups }
    }
}

/// The log groups a wave queries, each once: those the wave lists (`[log-groups]`, in its own
/// account) and each account lists, plus, where `discover` is set, the `CloudWatch` Logs
/// groups of the flow logs that cover the wave's servers. A discovered group is in the
/// account of its flow log ([`flow_log_account`]); it is queried when that account (or, for
/// an account the wave does not list, the wave itself) says `discover`.
pub fn log_groups(wave: &WaveConfig, inventory: &Inventory) -> BTreeSet<LogGroupRef> {
    let mut groups: BTreeSet<LogGroupRef> =
        wave.log_groups.names.iter().map(|name| LogGroupRef { account: None, name: name.clone() }).collect();
    for account in &wave.accounts {
        groups.extend(
            account
                .log_groups
                .names
                .iter()
                .map(|name| LogGroupRef { account: Some(account.id.clone()), name: name.clone() }),
        );
    }
    for server in wave.servers().filter(|s| !s.on_premises) {
        let Some(eni) = inventory.eni_by_ip(server.ip) else { continue };
        for fl in inventory.flow_logs_for_eni(eni) {
            let Some(name) =
                fl.log_group.as_ref().filter(|_| fl.destination_type == FlowLogDestination::CloudWatchLogs)
            else {
                continue;
            };
            let account = flow_log_account(inventory, fl).or(server.account.as_deref());
            let listed = account.and_then(|id| wave.account(id));
            let discover = listed.map_or(wave.log_groups.discover, |a| a.log_groups.discover);
            if discover {
                groups.insert(LogGroupRef { account: listed.map(|a| a.id.clone()), name: name.clone() });
            }
        }
    }
    groups
}

/// The account a flow log was created in, as far as the inventory says: that of the resource
/// it watches (an interface's owner, or the owner of the VPC of a subnet or a VPC). In a
/// shared VPC the owner creates the flow logs of the VPC and its subnets and a participant
/// those of its own interfaces, so this is the account its log group is in.
pub fn flow_log_account<'a>(inventory: &'a Inventory, fl: &FlowLog) -> Option<&'a str> {
    if let Some(eni) = inventory.enis.get(&fl.resource_id) {
        return eni.owner_id.as_deref();
    }
    let vpc = inventory.subnets.get(&fl.resource_id).map_or(fl.resource_id.as_str(), |s| s.vpc_id.as_str());
    inventory.vpcs.get(vpc).and_then(|v| v.owner_id.as_deref())
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
    use crate::inventory::{Eni, Instance};
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
            account: None,
        }
    }

    fn wave(servers: Vec<Server>, discover: bool) -> WaveConfig {
        WaveConfig {
            name: "w".into(),
            description: None,
            path: PathBuf::from("w.toml"),
            window: WindowSpec::Last(std::time::Duration::from_secs(3600)),
            aws: AwsSettings::default(),
            accounts: Vec::new(),
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
        let w = WaveConfig { log_groups: LogGroups { names: vec!["/explicit".into()], discover: true }, ..w };
        let r = Resolution::new(&w, inventory());
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
        let names: Vec<String> = r.log_groups.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["/explicit", "/vpc/flow"]);
    }

    #[test]
    fn without_discover_only_explicit_groups_are_queried() {
        let w = wave(vec![server("web", "10.0.0.5", None, false)], false);
        let r = Resolution::new(&w, inventory());
        assert!(r.unresolved.is_empty() && r.uncovered.is_empty());
        assert!(r.log_groups.is_empty());
    }
}
