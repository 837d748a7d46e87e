//! `wavegap explain WAVE SRC DST SERVICE`: one flow evaluated hop by hop against the wave's
//! security groups and network ACLs, Reachability-Analyzer style, with the rule that decides
//! each hop. The inventory is the wave's snapshot for a files-source wave (or `--inventory`),
//! else it is resolved live with EC2.

use std::io::Write as _;

use anyhow::{Context as _, anyhow};
use wavegap_core::analyze::flow_spec;
use wavegap_core::eval::Evaluator;
use wavegap_core::inventory::{Inventory, Protocol};
use wavegap_core::wave::{Source, WaveConfig};

use crate::cli::ExplainArgs;
use crate::exit::{Failure, Kind, OrFail, Success};
use crate::waves;

pub fn run(args: &ExplainArgs, color: bool) -> Result<Success, Failure> {
    let (protocol, port) = parse_service(&args.service).map_err(|e| Failure::new(Kind::Config, e))?;
    let path = waves::locate(&args.wave, &args.waves_dir);
    let wave = waves::load(&path).map_err(|e| {
        eprint!("{}", e.render(color));
        Failure::new(Kind::Config, anyhow!("invalid wave {}", path.display()))
    })?;
    let inventory = inventory(args, &wave)?;
    let spec = flow_spec(&wave, &inventory, args.src, args.dst, protocol, port);
    let evaluation = Evaluator::new(&inventory).evaluate(&spec);
    let name = |ip| wave.server_by_ip(ip).map(|s| format!(" ({})", s.name)).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    writeln!(out, "wave {}: {}{} -> {}{}", wave.name, args.src, name(args.src), args.dst, name(args.dst))
        .and_then(|()| write!(out, "{}", evaluation.render()))
        .context("writing to stdout")
        .or_fail(Kind::Aws)?;
    // A flow some hop denies is not reachable: exit 1, like a failed check.
    Ok(if evaluation.passes() { Success::Ok } else { Success::Unreachable })
}

fn inventory(args: &ExplainArgs, wave: &WaveConfig) -> Result<Inventory, Failure> {
    let snapshot = match (&args.inventory, &wave.source) {
        (Some(path), _) | (None, Source::Files { inventory: path, .. }) => Some(path),
        (None, Source::CloudWatch) => None,
    };
    if let Some(path) = snapshot {
        return wavegap_resolver::load_inventory(path)
            .with_context(|| format!("cannot load the inventory snapshot {}", path.display()))
            .or_fail(Kind::Config);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .or_fail(Kind::Aws)?;
    runtime.block_on(async {
        let ctx = wavegap_resolver::AwsContext::new(&wavegap_resolver::ClientSettings::from_wave(&wave.aws))
            .await
            .or_fail(Kind::Aws)?;
        let resolved = wavegap_resolver::Resolver::new(&ctx).resolve(wave).await.or_fail(Kind::Aws)?;
        Ok(resolved.inventory().clone())
    })
}

/// `1433/tcp`, `tcp/1433`, `443` (tcp), `53/udp`, `icmp`.
pub fn parse_service(text: &str) -> anyhow::Result<(u8, u16)> {
    let bad =
        || anyhow!("cannot read the service {text:?}\nhint: write PORT/PROTOCOL such as 1433/tcp or 53/udp, or icmp");
    let protocol = |s: &str| match Protocol::parse(s) {
        Some(Protocol::Number(n)) if !s.chars().all(|c| c.is_ascii_digit()) => Some(n),
        _ => None,
    };
    let (protocol, port) = match text.split_once('/') {
        Some((a, b)) => match (a.parse::<u16>(), protocol(b), protocol(a), b.parse::<u16>()) {
            (Ok(port), Some(p), _, _) | (_, _, Some(p), Ok(port)) => (p, port),
            _ => return Err(bad()),
        },
        None => match (protocol(text), text.parse::<u16>()) {
            (Some(p), _) => (p, 0),
            (None, Ok(port)) => (6, port),
            _ => return Err(bad()),
        },
    };
    if matches!(protocol, 6 | 17) && port == 0 {
        return Err(bad());
    }
    Ok((protocol, port))
}

#[cfg(test)]
mod tests {
    use super::parse_service;

    #[test]
    fn services_parse_in_either_order() {
        for (text, expected) in [
            ("1433/tcp", Some((6, 1433))),
            ("tcp/1433", Some((6, 1433))),
            ("53/UDP", Some((17, 53))),
            ("443", Some((6, 443))),
            ("icmp", Some((1, 0))),
            ("icmp/0", Some((1, 0))),
            ("tcp", None),
            ("70000/tcp", None),
            ("443/xyz", None),
        ] {
            assert_eq!(parse_service(text).ok(), expected, "{text}");
        }
    }
}
