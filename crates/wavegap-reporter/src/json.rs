//! `findings.json`: the versioned, documented layout for pipelines (see
//! `docs/findings-schema.md`). It is serialised with serde, not templated, so it is always
//! valid JSON whatever the data holds; the run time sits alone on the `generated_at` line.

use serde::{Deserialize, Serialize};
use wavegap_core::direction::DirectionFrom;
use wavegap_core::findings::{
    Caveat, Evidence, FlowEnd, Noise, NotSeenFinding, Proposal, RejectedFinding, SCHEMA_VERSION, Summary,
    UnansweredFinding, UnansweredSignal,
};
use wavegap_core::flow::{CoverageGap, DamagedInput};

use crate::baseline::{Since, Status, Was};
use crate::format;
use crate::model::{ReportInput, ServerView};

#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingsDocument {
    pub schema_version: u32,
    pub generated_at: String,
    pub generator: String,
    pub wave: WaveDoc,
    pub summary: Summary,
    pub statistics: Statistics,
    pub coverage: Coverage,
    /// Against the previous run (`report --baseline`, or the findings.json it replaces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<SinceDoc>,
    pub findings: Findings,
    pub noise: Noise,
    pub proposals: Vec<Marked<Proposal>>,
}

/// A finding or proposal with its mark against the previous run, when there is one.
#[derive(Debug, Clone, Serialize)]
pub struct Marked<T> {
    #[serde(flatten)]
    pub item: T,
    /// `new`, `still-open` or `fixed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SinceDoc {
    /// The previous findings.json.
    pub file: String,
    pub generated_at: String,
    pub new: usize,
    pub still_open: usize,
    pub fixed: usize,
    /// The previous run's open findings that are not open now, as it recorded them.
    pub fixed_findings: Vec<FixedDoc>,
    /// The previous run's proposals that no finding needs any more.
    pub fixed_proposals: Vec<Proposal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixedDoc {
    /// `rejected`, `unanswered` or `not-seen`.
    pub kind: &'static str,
    pub id: String,
    /// Its records are still in this window (a REJECT from before the change, or an
    /// unanswered flow held back now).
    pub still_logged: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WaveDoc {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    /// `cloudwatch` or `files`.
    pub source: String,
    pub window: WindowDoc,
    pub apps: Vec<AppDoc>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WindowDoc {
    /// RFC 3339, UTC.
    pub start: String,
    pub end: String,
    /// Unix seconds, both ends inclusive.
    pub start_unix: i64,
    pub end_unix: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AppDoc {
    pub name: String,
    pub servers: Vec<ServerDoc>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerDoc {
    pub name: String,
    pub ip: String,
    pub role: Option<String>,
    pub on_premises: bool,
    pub eni: Option<String>,
    pub subnet: Option<String>,
    pub vpc: Option<String>,
    pub network_acl: Option<String>,
    pub security_groups: Vec<String>,
    pub flow_logs: Vec<String>,
    /// A flow log covers the server (always true on premises, where none can).
    pub covered: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Statistics {
    pub log_groups: Vec<String>,
    pub queries: u64,
    pub records_scanned: u64,
    pub records_matched: u64,
    pub bytes_scanned: u64,
    pub estimated_cost_usd: f64,
    pub price_per_gb_usd: f64,
    pub aggregates: usize,
    /// Queries, bytes, cost and gaps per account, for a wave whose log groups are in several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<wavegap_core::flow::AccountScan>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// No log group, window or object is missing, and none was read only in part.
    pub complete: bool,
    pub gaps: Vec<CoverageGap>,
    /// Objects whose records could not all be read, with their first problem.
    pub damaged_input: Vec<DamagedInput>,
    pub servers_without_flow_logs: Vec<String>,
    pub caveats: Vec<Caveat>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Findings {
    pub rejected: Vec<Marked<RejectedFinding>>,
    pub unanswered: Vec<Marked<UnansweredDoc>>,
    pub not_seen: Vec<Marked<NotSeenFinding>>,
}

/// An unanswered finding as findings.json lays it out, written and read back (as a baseline):
/// the core's finding with its likely cause and suppression in words.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnansweredDoc {
    pub id: String,
    pub client: FlowEnd,
    pub server: FlowEnd,
    pub protocol: u8,
    pub port: u16,
    pub direction_from: DirectionFrom,
    pub direction_split: bool,
    pub signal: UnansweredSignal,
    pub likely_cause: String,
    /// Why it is held back, when it is.
    pub suppressed: Option<String>,
    pub evidence: Evidence,
}

impl UnansweredDoc {
    pub fn new(f: &UnansweredFinding) -> Self {
        UnansweredDoc {
            id: f.id.clone(),
            client: f.client.clone(),
            server: f.server.clone(),
            protocol: f.protocol,
            port: f.port,
            direction_from: f.direction_from,
            direction_split: f.direction_split,
            signal: f.signal,
            likely_cause: format::likely_cause(f.likely_cause).to_owned(),
            suppressed: f.suppressed.as_ref().map(format::suppression),
            evidence: f.evidence.clone(),
        }
    }

    /// Still needs someone: not held back.
    pub fn is_open(&self) -> bool {
        self.suppressed.is_none()
    }
}

fn since_doc(since: &Since<'_>, input: &ReportInput<'_>) -> SinceDoc {
    let a = input.analysis;
    let (mut new, mut still_open) = (0, 0);
    for id in a.open_ids() {
        match since.status(id, true) {
            Status::New => new += 1,
            _ => still_open += 1,
        }
    }
    let fixed_findings: Vec<FixedDoc> = since
        .fixed(a)
        .into_iter()
        .map(|f| FixedDoc {
            kind: match f.was {
                Was::Rejected(_) => "rejected",
                Was::Unanswered(_) => "unanswered",
                Was::NotSeen(_) => "not-seen",
            },
            id: f.id.to_owned(),
            still_logged: f.still_logged,
        })
        .collect();
    SinceDoc {
        file: since.file.clone(),
        generated_at: since.baseline.generated_at.clone(),
        new,
        still_open,
        fixed: fixed_findings.len(),
        fixed_findings,
        fixed_proposals: since.fixed_proposals(a).into_iter().cloned().collect(),
    }
}

fn none_if_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl FindingsDocument {
    pub(crate) fn new(
        input: &ReportInput<'_>,
        servers: &[ServerView],
        log_groups: &[String],
        since: Option<&Since<'_>>,
    ) -> Self {
        let ReportInput { wave, inventory, flows, analysis, .. } = *input;
        let apps = wave
            .apps
            .iter()
            .map(|app| AppDoc {
                name: app.name.clone(),
                servers: app
                    .servers
                    .iter()
                    .filter_map(|s| servers.iter().find(|v| v.ip == s.ip.to_string()).map(|v| (s, v)))
                    .map(|(s, v)| {
                        let eni = inventory.eni_by_ip(s.ip).filter(|_| !s.on_premises);
                        ServerDoc {
                            name: s.name.clone(),
                            ip: v.ip.clone(),
                            role: s.role.clone(),
                            on_premises: s.on_premises,
                            eni: none_if_empty(&v.eni),
                            subnet: none_if_empty(&v.subnet),
                            vpc: none_if_empty(&v.vpc),
                            network_acl: none_if_empty(&v.nacl),
                            security_groups: eni.map(|e| e.security_groups.clone()).unwrap_or_default(),
                            flow_logs: eni
                                .map(|e| inventory.flow_logs_for_eni(e).map(|f| f.id.clone()).collect())
                                .unwrap_or_default(),
                            covered: v.covered,
                        }
                    })
                    .collect(),
            })
            .collect();
        FindingsDocument {
            schema_version: SCHEMA_VERSION,
            generated_at: input.generated_at.to_owned(),
            generator: input.generator.to_owned(),
            wave: WaveDoc {
                name: wave.name.clone(),
                description: wave.description.clone(),
                file: wave.path.display().to_string(),
                source: wave.source.kind().to_owned(),
                window: WindowDoc {
                    start: format::rfc3339(analysis.window.start),
                    end: format::rfc3339(analysis.window.end),
                    start_unix: analysis.window.start,
                    end_unix: analysis.window.end,
                },
                apps,
            },
            summary: analysis.summary.clone(),
            statistics: Statistics {
                log_groups: log_groups.to_vec(),
                queries: flows.stats.queries,
                records_scanned: flows.stats.records_scanned,
                records_matched: flows.stats.records_matched,
                bytes_scanned: flows.stats.bytes_scanned,
                estimated_cost_usd: flows.stats.estimated_cost,
                price_per_gb_usd: wave.query.price_per_gb,
                aggregates: input.aggregates,
                accounts: flows.stats.accounts.clone(),
            },
            coverage: Coverage {
                complete: flows.complete(),
                gaps: flows.gaps.clone(),
                damaged_input: flows.damaged.clone(),
                servers_without_flow_logs: servers.iter().filter(|s| !s.covered).map(|s| s.name.clone()).collect(),
                caveats: analysis.caveats.clone(),
            },
            since: since.map(|s| since_doc(s, input)),
            findings: Findings {
                rejected: analysis
                    .rejected
                    .iter()
                    .map(|f| marked(f, since.map(|s| s.status(&f.id, f.is_open()))))
                    .collect(),
                unanswered: analysis
                    .unanswered
                    .iter()
                    .map(|f| Marked {
                        item: UnansweredDoc::new(f),
                        status: since.map(|s| s.status(&f.id, f.is_open())),
                    })
                    .collect(),
                not_seen: analysis.not_seen.iter().map(|f| marked(f, since.map(|s| s.status(&f.id, true)))).collect(),
            },
            noise: analysis.noise.clone(),
            proposals: analysis
                .proposals
                .iter()
                .map(|p| marked(p, since.map(|s| if s.proposed_before(p) { Status::StillOpen } else { Status::New })))
                .collect(),
        }
    }

    /// Writes the document as pretty JSON with a final newline.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        use std::io::Write as _;
        // The serialiser writes a few bytes at a time: a buffer of its own type keeps those
        // writes from each going through `out`'s dynamic dispatch.
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

fn marked<T: Clone>(item: &T, status: Option<Status>) -> Marked<T> {
    Marked { item: item.clone(), status }
}
