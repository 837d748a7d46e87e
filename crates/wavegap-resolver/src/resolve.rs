//! Servers → network interfaces → everything their traffic is evaluated against, with the EC2
//! Describe* calls (filters batched at 200 values, every page followed).
//!
//! Order of look-ups, each one call per batch of 200 ids:
//! 1. interfaces carrying the servers' IPs (`addresses.private-ip-address`), and those of the
//!    instances the wave names (`attachment.instance-id`);
//! 2. their security groups; the groups those rules reference, and the interfaces carrying a
//!    referenced group (`group-id`), so an SG reference can be turned into IP addresses;
//! 3. the instances behind all those interfaces (`instance-id`);
//! 4. VPC peerings touching their VPCs, the VPCs (both sides of a peering), subnets, the
//!    subnets' network ACLs (`association.subnet-id`), NAT gateways, prefix lists used by rules
//!    (with their entries), and the flow logs on the interfaces, subnets and VPCs.
//!
//! Everything lands in an EC2-JSON [`Snapshot`] first and becomes an [`Inventory`] through the
//! same conversion a snapshot file goes through.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::Filter;
use wavegap_core::inventory::Inventory;
use wavegap_core::resolution::Resolution;
use wavegap_core::wave::WaveConfig;

use crate::aws::AwsContext;
use crate::ec2json::{self as j, Snapshot};
use crate::error::{CallContext, Error, classify};
use crate::from_sdk;

/// EC2 accepts at most 200 values in one filter.
pub const MAX_FILTER_VALUES: usize = 200;

/// What a resolution produced: the raw EC2 data (to save as a snapshot) and what it means
/// for the wave.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub snapshot: Snapshot,
    pub resolution: Resolution,
}

impl Resolved {
    pub fn inventory(&self) -> &Inventory {
        &self.resolution.inventory
    }
}

#[derive(Debug, Clone)]
pub struct Resolver {
    ec2: aws_sdk_ec2::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    call: CallContext,
}

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.to_vec())).build()
}

fn batches(values: &BTreeSet<String>) -> Vec<Vec<String>> {
    let all: Vec<String> = values.iter().cloned().collect();
    all.chunks(MAX_FILTER_VALUES).map(<[String]>::to_vec).collect()
}

/// Every element of a paginated, filtered Describe call over `values`, in batches.
macro_rules! describe_filtered {
    ($self:ident, $op:ident, $action:literal, $filter:expr, $values:expr, $items:ident, $conv:expr) => {
        describe_filtered!($self, $op.filters, $action, $filter, $values, $items, $conv)
    };
    ($self:ident, $op:ident . $with:ident, $action:literal, $filter:expr, $values:expr, $items:ident, $conv:expr) => {{
        let mut out = Vec::new();
        for batch in batches($values) {
            let mut pages = $self.ec2.$op().$with(filter($filter, &batch)).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify($action, e, &$self.call))?;
                out.extend(page.$items().iter().map($conv));
            }
        }
        out
    }};
}

impl Resolver {
    pub fn new(ctx: &AwsContext) -> Self {
        Resolver { ec2: ctx.ec2.clone(), logs: ctx.logs.clone(), call: ctx.call.clone() }
    }

    /// A resolver over clients built elsewhere (tests with mocked clients).
    pub fn from_clients(ec2: aws_sdk_ec2::Client, logs: aws_sdk_cloudwatchlogs::Client, call: CallContext) -> Self {
        Resolver { ec2, logs, call }
    }

    /// Resolves the wave's servers (those not on premises) and checks its log groups.
    pub async fn resolve(&self, wave: &WaveConfig) -> Result<Resolved, Error> {
        let servers: Vec<_> = wave.servers().filter(|s| !s.on_premises).collect();
        let ips: BTreeSet<String> = servers.iter().map(|s| s.ip.to_string()).collect();
        let named_instances: BTreeSet<String> = servers.iter().filter_map(|s| s.instance_id.clone()).collect();

        let mut enis = BTreeMap::new();
        add_enis(&mut enis, self.network_interfaces("addresses.private-ip-address", &ips).await?);
        add_enis(&mut enis, self.network_interfaces("attachment.instance-id", &named_instances).await?);

        let server_groups: BTreeSet<String> = eni_groups(enis.values());
        let mut groups: BTreeMap<String, j::SecurityGroup> = BTreeMap::new();
        add_groups(&mut groups, self.security_groups(&server_groups).await?);
        let referenced: BTreeSet<String> = groups
            .values()
            .flat_map(|g| g.ip_permissions.iter().chain(&g.ip_permissions_egress))
            .flat_map(|p| &p.user_id_group_pairs)
            .filter_map(|pair| pair.group_id.clone())
            .collect();
        add_enis(&mut enis, self.network_interfaces("group-id", &referenced).await?);
        let missing: BTreeSet<String> =
            eni_groups(enis.values()).into_iter().chain(referenced).filter(|g| !groups.contains_key(g)).collect();
        add_groups(&mut groups, self.security_groups(&missing).await?);

        let instance_ids: BTreeSet<String> =
            enis.values().filter_map(|e| e.attachment.as_ref()?.instance_id.clone()).chain(named_instances).collect();
        let reservations = self.instances(&instance_ids).await?;

        let eni_vpcs: BTreeSet<String> = enis.values().filter_map(|e| e.vpc_id.clone()).collect();
        let peerings = self.peerings(&eni_vpcs).await?;
        let mut vpc_ids = eni_vpcs.clone();
        for p in &peerings {
            for info in [&p.requester_vpc_info, &p.accepter_vpc_info].into_iter().flatten() {
                vpc_ids.extend(info.vpc_id.clone());
            }
        }
        let vpcs = describe_filtered!(self, describe_vpcs, "ec2:DescribeVpcs", "vpc-id", &vpc_ids, vpcs, from_sdk::vpc);
        let subnet_ids: BTreeSet<String> = enis.values().filter_map(|e| e.subnet_id.clone()).collect();
        let subnets = describe_filtered!(
            self,
            describe_subnets,
            "ec2:DescribeSubnets",
            "subnet-id",
            &subnet_ids,
            subnets,
            from_sdk::subnet
        );
        let nacls = self.network_acls(&subnet_ids).await?;
        let nat_gateways = describe_filtered!(
            self,
            describe_nat_gateways.filter,
            "ec2:DescribeNatGateways",
            "vpc-id",
            &eni_vpcs,
            nat_gateways,
            from_sdk::nat_gateway
        );
        let prefix_ids: BTreeSet<String> = groups
            .values()
            .flat_map(|g| g.ip_permissions.iter().chain(&g.ip_permissions_egress))
            .flat_map(|p| &p.prefix_list_ids)
            .filter_map(|pl| pl.prefix_list_id.clone())
            .collect();
        let prefix_lists = self.prefix_lists(&prefix_ids).await?;
        let resources: BTreeSet<String> =
            enis.keys().cloned().chain(subnet_ids.iter().cloned()).chain(vpc_ids.iter().cloned()).collect();
        let flow_logs = describe_filtered!(
            self,
            describe_flow_logs.filter,
            "ec2:DescribeFlowLogs",
            "resource-id",
            &resources,
            flow_logs,
            from_sdk::flow_log
        );

        let mut snapshot = Snapshot {
            vpcs,
            subnets,
            network_interfaces: enis.into_values().collect(),
            reservations,
            security_groups: groups.into_values().collect(),
            network_acls: nacls,
            flow_logs,
            managed_prefix_lists: prefix_lists,
            vpc_peering_connections: peerings,
            nat_gateways,
        };
        snapshot.normalize();
        let inventory = snapshot.to_inventory()?;
        for name in &wave.log_groups.names {
            self.check_log_group(name).await?;
        }
        let resolution = Resolution::new(wave, inventory, &wave.log_groups.names);
        Ok(Resolved { snapshot, resolution })
    }

    /// Interfaces matching `filter_name` ∈ `values`.
    pub async fn network_interfaces(
        &self,
        filter_name: &str,
        values: &BTreeSet<String>,
    ) -> Result<Vec<j::NetworkInterface>, Error> {
        Ok(describe_filtered!(
            self,
            describe_network_interfaces,
            "ec2:DescribeNetworkInterfaces",
            filter_name,
            values,
            network_interfaces,
            from_sdk::network_interface
        ))
    }

    pub async fn security_groups(&self, ids: &BTreeSet<String>) -> Result<Vec<j::SecurityGroup>, Error> {
        Ok(describe_filtered!(
            self,
            describe_security_groups,
            "ec2:DescribeSecurityGroups",
            "group-id",
            ids,
            security_groups,
            from_sdk::security_group
        ))
    }

    /// Instances by id, through the `instance-id` filter: an id that no longer exists is simply
    /// absent (the `InstanceIds` parameter would fail the whole call).
    pub async fn instances(&self, ids: &BTreeSet<String>) -> Result<Vec<j::Reservation>, Error> {
        Ok(describe_filtered!(
            self,
            describe_instances,
            "ec2:DescribeInstances",
            "instance-id",
            ids,
            reservations,
            from_sdk::reservation
        ))
    }

    /// Peerings with one side in `vpcs`. Filtered again here: some endpoints ignore the filters.
    pub async fn peerings(&self, vpcs: &BTreeSet<String>) -> Result<Vec<j::VpcPeeringConnection>, Error> {
        let mut found: BTreeMap<String, j::VpcPeeringConnection> = BTreeMap::new();
        for side in ["requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"] {
            let list = describe_filtered!(
                self,
                describe_vpc_peering_connections,
                "ec2:DescribeVpcPeeringConnections",
                side,
                vpcs,
                vpc_peering_connections,
                from_sdk::peering
            );
            for p in list {
                let touches = [&p.requester_vpc_info, &p.accepter_vpc_info]
                    .into_iter()
                    .flatten()
                    .any(|i| i.vpc_id.as_ref().is_some_and(|v| vpcs.contains(v)));
                if let (true, Some(id)) = (touches, p.vpc_peering_connection_id.clone()) {
                    found.insert(id, p);
                }
            }
        }
        Ok(found.into_values().collect())
    }

    /// The network ACLs associated with `subnets`. A subnet left without one by the batched
    /// call is asked about alone: some emulators (moto) match a multi-valued filter on a list
    /// attribute as a subset rather than as "any", which drops a NACL whose other subnets are
    /// not in the batch. On EC2 the batched call already covers every subnet.
    pub async fn network_acls(&self, subnets: &BTreeSet<String>) -> Result<Vec<j::NetworkAcl>, Error> {
        let mut acls = describe_filtered!(
            self,
            describe_network_acls,
            "ec2:DescribeNetworkAcls",
            "association.subnet-id",
            subnets,
            network_acls,
            from_sdk::network_acl
        );
        let covered: BTreeSet<String> =
            acls.iter().flat_map(|a| &a.associations).filter_map(|a| a.subnet_id.clone()).collect();
        for subnet in subnets.difference(&covered) {
            let one = BTreeSet::from([subnet.clone()]);
            acls.extend(describe_filtered!(
                self,
                describe_network_acls,
                "ec2:DescribeNetworkAcls",
                "association.subnet-id",
                &one,
                network_acls,
                from_sdk::network_acl
            ));
        }
        Ok(acls)
    }

    /// Managed prefix lists with their entries.
    pub async fn prefix_lists(&self, ids: &BTreeSet<String>) -> Result<Vec<j::ManagedPrefixList>, Error> {
        let mut lists = Vec::new();
        for batch in batches(ids) {
            let mut pages = self
                .ec2
                .describe_managed_prefix_lists()
                .filters(filter("prefix-list-id", &batch))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify("ec2:DescribeManagedPrefixLists", e, &self.call))?;
                lists.extend(page.prefix_lists().iter().cloned());
            }
        }
        let mut out = Vec::new();
        for list in lists {
            let Some(id) = list.prefix_list_id() else { continue };
            let mut entries = Vec::new();
            let mut pages = self.ec2.get_managed_prefix_list_entries().prefix_list_id(id).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify("ec2:GetManagedPrefixListEntries", e, &self.call))?;
                entries.extend(page.entries().iter().cloned());
            }
            out.push(from_sdk::prefix_list(&list, &entries));
        }
        Ok(out)
    }

    /// Fails with [`Error::LogGroupNotFound`] unless a log group of exactly this name exists.
    pub async fn check_log_group(&self, name: &str) -> Result<(), Error> {
        let mut pages = self.logs.describe_log_groups().log_group_name_prefix(name).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("logs:DescribeLogGroups", e, &self.call))?;
            if page.log_groups().iter().any(|g| g.log_group_name() == Some(name)) {
                return Ok(());
            }
        }
        Err(Error::LogGroupNotFound { name: name.to_owned(), region: self.call.region.clone().unwrap_or_default() })
    }
}

fn add_enis(map: &mut BTreeMap<String, j::NetworkInterface>, list: Vec<j::NetworkInterface>) {
    for e in list {
        if let Some(id) = e.network_interface_id.clone() {
            map.insert(id, e);
        }
    }
}

fn add_groups(map: &mut BTreeMap<String, j::SecurityGroup>, list: Vec<j::SecurityGroup>) {
    for g in list {
        if let Some(id) = g.group_id.clone() {
            map.insert(id, g);
        }
    }
}

fn eni_groups<'a>(enis: impl Iterator<Item = &'a j::NetworkInterface>) -> BTreeSet<String> {
    enis.flat_map(|e| &e.groups).filter_map(|g| g.group_id.clone()).collect()
}
