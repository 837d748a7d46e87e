//! `findings.json`: the versioned, documented layout for pipelines (see
//! `docs/findings-schema.md`). It is serialised with serde, not templated, so it is always
//! valid JSON whatever the data holds; the run time sits alone on the `generated_at` line.

use serde::Serialize;
use wavegap_core::findings::{
    Caveat, Noise, NotSeenFinding, Proposal, RejectedFinding, SCHEMA_VERSION, Summary, UnansweredFinding,
};
use wavegap_core::flow::{CoverageGap, DamagedInput};
use wavegap_core::wave::Source;

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
    pub findings: Findings,
    pub noise: Noise,
    pub proposals: Vec<Proposal>,
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
    pub rejected: Vec<RejectedFinding>,
    pub unanswered: Vec<UnansweredFinding>,
    pub not_seen: Vec<NotSeenFinding>,
}

fn none_if_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl FindingsDocument {
    pub(crate) fn new(input: &ReportInput<'_>, servers: &[ServerView], log_groups: &[String]) -> Self {
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
                source: match wave.source {
                    Source::CloudWatch => "cloudwatch",
                    Source::Files { .. } => "files",
                }
                .to_owned(),
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
                aggregates: flows.aggregates.len(),
            },
            coverage: Coverage {
                complete: flows.complete(),
                gaps: flows.gaps.clone(),
                damaged_input: flows.damaged.clone(),
                servers_without_flow_logs: servers.iter().filter(|s| !s.covered).map(|s| s.name.clone()).collect(),
                caveats: analysis.caveats.clone(),
            },
            findings: Findings {
                rejected: analysis.rejected.clone(),
                unanswered: analysis.unanswered.clone(),
                not_seen: analysis.not_seen.clone(),
            },
            noise: analysis.noise.clone(),
            proposals: analysis.proposals.clone(),
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}
