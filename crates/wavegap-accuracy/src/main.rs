//! The accuracy harness: runs wavegap's analysis on data sets from the bench generator
//! (`shared/bench/gen_flowlogs.py`) and scores it against the generator's ground truth.
//!
//! The pipeline is the real one: the truth's EC2-shaped inventory goes through the resolver's
//! snapshot loader, the flow-log objects through the runner's files source (the plan's query,
//! the same text that goes to CloudWatch, run by `wavegap_runner::local` and turned into
//! `FlowData` by the runner's row aggregation, as `wavegap report` does), then
//! `wavegap_core::analyze`. Measures, each as recall and precision:
//!
//! - **rejected**: the truth's internal REJECT tuples (faults) found as rejected findings;
//!   findings that match no REJECT of the truth are false positives.
//! - **culprit**: the layer (hop and resource) that the truth's fault names, among the
//!   finding's culprits; a culprit no fault explains is a false positive.
//! - **proposals**: a fault counts as fixed when, with every proposal applied, all its
//!   conversations pass; a proposal counts as right when it fixes a fault's finding and opens
//!   nothing the intended configuration (faults undone) keeps closed, probed hop by hop.
//! - **unanswered**: flows the on-premises firewall dropped, found as unanswered findings.
//!
//! Development tool, not shipped: it shells out to Python and reads files as it likes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use ipnet::IpNet;
use serde_json::Value;
use wavegap_core::analyze::{AnalysisOptions, analyze, ephemeral_range};
use wavegap_core::eval::{Evaluator, FlowSpec, Outcome};
use wavegap_core::findings::{Analysis, Hop, Leg, RuleChange};
use wavegap_core::flow::{FlowData, TimeWindow};
use wavegap_core::inventory::{IcmpMatch, Inventory, NaclEntry, Os, PortMatch, PortRange, Protocol, SgPeer, SgRule};
use wavegap_core::propose::apply;
use wavegap_core::wave::{
    App, AwsSettings, EphemeralPolicy, IgnoreRule, LogGroups, Networks, QuerySettings, Server, Source, WaveConfig,
    WindowSpec,
};
use wavegap_runner::files;
use wavegap_runner::plan::{Objects, PlanOptions, QueryPlan};
use wavegap_runner::progress::Silent;

/// Score wavegap's analysis against the bench generator's ground truth.
#[derive(Debug, Parser)]
struct Args {
    /// Seeds to generate and score
    #[arg(long, value_delimiter = ',', default_values_t = [11u64, 12, 13, 14, 15])]
    seeds: Vec<u64>,
    /// Score this many fresh seeds (picked from the clock) instead of --seeds
    #[arg(long)]
    fresh: Option<u64>,
    /// Data sets per seed: small (v2), v5 (tcp-flags, flow-direction), medium, demo
    #[arg(long, value_delimiter = ',', default_values_t = ["small".to_owned(), "v5".to_owned(), "medium".to_owned(), "demo".to_owned()])]
    sets: Vec<String>,
    /// Where generated data goes
    #[arg(long, default_value = "target/accuracy")]
    data: PathBuf,
    /// The generator
    #[arg(long, default_value = "../shared/bench/gen_flowlogs.py")]
    generator: PathBuf,
    /// Print every miss and false positive
    #[arg(long)]
    verbose: bool,
}

fn set_args(set: &str, seed: u64) -> Result<Vec<String>> {
    let mut a: Vec<String> = match set {
        "small" => vec!["--scale", "small"],
        "v5" => vec!["--scale", "small", "--fields", "v5"],
        "medium" => vec!["--apps", "24", "--vpcs", "3", "--hours", "3", "--flows-per-hour", "12000", "--fields", "v5"],
        "demo" => vec!["--demo"],
        other => bail!("unknown data set {other:?} (small, v5, medium, demo)"),
    }
    .into_iter()
    .map(String::from)
    .collect();
    a.extend(["--seed".to_owned(), seed.to_string(), "--jobs".to_owned(), "1".to_owned()]);
    Ok(a)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<bool> {
    let mut all_ok = true;
    let seeds: Vec<u64> = match args.fresh {
        Some(n) => {
            let base = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() % 1_000_000;
            (0..n).map(|i| base * 10 + i).collect()
        }
        None => args.seeds.clone(),
    };
    for seed in &seeds {
        for set in &args.sets {
            let dir = args.data.join(format!("{set}-{seed}"));
            generate(&args.generator, &dir, &set_args(set, *seed)?)?;
            let started = Instant::now();
            let score = score_one(&dir, args.verbose).with_context(|| format!("scoring {}", dir.display()))?;
            let elapsed = started.elapsed();
            for m in &score {
                all_ok &= m.ok();
                let line = format!(
                    "seed {seed:>8} {set:<6} {:<10} recall {:>6.2}% ({}/{})  precision {:>6.2}% ({}/{}){}",
                    m.name,
                    pct(m.found, m.expected),
                    m.found,
                    m.expected,
                    pct(m.correct, m.reported),
                    m.correct,
                    m.reported,
                    if m.ok() { "" } else { "  BELOW TARGET" }
                );
                say(&line);
            }
            eprintln!("  ({set}-{seed}: analysed in {:.2} s)", elapsed.as_secs_f64());
        }
    }
    say(if all_ok { "accuracy: every seed meets 100% recall and >= 98% precision" } else { "accuracy: BELOW TARGET" });
    Ok(all_ok)
}

#[allow(clippy::print_stdout)]
fn say(line: &str) {
    println!("{line}");
}

#[allow(clippy::cast_precision_loss)]
fn pct(n: usize, d: usize) -> f64 {
    if d == 0 { 100.0 } else { 100.0 * n as f64 / d as f64 }
}

struct Measure {
    name: &'static str,
    expected: usize,
    found: usize,
    reported: usize,
    correct: usize,
}

impl Measure {
    fn ok(&self) -> bool {
        self.found == self.expected && (self.reported == 0 || self.correct * 100 >= self.reported * 98)
    }
}

fn generate(generator: &Path, dir: &Path, args: &[String]) -> Result<()> {
    let stamp = dir.join("generator-args.txt");
    let want = args.join(" ");
    if dir.join("truth.json").exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        return Ok(());
    }
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    fs::create_dir_all(dir)?;
    let status = Command::new("python3")
        .arg(generator)
        .arg("--out")
        .arg(dir)
        .arg("--truth")
        .arg(dir.join("truth.json"))
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .with_context(|| format!("running {}", generator.display()))?;
    if !status.success() {
        bail!("{} {want} failed", generator.display());
    }
    fs::write(stamp, want)?;
    Ok(())
}

fn ip(v: &Value) -> Result<IpAddr> {
    v.as_str().context("expected a string")?.parse().context("expected an IP address")
}

/// The wave the harness analyses: every app's servers, the truth's on-premises networks, and
/// the ignore list an operator of this environment would write (scanner, SCCM, quarantine).
fn wave_for(truth: &Value, window: TimeWindow) -> Result<WaveConfig> {
    let mut apps = Vec::new();
    for app in truth["apps"].as_array().context("apps")? {
        let name = app["name"].as_str().context("app name")?.to_owned();
        let mut servers = Vec::new();
        for s in app["servers"].as_array().context("servers")? {
            servers.push(Server {
                name: s["name"].as_str().context("server name")?.to_owned(),
                app: name.clone(),
                ip: ip(&s["ip"])?,
                ips: Vec::new(),
                instance_id: s["instance"].as_str().map(String::from),
                role: s["role"].as_str().map(String::from),
                os: match s["os"].as_str() {
                    Some("windows") => Some(Os::Windows),
                    Some("linux") => Some(Os::Linux),
                    _ => None,
                },
                on_premises: false,
                account: None,
            });
        }
        apps.push(App { name, description: None, servers });
    }
    let on_premises: Vec<IpNet> = truth["onprem"]["networks"]
        .as_array()
        .context("onprem networks")?
        .iter()
        .map(|n| n.as_str().unwrap_or_default().parse())
        .collect::<Result<_, _>>()?;
    let mut internal = vec!["10.0.0.0/8".parse()?];
    internal.extend(on_premises.iter().copied());
    // What the operator of this environment knows and writes into the wave: the scanner, the
    // SCCM probes and the decommissioned host (the truth's notable on-premises hosts), and the
    // quarantined sandbox VPC. Their traffic is counted in the report, never proposed.
    let mut ignore = vec![IgnoreRule {
        network: "10.99.0.0/16".parse()?,
        service: None,
        reason: "quarantined sandbox VPC".to_owned(),
    }];
    for (host, what) in truth["onprem"]["notable_hosts"].as_object().context("notable_hosts")? {
        let what = what.as_str().unwrap_or_default();
        if ["scanner", "SCCM", "decommissioned"].iter().any(|k| what.contains(k)) {
            let network = if host.contains('/') { host.parse()? } else { IpNet::from(host.parse::<IpAddr>()?) };
            ignore.push(IgnoreRule { network, service: None, reason: what.to_owned() });
        }
    }
    Ok(WaveConfig {
        name: "accuracy".into(),
        description: None,
        path: PathBuf::from("accuracy.toml"),
        window: WindowSpec::Absolute(window),
        aws: AwsSettings::default(),
        accounts: Vec::new(),
        networks: Networks { internal, on_premises },
        log_groups: LogGroups::default(),
        apps,
        expected_flows: Vec::new(),
        source: Source::CloudWatch,
        ephemeral: EphemeralPolicy::default(),
        ignore,
        one_way: Vec::new(),
        query: QuerySettings::default(),
        dependencies: Vec::new(),
    })
}

/// The flow logs through the report's own files source: the plan's query, the local engine
/// over the generated S3 tree, and the runner's row aggregation. Strict: generated data has no
/// damaged lines, so any problem is a failure.
fn flow_data(dir: &Path, wave: &WaveConfig, window: TimeWindow) -> Result<FlowData> {
    let servers: BTreeSet<IpAddr> = wave.servers().map(|s| s.ip).collect();
    let options = PlanOptions::from_settings(&wave.query);
    let plan = QueryPlan::for_objects(Objects::Dir(dir.join("AWSLogs")), &servers, &BTreeSet::new(), window, &options)?;
    Ok(files::run(&plan, true, None, &Silent)?)
}

fn sg_rule_of(fault: &Value) -> Result<(String, bool, SgRule)> {
    let protocol = Protocol::parse(fault["IpProtocol"].as_str().context("IpProtocol")?).context("protocol")?;
    let from = fault["FromPort"].as_i64().unwrap_or(-1);
    let to = fault["ToPort"].as_i64().unwrap_or(-1);
    let ports = match protocol {
        Protocol::All => PortMatch::Any,
        p if p.has_ports() => PortMatch::Ports(PortRange { from: u16::try_from(from)?, to: u16::try_from(to)? }),
        Protocol::Number(_) => PortMatch::Icmp(IcmpMatch { icmp_type: None, code: None }),
    };
    let peer = if let Some(g) = fault["ReferencedGroupInfo"]["GroupId"].as_str() {
        SgPeer::Group { group_id: g.to_owned(), owner_id: None, vpc_id: None, peering_id: None }
    } else {
        SgPeer::Cidr(fault["CidrIpv4"].as_str().context("CidrIpv4")?.parse()?)
    };
    Ok((
        fault["GroupId"].as_str().context("GroupId")?.to_owned(),
        fault["IsEgress"].as_bool().unwrap_or(false),
        SgRule { id: None, protocol, ports, peer, description: None },
    ))
}

/// The inventory as intended: the removed SG rules back, the injected NACL denies gone.
fn intended(broken: &Inventory, truth: &Value) -> Result<Inventory> {
    let mut inv = broken.clone();
    for f in truth["faults"]["missing_sg_rules"].as_array().context("missing_sg_rules")? {
        let (gid, egress, rule) = sg_rule_of(f)?;
        let g = inv.security_groups.get_mut(&gid).context("fault group not in inventory")?;
        if egress { g.egress.push(rule) } else { g.ingress.push(rule) }
    }
    for f in truth["faults"]["injected_nacl_denies"].as_array().context("injected_nacl_denies")? {
        let acl =
            inv.nacls.get_mut(f["NetworkAclId"].as_str().context("acl")?).context("fault acl not in inventory")?;
        let n = u16::try_from(f["RuleNumber"].as_u64().context("RuleNumber")?)?;
        let egress = f["Egress"].as_bool().unwrap_or(false);
        acl.entries.retain(|e| !(e.rule_number == n && e.egress == egress));
    }
    Ok(inv)
}

/// The truth's REJECT tuple, with what it means for wavegap's findings.
struct TruthReject {
    src: IpAddr,
    dst: IpAddr,
    port: u16,
    protocol: u8,
    cause: String,
}

fn score_one(dir: &Path, verbose: bool) -> Result<Vec<Measure>> {
    let truth: Value = serde_json::from_str(&fs::read_to_string(dir.join("truth.json"))?)?;
    let inv_path = dir.join("inventory.json");
    fs::write(&inv_path, serde_json::to_string(&truth["inventory"])?)?;
    let inv = wavegap_resolver::load_inventory(&inv_path)?;
    let gen_args = &truth["generator"]["args"];
    let start = gen_args["start_epoch"].as_i64().context("start_epoch")?;
    let hours = gen_args["hours"].as_i64().context("hours")?;
    let window = TimeWindow { start, end: start + hours * 3600 - 1 };
    let wave = wave_for(&truth, window)?;
    let data = flow_data(dir, &wave, window)?;
    let opts = AnalysisOptions {
        aggregation_interval: gen_args["agg_interval"].as_i64().unwrap_or(600),
        // offline files, all delivered
        delivery_lag: 0,
        ..AnalysisOptions::new(window)
    };
    let analysis = analyze(&wave, &inv, &data, &opts);
    let good_inv = intended(&inv, &truth)?;
    Ok(vec![
        score_rejected(&truth, &analysis, verbose)?,
        score_culprits(&truth, &analysis, &good_inv, &wave, verbose)?,
        score_proposals(&truth, &analysis, &inv, &good_inv, &wave, verbose)?,
        score_unanswered(&truth, &analysis, verbose)?,
    ])
}

fn truth_rejects(truth: &Value) -> Result<Vec<TruthReject>> {
    truth["rejected_internal"]
        .as_array()
        .context("rejected_internal")?
        .iter()
        .map(|r| {
            Ok(TruthReject {
                src: ip(&r["srcaddr"])?,
                dst: ip(&r["dstaddr"])?,
                port: u16::try_from(r["dstport"].as_u64().context("dstport")?)?,
                protocol: u8::try_from(r["protocol"].as_u64().context("protocol")?)?,
                cause: r["cause"].as_str().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// Whether the wave's ignore rules take a truth tuple out of the findings (it is counted in
/// the report's ignored traffic instead).
fn ignored(t: &TruthReject, a: &Analysis) -> bool {
    a.noise.ignored.iter().any(|i| i.network.contains(&t.src) || i.network.contains(&t.dst))
}

/// Service ports of conversations whose return was rejected, by (client, server, protocol).
fn return_services(truth: &Value) -> BTreeMap<(IpAddr, IpAddr, u8), BTreeSet<u16>> {
    let mut out: BTreeMap<(IpAddr, IpAddr, u8), BTreeSet<u16>> = BTreeMap::new();
    for r in truth["no_return"].as_array().into_iter().flatten() {
        if r["observed"].as_str().is_some_and(|o| o.starts_with("return-rejected"))
            && let (Ok(s), Ok(d)) = (ip(&r["srcaddr"]), ip(&r["dstaddr"]))
        {
            let proto = u8::try_from(r["protocol"].as_u64().unwrap_or(0)).unwrap_or(0);
            let port = u16::try_from(r["dstport"].as_u64().unwrap_or(0)).unwrap_or(0);
            out.entry((s, d, proto)).or_default().insert(port);
        }
    }
    out
}

/// The rejected findings (by index) a truth tuple corresponds to: the request with that port,
/// or (for a return dropped on the client's ephemeral port) the response of the service.
fn matching_findings(
    t: &TruthReject,
    a: &Analysis,
    returns: &BTreeMap<(IpAddr, IpAddr, u8), BTreeSet<u16>>,
) -> Vec<usize> {
    let services = returns.get(&(t.dst, t.src, t.protocol));
    a.rejected
        .iter()
        .enumerate()
        .filter(|(_, f)| f.protocol == t.protocol)
        .filter(|(_, f)| {
            (f.leg == Leg::Request && f.client.ip == t.src && f.server.ip == t.dst && f.port == t.port)
                || (f.client.ip == t.dst
                    && f.server.ip == t.src
                    && (f.leg == Leg::Response || t.protocol == 1)
                    && services.is_none_or(|s| s.contains(&f.port)))
        })
        .map(|(i, _)| i)
        .collect()
}

fn score_rejected(truth: &Value, a: &Analysis, verbose: bool) -> Result<Measure> {
    let rejects = truth_rejects(truth)?;
    let returns = return_services(truth);
    let mut matched: HashSet<usize> = HashSet::new();
    let (mut expected, mut found) = (0, 0);
    let ignore_nets: Vec<IpNet> = a.noise.ignored.iter().map(|i| i.network).collect();
    let scanners: HashSet<IpAddr> = a.noise.scanners.iter().map(|s| s.source).collect();
    for t in &rejects {
        let m = matching_findings(t, a, &returns);
        matched.extend(m.iter().copied());
        if t.cause == "expected" {
            let accounted = !m.is_empty()
                || ignore_nets.iter().any(|n| n.contains(&t.src) || n.contains(&t.dst))
                || scanners.contains(&t.src);
            if !accounted && verbose {
                eprintln!("  expected REJECT not accounted for: {} -> {} {}/{}", t.src, t.dst, t.protocol, t.port);
            }
            continue;
        }
        if ignored(t, a) && m.is_empty() {
            if verbose {
                eprintln!(
                    "  REJECT of an ignored source, counted as ignored: {} -> {} {}/{}",
                    t.src, t.dst, t.protocol, t.port
                );
            }
            continue;
        }
        expected += 1;
        if m.is_empty() {
            if verbose {
                eprintln!("  missed REJECT: {} -> {} {}/{} ({})", t.src, t.dst, t.protocol, t.port, t.cause);
            }
        } else {
            found += 1;
        }
    }
    if verbose {
        for (i, f) in a.rejected.iter().enumerate() {
            if !matched.contains(&i) {
                eprintln!("  rejected finding with no REJECT in the truth: {} ({:?})", f.id, f.attribution);
            }
        }
    }
    Ok(Measure { name: "rejected", expected, found, reported: a.rejected.len(), correct: matched.len() })
}

/// The (hop, resource) a fault cause names, for a truth tuple matched as `leg`.
fn truth_layer(truth: &Value, cause: &str, leg: Leg) -> Option<(Hop, String)> {
    if let Some(ids) = cause.strip_prefix("missing-sg-rule:") {
        let id = ids.split(',').next()?;
        let rule = truth["faults"]["missing_sg_rules"].as_array()?.iter().find(|r| r["SecurityGroupRuleId"] == id)?;
        let hop = if rule["IsEgress"].as_bool()? { Hop::SourceSgEgress } else { Hop::DestinationSgIngress };
        return Some((hop, rule["GroupId"].as_str()?.to_owned()));
    }
    let (acl, n) = cause.strip_prefix("injected-nacl-deny:")?.split_once('#')?;
    let entry = truth["faults"]["injected_nacl_denies"]
        .as_array()?
        .iter()
        .find(|e| e["NetworkAclId"] == acl && e["RuleNumber"].as_u64() == n.parse().ok())?;
    let egress = entry["Egress"].as_bool()?;
    let hop = match (leg, egress) {
        (Leg::Request, true) => Hop::SourceNaclOutbound,
        (Leg::Request, false) => Hop::DestinationNaclInbound,
        (Leg::Response, true) => Hop::ReturnDestinationNaclOutbound,
        (Leg::Response, false) => Hop::ReturnSourceNaclInbound,
    };
    Some((hop, acl.to_owned()))
}

/// Culprit precision: a culprit is right when the truth names it for the tuple, or when the
/// intended configuration lets the flow through that hop (the faults broke it too: the
/// generator names only the first broken hop, wavegap names every one).
fn score_culprits(truth: &Value, a: &Analysis, good: &Inventory, wave: &WaveConfig, verbose: bool) -> Result<Measure> {
    let intended = Evaluator::new(good);
    let rejects = truth_rejects(truth)?;
    let returns = return_services(truth);
    let (mut expected, mut found) = (0, 0);
    // per finding: the layers the truth names for it
    let mut named: BTreeMap<usize, BTreeSet<(Hop, String)>> = BTreeMap::new();
    for t in rejects.iter().filter(|t| t.cause != "expected") {
        for i in matching_findings(t, a, &returns) {
            let f = &a.rejected[i];
            let Some(layer) = truth_layer(truth, &t.cause, f.leg) else { continue };
            expected += 1;
            if f.culprits.iter().any(|c| c.hop == layer.0 && c.resource.split(',').any(|r| r == layer.1)) {
                found += 1;
            } else if verbose {
                eprintln!("  wrong culprit for {}: truth {:?} {}, found {:?}", f.id, layer.0, layer.1, f.culprits);
            }
            named.entry(i).or_default().insert(layer);
        }
    }
    let (mut reported, mut correct) = (0, 0);
    for (i, layers) in &named {
        for c in &a.rejected[*i].culprits {
            reported += 1;
            let f = &a.rejected[*i];
            let broken_by_fault = || {
                !intended
                    .evaluate(&spec_for(wave, f.client.ip, f.server.ip, f.protocol, f.port))
                    .hop(c.hop)
                    .outcome
                    .denies()
            };
            if layers.iter().any(|(h, r)| c.hop == *h && c.resource.split(',').any(|x| x == r)) || broken_by_fault() {
                correct += 1;
            } else if verbose {
                eprintln!("  culprit no fault explains: {} {:?} {}", a.rejected[*i].id, c.hop, c.resource);
            }
        }
    }
    Ok(Measure { name: "culprit", expected, found, reported, correct })
}

fn spec_for(wave: &WaveConfig, client: IpAddr, server: IpAddr, protocol: u8, port: u16) -> FlowSpec {
    FlowSpec {
        src: client,
        dst: server,
        protocol,
        port,
        client_ports: ephemeral_range(wave.server_by_ip(client).and_then(|s| s.os), wave.ephemeral),
    }
}

fn score_proposals(
    truth: &Value,
    a: &Analysis,
    broken: &Inventory,
    good: &Inventory,
    wave: &WaveConfig,
    verbose: bool,
) -> Result<Measure> {
    let rejects = truth_rejects(truth)?;
    let returns = return_services(truth);
    let fixed_inv = apply(broken, &a.proposals);
    let fixed = Evaluator::new(&fixed_inv);
    // Recall: every fault whose tuples were seen has all its conversations passing.
    let mut faults: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut fault_findings: HashSet<String> = HashSet::new();
    for t in rejects.iter().filter(|t| t.cause != "expected" && !ignored(t, a)) {
        let m = matching_findings(t, a, &returns);
        for i in &m {
            fault_findings.insert(a.rejected[*i].id.clone());
        }
        faults.entry(t.cause.as_str()).or_default().extend(m);
    }
    let mut found = 0;
    for (cause, idx) in &faults {
        let ok = !idx.is_empty()
            && idx.iter().all(|i| {
                let f = &a.rejected[*i];
                fixed.evaluate(&spec_for(wave, f.client.ip, f.server.ip, f.protocol, f.port)).passes()
            });
        if ok {
            found += 1;
        } else if verbose {
            eprintln!("  fault not fixed by the proposals: {cause}");
        }
    }
    // Precision: each proposal fixes a fault's finding and opens nothing the intended config denies.
    let bad = Evaluator::new(broken);
    let intended = Evaluator::new(good);
    let mut peers: BTreeSet<IpAddr> =
        broken.enis.values().filter_map(wavegap_core::inventory::Eni::primary_ip).collect();
    for a in [
        "192.168.1.10",
        "192.168.20.7",
        "192.168.100.12",
        "192.168.50.20",
        "172.20.5.40",
        "172.16.9.9",
        "10.99.1.5",
        "8.8.8.8",
    ] {
        peers.insert(a.parse()?);
    }
    let mut correct = 0;
    for p in &a.proposals {
        let linked = p.fixes.iter().any(|f| fault_findings.contains(f));
        let single = apply(broken, std::slice::from_ref(p));
        let with_p = Evaluator::new(&single);
        let broader = broader_than_intended(p, &bad, &with_p, &intended, broken, &peers, wave);
        if linked && broader.is_none() {
            correct += 1;
        } else if verbose {
            eprintln!("  proposal not right: {} {:?} linked={linked} broader={broader:?}", p.id, p.change);
        }
    }
    Ok(Measure { name: "proposals", expected: faults.len(), found, reported: a.proposals.len(), correct })
}

/// A probe flow the proposal lets through its hop while the intended configuration denies it
/// there, if any.
fn broader_than_intended(
    p: &wavegap_core::findings::Proposal,
    bad: &Evaluator<'_>,
    with_p: &Evaluator<'_>,
    intended: &Evaluator<'_>,
    inv: &Inventory,
    peers: &BTreeSet<IpAddr>,
    wave: &WaveConfig,
) -> Option<String> {
    // the ENIs whose hop the change touches, and the hops
    let (locals, hops, protocol, ports): (Vec<IpAddr>, Vec<Hop>, u8, PortMatch) = match &p.change {
        RuleChange::SgRule { group_id, egress, rule, .. } => (
            bad.members(group_id).iter().filter_map(|e| e.primary_ip()).collect(),
            vec![if *egress { Hop::SourceSgEgress } else { Hop::DestinationSgIngress }],
            match rule.protocol {
                Protocol::Number(n) => n,
                Protocol::All => return Some("protocol -1".into()),
            },
            rule.ports,
        ),
        RuleChange::NaclEntry { acl_id, entry, return_traffic, .. } => {
            let subnets: Vec<&String> =
                inv.nacls.get(acl_id).map(|a| a.subnet_ids.iter().collect()).unwrap_or_default();
            let locals = subnets
                .iter()
                .filter_map(|s| {
                    inv.enis.values().find(|e| &&e.subnet_id == s).and_then(wavegap_core::inventory::Eni::primary_ip)
                })
                .collect();
            let hop = match (entry.egress, *return_traffic) {
                (true, false) => Hop::SourceNaclOutbound,
                (false, false) => Hop::DestinationNaclInbound,
                (true, true) => Hop::ReturnDestinationNaclOutbound,
                (false, true) => Hop::ReturnSourceNaclInbound,
            };
            let NaclEntry { protocol, ports, .. } = entry;
            (
                locals,
                vec![hop],
                match protocol {
                    Protocol::Number(n) => *n,
                    Protocol::All => return Some("protocol -1".into()),
                },
                *ports,
            )
        }
    };
    let service_ports: Vec<u16> = match ports {
        PortMatch::Ports(r) => {
            let mut v = vec![r.from, r.to, r.from + (r.to - r.from) / 2];
            v.dedup();
            v
        }
        _ => vec![0],
    };
    for local in &locals {
        for peer in peers {
            if peer == local {
                continue;
            }
            for hop in &hops {
                // orient the probe so the local end sits where the hop is
                let (client, server) = match hop {
                    Hop::SourceSgEgress | Hop::SourceNaclOutbound | Hop::ReturnSourceNaclInbound => (*local, *peer),
                    _ => (*peer, *local),
                };
                let probes: Vec<FlowSpec> = if hop.is_return() {
                    let PortMatch::Ports(r) = ports else { continue };
                    // any service port; the return checks the client's range
                    vec![FlowSpec { client_ports: r, ..spec_for(wave, client, server, protocol, 443) }]
                } else {
                    service_ports.iter().map(|port| spec_for(wave, client, server, protocol, *port)).collect()
                };
                for spec in probes {
                    let before = bad.evaluate(&spec).hop(*hop).outcome;
                    let after = with_p.evaluate(&spec).hop(*hop).outcome;
                    let want = intended.evaluate(&spec).hop(*hop).outcome;
                    let opened = before.denies() && !matches!(after, Outcome::Deny) && (after != before);
                    if opened && want.denies() && !(want == Outcome::PartialDeny && after == Outcome::PartialDeny) {
                        return Some(format!("{client} -> {server} {protocol}/{} at {hop:?}", spec.port));
                    }
                }
            }
        }
    }
    None
}

fn score_unanswered(truth: &Value, a: &Analysis, verbose: bool) -> Result<Measure> {
    let mut want: BTreeSet<(IpAddr, IpAddr, u8, u16)> = BTreeSet::new();
    for r in truth["no_return"].as_array().context("no_return")? {
        if r["observed"] == "dropped-by-onprem-firewall" {
            want.insert((
                ip(&r["srcaddr"])?,
                ip(&r["dstaddr"])?,
                u8::try_from(r["protocol"].as_u64().context("protocol")?)?,
                u16::try_from(r["dstport"].as_u64().context("dstport")?)?,
            ));
        }
    }
    let got: BTreeMap<(IpAddr, IpAddr, u8, u16), bool> =
        a.unanswered.iter().map(|u| ((u.client.ip, u.server.ip, u.protocol, u.port), u.suppressed.is_some())).collect();
    let found = want.iter().filter(|k| got.contains_key(k)).count();
    if verbose {
        for k in want.iter().filter(|k| !got.contains_key(k)) {
            eprintln!("  missed unanswered: {k:?}");
        }
        for (k, s) in &got {
            if !want.contains(k) {
                eprintln!("  unanswered with no truth: {k:?} suppressed={s}");
            }
        }
    }
    let reported: Vec<_> = got.iter().filter(|(_, s)| !**s).map(|(k, _)| k).collect();
    let correct = reported.iter().filter(|k| want.contains(k)).count();
    Ok(Measure { name: "unanswered", expected: want.len(), found, reported: reported.len(), correct })
}
