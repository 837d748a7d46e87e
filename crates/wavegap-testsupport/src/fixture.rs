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

    /// Adds an event, creating the group in `format` when it is new. Call [`Fixture::sort`]
    /// after adding out of order.
    pub fn add_event(&mut self, group: &str, format: &FlowFormat, stream: &str, timestamp: i64, message: &str) {
        if !self.groups.contains_key(group) {
            self.add_group(group, format.clone());
        }
        let g = self.groups.get_mut(group).expect("present");
        g.events.push(StoredEvent { stream: stream.to_owned(), timestamp, message: message.to_owned() });
    }

    pub fn sort(&mut self) {
        for g in self.groups.values_mut() {
            g.events.sort_by_key(|e| e.timestamp);
        }
    }

    /// Reads every `*.jsonl` / `*.jsonl.gz` file under `dir` in the shape the bench generator
    /// writes with `--format cwl` (`{"logGroup", "logStream", "timestamp", "message"}` per
    /// line); every group gets `format`.
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
                fixture.add_event(&ev.log_group, format, &ev.log_stream, ev.timestamp, &ev.message);
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
                out.add_event(&format!("{prefix}{i:03}"), &g.format, &e.stream, e.timestamp, &e.message);
            }
        }
        out.sort();
        out
    }

    /// Bytes of the messages of `groups` in `window`: what one scan of them should report.
    pub fn event_bytes<'a>(&self, groups: impl IntoIterator<Item = &'a str>, window: TimeWindow) -> u64 {
        groups
            .into_iter()
            .filter_map(|g| self.groups.get(g))
            .flat_map(|g| g.events_in(window))
            .map(|e| e.message.len() as u64)
            .sum()
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
}
