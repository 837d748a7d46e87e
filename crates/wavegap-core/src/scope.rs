//! Which addresses are the wave's and which networks count as its own.
//!
//! A server is more than the `ip` of its wave entry: its ENIs carry secondary private IPv4
//! addresses (a SQL listener, a cluster address) and, in dual-stack VPCs, IPv6 addresses, and
//! flow logs show whichever the packet used. The query plan filters on every one of them and
//! the analysis names the server from any of them, so both build the same [`Scope`] and can
//! never disagree about who is in the wave (docs/domain.md, "Addresses").

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use crate::inventory::Inventory;
use crate::wave::{Server, WaveConfig};

/// The wave's addresses and networks, from the wave file and the inventory.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    servers: FxHashMap<IpAddr, &'a Server>,
    /// The networks counted as internal: the wave's (RFC 1918 when it names none), its
    /// on-premises networks and every CIDR of the inventory's VPCs, IPv4 and IPv6.
    internal: Vec<IpNet>,
}

fn rfc1918() -> Vec<IpNet> {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"].iter().map(|s| s.parse().expect("literal")).collect()
}

impl<'a> Scope<'a> {
    pub fn new(wave: &'a WaveConfig, inv: &Inventory) -> Self {
        let mut servers: FxHashMap<IpAddr, &Server> = FxHashMap::default();
        // The wave's own addresses first: they win over what an ENI also carries.
        for server in wave.servers() {
            for ip in server.addresses() {
                servers.entry(ip).or_insert(server);
            }
        }
        for server in wave.servers().filter(|s| !s.on_premises) {
            let mut enis: BTreeSet<&str> = BTreeSet::new();
            for ip in server.addresses() {
                if let Some(eni) = inv.eni_by_ip(ip) {
                    enis.insert(&eni.id);
                }
            }
            if let Some(instance) = server.instance_id.as_deref().and_then(|id| inv.instances.get(id)) {
                enis.extend(instance.eni_ids.iter().map(String::as_str));
            }
            for eni in enis.iter().filter_map(|id| inv.enis.get(*id)) {
                for ip in &eni.private_ips {
                    servers.entry(*ip).or_insert(server);
                }
            }
        }
        let mut internal = if wave.networks.internal.is_empty() { rfc1918() } else { wave.networks.internal.clone() };
        internal.extend(wave.networks.on_premises.iter().copied());
        internal.extend(inv.vpcs.values().flat_map(|v| v.cidrs.iter().copied()));
        Scope { servers, internal }
    }

    /// The server an address belongs to.
    pub fn server(&self, ip: IpAddr) -> Option<&'a Server> {
        self.servers.get(&ip).copied()
    }

    /// Every address of every server, sorted.
    pub fn addresses(&self) -> BTreeSet<IpAddr> {
        self.servers.keys().copied().collect()
    }

    pub fn is_internal(&self, ip: IpAddr) -> bool {
        self.internal.iter().any(|n| n.contains(&ip))
    }

    /// The internal networks for a query filter: truncated to their prefix, without those
    /// another one contains (an on-premises /24 inside an internal /16 adds nothing).
    pub fn networks(&self) -> BTreeSet<IpNet> {
        let all: BTreeSet<IpNet> = self.internal.iter().map(IpNet::trunc).collect();
        all.iter().filter(|n| !all.iter().any(|m| m != *n && m.contains(*n))).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tests::{Role::Request as RQ, agg, run, wave};
    use crate::eval::tests::world;
    use crate::findings::Attribution;
    use crate::flowlog::Action::Reject as REJ;

    #[test]
    fn a_server_is_every_address_of_its_enis() {
        let mut inv = world();
        let eni = inv.enis.get_mut("eni-db").unwrap();
        eni.private_ips.push("10.0.20.9".parse().unwrap());
        eni.private_ips.push("2001:db8:0:20::8".parse().unwrap());
        inv.vpcs.values_mut().next().unwrap().cidrs.push("2001:db8::/56".parse().unwrap());
        let w = wave();
        let scope = Scope::new(&w, &inv);
        for ip in ["10.0.20.8", "10.0.20.9", "2001:db8:0:20::8"] {
            assert_eq!(scope.server(ip.parse().unwrap()).map(|s| s.name.as_str()), Some("db01"), "{ip}");
        }
        assert!(scope.addresses().contains(&"2001:db8:0:20::8".parse().unwrap()));
        assert!(scope.is_internal("2001:db8:0:20::8".parse().unwrap()));
        assert!(scope.networks().contains(&"2001:db8::/56".parse().unwrap()));
        assert!(scope.server("10.0.20.10".parse().unwrap()).is_none());
    }

    /// A dual-stack db01: its ENI carries `2001:db8:0:20::8` and a secondary 10.0.20.9.
    fn dual_stack() -> Inventory {
        let mut inv = world();
        let eni = inv.enis.get_mut("eni-db").unwrap();
        eni.private_ips.push("10.0.20.9".parse().unwrap());
        eni.private_ips.push("2001:db8:0:20::8".parse().unwrap());
        inv.vpcs.get_mut("vpc-a").unwrap().cidrs.push("2001:db8::/56".parse().unwrap());
        inv.subnets.get_mut("subnet-db").unwrap().cidrs.push("2001:db8:0:20::/64".parse().unwrap());
        inv.subnets.get_mut("subnet-web").unwrap().cidrs.push("2001:db8:0:0::/64".parse().unwrap());
        inv.enis.get_mut("eni-app").unwrap().private_ips.push("2001:db8::7".parse().unwrap());
        // db01 opens 1433 to app01 by group, which matches the group members' IPv6 too.
        inv
    }

    #[test]
    fn a_reject_on_a_servers_ipv6_address_is_a_finding_with_an_ipv6_proposal() {
        let mut inv = dual_stack();
        inv.security_groups.get_mut("sg-db").unwrap().ingress.clear();
        let a = run(&inv, &wave(), vec![agg("2001:db8::7", "2001:db8:0:20::8", 6, 1433, RQ, REJ, "eni-db")]);
        assert_eq!(a.rejected.len(), 1, "{:#?}", a.noise);
        let f = &a.rejected[0];
        assert_eq!(f.id, "rejected/tcp/1433/2001:db8::7/2001:db8:0:20::8/request");
        assert_eq!((f.client.server.as_deref(), f.server.server.as_deref()), (Some("app01"), Some("db01")));
        assert_eq!(f.attribution, Attribution::Confirmed);
        let json = serde_json::to_string(&a.proposals).unwrap();
        assert!(json.contains("2001:db8::7/128"), "{json}");
        assert!(!json.contains("::/0") && !json.contains("0.0.0.0/0"), "{json}");
    }

    #[test]
    fn a_secondary_address_names_its_server() {
        let mut inv = dual_stack();
        inv.security_groups.get_mut("sg-db").unwrap().ingress.clear();
        let a = run(&inv, &wave(), vec![agg("10.0.0.7", "10.0.20.9", 6, 1433, RQ, REJ, "eni-db")]);
        assert_eq!(a.rejected.len(), 1);
        assert_eq!(a.rejected[0].server.server.as_deref(), Some("db01"));
    }
}
