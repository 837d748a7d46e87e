//! SDK response types → the EC2 JSON shapes of [`crate::ec2json`], so what `wavegap inventory`
//! saves is what `aws ec2 describe-…` would have printed for the same fields.

use aws_sdk_ec2::types as sdk;

use crate::ec2json as j;

fn s(v: Option<&str>) -> Option<String> {
    v.map(str::to_owned)
}

fn e<T: AsRef<str>>(v: Option<&T>) -> Option<String> {
    v.map(|x| x.as_ref().to_owned())
}

fn tags(t: &[sdk::Tag]) -> Vec<j::Tag> {
    t.iter().map(|t| j::Tag { key: s(t.key()), value: s(t.value()) }).collect()
}

fn group(g: &sdk::GroupIdentifier) -> j::GroupIdentifier {
    j::GroupIdentifier { group_id: s(g.group_id()), group_name: s(g.group_name()) }
}

pub fn vpc(v: &sdk::Vpc) -> j::Vpc {
    j::Vpc {
        vpc_id: s(v.vpc_id()),
        owner_id: s(v.owner_id()),
        cidr_block: s(v.cidr_block()),
        cidr_block_association_set: v
            .cidr_block_association_set()
            .iter()
            .map(|a| j::VpcCidrBlockAssociation {
                association_id: s(a.association_id()),
                cidr_block: s(a.cidr_block()),
                cidr_block_state: a.cidr_block_state().map(|st| j::State { state: e(st.state()) }),
            })
            .collect(),
        ipv6_cidr_block_association_set: v
            .ipv6_cidr_block_association_set()
            .iter()
            .map(|a| j::Ipv6CidrBlockAssociation {
                association_id: s(a.association_id()),
                ipv6_cidr_block: s(a.ipv6_cidr_block()),
                ipv6_cidr_block_state: a.ipv6_cidr_block_state().map(|st| j::State { state: e(st.state()) }),
            })
            .collect(),
        state: e(v.state()),
        is_default: v.is_default(),
        tags: tags(v.tags()),
    }
}

pub fn subnet(v: &sdk::Subnet) -> j::Subnet {
    j::Subnet {
        subnet_id: s(v.subnet_id()),
        vpc_id: s(v.vpc_id()),
        cidr_block: s(v.cidr_block()),
        ipv6_cidr_block_association_set: v
            .ipv6_cidr_block_association_set()
            .iter()
            .map(|a| j::Ipv6CidrBlockAssociation {
                association_id: s(a.association_id()),
                ipv6_cidr_block: s(a.ipv6_cidr_block()),
                ipv6_cidr_block_state: a.ipv6_cidr_block_state().map(|st| j::State { state: e(st.state()) }),
            })
            .collect(),
        availability_zone: s(v.availability_zone()),
        availability_zone_id: s(v.availability_zone_id()),
        owner_id: s(v.owner_id()),
        state: e(v.state()),
        tags: tags(v.tags()),
    }
}

fn eni_association(a: &sdk::NetworkInterfaceAssociation) -> j::NetworkInterfaceAssociation {
    j::NetworkInterfaceAssociation { public_ip: s(a.public_ip()), ip_owner_id: s(a.ip_owner_id()) }
}

pub fn network_interface(v: &sdk::NetworkInterface) -> j::NetworkInterface {
    j::NetworkInterface {
        network_interface_id: s(v.network_interface_id()),
        subnet_id: s(v.subnet_id()),
        vpc_id: s(v.vpc_id()),
        availability_zone: s(v.availability_zone()),
        owner_id: s(v.owner_id()),
        private_ip_address: s(v.private_ip_address()),
        private_ip_addresses: v
            .private_ip_addresses()
            .iter()
            .map(|p| j::NetworkInterfacePrivateIpAddress {
                private_ip_address: s(p.private_ip_address()),
                primary: p.primary(),
                association: p.association().map(eni_association),
            })
            .collect(),
        ipv6_addresses: v
            .ipv6_addresses()
            .iter()
            .map(|a| j::NetworkInterfaceIpv6Address { ipv6_address: s(a.ipv6_address()) })
            .collect(),
        association: v.association().map(eni_association),
        groups: v.groups().iter().map(group).collect(),
        interface_type: e(v.interface_type()),
        status: e(v.status()),
        description: s(v.description()),
        attachment: v.attachment().map(|a| j::NetworkInterfaceAttachment {
            attachment_id: s(a.attachment_id()),
            instance_id: s(a.instance_id()),
            instance_owner_id: s(a.instance_owner_id()),
            device_index: a.device_index(),
            status: e(a.status()),
        }),
        tag_set: tags(v.tag_set()),
    }
}

pub fn reservation(r: &sdk::Reservation) -> j::Reservation {
    j::Reservation {
        reservation_id: s(r.reservation_id()),
        owner_id: s(r.owner_id()),
        instances: r.instances().iter().map(instance).collect(),
    }
}

fn instance(v: &sdk::Instance) -> j::Instance {
    j::Instance {
        instance_id: s(v.instance_id()),
        instance_type: e(v.instance_type()),
        state: v.state().map(|st| j::InstanceState { code: st.code(), name: e(st.name()) }),
        private_ip_address: s(v.private_ip_address()),
        subnet_id: s(v.subnet_id()),
        vpc_id: s(v.vpc_id()),
        placement: v.placement().map(|p| j::Placement { availability_zone: s(p.availability_zone()) }),
        security_groups: v.security_groups().iter().map(group).collect(),
        network_interfaces: v
            .network_interfaces()
            .iter()
            .map(|n| j::InstanceNetworkInterface {
                network_interface_id: s(n.network_interface_id()),
                private_ip_address: s(n.private_ip_address()),
                subnet_id: s(n.subnet_id()),
                vpc_id: s(n.vpc_id()),
            })
            .collect(),
        platform: e(v.platform()),
        platform_details: s(v.platform_details()),
        tags: tags(v.tags()),
    }
}

pub fn security_group(v: &sdk::SecurityGroup) -> j::SecurityGroup {
    j::SecurityGroup {
        group_id: s(v.group_id()),
        group_name: s(v.group_name()),
        description: s(v.description()),
        vpc_id: s(v.vpc_id()),
        owner_id: s(v.owner_id()),
        ip_permissions: v.ip_permissions().iter().map(permission).collect(),
        ip_permissions_egress: v.ip_permissions_egress().iter().map(permission).collect(),
        tags: tags(v.tags()),
    }
}

fn permission(p: &sdk::IpPermission) -> j::IpPermission {
    j::IpPermission {
        ip_protocol: s(p.ip_protocol()),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ip_ranges: p
            .ip_ranges()
            .iter()
            .map(|r| j::IpRange { cidr_ip: s(r.cidr_ip()), description: s(r.description()) })
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .map(|r| j::Ipv6Range { cidr_ipv6: s(r.cidr_ipv6()), description: s(r.description()) })
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .map(|r| j::PrefixListId { prefix_list_id: s(r.prefix_list_id()), description: s(r.description()) })
            .collect(),
        user_id_group_pairs: p
            .user_id_group_pairs()
            .iter()
            .map(|g| j::UserIdGroupPair {
                group_id: s(g.group_id()),
                group_name: s(g.group_name()),
                user_id: s(g.user_id()),
                vpc_id: s(g.vpc_id()),
                vpc_peering_connection_id: s(g.vpc_peering_connection_id()),
                peering_status: s(g.peering_status()),
                description: s(g.description()),
            })
            .collect(),
    }
}

pub fn network_acl(v: &sdk::NetworkAcl) -> j::NetworkAcl {
    j::NetworkAcl {
        network_acl_id: s(v.network_acl_id()),
        vpc_id: s(v.vpc_id()),
        owner_id: s(v.owner_id()),
        is_default: v.is_default(),
        entries: v
            .entries()
            .iter()
            .map(|en| j::NetworkAclEntry {
                rule_number: en.rule_number(),
                protocol: s(en.protocol()),
                rule_action: e(en.rule_action()),
                egress: en.egress(),
                cidr_block: s(en.cidr_block()),
                ipv6_cidr_block: s(en.ipv6_cidr_block()),
                port_range: en.port_range().map(|p| j::PortRange { from: p.from(), to: p.to() }),
                icmp_type_code: en.icmp_type_code().map(|c| j::IcmpTypeCode { code: c.code(), r#type: c.r#type() }),
            })
            .collect(),
        associations: v
            .associations()
            .iter()
            .map(|a| j::NetworkAclAssociation {
                network_acl_association_id: s(a.network_acl_association_id()),
                network_acl_id: s(a.network_acl_id()),
                subnet_id: s(a.subnet_id()),
            })
            .collect(),
        tags: tags(v.tags()),
    }
}

pub fn flow_log(v: &sdk::FlowLog) -> j::FlowLog {
    j::FlowLog {
        flow_log_id: s(v.flow_log_id()),
        resource_id: s(v.resource_id()),
        traffic_type: e(v.traffic_type()),
        log_destination_type: e(v.log_destination_type()),
        log_destination: s(v.log_destination()),
        log_group_name: s(v.log_group_name()),
        log_format: s(v.log_format()),
        max_aggregation_interval: v.max_aggregation_interval(),
        flow_log_status: s(v.flow_log_status()),
        deliver_logs_status: s(v.deliver_logs_status()),
        creation_time: v.creation_time().and_then(|t| t.fmt(aws_sdk_ec2::primitives::DateTimeFormat::DateTime).ok()),
        tags: tags(v.tags()),
    }
}

pub fn prefix_list(v: &sdk::ManagedPrefixList, entries: &[sdk::PrefixListEntry]) -> j::ManagedPrefixList {
    j::ManagedPrefixList {
        prefix_list_id: s(v.prefix_list_id()),
        address_family: s(v.address_family()),
        state: e(v.state()),
        prefix_list_arn: s(v.prefix_list_arn()),
        prefix_list_name: s(v.prefix_list_name()),
        max_entries: v.max_entries(),
        version: v.version(),
        owner_id: s(v.owner_id()),
        tags: tags(v.tags()),
        entries: entries
            .iter()
            .map(|en| j::PrefixListEntry { cidr: s(en.cidr()), description: s(en.description()) })
            .collect(),
    }
}

fn peering_vpc(v: &sdk::VpcPeeringConnectionVpcInfo) -> j::VpcPeeringConnectionVpcInfo {
    j::VpcPeeringConnectionVpcInfo {
        vpc_id: s(v.vpc_id()),
        owner_id: s(v.owner_id()),
        cidr_block: s(v.cidr_block()),
        region: s(v.region()),
    }
}

pub fn peering(v: &sdk::VpcPeeringConnection) -> j::VpcPeeringConnection {
    j::VpcPeeringConnection {
        vpc_peering_connection_id: s(v.vpc_peering_connection_id()),
        requester_vpc_info: v.requester_vpc_info().map(peering_vpc),
        accepter_vpc_info: v.accepter_vpc_info().map(peering_vpc),
        status: v.status().map(|st| j::VpcPeeringConnectionStatus { code: e(st.code()), message: s(st.message()) }),
        tags: tags(v.tags()),
    }
}

pub fn nat_gateway(v: &sdk::NatGateway) -> j::NatGateway {
    j::NatGateway {
        nat_gateway_id: s(v.nat_gateway_id()),
        vpc_id: s(v.vpc_id()),
        subnet_id: s(v.subnet_id()),
        state: e(v.state()),
        connectivity_type: e(v.connectivity_type()),
        nat_gateway_addresses: v
            .nat_gateway_addresses()
            .iter()
            .map(|a| j::NatGatewayAddress {
                allocation_id: s(a.allocation_id()),
                network_interface_id: s(a.network_interface_id()),
                private_ip: s(a.private_ip()),
                public_ip: s(a.public_ip()),
            })
            .collect(),
        tags: tags(v.tags()),
    }
}
