//! `wavegap report WAVE`: resolve, query, analyse and write `reports/<wave>/`.
//!
//! Files waves read their inventory snapshot and run the aggregating query over the local
//! flow-log files; CloudWatch waves resolve the servers with EC2 and fan the query out with
//! Logs Insights. Either way the aggregates are saved next to the report (`flows.json.gz`) so
//! `--from-saved` can render again without querying.

use std::io::Write as _;
use std::path::Path;

use anyhow::anyhow;
use wavegap_core::analyze::{AnalysisOptions, analyze};
use wavegap_core::findings::Analysis;
use wavegap_core::flow::{FlowData, TimeWindow};
use wavegap_core::inventory::{FlowLogDestination, Inventory};
use wavegap_core::wave::WaveConfig;
use wavegap_reporter::{Comparison, RenderedFile, Renderer, ReportError, ReportInput, ReportModel, Stage};
use wavegap_runner::saved;

use crate::commands::fetch::{Gathered, gather};
use crate::exit::{Failure, Kind, OrFail, Success};
use crate::settings;

pub fn run(s: &settings::Report) -> Result<Success, Failure> {
    let q = &s.query;
    let wave = &q.wave;
    if s.dry_run {
        return crate::commands::plan::print(q);
    }
    let mut gathered = crate::runtime::block_on(gather(q, s.from_saved.as_deref()))??;
    let data = &gathered.data;
    // Nothing came back: an empty report would read as "no findings". Keep the last one.
    if data.nothing_answered()
        && let Some(first) = data.gaps.first()
    {
        return Err(Failure::new(
            if data.unreachable() { Kind::Aws } else { Kind::Incomplete },
            anyhow!(
                "no query of the run came back: {} gap(s), the first in {} ({}); the previous report in {} is kept\nhint: run `wavegap report {}` again when CloudWatch Logs answers (see the gaps with -v)",
                data.gaps.len(),
                first.log_groups.join(", "),
                first.reason,
                s.out_dir.display(),
                wave.name
            ),
        ));
    }
    let run = Run { wave, window: q.window, now: q.now, out_dir: &s.out_dir, renderer: &s.renderer };
    let (analysis, model, files) = write(&run, &mut gathered, s.from_saved.is_none(), s.previous.comparison(), &[])?;
    let data = &gathered.data;

    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    let summary = wavegap_reporter::summary(&model, &s.out_dir, &names, 10, s.style);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(crate::terminal::printable(&summary).as_bytes());
    let _ = stdout.flush();

    let complete = data.complete();
    let findings_present = s.fail_on.iter().any(|&kind| analysis.open(kind) > 0);
    let (gaps, damaged) = (data.gaps.len(), data.damaged.len());
    // The process ends next: its memory goes back at once, without freeing the report's
    // many small allocations one by one.
    std::mem::forget((analysis, model, gathered));
    if !complete && s.fail_on_gaps {
        return Err(Failure::new(
            Kind::Incomplete,
            anyhow!(
                "{} log group window(s) could not be queried and {} object(s) could not be read whole: the report is incomplete\nhint: re-run later, or see the coverage section of {}",
                gaps,
                damaged,
                s.out_dir.join("report.md").display()
            ),
        ));
    }
    if findings_present {
        return Ok(Success::FindingsPresent);
    }
    Ok(Success::Ok)
}

/// Where and as of when a report is written.
pub struct Run<'a> {
    pub wave: &'a WaveConfig,
    /// The window the flows cover.
    pub window: TimeWindow,
    pub now: chrono::DateTime<chrono::Utc>,
    pub out_dir: &'a Path,
    pub renderer: &'a Renderer,
}

/// Analyses the flows and writes the report directory as one unit: the reports, findings.json,
/// the fix scripts, the inventory `snapshot` (when it was resolved live), with `save_flows`
/// the flows for `--from-saved`, and `extra` files. Returns the analysis, the model and the
/// names of the files written. Each file goes to the staged directory as soon as it is made,
/// and the flows' aggregates are released once analysed and saved: the report needs only
/// their number, and a large wave's rendering would otherwise hold them at its peak.
pub fn write(
    run: &Run<'_>,
    gathered: &mut Gathered,
    save_flows: bool,
    comparison: Comparison<'_>,
    extra: &[RenderedFile],
) -> Result<(Analysis, ReportModel, Vec<String>), Failure> {
    let wave = run.wave;
    let Gathered { inventory, snapshot, plan, data } = gathered;
    let log_groups = if wave.source.reads_objects() {
        s3_flow_logs(inventory)
    } else {
        plan.log_group_refs().map(|g| g.to_string()).collect()
    };
    let stage = Stage::new(run.out_dir).or_fail(Kind::Aws)?;
    let mut names: Vec<String> = wavegap_reporter::file_names().into_iter().map(str::to_owned).collect();
    for file in extra {
        stage.put(&file.name, &file.content).or_fail(Kind::Aws)?;
        names.push(file.name.to_string());
    }
    if let Some(snapshot) = snapshot {
        stage.put("inventory.json", snapshot.as_bytes()).or_fail(Kind::Aws)?;
        names.push("inventory.json".to_owned());
    }

    // The saved flows are compressed on a second thread while the analysis runs.
    let options = AnalysisOptions::for_run(run.window, run.now.timestamp(), &wave.source, inventory);
    let read: &FlowData = data;
    let (analysis, saved) = std::thread::scope(|scope| {
        let saved = save_flows.then(|| {
            scope.spawn(|| {
                stage.write_with(saved::FILE, |out| saved::write(out, saved::FILE, &wave.name, run.window, read))
            })
        });
        let analysis = analyze(wave, inventory, read, &options);
        (analysis, saved.map(wavegap_core::threads::joined))
    });
    if let Some(saved) = saved {
        saved.or_fail(Kind::Aws)?;
        names.push(saved::FILE.to_owned());
    }

    let aggregates = std::mem::take(&mut data.aggregates).len();

    let generated_at = run.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let generator = format!("wavegap {}", env!("CARGO_PKG_VERSION"));
    let model = wavegap_reporter::build(&ReportInput {
        wave,
        inventory,
        flows: data,
        aggregates,
        analysis: &analysis,
        log_groups: &log_groups,
        generated_at: &generated_at,
        generator: &generator,
        comparison,
    });
    run.renderer.render_into(&model, &stage).map_err(|e| {
        let kind = if matches!(e, ReportError::Write { .. }) { Kind::Aws } else { Kind::Config };
        Failure::new(kind, e)
    })?;
    stage.commit().or_fail(Kind::Aws)?;
    Ok((analysis, model, names))
}

/// The flow logs a files or S3 wave reads: every S3 flow log of the inventory (the directory
/// or bucket holds their objects, whichever account or VPC they watch).
fn s3_flow_logs(inventory: &Inventory) -> Vec<String> {
    inventory
        .flow_logs
        .values()
        .filter(|f| f.destination_type == FlowLogDestination::S3)
        .map(|f| f.id.clone())
        .collect()
}
