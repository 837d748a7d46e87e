//! The summary printed on stdout after a run: a table on a terminal, plain lines for logs
//! and pipes, or one JSON object for scripts.

use std::fmt::Write as _;
use std::path::Path;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde::Serialize;

use crate::group::GroupView;
use crate::model::ReportModel;

/// How the summary is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A table of the top finding groups (for a terminal).
    Table,
    /// One line per point, nothing that needs a terminal to read (CI logs, `| tee`).
    Plain,
    /// One JSON object.
    Json,
}

/// The finding groups worth a line, rejected first, each once.
fn top_groups(model: &ReportModel) -> Vec<&GroupView> {
    let mut groups: Vec<&GroupView> =
        model.actions.iter().flat_map(|r| r.actions.iter()).flat_map(|a| &a.groups).collect();
    groups.extend(&model.unfixable.rejected);
    groups.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.id.cmp(&b.id)));
    groups.dedup_by(|a, b| a.id == b.id);
    let mut unanswered: Vec<&GroupView> = model.unfixable.unanswered.iter().collect();
    unanswered.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.id.cmp(&b.id)));
    groups.extend(unanswered);
    groups
}

fn cause(g: &GroupView) -> String {
    if g.kind == "rejected" { g.layer.clone() } else { g.likely_cause.clone() }
}

/// At most `limit` finding groups; `files` are the names written into `out_dir`.
pub fn summary(model: &ReportModel, out_dir: &Path, files: &[&str], limit: usize, style: Style) -> String {
    if style == Style::Json {
        return json(model, out_dir, files);
    }
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
    let _ = writeln!(out, "{}", model.headline);
    if let Some(since) = &model.since {
        match &since.problem {
            Some(problem) => {
                let _ = writeln!(out, "warning: not compared with {}: {problem}", since.file);
            }
            None => {
                let _ = writeln!(
                    out,
                    "since {}: {} new, {} still open, {} fixed",
                    since.date, since.new, since.still_open, since.fixed
                );
            }
        }
    }
    if !model.coverage.complete {
        let _ = writeln!(
            out,
            "warning: {} coverage gap(s), {} damaged object(s): some data is missing from this report",
            c.gaps, c.damaged
        );
    }
    if c.servers_without_flow_logs > 0 {
        let _ = writeln!(
            out,
            "warning: {} server(s) without flow logs are invisible to this report",
            c.servers_without_flow_logs
        );
    }
    let groups = top_groups(model);
    let total = groups.len();
    match style {
        Style::Table if !groups.is_empty() => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_width(120);
            table.set_header(["finding", "clients", "server", "service", "culprit / likely cause", "fix", "records"]);
            for g in groups.iter().take(limit) {
                table.add_row([
                    g.kind.to_owned(),
                    g.clients.text.clone(),
                    g.server.label.clone(),
                    g.service.clone(),
                    cause(g),
                    g.proposals.join(", "),
                    g.records_text.clone(),
                ]);
            }
            let _ = writeln!(out, "{table}");
        }
        _ => {
            for g in groups.iter().take(limit) {
                let fix =
                    if g.proposals.is_empty() { String::new() } else { format!(", fix {}", g.proposals.join(", ")) };
                let _ = writeln!(
                    out,
                    "{} {} -> {} {}: {}{fix} ({} records)",
                    g.kind,
                    g.clients.text,
                    g.server.label,
                    g.service,
                    cause(g),
                    g.records_text
                );
            }
        }
    }
    if total > limit {
        let _ = writeln!(out, "… and {} more in the report", total - limit);
    }
    let _ = writeln!(out, "report written to {}/ ({})", out_dir.display(), files.join(", "));
    out
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    wave: &'a str,
    window_start: &'a str,
    window_end: &'a str,
    headline: &'a str,
    counts: &'a crate::model::Counts,
    coverage_complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<JsonSince<'a>>,
    proposals: Vec<JsonProposal<'a>>,
    out_dir: String,
    files: &'a [&'a str],
}

#[derive(Serialize)]
struct JsonSince<'a> {
    file: &'a str,
    date: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<&'a str>,
    new: usize,
    still_open: usize,
    fixed: usize,
}

#[derive(Serialize)]
struct JsonProposal<'a> {
    id: &'a str,
    resource: &'a str,
    direction: &'a str,
    summary: &'a str,
    fixes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
}

fn json(model: &ReportModel, out_dir: &Path, files: &[&str]) -> String {
    let summary = JsonSummary {
        wave: &model.wave.name,
        window_start: &model.wave.window_start,
        window_end: &model.wave.window_end,
        headline: &model.headline,
        counts: &model.counts,
        coverage_complete: model.coverage.complete,
        since: model.since.as_ref().map(|s| JsonSince {
            file: &s.file,
            date: &s.date,
            problem: s.problem.as_deref(),
            new: s.new,
            still_open: s.still_open,
            fixed: s.fixed,
        }),
        proposals: model
            .actions
            .iter()
            .flat_map(|r| &r.actions)
            .map(|a| JsonProposal {
                id: &a.proposal.id,
                resource: &a.proposal.resource,
                direction: &a.proposal.direction,
                summary: &a.proposal.summary,
                fixes: a.findings,
                status: a.status,
            })
            .collect(),
        out_dir: out_dir.display().to_string(),
        files,
    };
    let mut text = serde_json::to_string(&summary).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    text.push('\n');
    text
}
