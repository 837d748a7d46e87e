//! EC2 JSON ([`Snapshot`]) ⇄ wavegap's [`Inventory`].
//!
//! `to_inventory` is the only way an inventory is made, whether the snapshot came from the
//! EC2 API a moment ago or from a file: the analysis cannot tell the two apart.
//! `from_inventory` writes an inventory back out in the same shape (for inventories built by
//! hand or in tests); fields the model does not keep are absent.

use std::net::IpAddr;

use ipnet::IpNet;
use wavegap_core::inventory::{
    self as inv, FlowLogDestination, IcmpMatch, Inventory, NaclEntry, Os, PortMatch, PortRange, Protocol, RuleAction,
    SgPeer, SgRule,
};

use crate::ec2json::{self as j, Snapshot, name_tag};
use crate::error::Error;

fn required(value: Option<&String>, resource: &str, field: &'static str) -> Result<String, Error> {
    value.cloned().ok_or_else(|| Error::Missing { resource: resource.to_owned(), field })
}

fn net(value: &str, resource: &str, field: &'static str) -> Result<IpNet, Error> {
    value.parse().map_err(|_| Error::Invalid { resource: resource.to_owned(), field, value: value.to_owned() })
}

fn ip(value: &str, resource: &str, field: &'static str) -> Result<IpAddr, Error> {
    value.parse().map_err(|_| Error::Invalid { resource: resource.to_owned(), field, value: value.to_owned() })
}

fn protocol(value: Option<&String>, resource: &str) -> Result<Protocol, Error> {
    let value = value.map_or("-1", String::as_str);
    Protocol::parse(value).ok_or_else(|| Error::Invalid {
        resource: resource.to_owned(),
        field: "protocol",
        value: value.to_owned(),
    })
}

fn port(value: i32, resource: &str, field: &'static str) -> Result<u16, Error> {
    u16::try_from(value).map_err(|_| Error::Invalid { resource: resource.to_owned(), field, value: value.to_string() })
}

/// `-1` (or absent) means any ICMP type or code.
fn icmp_part(value: Option<i32>) -> Option<u8> {
    value.and_then(|v| u8::try_from(v).ok())
}

/// The port match of a rule with this protocol and EC2's from/to numbers (ports for TCP and
/// UDP, type and code for ICMP).
fn port_match(proto: Protocol, from: Option<i32>, to: Option<i32>, resource: &str) -> Result<PortMatch, Error> {
    Ok(match proto {
        Protocol::Number(inv::proto::TCP | inv::proto::UDP) => match (from, to) {
            (Some(-1) | None, _) | (_, None) => PortMatch::Ports(PortRange::ALL),
            (Some(f), Some(t)) => {
                PortMatch::Ports(PortRange { from: port(f, resource, "from port")?, to: port(t, resource, "to port")? })
            }
        },
        Protocol::Number(inv::proto::ICMP | inv::proto::ICMPV6) => {
            PortMatch::Icmp(IcmpMatch { icmp_type: icmp_part(from), code: icmp_part(to) })
        }
        _ => PortMatch::Any,
    })
}

/// Converts each element of `list` and hands it to `put`; an element that does not convert
/// is named by its place (`NetworkInterfaces[12]`).
fn each<T, U, R>(
    list: &str,
    items: &[T],
    convert: impl Fn(&T) -> Result<U, Error>,
    mut put: impl FnMut(U) -> R,
) -> Result<(), Error> {
    for (i, item) in items.iter().enumerate() {
        let value =
            convert(item).map_err(|e| Error::Element { element: format!("{list}[{i}]"), problem: Box::new(e) })?;
        put(value);
    }
    Ok(())
}

impl Snapshot {
    /// The inventory this snapshot describes. Repeated ids count once (the last wins).
    pub fn to_inventory(&self) -> Result<Inventory, Error> {
        let mut out = Inventory::default();
        each("Vpcs", &self.vpcs, vpc, |v| out.vpcs.insert(v.id.clone(), v))?;
        each("Subnets", &self.subnets, subnet, |s| out.subnets.insert(s.id.clone(), s))?;
        each("NetworkInterfaces", &self.network_interfaces, eni, |e| out.enis.insert(e.id.clone(), e))?;
        for (r, reservation) in self.reservations.iter().enumerate() {
            let list = format!("Reservations[{r}].Instances");
            each(&list, &reservation.instances, instance, |i| out.instances.insert(i.id.clone(), i))?;
        }
        each("SecurityGroups", &self.security_groups, security_group, |g| out.security_groups.insert(g.id.clone(), g))?;
        each("NetworkAcls", &self.network_acls, network_acl, |a| out.nacls.insert(a.id.clone(), a))?;
        each("ManagedPrefixLists", &self.managed_prefix_lists, prefix_list, |p| {
            out.prefix_lists.insert(p.id.clone(), p)
        })?;
        each("VpcPeeringConnections", &self.vpc_peering_connections, peering, |p| {
            out.peerings.insert(p.id.clone(), p)
        })?;
        each("NatGateways", &self.nat_gateways, nat_gateway, |n| out.nat_gateways.insert(n.id.clone(), n))?;
        each("FlowLogs", &self.flow_logs, flow_log, |f| out.flow_logs.insert(f.id.clone(), f))?;
        Ok(out)
    }

    /// An inventory in EC2 JSON, so it can be saved as a snapshot.
    pub fn from_inventory(inventory: &Inventory) -> Snapshot {
        to_json::snapshot(inventory)
    }
}

fn vpc(v: &j::Vpc) -> Result<inv::Vpc, Error> {
    let id = required(v.vpc_id.as_ref(), "a VPC", "VpcId")?;
    let mut cidrs = Vec::new();
    for c in v.cidr_block.iter().chain(
        v.cidr_block_association_set
            .iter()
            .filter(|a| !is_gone(a.cidr_block_state.as_ref()))
            .filter_map(|a| a.cidr_block.as_ref()),
    ) {
        let c = net(c, &id, "CidrBlock")?;
        if !cidrs.contains(&c) {
            cidrs.push(c);
        }
    }
    for a in v.ipv6_cidr_block_association_set.iter().filter(|a| !is_gone(a.ipv6_cidr_block_state.as_ref())) {
        if let Some(c) = &a.ipv6_cidr_block {
            cidrs.push(net(c, &id, "Ipv6CidrBlock")?);
        }
    }
    Ok(inv::Vpc { owner_id: v.owner_id.clone(), name: name_tag(&v.tags), cidrs, id })
}

/// A CIDR association that is being or has been removed.
fn is_gone(state: Option<&j::State>) -> bool {
    state.and_then(|s| s.state.as_deref()).is_some_and(|s| matches!(s, "disassociating" | "disassociated" | "failed"))
}

fn subnet(v: &j::Subnet) -> Result<inv::Subnet, Error> {
    let id = required(v.subnet_id.as_ref(), "a subnet", "SubnetId")?;
    let mut cidrs = Vec::new();
    if let Some(c) = &v.cidr_block {
        cidrs.push(net(c, &id, "CidrBlock")?);
    }
    for a in v.ipv6_cidr_block_association_set.iter().filter(|a| !is_gone(a.ipv6_cidr_block_state.as_ref())) {
        if let Some(c) = &a.ipv6_cidr_block {
            cidrs.push(net(c, &id, "Ipv6CidrBlock")?);
        }
    }
    Ok(inv::Subnet {
        vpc_id: required(v.vpc_id.as_ref(), &id, "VpcId")?,
        name: name_tag(&v.tags),
        availability_zone: v.availability_zone.clone(),
        cidrs,
        id,
    })
}

fn eni(v: &j::NetworkInterface) -> Result<inv::Eni, Error> {
    let id = required(v.network_interface_id.as_ref(), "a network interface", "NetworkInterfaceId")?;
    let mut ips = Vec::new();
    let primary = v
        .private_ip_address
        .as_ref()
        .or_else(|| v.private_ip_addresses.iter().find(|p| p.primary == Some(true))?.private_ip_address.as_ref());
    if let Some(p) = primary {
        ips.push(ip(p, &id, "PrivateIpAddress")?);
    }
    for p in v.private_ip_addresses.iter().filter_map(|p| p.private_ip_address.as_ref()) {
        let p = ip(p, &id, "PrivateIpAddress")?;
        if !ips.contains(&p) {
            ips.push(p);
        }
    }
    for a in v.ipv6_addresses.iter().filter_map(|a| a.ipv6_address.as_ref()) {
        ips.push(ip(a, &id, "Ipv6Address")?);
    }
    let public_ip =
        v.association.as_ref().and_then(|a| a.public_ip.as_ref()).map(|p| ip(p, &id, "PublicIp")).transpose()?;
    Ok(inv::Eni {
        subnet_id: required(v.subnet_id.as_ref(), &id, "SubnetId")?,
        vpc_id: required(v.vpc_id.as_ref(), &id, "VpcId")?,
        owner_id: v.owner_id.clone(),
        private_ips: ips,
        public_ip,
        security_groups: v.groups.iter().filter_map(|g| g.group_id.clone()).collect(),
        instance_id: v.attachment.as_ref().and_then(|a| a.instance_id.clone()),
        interface_type: v.interface_type.clone(),
        description: v.description.clone().filter(|d| !d.is_empty()),
        status: v.status.clone(),
        id,
    })
}

fn instance(v: &j::Instance) -> Result<inv::Instance, Error> {
    let id = required(v.instance_id.as_ref(), "an instance", "InstanceId")?;
    Ok(inv::Instance {
        name: name_tag(&v.tags),
        state: v.state.as_ref().and_then(|s| s.name.clone()),
        platform: v.os(),
        subnet_id: v.subnet_id.clone(),
        vpc_id: v.vpc_id.clone(),
        private_ip: v.private_ip_address.as_ref().map(|p| ip(p, &id, "PrivateIpAddress")).transpose()?,
        eni_ids: v.network_interfaces.iter().filter_map(|n| n.network_interface_id.clone()).collect(),
        id,
    })
}

fn security_group(v: &j::SecurityGroup) -> Result<inv::SecurityGroup, Error> {
    let id = required(v.group_id.as_ref(), "a security group", "GroupId")?;
    let rules = |perms: &[j::IpPermission]| -> Result<Vec<SgRule>, Error> {
        let mut out = Vec::new();
        for p in perms {
            let proto = protocol(p.ip_protocol.as_ref(), &id)?;
            let ports = port_match(proto, p.from_port, p.to_port, &id)?;
            let rule = |peer: SgPeer, description: &Option<String>| SgRule {
                id: None,
                protocol: proto,
                ports,
                peer,
                description: description.clone(),
            };
            for r in &p.ip_ranges {
                if let Some(c) = &r.cidr_ip {
                    out.push(rule(SgPeer::Cidr(net(c, &id, "CidrIp")?), &r.description));
                }
            }
            for r in &p.ipv6_ranges {
                if let Some(c) = &r.cidr_ipv6 {
                    out.push(rule(SgPeer::Cidr(net(c, &id, "CidrIpv6")?), &r.description));
                }
            }
            for r in &p.prefix_list_ids {
                if let Some(pl) = &r.prefix_list_id {
                    out.push(rule(SgPeer::PrefixList(pl.clone()), &r.description));
                }
            }
            for g in &p.user_id_group_pairs {
                if let Some(group_id) = &g.group_id {
                    let peer = SgPeer::Group {
                        group_id: group_id.clone(),
                        owner_id: g.user_id.clone(),
                        vpc_id: g.vpc_id.clone(),
                        peering_id: g.vpc_peering_connection_id.clone(),
                    };
                    out.push(rule(peer, &g.description));
                }
            }
        }
        Ok(out)
    };
    Ok(inv::SecurityGroup {
        name: v.group_name.clone().unwrap_or_default(),
        vpc_id: v.vpc_id.clone(),
        owner_id: v.owner_id.clone(),
        description: v.description.clone(),
        ingress: rules(&v.ip_permissions)?,
        egress: rules(&v.ip_permissions_egress)?,
        id,
    })
}

fn network_acl(v: &j::NetworkAcl) -> Result<inv::NetworkAcl, Error> {
    let id = required(v.network_acl_id.as_ref(), "a network ACL", "NetworkAclId")?;
    let mut entries = Vec::new();
    for e in &v.entries {
        let proto = protocol(e.protocol.as_ref(), &id)?;
        let ports = if let Protocol::Number(inv::proto::ICMP | inv::proto::ICMPV6) = proto {
            let tc = e.icmp_type_code.clone().unwrap_or_default();
            PortMatch::Icmp(IcmpMatch { icmp_type: icmp_part(tc.r#type), code: icmp_part(tc.code) })
        } else {
            let pr = e.port_range.clone().unwrap_or_default();
            port_match(proto, pr.from, pr.to, &id)?
        };
        let cidr = match (&e.cidr_block, &e.ipv6_cidr_block) {
            (Some(c), _) => net(c, &id, "CidrBlock")?,
            (None, Some(c)) => net(c, &id, "Ipv6CidrBlock")?,
            (None, None) => return Err(Error::Missing { resource: id, field: "CidrBlock" }),
        };
        let rule_number = e.rule_number.unwrap_or(i32::from(inv::NACL_DEFAULT_RULE_NUMBER));
        let action = match e.rule_action.as_deref() {
            Some("allow") => RuleAction::Allow,
            Some("deny") => RuleAction::Deny,
            other => {
                return Err(Error::Invalid {
                    resource: id,
                    field: "RuleAction",
                    value: other.unwrap_or_default().to_owned(),
                });
            }
        };
        entries.push(NaclEntry {
            rule_number: u16::try_from(rule_number).map_err(|_| Error::Invalid {
                resource: id.clone(),
                field: "RuleNumber",
                value: rule_number.to_string(),
            })?,
            egress: e.egress.unwrap_or(false),
            protocol: proto,
            ports,
            cidr,
            action,
        });
    }
    Ok(inv::NetworkAcl {
        vpc_id: required(v.vpc_id.as_ref(), &id, "VpcId")?,
        name: name_tag(&v.tags),
        is_default: v.is_default.unwrap_or(false),
        subnet_ids: v.associations.iter().filter_map(|a| a.subnet_id.clone()).collect(),
        entries,
        id,
    })
}

fn prefix_list(v: &j::ManagedPrefixList) -> Result<inv::PrefixList, Error> {
    let id = required(v.prefix_list_id.as_ref(), "a prefix list", "PrefixListId")?;
    let mut entries = Vec::new();
    for e in v.entries.iter().filter_map(|e| e.cidr.as_ref()) {
        entries.push(net(e, &id, "Cidr")?);
    }
    Ok(inv::PrefixList {
        name: v.prefix_list_name.clone(),
        max_entries: v.max_entries.and_then(|m| u32::try_from(m).ok()),
        entries,
        id,
    })
}

fn peering(v: &j::VpcPeeringConnection) -> Result<inv::VpcPeering, Error> {
    let id = required(v.vpc_peering_connection_id.as_ref(), "a VPC peering", "VpcPeeringConnectionId")?;
    Ok(inv::VpcPeering {
        requester_vpc_id: required(
            v.requester_vpc_info.as_ref().and_then(|i| i.vpc_id.as_ref()),
            &id,
            "RequesterVpcInfo.VpcId",
        )?,
        accepter_vpc_id: required(
            v.accepter_vpc_info.as_ref().and_then(|i| i.vpc_id.as_ref()),
            &id,
            "AccepterVpcInfo.VpcId",
        )?,
        status: v.status.as_ref().and_then(|s| s.code.clone()),
        id,
    })
}

fn nat_gateway(v: &j::NatGateway) -> Result<inv::NatGateway, Error> {
    let id = required(v.nat_gateway_id.as_ref(), "a NAT gateway", "NatGatewayId")?;
    let mut private_ips = Vec::new();
    for a in v.nat_gateway_addresses.iter().filter_map(|a| a.private_ip.as_ref()) {
        private_ips.push(ip(a, &id, "PrivateIp")?);
    }
    Ok(inv::NatGateway {
        vpc_id: required(v.vpc_id.as_ref(), &id, "VpcId")?,
        subnet_id: required(v.subnet_id.as_ref(), &id, "SubnetId")?,
        private_ips,
        eni_ids: v.nat_gateway_addresses.iter().filter_map(|a| a.network_interface_id.clone()).collect(),
        id,
    })
}

fn flow_log(v: &j::FlowLog) -> Result<inv::FlowLog, Error> {
    let id = required(v.flow_log_id.as_ref(), "a flow log", "FlowLogId")?;
    let destination_type = match v.log_destination_type.as_deref() {
        None | Some("cloud-watch-logs") => FlowLogDestination::CloudWatchLogs,
        Some("s3") => FlowLogDestination::S3,
        Some("kinesis-data-firehose") => FlowLogDestination::KinesisDataFirehose,
        Some(other) => {
            return Err(Error::Invalid { resource: id, field: "LogDestinationType", value: other.to_owned() });
        }
    };
    Ok(inv::FlowLog {
        resource_id: required(v.resource_id.as_ref(), &id, "ResourceId")?,
        destination_type,
        log_group: v.log_group_name.clone(),
        destination: v.log_destination.clone(),
        traffic_type: v.traffic_type.clone(),
        log_format: v.log_format.clone(),
        status: v.flow_log_status.clone(),
        max_aggregation_interval: v.max_aggregation_interval.and_then(|m| u32::try_from(m).ok()),
        created: match v.creation_time.as_deref() {
            None => None,
            Some(t) => Some(
                chrono::DateTime::parse_from_rfc3339(t)
                    .map_err(|_| Error::Invalid { resource: id.clone(), field: "CreationTime", value: t.to_owned() })?
                    .timestamp(),
            ),
        },
        id,
    })
}

/// Inventory → EC2 JSON.
mod to_json {
    use super::{Inventory, Os, PortMatch, SgPeer, SgRule, inv, j};
    use crate::ec2json::Snapshot;

    fn name(n: Option<&String>) -> Vec<j::Tag> {
        n.map(|n| j::Tag { key: Some("Name".into()), value: Some(n.clone()) }).into_iter().collect()
    }

    fn permissions(rules: &[SgRule]) -> Vec<j::IpPermission> {
        rules
            .iter()
            .map(|r| {
                let (from_port, to_port) = r.ports.ec2_from_to().unzip();
                let mut p = j::IpPermission {
                    ip_protocol: Some(r.protocol.ec2_name()),
                    from_port,
                    to_port,
                    ..j::IpPermission::default()
                };
                let description = r.description.clone();
                match &r.peer {
                    SgPeer::Cidr(c) if c.addr().is_ipv4() => {
                        p.ip_ranges.push(j::IpRange { cidr_ip: Some(c.to_string()), description });
                    }
                    SgPeer::Cidr(c) => p.ipv6_ranges.push(j::Ipv6Range { cidr_ipv6: Some(c.to_string()), description }),
                    SgPeer::PrefixList(id) => {
                        p.prefix_list_ids.push(j::PrefixListId { prefix_list_id: Some(id.clone()), description });
                    }
                    SgPeer::Group { group_id, owner_id, vpc_id, peering_id } => {
                        p.user_id_group_pairs.push(j::UserIdGroupPair {
                            group_id: Some(group_id.clone()),
                            user_id: owner_id.clone(),
                            vpc_id: vpc_id.clone(),
                            vpc_peering_connection_id: peering_id.clone(),
                            description,
                            ..j::UserIdGroupPair::default()
                        });
                    }
                }
                p
            })
            .collect()
    }

    pub fn snapshot(inventory: &Inventory) -> Snapshot {
        let vpcs = inventory.vpcs.values().map(|v| {
            let (v4, v6): (Vec<&ipnet::IpNet>, Vec<&ipnet::IpNet>) = v.cidrs.iter().partition(|c| c.addr().is_ipv4());
            j::Vpc {
                vpc_id: Some(v.id.clone()),
                owner_id: v.owner_id.clone(),
                cidr_block: v4.first().map(ToString::to_string),
                cidr_block_association_set: v4
                    .iter()
                    .map(|c| j::VpcCidrBlockAssociation { cidr_block: Some(c.to_string()), ..Default::default() })
                    .collect(),
                ipv6_cidr_block_association_set: v6
                    .iter()
                    .map(|c| j::Ipv6CidrBlockAssociation { ipv6_cidr_block: Some(c.to_string()), ..Default::default() })
                    .collect(),
                tags: name(v.name.as_ref()),
                ..Default::default()
            }
        });
        let subnets = inventory.subnets.values().map(|s| {
            let (v4, v6): (Vec<&ipnet::IpNet>, Vec<&ipnet::IpNet>) = s.cidrs.iter().partition(|c| c.addr().is_ipv4());
            j::Subnet {
                subnet_id: Some(s.id.clone()),
                vpc_id: Some(s.vpc_id.clone()),
                cidr_block: v4.first().map(ToString::to_string),
                ipv6_cidr_block_association_set: v6
                    .iter()
                    .map(|c| j::Ipv6CidrBlockAssociation { ipv6_cidr_block: Some(c.to_string()), ..Default::default() })
                    .collect(),
                availability_zone: s.availability_zone.clone(),
                tags: name(s.name.as_ref()),
                ..Default::default()
            }
        });
        let enis = inventory.enis.values().map(|e| {
            let (v4, v6): (Vec<&std::net::IpAddr>, Vec<&std::net::IpAddr>) =
                e.private_ips.iter().partition(|ip| ip.is_ipv4());
            j::NetworkInterface {
                network_interface_id: Some(e.id.clone()),
                subnet_id: Some(e.subnet_id.clone()),
                vpc_id: Some(e.vpc_id.clone()),
                owner_id: e.owner_id.clone(),
                private_ip_address: v4.first().map(ToString::to_string),
                private_ip_addresses: v4
                    .iter()
                    .enumerate()
                    .map(|(i, ip)| j::NetworkInterfacePrivateIpAddress {
                        private_ip_address: Some(ip.to_string()),
                        primary: Some(i == 0),
                        association: None,
                    })
                    .collect(),
                ipv6_addresses: v6
                    .iter()
                    .map(|ip| j::NetworkInterfaceIpv6Address { ipv6_address: Some(ip.to_string()) })
                    .collect(),
                association: e
                    .public_ip
                    .map(|p| j::NetworkInterfaceAssociation { public_ip: Some(p.to_string()), ip_owner_id: None }),
                groups: e
                    .security_groups
                    .iter()
                    .map(|g| j::GroupIdentifier { group_id: Some(g.clone()), group_name: None })
                    .collect(),
                interface_type: e.interface_type.clone(),
                status: e.status.clone(),
                description: e.description.clone(),
                attachment: e
                    .instance_id
                    .as_ref()
                    .map(|i| j::NetworkInterfaceAttachment { instance_id: Some(i.clone()), ..Default::default() }),
                ..Default::default()
            }
        });
        let reservations = inventory.instances.values().map(|i| j::Reservation {
            reservation_id: None,
            owner_id: None,
            instances: vec![j::Instance {
                instance_id: Some(i.id.clone()),
                state: i.state.as_ref().map(|s| j::InstanceState { code: None, name: Some(s.clone()) }),
                private_ip_address: i.private_ip.map(|p| p.to_string()),
                subnet_id: i.subnet_id.clone(),
                vpc_id: i.vpc_id.clone(),
                network_interfaces: i
                    .eni_ids
                    .iter()
                    .map(|n| j::InstanceNetworkInterface {
                        network_interface_id: Some(n.clone()),
                        ..Default::default()
                    })
                    .collect(),
                platform: matches!(i.platform, Some(Os::Windows | Os::WindowsLegacy)).then(|| "windows".into()),
                platform_details: match i.platform {
                    Some(Os::Windows | Os::WindowsLegacy) => Some("Windows".into()),
                    Some(Os::Linux) => Some("Linux/UNIX".into()),
                    None => None,
                },
                tags: name(i.name.as_ref()),
                ..Default::default()
            }],
        });
        let groups = inventory.security_groups.values().map(|g| j::SecurityGroup {
            group_id: Some(g.id.clone()),
            group_name: Some(g.name.clone()),
            description: g.description.clone(),
            vpc_id: g.vpc_id.clone(),
            owner_id: g.owner_id.clone(),
            ip_permissions: permissions(&g.ingress),
            ip_permissions_egress: permissions(&g.egress),
            tags: Vec::new(),
        });
        let nacls = inventory.nacls.values().map(|a| j::NetworkAcl {
            network_acl_id: Some(a.id.clone()),
            vpc_id: Some(a.vpc_id.clone()),
            owner_id: None,
            is_default: Some(a.is_default),
            entries: a
                .entries
                .iter()
                .map(|e| {
                    let (from, to) = e.ports.ec2_from_to().unzip();
                    let (port_range, icmp_type_code) = match e.ports {
                        PortMatch::Ports(_) => (Some(j::PortRange { from, to }), None),
                        PortMatch::Icmp(_) => (None, Some(j::IcmpTypeCode { r#type: from, code: to })),
                        PortMatch::Any => (None, None),
                    };
                    let (cidr_block, ipv6_cidr_block) = if e.cidr.addr().is_ipv4() {
                        (Some(e.cidr.to_string()), None)
                    } else {
                        (None, Some(e.cidr.to_string()))
                    };
                    j::NetworkAclEntry {
                        rule_number: Some(i32::from(e.rule_number)),
                        protocol: Some(e.protocol.ec2_number()),
                        rule_action: Some(e.action.as_str().into()),
                        egress: Some(e.egress),
                        cidr_block,
                        ipv6_cidr_block,
                        port_range,
                        icmp_type_code,
                    }
                })
                .collect(),
            associations: a
                .subnet_ids
                .iter()
                .map(|s| j::NetworkAclAssociation {
                    subnet_id: Some(s.clone()),
                    network_acl_id: Some(a.id.clone()),
                    network_acl_association_id: None,
                })
                .collect(),
            tags: name(a.name.as_ref()),
        });
        let prefix_lists = inventory.prefix_lists.values().map(|p| j::ManagedPrefixList {
            prefix_list_id: Some(p.id.clone()),
            prefix_list_name: p.name.clone(),
            max_entries: p.max_entries.and_then(|m| i32::try_from(m).ok()),
            entries: p
                .entries
                .iter()
                .map(|c| j::PrefixListEntry { cidr: Some(c.to_string()), description: None })
                .collect(),
            ..Default::default()
        });
        let peerings = inventory.peerings.values().map(|p| j::VpcPeeringConnection {
            vpc_peering_connection_id: Some(p.id.clone()),
            requester_vpc_info: Some(j::VpcPeeringConnectionVpcInfo {
                vpc_id: Some(p.requester_vpc_id.clone()),
                ..Default::default()
            }),
            accepter_vpc_info: Some(j::VpcPeeringConnectionVpcInfo {
                vpc_id: Some(p.accepter_vpc_id.clone()),
                ..Default::default()
            }),
            status: p.status.as_ref().map(|s| j::VpcPeeringConnectionStatus { code: Some(s.clone()), message: None }),
            tags: Vec::new(),
        });
        let nats = inventory.nat_gateways.values().map(|n| j::NatGateway {
            nat_gateway_id: Some(n.id.clone()),
            vpc_id: Some(n.vpc_id.clone()),
            subnet_id: Some(n.subnet_id.clone()),
            nat_gateway_addresses: n
                .private_ips
                .iter()
                .zip(n.eni_ids.iter())
                .map(|(ip, eni)| j::NatGatewayAddress {
                    network_interface_id: Some(eni.clone()),
                    private_ip: Some(ip.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        let flow_logs = inventory.flow_logs.values().map(|f| j::FlowLog {
            flow_log_id: Some(f.id.clone()),
            resource_id: Some(f.resource_id.clone()),
            traffic_type: f.traffic_type.clone(),
            log_destination_type: Some(
                match f.destination_type {
                    inv::FlowLogDestination::CloudWatchLogs => "cloud-watch-logs",
                    inv::FlowLogDestination::S3 => "s3",
                    inv::FlowLogDestination::KinesisDataFirehose => "kinesis-data-firehose",
                }
                .into(),
            ),
            log_destination: f.destination.clone(),
            log_group_name: f.log_group.clone(),
            log_format: f.log_format.clone(),
            max_aggregation_interval: f.max_aggregation_interval.and_then(|m| i32::try_from(m).ok()),
            flow_log_status: f.status.clone(),
            creation_time: f
                .created
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            ..Default::default()
        });
        Snapshot {
            vpcs: vpcs.collect(),
            subnets: subnets.collect(),
            network_interfaces: enis.collect(),
            reservations: reservations.collect(),
            security_groups: groups.collect(),
            network_acls: nacls.collect(),
            flow_logs: flow_logs.collect(),
            managed_prefix_lists: prefix_lists.collect(),
            vpc_peering_connections: peerings.collect(),
            nat_gateways: nats.collect(),
        }
    }
}
