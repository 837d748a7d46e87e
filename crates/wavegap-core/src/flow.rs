//! Flow aggregates: what the runner hands the analysis, one row per group of records.
//!
//! A row groups the records of one ENI (and log group) with the same addresses, lower port,
//! protocol and action, and keeps the range of source and destination ports it saw. The
//! group key is `least(srcport, dstport)`, so a request (`client:50123 → server:443`) and its
//! response (`server:443 → client:50123`) usually land on the same key and a NACL dropping
//! responses to thousands of ephemeral ports stays one row. Which end opened the connection
//! is *not* decided here: a Linux client on port 40000 calling a service on 49733 has the
//! lower port on the client's side. The analysis decides it per conversation from all the
//! evidence (`crate::direction`), which is why the rows keep both port ranges.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::flowlog::{Action, FlowDirection};
use crate::inventory::PortRange;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowAggregate {
    /// The log group (CloudWatch) or `account:flow-log-id` (files) it came from; shared by
    /// the rows of one log group, as the interface is by the rows of one ENI.
    pub log_group: Arc<str>,
    /// The ENI whose log stream held the records.
    pub interface_id: Arc<str>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    /// `least(srcport, dstport)`, the group key; 0 for protocols without ports.
    pub port: u16,
    /// The lowest and highest source port of the records (`None` when the source gave none).
    pub src_ports: Option<PortRange>,
    /// The lowest and highest destination port of the records.
    pub dst_ports: Option<PortRange>,
    pub action: Action,
    /// Set when the format carries `flow-direction`.
    pub direction: Option<FlowDirection>,
    /// OR of the `tcp-flags` of the records, when the format carries them.
    pub tcp_flags: Option<u16>,
    pub records: u64,
    pub packets: u64,
    pub bytes: u64,
    /// Unix seconds of the earliest `start` and latest `end`.
    pub first_seen: i64,
    pub last_seen: i64,
}

/// A time window in Unix seconds, both ends inclusive as in `StartQuery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start: i64,
    pub end: i64,
}

impl TimeWindow {
    pub fn seconds(self) -> i64 {
        self.end - self.start
    }

    pub fn contains(self, t: i64) -> bool {
        (self.start..=self.end).contains(&t)
    }

    /// Splits the window into two halves that together cover it exactly once.
    pub fn halves(self) -> Option<(TimeWindow, TimeWindow)> {
        if self.end <= self.start {
            return None;
        }
        let mid = self.start + (self.end - self.start) / 2;
        Some((TimeWindow { start: self.start, end: mid }, TimeWindow { start: mid + 1, end: self.end }))
    }
}

/// Everything the queries returned for one report: the aggregates, where data is missing,
/// and what the scan cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowData {
    pub aggregates: Vec<FlowAggregate>,
    /// `SKIPDATA` records per ENI: flows there may be missing, so "no return flow" proves nothing.
    pub skipdata: BTreeMap<String, u64>,
    /// Log groups and windows that could not be queried: the report must say so.
    pub gaps: Vec<CoverageGap>,
    /// Input that could not be read whole (damaged objects, lines that are not records).
    #[serde(default)]
    pub damaged: Vec<DamagedInput>,
    pub stats: ScanStats,
    /// The flow-log objects this run read, as the listing names them (a path, or
    /// `s3://bucket/key`), sorted and each once however many windows read them: what a later
    /// cycle of a watch skips (the runner's `QueryPlan::read_before`). Damaged ones are listed
    /// too: their damage is in `damaged`, and reading them again would count what could be
    /// read of them twice. Not saved: saved flows are read back whole, never continued.
    #[serde(skip)]
    pub objects_read: Vec<String>,
}

impl FlowData {
    /// Whether every log group, window and object was read whole.
    pub fn complete(&self) -> bool {
        self.gaps.is_empty() && self.damaged.is_empty()
    }

    /// Queries were planned but none came back: there is nothing to report, and an empty
    /// report would read as "no findings".
    pub fn nothing_answered(&self) -> bool {
        self.stats.queries_answered == 0 && !self.gaps.is_empty()
    }

    /// No query came back because the service could not be reached for any of them.
    pub fn unreachable(&self) -> bool {
        self.nothing_answered() && self.gaps.iter().all(|g| g.unreachable)
    }
}

/// One object (file, S3 object, result page) that could not be read whole; the rest of it,
/// and every other object, was still read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DamagedInput {
    /// The file or object, as the source names it.
    pub object: String,
    /// How many problems it had (damaged lines, a cut stream).
    pub problems: u64,
    /// The first problem's line (1-based), when it has one.
    pub line: Option<u64>,
    /// The first problem, in words.
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageGap {
    /// The account the log groups are in, for a wave of several accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub log_groups: Vec<String>,
    pub window: TimeWindow,
    pub reason: String,
    /// The service could not be reached at all (connection refused, DNS, timeouts), as
    /// opposed to a query that ran and failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
    /// The number of the plan chunk whose query failed, so a later run can retry exactly that
    /// query (set by the CloudWatch source; `None` when read back from saved flows).
    #[serde(skip)]
    pub chunk: Option<usize>,
}

/// Summed query statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanStats {
    pub queries: u64,
    /// Queries that came back with results (a run where none did has nothing to report).
    #[serde(default)]
    pub queries_answered: u64,
    pub records_scanned: u64,
    pub records_matched: u64,
    pub bytes_scanned: u64,
    /// Estimated cost in dollars at the configured price per GB.
    pub estimated_cost: f64,
    /// Flow-log objects not opened because their names put them outside the window (S3
    /// names carry the delivery time: objects from 15 minutes before the start to an hour
    /// after the end are read).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub objects_skipped: u64,
    /// The servers were too many for one query and were split into this many, each scanning
    /// every log group again (0: not split).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub server_parts: u64,
    /// The requests an S3 source made, when the flows were read from a bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Requests>,
    /// The queries and bytes of each account, for a wave whose log groups are in several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountScan>,
}

/// What the queries in one account scanned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountScan {
    pub account: String,
    pub queries: u64,
    pub records_scanned: u64,
    pub bytes_scanned: u64,
    /// Dollars at the configured price per GB.
    pub estimated_cost: f64,
    /// Log-group windows of this account that could not be queried.
    pub gaps: u64,
}

/// The requests made of S3 and the bytes their answers carried (compressed, as stored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Requests {
    pub list: u64,
    pub get: u64,
    pub bytes: u64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_cover_the_window_once() {
        let w = TimeWindow { start: 10, end: 21 };
        let (a, b) = w.halves().unwrap();
        assert_eq!((a.start, a.end, b.start, b.end), (10, 15, 16, 21));
        assert_eq!(TimeWindow { start: 5, end: 5 }.halves(), None);
    }
}
