//! `wavegap check`: validate wave files and print one summary line per valid wave.
//!
//! Every wave is checked, even after a failure, so one run lists every mistake; the exit
//! code is 2 when any wave is invalid.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::anyhow;
use wavegap_core::wave::{Source, WaveConfig};

use crate::cli::CheckArgs;
use crate::exit::{Failure, Kind, Success};
use crate::waves;

/// `now` (Unix seconds) is the run's one clock read: a window that starts after it is warned of.
pub fn run(args: &CheckArgs, color: bool, now: i64) -> Result<Success, Failure> {
    let paths: Vec<PathBuf> = if args.waves.is_empty() {
        let all = waves::all(&args.waves_dir).map_err(|e| {
            Failure::new(
                Kind::Config,
                anyhow!(
                    "cannot list the waves directory {}: {e}\nhint: run from the repository root, or pass --waves-dir",
                    args.waves_dir.display()
                ),
            )
        })?;
        if all.is_empty() {
            return Err(Failure::new(
                Kind::Config,
                anyhow!(
                    "no wave files in {}\nhint: add one, such as waves/wave-3.toml (see the wave file reference in README.md)",
                    args.waves_dir.display()
                ),
            ));
        }
        all
    } else {
        args.waves.iter().map(|arg| waves::locate(arg, &args.waves_dir)).collect()
    };

    let mut valid: Vec<(PathBuf, WaveConfig)> = Vec::new();
    let mut invalid = 0usize;
    // A mistake in defaults.toml fails every wave; say it once.
    let mut shown = BTreeSet::new();
    for path in &paths {
        match waves::load(path) {
            Ok(wave) => match snapshot_problem(path, &wave) {
                Some(text) => {
                    invalid += 1;
                    eprint!("{text}");
                }
                None => valid.push((path.clone(), wave)),
            },
            Err(e) => {
                invalid += 1;
                let text = e.render(color);
                if shown.insert(text.clone()) {
                    eprint!("{text}");
                }
            }
        }
    }

    // Two files with one wave name would write over each other's reports.
    let mut by_name: BTreeMap<&str, Vec<&PathBuf>> = BTreeMap::new();
    for (path, wave) in &valid {
        by_name.entry(wave.name.as_str()).or_default().push(path);
    }
    for (name, files) in by_name.iter().filter(|(_, files)| files.len() > 1) {
        invalid += files.len();
        let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "error: wave name `{name}` is used by {}\n  = hint: set a different `name` in all but one (reports go to reports/<name>/)",
            files.join(" and ")
        );
    }

    // A window in the future is valid (a wave planned ahead) but its report would be empty.
    for (path, wave) in &valid {
        let window = wave.window.resolve(now);
        if window.start > now {
            eprintln!(
                "warning: {}: the window starts after now: no flow log has records there yet, a report now would be empty",
                path.display()
            );
        }
    }

    let width = valid.iter().map(|(_, w)| w.name.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (_, wave) in &valid {
        let _ = writeln!(out, "{:<width$}  {}", wave.name, summary(wave));
    }
    let _ = out.flush();

    if invalid > 0 {
        let total = paths.len();
        let noun = if total == 1 { "wave" } else { "waves" };
        return Err(Failure::new(Kind::Config, anyhow!("{invalid} of {total} {noun} invalid")));
    }
    Ok(Success::Ok)
}

/// A wave's inventory snapshot, read as `report` reads it: what is wrong with it, if anything.
fn snapshot_problem(path: &std::path::Path, wave: &WaveConfig) -> Option<String> {
    let failure = crate::commands::plan::load_inventory(wave.source.snapshot()?).err()?;
    Some(crate::exit::error_text(&failure.error).replacen("error: ", &format!("error: {}: ", path.display()), 1))
}

fn snapshot_or_ec2(snapshot: Option<&std::path::Path>) -> String {
    snapshot.map_or_else(|| "EC2".to_owned(), |p| p.display().to_string())
}

/// `2 apps, 5 servers, 2 log groups + discover, last 1d, cloudwatch (eu-west-1)`.
fn summary(wave: &WaveConfig) -> String {
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let apps = plural(wave.apps.len(), "app", "apps");
    let servers = plural(wave.servers().count(), "server", "servers");
    let groups = &wave.log_groups;
    let log_groups = match (groups.names.len(), groups.discover) {
        (0, true) => "log groups: discover".to_owned(),
        (n, true) => format!("{} + discover", plural(n, "log group", "log groups")),
        (0, false) => "no log groups".to_owned(),
        (n, false) => plural(n, "log group", "log groups"),
    };
    let source = match &wave.source {
        Source::CloudWatch => match &wave.aws.region {
            Some(region) => format!("cloudwatch ({region})"),
            None => "cloudwatch".to_owned(),
        },
        Source::Files { dir, inventory } => {
            format!("files {} + {}", dir.display(), snapshot_or_ec2(inventory.as_deref()))
        }
        Source::S3 { location, inventory } => format!("s3 {location} + {}", snapshot_or_ec2(inventory.as_deref())),
    };
    let accounts = match wave.accounts.len() {
        0 => String::new(),
        n => format!(", {}", plural(n, "account", "accounts")),
    };
    format!("{apps}, {servers}, {log_groups}, {}, {source}{accounts}", wave.window)
}
