use super::*;

const BASE: &str = r#"
[window]
last = "24h"

[log-groups]
names = ["/vpc/flow-logs"]

[[apps]]
name = "crm"

[[apps.servers]]
name = "web"
ip = "10.0.0.6"
"#;

fn try_load(text: &str, defaults: Option<&str>) -> Result<WaveConfig, WaveError> {
    let defaults = defaults.map(|text| WaveFile { path: Path::new("waves/defaults.toml"), text });
    // Every path exists: a name with an extension is a file, anything else a directory.
    let look = |p: &Path| if p.extension().is_some() { PathKind::File } else { PathKind::Dir };
    load(WaveFile { path: Path::new("waves/w.toml"), text }, defaults, Path::new("/repo"), &look)
}

/// `BASE` with `from` replaced by `to` (which must be there).
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} not in BASE");
    BASE.replacen(from, to, 1)
}

fn check(text: &str, expected: &str) {
    let e = try_load(text, None).expect_err(text);
    assert_eq!(format!("{}:{} {} {:?}: {}", e.line, e.column, e.key, e.kind, e.message), expected, "\n{text}");
    // Every error can be rendered with its location and key.
    let rendered = e.render(false);
    assert!(rendered.contains(&e.location()), "{rendered}");
    assert!(rendered.contains(&e.key), "{rendered}");
}

#[test]
fn minimal_wave_gets_defaults() {
    let w = try_load(BASE, None).unwrap();
    assert_eq!(w.name, "w");
    assert_eq!(w.path, Path::new("waves/w.toml"));
    assert_eq!(w.window, WindowSpec::Last(Duration::from_secs(86_400)));
    assert_eq!(w.source, Source::CloudWatch);
    assert_eq!(w.aws, AwsSettings::default());
    assert_eq!(w.log_groups, LogGroups { names: vec!["/vpc/flow-logs".into()], discover: false });
    assert_eq!(w.networks.internal, default_internal());
    assert!(w.networks.on_premises.is_empty());
    assert_eq!(w.ephemeral, EphemeralPolicy { from: 1024, to: 65535 });
    assert_eq!(w.query, QuerySettings::default());
    assert!(w.ignore.is_empty());
    assert_eq!(
        w.one_way.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["udp/514", "udp/162", "udp/2055", "udp/6343"]
    );
    let server = w.servers().next().unwrap();
    assert_eq!(
        server,
        &Server {
            name: "web".into(),
            app: "crm".into(),
            ip: "10.0.0.6".parse().unwrap(),
            ips: Vec::new(),
            instance_id: None,
            role: None,
            os: None,
            on_premises: false,
            account: None,
        }
    );
}

#[test]
fn full_wave() {
    let text = r#"
name = "wave-3"
description = "CRM and billing"
source = "cloudwatch"
one-way = ["udp/514", "tcp/9997", "udp/514"]

[window]
start = 2026-11-20T00:00:00Z
end = "2026-11-21T01:00:00+01:00"

[aws]
region = "eu-west-1"
profile = "migration"
assume-role-arn = "arn:aws:iam::123456789012:role/path/WavegapReadOnly"
external-id = "wave-3"

[networks]
internal = ["10.0.0.0/8", "fd00::/8"]
on-premises = ["192.168.0.0/16", "10.200.0.0/16"]

[log-groups]
names = ["/vpc/flow-logs", "vpc#prod_1.x"]
discover = true

[ephemeral-ports]
from = 32768
to = 61000

[query]
chunk-size = 10
max-in-flight = 5
row-limit = 5000
price-per-gb = 0
max-window = "2d"

[[ignore]]
network = "192.168.99.10"
reason = "scanner"

[[ignore]]
network = "10.9.0.0/16"
service = "tcp/445"
reason = "backup"

[[apps]]
name = "crm"
description = "CRM"

[[apps.servers]]
name = "crm-web"
ip = "10.0.0.6"
instance-id = "i-0abc123def4567890"
role = "web"
os = "linux"

[[apps.servers]]
name = "crm-db"
ip = "fd00::8"
os = "windows-legacy"

[[apps]]
name = "billing"

[[apps.servers]]
name = "dc01"
ip = "192.168.1.10"
on-premises = true
os = "windows"

[[expected-flows]]
from = "crm-web"
to = "10.0.0.8"
service = "tcp/1433"

[[expected-flows]]
from = "192.168.1.10"
to = "10.0.0.0/24"
service = "icmp"
"#;
    let w = try_load(text, None).unwrap();
    assert_eq!(w.name, "wave-3");
    assert_eq!(w.description.as_deref(), Some("CRM and billing"));
    // 2026-11-20T00:00:00Z is 1795132800; the end is one day later in another offset.
    assert_eq!(w.window, WindowSpec::Absolute(TimeWindow { start: 1_795_132_800, end: 1_795_219_200 }));
    assert_eq!(w.window.to_string(), "2026-11-20T00:00:00Z..2026-11-21T00:00:00Z");
    assert_eq!(w.aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(w.aws.external_id.as_deref(), Some("wave-3"));
    let nets = |v: &[IpNet]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    // On-premises networks outside `internal` become internal too.
    assert_eq!(nets(&w.networks.internal), ["10.0.0.0/8", "fd00::/8", "192.168.0.0/16"]);
    assert_eq!(nets(&w.networks.on_premises), ["192.168.0.0/16", "10.200.0.0/16"]);
    assert_eq!(w.log_groups, LogGroups { names: vec!["/vpc/flow-logs".into(), "vpc#prod_1.x".into()], discover: true });
    assert_eq!(w.ephemeral, EphemeralPolicy { from: 32768, to: 61000 });
    assert_eq!(
        w.query,
        QuerySettings {
            chunk_size: 10,
            max_in_flight: 5,
            row_limit: 5000,
            price_per_gb: 0.0,
            max_window: Duration::from_secs(2 * 86_400),
            deadline: Duration::from_secs(20 * 60)
        }
    );
    assert_eq!(w.one_way.iter().map(ToString::to_string).collect::<Vec<_>>(), ["udp/514", "tcp/9997"]);
    assert_eq!(w.ignore[0].network.to_string(), "192.168.99.10/32");
    assert_eq!(w.ignore[0].service, None);
    assert_eq!(w.ignore[1].service, Some(Service { protocol: proto::TCP, port: 445 }));
    assert_eq!(w.apps.len(), 2);
    assert_eq!(w.servers().count(), 3);
    let db = w.server_by_ip("fd00::8".parse().unwrap()).unwrap();
    assert_eq!((db.name.as_str(), db.app.as_str(), db.os), ("crm-db", "crm", Some(Os::WindowsLegacy)));
    let dc = w.server_by_ip("192.168.1.10".parse().unwrap()).unwrap();
    assert!(dc.on_premises);
    assert_eq!(dc.app, "billing");
    assert_eq!(
        w.expected_flows,
        [
            ExpectedFlow {
                src: Endpoint::Server("crm-web".into()),
                dst: Endpoint::Network("10.0.0.8/32".parse().unwrap()),
                protocol: proto::TCP,
                port: 1433
            },
            // An address of a wave server names the server.
            ExpectedFlow {
                src: Endpoint::Server("dc01".into()),
                dst: Endpoint::Network("10.0.0.0/24".parse().unwrap()),
                protocol: proto::ICMP,
                port: 0
            },
        ]
    );
}

#[test]
fn more_addresses_peer_limited_one_way_and_dependencies() {
    let text = r#"
one-way = ["udp/514", { service = "udp/162", peer = "172.20.9.30" }, { service = "tcp/6514", peer = "10.8.0.0/16" }, { service = "udp/2055" }]

[window]
last = "24h"

[log-groups]
names = ["/vpc/flow-logs"]

[networks]
internal = ["10.0.0.0/8", "2001:db8:1::/48"]
on-premises = ["192.168.0.0/16"]

[[apps]]
name = "crm"

[[apps.servers]]
name = "web"
ip = "10.0.0.6"
ips = ["10.0.0.17", "2001:db8:1:2::7"]

[[apps.servers]]
name = "db"
ip = "10.0.0.8"
ips = ["192.168.1.8"]

[[dependencies]]
name = "ad-dc-1"
ip = "192.168.10.5"
note = "Active Directory, stays on premises"

[[dependencies]]
name = "smtp-relay"
ip = "203.0.113.25"
note = " "

[[expected-flows]]
from = "2001:db8:1:2::7"
to = "ad-dc-1"
service = "tcp/389"

[[expected-flows]]
from = "smtp-relay"
to = "10.0.0.17"
service = "tcp/25"
"#;
    let w = try_load(text, None).unwrap();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let web = w.servers().next().unwrap();
    assert_eq!(web.ip, ip("10.0.0.6"));
    assert_eq!(web.ips, [ip("10.0.0.17"), ip("2001:db8:1:2::7")]);
    assert_eq!(web.addresses().collect::<Vec<_>>(), [ip("10.0.0.6"), ip("10.0.0.17"), ip("2001:db8:1:2::7")]);
    // On-premises networks count as internal for `ips` as for `ip`.
    assert_eq!(w.server_by_ip(ip("192.168.1.8")).map(|s| s.name.as_str()), Some("db"));
    assert_eq!(w.server_by_ip(ip("2001:db8:1:2::7")).map(|s| s.name.as_str()), Some("web"));
    assert_eq!(w.server_by_ip(ip("192.168.10.5")), None);
    let udp = |port| Service { protocol: proto::UDP, port };
    assert_eq!(
        w.one_way,
        [
            OneWay { service: udp(514), peer: None },
            // A bare address is a /32.
            OneWay { service: udp(162), peer: Some("172.20.9.30/32".parse().unwrap()) },
            OneWay {
                service: Service { protocol: proto::TCP, port: 6514 },
                peer: Some("10.8.0.0/16".parse().unwrap())
            },
            OneWay { service: udp(2055), peer: None },
        ]
    );
    assert_eq!(
        w.one_way.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["udp/514", "udp/162 with 172.20.9.30/32", "tcp/6514 with 10.8.0.0/16", "udp/2055"]
    );
    assert_eq!(
        w.dependencies,
        [
            Dependency {
                name: "ad-dc-1".into(),
                ip: ip("192.168.10.5"),
                note: Some("Active Directory, stays on premises".into())
            },
            // Outside every internal network is fine; a blank note is no note.
            Dependency { name: "smtp-relay".into(), ip: ip("203.0.113.25"), note: None },
        ]
    );
    assert_eq!(w.dependency_by_ip(ip("203.0.113.25")).map(|d| d.name.as_str()), Some("smtp-relay"));
    assert_eq!(w.dependency_by_ip(ip("10.0.0.6")), None);
    assert_eq!(
        w.expected_flows,
        [
            // Any address of a server names it; a dependency stands for its address.
            ExpectedFlow {
                src: Endpoint::Server("web".into()),
                dst: Endpoint::Network("192.168.10.5/32".parse().unwrap()),
                protocol: proto::TCP,
                port: 389
            },
            ExpectedFlow {
                src: Endpoint::Network("203.0.113.25/32".parse().unwrap()),
                dst: Endpoint::Server("web".into()),
                protocol: proto::TCP,
                port: 25
            },
        ]
    );
    // Without the new keys a server has no more addresses and the wave no dependencies.
    let w = try_load(BASE, None).unwrap();
    assert!(w.servers().all(|s| s.ips.is_empty()) && w.dependencies.is_empty());
}

#[test]
fn one_way_tables_in_defaults() {
    let defaults = "one-way = [{ service = \"udp/162\", peer = \"fd00::9\" }, \"udp/514\"]\n";
    let w = try_load(BASE, Some(defaults)).unwrap();
    assert_eq!(w.one_way.iter().map(ToString::to_string).collect::<Vec<_>>(), ["udp/162 with fd00::9/128", "udp/514"]);
    // Dependencies belong to one wave, like its apps.
    let e = try_load(BASE, Some("[[dependencies]]\nname = \"dc\"\nip = \"192.168.1.1\"\n")).unwrap_err();
    assert_eq!(
        (e.path.to_str(), e.line, e.key.as_str(), e.kind),
        (Some("waves/defaults.toml"), 1, "dependencies", K::UnknownKey)
    );
}

#[test]
fn files_source_resolves_against_the_base_directory() {
    let text = edit(
        "[log-groups]\nnames = [\"/vpc/flow-logs\"]\n",
        "[source]\nfiles = \"demo/flowlogs\"\ninventory = \"/abs/inv.json\"\n",
    );
    let w = try_load(&text, None).unwrap();
    assert_eq!(w.source, Source::Files { dir: "/repo/demo/flowlogs".into(), inventory: Some("/abs/inv.json".into()) });
    // A files source needs no log groups; `type = "files"` may be spelt out.
    let text = text.replace("[source]\n", "[source]\ntype = \"files\"\n");
    assert!(matches!(try_load(&text, None).unwrap().source, Source::Files { .. }));
    // Without `inventory` the servers resolve with EC2.
    let text = edit("[log-groups]\nnames = [\"/vpc/flow-logs\"]\n", "[source]\nfiles = \"demo/flowlogs\"\n");
    assert_eq!(
        try_load(&text, None).unwrap().source,
        Source::Files { dir: "/repo/demo/flowlogs".into(), inventory: None }
    );
}

#[test]
fn s3_source_names_the_bucket_and_prefix() {
    let text = edit("[log-groups]\nnames = [\"/vpc/flow-logs\"]\n", "[source]\ns3 = \"s3://central-flow-logs/vpc/\"\n");
    let location = S3Location { bucket: "central-flow-logs".into(), prefix: "vpc/".into() };
    assert_eq!(try_load(&text, None).unwrap().source, Source::S3 { location: location.clone(), inventory: None });
    let text = text.replace("[source]\n", "[source]\ntype = \"s3\"\ninventory = \"inv.json\"\n");
    assert_eq!(
        try_load(&text, None).unwrap().source,
        Source::S3 { location, inventory: Some("/repo/inv.json".into()) }
    );
}

#[test]
fn defaults_fill_in_key_by_key() {
    let defaults = r#"
one-way = ["udp/514"]

[aws]
region = "eu-west-1"
profile = "shared"

[networks]
on-premises = ["192.168.0.0/16"]

[log-groups]
discover = true

[ephemeral-ports]
from = 49152

[query]
max-in-flight = 3

[[ignore]]
network = "10.99.0.0/16"
reason = "monitoring"
"#;
    let text = format!("{BASE}\n[aws]\nprofile = \"mine\"\n\n[ephemeral-ports]\nto = 60000\n");
    let w = try_load(&text, Some(defaults)).unwrap();
    assert_eq!(w.aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(w.aws.profile.as_deref(), Some("mine"));
    assert_eq!(w.networks.on_premises, ["192.168.0.0/16".parse::<IpNet>().unwrap()]);
    assert_eq!(w.networks.internal, default_internal());
    // The wave's `names` and the defaults' `discover` are both kept.
    assert_eq!(w.log_groups, LogGroups { names: vec!["/vpc/flow-logs".into()], discover: true });
    assert_eq!(w.ephemeral, EphemeralPolicy { from: 49152, to: 60000 });
    assert_eq!(w.query.max_in_flight, 3);
    assert_eq!(w.query.chunk_size, 50);
    assert_eq!(w.one_way, [OneWay { service: Service { protocol: proto::UDP, port: 514 }, peer: None }]);
    assert_eq!(w.ignore.len(), 1);
    // A wave's array replaces the defaults' one whole.
    let text = format!("{BASE}\n[[ignore]]\nnetwork = \"10.1.0.0/16\"\nreason = \"x\"\n");
    let w = try_load(&text, Some(defaults)).unwrap();
    assert_eq!(w.ignore.iter().map(|r| r.network.to_string()).collect::<Vec<_>>(), ["10.1.0.0/16"]);
}

#[test]
fn errors_in_defaults_point_at_defaults() {
    let e = try_load(BASE, Some("[aws]\nregion = \"mars-1\"\n")).unwrap_err();
    assert_eq!(e.to_string(), "waves/defaults.toml:2:10: `aws.region`: invalid AWS region `mars-1`");
    // Wave-only keys are unknown in defaults.toml.
    let e = try_load(BASE, Some("[window]\nlast = \"1h\"\n")).unwrap_err();
    assert_eq!((e.path.to_str(), e.line, e.kind), (Some("waves/defaults.toml"), 1, K::UnknownKey));
    // A wave value that overrides a bad default does not hide it: the defaults file is
    // checked as it is read, so fixing it is never left for a later wave.
    let e = try_load(&format!("{BASE}[aws]\nregion = \"eu-west-1\"\n"), Some("[aws]\nregion = \"x\"\n")).unwrap_err();
    assert_eq!(e.path.to_str(), Some("waves/defaults.toml"));
}

#[test]
fn rejects() {
    // TOML syntax and shape.
    check("a = \n", "1:5 a Syntax: invalid TOML: string values must be quoted, expected literal string");
    check(
        &edit("last = \"24h\"", "last = 24h"),
        "3:8 window.last Syntax: invalid TOML: string values must be quoted, expected literal string",
    );
    check(
        &edit("[[apps.servers]]", "[[apps.servers]"),
        "11:16 apps.servers Syntax: invalid TOML: unclosed array table, expected `]`",
    );
    check(&format!("{BASE}regoin = 1\n"), "14:1 apps[0].servers[0].regoin UnknownKey: unknown key `regoin`");
    check(&format!("[aws]\nregoin = \"x\"\n{BASE}"), "2:1 aws.regoin UnknownKey: unknown key `regoin`");
    check(&edit("ip = \"10.0.0.6\"\n", ""), "11:1 apps[0].servers[0].ip Missing: missing key `ip`");
    check(&edit("name = \"crm\"", "name = 3"), "9:8 apps[0].name WrongType: wrong type: found integer `3`");
    check(&edit("last = \"24h\"", "last = 24"), "3:8 window.last WrongType: wrong type: found integer `24`");
    // Names.
    check(&format!("name = \"wave 3\"\n{BASE}"), "1:8 name Invalid: invalid wave name \"wave 3\"");
    check(
        &edit("name = \"web\"", "name = \"10.0.0.6\""),
        "12:8 apps[0].servers[0].name Invalid: invalid server name \"10.0.0.6\"",
    );
    check(&edit("name = \"crm\"", "name = \"\""), "9:8 apps[0].name Invalid: invalid app name \"\"");
    // Addresses and networks.
    check(
        &edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.300\""),
        "13:6 apps[0].servers[0].ip Invalid: invalid IP address \"10.0.0.300\"",
    );
    check(
        &edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.6/32\""),
        "13:6 apps[0].servers[0].ip Invalid: invalid IP address \"10.0.0.6/32\"",
    );
    check(
        &edit("ip = \"10.0.0.6\"", "ip = \"8.8.8.8\""),
        "13:6 apps[0].servers[0].ip Invalid: 8.8.8.8 is outside every internal network",
    );
    check(
        &format!("[networks]\ninternal = [\"10.0.0.0/33\"]\n{BASE}"),
        "2:13 networks.internal[0] Invalid: invalid network \"10.0.0.0/33\"",
    );
    check(
        &format!("[networks]\ninternal = [\"10.0.0.1/8\"]\n{BASE}"),
        "2:13 networks.internal[0] Invalid: 10.0.0.1/8 has host bits set",
    );
    check(&format!("[networks]\ninternal = []\n{BASE}"), "2:12 networks.internal Invalid: no internal networks");
    check(
        &format!("[networks]\non-premises = [\"10.0.0.0/8\", \"bogus\"]\n{BASE}"),
        "2:30 networks.on-premises[1] Invalid: invalid network \"bogus\"",
    );
    // Two halves of the internet are not a data centre.
    check(
        &format!("[networks]\non-premises = [\"0.0.0.0/1\", \"128.0.0.0/1\"]\n{BASE}"),
        "2:16 networks.on-premises[0] Invalid: 0.0.0.0/1 is too wide for an on-premises network",
    );
    check(
        &format!("[networks]\non-premises = [\"2001:db8::/32\", \"2000::/3\"]\n{BASE}"),
        "2:33 networks.on-premises[1] Invalid: 2000::/3 is too wide for an on-premises network",
    );
    // Duplicates, within an app and across apps.
    let second = "\n[[apps.servers]]\nname = \"app\"\nip = \"10.0.0.7\"\n";
    check(
        &format!("{BASE}{second}").replacen("\"app\"", "\"web\"", 1),
        "16:8 apps[0].servers[1].name Duplicate: two servers named `web`",
    );
    check(
        &format!("{BASE}{second}").replacen("10.0.0.7", "10.0.0.6", 1),
        "17:6 apps[0].servers[1].ip Duplicate: two servers with address 10.0.0.6",
    );
    let other_app = "\n[[apps]]\nname = \"billing\"\n\n[[apps.servers]]\nname = \"bill\"\nip = \"10.0.0.9\"\n";
    check(
        &format!("{BASE}{other_app}").replacen("\"bill\"", "\"web\"", 1),
        "19:8 apps[1].servers[0].name Duplicate: two servers named `web`",
    );
    check(
        &format!("{BASE}{other_app}").replacen("10.0.0.9", "10.0.0.6", 1),
        "20:6 apps[1].servers[0].ip Duplicate: two servers with address 10.0.0.6",
    );
    check(
        &format!("{BASE}{other_app}").replacen("\"billing\"", "\"crm\"", 1),
        "16:8 apps[1].name Duplicate: two apps named `crm`",
    );
    check(
        &format!("{BASE}{other_app}").replacen("10.0.0.9", "10.0.0.06", 1),
        "20:6 apps[1].servers[0].ip Invalid: invalid IP address \"10.0.0.06\"",
    );
    // Apps and servers.
    check("[window]\nlast = \"1h\"\n[log-groups]\ndiscover = true\n", "1:1 apps Missing: a wave without apps");
    check("apps = []\n[window]\nlast = \"1h\"\n[log-groups]\ndiscover = true\n", "1:8 apps Missing: empty apps list");
    check(
        &edit("\n[[apps.servers]]\nname = \"web\"\nip = \"10.0.0.6\"\n", ""),
        "8:1 apps[0] Missing: app `crm` has no servers",
    );
    check(
        &edit("[[apps.servers]]\nname = \"web\"\nip = \"10.0.0.6\"\n", "servers = []\n"),
        "11:11 apps[0].servers Missing: app `crm` has no servers",
    );
    check(
        &edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.6\"\ninstance-id = \"i-123\""),
        "14:15 apps[0].servers[0].instance-id Invalid: invalid instance id \"i-123\"",
    );
    check(
        &edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.6\"\nos = \"solaris\""),
        "14:6 apps[0].servers[0].os Invalid: unknown os `solaris`",
    );
    // Windows.
    check(&edit("[window]\nlast = \"24h\"\n", ""), "1:1 window Missing: missing [window]");
    check(
        &edit("last = \"24h\"", "last = \"2 hourz\""),
        "3:8 window.last Invalid: invalid duration \"2 hourz\": unknown time unit \"hourz\"",
    );
    check(&edit("last = \"24h\"", "last = \"0s\""), "3:8 window.last Invalid: zero-length duration");
    check(
        &edit("last = \"24h\"", "last = \"32d\""),
        "3:8 window.last Invalid: window of 32d is longer than the maximum of 31d",
    );
    check(
        &edit("last = \"24h\"", "last = \"1h\"\nstart = \"2026-11-20T00:00:00Z\""),
        "4:9 window.start Conflict: `last` together with `start`/`end`",
    );
    check(&edit("last = \"24h\"", "start = \"2026-11-20T00:00:00Z\""), "2:1 window Missing: `start` without `end`");
    check(
        &edit("last = \"24h\"", "start = 2026-11-20T00:00:00Z\nend = 2026-11-20T00:00:00Z"),
        "4:7 window.end Invalid: the window is empty: `end` is the same instant as `start`",
    );
    check(
        &edit("last = \"24h\"", "start = 2026-11-20T00:00:00Z\nend = 2026-11-19T00:00:00Z"),
        "4:7 window.end Invalid: the window ends before it starts",
    );
    check(
        &edit("last = \"24h\"", "start = 2026-11-20\nend = 2026-11-21T00:00:00Z"),
        "3:9 window.start Invalid: `2026-11-20` is a date without a time or UTC offset",
    );
    check(
        &edit("last = \"24h\"", "start = 2026-11-20T00:00:00Z\nend = 2026-12-30T00:00:00Z"),
        "4:7 window.end Invalid: window of 40d is longer than the maximum of 31d",
    );
    check(
        &format!("[query]\nmax-window = \"1d\"\n{}", edit("last = \"24h\"", "last = \"25h\"")),
        "5:8 window.last Invalid: window of 1d1h is longer than the maximum of 1d",
    );
    check(
        &edit("last = \"24h\"", "start = 2026-11-20T00:00:00\nend = 2026-11-21T00:00:00Z"),
        "3:9 window.start Invalid: `2026-11-20T00:00:00` has no UTC offset",
    );
    check(
        &edit("last = \"24h\"", "start = \"20 Nov 2026\"\nend = 2026-11-21T00:00:00Z"),
        "3:9 window.start Invalid: invalid time \"20 Nov 2026\": premature end of input",
    );
    // Log groups.
    check(
        &edit("/vpc/flow-logs", "/vpc/flow logs"),
        "6:10 log-groups.names[0] Invalid: invalid log group name \"/vpc/flow logs\": it has characters AWS does not allow",
    );
    check(
        &edit("\"/vpc/flow-logs\"", "\"\""),
        "6:10 log-groups.names[0] Invalid: invalid log group name \"\": it is empty",
    );
    let long = "a".repeat(513);
    check(
        &edit("/vpc/flow-logs", &long),
        &format!(
            "6:10 log-groups.names[0] Invalid: invalid log group name \"{long}\": it is longer than 512 characters"
        ),
    );
    check(
        &edit("names = [\"/vpc/flow-logs\"]", "names = [\"/a\", \"/a\"]"),
        "6:16 log-groups.names[1] Duplicate: log group `/a` is listed twice",
    );
    check(&edit("names = [\"/vpc/flow-logs\"]", "names = []"), "5:1 log-groups Missing: no log groups to query");
    check(&edit("[log-groups]\nnames = [\"/vpc/flow-logs\"]\n", ""), "1:1 log-groups Missing: no log groups to query");
    // Sources.
    check(&format!("source = \"athena\"\n{BASE}"), "1:10 source Invalid: unknown source `athena`");
    check(&format!("source = \"s3\"\n{BASE}"), "1:10 source Invalid: a s3 source needs to say where the flow logs are");
    check(
        &format!("[source]\ntype = \"cloudwatch\"\nfiles = \"x\"\n{BASE}"),
        "3:9 source.files Conflict: more than one source: `type = \"cloudwatch\"` and `files`",
    );
    check(
        &format!("[source]\ntype = \"cloudwatch\"\ns3 = \"s3://b-1/x\"\n{BASE}"),
        "3:6 source.s3 Conflict: more than one source: `type = \"cloudwatch\"` and `s3`",
    );
    check(&format!("[source]\ntype = \"athena\"\n{BASE}"), "2:8 source.type Invalid: unknown source type `athena`");
    check(
        &format!("[source]\nfiles = \"x\"\ns3 = \"s3://b-1/x\"\n{BASE}"),
        "3:6 source.s3 Conflict: more than one source: `files` and `s3`",
    );
    check(
        &format!("[source]\ntype = \"files\"\ns3 = \"s3://b-1/x\"\n{BASE}"),
        "2:8 source.type Conflict: `type = \"files\"` with `s3`",
    );
    check(
        &format!("[source]\ns3 = \"https://b-1/x\"\n{BASE}"),
        "2:6 source.s3 Invalid: `https://b-1/x` is not an S3 URL (it starts with `s3://`)",
    );
    check(
        &format!("[source]\ns3 = \"s3://B_1/x\"\n{BASE}"),
        "2:6 source.s3 Invalid: `B_1` is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens)",
    );
    check(
        &format!("[source]\ninventory = \"x\"\n{BASE}"),
        "1:1 source Missing: a [source] table without `files` or `s3`",
    );
    check(&format!("[source]\nfiles = \"\"\ninventory = \"i.json\"\n{BASE}"), "2:9 source.files Invalid: empty path");
    // AWS settings.
    check(&format!("[aws]\nregion = \"eu-west\"\n{BASE}"), "2:10 aws.region Invalid: invalid AWS region `eu-west`");
    check(
        &format!("[aws]\nregion = \"Europe (Ireland)\"\n{BASE}"),
        "2:10 aws.region Invalid: invalid AWS region `Europe (Ireland)`",
    );
    check(
        &format!("[aws]\nprofile = \"my profile\"\n{BASE}"),
        "2:11 aws.profile Invalid: invalid profile name \"my profile\"",
    );
    check(
        &format!("[aws]\nassume-role-arn = \"arn:aws:iam::12345:role/X\"\n{BASE}"),
        "2:19 aws.assume-role-arn Invalid: invalid role ARN `arn:aws:iam::12345:role/X`",
    );
    check(
        &format!("[aws]\nassume-role-arn = \"arn:aws:iam::123456789012:user/X\"\n{BASE}"),
        "2:19 aws.assume-role-arn Invalid: invalid role ARN `arn:aws:iam::123456789012:user/X`",
    );
    check(
        &format!("[aws]\nexternal-id = \"abc\"\n{BASE}"),
        "2:15 aws.external-id Conflict: external-id without assume-role-arn",
    );
    // Ports and protocols.
    check(&format!("one-way = [\"udp/70000\"]\n{BASE}"), "1:12 one-way[0] Invalid: port 70000 is out of range");
    check(&format!("one-way = [\"udp/0\"]\n{BASE}"), "1:12 one-way[0] Invalid: port 0 is out of range");
    check(
        &format!("one-way = [\"udp/1-100\"]\n{BASE}"),
        "1:12 one-way[0] Invalid: invalid port `1-100` in \"udp/1-100\"",
    );
    check(&format!("one-way = [\"http/80\"]\n{BASE}"), "1:12 one-way[0] Invalid: unknown protocol `http`");
    check(&format!("one-way = [\"tcp\"]\n{BASE}"), "1:12 one-way[0] Invalid: `tcp` needs a port");
    check(&format!("one-way = [\"icmp/8\"]\n{BASE}"), "1:12 one-way[0] Invalid: `icmp` has no ports");
    check(
        &format!("[ephemeral-ports]\nfrom = 70000\n{BASE}"),
        "2:8 ephemeral-ports.from Invalid: port 70000 is out of range",
    );
    check(
        &format!("[ephemeral-ports]\nfrom = 5000\nto = 1025\n{BASE}"),
        "3:6 ephemeral-ports.to Invalid: ephemeral range 5000-1025 is empty",
    );
    // Query settings.
    check(&format!("[query]\nchunk-size = 51\n{BASE}"), "2:14 query.chunk-size Invalid: chunk-size 51 is out of range");
    check(
        &format!("[query]\nmax-in-flight = 0\n{BASE}"),
        "2:17 query.max-in-flight Invalid: max-in-flight 0 is out of range",
    );
    check(
        &format!("[query]\nprice-per-gb = -1.0\n{BASE}"),
        "2:16 query.price-per-gb Invalid: price-per-gb -1 is not a price",
    );
    // Ignore rules.
    check(
        &format!("{BASE}\n[[ignore]]\nnetwork = \"10.0.0.0/8\"\nreason = \"\"\n"),
        "17:10 ignore[0].reason Invalid: empty reason",
    );
    check(
        &format!("{BASE}\n[[ignore]]\nnetwork = \"10.0.0.0/8\"\nservice = \"tcp/99999\"\nreason = \"x\"\n"),
        "17:11 ignore[0].service Invalid: port 99999 is out of range",
    );
    // Expected flows.
    let flow = |from: &str, to: &str, service: &str| {
        format!("{BASE}\n[[expected-flows]]\nfrom = \"{from}\"\nto = \"{to}\"\nservice = \"{service}\"\n")
    };
    check(&flow("wbe", "10.0.0.8", "tcp/80"), "16:8 expected-flows[0].from Invalid: unknown server `wbe`");
    check(&flow("web", "10.0.0.0/33", "tcp/80"), "17:6 expected-flows[0].to Invalid: invalid network \"10.0.0.0/33\"");
    check(
        &flow("10.0.0.0/8", "10.0.0.9", "tcp/80"),
        "15:1 expected-flows[0] Invalid: an expected flow between two networks",
    );
    check(&flow("web", "10.0.0.8", "tcp/65536"), "18:11 expected-flows[0].service Invalid: port 65536 is out of range");
    check(&flow("web", "10.0.0.8", "gre"), "18:11 expected-flows[0].service Invalid: unknown protocol `gre`");
}

#[test]
fn rejects_new_keys() {
    // `ips`.
    let ips = |list: &str| edit("ip = \"10.0.0.6\"", &format!("ip = \"10.0.0.6\"\nips = {list}"));
    check(&ips("[\"10.0.0.6/32\"]"), "14:8 apps[0].servers[0].ips[0] Invalid: invalid IP address \"10.0.0.6/32\"");
    check(&ips("[\"10.0.0.6\"]"), "14:8 apps[0].servers[0].ips[0] Duplicate: `ips` repeats the server's `ip` 10.0.0.6");
    check(
        &ips("[\"10.0.0.16\", \"10.0.0.16\"]"),
        "14:21 apps[0].servers[0].ips[1] Duplicate: 10.0.0.16 is listed twice in `ips`",
    );
    check(&ips("[\"8.8.8.8\"]"), "14:8 apps[0].servers[0].ips[0] Invalid: 8.8.8.8 is outside every internal network");
    check(&ips("\"10.0.0.16\""), "14:7 apps[0].servers[0].ips WrongType: wrong type: found string \"10.0.0.16\"");
    // Another server's `ip` equal to an address in `ips`, and the other way round.
    let second = "\n[[apps.servers]]\nname = \"app\"\nip = \"10.0.0.7\"\n";
    check(
        &format!("{}{second}", ips("[\"10.0.0.7\"]")),
        "18:6 apps[0].servers[1].ip Duplicate: two servers with address 10.0.0.7",
    );
    check(
        &format!("{BASE}{second}ips = [\"10.0.0.6\"]\n"),
        "18:8 apps[0].servers[1].ips[0] Duplicate: two servers with address 10.0.0.6",
    );
    // `one-way` tables.
    let one_way = |entry: &str| format!("one-way = [\"udp/514\", {entry}]\n{BASE}");
    check(
        &one_way("{ service = \"udp/162\", peer = \"10.0.0.1/8\" }"),
        "1:53 one-way[1].peer Invalid: 10.0.0.1/8 has host bits set",
    );
    check(&one_way("{ service = \"udp/16x\" }"), "1:35 one-way[1].service Invalid: invalid port `16x` in \"udp/16x\"");
    check(&one_way("{ peer = \"10.0.0.1\" }"), "1:23 one-way[1].service Missing: missing key `service`");
    check(
        &one_way("{ service = \"udp/162\", peeer = \"10.0.0.1\" }"),
        "1:46 one-way[1].peeer UnknownKey: unknown key `peeer`",
    );
    check(&one_way("514"), "1:23 one-way[1] WrongType: wrong type: found integer `514`");
    let e = try_load(&one_way("514"), None).unwrap_err();
    assert_eq!(e.expected.as_deref(), Some("a service such as \"udp/514\", or a table with `service` and `peer`"));
    let e = try_load(&one_way("{ service = \"udp/162\", peeer = \"10.0.0.1\" }"), None).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("did you mean `peer`?"));
    // `[[dependencies]]`.
    let dep = |name: &str, ip: &str| format!("\n[[dependencies]]\nname = \"{name}\"\nip = \"{ip}\"\n");
    check(
        &format!("{BASE}{}", dep("dc 1", "192.168.1.1")),
        "16:8 dependencies[0].name Invalid: invalid dependency name \"dc 1\"",
    );
    check(
        &format!("{BASE}{}", dep("192.168.1.1", "192.168.1.1")),
        "16:8 dependencies[0].name Invalid: invalid dependency name \"192.168.1.1\"",
    );
    check(
        &format!("{BASE}{}", dep("web", "192.168.1.1")),
        "16:8 dependencies[0].name Duplicate: `web` is a server of the wave already",
    );
    check(
        &format!("{BASE}{}{}", dep("dc", "192.168.1.1"), dep("dc", "192.168.1.2")),
        "20:8 dependencies[1].name Duplicate: two dependencies named `dc`",
    );
    check(
        &format!("{BASE}{}", dep("dc", "192.168.1.300")),
        "17:6 dependencies[0].ip Invalid: invalid IP address \"192.168.1.300\"",
    );
    check(
        &format!("{BASE}{}", dep("dc", "10.0.0.6")),
        "17:6 dependencies[0].ip Duplicate: 10.0.0.6 is an address of a server of the wave",
    );
    check(
        &format!("{}{}", ips("[\"10.0.0.16\"]"), dep("dc", "10.0.0.16")),
        "18:6 dependencies[0].ip Duplicate: 10.0.0.16 is an address of a server of the wave",
    );
    check(
        &format!("{BASE}{}{}", dep("dc", "192.168.1.1"), dep("dc2", "192.168.1.1")),
        "21:6 dependencies[1].ip Duplicate: two dependencies with address 192.168.1.1",
    );
    check(&format!("{BASE}\n[[dependencies]]\nname = \"dc\"\n"), "15:1 dependencies[0].ip Missing: missing key `ip`");
    check(
        &format!("{BASE}{}note = 3\n", dep("dc", "192.168.1.1")),
        "18:8 dependencies[0].note WrongType: wrong type: found integer `3`",
    );
    check(
        &format!("{BASE}{}role = \"dc\"\n", dep("dc", "192.168.1.1")),
        "18:1 dependencies[0].role UnknownKey: unknown key `role`",
    );
    // Expected flows: a dependency is a network end, so a server is still needed.
    let flow = |from: &str, to: &str| {
        format!(
            "{BASE}{}{}\n[[expected-flows]]\nfrom = \"{from}\"\nto = \"{to}\"\nservice = \"tcp/389\"\n",
            dep("dc", "192.168.1.1"),
            dep("dc2", "192.168.1.2")
        )
    };
    check(&flow("dc", "dc2"), "23:1 expected-flows[0] Invalid: an expected flow between two networks");
    check(&flow("web", "dcc"), "25:6 expected-flows[0].to Invalid: unknown server `dcc`");
    let e = try_load(&flow("web", "dcc"), None).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("did you mean `dc`?"));
    let e = try_load(&flow("web", "zzzzzzzz"), None).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("the wave's servers are: web; its dependencies: dc, dc2"));
    assert_eq!(e.expected.as_deref(), Some("a server or dependency name of this wave, an IP address or a CIDR"));
}

#[test]
fn a_mistake_in_the_dependencies_is_reported_with_one_in_the_apps() {
    let text = format!(
        "{}\n[[dependencies]]\nname = \"dc\"\nip = \"192.168.1.300\"\n",
        edit("ip = \"10.0.0.6\"", "ip = \"10.0.0.300\"")
    );
    let e = try_load(&text, None).unwrap_err();
    assert_eq!(e.key, "apps[0].servers[0].ip");
    assert_eq!(e.more().iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["dependencies[0].ip"]);
}

#[test]
fn unknown_keys_suggest_the_closest() {
    let e = try_load(&format!("[aws]\nregoin = \"x\"\n{BASE}"), None).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("did you mean `region`?"));
    assert_eq!(e.expected.as_deref(), Some("one of `region`, `profile`, `assume-role-arn`, `external-id`"));
    let e = try_load(&format!("zzzz = 1\n{BASE}"), None).unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("remove it, or see the wave file reference in README.md"));
}

#[test]
fn value_parsers() {
    for ok in [
        "us-east-1",
        "eu-west-1",
        "us-gov-west-1",
        "cn-northwest-1",
        "ap-southeast-4",
        "us-isob-east-1",
        "il-central-1",
    ] {
        assert!(crate::wave::is_region_name(ok), "{ok}");
    }
    for bad in
        ["", "us-east", "useast-1", "US-EAST-1", "us-esat-1", "us-east-1a", "us-east-100", "u-east-1", "us-foo-east-1"]
    {
        assert!(!crate::wave::is_region_name(bad), "{bad}");
    }
    for ok in [
        "arn:aws:iam::123456789012:role/R",
        "arn:aws-cn:iam::123456789012:role/path/to/R+=,.@_-",
        "arn:aws-us-gov:iam::123456789012:role/R",
    ] {
        assert!(is_role_arn(ok), "{ok}");
    }
    for bad in [
        "",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role//R",
        "arn:aws:iam:us-east-1:123456789012:role/R",
        "arn:aws:sts::123456789012:role/R",
        "arn:azure:iam::123456789012:role/R",
        "arn:aws:iam::12345678901a:role/R",
        "arn:aws:iam::123456789012:role/R S",
    ] {
        assert!(!is_role_arn(bad), "{bad}");
    }
    assert!(is_instance_id("i-0abc123def4567890") && is_instance_id("i-0abc1234"));
    assert!(!is_instance_id("i-0ABC1234") && !is_instance_id("i-0abc123") && !is_instance_id("0abc1234"));
    assert_eq!(format_secs(90 * 60), "1h30m");
    assert_eq!(format_secs(86_400 + 1), "1d1s");
    assert_eq!(edit_distance("regoin", "region"), 2);
    assert_eq!(edit_distance("", "abc"), 3);
}

const ACCOUNTS: &str = r#"
[window]
last = "24h"

[aws]
region = "eu-west-1"
profile = "landing-zone"

[log-groups]
discover = true

[[accounts]]
id = "111122223333"
name = "prod"
assume-role-arn = "arn:aws:iam::111122223333:role/WavegapRead"
external-id = "wave-7"
log-groups = ["/vpc/prod"]

[[accounts]]
id = "444455556666"
region = "eu-central-1"
discover = false

[[apps]]
name = "crm"
account = "prod"

[[apps.servers]]
name = "web"
ip = "10.0.0.6"

[[apps.servers]]
name = "db"
ip = "10.1.0.6"
account = "444455556666"

[[apps]]
name = "erp"

[[apps.servers]]
name = "erp01"
ip = "10.2.0.6"
"#;

#[test]
fn accounts_keep_their_region_role_and_log_groups() {
    let w = try_load(ACCOUNTS, None).unwrap();
    let [prod, other] = &w.accounts[..] else { panic!("{:?}", w.accounts) };
    assert_eq!(prod.label(), "prod (111122223333)");
    assert_eq!(prod.log_groups, LogGroups { names: vec!["/vpc/prod".into()], discover: true }, "the wave's discover");
    assert_eq!(other.log_groups, LogGroups { names: vec![], discover: false });
    assert_eq!(other.label(), "444455556666");
    assert_eq!(
        (prod.region.as_deref(), prod.assume_role_arn.as_deref(), prod.external_id.as_deref()),
        (None, Some("arn:aws:iam::111122223333:role/WavegapRead"), Some("wave-7"))
    );
    assert_eq!((other.region.as_deref(), other.assume_role_arn.as_deref()), (Some("eu-central-1"), None));
    // Per app, per server over it, and none where the wave does not say.
    let accounts: Vec<(&str, Option<&str>)> = w.servers().map(|s| (s.name.as_str(), s.account.as_deref())).collect();
    assert_eq!(accounts, [("web", Some("111122223333")), ("db", Some("444455556666")), ("erp01", None)]);
}

#[test]
fn a_cloudwatch_wave_may_take_all_its_log_groups_from_its_accounts() {
    let text = ACCOUNTS.replace("[log-groups]\ndiscover = true\n", "");
    let w = try_load(&text, None).unwrap();
    assert!(w.log_groups.names.is_empty() && !w.log_groups.discover);
    assert_eq!(w.accounts[0].log_groups.names, ["/vpc/prod"]);
    // No account lists or discovers any either: nothing to query.
    let none = text.replace("log-groups = [\"/vpc/prod\"]\n", "");
    assert_eq!(try_load(&none, None).unwrap_err().message, "no log groups to query");
}

#[test]
fn account_mistakes_are_named_at_their_key() {
    check(
        &ACCOUNTS.replace("id = \"111122223333\"", "id = \"1111-2222-3333\""),
        "13:6 accounts[0].id Invalid: invalid account id \"1111-2222-3333\"",
    );
    check(
        &ACCOUNTS.replace("id = \"444455556666\"", "id = \"111122223333\""),
        "20:6 accounts[1].id Duplicate: account 111122223333 is listed twice",
    );
    check(
        &ACCOUNTS.replace("role/WavegapRead", "role/x").replace("iam::111122223333", "iam::999999999999"),
        "15:19 accounts[0].assume-role-arn Conflict: the role is in account 999999999999, not in 111122223333",
    );
    check(
        &ACCOUNTS.replace("region = \"eu-central-1\"", "region = \"frankfurt\""),
        "21:10 accounts[1].region Invalid: invalid AWS region `frankfurt`",
    );
    check(
        &ACCOUNTS.replace("assume-role-arn = \"arn:aws:iam::111122223333:role/WavegapRead\"\n", ""),
        "15:15 accounts[0].external-id Conflict: external-id without assume-role-arn",
    );
    check(
        &ACCOUNTS.replace("log-groups = [\"/vpc/prod\"]", "log-groups = [\"/vpc/prod\", \"/vpc/prod\"]"),
        "17:28 accounts[0].log-groups[1] Duplicate: log group `/vpc/prod` is listed twice",
    );
    let e = try_load(&ACCOUNTS.replace("account = \"prod\"", "account = \"prdo\""), None).unwrap_err();
    assert_eq!(e.message, "account `prdo` is not among the wave's accounts");
    assert_eq!(e.key, "apps[0].account");
    assert_eq!(e.hint.as_deref(), Some("did you mean `prod`?"));
    // `account` in a wave without `[[accounts]]`.
    let e = try_load(&edit("name = \"crm\"", "name = \"crm\"\naccount = \"prod\""), None).unwrap_err();
    assert_eq!(e.key, "apps[0].account");
    assert!(e.hint.as_deref().unwrap_or_default().contains("[[accounts]]"), "{e:?}");
}
