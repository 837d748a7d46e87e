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
use wavegap_core::wave::{Server, WaveConfig};

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
                let page = page.map_err(|e| classify($action, &e, &$self.call))?;
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
        let servers: Vec<&Server> = wave.servers().filter(|s| !s.on_premises).collect();
        let snapshot = self.snapshot(&servers).await?;
        let inventory = snapshot.to_inventory()?;
        // Only a CloudWatch wave queries its log groups; a wave reading flow-log objects never
        // calls CloudWatch Logs.
        if !wave.source.reads_objects() {
            self.check_log_groups(&wave.log_groups.names).await?;
        }
        let resolution = Resolution::new(wave, inventory);
        Ok(Resolved { snapshot, resolution })
    }

    /// Fails at the first of `names` that is not a log group of this account and region.
    pub async fn check_log_groups(&self, names: &[String]) -> Result<(), Error> {
        for name in names {
            self.check_log_group(name).await?;
        }
        Ok(())
    }

    /// Everything the traffic of `servers` is evaluated against, as EC2 describes it.
    pub async fn snapshot(&self, servers: &[&Server]) -> Result<Snapshot, Error> {
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
        Ok(snapshot)
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

    /// Instances carrying the tag `key` = `value`, terminated ones left out.
    pub async fn tagged_instances(&self, key: &str, value: &str) -> Result<Vec<j::Reservation>, Error> {
        let mut reservations: Vec<j::Reservation> = describe_filtered!(
            self,
            describe_instances,
            "ec2:DescribeInstances",
            &format!("tag:{key}"),
            &BTreeSet::from([value.to_owned()]),
            reservations,
            from_sdk::reservation
        );
        for r in &mut reservations {
            r.instances.retain(|i| {
                let state = i.state.as_ref().and_then(|s| s.name.as_deref());
                !matches!(state, Some("terminated" | "shutting-down"))
            });
        }
        reservations.retain(|r| !r.instances.is_empty());
        Ok(reservations)
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
                let page = page.map_err(|e| classify("ec2:DescribeManagedPrefixLists", &e, &self.call))?;
                lists.extend(page.prefix_lists().iter().cloned());
            }
        }
        let mut out = Vec::new();
        for list in lists {
            let Some(id) = list.prefix_list_id() else { continue };
            let mut entries = Vec::new();
            let mut pages = self.ec2.get_managed_prefix_list_entries().prefix_list_id(id).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify("ec2:GetManagedPrefixListEntries", &e, &self.call))?;
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
            let page = page.map_err(|e| classify("logs:DescribeLogGroups", &e, &self.call))?;
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use aws_sdk_ec2::config::retry::RetryConfig;
    use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
    use aws_sdk_ec2::error::ErrorMetadata;
    use aws_sdk_ec2::operation::describe_network_interfaces::{
        DescribeNetworkInterfacesError, DescribeNetworkInterfacesOutput,
    };
    use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsError;
    use aws_sdk_ec2::types::NetworkInterface;
    use aws_smithy_mocks::{Rule, RuleMode, create_mock_http_client, mock};

    use super::*;

    fn ec2_with(rules: &[&Rule], credentials: SharedCredentialsProvider) -> aws_sdk_ec2::Client {
        let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let conf = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(credentials)
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(1)))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    fn resolver(rules: &[&Rule]) -> Resolver {
        let credentials = SharedCredentialsProvider::new(Credentials::new("AKID", "SECRET", None, None, "test"));
        let logs = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::Config::builder()
                .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudwatchlogs::config::Region::new("eu-west-1"))
                .http_client(create_mock_http_client())
                .build(),
        );
        let call = CallContext { region: Some("eu-west-1".into()), endpoint_url: None, max_attempts: 3 };
        Resolver::from_clients(ec2_with(rules, credentials), logs, call)
    }

    fn eni(ip: &str) -> NetworkInterface {
        NetworkInterface::builder()
            .network_interface_id(format!("eni-{}", ip.replace('.', "")))
            .subnet_id("subnet-1")
            .vpc_id("vpc-1")
            .private_ip_address(ip)
            .build()
    }

    fn ips(n: usize) -> BTreeSet<String> {
        (0..n).map(|i| format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)).collect()
    }

    #[tokio::test]
    async fn filters_are_batched_at_200_values() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let rule = mock!(aws_sdk_ec2::Client::describe_network_interfaces).then_compute_output(move |req| {
            let values = req.filters()[0].values().to_vec();
            assert_eq!(req.filters()[0].name(), Some("addresses.private-ip-address"));
            seen.lock().unwrap().push(values.len());
            DescribeNetworkInterfacesOutput::builder()
                .set_network_interfaces(Some(values.iter().map(|ip| eni(ip)).collect()))
                .build()
        });
        let r = resolver(&[&rule]);
        let out = r.network_interfaces("addresses.private-ip-address", &ips(450)).await.unwrap();
        assert_eq!(out.len(), 450);
        assert_eq!(rule.num_calls(), 3);
        assert_eq!(*sizes.lock().unwrap(), [200, 200, 50]);

        let none = r.network_interfaces("addresses.private-ip-address", &BTreeSet::new()).await.unwrap();
        assert!(none.is_empty());
        assert_eq!(rule.num_calls(), 3, "no call for an empty filter");
    }

    #[tokio::test]
    async fn every_page_is_followed() {
        let rule =
            mock!(aws_sdk_ec2::Client::describe_network_interfaces).then_compute_output(|req| match req.next_token() {
                None => DescribeNetworkInterfacesOutput::builder()
                    .network_interfaces(eni("10.0.0.1"))
                    .network_interfaces(eni("10.0.0.2"))
                    .next_token("page-2")
                    .build(),
                Some("page-2") => DescribeNetworkInterfacesOutput::builder()
                    .network_interfaces(eni("10.0.0.3"))
                    .next_token("page-3")
                    .build(),
                Some(_) => DescribeNetworkInterfacesOutput::builder().network_interfaces(eni("10.0.0.4")).build(),
            });
        let r = resolver(&[&rule]);
        let out = r.network_interfaces("group-id", &BTreeSet::from(["sg-1".to_owned()])).await.unwrap();
        let got: Vec<_> = out.iter().map(|e| e.private_ip_address.clone().unwrap()).collect();
        assert_eq!(got, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]);
        assert_eq!(rule.num_calls(), 3);
    }

    fn service_error(code: &'static str, message: &'static str) -> Rule {
        mock!(aws_sdk_ec2::Client::describe_network_interfaces).then_error(move || {
            DescribeNetworkInterfacesError::generic(ErrorMetadata::builder().code(code).message(message).build())
        })
    }

    async fn first_error(r: &Resolver) -> Error {
        r.network_interfaces("addresses.private-ip-address", &ips(1)).await.unwrap_err()
    }

    #[tokio::test]
    async fn service_errors_become_actionable_messages() {
        let check = |code: &'static str, message: &'static str, expected: &str| {
            let expected = expected.to_owned();
            async move {
                let rule = service_error(code, message);
                let err = first_error(&resolver(&[&rule])).await;
                assert_eq!(err.to_string(), expected, "{code}");
                rule.num_calls()
            }
        };
        let calls = check(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
            "access denied for ec2:DescribeNetworkInterfaces: UnauthorizedOperation: You are not authorized to perform this operation.\nhint: the identity in use needs `ec2:DescribeNetworkInterfaces` (see the IAM policy in README.md)",
        )
        .await;
        assert_eq!(calls, 1, "access denied is not retried");
        check(
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
            "AWS rejected the credentials: AuthFailure: AWS was not able to validate the provided access credentials\nhint: check the access key id and secret, or the profile in use (`aws sts get-caller-identity`)",
        )
        .await;
        check(
            "RequestExpired",
            "Request has expired.",
            "AWS credentials have expired (RequestExpired: Request has expired.)\nhint: refresh them (`aws sso login`, or new session credentials) and run again",
        )
        .await;
        check(
            "ExpiredToken",
            "The security token included in the request is expired",
            "AWS credentials have expired (ExpiredToken: The security token included in the request is expired)\nhint: refresh them (`aws sso login`, or new session credentials) and run again",
        )
        .await;
        check(
            "OptInRequired",
            "You are not subscribed to this service.",
            "region `eu-west-1` is not enabled for this account (ec2:DescribeNetworkInterfaces: You are not subscribed to this service.)\nhint: enable the region in the account settings, or use another region",
        )
        .await;
        check(
            "InvalidParameterValue",
            "bad filter",
            "ec2:DescribeNetworkInterfaces failed: InvalidParameterValue: bad filter",
        )
        .await;
    }

    #[tokio::test]
    async fn throttling_is_retried_then_reported() {
        let rule = service_error("RequestLimitExceeded", "Request limit exceeded.");
        let err = first_error(&resolver(&[&rule])).await;
        assert_eq!(rule.num_calls(), 3, "the SDK's bounded retries, no second loop");
        assert_eq!(
            err.to_string(),
            "ec2:DescribeNetworkInterfaces is still throttled after 3 attempts: RequestLimitExceeded\nhint: wait a minute and run again, or lower concurrent use of the AWS API in this account"
        );
    }

    #[tokio::test]
    async fn the_refused_action_is_the_one_named() {
        let enis = mock!(aws_sdk_ec2::Client::describe_network_interfaces)
            .then_output(|| DescribeNetworkInterfacesOutput::builder().network_interfaces(eni("10.0.0.1")).build());
        let groups = mock!(aws_sdk_ec2::Client::describe_security_groups).then_error(|| {
            DescribeSecurityGroupsError::generic(ErrorMetadata::builder().code("UnauthorizedOperation").build())
        });
        let mut eni_with_group = eni("10.0.0.1");
        eni_with_group.groups = Some(vec![aws_sdk_ec2::types::GroupIdentifier::builder().group_id("sg-1").build()]);
        let r = resolver(&[&enis, &groups]);
        let err = r.security_groups(&BTreeSet::from(["sg-1".to_owned()])).await.unwrap_err();
        assert!(matches!(err, Error::AccessDenied { action: "ec2:DescribeSecurityGroups", .. }), "{err:?}");
    }

    #[derive(Debug)]
    struct FailingCredentials(fn() -> aws_credential_types::provider::error::CredentialsError);

    impl aws_credential_types::provider::ProvideCredentials for FailingCredentials {
        fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::ready(Err((self.0)()))
        }
    }

    /// A real client (no mock: the mock answers before credentials are resolved) whose only
    /// endpoint is a closed local port.
    fn unreachable_ec2(region: &str, credentials: SharedCredentialsProvider) -> aws_sdk_ec2::Client {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let conf = aws_sdk_ec2::Config::builder()
            .http_client(crate::aws::http_client())
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials)
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    #[tokio::test]
    async fn credential_failures_are_told_apart() {
        use aws_credential_types::provider::error::CredentialsError;
        let ctx = CallContext { region: Some("eu-west-1".into()), endpoint_url: None, max_attempts: 1 };
        let check = |f: fn() -> CredentialsError| {
            let ctx = ctx.clone();
            async move {
                let ec2 = unreachable_ec2("eu-west-1", SharedCredentialsProvider::new(FailingCredentials(f)));
                classify("ec2:DescribeVpcs", &ec2.describe_vpcs().send().await.unwrap_err(), &ctx)
            }
        };
        let err = check(|| CredentialsError::not_loaded("no providers in chain provided credentials")).await;
        assert!(matches!(err, Error::MissingCredentials { .. }), "{err:?}");
        assert!(err.to_string().starts_with("no AWS credentials found ("), "{err}");
        assert!(err.to_string().ends_with(
            "\nhint: run `aws configure` or `aws sso login`, pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ));
        let err = check(|| CredentialsError::provider_error("the SSO session has expired or is invalid")).await;
        assert!(matches!(err, Error::ExpiredCredentials { .. }), "{err:?}");
        let err = check(|| CredentialsError::provider_error("profile `dev` has no source")).await;
        assert!(matches!(err, Error::CredentialsProvider { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn network_failures_name_an_unknown_region() {
        let credentials = SharedCredentialsProvider::new(Credentials::new("AKID", "SECRET", None, None, "test"));
        let ec2 = unreachable_ec2("xx-north-9", credentials);
        let err = ec2.describe_vpcs().send().await.unwrap_err();
        let unknown = CallContext { region: Some("xx-north-9".into()), endpoint_url: None, max_attempts: 1 };
        let mapped = classify("ec2:DescribeVpcs", &err, &unknown);
        assert!(matches!(&mapped, Error::UnknownRegion { region, .. } if region == "xx-north-9"), "{mapped:?}");
        assert!(
            mapped.to_string().starts_with("cannot reach AWS in region `xx-north-9`: unknown or unreachable region (")
        );

        let err = ec2.describe_vpcs().send().await.unwrap_err();
        let known = CallContext { region: Some("eu-west-1".into()), endpoint_url: None, max_attempts: 1 };
        let mapped = classify("ec2:DescribeVpcs", &err, &known);
        assert!(matches!(mapped, Error::Unreachable { action: "ec2:DescribeVpcs", .. }), "{mapped:?}");
    }
}
