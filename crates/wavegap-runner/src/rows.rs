//! Result rows of the aggregating query → [`FlowData`], for every source.
//!
//! Rows arrive as `(field, value)` strings, as `GetQueryResults` returns them and as the local
//! engine mirrors it. Rows are merged on (log group, ENI, addresses, service port, protocol,
//! action, direction): the query also groups by `tcpFlags` (Insights has no bitwise-or
//! aggregate, so the flags are or-ed here), and the same conversation comes back once per
//! window and chunk. Which end opened the connection is not decided here: the rows keep both
//! port ranges and the analysis orients them with every row of the conversation in view.
//!
//! [`merge`] joins the data of several runs (the cycles of a watch, a retried query) by the
//! same rule, so the runs read as one.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Arc;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rustc_hash::{FxBuildHasher, FxHashMap};
use wavegap_insights::{Executor, Statistics};

use wavegap_core::flow::{AccountScan, CoverageGap, DamagedInput, FlowAggregate, FlowData, S3Requests, ScanStats};
use wavegap_core::flowlog::{Action, FlowDirection, epoch_seconds};
use wavegap_core::inventory::PortRange;

use crate::plan::ServerPart;
use crate::plan::columns as c;

/// Rows above which the merged aggregates are sorted in two halves on two threads.
const PARALLEL_SORT: usize = 16_384;

/// An aggregate's key, its log group and ENI as numbers of [`Names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    log_group: u32,
    interface_id: u32,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    port: u16,
    action: Action,
    direction: Option<FlowDirection>,
}

#[derive(Debug, Clone)]
struct Acc {
    tcp_flags: Option<u16>,
    records: u64,
    packets: u64,
    bytes: u64,
    first_seen: i64,
    last_seen: i64,
    src_ports: Option<(u16, u16)>,
    dst_ports: Option<(u16, u16)>,
}

/// The aggregates so far, one per key, in the order first seen, found through a table of
/// their key hashes and numbers: growing the table moves twelve bytes a row, not the rows,
/// and the rows grow in place.
#[derive(Debug, Default)]
struct Flows {
    table: HashTable<(u64, u32)>,
    rows: Vec<(Key, Acc)>,
}

impl Flows {
    /// Room for `more` new aggregates.
    fn reserve(&mut self, more: usize) {
        let Flows { table, rows } = self;
        rows.reserve(more);
        table.reserve(more, |&(h, _)| h);
    }

    /// Adds `acc` to the aggregate of `key`, made when new.
    fn add(&mut self, key: Key, acc: Acc) {
        let Flows { table, rows } = self;
        let hash = FxBuildHasher.hash_one(key);
        match table.entry(hash, |&(h, i)| h == hash && rows[i as usize].0 == key, |&(h, _)| h) {
            Entry::Occupied(e) => rows[e.get().1 as usize].1.merge(&acc),
            Entry::Vacant(e) => {
                e.insert((hash, u32::try_from(rows.len()).expect("fewer than 2^32 aggregates")));
                rows.push((key, acc));
            }
        }
    }
}

/// The log group and ENI names of the aggregates, each held once: a big result has hundreds
/// of thousands of rows over a few thousand ENIs.
#[derive(Debug, Default)]
struct Names {
    ids: FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2^32 names");
        let name: Arc<str> = name.into();
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// The name, shared with every row that has it.
    fn shared(&self, id: u32) -> Arc<str> {
        self.names[id as usize].clone()
    }

    /// Each name's place in the order of the names, by its number.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..u32::try_from(self.names.len()).expect("fewer than 2^32 names")).collect();
        order.sort_unstable_by_key(|&id| self.name(id));
        let mut rank = vec![0; order.len()];
        for (place, id) in (0u32..).zip(order) {
            rank[id as usize] = place;
        }
        rank
    }
}

/// One result row's values by column name, in a fixed table (no map built per row: a big
/// result has hundreds of thousands). Columns the query does not name are left out; the last
/// value of a column named twice wins.
struct Fields<'a> {
    values: [Option<&'a str>; Fields::COLUMNS],
}

impl<'a> Fields<'a> {
    /// The row's values; `seen` remembers the slot of the name last found at each position,
    /// as the rows of one result name their columns in one order.
    fn of(row: impl IntoIterator<Item = (&'a str, &'a str)>, seen: &mut Vec<(Box<str>, Option<usize>)>) -> Self {
        let mut values = [None; Fields::COLUMNS];
        for (at, (name, value)) in row.into_iter().enumerate() {
            let slot = match seen.get(at) {
                Some((known, slot)) if known.as_ref() == name => *slot,
                _ => {
                    let slot = Self::slot(name);
                    seen.resize(seen.len().max(at + 1), (Box::default(), None));
                    seen[at] = (name.into(), slot);
                    slot
                }
            };
            if let Some(i) = slot {
                values[i] = Some(value);
            }
        }
        Fields { values }
    }

    /// How many columns the aggregating query names.
    const COLUMNS: usize = 21;

    /// The place of column `name` in the table.
    fn slot(name: &str) -> Option<usize> {
        Some(match name {
            c::SRC => 0,
            c::DST => 1,
            c::PACKET_SRC => 2,
            c::PACKET_DST => 3,
            c::PORT => 4,
            c::PROTOCOL => 5,
            c::ACTION => 6,
            c::INTERFACE => 7,
            c::LOG => 8,
            c::LOG_STATUS => 9,
            c::TCP_FLAGS => 10,
            c::DIRECTION => 11,
            c::RECORDS => 12,
            c::PACKETS => 13,
            c::BYTES => 14,
            c::FIRST_SEEN => 15,
            c::LAST_SEEN => 16,
            c::MIN_SRC_PORT => 17,
            c::MAX_SRC_PORT => 18,
            c::MIN_DST_PORT => 19,
            c::MAX_DST_PORT => 20,
            _ => return None,
        })
    }

    /// The value of column `name`, when the row has it.
    fn get(&self, name: &str) -> Option<&'a str> {
        Self::slot(name).and_then(|i| self.values[i])
    }

    /// Whether the row has column `name` at all, whatever its value.
    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Why a row was not used: the field and the value found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("result row has {field} = {value:?}")]
pub struct RowError {
    pub field: &'static str,
    pub value: String,
}

/// Collects rows, statistics and gaps from any number of queries into one [`FlowData`].
#[derive(Debug, Default)]
pub struct Aggregator {
    flows: Flows,
    names: Names,
    /// [`Fields::of`]'s column names by position.
    columns: Vec<(Box<str>, Option<usize>)>,
    skipdata: BTreeMap<String, u64>,
    gaps: Vec<CoverageGap>,
    damaged: Vec<DamagedInput>,
    stats: ScanStats,
    rows: u64,
}

impl Aggregator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one result row of a query over `part` of the servers (`None`: all of them); a row
    /// that part does not own ([`ServerPart::owns`]) is another part's and left out. A row that
    /// is not a flow of the aggregating query is an error, so the caller can count and report
    /// it; nothing is half-added.
    pub fn add_row<'a>(
        &mut self,
        part: Option<&ServerPart>,
        row: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), RowError> {
        let owned = |ends| part.is_none_or(|p| p.owns(ends));
        let fields = Fields::of(row, &mut self.columns);
        let get = |name: &str| fields.get(name).filter(|v| !v.is_empty() && *v != "-");
        let records = number(get(c::RECORDS), c::RECORDS)?.unwrap_or(0);
        if get(c::LOG_STATUS) == Some("SKIPDATA") {
            let eni = get(c::INTERFACE).ok_or(RowError { field: c::INTERFACE, value: String::new() })?;
            if !owned(None) {
                return Ok(());
            }
            *self.skipdata.entry(eni.to_owned()).or_default() += records;
            self.rows += 1;
            return Ok(());
        }
        let required = |name: &'static str| get(name).ok_or(RowError { field: name, value: String::new() });
        let parsed = |name: &'static str| -> Result<IpAddr, RowError> {
            let v = required(name)?;
            v.parse().map_err(|_| RowError { field: name, value: v.to_owned() })
        };
        // The packet addresses when the query grouped on them, else the interface ones.
        let src = parsed(if fields.has(c::PACKET_SRC) { c::PACKET_SRC } else { c::SRC })?;
        let dst = parsed(if fields.has(c::PACKET_DST) { c::PACKET_DST } else { c::DST })?;
        if !owned(Some((src, dst))) {
            return Ok(());
        }
        let protocol =
            small::<u8>(get(c::PROTOCOL), c::PROTOCOL)?.ok_or(RowError { field: c::PROTOCOL, value: String::new() })?;
        let action = required(c::ACTION)
            .and_then(|v| Action::parse(v).ok_or(RowError { field: c::ACTION, value: v.to_owned() }))?;
        let direction = get(c::DIRECTION)
            .map(|v| FlowDirection::parse(v).ok_or(RowError { field: c::DIRECTION, value: v.to_owned() }))
            .transpose()?;
        let port = small::<u16>(get(c::PORT), c::PORT)?.unwrap_or(0);
        let tcp_flags = small::<u16>(get(c::TCP_FLAGS), c::TCP_FLAGS)?;
        let log_group = strip_account(required(c::LOG)?);
        let interface_id = required(c::INTERFACE)?;
        let range = |lo: &'static str, hi: &'static str| -> Result<Option<(u16, u16)>, RowError> {
            Ok(small::<u16>(get(lo), lo)?.zip(small::<u16>(get(hi), hi)?))
        };
        let acc = Acc {
            tcp_flags,
            records,
            packets: number(get(c::PACKETS), c::PACKETS)?.unwrap_or(0),
            bytes: number(get(c::BYTES), c::BYTES)?.unwrap_or(0),
            first_seen: time(get(c::FIRST_SEEN), c::FIRST_SEEN)?.unwrap_or(i64::MAX),
            last_seen: time(get(c::LAST_SEEN), c::LAST_SEEN)?.unwrap_or(i64::MIN),
            src_ports: range(c::MIN_SRC_PORT, c::MAX_SRC_PORT)?,
            dst_ports: range(c::MIN_DST_PORT, c::MAX_DST_PORT)?,
        };
        let key = Key {
            log_group: self.names.id(log_group),
            interface_id: self.names.id(interface_id),
            src,
            dst,
            protocol,
            port,
            action,
            direction,
        };
        self.add_flow(key, acc);
        self.rows += 1;
        Ok(())
    }

    /// Merges a group's sums into those of its key.
    fn add_flow(&mut self, key: Key, acc: Acc) {
        self.flows.add(key, acc);
    }

    /// Adds one query's statistics.
    pub fn add_stats(&mut self, records_scanned: u64, records_matched: u64, bytes_scanned: u64) {
        self.stats.queries += 1;
        self.stats.records_scanned += records_scanned;
        self.stats.records_matched += records_matched;
        self.stats.bytes_scanned += bytes_scanned;
    }

    /// Adds one query's statistics to its account's (for a wave of several accounts).
    pub fn add_account_stats(&mut self, account: &str, records_scanned: u64, bytes_scanned: u64) {
        let a = account_scan(&mut self.stats.accounts, account);
        a.queries += 1;
        a.records_scanned += records_scanned;
        a.bytes_scanned += bytes_scanned;
    }

    /// Counts a query that came back with its results.
    pub fn answered(&mut self) {
        self.stats.queries_answered += 1;
    }

    pub fn add_gap(&mut self, gap: CoverageGap) {
        self.gaps.push(gap);
    }

    /// Adds one query's rows (of `part` of the servers, as [`Aggregator::add_row`]); the rows
    /// that are not flows of the aggregating query make `object` (that query's results)
    /// damaged input, so the report says what was skipped. Returns how many were skipped.
    pub fn add_rows<'a, R, F>(&mut self, part: Option<&ServerPart>, object: impl FnOnce() -> String, rows: R) -> u64
    where
        R: IntoIterator<Item = F>,
        F: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut skipped = Skipped::default();
        for row in rows {
            skipped.note(self.add_row(part, row));
        }
        self.add_skipped_rows(skipped, object)
    }

    /// Adds the rows of a local query's state as they are made, as [`Aggregator::add_rows`]
    /// adds a result's: the result is never held whole. Returns the query's statistics, its
    /// row count and how many rows were skipped.
    pub fn add_finished(&mut self, exec: Executor, object: impl FnOnce() -> String) -> (Statistics, usize, u64) {
        let columns = exec.columns();
        // Room for every row at once: grown by doubling, the rows would be copied while the
        // engine's groups are still held.
        self.flows.reserve(exec.rows_at_most());
        let (mut skipped, mut rows) = (Skipped::default(), 0);
        let stats = exec.finish_each(|values| {
            rows += 1;
            let row = columns.iter().zip(values).filter_map(|(c, v)| Some((c.as_str(), v?)));
            // The values live only for this row: borrowed for the call, not kept.
            let row: Vec<(&str, Cow<'_, str>)> = row.collect();
            skipped.note(self.add_row(None, row.iter().map(|(c, v)| (*c, v.as_ref()))));
        });
        (stats, rows, self.add_skipped_rows(skipped, object))
    }

    fn add_skipped_rows(&mut self, skipped: Skipped, object: impl FnOnce() -> String) -> u64 {
        if let Some(e) = skipped.first {
            self.add_damaged(DamagedInput {
                object: object(),
                problems: skipped.count,
                line: None,
                what: format!("{} result row(s) could not be read, first: {e}", skipped.count),
            });
        }
        skipped.count
    }

    /// Adds an object that could not be read whole; the same object seen again (another
    /// window's query read it too) is counted once.
    pub fn add_damaged(&mut self, damaged: DamagedInput) {
        if !self.damaged.iter().any(|d| d.object == damaged.object) {
            self.damaged.push(damaged);
        }
    }

    /// Rows accepted so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Objects a source left unopened because their names put them outside the window.
    pub fn add_skipped(&mut self, objects: u64) {
        self.stats.objects_skipped += objects;
    }

    /// Notes that the servers were split into `parts` queries per log group (1: not split).
    pub fn set_server_parts(&mut self, parts: usize) {
        self.stats.server_parts = if parts > 1 { parts as u64 } else { 0 };
    }

    pub fn stats(&self) -> &ScanStats {
        &self.stats
    }

    /// The merged aggregates, sorted, with the estimated cost at `price_per_gb` dollars.
    pub fn finish(self, price_per_gb: f64) -> FlowData {
        let mut data = self.into_data();
        data.stats.estimated_cost = cost(data.stats.bytes_scanned, price_per_gb);
        for a in &mut data.stats.accounts {
            a.estimated_cost = cost(a.bytes_scanned, price_per_gb);
        }
        data
    }

    /// The aggregates in key order, the gaps, damaged objects and accounts sorted, each
    /// account's gaps counted; the costs as they stand.
    fn into_data(self) -> FlowData {
        let names = self.names;
        let mut flows = self.flows.rows;
        // By log group and ENI name, then the rest of the key.
        let rank = names.ranks();
        let order = |(k, _): &(Key, Acc)| {
            (
                rank[k.log_group as usize],
                rank[k.interface_id as usize],
                k.src,
                k.dst,
                k.protocol,
                k.port,
                k.action,
                k.direction,
            )
        };
        // Many rows are cut at the median and the halves sorted side by side; the keys are
        // distinct, so the order is the one sort's.
        if flows.len() < PARALLEL_SORT {
            flows.sort_unstable_by_key(order);
        } else {
            let middle = flows.len() / 2;
            let (low, _, high) = flows.select_nth_unstable_by_key(middle, order);
            std::thread::scope(|scope| {
                scope.spawn(|| low.sort_unstable_by_key(order));
                high.sort_unstable_by_key(order);
            });
        }
        let aggregates = flows.into_iter().map(|(key, acc)| acc.finished(key, &names)).collect();
        let mut gaps = self.gaps;
        gaps.sort_by(|a, b| (&a.account, &a.log_groups, a.window).cmp(&(&b.account, &b.log_groups, b.window)));
        let mut stats = self.stats;
        stats.accounts.sort_by(|a, b| a.account.cmp(&b.account));
        for a in &mut stats.accounts {
            a.gaps = gaps.iter().filter(|g| g.account.as_deref() == Some(a.account.as_str())).count() as u64;
        }
        let mut damaged = self.damaged;
        damaged.sort();
        FlowData { aggregates, skipdata: self.skipdata, gaps, damaged, stats, objects_read: Vec::new() }
    }
}

/// The data of several runs (the cycles of a watch, a retried query) as one, as if one run had
/// returned it all: aggregates merged on their key by the rule that merges one run's rows,
/// `SKIPDATA` counts summed per ENI, the gaps of every run, each damaged object once, and the
/// statistics summed. Costs are summed, not recomputed: an S3 run's cost is its requests, not
/// its bytes.
pub fn merge(runs: impl IntoIterator<Item = FlowData>) -> FlowData {
    let mut agg = Aggregator::new();
    let mut objects_read = BTreeSet::new();
    for run in runs {
        for a in run.aggregates {
            let (key, acc) = Acc::unfinished(&a, &mut agg.names);
            agg.add_flow(key, acc);
        }
        for (eni, records) in run.skipdata {
            *agg.skipdata.entry(eni).or_default() += records;
        }
        agg.gaps.extend(run.gaps);
        for d in run.damaged {
            agg.add_damaged(d);
        }
        add_scan(&mut agg.stats, run.stats);
        objects_read.extend(run.objects_read);
    }
    FlowData { objects_read: objects_read.into_iter().collect(), ..agg.into_data() }
}

/// Adds one run's statistics to `total`, field by field: the servers were split into as many
/// parts as the most split run's, and each account's gaps are counted again from the merged
/// gaps (by [`Aggregator::into_data`]).
fn add_scan(total: &mut ScanStats, run: ScanStats) {
    let ScanStats {
        queries,
        queries_answered,
        records_scanned,
        records_matched,
        bytes_scanned,
        estimated_cost,
        objects_skipped,
        server_parts,
        s3,
        accounts,
    } = run;
    total.queries += queries;
    total.queries_answered += queries_answered;
    total.records_scanned += records_scanned;
    total.records_matched += records_matched;
    total.bytes_scanned += bytes_scanned;
    total.estimated_cost += estimated_cost;
    total.objects_skipped += objects_skipped;
    total.server_parts = total.server_parts.max(server_parts);
    total.s3 = match (total.s3, s3) {
        (Some(a), Some(b)) => Some(S3Requests { list: a.list + b.list, get: a.get + b.get, bytes: a.bytes + b.bytes }),
        (a, b) => a.or(b),
    };
    for AccountScan { account, queries, records_scanned, bytes_scanned, estimated_cost, gaps: _ } in accounts {
        let a = account_scan(&mut total.accounts, &account);
        a.queries += queries;
        a.records_scanned += records_scanned;
        a.bytes_scanned += bytes_scanned;
        a.estimated_cost += estimated_cost;
    }
}

/// The statistics of `account` among `accounts`, added when it has none yet.
fn account_scan<'a>(accounts: &'a mut Vec<AccountScan>, account: &str) -> &'a mut AccountScan {
    let i = accounts.iter().position(|a| a.account == account).unwrap_or_else(|| {
        accounts.push(AccountScan { account: account.to_owned(), ..AccountScan::default() });
        accounts.len() - 1
    });
    &mut accounts[i]
}

/// Dollars for scanning `bytes` at `price_per_gb` (GB = 10^9 bytes, as AWS bills).
pub fn cost(bytes: u64, price_per_gb: f64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let gb = bytes as f64 / 1e9;
    gb * price_per_gb
}

impl Acc {
    /// Adds the records of `new`, of the same key: counts summed, flags or-ed, the times and
    /// port ranges widened to hold both.
    fn merge(&mut self, new: &Acc) {
        self.tcp_flags = match (self.tcp_flags, new.tcp_flags) {
            (Some(a), Some(b)) => Some(a | b),
            (a, b) => a.or(b),
        };
        self.records += new.records;
        self.packets += new.packets;
        self.bytes += new.bytes;
        self.first_seen = self.first_seen.min(new.first_seen);
        self.last_seen = self.last_seen.max(new.last_seen);
        let widen = |a: Option<(u16, u16)>, b: Option<(u16, u16)>| match (a, b) {
            (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
            (a, b) => a.or(b),
        };
        self.src_ports = widen(self.src_ports, new.src_ports);
        self.dst_ports = widen(self.dst_ports, new.dst_ports);
    }

    /// The aggregate of `key` with these sums; a time no record gave is 0.
    fn finished(self, key: Key, names: &Names) -> FlowAggregate {
        FlowAggregate {
            log_group: names.shared(key.log_group),
            interface_id: names.shared(key.interface_id),
            src: key.src,
            dst: key.dst,
            protocol: key.protocol,
            port: key.port,
            src_ports: self.src_ports.map(|(from, to)| PortRange { from, to }),
            dst_ports: self.dst_ports.map(|(from, to)| PortRange { from, to }),
            action: key.action,
            direction: key.direction,
            tcp_flags: self.tcp_flags,
            records: self.records,
            packets: self.packets,
            bytes: self.bytes,
            first_seen: if self.first_seen == i64::MAX { 0 } else { self.first_seen },
            last_seen: if self.last_seen == i64::MIN { 0 } else { self.last_seen },
        }
    }

    /// The key and sums of a finished aggregate, the inverse of [`Acc::finished`]: a time of 0
    /// is one no record gave, so it widens nothing.
    fn unfinished(a: &FlowAggregate, names: &mut Names) -> (Key, Acc) {
        let key = Key {
            log_group: names.id(&a.log_group),
            interface_id: names.id(&a.interface_id),
            src: a.src,
            dst: a.dst,
            protocol: a.protocol,
            port: a.port,
            action: a.action,
            direction: a.direction,
        };
        let acc = Acc {
            tcp_flags: a.tcp_flags,
            records: a.records,
            packets: a.packets,
            bytes: a.bytes,
            first_seen: if a.first_seen == 0 { i64::MAX } else { a.first_seen },
            last_seen: if a.last_seen == 0 { i64::MIN } else { a.last_seen },
            src_ports: a.src_ports.map(|r| (r.from, r.to)),
            dst_ports: a.dst_ports.map(|r| (r.from, r.to)),
        };
        (key, acc)
    }
}

/// The rows of one query that were not flows of the aggregating query.
#[derive(Default)]
struct Skipped {
    count: u64,
    first: Option<RowError>,
}

impl Skipped {
    fn note(&mut self, added: Result<(), RowError>) {
        if let Err(e) = added {
            tracing::debug!("skipped a row: {e}");
            self.count += 1;
            self.first.get_or_insert(e);
        }
    }
}

/// `@log` is `account-id:log-group-name`; the aggregate keeps the name.
fn strip_account(log: &str) -> &str {
    match log.split_once(':') {
        Some((account, name)) if !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => log,
    }
}

/// A non-negative count; Insights may print large sums in exponent notation.
fn number(value: Option<&str>, field: &'static str) -> Result<Option<u64>, RowError> {
    let Some(v) = value else { return Ok(None) };
    if let Ok(n) = v.parse::<u64>() {
        return Ok(Some(n));
    }
    match v.parse::<f64>() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(f) if (0.0..1.8e19).contains(&f) => Ok(Some(f.round() as u64)),
        _ => Err(RowError { field, value: v.to_owned() }),
    }
}

fn small<T: TryFrom<u64>>(value: Option<&str>, field: &'static str) -> Result<Option<T>, RowError> {
    number(value, field)?
        .map(|n| T::try_from(n).map_err(|_| RowError { field, value: value.unwrap_or_default().to_owned() }))
        .transpose()
}

fn time(value: Option<&str>, field: &'static str) -> Result<Option<i64>, RowError> {
    let Some(n) = number(value, field)? else { return Ok(None) };
    epoch_seconds(n).map(Some).ok_or(RowError { field, value: value.unwrap_or_default().to_owned() })
}

#[cfg(test)]
mod tests {
    use wavegap_core::flow::TimeWindow;

    use super::*;

    fn row(pairs: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        pairs.to_vec()
    }

    const REQUEST: &[(&str, &str)] = &[
        ("srcAddr", "10.0.0.7"),
        ("dstAddr", "10.0.0.8"),
        ("lowPort", "1433"),
        ("protocol", "6"),
        ("action", "REJECT"),
        ("interfaceId", "eni-1"),
        ("@log", "123456789012:/aws/vpc/flowlogs/app"),
        ("logStatus", "OK"),
        ("tcpFlags", "2"),
        ("flowRecords", "3"),
        ("flowPackets", "9"),
        ("flowBytes", "468"),
        ("firstSeen", "1714953732"),
        ("lastSeen", "1714953753"),
        ("minSrcPort", "50000"),
        ("maxSrcPort", "60000"),
        ("minDstPort", "1433"),
        ("maxDstPort", "1433"),
    ];

    fn check(rows: &[Vec<(&'static str, &'static str)>], expect: impl FnOnce(&FlowData)) {
        let mut agg = Aggregator::new();
        for r in rows {
            agg.add_row(None, r.iter().copied()).unwrap();
        }
        agg.add_stats(100, 10, 2_000_000_000);
        expect(&agg.finish(0.005));
    }

    fn with(
        base: &[(&'static str, &'static str)],
        changes: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, &'static str)> {
        let mut r = row(base);
        for (k, v) in changes {
            match r.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 = v,
                None => r.push((k, v)),
            }
        }
        r
    }

    #[test]
    fn a_request_row_becomes_an_aggregate() {
        check(&[row(REQUEST)], |d| {
            let a = &d.aggregates[0];
            assert_eq!(&*a.log_group, "/aws/vpc/flowlogs/app");
            assert_eq!((a.port, a.protocol, a.action), (1433, 6, Action::Reject));
            assert_eq!(a.src_ports, Some(PortRange { from: 50000, to: 60000 }));
            assert_eq!(a.dst_ports, Some(PortRange::single(1433)));
            assert_eq!((a.records, a.packets, a.bytes, a.tcp_flags), (3, 9, 468, Some(2)));
            assert_eq!((a.first_seen, a.last_seen), (1_714_953_732, 1_714_953_753));
            assert_eq!(d.stats.queries, 1);
            assert!((d.stats.estimated_cost - 0.01).abs() < 1e-12);
        });
    }

    #[test]
    fn many_rows_come_out_in_key_order() {
        // More rows than one thread sorts, added in a scrambled order, with log group and ENI
        // names first seen out of their order.
        let mut agg = Aggregator::new();
        let count = PARALLEL_SORT * 2 + 7;
        for i in (0..count).map(|i| (i * 7919) % count) {
            let (src, dst) = (format!("10.{}.0.{}", i % 5, i % 251), format!("10.9.{}.{}", i / 251 % 256, i % 3));
            let (log, eni, port) =
                (format!("111122223333:/flows/{}", 9 - i % 4), format!("eni-{}", 6 - i % 7), (i % 3).to_string());
            let value = |name: &str, v: &'static str| match name {
                "srcAddr" => src.as_str(),
                "dstAddr" => dst.as_str(),
                "@log" => log.as_str(),
                "interfaceId" => eni.as_str(),
                "lowPort" => port.as_str(),
                _ => v,
            };
            agg.add_row(None, REQUEST.iter().map(|&(k, v)| (k, value(k, v)))).unwrap();
        }
        let data = agg.finish(0.0);
        let order = |a: &FlowAggregate| {
            (a.log_group.clone(), a.interface_id.clone(), a.src, a.dst, a.protocol, a.port, a.action, a.direction)
        };
        assert_eq!(data.aggregates.len(), count);
        assert!(data.aggregates.windows(2).all(|w| order(&w[0]) < order(&w[1])), "aggregates out of key order");
    }

    #[test]
    fn rows_merge_across_flags_and_windows() {
        let later = with(
            REQUEST,
            &[("tcpFlags", "16"), ("firstSeen", "1714960000"), ("lastSeen", "1.714960060e9"), ("flowBytes", "1e3")],
        );
        check(&[row(REQUEST), later], |d| {
            assert_eq!(d.aggregates.len(), 1);
            let a = &d.aggregates[0];
            assert_eq!((a.records, a.bytes, a.tcp_flags), (6, 1468, Some(18)));
            assert_eq!((a.first_seen, a.last_seen), (1_714_953_732, 1_714_960_060));
        });
    }

    #[test]
    fn port_ranges_widen_across_rows_of_one_key() {
        // The same key from two windows: the ranges are the union, the orientation is the
        // analysis's business.
        let other = with(REQUEST, &[("minSrcPort", "40000"), ("maxSrcPort", "45000")]);
        check(&[row(REQUEST), other], |d| {
            assert_eq!(d.aggregates.len(), 1);
            assert_eq!(d.aggregates[0].src_ports, Some(PortRange { from: 40000, to: 60000 }));
        });
        let no_ports = with(REQUEST, &[("minSrcPort", ""), ("maxSrcPort", "")]);
        check(&[no_ports], |d| assert_eq!(d.aggregates[0].src_ports, None));
    }

    #[test]
    fn skipdata_rows_count_per_interface_whatever_the_missing_keys_look_like() {
        let a = row(&[("interfaceId", "eni-2"), ("logStatus", "SKIPDATA"), ("flowRecords", "4"), ("srcAddr", "-")]);
        let b = row(&[("interfaceId", "eni-2"), ("logStatus", "SKIPDATA"), ("flowRecords", "1"), ("@log", "1:/g")]);
        check(&[a, b], |d| {
            assert!(d.aggregates.is_empty());
            assert_eq!(d.skipdata.get("eni-2"), Some(&5));
        });
    }

    /// One run of `rows`, with one query's statistics.
    fn run_of(rows: &[Vec<(&'static str, &'static str)>]) -> Aggregator {
        let mut agg = Aggregator::new();
        for r in rows {
            agg.add_row(None, r.iter().copied()).unwrap();
        }
        agg.add_stats(100, 10, 2_000_000_000);
        agg.answered();
        agg
    }

    #[test]
    fn merged_runs_read_as_one_run_of_all_their_rows() {
        let skip = |n| row(&[("interfaceId", "eni-2"), ("logStatus", "SKIPDATA"), ("flowRecords", n)]);
        let other = with(REQUEST, &[("dstAddr", "10.0.0.9")]);
        let later = with(
            REQUEST,
            &[
                ("tcpFlags", "16"),
                ("minSrcPort", "40000"),
                ("maxSrcPort", "45000"),
                ("firstSeen", "1714960000"),
                ("lastSeen", "1714960060"),
            ],
        );
        // An accepted flow whose records gave no times in the first run, some in the second.
        let no_times = with(REQUEST, &[("firstSeen", ""), ("lastSeen", ""), ("action", "ACCEPT")]);
        let timed = with(REQUEST, &[("action", "ACCEPT")]);
        let first = [row(REQUEST), other, skip("4"), no_times];
        let second = [later, skip("1"), timed];
        let merged = merge([run_of(&first).finish(0.005), run_of(&second).finish(0.005)]);
        let whole = run_of(&[first.as_slice(), second.as_slice()].concat()).finish(0.005);
        assert_eq!(merged.aggregates, whole.aggregates);
        assert_eq!(merged.skipdata, whole.skipdata);

        let keys: Vec<(IpAddr, Action, u64)> = merged.aggregates.iter().map(|a| (a.dst, a.action, a.records)).collect();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            keys,
            [
                (ip("10.0.0.8"), Action::Accept, 6),
                (ip("10.0.0.8"), Action::Reject, 6),
                (ip("10.0.0.9"), Action::Reject, 3)
            ]
        );
        let a = &merged.aggregates[1];
        assert_eq!((a.records, a.packets, a.bytes, a.tcp_flags), (6, 18, 936, Some(18)));
        assert_eq!(a.src_ports, Some(PortRange { from: 40000, to: 60000 }));
        assert_eq!((a.first_seen, a.last_seen), (1_714_953_732, 1_714_960_060));
        // A time no record gave is unknown, not the epoch: it widens nothing.
        assert_eq!((merged.aggregates[0].first_seen, merged.aggregates[0].last_seen), (1_714_953_732, 1_714_953_753));
        assert_eq!(merged.skipdata.get("eni-2"), Some(&5));
        assert_eq!(merge([]), FlowData::default());
    }

    #[test]
    fn merged_statistics_add_up_and_each_gap_and_damaged_object_appears_once() {
        let gap = |account: Option<&str>, group: &str| CoverageGap {
            account: account.map(str::to_owned),
            log_groups: vec![group.to_owned()],
            window: TimeWindow { start: 0, end: 9 },
            reason: "Failed".into(),
            unreachable: false,
            chunk: Some(2),
        };
        let damaged = DamagedInput { object: "a.log.gz".into(), problems: 1, line: Some(3), what: "cut".into() };
        // A CloudWatch run, its servers split into three parts, with a gap.
        let mut cloudwatch = run_of(&[row(REQUEST)]);
        cloudwatch.add_account_stats("111111111111", 100, 2_000_000_000);
        cloudwatch.add_gap(gap(Some("111111111111"), "/z"));
        cloudwatch.add_damaged(damaged.clone());
        cloudwatch.set_server_parts(3);
        let mut cloudwatch = cloudwatch.finish(0.005);
        cloudwatch.objects_read = vec!["a".into(), "b".into()];
        // An S3 run: its cost is its requests.
        let mut s3 = run_of(&[]);
        s3.add_account_stats("111111111111", 50, 1_000_000_000);
        s3.add_account_stats("222222222222", 7, 70);
        s3.add_gap(gap(None, "/a"));
        s3.add_damaged(damaged);
        s3.add_skipped(3);
        let mut s3 = s3.finish(0.0);
        s3.stats.estimated_cost = 0.002;
        s3.stats.s3 = Some(S3Requests { list: 2, get: 10, bytes: 1000 });
        s3.objects_read = vec!["b".into(), "c".into()];
        // A retry of one of the split queries that found nothing.
        let mut retry = Aggregator::new();
        retry.add_stats(0, 0, 0);
        retry.set_server_parts(3);

        let merged = merge([cloudwatch, s3, retry.finish(0.005)]);
        let stats = &merged.stats;
        assert_eq!(
            (stats.queries, stats.queries_answered, stats.records_scanned, stats.records_matched),
            (3, 2, 200, 20)
        );
        assert_eq!(stats.bytes_scanned, 4_000_000_000);
        assert!((stats.estimated_cost - 0.012).abs() < 1e-12, "summed, not recomputed: {}", stats.estimated_cost);
        assert_eq!((stats.objects_skipped, stats.server_parts), (3, 3));
        assert_eq!(stats.s3, Some(S3Requests { list: 2, get: 10, bytes: 1000 }));
        let accounts: Vec<(&str, u64, u64, u64, u64)> = stats
            .accounts
            .iter()
            .map(|a| (a.account.as_str(), a.queries, a.records_scanned, a.bytes_scanned, a.gaps))
            .collect();
        assert_eq!(accounts, [("111111111111", 2, 150, 3_000_000_000, 1), ("222222222222", 1, 7, 70, 0)]);
        assert!((stats.accounts[0].estimated_cost - 0.01).abs() < 1e-12);
        // Sorted as one run's: the wave's own account first.
        assert_eq!(merged.gaps, [gap(None, "/a"), gap(Some("111111111111"), "/z")]);
        assert_eq!(merged.damaged.len(), 1);
        assert_eq!(merged.objects_read, ["a", "b", "c"]);
    }

    #[test]
    fn bad_rows_are_errors_not_guesses() {
        let mut agg = Aggregator::new();
        for (change, field) in [
            (("srcAddr", "10.0.0.300"), "srcAddr"),
            (("protocol", "300"), "protocol"),
            (("action", "accept"), "action"),
            (("flowRecords", "-3"), "flowRecords"),
            (("lowPort", "70000"), "lowPort"),
            (("interfaceId", "-"), "interfaceId"),
        ] {
            let err = agg.add_row(None, with(REQUEST, &[change])).unwrap_err();
            assert_eq!(err.field, field);
        }
        assert_eq!(agg.rows(), 0);
        assert_eq!(strip_account("not-an-account:/g"), "not-an-account:/g");
    }
}
