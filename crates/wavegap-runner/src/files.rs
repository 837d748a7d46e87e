//! The files and S3 sources behind a [`QueryPlan`]: each window's query runs over the
//! flow-log objects with the local engine ([`crate::local`]), read from disk or streamed from
//! a bucket ([`crate::s3`]), and the rows go through the same conversion as CloudWatch's.
//! Local scans cost nothing; a bucket's cost is its requests. The objects read are named in
//! the result, so the next cycle of a watch can leave them out ([`QueryPlan::read_before`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

use wavegap_core::flow::{DamagedInput, FlowData};
use wavegap_insights::Query;

use crate::RunnerError;
use crate::local::{self, LocalOptions};
use crate::plan::{Objects, QueryPlan};
use crate::progress::{Event, Progress};
use crate::rows::Aggregator;
use crate::s3::{self, Bucket};

/// Problems in the files listed on stderr; the rest are counted.
const SHOWN_PROBLEMS: usize = 5;

/// Runs a plan over flow-log objects (see [`QueryPlan::for_objects`]); blocking, on every
/// core, off the async runtime (a bucket's requests run on the current runtime's handle).
pub fn run(
    plan: &QueryPlan,
    strict: bool,
    s3: Option<&aws_sdk_s3::Client>,
    progress: &dyn Progress,
) -> Result<FlowData, RunnerError> {
    let (Some(objects), Some(chunk)) = (&plan.objects, plan.chunks.first()) else {
        return Err(RunnerError::NotAFilesPlan);
    };
    let reader = match objects {
        Objects::Dir(dir) => Reader::Dir(dir),
        Objects::Bucket { location, region } => {
            let client = s3.ok_or(RunnerError::NoS3Client)?.clone();
            let handle = tokio::runtime::Handle::try_current()
                .map_err(|e| RunnerError::Task { message: format!("no async runtime for the S3 client: {e}") })?;
            Reader::Bucket(Bucket::new(client, location.clone(), handle), region.as_deref())
        }
    };
    let query =
        Query::parse(&chunk.query).map_err(|e| RunnerError::MalformedQuery { chunk: 1, message: e.to_string() })?;
    // No service row limit locally: every group comes back, so nothing needs splitting; and
    // the rows go into the aggregator, which orders them itself.
    let options = LocalOptions {
        strict,
        limit: Some(usize::MAX),
        ordered: false,
        read_before: plan.read_before.clone(),
        ..LocalOptions::default()
    };
    progress.event(&Event::Planned { queries: plan.query_count() });
    let mut agg = Aggregator::new();
    let mut bad_rows = 0u64;
    let mut unread: Option<BTreeSet<PathBuf>> = None;
    let mut read = BTreeSet::new();
    for &window in &plan.windows {
        progress.event(&Event::Started { chunk: 1, window, query_id: "local" });
        // The rows go into the aggregator as the engine makes them.
        let results = || format!("results of the query over {objects} for {}..{}", window.start, window.end);
        let finish = |exec| agg.add_finished(exec, results);
        let out = match &reader {
            Reader::Dir(dir) => local::run_query_with(dir, &query, Some(window), &options, finish)?,
            Reader::Bucket(bucket, region) => bucket.run_query(&query, window, *region, &options, finish)?,
        };
        let (s, rows, bad) = out.result;
        bad_rows += bad;
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
        read.extend(out.read.iter().map(|f| local::object_name(f).into_owned()));
        agg.add_stats(s.records_scanned, s.records_matched, s.bytes_scanned);
        progress.event(&Event::Finished { chunk: 1, window, rows, bytes_scanned: s.bytes_scanned });
    }
    if bad_rows > 0 {
        tracing::warn!("{bad_rows} result rows could not be read and were skipped");
    }
    agg.add_skipped(unread.map_or(0, |u| u.len() as u64));
    let mut data = agg.finish(0.0);
    data.objects_read = read.into_iter().collect();
    if let Reader::Bucket(bucket, _) = reader {
        let requests = bucket.requests();
        data.stats.estimated_cost = s3::cost(requests);
        data.stats.s3 = Some(requests);
    }
    Ok(data)
}

/// Where a plan's objects are read from.
enum Reader<'a> {
    Dir(&'a std::path::Path),
    /// The bucket, and the one region read when the wave names it.
    Bucket(Bucket, Option<&'a str>),
}
