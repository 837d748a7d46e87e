//! `wavegap watch`: what each cycle of a cutover watch shows — the findings grouped as in the
//! reports, each group marked `new`, `open` or `fixed` — and the findings that are new.
//!
//! A [`Tracker`] lives for the whole watch and is handed every cycle's analysis (of all the
//! data so far). A finding is *open* while it needs someone: a rejected flow the rules drop
//! (stray single attempts are held back, as in the reports), an unanswered flow no caveat
//! holds back. It is `new` in the cycle it is first open and `open` after that. It is
//! `fixed` once it is not open any more — for a rejected flow: the re-resolved rules let it
//! through *and* no REJECT was logged since. The rules changed between the last cycle that
//! dropped it and the first that allowed it; a record starts at most one aggregation interval
//! before it ends, so a REJECT that ends more than an interval after the first allowing cycle
//! began after the change: the change did not fix the flow, and it stays open.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;
use wavegap_core::findings::{Analysis, RejectedFinding, UnansweredFinding};
use wavegap_core::inventory::Inventory;
use wavegap_core::wave::WaveConfig;

use crate::format;
use crate::group::{self, GroupView, Places};
use crate::json::UnansweredDoc;

/// How a group of findings stands this cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mark {
    /// First open this cycle.
    New,
    /// Open in an earlier cycle and still open.
    Open,
    /// Open in an earlier cycle, not any more.
    Fixed,
}

impl Mark {
    pub fn word(self) -> &'static str {
        match self {
            Mark::New => "new",
            Mark::Open => "open",
            Mark::Fixed => "fixed",
        }
    }
}

/// A finding the watch has seen open, as it was last seen.
#[derive(Debug, Clone)]
enum Seen {
    Rejected(RejectedFinding),
    Unanswered(UnansweredFinding),
}

#[derive(Debug, Clone)]
struct History {
    /// The cycle it was first open in (1-based).
    first_open: usize,
    /// When a cycle first found the rules letting it through (Unix seconds), since it was open.
    allowed_since: Option<i64>,
    last: Seen,
}

/// The marks of a whole watch, fed one analysis per cycle.
#[derive(Debug, Default)]
pub struct Tracker {
    cycle: usize,
    seen: HashMap<String, History>,
}

/// One group of the view.
#[derive(Debug, Clone, Serialize)]
pub struct LiveGroup {
    pub mark: Mark,
    /// `new` members of a group that was open before ("2 of 5 new"); 0 otherwise.
    pub new_members: usize,
    /// Rejected flows the rules now allow that were still rejected after the change.
    pub rejected_after_change: bool,
    pub group: GroupView,
}

/// A finding first open this cycle, as `--on-new` hands it on (findings.json's shape).
#[derive(Debug, Clone, Serialize)]
pub struct NewFinding {
    pub wave: String,
    pub cycle: usize,
    /// `rejected` or `unanswered`.
    pub kind: &'static str,
    pub finding: serde_json::Value,
}

/// What one cycle shows.
#[derive(Debug, Clone, Serialize)]
pub struct CycleView {
    pub cycle: usize,
    /// Open groups first (new, then open, most records first), then the fixed ones.
    pub groups: Vec<LiveGroup>,
    pub new: Vec<NewFinding>,
}

impl CycleView {
    pub fn count(&self, mark: Mark) -> usize {
        self.groups.iter().filter(|g| g.mark == mark).count()
    }
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A cycle with nothing to analyse yet (no query answered).
    pub fn idle(&mut self) -> CycleView {
        self.cycle += 1;
        CycleView { cycle: self.cycle, groups: Vec::new(), new: Vec::new() }
    }

    /// Marks the analysis of the next cycle: `now` is when the cycle's inventory was resolved,
    /// `interval` the longest aggregation interval of the flow logs (seconds).
    pub fn cycle(
        &mut self,
        wave: &WaveConfig,
        inventory: &Inventory,
        analysis: &Analysis,
        now: i64,
        interval: i64,
    ) -> CycleView {
        self.cycle += 1;
        let cycle = self.cycle;
        let mut new = Vec::new();
        let mut after_change: Vec<&str> = Vec::new();
        let mut open_rejected: Vec<&RejectedFinding> = Vec::new();
        for f in &analysis.rejected {
            let history = self.seen.get_mut(&f.id);
            let open = if f.is_open() {
                if let Some(h) = history {
                    h.allowed_since = None;
                    h.last = Seen::Rejected(f.clone());
                }
                f.held_back.is_none()
            } else if let Some(h) = history {
                // Allowed now: fixed, unless it was still rejected after the change.
                let since = *h.allowed_since.get_or_insert(now);
                h.last = Seen::Rejected(f.clone());
                let still = f.evidence.last_seen > since + interval;
                if still {
                    after_change.push(&f.id);
                }
                still
            } else {
                false
            };
            if open {
                open_rejected.push(f);
                if !self.seen.contains_key(&f.id) {
                    self.seen.insert(
                        f.id.clone(),
                        History { first_open: cycle, allowed_since: None, last: Seen::Rejected(f.clone()) },
                    );
                    new.push(new_finding(wave, cycle, "rejected", serde_json::to_value(f)));
                }
            }
        }
        let mut open_unanswered: Vec<&UnansweredFinding> = Vec::new();
        for f in analysis.unanswered.iter().filter(|f| f.is_open()) {
            open_unanswered.push(f);
            if let Some(h) = self.seen.get_mut(&f.id) {
                h.last = Seen::Unanswered(f.clone());
            } else {
                self.seen.insert(
                    f.id.clone(),
                    History { first_open: cycle, allowed_since: None, last: Seen::Unanswered(f.clone()) },
                );
                new.push(new_finding(wave, cycle, "unanswered", serde_json::to_value(UnansweredDoc::new(f))));
            }
        }

        let open_ids: std::collections::HashSet<&str> =
            open_rejected.iter().map(|f| f.id.as_str()).chain(open_unanswered.iter().map(|f| f.id.as_str())).collect();
        let mut fixed_rejected = Vec::new();
        let mut fixed_unanswered = Vec::new();
        let mut by_id: BTreeMap<&str, &History> = BTreeMap::new();
        for (id, h) in &self.seen {
            by_id.insert(id, h);
            if open_ids.contains(id.as_str()) {
                continue;
            }
            match &h.last {
                Seen::Rejected(f) => fixed_rejected.push(f),
                Seen::Unanswered(f) => fixed_unanswered.push(f),
            }
        }

        let places = Places::new(wave, inventory);
        let mark_open = |g: GroupView| {
            let new_members =
                g.members.iter().filter(|m| by_id.get(m.id.as_str()).is_some_and(|h| h.first_open == cycle)).count();
            let mark = if new_members == g.members.len() { Mark::New } else { Mark::Open };
            let rejected_after_change = g.members.iter().any(|m| after_change.contains(&m.id.as_str()));
            LiveGroup {
                mark,
                new_members: if mark == Mark::New { 0 } else { new_members },
                rejected_after_change,
                group: g,
            }
        };
        let mut groups: Vec<LiveGroup> = group::rejected(open_rejected, &places, None)
            .into_iter()
            .chain(group::unanswered(open_unanswered, &places, None))
            .map(mark_open)
            .collect();
        groups.sort_by(|a, b| {
            (a.mark, b.group.records).cmp(&(b.mark, a.group.records)).then_with(|| a.group.id.cmp(&b.group.id))
        });
        let fixed =
            |g: GroupView| LiveGroup { mark: Mark::Fixed, new_members: 0, rejected_after_change: false, group: g };
        let mut fixed: Vec<LiveGroup> = group::rejected(fixed_rejected, &places, None)
            .into_iter()
            .chain(group::unanswered(fixed_unanswered, &places, None))
            .map(fixed)
            .collect();
        fixed.sort_by(|a, b| a.group.id.cmp(&b.group.id));
        groups.extend(fixed);
        new.sort_by(|a, b| (a.kind, a.finding["id"].as_str()).cmp(&(b.kind, b.finding["id"].as_str())));
        CycleView { cycle, groups, new }
    }
}

fn new_finding(
    wave: &WaveConfig,
    cycle: usize,
    kind: &'static str,
    finding: Result<serde_json::Value, serde_json::Error>,
) -> NewFinding {
    NewFinding { wave: wave.name.clone(), cycle, kind, finding: finding.unwrap_or(serde_json::Value::Null) }
}

/// One line for a group: `new   rejected   app01 (10.0.2.20) tcp/8443 ← web01 (10.0.1.10) ·
/// request destination security group ingress · 2 records, last 09:50:25 · fix P001`.
pub fn line(g: &LiveGroup) -> String {
    let v = &g.group;
    let mut s = format!("{:<5} {:<10} {} {} ← {}", g.mark.word(), v.kind, v.server.label, v.service, v.clients.text);
    if g.mark == Mark::Fixed {
        s.push_str(if v.kind == "rejected" { " · the rules allow it now" } else { " · no longer unanswered" });
    } else if v.kind == "rejected" {
        let _ = write!(s, " · {} {}", v.leg, if v.layer.is_empty() { "-" } else { &v.layer });
    } else if !v.likely_cause.is_empty() {
        // The cause's first words; the report has the whole sentence.
        let _ = write!(s, " · {}", v.likely_cause.split(':').next().unwrap_or_default());
    }
    let last = chrono::DateTime::from_timestamp(v.last_seen_unix, 0).map(|t| t.format("%H:%M:%S").to_string());
    let _ = write!(s, " · {} record{}", v.records_text, if v.records == 1 { "" } else { "s" });
    if let Some(last) = last {
        let _ = write!(s, ", last {last}");
    }
    if !v.proposals.is_empty() && g.mark != Mark::Fixed {
        let _ = write!(s, " · fix {}", v.proposals.join(", "));
    }
    if g.new_members > 0 {
        let _ = write!(s, " · {} of {} new", g.new_members, v.findings);
    }
    if g.rejected_after_change {
        s.push_str(" · the rules allow it now, but REJECTs were logged after the change");
    }
    format::one_line(&s)
}

/// The state of the watch a view shows besides the findings.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub wave: String,
    pub cycle: usize,
    /// Unix seconds of this cycle.
    pub now: i64,
    /// The end of the data queried so far (Unix seconds), once any was.
    pub data_to: Option<i64>,
    /// The end of the latest record seen so far (Unix seconds).
    pub last_record: Option<i64>,
    pub queries: u64,
    pub bytes_scanned: u64,
    /// Dollars so far.
    pub cost: f64,
    /// Coverage still missing, one line each (retried next cycle).
    pub gaps: Vec<String>,
    /// Other things to say this cycle (a failed `--on-new`, an inventory that could not be
    /// resolved again).
    pub notes: Vec<String>,
    /// Unix seconds of the next cycle, when there is one.
    pub next: Option<i64>,
    /// Where the report is kept.
    pub report: String,
}

impl Status {
    fn headline(&self) -> String {
        let mut s = format!("wavegap watch {} · cycle {} · {}", self.wave, self.cycle, format::time(self.now));
        match self.data_to {
            Some(t) => {
                let _ = write!(s, " · data to {}", format::time(t));
            }
            None => s.push_str(" · no data yet"),
        }
        if let Some(t) = self.last_record {
            let _ = write!(s, " · last record {}", format::time(t));
        }
        s
    }

    fn scanned(&self) -> String {
        format!(
            "{} queries · {} scanned · about ${:.4} so far · {} coverage gap(s)",
            format::count(self.queries),
            format::bytes(self.bytes_scanned),
            self.cost,
            self.gaps.len()
        )
    }
}

/// The whole view for a terminal `width` columns wide, redrawn every cycle: the cursor home
/// and the screen cleared, the status, then one line per group, each cut to the width. Every
/// name and message in it has its control characters replaced ([`format::one_line`]), so the
/// only escape sequences are the view's own.
pub fn screen(status: &Status, view: &CycleView, color: bool, width: usize) -> String {
    let paint = |code: &str, text: &str| {
        let text = fit(&format::one_line(text), width);
        if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text }
    };
    let mut s = format!("\x1b[H\x1b[2J{}\n{}\n\n", paint("1", &status.headline()), paint("0", &status.scanned()));
    if view.groups.is_empty() {
        s.push_str("no rejected or unanswered flows so far\n");
    }
    for g in &view.groups {
        let text = line(g);
        let _ = writeln!(
            s,
            "{}",
            match g.mark {
                Mark::New => paint("1;31", &text),
                Mark::Open => paint("0", &text),
                Mark::Fixed => paint("32", &text),
            }
        );
    }
    for gap in &status.gaps {
        let _ = writeln!(s, "{}", paint("33", &format!("gap   {gap}")));
    }
    for note in &status.notes {
        let _ = writeln!(s, "{}", paint("0", &format!("note  {note}")));
    }
    let mut last = format!("report: {}", status.report);
    if let Some(next) = status.next {
        let _ = write!(last, " · next cycle at {}", format::time(next));
    }
    let _ = writeln!(s, "\n{}", paint("0", &last));
    s
}

/// `text` cut to `width` characters, the cut marked with `…`.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The view for a log (no terminal): what changed, one line each, no cursor movement.
#[derive(Debug, Default)]
pub struct Log {
    /// The mark each group was last printed with.
    shown: HashMap<String, Mark>,
}

impl Log {
    /// This cycle's lines: the status, then each group whose mark changed since the cycle
    /// before (or that gained new members), each gap and note.
    pub fn changes(&mut self, status: &Status, view: &CycleView) -> String {
        let mut s = format!("{} · {}\n", status.headline(), status.scanned());
        for g in &view.groups {
            let changed = self.shown.insert(group_key(&g.group), g.mark) != Some(g.mark) || g.new_members > 0;
            if changed {
                let _ = writeln!(s, "{}", line(g));
            }
        }
        for gap in &status.gaps {
            let _ = writeln!(s, "gap   {gap}");
        }
        for note in &status.notes {
            let _ = writeln!(s, "note  {note}");
        }
        s
    }
}

/// What keeps a group the same group from cycle to cycle as its members grow.
fn group_key(g: &GroupView) -> String {
    format!("{} {} {} {} {} {}", g.kind, g.server.ip, g.service, g.leg, g.layer, g.likely_cause)
}
