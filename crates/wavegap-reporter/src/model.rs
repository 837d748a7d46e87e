//! The view model every template renders: the analysis, flattened into display-ready rows.
//!
//! Building it does all the formatting (times, sizes, rule texts, diffs, diagrams) once, so
//! the templates stay declarative and every format says the same thing. The order is the
//! order of the work: the changes first, each with the findings it fixes grouped under it
//! ([`crate::group`]), then what no change can fix, then the apps. Order is stable: groups
//! by records, resources by id, apps as the wave lists them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Serialize;
use wavegap_core::findings::{
    AcceptedFlow, Analysis, Caveat, CaveatKind, FlowEnd, NotSeenFinding, PeerKind, Proposal, RejectedFinding,
    RuleChange, UnansweredFinding,
};
use wavegap_core::flow::{CoverageGap, FlowData, ScanStats};
use wavegap_core::flowlog::Action;
use wavegap_core::inventory::{Inventory, NaclEntry, Os, SgRule};
use wavegap_core::threads::joined;
use wavegap_core::wave::{App, Source, WaveConfig};

use crate::baseline::{Baseline, Since, Status, Was};
use crate::diagram::{self, Diagram, Edge, EdgeStatus};
use crate::fix;
use crate::format;
use crate::group::{self, GroupView, Places};
use crate::json::FindingsDocument;

/// What a report is built from. Only values: the reporter never calls AWS or reads the clock.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub wave: &'a WaveConfig,
    pub inventory: &'a Inventory,
    /// The flows' statistics, gaps and damaged objects (their aggregates may be released
    /// by then: `aggregates` says how many there were).
    pub flows: &'a FlowData,
    /// How many aggregates the analysis read.
    pub aggregates: usize,
    pub analysis: &'a Analysis,
    /// The log groups (CloudWatch) or flow-log sources (files) the queries covered.
    pub log_groups: &'a [String],
    /// The run time, RFC 3339: the one value that differs between two runs over the same data.
    pub generated_at: &'a str,
    /// `wavegap 0.1.0`.
    pub generator: &'a str,
    /// The previous run to mark findings against.
    pub comparison: Comparison<'a>,
}

/// The previous run a report is compared with.
#[derive(Debug, Clone, Copy, Default)]
pub enum Comparison<'a> {
    /// No previous run (the first report of a wave, or `--no-baseline`).
    #[default]
    None,
    Baseline {
        baseline: &'a Baseline,
        file: &'a str,
    },
    /// The previous findings.json could not be read: said in the report, nothing marked.
    Unreadable {
        file: &'a str,
        problem: &'a str,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    pub generated_at: String,
    pub generator: String,
    pub wave: WaveView,
    /// `3 changes fix 7,012 of 7,041 rejected flows`: the first line a reader sees.
    pub headline: String,
    pub counts: Counts,
    pub scan: ScanView,
    pub coverage: CoverageView,
    /// Against the previous run, when there is one.
    pub since: Option<SinceView>,
    /// The changes per security group and NACL: the diff, then each proposal with the
    /// findings it fixes.
    pub actions: Vec<ResourceActions>,
    /// What no proposal fixes.
    pub unfixable: Unfixable,
    pub apps: Vec<AppView>,
    pub noise: NoiseView,
    /// Every proposal, flat, for fix.sh and fix.tf.
    pub proposals: Vec<ProposalView>,
    /// One row per finding, for findings.csv.
    pub rows: Vec<FindingRow>,
    /// The test suites of junit.xml.
    pub suites: Vec<SuiteView>,
    /// The content of `findings.json`, which is serialised rather than templated.
    #[serde(skip)]
    pub document: FindingsDocument,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveView {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub source: String,
    pub window_start: String,
    pub window_end: String,
    pub window_duration: String,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// The labels of the wave's `[[accounts]]` (empty for a wave of one account).
    pub accounts: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub apps: usize,
    pub servers: usize,
    pub findings: usize,
    pub rejected: usize,
    /// Rejected findings some proposal fixes.
    pub rejected_fixed_by_proposals: usize,
    pub rejected_should_pass: usize,
    /// Rejected findings held back as single connection attempts.
    pub rejected_single_attempts: usize,
    pub rejected_groups: usize,
    pub unanswered: usize,
    pub unanswered_suppressed: usize,
    pub unanswered_groups: usize,
    pub not_seen: usize,
    pub proposals: usize,
    pub over_quota: usize,
    pub noise_records: String,
    pub ignored_records: String,
    pub servers_without_flow_logs: usize,
    pub gaps: usize,
    /// Objects (files, result pages) whose records could not all be read.
    pub damaged: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanView {
    pub log_groups: Vec<String>,
    pub queries: String,
    pub records_scanned: String,
    pub records_matched: String,
    pub bytes_scanned: String,
    pub estimated_cost: String,
    pub aggregates: String,
    /// Objects not opened because their names put them outside the window, in words (empty
    /// when none were).
    /// What the scan left out or did more than once, `; `-separated (empty: nothing).
    pub notes: String,
    /// Per account, for a wave whose log groups are in several (empty otherwise).
    pub accounts: Vec<AccountScanView>,
}

/// What the queries in one account scanned and cost.
#[derive(Debug, Clone, Serialize)]
pub struct AccountScanView {
    /// `prod (111122223333)`.
    pub account: String,
    pub queries: String,
    pub bytes_scanned: String,
    pub estimated_cost: String,
    pub gaps: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageView {
    pub complete: bool,
    pub gaps: Vec<GapView>,
    pub caveats: Vec<CaveatView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapView {
    pub log_groups: String,
    pub start: String,
    pub end: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaveatView {
    pub kind: String,
    pub message: String,
}

/// Since the previous run.
#[derive(Debug, Clone, Serialize)]
pub struct SinceView {
    pub file: String,
    /// The previous run's time (`2026-03-02 09:00:00 UTC`), or empty when it could not be read.
    pub date: String,
    /// Why nothing is marked, when the previous findings.json could not be read.
    pub problem: Option<String>,
    pub new: usize,
    pub still_open: usize,
    pub fixed: usize,
    pub proposals_new: usize,
    pub proposals_still_open: usize,
    pub proposals_fixed: usize,
    pub fixed_findings: Vec<FixedView>,
    pub fixed_proposals: Vec<FixedProposalView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixedView {
    pub id: String,
    pub kind: &'static str,
    pub client: String,
    pub server: String,
    pub service: String,
    /// What it is now: `no longer in the window`, `allowed by the current rules`, …
    pub now: String,
    /// Its records are still in this window, so it is also among the current findings.
    pub still_logged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixedProposalView {
    pub id: String,
    pub resource: String,
    pub summary: String,
}

/// The changes to one security group or network ACL.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceActions {
    pub change: ChangeGroup,
    pub actions: Vec<ActionView>,
}

/// One proposal and what it fixes.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    pub proposal: ProposalView,
    /// `new` or `still open` against the previous run.
    pub status: Option<&'static str>,
    /// The findings it fixes, grouped; a group that needs several proposals is under each.
    pub groups: Vec<GroupView>,
    pub findings: usize,
    pub findings_text: String,
    pub records_text: String,
}

/// What no proposal fixes, and what the report cannot see.
#[derive(Debug, Clone, Serialize)]
pub struct Unfixable {
    /// Rejected flows without a proposal (the rules allow them now, or the inventory is
    /// incomplete).
    pub rejected: Vec<GroupView>,
    /// Rejected flows held back as single connection attempts, across servers.
    pub single_attempts: Vec<GroupView>,
    /// Unanswered flows: nothing in AWS drops them.
    pub unanswered: Vec<GroupView>,
    /// Unanswered flows the data cannot prove (SKIPDATA, delivery lag, short window).
    pub held_back: Vec<GroupView>,
    pub not_seen: Vec<NotSeenView>,
    pub without_flow_logs: Vec<ServerView>,
    /// The unknown-inventory caveats.
    pub unknown_inventory: Vec<String>,
    /// Nothing in the section.
    pub empty: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppView {
    pub name: String,
    pub anchor: String,
    pub description: Option<String>,
    pub servers: Vec<ServerView>,
    pub rejected: usize,
    pub unanswered: usize,
    pub not_seen: usize,
    /// The proposals that fix its findings.
    pub proposals: Vec<String>,
    pub without_flow_logs: Vec<ServerView>,
    /// Servers whose flow logs record no REJECT: "0 rejected" would say nothing about them.
    pub rejects_invisible: Vec<String>,
    pub diagram: Diagram,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerView {
    pub name: String,
    pub ip: String,
    pub role: String,
    pub os: String,
    pub on_premises: bool,
    pub eni: String,
    pub subnet: String,
    pub vpc: String,
    pub security_groups: String,
    pub nacl: String,
    pub flow_logs: String,
    /// A flow log covers its ENI (or it stays on premises, where none can).
    pub covered: bool,
    /// Why it is invisible, when it is.
    pub problem: Option<String>,
    /// What its flow logs cannot show (`TrafficType` `ACCEPT` or `REJECT` only), when anything.
    pub blind_to: Option<String>,
    /// Its flow logs record no REJECT.
    pub logs_no_reject: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotSeenView {
    pub id: String,
    pub src: String,
    pub dst: String,
    pub service: String,
    pub service_name: String,
    pub note: String,
    pub status: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoiseView {
    pub outside: Vec<NoiseSourceView>,
    pub scanners: Vec<NoiseSourceView>,
    pub ignored: Vec<IgnoredView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoiseSourceView {
    pub source: String,
    pub records: String,
    pub targets: usize,
    pub ports: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IgnoredView {
    pub network: String,
    pub service: String,
    pub reason: String,
    pub records: String,
    pub flows: usize,
}

/// The account and region a change of a wave across accounts is made in.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeAccount {
    /// `account data (222222222222)`, or `the wave's own account`.
    pub label: String,
    pub region: String,
    /// `WAVEGAP_PROFILE_222222222222`; empty when the change is in the wave's own account.
    pub profile_var: String,
}

/// One proposed change, with everything fix.sh and fix.tf need, already escaped for them.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    pub id: String,
    pub anchor: String,
    /// `security group` or `network ACL`.
    pub kind: String,
    pub resource: String,
    pub resource_name: String,
    pub owner: Option<String>,
    /// For a wave of several accounts, where fix.sh runs this change: the region, and the
    /// environment variable naming the AWS CLI profile of the owning account (empty for the
    /// wave's own account).
    pub account: Option<ChangeAccount>,
    pub direction: String,
    /// `allow tcp 49172 from sg-0abc (orders-app)`.
    pub summary: String,
    /// `3 rejected flows: id, id, id`, or a count and three examples past five (every id
    /// is in findings.json).
    pub fixes_text: String,
    pub warnings: Vec<String>,
    pub over_quota: bool,
    /// The whole AWS CLI command to copy, with the wave's region and profile.
    pub cli: String,
    /// The `aws` arguments alone, each a shell word (fix.sh adds region and profile).
    pub cli_args: String,
    /// Network ACL entries: the `describe-network-acls --query` that prints 1 when the entry
    /// is already there (fix.sh's test when the rule number is taken).
    pub present_query: Option<String>,
    /// The Terraform resource block, as `terraform fmt` writes it.
    pub terraform: String,
}

/// The proposals for one security group or network ACL, as a diff against its current rules.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeGroup {
    pub kind: String,
    /// `Security group` or `Network ACL`, to start a sentence.
    pub title: String,
    pub resource: String,
    pub resource_name: String,
    pub proposals: Vec<String>,
    pub lines: Vec<DiffLine>,
    /// The diff as text (`+` added, ` ` kept, `@@` section headers).
    pub diff: String,
    /// A Markdown code fence longer than any backtick run in the diff.
    pub fence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffLine {
    /// `add`, `keep` or `section`.
    pub kind: String,
    pub text: String,
}

/// One finding, flat, for spreadsheets.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    /// `rejected`, `unanswered`, `not-seen` or `fixed`.
    pub kind: &'static str,
    pub id: String,
    pub status: &'static str,
    pub apps: String,
    pub client: String,
    pub client_name: String,
    pub client_network: String,
    pub server: String,
    pub server_name: String,
    pub service: String,
    pub leg: String,
    pub verdict: String,
    pub culprits: String,
    pub proposals: String,
    pub records: u64,
    pub bytes: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteView {
    pub name: String,
    pub tests: usize,
    pub failures: usize,
    pub skipped: usize,
    pub cases: Vec<CaseView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub classname: String,
    pub name: String,
    /// `failure`, `skipped` or `passed`.
    pub outcome: &'static str,
    pub message: String,
    pub detail: String,
}

pub fn build(input: &ReportInput<'_>) -> ReportModel {
    let ReportInput { wave, inventory, flows, analysis, .. } = *input;
    let places = Places::new(wave, inventory);
    let since = match input.comparison {
        Comparison::Baseline { baseline, file } => Some(Since::new(baseline, file)),
        _ => None,
    };
    let since = since.as_ref();
    let servers: Vec<ServerView> = wave.servers().map(|s| server_view(inventory, s)).collect();
    let server_by_ip: BTreeMap<String, &ServerView> = servers.iter().map(|s| (s.ip.clone(), s)).collect();
    let proposals: Vec<ProposalView> = analysis.proposals.iter().map(|p| proposal_view(wave, inventory, p)).collect();

    // The changes, each with the groups of findings it fixes.
    let (held, wanted): (Vec<&RejectedFinding>, Vec<&RejectedFinding>) =
        analysis.rejected.iter().partition(|f| f.held_back.is_some());
    let rejected_groups = group::rejected(wanted, &places, since);
    let single_attempts = group::single_attempts(held, &places, since);
    let mut actions: Vec<ResourceActions> = change_groups(inventory, &analysis.proposals, |_| true)
        .into_iter()
        .map(|change| ResourceActions { change, actions: Vec::new() })
        .collect();
    // Each proposal's groups and resource looked up once, not searched per proposal.
    let mut groups_of: BTreeMap<&str, Vec<&GroupView>> = BTreeMap::new();
    for g in &rejected_groups {
        for id in &g.proposals {
            groups_of.entry(id.as_str()).or_default().push(g);
        }
    }
    let resource_index: BTreeMap<String, usize> =
        actions.iter().enumerate().map(|(i, r)| (r.change.resource.clone(), i)).collect();
    for (p, view) in analysis.proposals.iter().zip(&proposals) {
        let groups: Vec<GroupView> =
            groups_of.get(p.id.as_str()).map(|gs| gs.iter().map(|g| (*g).clone()).collect()).unwrap_or_default();
        let findings: usize = groups.iter().map(|g| g.findings).sum();
        let records: u64 = groups.iter().map(|g| g.records).sum();
        let action = ActionView {
            proposal: view.clone(),
            status: since.map(|s| if s.proposed_before(p) { Status::StillOpen } else { Status::New }.word()),
            groups,
            findings,
            findings_text: format::count(findings as u64),
            records_text: format::count(records),
        };
        if let Some(&i) = resource_index.get(p.change.resource()) {
            actions[i].actions.push(action);
        }
    }

    // The changes that fix the most flows first.
    actions.sort_by(|a, b| {
        let fixed = |r: &ResourceActions| r.actions.iter().map(|a| a.findings).sum::<usize>();
        fixed(b).cmp(&fixed(a)).then_with(|| a.change.resource.cmp(&b.change.resource))
    });
    let (unanswered, held_back): (Vec<&UnansweredFinding>, Vec<&UnansweredFinding>) =
        analysis.unanswered.iter().partition(|f| f.is_open());
    let unanswered_groups = group::unanswered(unanswered, &places, since);
    let not_seen_open = |id: &str| since.map(|s| s.status(id, true).word());
    let unknown_inventory: Vec<String> = analysis
        .caveats
        .iter()
        .filter(|c| c.kind == CaveatKind::UnknownInventory)
        .map(|c| format::one_line(&c.message))
        .collect();
    let mut unfixable = Unfixable {
        rejected: rejected_groups.iter().filter(|g| g.proposals.is_empty()).cloned().collect(),
        single_attempts,
        unanswered: unanswered_groups.clone(),
        held_back: group::unanswered(held_back, &places, since),
        not_seen: analysis.not_seen.iter().map(|f| not_seen_view(f, not_seen_open(&f.id))).collect(),
        without_flow_logs: servers.iter().filter(|s| !s.covered).cloned().collect(),
        unknown_inventory,
        empty: false,
    };
    unfixable.empty = unfixable.rejected.is_empty()
        && unfixable.single_attempts.is_empty()
        && unfixable.unanswered.is_empty()
        && unfixable.held_back.is_empty()
        && unfixable.not_seen.is_empty()
        && unfixable.without_flow_logs.is_empty()
        && unfixable.unknown_inventory.is_empty();

    let summary = &analysis.summary;
    let without_flow_logs = servers.iter().filter(|s| !s.covered).count();
    let mut log_groups = input.log_groups.to_vec();
    log_groups.sort();
    log_groups.dedup();
    let fixed_by_proposals = analysis.rejected.iter().filter(|f| !f.proposals.is_empty()).count();
    let counts = Counts {
        apps: wave.apps.len(),
        servers: servers.len(),
        findings: analysis.rejected.len() + analysis.unanswered.len() + analysis.not_seen.len(),
        rejected: analysis.rejected.len(),
        rejected_fixed_by_proposals: fixed_by_proposals,
        rejected_should_pass: summary.rejected_should_pass,
        rejected_single_attempts: summary.rejected_single_attempts,
        rejected_groups: rejected_groups.len() + unfixable.single_attempts.len(),
        unanswered: analysis.unanswered.len(),
        unanswered_suppressed: summary.unanswered_suppressed,
        unanswered_groups: unanswered_groups.len(),
        not_seen: analysis.not_seen.len(),
        proposals: analysis.proposals.len(),
        over_quota: analysis.proposals.iter().filter(|p| p.over_quota).count(),
        noise_records: format::count(summary.noise_records),
        ignored_records: format::count(summary.ignored_records),
        servers_without_flow_logs: without_flow_logs,
        gaps: flows.gaps.len(),
        damaged: flows.damaged.len(),
    };
    let headline = headline(&counts);
    let stats = &flows.stats;
    let scan = ScanView {
        log_groups: log_groups.clone(),
        queries: format::count(stats.queries),
        records_scanned: format::count(stats.records_scanned),
        records_matched: format::count(stats.records_matched),
        bytes_scanned: format::bytes(stats.bytes_scanned),
        estimated_cost: match (&wave.source, stats.s3) {
            (Source::Files { .. }, _) => "$0 (local files, no CloudWatch charge)".to_owned(),
            (Source::S3 { .. }, requests) => {
                let r = requests.unwrap_or_default();
                format!(
                    "${:.4} for {} S3 request(s) ({} LIST, {} GET) reading {}",
                    stats.estimated_cost,
                    format::count(r.list + r.get),
                    format::count(r.list),
                    format::count(r.get),
                    format::bytes(r.bytes)
                )
            }
            (Source::CloudWatch, _) => format!("${:.4} at ${}/GB", stats.estimated_cost, wave.query.price_per_gb),
        },
        aggregates: format::count(input.aggregates as u64),
        notes: scan_notes(stats),
        accounts: stats
            .accounts
            .iter()
            .map(|a| AccountScanView {
                account: wave.account(&a.account).map_or_else(|| a.account.clone(), wavegap_core::wave::Account::label),
                queries: format::count(a.queries),
                bytes_scanned: format::bytes(a.bytes_scanned),
                estimated_cost: format!("${:.4}", a.estimated_cost),
                gaps: a.gaps,
            })
            .collect(),
    };
    let coverage = CoverageView {
        complete: flows.complete(),
        gaps: flows.gaps.iter().map(gap_view).collect(),
        caveats: analysis.caveats.iter().map(caveat_view).collect(),
    };
    let noise = NoiseView {
        outside: analysis.noise.outside.iter().map(noise_source_view).collect(),
        scanners: analysis.noise.scanners.iter().map(noise_source_view).collect(),
        ignored: analysis
            .noise
            .ignored
            .iter()
            .map(|i| IgnoredView {
                network: i.network.to_string(),
                service: i.service.clone().unwrap_or_else(|| "all".to_owned()),
                reason: format::one_line(&i.reason),
                records: format::count(i.records),
                flows: i.flows,
            })
            .collect(),
    };
    let since_view = since_view(input, since, inventory);
    // The findings' rows, the document with the test suites, and the second half of the
    // apps each on a thread of its own while the first half of the apps is drawn: each reads
    // the analysis only, and which takes longest depends on the wave (its findings or its
    // diagrams).
    let accepted = AcceptedByEnd::new(&analysis.accepted);
    let (rows, (suites, document), apps) = std::thread::scope(|scope| {
        let rows = scope.spawn(|| finding_rows(&places, analysis, since, since_view.as_ref()));
        let document = scope.spawn(|| {
            (
                suites(wave, analysis, flows, &counts, since, since_view.as_ref()),
                FindingsDocument::new(input, &servers, &log_groups, since),
            )
        });
        let (first, second) = wave.apps.split_at(wave.apps.len() / 2);
        let later = scope.spawn(|| app_views(second, analysis, &places, &accepted, &server_by_ip));
        let mut apps = app_views(first, analysis, &places, &accepted, &server_by_ip);
        apps.extend(joined(later));
        (joined(rows), joined(document), apps)
    });
    let window = analysis.window;
    ReportModel {
        generated_at: input.generated_at.to_owned(),
        generator: input.generator.to_owned(),
        wave: WaveView {
            name: wave.name.clone(),
            description: wave.description.clone(),
            file: wave.path.display().to_string(),
            source: wave.source.to_string(),
            window_start: format::time(window.start),
            window_end: format::time(window.end),
            window_duration: format::duration(window.seconds()),
            region: wave.aws.region.clone(),
            profile: wave.aws.profile.clone(),
            accounts: wave.accounts.iter().map(wavegap_core::wave::Account::label).collect(),
        },
        headline,
        counts,
        scan,
        coverage,
        since: since_view,
        actions,
        unfixable,
        apps,
        noise,
        proposals,
        rows,
        suites,
        document,
    }
}

/// Each app's view: its servers, its findings' counts and proposals, and its diagram.
fn app_views(
    wave_apps: &[App],
    analysis: &Analysis,
    places: &Places<'_>,
    accepted: &AcceptedByEnd<'_>,
    server_by_ip: &BTreeMap<String, &ServerView>,
) -> Vec<AppView> {
    let mut apps = Vec::with_capacity(wave_apps.len());
    for app in wave_apps {
        let in_app = |end: &FlowEnd| end.in_wave && end.app.as_deref() == Some(app.name.as_str());
        let rejected: Vec<&RejectedFinding> =
            analysis.rejected.iter().filter(|f| in_app(&f.client) || in_app(&f.server)).collect();
        let unanswered: Vec<&UnansweredFinding> =
            analysis.unanswered.iter().filter(|f| in_app(&f.client) || in_app(&f.server)).collect();
        let app_servers: BTreeSet<&str> = app.servers.iter().map(|s| s.name.as_str()).collect();
        let not_seen = analysis
            .not_seen
            .iter()
            .filter(|f| app_servers.contains(f.src.as_str()) || app_servers.contains(f.dst.as_str()))
            .count();
        let mut app_proposals: Vec<String> = rejected.iter().flat_map(|f| f.proposals.iter().cloned()).collect();
        app_proposals.sort();
        app_proposals.dedup();
        let views: Vec<ServerView> =
            app.servers.iter().filter_map(|s| server_by_ip.get(&s.ip.to_string()).map(|v| (*v).clone())).collect();
        // Single connection attempts are strays, not the app's dependencies: not drawn.
        let drawn: Vec<&RejectedFinding> = rejected.iter().copied().filter(|f| f.held_back.is_none()).collect();
        let diagram = app_diagram(places, accepted, &app.name, &app.servers, &drawn, &unanswered);
        apps.push(AppView {
            name: app.name.clone(),
            anchor: format!("app-{}", format::slug(&app.name)),
            description: app.description.clone(),
            without_flow_logs: views.iter().filter(|s| !s.covered).cloned().collect(),
            rejects_invisible: views.iter().filter(|s| s.logs_no_reject).map(|s| s.name.clone()).collect(),
            servers: views,
            rejected: rejected.len(),
            unanswered: unanswered.iter().filter(|f| f.is_open()).count(),
            not_seen,
            proposals: app_proposals,
            diagram,
        });
    }
    apps
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", format::count(n as u64), if n == 1 { one } else { many })
}

fn headline(c: &Counts) -> String {
    let fix = fix_headline(c);
    match c.rejected_single_attempts {
        0 => fix,
        n => format!("{fix}; {} held back", plural(n, "single connection attempt", "single connection attempts")),
    }
}

fn fix_headline(c: &Counts) -> String {
    let rejected = plural(c.rejected, "rejected flow", "rejected flows");
    match (c.proposals, c.rejected) {
        (0, 0) => "Nothing to change: no rejected flows".to_owned(),
        (0, _) => format!("No change can fix the {rejected}: see what no change can fix"),
        (p, _) if c.rejected_fixed_by_proposals == c.rejected => {
            format!("{} fix {}{rejected}", plural(p, "change", "changes"), if c.rejected > 1 { "all " } else { "the " })
        }
        (p, _) => format!(
            "{} fix {} of {rejected}",
            plural(p, "change", "changes"),
            format::count(c.rejected_fixed_by_proposals as u64)
        ),
    }
}

fn since_view(input: &ReportInput<'_>, since: Option<&Since<'_>>, inventory: &Inventory) -> Option<SinceView> {
    let empty = |file: &str, date: String, problem: Option<String>| SinceView {
        file: file.to_owned(),
        date,
        problem,
        new: 0,
        still_open: 0,
        fixed: 0,
        proposals_new: 0,
        proposals_still_open: 0,
        proposals_fixed: 0,
        fixed_findings: Vec::new(),
        fixed_proposals: Vec::new(),
    };
    match input.comparison {
        Comparison::None => None,
        Comparison::Unreadable { file, problem } => Some(empty(file, String::new(), Some(format::one_line(problem)))),
        Comparison::Baseline { baseline, file } => {
            let since = since?;
            let analysis = input.analysis;
            let date = chrono::DateTime::parse_from_rfc3339(&baseline.generated_at)
                .map_or_else(|_| format::one_line(&baseline.generated_at), |t| format::time(t.timestamp()));
            let mut view = empty(file, date, None);
            for id in analysis.open_ids() {
                match since.status(id, true) {
                    Status::New => view.new += 1,
                    _ => view.still_open += 1,
                }
            }
            view.fixed_findings = since
                .fixed(analysis)
                .into_iter()
                .map(|f| {
                    let (kind, client, server, service, now) = match f.was {
                        Was::Rejected(r) => (
                            "rejected",
                            group::end_label(&r.client).label,
                            group::end_label(&r.server).label,
                            format::service(r.protocol, r.port),
                            if f.still_logged {
                                "allowed by the current rules (its REJECT records predate the change)"
                            } else {
                                "no longer rejected in the window"
                            },
                        ),
                        Was::Unanswered(u) => (
                            "unanswered",
                            group::end_label(&u.client).label,
                            group::end_label(&u.server).label,
                            format::service(u.protocol, u.port),
                            if f.still_logged { "held back: the data cannot prove it now" } else { "answered" },
                        ),
                        Was::NotSeen(n) => (
                            "not-seen",
                            format::one_line(&n.src),
                            format::one_line(&n.dst),
                            format::service(n.protocol, n.port),
                            "seen in the window",
                        ),
                    };
                    FixedView {
                        id: f.id.to_owned(),
                        kind,
                        client,
                        server,
                        service,
                        now: now.to_owned(),
                        still_logged: f.still_logged,
                    }
                })
                .collect();
            view.fixed = view.fixed_findings.len();
            for p in &analysis.proposals {
                if since.proposed_before(p) {
                    view.proposals_still_open += 1;
                } else {
                    view.proposals_new += 1;
                }
            }
            view.fixed_proposals = since
                .fixed_proposals(analysis)
                .into_iter()
                .map(|p| {
                    let v = proposal_view(input.wave, inventory, p);
                    FixedProposalView { id: p.id.clone(), resource: v.resource, summary: v.summary }
                })
                .collect();
            view.proposals_fixed = view.fixed_proposals.len();
            Some(view)
        }
    }
}

fn culprit_text(f: &RejectedFinding) -> String {
    f.culprits.iter().map(|c| format!("{} {}: {}", c.hop.label(), c.resource, c.rule)).collect::<Vec<_>>().join(" | ")
}

fn finding_apps(ends: [&FlowEnd; 2]) -> String {
    let mut apps: Vec<&str> = ends.iter().filter(|e| e.in_wave).filter_map(|e| e.app.as_deref()).collect();
    apps.dedup();
    apps.join(" ")
}

fn finding_rows(
    places: &Places<'_>,
    analysis: &Analysis,
    since: Option<&Since<'_>>,
    since_view: Option<&SinceView>,
) -> Vec<FindingRow> {
    let status = |id: &str, open: bool| since.map_or("", |s| s.status(id, open).word());
    let mut rows = Vec::with_capacity(analysis.rejected.len() + analysis.unanswered.len() + analysis.not_seen.len());
    for f in &analysis.rejected {
        rows.push(FindingRow {
            kind: "rejected",
            id: f.id.clone(),
            status: status(&f.id, f.is_open()),
            apps: finding_apps([&f.client, &f.server]),
            client: f.client.ip.to_string(),
            client_name: f.client.name().map(format::one_line).unwrap_or_default(),
            client_network: places.network(&f.client),
            server: f.server.ip.to_string(),
            server_name: f.server.name().map(format::one_line).unwrap_or_default(),
            service: format::service(f.protocol, f.port),
            leg: to_kebab(&f.leg),
            verdict: f.held_back.map_or_else(|| to_kebab(&f.attribution), |h| to_kebab(&h)),
            culprits: format::one_line(&culprit_text(f)),
            proposals: f.proposals.join(" "),
            records: f.evidence.records,
            bytes: f.evidence.bytes,
            first_seen: format::rfc3339(f.evidence.first_seen),
            last_seen: format::rfc3339(f.evidence.last_seen),
            detail: format::one_line(&f.explanation),
        });
    }
    for f in &analysis.unanswered {
        rows.push(FindingRow {
            kind: "unanswered",
            id: f.id.clone(),
            status: status(&f.id, f.is_open()),
            apps: finding_apps([&f.client, &f.server]),
            client: f.client.ip.to_string(),
            client_name: f.client.name().map(format::one_line).unwrap_or_default(),
            client_network: places.network(&f.client),
            server: f.server.ip.to_string(),
            server_name: f.server.name().map(format::one_line).unwrap_or_default(),
            service: format::service(f.protocol, f.port),
            leg: String::new(),
            verdict: if f.suppressed.is_some() { "held-back".to_owned() } else { to_kebab(&f.signal) },
            culprits: String::new(),
            proposals: String::new(),
            records: f.evidence.records,
            bytes: f.evidence.bytes,
            first_seen: format::rfc3339(f.evidence.first_seen),
            last_seen: format::rfc3339(f.evidence.last_seen),
            detail: match &f.suppressed {
                Some(why) => format::one_line(&format::suppression(why)),
                None => format::likely_cause(f.likely_cause).to_owned(),
            },
        });
    }
    for f in &analysis.not_seen {
        rows.push(FindingRow {
            kind: "not-seen",
            id: f.id.clone(),
            status: status(&f.id, true),
            apps: String::new(),
            client: String::new(),
            client_name: format::one_line(&f.src),
            client_network: String::new(),
            server: String::new(),
            server_name: format::one_line(&f.dst),
            service: format::service(f.protocol, f.port),
            leg: String::new(),
            verdict: "not-seen".to_owned(),
            culprits: String::new(),
            proposals: String::new(),
            records: 0,
            bytes: 0,
            first_seen: String::new(),
            last_seen: String::new(),
            detail: format::one_line(&f.note),
        });
    }
    // Fixed findings that are gone from the window (the others have their row above).
    let gone = since_view.map(|s| s.fixed_findings.as_slice()).unwrap_or_default().iter().filter(|f| !f.still_logged);
    for f in gone {
        rows.push(FindingRow {
            kind: f.kind,
            id: f.id.clone(),
            status: "fixed",
            apps: String::new(),
            client: f.client.clone(),
            client_name: String::new(),
            client_network: String::new(),
            server: f.server.clone(),
            server_name: String::new(),
            service: f.service.clone(),
            leg: String::new(),
            verdict: "fixed".to_owned(),
            culprits: String::new(),
            proposals: String::new(),
            records: 0,
            bytes: 0,
            first_seen: String::new(),
            last_seen: String::new(),
            detail: f.now.clone(),
        });
    }
    rows
}

fn case(classname: &str, name: &str, outcome: &'static str, message: String, detail: String) -> CaseView {
    CaseView { classname: classname.to_owned(), name: format::one_line(name), outcome, message, detail }
}

fn suite(name: &str, cases: Vec<CaseView>) -> SuiteView {
    SuiteView {
        name: name.to_owned(),
        tests: cases.len(),
        failures: cases.iter().filter(|c| c.outcome == "failure").count(),
        skipped: cases.iter().filter(|c| c.outcome == "skipped").count(),
        cases,
    }
}

/// junit.xml: an expected flow passes unless it was not seen or is rejected; every open
/// finding fails; held-back ones are skipped; fixed ones pass; coverage is one case.
fn suites(
    wave: &WaveConfig,
    analysis: &Analysis,
    flows: &FlowData,
    counts: &Counts,
    marks: Option<&Since<'_>>,
    since: Option<&SinceView>,
) -> Vec<SuiteView> {
    let fixed = |id: &str, open: bool| marks.is_some_and(|s| s.status(id, open) == Status::Fixed);
    let class = format!("wavegap.{}", format::slug(&wave.name));
    let mut expected = Vec::new();
    for x in &wave.expected_flows {
        let (src_name, dst_name) = (x.src.to_string(), x.dst.to_string());
        let flow = x.resolve(wave);
        let name = format!("{src_name} -> {dst_name} {}", format::service(x.protocol, x.port));
        let not_seen = analysis
            .not_seen
            .iter()
            .find(|n| n.src == src_name && n.dst == dst_name && n.protocol == x.protocol && n.port == x.port);
        let rejected = analysis
            .rejected
            .iter()
            .filter(|r| r.is_open())
            .find(|r| flow.matches(r.client.ip, r.server.ip, r.protocol, r.port));
        expected.push(match (not_seen, rejected) {
            (Some(n), _) => case(&class, &name, "failure", "not seen".to_owned(), format::one_line(&n.note)),
            (None, Some(r)) => case(
                &class,
                &name,
                "failure",
                "rejected".to_owned(),
                format!("{}: {}", r.id, format::one_line(&r.explanation)),
            ),
            (None, None) => case(&class, &name, "passed", String::new(), String::new()),
        });
    }
    let mut rejected: Vec<CaseView> = analysis
        .rejected
        .iter()
        .map(|f| {
            let name = &f.id;
            if fixed(&f.id, f.is_open()) {
                case(&class, name, "passed", String::new(), String::new())
            } else if !f.is_open() {
                case(
                    &class,
                    name,
                    "skipped",
                    "the current configuration allows it".to_owned(),
                    format::one_line(&f.explanation),
                )
            } else if f.held_back.is_some() {
                case(
                    &class,
                    name,
                    "skipped",
                    "held back: a single connection attempt, no rule proposed".to_owned(),
                    format::one_line(&f.explanation),
                )
            } else {
                let fix = if f.proposals.is_empty() {
                    "no proposal".to_owned()
                } else {
                    format!("fixed by {}", f.proposals.join(", "))
                };
                case(&class, name, "failure", format!("rejected: {fix}"), format::one_line(&f.explanation))
            }
        })
        .collect();
    let mut unanswered: Vec<CaseView> = analysis
        .unanswered
        .iter()
        .map(|f| match &f.suppressed {
            Some(why) => {
                let why = format::one_line(&format::suppression(why));
                case(&class, &f.id, "skipped", format!("held back: {why}"), String::new())
            }
            None => {
                case(&class, &f.id, "failure", "unanswered".to_owned(), format::likely_cause(f.likely_cause).into())
            }
        })
        .collect();
    for f in since.map(|s| s.fixed_findings.as_slice()).unwrap_or_default().iter().filter(|f| !f.still_logged) {
        let c = case(&class, &f.id, "passed", String::new(), String::new());
        match f.kind {
            "rejected" => rejected.push(c),
            "unanswered" => unanswered.push(c),
            _ => expected.push(c),
        }
    }
    let coverage = vec![if flows.complete() {
        case(&class, "coverage complete", "passed", String::new(), String::new())
    } else {
        case(
            &class,
            "coverage complete",
            "failure",
            format!("{} coverage gap(s), {} damaged object(s)", counts.gaps, counts.damaged),
            "data is missing from this report: see its coverage section".to_owned(),
        )
    }];
    vec![
        suite("expected flows", expected),
        suite("rejected flows", rejected),
        suite("unanswered flows", unanswered),
        suite("coverage", coverage),
    ]
}

fn server_view(inventory: &Inventory, s: &wavegap_core::wave::Server) -> ServerView {
    let eni = inventory.eni_by_ip(s.ip);
    let mut view = ServerView {
        name: s.name.clone(),
        ip: s.ip.to_string(),
        role: s.role.clone().unwrap_or_default(),
        os: s.os.map(os_name).unwrap_or_default().to_owned(),
        on_premises: s.on_premises,
        eni: String::new(),
        subnet: String::new(),
        vpc: String::new(),
        security_groups: String::new(),
        nacl: String::new(),
        flow_logs: String::new(),
        covered: true,
        problem: None,
        blind_to: None,
        logs_no_reject: false,
    };
    if s.on_premises {
        return view;
    }
    let Some(eni) = eni else {
        view.covered = false;
        view.problem = Some("not found in the inventory: no ENI has this address".to_owned());
        return view;
    };
    view.eni.clone_from(&eni.id);
    view.subnet.clone_from(&eni.subnet_id);
    view.vpc.clone_from(&eni.vpc_id);
    view.security_groups =
        eni.security_groups.iter().map(|g| format::group_ref(inventory, g)).collect::<Vec<_>>().join(", ");
    view.nacl = inventory.nacl_for_subnet(&eni.subnet_id).map(|a| a.id.clone()).unwrap_or_default();
    let logs: Vec<&str> = inventory.flow_logs_for_eni(eni).map(|f| f.id.as_str()).collect();
    view.flow_logs = logs.join(", ");
    if logs.is_empty() {
        view.covered = false;
        view.problem = Some("no flow log covers its ENI, subnet or VPC: this server is invisible".to_owned());
    } else {
        let blind_to = inventory.logged_traffic(eni).blind_to();
        view.logs_no_reject = blind_to == Some(Action::Reject);
        view.blind_to = blind_to.map(|missing| match missing {
            Action::Reject => "ACCEPT only: rejected flows are not logged".to_owned(),
            Action::Accept => "REJECT only: accepted flows and answers are not logged".to_owned(),
        });
    }
    view
}

fn os_name(os: Os) -> &'static str {
    match os {
        Os::Linux => "linux",
        Os::Windows => "windows",
        Os::WindowsLegacy => "windows (2003 or older)",
    }
}

fn to_kebab<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn not_seen_view(f: &NotSeenFinding, status: Option<&'static str>) -> NotSeenView {
    NotSeenView {
        status,
        id: f.id.clone(),
        src: format::one_line(&f.src),
        dst: format::one_line(&f.dst),
        service: format::service(f.protocol, f.port),
        service_name: format::service_name(f.protocol, f.port).to_owned(),
        note: format::one_line(&f.note),
    }
}

/// What the "Data scanned" row adds to its figures: objects left unopened, and a split of
/// the servers that scanned every log group more than once.
fn scan_notes(stats: &ScanStats) -> String {
    let mut notes = Vec::new();
    if stats.objects_skipped > 0 {
        notes.push(format!(
            "{} object(s) not opened: their names put them outside the window (objects named from 15 minutes \
             before its start to an hour after its end are read, for delivery lag)",
            format::count(stats.objects_skipped)
        ));
    }
    if stats.server_parts > 1 {
        let n = stats.server_parts;
        notes.push(format!(
            "the servers were too many for one query of 10,000 characters and were split into {n} queries per log \
             group: each log group was scanned {n} times, and the bytes and cost above count every scan"
        ));
    }
    notes.join("; ")
}

fn gap_view(g: &CoverageGap) -> GapView {
    let groups = g.log_groups.join(", ");
    GapView {
        log_groups: match &g.account {
            Some(account) => format!("{groups} (account {account})"),
            None => groups,
        },
        start: format::time(g.window.start),
        end: format::time(g.window.end),
        reason: format::one_line(&g.reason),
    }
}

fn caveat_view(c: &Caveat) -> CaveatView {
    CaveatView { kind: to_kebab(&c.kind), message: format::one_line(&c.message) }
}

fn noise_source_view(n: &wavegap_core::findings::NoiseSource) -> NoiseSourceView {
    NoiseSourceView {
        source: n.source.to_string(),
        records: format::count(n.records),
        targets: n.targets,
        ports: n.sample_ports.join(", "),
        first_seen: format::time(n.first_seen),
        last_seen: format::time(n.last_seen),
    }
}

fn resource_name(inventory: &Inventory, change: &RuleChange) -> String {
    match change {
        RuleChange::SgRule { group_id, group_name, .. } => group_name
            .clone()
            .or_else(|| inventory.security_groups.get(group_id).map(|g| g.name.clone()))
            .unwrap_or_default(),
        RuleChange::NaclEntry { acl_id, .. } => {
            inventory.nacls.get(acl_id).and_then(|a| a.name.clone()).unwrap_or_default()
        }
    }
}

fn proposal_view(wave: &WaveConfig, inventory: &Inventory, p: &Proposal) -> ProposalView {
    let name = resource_name(inventory, &p.change);
    let tf_name = format!("{}_{}", format::slug(&p.id).replace('-', "_"), format::slug(&name).replace('-', "_"));
    let (kind, resource, owner, direction, summary) = match &p.change {
        RuleChange::SgRule { group_id, egress, rule, .. } => (
            "security group",
            group_id,
            inventory.security_groups.get(group_id).and_then(|g| g.owner_id.clone()),
            if *egress { "egress" } else { "ingress" },
            format!("allow {}", format::sg_rule(inventory, rule, *egress)),
        ),
        RuleChange::NaclEntry { acl_id, entry, .. } => (
            "network ACL",
            acl_id,
            inventory.nacls.get(acl_id).and_then(|a| inventory.vpcs.get(&a.vpc_id)).and_then(|v| v.owner_id.clone()),
            if entry.egress { "outbound" } else { "inbound" },
            format::nacl_entry(entry).trim_start().to_owned(),
        ),
    };
    let commands = fix::commands(&p.change, &p.id, &tf_name);
    let listed = owner.as_deref().and_then(|id| wave.account(id));
    let region = listed.and_then(|a| a.region.as_deref()).or(wave.aws.region.as_deref());
    let account = (!wave.accounts.is_empty()).then(|| ChangeAccount {
        label: listed.map_or_else(|| "the wave's own account".to_owned(), |a| format!("account {}", a.label())),
        region: region.unwrap_or_default().to_owned(),
        profile_var: listed.map(|a| format!("WAVEGAP_PROFILE_{}", a.id)).unwrap_or_default(),
    });
    ProposalView {
        id: p.id.clone(),
        anchor: format::slug(&p.id),
        kind: kind.to_owned(),
        resource: resource.clone(),
        resource_name: format::one_line(&name),
        owner,
        account,
        direction: direction.to_owned(),
        summary,
        fixes_text: fixes_text(&p.fixes),
        warnings: p.warnings.iter().map(|w| format::one_line(w)).collect(),
        over_quota: p.over_quota,
        cli: fix::cli_line(&commands.cli_args, region, wave.aws.profile.as_deref()),
        cli_args: commands.cli_args,
        present_query: commands.present_query,
        terraform: commands.terraform,
    }
}

/// What a proposal fixes, in a line: every id up to five, else the count and three of them.
fn fixes_text(ids: &[String]) -> String {
    let flows = if ids.len() == 1 { "rejected flow" } else { "rejected flows" };
    let n = format::count(ids.len() as u64);
    if ids.len() <= 5 {
        format!("{n} {flows}: {}", ids.join(", "))
    } else {
        format!("{n} {flows}, e.g. {} (every id in findings.json)", ids[..3].join(", "))
    }
}

/// Groups proposals per resource and renders each as a diff against the current rules.
fn change_groups(inventory: &Inventory, proposals: &[Proposal], keep: impl Fn(&Proposal) -> bool) -> Vec<ChangeGroup> {
    let mut by_resource: BTreeMap<&str, Vec<&Proposal>> = BTreeMap::new();
    for p in proposals.iter().filter(|p| keep(p)) {
        by_resource.entry(p.change.resource()).or_default().push(p);
    }
    by_resource
        .into_iter()
        .map(|(resource, ps)| {
            let is_sg = matches!(ps[0].change, RuleChange::SgRule { .. });
            let lines = if is_sg { sg_diff(inventory, resource, &ps) } else { nacl_diff(inventory, resource, &ps) };
            let diff: String = lines
                .iter()
                .map(|l| match l.kind.as_str() {
                    "add" => format!("+ {}\n", l.text),
                    "section" => format!("@@ {} @@\n", l.text),
                    _ => format!("  {}\n", l.text),
                })
                .collect();
            ChangeGroup {
                kind: if is_sg { "security group" } else { "network ACL" }.to_owned(),
                title: if is_sg { "Security group" } else { "Network ACL" }.to_owned(),
                resource: resource.to_owned(),
                resource_name: format::one_line(&resource_name(inventory, &ps[0].change)),
                proposals: ps.iter().map(|p| p.id.clone()).collect(),
                fence: format::fence(&diff),
                lines,
                diff,
            }
        })
        .collect()
}

fn line(kind: &str, text: String) -> DiffLine {
    DiffLine { kind: kind.to_owned(), text }
}

fn sg_diff(inventory: &Inventory, group_id: &str, proposals: &[&Proposal]) -> Vec<DiffLine> {
    let group = inventory.security_groups.get(group_id);
    let mut lines = Vec::new();
    for egress in [false, true] {
        let added: Vec<(&SgRule, &str)> = proposals
            .iter()
            .filter_map(|p| match &p.change {
                RuleChange::SgRule { egress: e, rule, .. } if *e == egress => Some((rule, p.id.as_str())),
                _ => None,
            })
            .collect();
        if added.is_empty() {
            continue;
        }
        lines.push(line("section", format!("{} {}", group_id, if egress { "egress" } else { "ingress" })));
        let current = group.map(|g| if egress { &g.egress } else { &g.ingress });
        for rule in current.into_iter().flatten() {
            lines.push(line("keep", format::sg_rule(inventory, rule, egress)));
        }
        for (rule, id) in added {
            lines.push(line("add", format!("{}  # {id}", format::sg_rule(inventory, rule, egress))));
        }
    }
    lines
}

fn nacl_diff(inventory: &Inventory, acl_id: &str, proposals: &[&Proposal]) -> Vec<DiffLine> {
    let acl = inventory.nacls.get(acl_id);
    let mut lines = Vec::new();
    for egress in [false, true] {
        let added: Vec<(&NaclEntry, &str)> = proposals
            .iter()
            .filter_map(|p| match &p.change {
                RuleChange::NaclEntry { entry, .. } if entry.egress == egress => Some((entry, p.id.as_str())),
                _ => None,
            })
            .collect();
        if added.is_empty() {
            continue;
        }
        lines.push(line("section", format!("{} {}", acl_id, if egress { "outbound" } else { "inbound" })));
        // Current entries and the new ones, in evaluation order; the `*` entry last.
        let mut rows: Vec<(u16, bool, String)> = acl
            .into_iter()
            .flat_map(|a| a.entries.iter())
            .filter(|e| e.egress == egress)
            .map(|e| (e.rule_number, false, format::nacl_entry(e)))
            .collect();
        if !rows.iter().any(|r| r.0 >= wavegap_core::inventory::NACL_DEFAULT_RULE_NUMBER) {
            rows.push((
                wavegap_core::inventory::NACL_DEFAULT_RULE_NUMBER,
                false,
                format!("{:>5} deny all traffic {} 0.0.0.0/0", "*", if egress { "to" } else { "from" }),
            ));
        }
        for (entry, id) in added {
            rows.push((entry.rule_number, true, format!("{}  # {id}", format::nacl_entry(entry))));
        }
        rows.sort_by_key(|r| (r.0, r.1));
        for (_, add, text) in rows {
            lines.push(line(if add { "add" } else { "keep" }, text));
        }
    }
    lines
}

/// The accepted flows by each of their ends, so that an app's diagram reads the flows of its
/// own addresses, not every flow of the wave.
struct AcceptedByEnd<'a> {
    flows: &'a [AcceptedFlow],
    by_end: HashMap<IpAddr, Vec<usize>>,
}

impl<'a> AcceptedByEnd<'a> {
    fn new(flows: &'a [AcceptedFlow]) -> Self {
        let mut by_end: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        for (i, a) in flows.iter().enumerate() {
            by_end.entry(a.client).or_default().push(i);
            if a.server != a.client {
                by_end.entry(a.server).or_default().push(i);
            }
        }
        AcceptedByEnd { flows, by_end }
    }

    /// The flows with an end among `ips`, in their order.
    fn touching<'i>(&self, ips: impl IntoIterator<Item = &'i IpAddr>) -> impl Iterator<Item = &'a AcceptedFlow> {
        let mut picked: Vec<usize> = ips.into_iter().filter_map(|ip| self.by_end.get(ip)).flatten().copied().collect();
        picked.sort_unstable();
        picked.dedup();
        let flows = self.flows;
        picked.into_iter().map(move |i| &flows[i])
    }
}

/// The app's diagram: its servers one box each (every address of theirs inside the box),
/// other apps of the wave one box each, dependencies by name, everything else one box per
/// network (on-premises range, VPC), with the number of addresses behind it.
fn app_diagram(
    places: &Places<'_>,
    accepted: &AcceptedByEnd<'_>,
    app: &str,
    servers: &[wavegap_core::wave::Server],
    rejected: &[&RejectedFinding],
    unanswered: &[&UnansweredFinding],
) -> Diagram {
    let wave = places.wave();
    // Every address the app's servers are known by, and the names of the wave's addresses.
    let mut own: BTreeMap<IpAddr, String> = servers.iter().map(|s| (s.ip, s.name.clone())).collect();
    let mut named: BTreeMap<IpAddr, (String, Option<String>)> = wave
        .servers()
        .map(|s| (s.ip, (s.name.clone(), Some(s.app.clone()))))
        .chain(wave.dependencies.iter().map(|d| (d.ip, (d.name.clone(), None))))
        .collect();
    let mut kinds: BTreeMap<IpAddr, PeerKind> = BTreeMap::new();
    let ends = rejected
        .iter()
        .flat_map(|f| [&f.client, &f.server])
        .chain(unanswered.iter().flat_map(|f| [&f.client, &f.server]));
    for end in ends {
        kinds.insert(end.ip, end.kind);
        if let Some(name) = end.name() {
            let app_of = end.in_wave.then(|| end.app.clone()).flatten();
            named.entry(end.ip).or_insert_with(|| (name.to_owned(), app_of.clone()));
            if app_of.as_deref() == Some(app) {
                own.entry(end.ip).or_insert_with(|| name.to_owned());
            }
        }
    }
    let mut members: BTreeMap<String, BTreeSet<IpAddr>> = BTreeMap::new();
    let mut nodes: BTreeMap<String, diagram::Node> = BTreeMap::new();
    // An address's node, worked out once: an app draws thousands of flows of few addresses.
    let mut key_by_ip: HashMap<IpAddr, String> = HashMap::new();
    let mut key_of = |ip: IpAddr| -> String {
        if let Some(key) = key_by_ip.get(&ip) {
            return key.clone();
        }
        let (key, title) = if let Some(name) = own.get(&ip) {
            (format!("server:{name}"), name.clone())
        } else {
            match named.get(&ip) {
                Some((_, Some(other))) => (format!("app:{other}"), format!("app {other}")),
                Some((name, None)) => (format!("dependency:{name}"), name.clone()),
                None => {
                    let net = places.network_of(ip, kinds.get(&ip).copied());
                    (format!("net:{net}"), net)
                }
            }
        };
        members.entry(key.clone()).or_default().insert(ip);
        nodes.entry(key.clone()).or_insert_with(|| diagram::Node { title: Some(title), detail: String::new() });
        key_by_ip.insert(ip, key.clone());
        key
    };
    let mut edges: Vec<Edge> = Vec::new();
    let mut seen: BTreeSet<(IpAddr, IpAddr, u8, u16)> = BTreeSet::new();
    for f in rejected {
        let suffix = if matches!(f.leg, wavegap_core::findings::Leg::Response) { " (return)" } else { "" };
        edges.push(Edge {
            from: key_of(f.client.ip),
            to: key_of(f.server.ip),
            label: format!("{}{suffix}", format::service(f.protocol, f.port)),
            status: EdgeStatus::Rejected,
        });
        seen.insert((f.client.ip, f.server.ip, f.protocol, f.port));
    }
    for f in unanswered {
        edges.push(Edge {
            from: key_of(f.client.ip),
            to: key_of(f.server.ip),
            label: format::service(f.protocol, f.port),
            status: EdgeStatus::Unanswered,
        });
        seen.insert((f.client.ip, f.server.ip, f.protocol, f.port));
    }
    let touching: Vec<&AcceptedFlow> = accepted.touching(own.keys()).collect();
    for a in touching {
        if !seen.contains(&(a.client, a.server, a.protocol, a.port)) {
            edges.push(Edge {
                from: key_of(a.client),
                to: key_of(a.server),
                label: format::service(a.protocol, a.port),
                status: EdgeStatus::Accepted,
            });
        }
    }
    let mut app_keys: BTreeSet<String> = servers.iter().map(|s| format!("server:{}", s.name)).collect();
    for s in servers {
        let key = format!("server:{}", s.name);
        members.entry(key.clone()).or_default().insert(s.ip);
        nodes.entry(key).or_insert_with(|| diagram::Node { title: Some(s.name.clone()), detail: String::new() });
    }
    app_keys.retain(|k| members.contains_key(k));
    for (key, node) in &mut nodes {
        let ips = &members[key];
        node.detail = if key.starts_with("server:") || key.starts_with("dependency:") {
            ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        } else if ips.len() == 1 {
            ips.iter().next().map(ToString::to_string).unwrap_or_default()
        } else {
            format!("{} addresses", format::count(ips.len() as u64))
        };
    }
    diagram::build(app, &app_keys, &nodes, &edges)
}
