//! Flow-log events arranged as CloudWatch Logs log groups and streams.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
use wavegap_core::flow::TimeWindow;
use wavegap_core::flowlog::FlowFormat;

/// The account `@log` names when a fixture does not say.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub stream: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// When CloudWatch Logs took the event in (`@ingestionTime`), milliseconds since the epoch:
    /// flow logs arrive minutes after their timestamp, and an endpoint with a clock
    /// ([`crate::TestEndpoint::set_clock`]) shows an event only from then on.
    pub ingestion_time: i64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    pub name: String,
    pub account: String,
    pub format: FlowFormat,
    /// Sorted by timestamp.
    pub events: Vec<StoredEvent>,
}

impl LogGroup {
    /// The events whose second (`timestamp / 1000`) lies in the window: `StartQuery`'s
    /// `startTime`/`endTime` are whole seconds, both inclusive.
    pub fn events_in(&self, window: TimeWindow) -> &[StoredEvent] {
        let lo = self.events.partition_point(|e| e.timestamp.div_euclid(1000) < window.start);
        let hi = self.events.partition_point(|e| e.timestamp.div_euclid(1000) <= window.end);
        &self.events[lo..hi.max(lo)]
    }

    /// The events of [`LogGroup::events_in`] that were ingested by `now_ms` (all of them when
    /// `None`): what a query over the window started at `now_ms` scans.
    pub fn ingested_in(&self, window: TimeWindow, now_ms: Option<i64>) -> impl Iterator<Item = &StoredEvent> {
        self.events_in(window).iter().filter(move |e| now_ms.is_none_or(|now| e.ingestion_time <= now))
    }
}

/// Log groups by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fixture {
    pub groups: BTreeMap<String, LogGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CwlLine {
    log_group: String,
    log_stream: String,
    timestamp: i64,
    /// Absent: ingested at its timestamp.
    #[serde(default)]
    ingestion_time: Option<i64>,
    message: String,
}

impl Fixture {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a log group (replacing one of the same name).
    pub fn add_group(&mut self, name: &str, format: FlowFormat) -> &mut LogGroup {
        self.groups.insert(
            name.to_owned(),
            LogGroup { name: name.to_owned(), account: DEFAULT_ACCOUNT.to_owned(), format, events: Vec::new() },
        );
        self.groups.get_mut(name).expect("just inserted")
    }

    /// Adds an event ingested at its `timestamp` (milliseconds), creating the group in `format`
    /// when it is new. Call [`Fixture::sort`] after adding out of order.
    pub fn add_event(&mut self, group: &str, format: &FlowFormat, stream: &str, timestamp: i64, message: &str) {
        self.add_event_ingested(group, format, stream, timestamp, timestamp, message);
    }

    /// Like [`Fixture::add_event`], for an event CloudWatch Logs ingested at `ingested_ms`
    /// (usually minutes after `timestamp_ms`, as flow logs are delivered).
    pub fn add_event_ingested(
        &mut self,
        group: &str,
        format: &FlowFormat,
        stream: &str,
        timestamp_ms: i64,
        ingested_ms: i64,
        message: &str,
    ) {
        if !self.groups.contains_key(group) {
            self.add_group(group, format.clone());
        }
        let g = self.groups.get_mut(group).expect("present");
        g.events.push(StoredEvent {
            stream: stream.to_owned(),
            timestamp: timestamp_ms,
            ingestion_time: ingested_ms,
            message: message.to_owned(),
        });
    }

    pub fn sort(&mut self) {
        for g in self.groups.values_mut() {
            g.events.sort_by_key(|e| e.timestamp);
        }
    }

    /// Reads every `*.jsonl` / `*.jsonl.gz` file under `dir` in the shape the bench generator
    /// writes with `--format cwl` (`{"logGroup", "logStream", "timestamp", "message"}` per
    /// line, and an optional `ingestionTime` that defaults to the timestamp); every group gets
    /// `format`.
    pub fn load_cwl(dir: &Path, format: &FlowFormat) -> std::io::Result<Self> {
        let mut fixture = Fixture::new();
        let mut files = Vec::new();
        collect_files(dir, &mut files)?;
        files.sort();
        for path in files {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
            let reader: Box<dyn Read> = if name.ends_with(".jsonl.gz") {
                Box::new(flate2::read::MultiGzDecoder::new(std::fs::File::open(&path)?))
            } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("jsonl")) {
                Box::new(std::fs::File::open(&path)?)
            } else {
                continue;
            };
            for (n, line) in BufReader::new(reader).lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let ev: CwlLine = serde_json::from_str(&line).map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}:{}: {e}", path.display(), n + 1))
                })?;
                let ingested = ev.ingestion_time.unwrap_or(ev.timestamp);
                fixture.add_event_ingested(&ev.log_group, format, &ev.log_stream, ev.timestamp, ingested, &ev.message);
            }
        }
        fixture.sort();
        Ok(fixture)
    }

    /// Moves every stream into one of `n` groups named `{prefix}{i:03}` (streams keep their
    /// events together, as a stream belongs to one group): many groups from one generated set.
    #[must_use]
    pub fn spread(&self, prefix: &str, n: usize) -> Fixture {
        let mut out = Fixture::new();
        let mut streams: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for g in self.groups.values() {
            for e in &g.events {
                let next = streams.len();
                let i = *streams.entry((g.name.as_str(), e.stream.as_str())).or_insert(next) % n.max(1);
                let group = format!("{prefix}{i:03}");
                out.add_event_ingested(&group, &g.format, &e.stream, e.timestamp, e.ingestion_time, &e.message);
            }
        }
        out.sort();
        out
    }

    /// Bytes of the messages of `groups` in `window`: what one scan of them should report.
    /// The same count as [`Fixture::bytes_in`], for any iterator of names.
    pub fn event_bytes<'a>(&self, groups: impl IntoIterator<Item = &'a str>, window: TimeWindow) -> u64 {
        groups
            .into_iter()
            .filter_map(|g| self.groups.get(g))
            .flat_map(|g| g.ingested_in(window, None))
            // As `wavegap_insights::Executor::push_all` counts `bytes_scanned`: the message alone.
            .map(|e| e.message.len() as u64)
            .sum()
    }

    /// The `bytesScanned` of a query over `groups` and `window` on a [`crate::TestEndpoint`]
    /// whose clock is unset (every event ingested, whenever it was): so the bytes a `watch`
    /// scanned over its cycles can be checked against the bytes of the span it watched.
    pub fn bytes_in(&self, groups: &[&str], window: TimeWindow) -> u64 {
        self.event_bytes(groups.iter().copied(), window)
    }

    /// The window from the first to the last event, in whole seconds.
    pub fn span(&self) -> Option<TimeWindow> {
        let first = self.groups.values().filter_map(|g| g.events.first()).map(|e| e.timestamp).min()?;
        let last = self.groups.values().filter_map(|g| g.events.last()).map(|e| e.timestamp).max()?;
        Some(TimeWindow { start: first.div_euclid(1000), end: last.div_euclid(1000) })
    }
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_selection_is_by_whole_seconds_both_inclusive() {
        let mut f = Fixture::new();
        let v2 = FlowFormat::default_v2();
        for ts in [999, 1000, 1999, 2000, 3500] {
            f.add_event("/g", &v2, "s", ts, "x");
        }
        let g = &f.groups["/g"];
        assert_eq!(g.events_in(TimeWindow { start: 1, end: 1 }).len(), 2);
        assert_eq!(g.events_in(TimeWindow { start: 0, end: 2 }).len(), 4);
        assert_eq!(g.events_in(TimeWindow { start: 4, end: 9 }).len(), 0);
        assert_eq!(f.span(), Some(TimeWindow { start: 0, end: 3 }));
        let spread = f.spread("/s/", 3);
        assert_eq!(spread.groups.len(), 1);
        assert_eq!(spread.event_bytes(["/s/000"], TimeWindow { start: 0, end: 3 }), 5);
    }

    #[test]
    fn ingestion_time_defaults_to_the_timestamp_and_survives_loading_and_spreading() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            r#"{"logGroup":"/g","logStream":"s1","timestamp":2000,"message":"late","ingestionTime":302000}"#,
            r#"{"logGroup":"/g","logStream":"s2","timestamp":1000,"message":"on time"}"#,
        ];
        std::fs::write(dir.path().join("events.jsonl"), lines.join("\n")).unwrap();
        let v2 = FlowFormat::default_v2();
        let f = Fixture::load_cwl(dir.path(), &v2).unwrap();
        let ingested = |f: &Fixture, group: &str| -> Vec<(i64, i64)> {
            f.groups[group].events.iter().map(|e| (e.timestamp, e.ingestion_time)).collect()
        };
        assert_eq!(ingested(&f, "/g"), [(1000, 1000), (2000, 302_000)]);
        assert_eq!(ingested(&f.spread("/s/", 1), "/s/000"), [(1000, 1000), (2000, 302_000)]);

        let mut built = Fixture::new();
        built.add_event_ingested("/g", &v2, "s1", 2000, 302_000, "late");
        built.add_event("/g", &v2, "s2", 1000, "on time");
        built.sort();
        assert_eq!(built, f);
    }

    #[test]
    fn the_clock_hides_what_was_not_ingested_yet_and_bytes_in_ignores_it() {
        let mut f = Fixture::new();
        let v2 = FlowFormat::default_v2();
        f.add_event_ingested("/g", &v2, "s", 1000, 61_000, "abc");
        f.add_event("/g", &v2, "s", 1500, "de");
        f.add_event_ingested("/h", &v2, "s", 1000, 90_000, "fghi");
        let window = TimeWindow { start: 1, end: 1 };
        let visible = |now: Option<i64>| -> Vec<&str> {
            f.groups["/g"].ingested_in(window, now).map(|e| e.message.as_str()).collect()
        };
        assert_eq!(visible(Some(1499)), Vec::<&str>::new());
        assert_eq!(visible(Some(60_999)), ["de"]);
        assert_eq!(visible(Some(61_000)), ["abc", "de"]);
        assert_eq!(visible(None), ["abc", "de"]);
        assert_eq!(f.bytes_in(&["/g", "/h"], window), 9);
        assert_eq!(f.bytes_in(&["/g", "/h"], window), f.event_bytes(["/g", "/h"], window));
        assert_eq!(f.bytes_in(&["/g", "/nope"], TimeWindow { start: 2, end: 9 }), 0);
    }
}
