//! `wavegap inventory WAVE`: resolve the wave's servers with the EC2 API and write the
//! inventory snapshot (EC2 JSON, the shape `aws ec2 describe-… --output json` prints), with a
//! summary on stderr.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use wavegap_core::resolution::Resolution;
use wavegap_core::wave::WaveConfig;
use wavegap_resolver::{AwsContext, Resolver};

use crate::commands::fetch::AwsArgs;
use crate::exit::{Failure, Kind, Success};
use crate::waves;

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// The wave, by name (looked up in the waves directory) or path
    pub wave: String,

    /// Where to write the snapshot [default: reports/<wave>/inventory.json]
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    /// Where wave files live
    #[arg(long, default_value = "waves", env = "WAVEGAP_WAVES_DIR")]
    pub waves_dir: PathBuf,

    #[command(flatten)]
    pub aws: AwsArgs,
}

pub fn run(args: &InventoryArgs, color: bool) -> Result<Success, Failure> {
    let path = waves::locate(&args.wave, &args.waves_dir);
    let wave = waves::load(&path).map_err(|e| {
        eprint!("{}", e.render(color));
        Failure::new(Kind::Config, anyhow!("cannot resolve the servers of an invalid wave"))
    })?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("reports").join(&wave.name).join("inventory.json"));
    let settings = args.aws.settings(&wave.aws);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Kind::Aws, anyhow!("cannot start the async runtime: {e}")))?;
    let resolved = runtime.block_on(async {
        let ctx = AwsContext::new(&settings).await?;
        tracing::info!(region = ctx.region().unwrap_or("?"), "resolving {} servers", wave.servers().count());
        Resolver::new(&ctx).resolve(&wave).await
    });
    let resolved = resolved.map_err(resolver_failure)?;
    wavegap_resolver::save_snapshot(&out, &resolved.snapshot).map_err(resolver_failure)?;
    eprint!("{}", summary(&wave, &resolved.resolution));
    eprintln!("wrote {}", out.display());
    Ok(Success::Ok)
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
        let _ = writeln!(s, "  log groups: {}", r.log_groups.join(", "));
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
