//! `wavegap inventory WAVE`: resolve the wave's servers with the EC2 API and write the
//! inventory snapshot (EC2 JSON, the shape `aws ec2 describe-… --output json` prints), with a
//! summary on stderr.

use std::fmt::Write as _;

use wavegap_core::resolution::Resolution;
use wavegap_core::wave::WaveConfig;
use wavegap_reporter::RenderedFile;
use wavegap_resolver::{Resolved, WaveContexts};

use crate::exit::{Failure, Kind, OrFail as _, Success};
use crate::settings;

pub fn run(s: &settings::Inventory) -> Result<Success, Failure> {
    let wave = &s.wave;
    let resolved = crate::runtime::block_on(async {
        let ctx = WaveContexts::new(&s.aws, wave).await.map_err(resolver_failure)?;
        resolve(&ctx, wave).await
    })??;
    let (dir, name) = crate::commands::fetch::split_path(&s.out);
    let text = wavegap_resolver::snapshot::to_json(&resolved.snapshot);
    wavegap_reporter::write_atomically(dir, &[RenderedFile::new(name, text)]).or_fail(Kind::Aws)?;
    eprint!("{}", summary(wave, &resolved.resolution));
    eprintln!("wrote {}", s.out.display());
    Ok(Success::Ok)
}

/// The wave's servers resolved with the EC2 API, in each of its accounts: the one live
/// resolution of every command.
pub async fn resolve(ctx: &WaveContexts, wave: &WaveConfig) -> Result<Resolved, Failure> {
    tracing::info!(
        region = ctx.wave.region().unwrap_or("?"),
        accounts = ctx.accounts.len(),
        "resolving {} servers",
        wave.servers().count()
    );
    ctx.resolve(wave).await.map_err(resolver_failure)
}

/// Resolver errors: configuration mistakes exit 2, AWS and I/O failures exit 3.
pub fn resolver_failure(e: wavegap_resolver::Error) -> Failure {
    let kind = if e.is_config() { Kind::Config } else { Kind::Aws };
    Failure::new(kind, e)
}

fn summary(wave: &WaveConfig, r: &Resolution) -> String {
    let inv = &r.inventory;
    let in_aws = wave.servers().filter(|s| !s.on_premises).count();
    let on_prem = wave.servers().count() - in_aws;
    let mut s = format!("{}: {} of {in_aws} servers resolved", wave.name, in_aws - r.unresolved.len());
    if on_prem > 0 {
        let _ = write!(s, " ({on_prem} on premises, not looked up)");
    }
    s.push('\n');
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        s,
        "  {}, {}, {} in {}, {}, {}, {}, {}, {}, {}",
        plural(inv.enis.len(), "interface", "interfaces"),
        plural(inv.instances.len(), "instance", "instances"),
        plural(inv.subnets.len(), "subnet", "subnets"),
        plural(inv.vpcs.len(), "VPC", "VPCs"),
        plural(inv.security_groups.len(), "security group", "security groups"),
        plural(inv.nacls.len(), "network ACL", "network ACLs"),
        plural(inv.prefix_lists.len(), "prefix list", "prefix lists"),
        plural(inv.peerings.len(), "peering", "peerings"),
        plural(inv.nat_gateways.len(), "NAT gateway", "NAT gateways"),
        plural(inv.flow_logs.len(), "flow log", "flow logs"),
    );
    if r.log_groups.is_empty() {
        s.push_str("  log groups: none\n");
    } else {
        let names: Vec<String> = r.log_groups.iter().map(ToString::to_string).collect();
        let _ = writeln!(s, "  log groups: {}", names.join(", "));
    }
    for u in &r.unresolved {
        let _ = writeln!(s, "  warning: {} not resolved: {}", u.server, u.reason);
    }
    if !r.uncovered.is_empty() {
        let _ = writeln!(
            s,
            "  warning: no flow logs cover {} (their traffic is invisible)\n  hint: create VPC flow logs for their VPCs or subnets",
            r.uncovered.join(", ")
        );
    }
    s
}
