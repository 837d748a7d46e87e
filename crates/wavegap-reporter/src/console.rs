//! The summary printed on stdout after a run: counts, the top findings, where the files are.

use std::fmt::Write as _;
use std::path::Path;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::model::ReportModel;

/// At most `limit` findings, rejected first (most records first), then unanswered; `files`
/// are the names written into `out_dir`.
pub fn summary(model: &ReportModel, out_dir: &Path, files: &[&str], limit: usize) -> String {
    let c = &model.counts;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wave {}: {} rejected, {} unanswered, {} expected not seen, {} proposed changes ({} to {})",
        model.wave.name,
        c.rejected,
        c.unanswered,
        c.not_seen,
        c.proposals,
        model.wave.window_start,
        model.wave.window_end
    );
    if !model.coverage.complete {
        let _ = writeln!(
            out,
            "warning: {} coverage gap(s): some log groups or windows are missing from this report",
            c.gaps
        );
    }
    if c.servers_without_flow_logs > 0 {
        let _ = writeln!(
            out,
            "warning: {} server(s) without flow logs are invisible to this report",
            c.servers_without_flow_logs
        );
    }
    let mut rows: Vec<(u64, [String; 6])> = Vec::new();
    for app in &model.apps {
        for f in &app.rejected {
            rows.push((
                f.records,
                [
                    "rejected".into(),
                    app.name.clone(),
                    format!("{} -> {}", f.client.label, f.server.label),
                    f.service.clone(),
                    f.layer.clone(),
                    f.records_text.clone(),
                ],
            ));
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut unanswered: Vec<(u64, [String; 6])> = Vec::new();
    for app in &model.apps {
        for f in &app.unanswered {
            unanswered.push((
                f.records,
                [
                    "unanswered".into(),
                    app.name.clone(),
                    format!("{} -> {}", f.client.label, f.server.label),
                    f.service.clone(),
                    f.likely_cause.clone(),
                    f.records_text.clone(),
                ],
            ));
        }
    }
    unanswered.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.extend(unanswered);
    // A finding between two apps of the wave is listed under both: show it once.
    let mut seen = std::collections::BTreeSet::new();
    rows.retain(|(_, r)| seen.insert((r[0].clone(), r[2].clone(), r[3].clone())));
    if !rows.is_empty() {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_width(120);
        table.set_header(["finding", "app", "flow", "service", "culprit / likely cause", "records"]);
        let total = rows.len();
        for (_, r) in rows.into_iter().take(limit) {
            table.add_row(r);
        }
        let _ = writeln!(out, "{table}");
        if total > limit {
            let _ = writeln!(out, "… and {} more in the report", total - limit);
        }
    }
    let _ = writeln!(out, "report written to {}/ ({})", out_dir.display(), files.join(", "));
    out
}
