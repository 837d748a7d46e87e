//! The marks of `wavegap watch` (`live::Tracker`) on hand-made cycles of the demo's analysis.

use wavegap_core::findings::{Analysis, Attribution};
use wavegap_reporter::live::{CycleView, Log, Mark, Status, Tracker};

use crate::fixtures::{self, APP, T0, WEB};

const INTERVAL: i64 = 600;

fn cycle(tracker: &mut Tracker, analysis: &Analysis, now: i64) -> CycleView {
    tracker.cycle(&fixtures::wave(), &fixtures::inventory(), analysis, now, INTERVAL)
}

/// The mark of the group whose line names `service`.
fn mark_of(view: &CycleView, service: &str) -> Option<Mark> {
    view.groups.iter().find(|g| g.group.service == service).map(|g| g.mark)
}

/// The demo's analysis with the tcp/8443 flow allowed by the rules, its last REJECT ending at
/// `last_seen`.
fn allowed(last_seen: i64) -> Analysis {
    let mut a = fixtures::analysis();
    let f = a.rejected.iter_mut().find(|f| f.port == 8443).unwrap();
    f.attribution = Attribution::ShouldPass;
    f.culprits.clear();
    f.proposals.clear();
    f.evidence.last_seen = last_seen;
    a
}

#[test]
fn a_finding_is_new_once_then_open_then_fixed_and_open_again_if_rejected_after_the_change() {
    let mut tracker = Tracker::new();
    let analysis = fixtures::analysis();
    let open = analysis.rejected.len() + analysis.unanswered.len();

    let first = cycle(&mut tracker, &analysis, T0 + 3600);
    assert_eq!(first.count(Mark::New), first.groups.len());
    assert_eq!(first.new.len(), open, "each open finding is handed on once");
    assert!(first.new.iter().all(|n| n.cycle == 1 && n.wave == "demo"));
    let rejected = first.new.iter().find(|n| n.finding["id"] == format!("rejected/tcp/8443/{APP}/{WEB}/request"));
    assert_eq!(rejected.map(|n| n.kind), Some("rejected"));

    let second = cycle(&mut tracker, &analysis, T0 + 3720);
    assert_eq!(second.count(Mark::Open), second.groups.len());
    assert!(second.new.is_empty());

    // The rule went in before cycle 3; the last REJECT ended long before.
    let third = cycle(&mut tracker, &allowed(T0 + 2000), T0 + 3840);
    assert_eq!(mark_of(&third, "tcp/8443"), Some(Mark::Fixed));
    assert_eq!(third.count(Mark::Fixed), 1);
    assert_eq!(third.count(Mark::Open), third.groups.len() - 1);
    assert!(third.new.is_empty());
    // Fixed groups come last.
    assert_eq!(third.groups.last().map(|g| g.mark), Some(Mark::Fixed));

    // A REJECT that ends more than an interval after cycle 3 began after the change: open again,
    // and not new (it was seen before).
    let fourth = cycle(&mut tracker, &allowed(T0 + 3840 + INTERVAL + 1), T0 + 4500);
    let g = fourth.groups.iter().find(|g| g.group.service == "tcp/8443").unwrap();
    assert_eq!(g.mark, Mark::Open);
    assert!(g.rejected_after_change);
    assert!(fourth.new.is_empty());
    assert!(wavegap_reporter::live::line(g).contains("REJECTs were logged after the change"));

    // One that ends within the interval may have started before the change: still fixed.
    let mut again = Tracker::new();
    cycle(&mut again, &analysis, T0 + 3600);
    let fixed = cycle(&mut again, &allowed(T0 + 3720 + INTERVAL), T0 + 3720);
    assert_eq!(mark_of(&fixed, "tcp/8443"), Some(Mark::Fixed));
}

#[test]
fn a_flow_the_rules_allowed_before_the_watch_began_is_not_shown() {
    let mut tracker = Tracker::new();
    let view = cycle(&mut tracker, &allowed(T0 + 2000), T0 + 3600);
    assert_eq!(mark_of(&view, "tcp/8443"), None);
    assert!(!view.new.iter().any(|n| n.finding["port"] == 8443));
}

#[test]
fn the_log_prints_a_group_only_when_its_mark_changes() {
    let mut tracker = Tracker::new();
    let mut log = Log::default();
    let status = |cycle| Status { wave: "demo".into(), cycle, now: T0 + 3600, ..Status::default() };
    let analysis = fixtures::analysis();
    let groups = |text: &str| text.lines().skip(1).filter(|l| !l.starts_with("gap ")).count();

    let text = log.changes(&status(1), &cycle(&mut tracker, &analysis, T0 + 3600));
    assert!(text.starts_with("wavegap watch demo · cycle 1 ·"), "{text}");
    assert_eq!(groups(&text), cycle_groups(&analysis));
    assert!(text.lines().skip(1).all(|l| l.starts_with("new ")), "{text}");

    let text = log.changes(&status(2), &cycle(&mut tracker, &analysis, T0 + 3720));
    assert_eq!(text.lines().skip(1).filter(|l| l.starts_with("open ")).count(), cycle_groups(&analysis), "{text}");

    let text = log.changes(&status(3), &cycle(&mut tracker, &analysis, T0 + 3840));
    assert_eq!(groups(&text), 0, "nothing changed: {text}");

    let text = log.changes(&status(4), &cycle(&mut tracker, &allowed(T0 + 2000), T0 + 3960));
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].starts_with("fixed rejected") && lines[0].contains("tcp/8443"), "{text}");
    assert!(!text.contains('\x1b'));
}

fn cycle_groups(analysis: &Analysis) -> usize {
    cycle(&mut Tracker::new(), analysis, T0 + 3600).groups.len()
}
