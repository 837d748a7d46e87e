//! The files source behind a [`QueryPlan`]: each window's query runs over the flow-log files
//! with the local engine ([`crate::local`]), and the rows go through the same conversion as
//! CloudWatch's. Local scans cost nothing, so the estimated cost stays 0.

use wavegap_core::flow::{DamagedInput, FlowData};
use wavegap_insights::{Query, ResultRow};

use crate::RunnerError;
use crate::local::{self, LocalOptions};
use crate::plan::QueryPlan;
use crate::progress::{Event, Progress};
use crate::rows::Aggregator;

/// Problems in the files listed on stderr; the rest are counted.
const SHOWN_PROBLEMS: usize = 5;

/// Runs a files plan (see [`QueryPlan::for_files`]); blocking, on every core.
pub fn run(plan: &QueryPlan, strict: bool, progress: &dyn Progress) -> Result<FlowData, RunnerError> {
    let (Some(dir), Some(chunk)) = (&plan.files, plan.chunks.first()) else {
        return Err(RunnerError::NotAFilesPlan);
    };
    let query =
        Query::parse(&chunk.query).map_err(|e| RunnerError::MalformedQuery { chunk: 1, message: e.to_string() })?;
    // No service row limit locally: every group comes back, so nothing needs splitting.
    let options = LocalOptions { strict, limit: Some(usize::MAX), ..LocalOptions::default() };
    progress.event(&Event::Planned { queries: plan.query_count() });
    let mut agg = Aggregator::new();
    let mut bad_rows = 0u64;
    let mut unread: Option<std::collections::BTreeSet<std::path::PathBuf>> = None;
    for &window in &plan.windows {
        progress.event(&Event::Started { chunk: 1, window, query_id: "local" });
        let out = local::run_query(dir, &query, Some(window), &options)?;
        for p in out.problems.iter().take(SHOWN_PROBLEMS) {
            tracing::warn!("{p}");
        }
        if out.problem_count > SHOWN_PROBLEMS as u64 {
            tracing::warn!("{} more problems in the flow-log files", out.problem_count - SHOWN_PROBLEMS as u64);
        }
        for d in &out.damaged {
            agg.add_damaged(DamagedInput {
                object: d.file.display().to_string(),
                problems: d.problems,
                line: d.line,
                what: d.what.clone(),
            });
        }
        // Skipped in this window; an object is unread when every window skipped it.
        unread = Some(match unread {
            None => out.skipped.iter().cloned().collect(),
            Some(before) => out.skipped.iter().filter(|f| before.contains(*f)).cloned().collect(),
        });
        let s = out.result.statistics;
        agg.add_stats(s.records_scanned, s.records_matched, s.bytes_scanned);
        bad_rows += agg.add_rows(
            || format!("results of the query over {} for {}..{}", dir.display(), window.start, window.end),
            out.result.rows().map(ResultRow::fields),
        );
        let rows = out.result.len();
        progress.event(&Event::Finished { chunk: 1, window, rows, bytes_scanned: s.bytes_scanned });
    }
    if bad_rows > 0 {
        tracing::warn!("{bad_rows} result rows could not be read and were skipped");
    }
    agg.add_skipped(unread.map_or(0, |u| u.len() as u64));
    Ok(agg.finish(0.0))
}
