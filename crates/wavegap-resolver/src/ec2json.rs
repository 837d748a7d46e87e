//! The EC2 API's JSON shapes, as `aws ec2 describe-… --output json` prints them (`PascalCase`).
//!
//! A snapshot is one [`Snapshot`]: each top-level key holds the elements of one Describe call.
//! Only the fields wavegap reads (and a few that help a person reading the file) are modelled;
//! unknown fields in input are ignored, so real AWS CLI output loads as it is. Absent and
//! `null` values are both accepted.

use serde::{Deserialize, Deserializer, Serialize};
use wavegap_core::inventory::Os;

/// `null` or absent → empty list.
fn nullable<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// The top-level EC2 response keys a snapshot holds.
pub const SNAPSHOT_KEYS: [&str; 10] = [
    "Vpcs",
    "Subnets",
    "NetworkInterfaces",
    "Reservations",
    "SecurityGroups",
    "NetworkAcls",
    "FlowLogs",
    "ManagedPrefixLists",
    "VpcPeeringConnections",
    "NatGateways",
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Snapshot {
    #[serde(default, deserialize_with = "nullable")]
    pub vpcs: Vec<Vpc>,
    #[serde(default, deserialize_with = "nullable")]
    pub subnets: Vec<Subnet>,
    #[serde(default, deserialize_with = "nullable")]
    pub network_interfaces: Vec<NetworkInterface>,
    #[serde(default, deserialize_with = "nullable")]
    pub reservations: Vec<Reservation>,
    #[serde(default, deserialize_with = "nullable")]
    pub security_groups: Vec<SecurityGroup>,
    #[serde(default, deserialize_with = "nullable")]
    pub network_acls: Vec<NetworkAcl>,
    #[serde(default, deserialize_with = "nullable")]
    pub flow_logs: Vec<FlowLog>,
    /// `PrefixLists` (the key `describe-managed-prefix-lists` prints) is read as well.
    #[serde(default, alias = "PrefixLists", deserialize_with = "nullable")]
    pub managed_prefix_lists: Vec<ManagedPrefixList>,
    #[serde(default, deserialize_with = "nullable")]
    pub vpc_peering_connections: Vec<VpcPeeringConnection>,
    #[serde(default, deserialize_with = "nullable")]
    pub nat_gateways: Vec<NatGateway>,
}

impl Snapshot {
    /// Appends every element of `other` (a directory of CLI outputs merges file by file).
    pub fn merge(&mut self, other: Snapshot) {
        self.vpcs.extend(other.vpcs);
        self.subnets.extend(other.subnets);
        self.network_interfaces.extend(other.network_interfaces);
        self.reservations.extend(other.reservations);
        self.security_groups.extend(other.security_groups);
        self.network_acls.extend(other.network_acls);
        self.flow_logs.extend(other.flow_logs);
        self.managed_prefix_lists.extend(other.managed_prefix_lists);
        self.vpc_peering_connections.extend(other.vpc_peering_connections);
        self.nat_gateways.extend(other.nat_gateways);
    }

    /// Sorts every list by id and drops repeated ids (the last copy wins), so a snapshot of the
    /// same account diffs cleanly and merged inputs that overlap count once.
    pub fn normalize(&mut self) {
        fn dedup<T>(items: &mut Vec<T>, key: impl Fn(&T) -> Option<String>) {
            let mut keyed: Vec<(Option<String>, usize, T)> =
                items.drain(..).enumerate().map(|(i, t)| (key(&t), i, t)).collect();
            // Stable by id, later copies after earlier ones; then keep the last of each id.
            keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut out: Vec<(Option<String>, usize, T)> = Vec::with_capacity(keyed.len());
            for item in keyed {
                match out.last_mut() {
                    Some(last) if last.0.is_some() && last.0 == item.0 => *last = item,
                    _ => out.push(item),
                }
            }
            items.extend(out.into_iter().map(|(_, _, t)| t));
        }
        dedup(&mut self.vpcs, |v| v.vpc_id.clone());
        dedup(&mut self.subnets, |v| v.subnet_id.clone());
        dedup(&mut self.network_interfaces, |v| v.network_interface_id.clone());
        for r in &mut self.reservations {
            r.instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        }
        dedup(&mut self.reservations, |v| {
            v.reservation_id.clone().or_else(|| v.instances.first().and_then(|i| i.instance_id.clone()))
        });
        dedup(&mut self.security_groups, |v| v.group_id.clone());
        dedup(&mut self.network_acls, |v| v.network_acl_id.clone());
        dedup(&mut self.flow_logs, |v| v.flow_log_id.clone());
        dedup(&mut self.managed_prefix_lists, |v| v.prefix_list_id.clone());
        dedup(&mut self.vpc_peering_connections, |v| v.vpc_peering_connection_id.clone());
        dedup(&mut self.nat_gateways, |v| v.nat_gateway_id.clone());
    }

    pub fn is_empty(&self) -> bool {
        self == &Snapshot::default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// The `Name` tag's value.
pub fn name_tag(tags: &[Tag]) -> Option<String> {
    tags.iter().find(|t| t.key.as_deref() == Some("Name")).and_then(|t| t.value.clone())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub cidr_block_association_set: Vec<VpcCidrBlockAssociation>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrBlockAssociation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcCidrBlockAssociation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_id: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block_state: Option<State>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6CidrBlockAssociation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_id: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr_block_state: Option<State>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrBlockAssociation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupIdentifier {
    pub group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterface {
    pub network_interface_id: Option<String>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    pub private_ip_address: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub private_ip_addresses: Vec<NetworkInterfacePrivateIpAddress>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub ipv6_addresses: Vec<NetworkInterfaceIpv6Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association: Option<NetworkInterfaceAssociation>,
    #[serde(default, deserialize_with = "nullable")]
    pub groups: Vec<GroupIdentifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<NetworkInterfaceAttachment>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tag_set: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterfacePrivateIpAddress {
    pub private_ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association: Option<NetworkInterfaceAssociation>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterfaceIpv6Address {
    pub ipv6_address: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterfaceAssociation {
    pub public_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_owner_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterfaceAttachment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    pub instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_owner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_index: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reservation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<InstanceState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<GroupIdentifier>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub network_interfaces: Vec<InstanceNetworkInterface>,
    /// `windows` for Windows instances, absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `Linux/UNIX`, `Windows`, `Red Hat Enterprise Linux`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_details: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl Instance {
    /// Windows from `Platform`; Linux only when `PlatformDetails` says so (an absent platform is
    /// not proof of Linux in hand-made snapshots, and a wrong guess narrows ephemeral ports).
    pub fn os(&self) -> Option<Os> {
        let details = self.platform_details.as_deref().unwrap_or_default();
        if self.platform.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("windows")) || details.starts_with("Windows")
        {
            Some(Os::Windows)
        } else if ["Linux", "Red Hat", "SUSE", "Ubuntu"].iter().any(|l| details.contains(l)) {
            Some(Os::Linux)
        } else {
            None
        }
    }

    /// The value of the tag `key` (tag keys are case-sensitive).
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|t| t.key.as_deref() == Some(key)).and_then(|t| t.value.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Placement {
    pub availability_zone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceNetworkInterface {
    pub network_interface_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_ip_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub ip_permissions: Vec<IpPermission>,
    #[serde(default, deserialize_with = "nullable")]
    pub ip_permissions_egress: Vec<IpPermission>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpPermission {
    pub ip_protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_port: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_port: Option<i32>,
    #[serde(default, deserialize_with = "nullable")]
    pub ip_ranges: Vec<IpRange>,
    #[serde(default, deserialize_with = "nullable")]
    pub ipv6_ranges: Vec<Ipv6Range>,
    #[serde(default, deserialize_with = "nullable")]
    pub prefix_list_ids: Vec<PrefixListId>,
    #[serde(default, deserialize_with = "nullable")]
    pub user_id_group_pairs: Vec<UserIdGroupPair>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpRange {
    pub cidr_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6Range {
    pub cidr_ipv6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListId {
    pub prefix_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserIdGroupPair {
    pub group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_peering_connection_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peering_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAcl {
    pub network_acl_id: Option<String>,
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    pub is_default: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub entries: Vec<NetworkAclEntry>,
    #[serde(default, deserialize_with = "nullable")]
    pub associations: Vec<NetworkAclAssociation>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAclEntry {
    pub rule_number: Option<i32>,
    pub protocol: Option<String>,
    pub rule_action: Option<String>,
    pub egress: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_range: Option<PortRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type_code: Option<IcmpTypeCode>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortRange {
    pub from: Option<i32>,
    pub to: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IcmpTypeCode {
    pub code: Option<i32>,
    pub r#type: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAclAssociation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_acl_association_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_acl_id: Option<String>,
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlowLog {
    pub flow_log_id: Option<String>,
    pub resource_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_type: Option<String>,
    /// `cloud-watch-logs` (the default when absent), `s3` or `kinesis-data-firehose`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_destination_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_destination: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_aggregation_interval: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_log_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliver_logs_status: Option<String>,
    /// RFC 3339, as the AWS CLI prints it (`2026-03-01T08:00:00.000Z`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPrefixList {
    pub prefix_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_list_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_list_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Not part of `describe-managed-prefix-lists`: the output of
    /// `get-managed-prefix-list-entries` for this list, so a snapshot is self-contained.
    #[serde(default, deserialize_with = "nullable")]
    pub entries: Vec<PrefixListEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListEntry {
    pub cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcPeeringConnection {
    pub vpc_peering_connection_id: Option<String>,
    pub requester_vpc_info: Option<VpcPeeringConnectionVpcInfo>,
    pub accepter_vpc_info: Option<VpcPeeringConnectionVpcInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<VpcPeeringConnectionStatus>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcPeeringConnectionVpcInfo {
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcPeeringConnectionStatus {
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NatGateway {
    pub nat_gateway_id: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connectivity_type: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub nat_gateway_addresses: Vec<NatGatewayAddress>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NatGatewayAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub private_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
}
