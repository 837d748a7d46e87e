//! Since the last run: each finding and proposal marked against a previous `findings.json`.
//!
//! Finding ids are built from the flow itself (`rejected/tcp/443/<client>/<server>/request`),
//! so the same flow has the same id in every run. A finding is *open* when it still needs
//! someone: a rejected flow the current rules drop, an unanswered flow not held back, an
//! expected flow not seen. Against the baseline's open findings, a finding open now is `new`
//! or `still open`; one open then and not now is `fixed since <baseline date>` (gone from the
//! window, or still logged as REJECT from before the change but allowed by the rules now).
//! Proposals are matched by the change they make (their `P…` numbers are positions).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use wavegap_core::findings::{Analysis, NotSeenFinding, Proposal, RejectedFinding, SCHEMA_VERSION};

use crate::json::UnansweredDoc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    New,
    StillOpen,
    Fixed,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::StillOpen => "still open",
            Status::Fixed => "fixed",
        }
    }
}

/// A previous run's `findings.json`, as far as the marks need it.
#[derive(Debug, Clone, Deserialize)]
pub struct Baseline {
    pub schema_version: u32,
    pub generated_at: String,
    pub wave: BaselineWave,
    pub findings: BaselineFindings,
    pub proposals: Vec<Proposal>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BaselineWave {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BaselineFindings {
    pub rejected: Vec<RejectedFinding>,
    pub unanswered: Vec<UnansweredDoc>,
    pub not_seen: Vec<NotSeenFinding>,
}

impl Baseline {
    /// Parses a `findings.json`; the error says what is wrong in words a person can act on.
    pub fn parse(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<u32>,
        }
        let version: Version = serde_json::from_str(text).map_err(|e| format!("not a wavegap findings.json: {e}"))?;
        match version.schema_version {
            Some(SCHEMA_VERSION) => {}
            Some(v) => return Err(format!("schema version {v}, this wavegap reads version {SCHEMA_VERSION}")),
            None => return Err("not a wavegap findings.json: no schema_version".to_owned()),
        }
        serde_json::from_str(text).map_err(|e| format!("not a wavegap findings.json: {e}"))
    }

    fn open_ids(&self) -> impl Iterator<Item = &str> {
        let f = &self.findings;
        f.rejected
            .iter()
            .filter(|r| r.is_open())
            .map(|r| r.id.as_str())
            .chain(f.unanswered.iter().filter(|u| u.is_open()).map(|u| u.id.as_str()))
            .chain(f.not_seen.iter().map(|n| n.id.as_str()))
    }
}

/// The baseline, indexed for marking the current run.
pub struct Since<'b> {
    pub baseline: &'b Baseline,
    /// Where it was read from.
    pub file: String,
    open_before: BTreeSet<&'b str>,
}

impl<'b> Since<'b> {
    pub fn new(baseline: &'b Baseline, file: &str) -> Self {
        Since { baseline, file: file.to_owned(), open_before: baseline.open_ids().collect() }
    }

    /// The mark of a current finding that is `open_now` or not.
    pub fn status(&self, id: &str, open_now: bool) -> Status {
        match (open_now, self.open_before.contains(id)) {
            (true, false) => Status::New,
            (false, true) => Status::Fixed,
            // Open in both runs, or in neither (a flow allowed both times): nothing changed.
            (true, true) | (false, false) => Status::StillOpen,
        }
    }

    /// The baseline's open findings that are not open now, with the words for what they were.
    pub fn fixed<'a>(&'a self, now: &'a Analysis) -> Vec<FixedFinding<'b>> {
        let open_now: BTreeSet<&str> = now.open_ids().collect();
        let present: BTreeSet<&str> =
            now.rejected.iter().map(|r| r.id.as_str()).chain(now.unanswered.iter().map(|u| u.id.as_str())).collect();
        let f = &self.baseline.findings;
        let gone = |id: &str| self.open_before.contains(id) && !open_now.contains(id);
        let mut out: Vec<FixedFinding<'b>> = Vec::new();
        for r in f.rejected.iter().filter(|r| gone(&r.id)) {
            out.push(FixedFinding { id: &r.id, was: Was::Rejected(r), still_logged: present.contains(r.id.as_str()) });
        }
        for u in f.unanswered.iter().filter(|u| gone(&u.id)) {
            out.push(FixedFinding {
                id: &u.id,
                was: Was::Unanswered(u),
                still_logged: present.contains(u.id.as_str()),
            });
        }
        for n in f.not_seen.iter().filter(|n| gone(&n.id)) {
            out.push(FixedFinding { id: &n.id, was: Was::NotSeen(n), still_logged: false });
        }
        out
    }

    /// Whether a current proposal makes a change the baseline already proposed.
    pub fn proposed_before(&self, p: &Proposal) -> bool {
        self.baseline.proposals.iter().any(|b| b.change == p.change)
    }

    /// The baseline's proposals that are no longer needed: their change is not proposed now
    /// and every finding they fixed is fixed.
    pub fn fixed_proposals(&self, now: &Analysis) -> Vec<&'b Proposal> {
        let fixed: BTreeSet<&str> = self.fixed(now).iter().map(|f| f.id).collect();
        self.baseline
            .proposals
            .iter()
            .filter(|b| !now.proposals.iter().any(|p| p.change == b.change))
            .filter(|b| b.fixes.iter().all(|id| fixed.contains(id.as_str())))
            .collect()
    }
}

/// A finding of the baseline that is not open any more.
pub struct FixedFinding<'b> {
    pub id: &'b str,
    pub was: Was<'b>,
    /// Its records are still in this window (a REJECT from before the rule changed, or an
    /// unanswered flow now held back).
    pub still_logged: bool,
}

pub enum Was<'b> {
    Rejected(&'b RejectedFinding),
    Unanswered(&'b UnansweredDoc),
    NotSeen(&'b NotSeenFinding),
}
