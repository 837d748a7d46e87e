//! `wavegap explain WAVE SRC DST SERVICE`: one flow evaluated hop by hop against the wave's
//! security groups and network ACLs, Reachability-Analyzer style, with the rule that decides
//! each hop. The inventory is chosen as for every command (`settings::InventoryChoice`): a
//! snapshot, else resolved live with EC2.

use std::io::Write as _;

use anyhow::Context as _;
use wavegap_core::analyze::flow_spec;
use wavegap_core::eval::Evaluator;
use wavegap_resolver::WaveContexts;

use crate::commands::inventory::{self, resolver_failure};
use crate::commands::plan;
use crate::exit::{Failure, Kind, OrFail, Success};
use crate::settings;

pub fn run(s: &settings::Explain) -> Result<Success, Failure> {
    let wave = &s.wave;
    let inventory = match plan::offline_inventory(&s.inventory, wave)? {
        Some(inventory) => inventory,
        None => crate::runtime::block_on(async {
            let ctx = WaveContexts::new(&s.aws, wave).await.map_err(resolver_failure)?;
            Ok::<_, Failure>(inventory::resolve(&ctx, wave).await?.inventory().clone())
        })??,
    };
    let spec = flow_spec(wave, &inventory, s.src, s.dst, s.protocol, s.port);
    let evaluation = Evaluator::new(&inventory).evaluate(&spec);
    let name = |ip| wave.server_by_ip(ip).map(|s| format!(" ({})", s.name)).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    writeln!(out, "wave {}: {}{} -> {}{}", wave.name, s.src, name(s.src), s.dst, name(s.dst))
        .and_then(|()| write!(out, "{}", crate::terminal::printable(&evaluation.render())))
        .context("writing to stdout")
        .or_fail(Kind::Aws)?;
    // A flow some hop denies is not reachable: exit 1, like a failed check.
    Ok(if evaluation.passes() { Success::Ok } else { Success::Unreachable })
}
