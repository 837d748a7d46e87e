#!/usr/bin/env python3
"""Build the shipped demo wave: flow-log files (S3 layout) and an inventory snapshot.

    python3 scripts/make-demo.py            # writes waves/demo/flowlogs and waves/demo/inventory.json
    python3 scripts/make-demo.py --check    # rebuilds in a temp dir and fails if the committed files differ

Standard library only, fixed seed: the output is byte-identical on every run (the gzip
members carry no file name and mtime 0).

The environment (account 123456789012, eu-west-1, one hour, 2026-03-02 09:00-10:00 UTC):

* `orders-vpc` 10.0.0.0/16 with one private subnet 10.0.0.0/24 holding the three-tier app
  `orders`: web01 10.0.0.6 (IIS), app01 10.0.0.7, db01 10.0.0.8 (SQL Server, with an idle
  secondary ENI 10.0.0.9). All Windows, so client ports are 49152-65535. The three servers
  share one subnet (AWS subnets are /28 at the smallest, and 10.0.0.6-8 fit in one), so
  the subnet's custom NACL `orders-private` only matters for traffic that leaves it: to
  on-premises (192.168.0.0/16, over Direct Connect) and to the shared-services VPC.
* `shared-services-vpc` 10.250.0.0/16 in account 210987654321, peered with orders-vpc:
  the SMB file server fs01 10.250.1.10 and the domain controller dc01 10.250.1.20 (DNS).
  Both VPCs send flow logs to one central bucket, so the tree holds both accounts.

Every conversation is evaluated hop by hop against that configuration (source SG egress,
source NACL outbound, on-premises firewall, destination NACL inbound, destination SG
ingress, then the response through both NACLs on the client's port) and written the way
AWS writes it: an egress record on the source ENI, an ingress record on the destination
ENI, and the same pair for the response; a drop stops the records at the ENI that dropped.

The five missing rules (what a correct analysis must find, and nothing else rejected
between internal networks apart from the ignored scanner):

1. app01 -> db01 tcp/49172 (SQL Server named instance on a dynamic port): `orders-db` has
   no ingress rule for it. ACCEPT SYN on app01's ENI, REJECT on db01's ENI.
2. an on-premises user 192.168.10.35 -> web01 tcp/80: the NACL allows 80 but `orders-web`
   only allows 443. REJECT on web01's ENI.
3. web01 -> db01 udp/1434 (SQL Browser): `orders-db` has no ingress rule. ACCEPT on
   web01's ENI, REJECT on db01's ENI.
4. app01 -> fs01 tcp/445 (SMB, peered VPC): the SG egress and both NACLs let the request
   through and fs01 answers, but the NACL `orders-private` has no inbound entry for TCP
   returns from 10.250.0.0/16 (it only allows UDP returns, for DNS): the SYN-ACK is
   REJECTed on app01's ENI. The culprit is the NACL on the return path, never an SG.
5. app01 -> web01 tcp/8443: `orders-web` allows it in, but app01's egress is restricted
   (`orders-app` lists its destinations) and has no rule for it: REJECT on app01's ENI
   (source SG egress), nothing on web01's ENI.

And one unanswered flow: app01 -> 192.168.50.20 tcp/443 (a legacy on-premises API): the
SG and NACL let it out, the on-premises firewall drops it: SYN-only ACCEPT records on
app01's ENI, no return at all.

Normal traffic: users -> web01 443, web01 -> app01 8080, app01 -> db01 1433 (short and
pooled connections), DNS from all three to dc01, SMB-free admin RDP from 192.168.100.10,
syslog udp/514 to 192.168.20.5 (one-way by design), NODATA for db01's idle ENI. Expected
noise: the vulnerability scanner 192.168.99.10 (listed in the wave's `ignore`) probing
seven ports on every server, and internet scanners hitting web01's public IP; all REJECT.
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import hashlib
import ipaddress
import json
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20260302
REGION = "eu-west-1"
AZ = ("eu-west-1a", "euw1-az1")
ACCT = "123456789012"
SHARED_ACCT = "210987654321"
BUCKET_ARN = "arn:aws:s3:::acme-flowlogs-central"
T0 = 1772442000  # 2026-03-02T09:00:00Z
HOUR = 3600
AGG = 600  # aggregation interval (seconds)
FIELDS = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status tcp-flags flow-direction pkt-srcaddr pkt-dstaddr"
).split()
TCP, UDP, ANY = 6, 17, -1
PROTO_NAME = {TCP: "tcp", UDP: "udp", ANY: "-1"}

rng = random.Random(SEED)


def hexid(prefix: str, n: int = 17) -> str:
    return prefix + "".join(rng.choice("0123456789abcdef") for _ in range(n))


def net(c: str):
    return ipaddress.ip_network(c)


def ip(a: str):
    return ipaddress.ip_address(a)


# ---------------------------------------------------------------------------------------
# Configuration model


@dataclass
class Vpc:
    id: str
    name: str
    cidr: str
    account: str
    flow_log: str = ""


@dataclass
class Subnet:
    id: str
    name: str
    cidr: str
    vpc: Vpc


@dataclass
class SgRule:
    egress: bool
    proto: int
    lo: int
    hi: int
    cidr: str | None = None
    ref: "Sg | None" = None
    desc: str = ""


@dataclass
class Sg:
    id: str
    name: str
    vpc: Vpc
    desc: str
    rules: list[SgRule] = field(default_factory=list)

    def add(self, egress, proto, lo, hi, peer, desc):
        if isinstance(peer, Sg):
            self.rules.append(SgRule(egress, proto, lo, hi, ref=peer, desc=desc))
        else:
            self.rules.append(SgRule(egress, proto, lo, hi, cidr=peer, desc=desc))


@dataclass
class NaclEntry:
    no: int
    egress: bool
    allow: bool
    proto: int
    cidr: str
    lo: int = 0
    hi: int = 65535


@dataclass
class Nacl:
    id: str
    name: str
    vpc: Vpc
    default: bool
    entries: list[NaclEntry] = field(default_factory=list)
    subnets: list[Subnet] = field(default_factory=list)


@dataclass
class Eni:
    id: str
    ip: str
    subnet: Subnet
    sgs: list[Sg]
    name: str
    instance: str | None
    device: int = 0
    public_ip: str | None = None


@dataclass
class Host:
    """An end of a conversation: an ENI in AWS, or an address outside."""

    ip: str
    eni: Eni | None = None


def sg_allows(eni: Eni, egress: bool, proto: int, port: int, peer: Host) -> bool:
    for sg in eni.sgs:
        for r in sg.rules:
            if r.egress != egress or (r.proto != ANY and r.proto != proto):
                continue
            if r.proto != ANY and not r.lo <= port <= r.hi:
                continue
            if r.cidr is not None and ip(peer.ip) in net(r.cidr):
                return True
            if r.ref is not None and peer.eni is not None and r.ref in peer.eni.sgs:
                return True
    return False


def nacl_allows(acl: Nacl, egress: bool, proto: int, port: int, peer_ip: str) -> bool:
    for e in sorted(acl.entries, key=lambda e: e.no):
        if e.egress != egress or (e.proto != ANY and e.proto != proto):
            continue
        if e.proto != ANY and not e.lo <= port <= e.hi:
            continue
        if ip(peer_ip) in net(e.cidr):
            return e.allow
    return False  # the `*` entry


# ---------------------------------------------------------------------------------------
# The environment

orders = Vpc(hexid("vpc-"), "orders-vpc", "10.0.0.0/16", ACCT)
shared = Vpc(hexid("vpc-"), "shared-services-vpc", "10.250.0.0/16", SHARED_ACCT)
orders.flow_log, shared.flow_log = hexid("fl-"), hexid("fl-")
VPCS = [orders, shared]
peering_id = hexid("pcx-")

sn_orders = Subnet(hexid("subnet-"), "orders-private-a", "10.0.0.0/24", orders)
sn_shared = Subnet(hexid("subnet-"), "shared-services-a", "10.250.1.0/24", shared)
SUBNETS = [sn_orders, sn_shared]

ONPREM = "192.168.0.0/16"
sg_base = Sg(hexid("sg-"), "orders-base", orders, "Admin access and infrastructure services for every orders server")
sg_web = Sg(hexid("sg-"), "orders-web", orders, "orders web tier")
sg_app = Sg(hexid("sg-"), "orders-app", orders, "orders application tier (restricted egress)")
sg_db = Sg(hexid("sg-"), "orders-db", orders, "orders database tier")
sg_fs = Sg(hexid("sg-"), "file-servers", shared, "SMB file servers")
sg_dc = Sg(hexid("sg-"), "domain-controllers", shared, "Active Directory domain controllers")

sg_base.add(False, TCP, 3389, 3389, "192.168.100.0/24", "RDP from the admin jump hosts")
sg_base.add(True, UDP, 53, 53, "10.250.0.0/16", "DNS to the domain controllers")
sg_base.add(True, UDP, 514, 514, "192.168.20.5/32", "syslog to the on-premises collector")
sg_web.add(False, TCP, 443, 443, ONPREM, "HTTPS from on-premises users")
sg_web.add(False, TCP, 8443, 8443, sg_app, "callbacks from the app tier")
sg_web.add(True, ANY, 0, 65535, "0.0.0.0/0", "")
sg_app.add(False, TCP, 8080, 8080, sg_web, "web tier to the app service")
sg_app.add(True, TCP, 1433, 1433, sg_db, "SQL Server default instance")
sg_app.add(True, TCP, 49172, 49172, sg_db, "SQL Server named instance REPORTS")
sg_app.add(True, TCP, 445, 445, "10.250.1.10/32", "SMB to fs01")
sg_app.add(True, TCP, 443, 443, "192.168.50.20/32", "legacy pricing API on premises")
sg_db.add(False, TCP, 1433, 1433, sg_app, "SQL Server from the app tier")
sg_db.add(True, ANY, 0, 65535, "0.0.0.0/0", "")
sg_fs.add(False, TCP, 445, 445, "10.0.0.0/16", "SMB from orders-vpc")
sg_fs.add(True, ANY, 0, 65535, "0.0.0.0/0", "")
sg_dc.add(False, UDP, 53, 53, "10.0.0.0/8", "DNS from every VPC")
sg_dc.add(True, ANY, 0, 65535, "0.0.0.0/0", "")
SGS = [sg_base, sg_web, sg_app, sg_db, sg_fs, sg_dc]

acl_orders = Nacl(hexid("acl-"), "orders-private", orders, False, subnets=[sn_orders])
for no, egress, proto, cidr, lo, hi in [
    (100, False, TCP, ONPREM, 80, 80),
    (110, False, TCP, ONPREM, 443, 443),
    (120, False, TCP, "192.168.100.0/24", 3389, 3389),
    (130, False, UDP, "10.250.0.0/16", 1024, 65535),
    (140, False, TCP, ONPREM, 1024, 65535),
    (100, True, TCP, ONPREM, 1024, 65535),
    (110, True, UDP, "10.250.0.0/16", 53, 53),
    (120, True, TCP, "10.250.0.0/16", 445, 445),
    (130, True, UDP, "192.168.20.0/24", 514, 514),
    (140, True, TCP, "192.168.50.0/24", 443, 443),
]:
    acl_orders.entries.append(NaclEntry(no, egress, True, proto, cidr, lo, hi))
acl_orders_default = Nacl(hexid("acl-"), "orders-default", orders, True)
acl_shared = Nacl(hexid("acl-"), "shared-services-default", shared, True, subnets=[sn_shared])
for acl in (acl_orders_default, acl_shared):
    acl.entries += [NaclEntry(100, False, True, ANY, "0.0.0.0/0"), NaclEntry(100, True, True, ANY, "0.0.0.0/0")]
NACLS = [acl_orders, acl_orders_default, acl_shared]


def nacl_of(subnet: Subnet) -> Nacl:
    return next(a for a in NACLS if subnet in a.subnets)


i_web, i_app, i_db, i_fs, i_dc = (hexid("i-") for _ in range(5))
web = Eni(hexid("eni-"), "10.0.0.6", sn_orders, [sg_web, sg_base], "web01", i_web, public_ip="203.0.113.10")
app = Eni(hexid("eni-"), "10.0.0.7", sn_orders, [sg_app, sg_base], "app01", i_app)
db = Eni(hexid("eni-"), "10.0.0.8", sn_orders, [sg_db, sg_base], "db01", i_db)
db_idle = Eni(hexid("eni-"), "10.0.0.9", sn_orders, [sg_db, sg_base], "db01-backup-nic", i_db, device=1)
fs01 = Eni(hexid("eni-"), "10.250.1.10", sn_shared, [sg_fs], "fs01", i_fs)
dc01 = Eni(hexid("eni-"), "10.250.1.20", sn_shared, [sg_dc], "dc01", i_dc)
ENIS = [web, app, db, db_idle, fs01, dc01]
INSTANCES = [("web01", "web", i_web, [web]), ("app01", "app", i_app, [app]),
             ("db01", "db", i_db, [db, db_idle]), ("fs01", "file", i_fs, [fs01]), ("dc01", "dc", i_dc, [dc01])]

# On-premises firewall: traffic from AWS that it drops (nothing comes back).
ONPREM_FIREWALL_DROPS = {("192.168.50.20", TCP, 443)}

# ---------------------------------------------------------------------------------------
# Traffic


@dataclass
class Rec:
    eni: Eni
    src: str
    dst: str
    sport: int
    dport: int
    proto: int
    packets: int
    nbytes: int
    start: int
    end: int
    action: str
    flags: int
    direction: str

    def account(self) -> str:
        return self.eni.subnet.vpc.account

    def line(self) -> str:
        pkt_src, pkt_dst = self.src, self.dst
        return " ".join(str(v) for v in (
            5, self.account(), self.eni.id, self.src, self.dst, self.sport, self.dport, self.proto,
            self.packets, self.nbytes, self.start, self.end, self.action, "OK",
            self.flags if self.proto == TCP else 0, self.direction, pkt_src, pkt_dst))


RECORDS: list[Rec] = []
LINES_EXTRA: list[tuple[Eni, str]] = []  # NODATA lines
OUTCOMES: dict[tuple, set] = {}


def crosses(a: Host, b: Host) -> bool:
    return a.eni is None or b.eni is None or a.eni.subnet is not b.eni.subnet


def outcome(key, what):
    OUTCOMES.setdefault(key, set()).add(what)


def converse(client: Host, server: Host, proto: int, port: int, start: int, *, cport: int | None = None,
             packets: int = 12, nbytes: int = 4800, replies: bool = True, pooled: bool = False,
             length: int | None = None) -> None:
    """One connection (or UDP exchange) from `client` to `server`, written as AWS logs it."""
    if cport is None:
        cport = rng.randint(49152, 65535)
    if length is None:
        length = rng.randint(5, 120)
    end = min(start + length, (start // AGG + 1) * AGG - 1)
    key = (client.ip, server.ip, proto, port)
    syn = dict(packets=3, nbytes=156) if proto == TCP else dict(packets=1, nbytes=64)
    req_flags = 0 if pooled else 3
    resp_flags = 0 if pooled else 19

    def rec(eni, src, dst, sp, dp, action, flags, direction, p, b):
        RECORDS.append(Rec(eni, src, dst, sp, dp, proto, p, b, start, end, action, flags, direction))

    def req(eni, action, flags, direction, full):
        p, b = (packets, nbytes) if full else (syn["packets"], syn["nbytes"])
        rec(eni, client.ip, server.ip, cport, port, action, flags, direction, p, b)

    def resp(eni, action, flags, direction, full):
        p, b = (packets, nbytes * 4) if full else (syn["packets"], syn["nbytes"])
        rec(eni, server.ip, client.ip, port, cport, action, flags, direction, p, b)

    cross = crosses(client, server)
    # Request: source SG egress, source NACL outbound.
    if client.eni is not None:
        if not sg_allows(client.eni, True, proto, port, server):
            req(client.eni, "REJECT", 2, "egress", False)
            return outcome(key, "rejected:source-sg-egress")
        if cross and not nacl_allows(nacl_of(client.eni.subnet), True, proto, port, server.ip):
            req(client.eni, "REJECT", 2, "egress", False)
            return outcome(key, "rejected:source-nacl-outbound")
    dropped_onprem = server.eni is None and (server.ip, proto, port) in ONPREM_FIREWALL_DROPS
    rejected_at_server = False
    if server.eni is not None:
        if cross and not nacl_allows(nacl_of(server.eni.subnet), False, proto, port, client.ip):
            rejected_at_server = "destination-nacl-inbound"
        elif not sg_allows(server.eni, False, proto, port, client):
            rejected_at_server = "destination-sg-ingress"
    response_ok = replies and not dropped_onprem and not rejected_at_server
    # Response: destination NACL outbound, source NACL inbound (SGs are stateful).
    response_dropped = None
    if response_ok and cross:
        if server.eni is not None and not nacl_allows(nacl_of(server.eni.subnet), True, proto, cport, client.ip):
            response_dropped = "return-destination-nacl-outbound"
        elif client.eni is not None and not nacl_allows(nacl_of(client.eni.subnet), False, proto, cport, server.ip):
            response_dropped = "return-source-nacl-inbound"
    answered = response_ok and response_dropped is None
    one_way = not replies
    full_req = answered or one_way
    if client.eni is not None:
        req(client.eni, "ACCEPT", req_flags if answered else 2, "egress", full_req)
    if rejected_at_server:
        req(server.eni, "REJECT", 2, "ingress", False)
        return outcome(key, "rejected:" + rejected_at_server)
    if server.eni is not None:
        req(server.eni, "ACCEPT", req_flags if answered else 2, "ingress", full_req)
    if one_way:
        return outcome(key, "one-way")
    if dropped_onprem:
        return outcome(key, "unanswered")
    if response_dropped == "return-destination-nacl-outbound":
        resp(server.eni, "REJECT", 18, "egress", False)
        return outcome(key, "rejected:" + response_dropped)
    if server.eni is not None:
        resp(server.eni, "ACCEPT", resp_flags if answered else 18, "egress", answered)
    if response_dropped == "return-source-nacl-inbound":
        resp(client.eni, "REJECT", 18, "ingress", False)
        return outcome(key, "rejected:" + response_dropped)
    if client.eni is not None:
        resp(client.eni, "ACCEPT", resp_flags, "ingress", True)
    return outcome(key, "ok")


def h(e: Eni) -> Host:
    return Host(e.ip, e)


def out(a: str) -> Host:
    return Host(a)


USERS = ["192.168.10.21", "192.168.10.22", "192.168.10.35", "192.168.10.41"]
SCANNER = "192.168.99.10"
INTERNET = [("198.51.100.77", [22, 3389]), ("203.0.113.200", [23])]


def at(interval: int) -> int:
    return T0 + interval * AGG + rng.randint(0, 300)


def traffic() -> None:
    pooled_port = 50211
    for i in range(HOUR // AGG):
        for u in USERS:
            converse(out(u), h(web), TCP, 443, at(i), packets=24, nbytes=9200)
        converse(out(USERS[2]), h(web), TCP, 80, at(i))  # missing rule 2: one user with an old http:// bookmark
        for _ in range(2):
            converse(h(web), h(app), TCP, 8080, at(i), packets=16, nbytes=6400)
            converse(h(app), h(db), TCP, 1433, at(i), cport=rng.randint(50000, 65535))
            converse(h(app), h(db), TCP, 49172, at(i), cport=rng.randint(50000, 65535))  # missing rule 1
            converse(h(app), out("192.168.50.20"), TCP, 443, at(i))  # unanswered
        converse(h(app), h(db), TCP, 1433, T0 + i * AGG, cport=pooled_port, pooled=i > 0, length=AGG - 1,
                 packets=400, nbytes=180000)
        converse(h(web), h(db), UDP, 1434, at(i), packets=1, nbytes=64)  # missing rule 3
        converse(h(app), h(fs01), TCP, 445, at(i))  # missing NACL entry 4
        converse(h(app), h(web), TCP, 8443, at(i))  # missing rule 5
        for e in (web, app, db):
            for _ in range(2):
                converse(h(e), h(dc01), UDP, 53, at(i), packets=1, nbytes=72)
            converse(h(e), out("192.168.20.5"), UDP, 514, T0 + i * AGG + 1, cport=rng.randint(49152, 65535),
                     replies=False, packets=300, nbytes=96000, length=AGG - 2)
        if 2 <= i <= 4:
            converse(out("192.168.100.10"), h(app), TCP, 3389, T0 + i * AGG + 2, cport=61234, pooled=i > 2,
                     length=AGG - 3, packets=900, nbytes=400000)
        if i == 3:
            for e in (web, app, db):
                for port in (21, 22, 23, 135, 139, 445, 5985):
                    converse(out(SCANNER), h(e), TCP, port, T0 + i * AGG + 120, cport=40000 + port, length=2)
        if i in (1, 4):
            for src, ports in INTERNET:
                for port in ports:
                    converse(out(src), h(web), TCP, port, at(i), length=1)
        LINES_EXTRA.append((db_idle, f"5 {ACCT} {db_idle.id} - - - - - - - {T0 + i * AGG} {T0 + i * AGG + AGG - 1} - NODATA - - - -"))


EXPECTED = {
    (app.ip, db.ip, TCP, 49172): {"rejected:destination-sg-ingress"},
    ("192.168.10.35", web.ip, TCP, 80): {"rejected:destination-sg-ingress"},
    (web.ip, db.ip, UDP, 1434): {"rejected:destination-sg-ingress"},
    (app.ip, fs01.ip, TCP, 445): {"rejected:return-source-nacl-inbound"},
    (app.ip, web.ip, TCP, 8443): {"rejected:source-sg-egress"},
    (app.ip, "192.168.50.20", TCP, 443): {"unanswered"},
}


def self_check() -> None:
    """The traffic must show exactly the designed faults (plus noise from the scanners)."""
    noise = {SCANNER} | {src for src, _ in INTERNET}
    for key, what in sorted(OUTCOMES.items()):
        if key[0] in noise:
            assert all(w.startswith("rejected:") for w in what), (key, what)
            continue
        expected = EXPECTED.get(key)
        if expected is not None:
            assert what == expected, (key, what, expected)
        else:
            assert what <= {"ok", "one-way"}, (key, what)
    assert set(EXPECTED) <= set(OUTCOMES), set(EXPECTED) - set(OUTCOMES)


# ---------------------------------------------------------------------------------------
# Output


def tags(name: str) -> list[dict]:
    return [{"Key": "Name", "Value": name}]


def inventory() -> dict:
    def perms(sg: Sg, egress: bool) -> list[dict]:
        res = []
        for r in sg.rules:
            if r.egress != egress:
                continue
            p = {"IpProtocol": PROTO_NAME[r.proto]}
            if r.proto != ANY:
                p["FromPort"], p["ToPort"] = r.lo, r.hi
            p["IpRanges"], p["Ipv6Ranges"], p["PrefixListIds"], p["UserIdGroupPairs"] = [], [], [], []
            if r.ref is not None:
                pair = {"GroupId": r.ref.id, "UserId": r.ref.vpc.account}
                if r.desc:
                    pair["Description"] = r.desc
                p["UserIdGroupPairs"].append(pair)
            else:
                rng_ = {"CidrIp": r.cidr}
                if r.desc:
                    rng_["Description"] = r.desc
                p["IpRanges"].append(rng_)
            res.append(p)
        return res

    def entry(e: NaclEntry) -> dict:
        d = {"CidrBlock": e.cidr, "Egress": e.egress, "Protocol": str(e.proto)}
        if e.proto in (TCP, UDP):
            d["PortRange"] = {"From": e.lo, "To": e.hi}
        d["RuleAction"] = "allow" if e.allow else "deny"
        d["RuleNumber"] = e.no
        return d

    def vpc_info(v: Vpc) -> dict:
        return {"CidrBlock": v.cidr, "CidrBlockSet": [{"CidrBlock": v.cidr}], "OwnerId": v.account,
                "PeeringOptions": {"AllowDnsResolutionFromRemoteVpc": False,
                                   "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                                   "AllowEgressFromLocalVpcToRemoteClassicLink": False},
                "VpcId": v.id, "Region": REGION}

    def eni_doc(e: Eni) -> dict:
        v = e.subnet.vpc
        d = {}
        if e.public_ip:
            d["Association"] = {"IpOwnerId": "amazon", "PublicDnsName": "", "PublicIp": e.public_ip}
        d["Attachment"] = {"AttachTime": "2026-02-20T08:00:00+00:00", "AttachmentId": "eni-attach-" + e.id[4:],
                           "DeleteOnTermination": e.device == 0, "DeviceIndex": e.device, "NetworkCardIndex": 0,
                           "InstanceId": e.instance, "InstanceOwnerId": v.account, "Status": "attached"}
        d.update({
            "AvailabilityZone": AZ[0], "Description": e.name,
            "Groups": [{"GroupName": g.name, "GroupId": g.id} for g in e.sgs],
            "InterfaceType": "interface", "Ipv6Addresses": [], "MacAddress": "02:00:00:00:00:" + e.ip.split(".")[-1].zfill(2)[-2:],
            "NetworkInterfaceId": e.id, "OwnerId": v.account,
            "PrivateDnsName": f"ip-{e.ip.replace('.', '-')}.{REGION}.compute.internal", "PrivateIpAddress": e.ip,
            "PrivateIpAddresses": [{"Primary": True, "PrivateDnsName": f"ip-{e.ip.replace('.', '-')}.{REGION}.compute.internal",
                                    "PrivateIpAddress": e.ip}],
            "RequesterManaged": False, "SourceDestCheck": True, "Status": "in-use", "SubnetId": e.subnet.id,
            "TagSet": tags(e.name), "VpcId": v.id,
        })
        if e.public_ip:
            d["PrivateIpAddresses"][0]["Association"] = d["Association"]
        return d

    reservations = []
    for name, role, iid, enis in INSTANCES:
        v = enis[0].subnet.vpc
        inst = {
            "ImageId": "ami-0a1b2c3d4e5f60718", "InstanceId": iid, "InstanceType": "m5.large",
            "Placement": {"AvailabilityZone": AZ[0], "GroupName": "", "Tenancy": "default"},
            "Platform": "windows", "PlatformDetails": "Windows",
            "PrivateIpAddress": enis[0].ip, "State": {"Code": 16, "Name": "running"},
            "SubnetId": enis[0].subnet.id, "VpcId": v.id,
            "NetworkInterfaces": [{"NetworkInterfaceId": e.id, "PrivateIpAddress": e.ip, "SubnetId": e.subnet.id,
                                   "VpcId": v.id, "Attachment": {"DeviceIndex": e.device, "Status": "attached"},
                                   "Groups": [{"GroupName": g.name, "GroupId": g.id} for g in e.sgs]} for e in enis],
            "SecurityGroups": [{"GroupName": g.name, "GroupId": g.id} for g in enis[0].sgs],
            "Tags": tags(name) + [{"Key": "Role", "Value": role}],
        }
        reservations.append({"Groups": [], "Instances": [inst], "OwnerId": v.account,
                             "ReservationId": "r-" + iid[2:]})
    return {
        "Vpcs": [{"CidrBlock": v.cidr, "DhcpOptionsId": "dopt-0123456789abcdef0", "State": "available", "VpcId": v.id,
                  "OwnerId": v.account, "InstanceTenancy": "default",
                  "CidrBlockAssociationSet": [{"AssociationId": "vpc-cidr-assoc-" + v.id[4:], "CidrBlock": v.cidr,
                                               "CidrBlockState": {"State": "associated"}}],
                  "IsDefault": False, "Tags": tags(v.name)} for v in VPCS],
        "Subnets": [{"AvailabilityZone": AZ[0], "AvailabilityZoneId": AZ[1], "AvailableIpAddressCount": 247,
                     "CidrBlock": s.cidr, "DefaultForAz": False, "MapPublicIpOnLaunch": False, "State": "available",
                     "SubnetId": s.id, "VpcId": s.vpc.id, "OwnerId": s.vpc.account,
                     "AssignIpv6AddressOnCreation": False, "Ipv6CidrBlockAssociationSet": [],
                     "SubnetArn": f"arn:aws:ec2:{REGION}:{s.vpc.account}:subnet/{s.id}", "Tags": tags(s.name)}
                    for s in SUBNETS],
        "NetworkInterfaces": [eni_doc(e) for e in ENIS],
        "Reservations": reservations,
        "SecurityGroups": [{"Description": g.desc, "GroupName": g.name, "IpPermissions": perms(g, False),
                            "OwnerId": g.vpc.account, "GroupId": g.id, "IpPermissionsEgress": perms(g, True),
                            "Tags": tags(g.name), "VpcId": g.vpc.id} for g in SGS],
        "NetworkAcls": [{
            "Associations": [{"NetworkAclAssociationId": "aclassoc-" + s.id[7:], "NetworkAclId": a.id, "SubnetId": s.id}
                             for s in a.subnets],
            "Entries": [entry(e) for e in sorted(a.entries, key=lambda e: (e.egress, e.no))]
            + [{"CidrBlock": "0.0.0.0/0", "Egress": eg, "Protocol": "-1", "RuleAction": "deny", "RuleNumber": 32767}
               for eg in (False, True)],
            "IsDefault": a.default, "NetworkAclId": a.id, "Tags": tags(a.name), "VpcId": a.vpc.id,
            "OwnerId": a.vpc.account} for a in NACLS],
        "FlowLogs": [{"CreationTime": "2026-01-15T10:00:00+00:00", "DeliverLogsStatus": "SUCCESS",
                      "FlowLogId": v.flow_log, "FlowLogStatus": "ACTIVE", "ResourceId": v.id, "TrafficType": "ALL",
                      "LogDestinationType": "s3", "LogDestination": BUCKET_ARN,
                      "LogFormat": " ".join("${%s}" % f for f in FIELDS), "Tags": tags(v.name + "-flowlogs"),
                      "MaxAggregationInterval": AGG,
                      "DestinationOptions": {"FileFormat": "plain-text", "HiveCompatiblePartitions": False,
                                             "PerHourPartition": False}} for v in VPCS],
        "ManagedPrefixLists": [],
        "VpcPeeringConnections": [{"AccepterVpcInfo": vpc_info(shared), "RequesterVpcInfo": vpc_info(orders),
                                   "Status": {"Code": "active", "Message": "Active"}, "Tags": tags("orders-to-shared"),
                                   "VpcPeeringConnectionId": peering_id}],
        "NatGateways": [],
    }


def stamp(t: int) -> tuple[str, str]:
    import time

    g = time.gmtime(t)
    return time.strftime("%Y/%m/%d", g), time.strftime("%Y%m%dT%H%MZ", g)


def write(root: Path) -> None:
    flowlogs = root / "flowlogs"
    if flowlogs.exists():
        shutil.rmtree(flowlogs)
    files: dict[tuple[str, str, int], list[tuple]] = {}
    for r in RECORDS:
        v = r.eni.subnet.vpc
        files.setdefault((v.account, v.flow_log, r.end // 300 * 300), []).append(
            (r.start, r.eni.id, r.src, r.dst, r.sport, r.line()))
    for e, line in LINES_EXTRA:
        v = e.subnet.vpc
        end = int(line.split()[11])
        files.setdefault((v.account, v.flow_log, end // 300 * 300), []).append((int(line.split()[10]), e.id, "", "", 0, line))
    for (acct, fl, t), recs in sorted(files.items()):
        day, ts = stamp(t)
        body = " ".join(FIELDS) + "\n" + "".join(x[-1] + "\n" for x in sorted(recs))
        data = gzip.compress(body.encode(), compresslevel=9, mtime=0)
        digest = hashlib.sha256(body.encode()).hexdigest()[:8]
        d = flowlogs / "AWSLogs" / acct / "vpcflowlogs" / REGION / day
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{acct}_vpcflowlogs_{REGION}_{fl}_{ts}_{digest}.log.gz").write_bytes(data)
    (root / "inventory.json").write_text(json.dumps(inventory(), indent=2) + "\n")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "waves" / "demo")
    p.add_argument("--check", action="store_true", help="fail if the files under --out differ from a fresh build")
    a = p.parse_args()
    traffic()
    self_check()
    if not a.check:
        write(a.out)
        print(f"wrote {len(RECORDS) + len(LINES_EXTRA)} records and the inventory under {a.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp))
        cmp = filecmp.dircmp(Path(tmp) / "flowlogs", a.out / "flowlogs")
        diffs = [] if filecmp.cmp(Path(tmp) / "inventory.json", a.out / "inventory.json", shallow=False) else ["inventory.json"]

        def walk(c, rel=""):
            diffs.extend("flowlogs/" + rel + x for x in c.left_only + c.right_only + c.diff_files)
            for name, sub in c.subdirs.items():
                walk(sub, rel + name + "/")

        walk(cmp)
        if diffs:
            print("demo data differs from a fresh build: " + ", ".join(sorted(diffs)), file=sys.stderr)
            return 1
    print("demo data is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
