//! Running a plan: per-record filtering and aggregation into a partial state that can be
//! merged with others (one per thread), then the row stage and the result.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use wavegap_core::flowlog::{FlowFormat, KnownField};

use crate::bind::{Stage, bind_stage};
use crate::eval::{Env, Parsed, RecordEnv, Resolved, RowEnv, eval, test};
use crate::groups::{Groups, Order, Row, encode_key, for_each_group_text, group_rows};
use crate::plan::{Mode, Plan, RowCmd};
use crate::prefilter::Prefilter;
use crate::value::{Val, sort_cmp};
use crate::{Event, FlowLines, QueryResult, Statistics};

/// The partial state of one query over some events. Feed events with [`Executor::push_all`],
/// combine the partial states of several threads with [`Executor::merge`], and turn the
/// result into rows with [`Executor::finish`].
#[derive(Debug)]
pub struct Executor {
    plan: Arc<Plan>,
    bounds: Vec<BoundFormat>,
    last: usize,
    state: State,
    stats: Statistics,
    limit: usize,
    /// Whether `stats` rows come sorted by their keys (see [`Executor::unordered`]).
    ordered: bool,
}

#[derive(Debug)]
enum State {
    Groups(Groups),
    Rows(Vec<Row<'static>>),
}

/// The plan's external names bound to one flow-log format.
#[derive(Debug)]
struct BoundFormat {
    /// Address of the format last seen with this binding: a cheap first check per event.
    addr: usize,
    format: FlowFormat,
    ext: Vec<Resolved>,
    interface_col: Option<usize>,
    /// Texts every matching line contains one of, so lines without them need not be split.
    prefilter: Option<Prefilter>,
    /// The record stage bound to this format.
    stage: Stage,
}

/// The default row limit of `StartQuery` when the query has no `limit`.
pub const DEFAULT_LIMIT: usize = 10_000;

impl Executor {
    pub(crate) fn new(plan: Arc<Plan>) -> Self {
        let state = match &plan.mode {
            Mode::Stats(s) => State::Groups(Groups::new(&s.aggs)),
            Mode::Records { .. } => State::Rows(Vec::new()),
        };
        Executor {
            plan,
            bounds: Vec::new(),
            last: 0,
            state,
            stats: Statistics::default(),
            limit: DEFAULT_LIMIT,
            ordered: true,
        }
    }

    /// The most rows [`Executor::finish`] returns (the `limit` of `StartQuery`); a `limit`
    /// command in the query can only lower it.
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// The rows of a `stats` that nothing follows come in no particular order, as Logs
    /// Insights gives them, instead of sorted by their keys: for a caller that orders them
    /// itself, a sort of every group saved. Only when every group is within the limit: which
    /// groups a limit keeps still follows the key order.
    #[must_use]
    pub fn unordered(mut self) -> Self {
        self.ordered = false;
        self
    }

    /// How many rows [`Executor::finish_each`] gives at most: the groups of a `stats`, the
    /// records kept otherwise (before the limit and any command after `stats`).
    pub fn rows_at_most(&self) -> usize {
        match &self.state {
            State::Groups(groups) => groups.len().max(1),
            State::Rows(rows) => rows.len(),
        }
    }

    /// Adds bytes read that were not part of any event (headers, skipped lines).
    pub fn add_bytes_scanned(&mut self, bytes: u64) {
        self.stats.bytes_scanned += bytes;
    }

    pub fn statistics(&self) -> Statistics {
        self.stats
    }

    /// Feeds events through the query.
    pub fn push_all<'a>(&mut self, events: impl IntoIterator<Item = Event<'a>>) {
        self.push_checked(events, |_| {});
    }

    /// Like [`Executor::push_all`], and calls `malformed` for each event whose message does
    /// not have as many fields as its format (its flow-log fields are then missing, as in
    /// Insights when discovery fails; system fields still work).
    pub fn push_checked<'a>(
        &mut self,
        events: impl IntoIterator<Item = Event<'a>>,
        mut malformed: impl FnMut(&Event<'a>),
    ) {
        let plan = Arc::clone(&self.plan);
        let plan: &Plan = &plan;
        forget_addresses(&mut self.bounds);
        let mut cols: Vec<&'a str> = Vec::with_capacity(32);
        let mut key = Vec::with_capacity(128);
        for ev in events {
            self.stats.records_scanned += 1;
            self.stats.bytes_scanned += ev.message.len() as u64;
            let b = bind(&mut self.bounds, &mut self.last, plan, ev.format);
            let bound = &self.bounds[b];
            split_fields(ev.message, &mut cols);
            let valid = cols.len() == bound.format.len();
            if !valid {
                malformed(&ev);
            }
            // Per event: the values may borrow from this format's binding, which the next
            // event's may replace.
            let mut slots: Vec<Option<Val<'_>>> = vec![None; plan.slots.len()];
            let mut addrs = vec![Parsed::NotYet; plan.addr_caches];
            let mut env = RecordEnv {
                ext: &bound.ext,
                cols: &cols,
                valid,
                message: ev.message,
                timestamp: ev.timestamp,
                ingestion_time: ev.ingestion_time,
                log_stream: ev.log_stream,
                log: ev.log,
                interface_col: bound.interface_col,
                slots: &mut slots,
                addrs: &mut addrs,
                slot_defs: &bound.stage.slots,
                parses: &bound.stage.parses,
            };
            consume(&mut self.state, &mut self.stats, self.limit, &bound.stage, &mut env, &mut key);
        }
    }

    /// Feeds the complete lines of a flow-log file (after its header) through the query: the
    /// fast path of the local source. Each line is split once; `@timestamp` is the record's
    /// `start` (seconds, or milliseconds above 2^31), `@logStream` its `interface-id`. Every
    /// record read counts as scanned; those outside `window_ms` (inclusive) then never match.
    /// A line whose field count differs from the format goes to `bad_line` with its line number
    /// and is skipped. Empty lines are ignored.
    ///
    /// When the filters require a literal (`action = "REJECT"`), lines without it are not
    /// split at all — provided the chunk's space count shows every line has the format's
    /// field count; otherwise the chunk is read line by line so damage is still reported.
    pub fn push_flow_lines<'a>(&mut self, lines: &FlowLines<'a>, mut bad_line: impl FnMut(u64, &str)) {
        let plan = Arc::clone(&self.plan);
        let plan: &Plan = &plan;
        forget_addresses(&mut self.bounds);
        let b = bind(&mut self.bounds, &mut self.last, plan, lines.format);
        let bound = &self.bounds[b];
        let start_col = lines.format.position(KnownField::Start);
        let mut cols: Vec<&'a str> = Vec::with_capacity(32);
        let mut slots: Vec<Option<Val<'_>>> = vec![None; plan.slots.len()];
        let mut addrs = vec![Parsed::NotYet; plan.addr_caches];
        let mut key = Vec::with_capacity(128);
        let text: &'a str = lines.text;
        let bytes = text.as_bytes();
        let nfields = bound.format.len();
        // Lines without the prefilter literal cannot match: find the literal and split only its
        // lines. Every line is still counted as scanned. This is taken when the space count
        // says each line has the header's field count (the normal case); otherwise the chunk
        // takes the careful path below, so damaged lines are reported.
        // Whether the chunk holds whitespace other than spaces (tab, CR, form feed), in one
        // pass for the usual chunk that holds none; only then is it searched for tabs.
        let spaces_only = memchr::memchr3(b'\t', b'\r', b'\x0c', bytes).is_none();
        let tabs = !spaces_only && memchr::memchr(b'\t', bytes).is_some();
        let fast = bound.prefilter.as_ref().filter(|_| {
            let newlines = memchr::memchr_iter(b'\n', bytes).count();
            let lines_in_chunk = newlines + usize::from(!bytes.ends_with(b"\n"));
            let spaces = memchr::memchr_iter(b' ', bytes).count();
            let ok = nfields > 1 && !tabs && spaces == lines_in_chunk * (nfields - 1);
            if ok {
                self.stats.records_scanned += lines_in_chunk as u64;
                self.stats.bytes_scanned += bytes.len() as u64;
            }
            ok
        });
        let state = &mut self.state;
        let stats = &mut self.stats;
        let limit = self.limit;
        // One record: the split fields (or `None` to split again the careful way).
        let mut record =
            |line: &'a str, line_no: u64, split: Option<&[&'a str]>, cols: &mut Vec<&'a str>, count: bool| {
                let fields: &[&str] = if let Some(f) = split {
                    f
                } else {
                    if spaces_only {
                        split_spaces(line, cols);
                    } else {
                        split_fields(line, cols);
                    }
                    cols
                };
                if fields.len() != nfields {
                    bad_line(line_no, line);
                    return;
                }
                if count {
                    stats.records_scanned += 1;
                    stats.bytes_scanned += line.len() as u64 + 1;
                }
                let timestamp = start_col.and_then(|c| epoch_ms(fields[c])).unwrap_or(lines.default_timestamp);
                if let Some((from, to)) = lines.window_ms
                    && (timestamp < from || timestamp > to)
                {
                    return;
                }
                slots.fill(None);
                addrs.fill(Parsed::NotYet);
                let mut env = RecordEnv {
                    ext: &bound.ext,
                    cols: fields,
                    valid: true,
                    message: line,
                    timestamp,
                    ingestion_time: lines.ingestion_time,
                    log_stream: None,
                    log: lines.log,
                    interface_col: bound.interface_col,
                    slots: &mut slots,
                    addrs: &mut addrs,
                    slot_defs: &bound.stage.slots,
                    parses: &bound.stage.parses,
                };
                consume(state, stats, limit, &bound.stage, &mut env, &mut key);
            };
        let mut spare: Vec<&'a str> = Vec::with_capacity(32);
        let mut line_no = lines.first_line;
        if tabs {
            // Tabs between fields: the general splitter, line by line.
            for line in text.split('\n') {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if !line.trim().is_empty() {
                    record(line, line_no, None, &mut spare, true);
                }
                line_no += 1;
            }
            return;
        }
        match fast {
            Some(Prefilter::Text(finder)) => {
                let mut next_line = 0;
                let mut counted_to = 0;
                while let Some(m) = bytes.get(next_line..).and_then(|rest| finder.find(rest)).map(|i| next_line + i) {
                    let start = memchr::memrchr(b'\n', &bytes[..m]).map_or(0, |i| i + 1);
                    let end = memchr::memchr(b'\n', &bytes[m..]).map_or(bytes.len(), |i| m + i);
                    line_no += memchr::memchr_iter(b'\n', &bytes[counted_to..start]).count() as u64;
                    counted_to = start;
                    let line = &text[start..end];
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    record(line, line_no, None, &mut spare, false);
                    next_line = end + 1;
                }
                return;
            }
            Some(Prefilter::Lines(tests)) => {
                let mut start = 0;
                for end in memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len())) {
                    let line = &text[start..end];
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    if !line.is_empty() && tests.passes(line, spaces_only) {
                        record(line, line_no, None, &mut spare, false);
                    }
                    line_no += 1;
                    start = end + 1;
                }
                return;
            }
            None => {}
        }
        // AWS separates fields with one space: one pass over the chunk, eight bytes at a time,
        // finds every space and newline. A line with runs of spaces is split again the careful
        // way.
        let mut line_start = 0;
        let mut field_start = 0;
        let mut clean = true;
        let mut finish_line =
            |end: usize, line_start: usize, field_start: usize, clean: bool, line_no: u64, cols: &mut Vec<&'a str>| {
                let mut stop = end;
                if stop > line_start && bytes[stop - 1] == b'\r' {
                    stop -= 1;
                }
                let line = &text[line_start..stop];
                if stop > field_start {
                    cols.push(&text[field_start..stop]);
                }
                if line.is_empty() {
                    return;
                }
                if clean && stop > field_start {
                    record(line, line_no, Some(cols), &mut spare, true);
                } else {
                    record(line, line_no, None, &mut spare, true);
                }
            };
        for pos in <Separators>::new(bytes) {
            if bytes[pos] == b' ' {
                if pos == field_start {
                    clean = false;
                } else {
                    cols.push(&text[field_start..pos]);
                }
                field_start = pos + 1;
            } else {
                finish_line(pos, line_start, field_start, clean, line_no, &mut cols);
                line_no += 1;
                cols.clear();
                clean = true;
                line_start = pos + 1;
                field_start = pos + 1;
            }
        }
        if line_start < bytes.len() {
            finish_line(bytes.len(), line_start, field_start, clean, line_no, &mut cols);
        }
    }

    /// Folds another partial state of the same query into this one.
    /// The fields of `format` (positions, ascending) that records need for this query: the
    /// fields it names, `start` (`@timestamp`, and the window) and `interface-id` when it
    /// reads `@logStream`. `None` when it reads `@message`, which is every field. A columnar
    /// source reads only these; the query's answers are the same as on whole records.
    pub fn fields_read(&self, format: &FlowFormat) -> Option<Vec<usize>> {
        let mut cols: Vec<usize> = format.position(KnownField::Start).into_iter().collect();
        for resolved in resolve_names(&self.plan, format) {
            match resolved {
                Resolved::Message => return None,
                Resolved::Col(c) => cols.push(c),
                Resolved::LogStream => cols.extend(format.position(KnownField::InterfaceId)),
                Resolved::Timestamp | Resolved::IngestionTime | Resolved::Log | Resolved::Missing => {}
            }
        }
        cols.sort_unstable();
        cols.dedup();
        Some(cols)
    }

    pub fn merge(&mut self, other: Executor) {
        self.stats.records_scanned += other.stats.records_scanned;
        self.stats.records_matched += other.stats.records_matched;
        self.stats.bytes_scanned += other.stats.bytes_scanned;
        match (&mut self.state, other.state) {
            (State::Groups(a), State::Groups(mut b)) => {
                // The smaller into the larger: fewer inserts and no second full-size table.
                if b.len() > a.len() {
                    std::mem::swap(a, &mut b);
                }
                a.merge(b);
            }
            (State::Rows(a), State::Rows(b)) => {
                a.extend(b);
                if let Mode::Records { truncate: Some((keys, k)), .. } = &self.plan.mode {
                    let k = (*k).min(self.limit);
                    if a.len() > k {
                        order_rows(a, keys);
                        a.truncate(k);
                    }
                }
            }
            _ => {}
        }
    }

    /// Runs the row stage and returns the result rows.
    pub fn finish(self) -> QueryResult {
        let mut result = QueryResult::new(self.columns());
        result.reserve(self.rows_at_most().min(self.limit));
        result.statistics = self.finish_each(|values| result.push_row(values));
        result
    }

    /// The result's columns, in order.
    pub fn columns(&self) -> Vec<String> {
        self.plan.visible.iter().map(|&i| self.plan.columns[i].clone()).collect()
    }

    /// Runs the row stage and hands each result row to `row` as it is made (its value in each
    /// of [`Executor::columns`], `None` where it has none), so that no result is held whole.
    pub fn finish_each(self, mut row: impl FnMut(&mut dyn Iterator<Item = Option<Cow<'_, str>>>)) -> Statistics {
        let plan = &*self.plan;
        let mut ts_col = plan.timestamp_col;
        let statistics = self.stats;
        // The group keys, which the rows borrow their text from.
        let keys;
        let mut rows = match (self.state, &plan.mode) {
            (State::Groups(groups), Mode::Stats(stats)) if plan.tail.is_empty() => {
                // Nothing runs on the rows: each goes into the result as it is made.
                let (keys, mut cols) = groups.into_parts();
                let order = if self.ordered || keys.len() > self.limit { Order::Keys } else { Order::Any };
                for_each_group_text(&keys, &mut cols, stats, self.limit, order, |text| {
                    row(&mut plan.visible.iter().map(|&i| text.get(i).map(Cow::Borrowed)));
                });
                return statistics;
            }
            (State::Groups(groups), Mode::Stats(stats)) => {
                ts_col = None;
                let mut cols;
                (keys, cols) = groups.into_parts();
                group_rows(&keys, &mut cols, stats)
            }
            (State::Rows(mut rows), Mode::Records { .. }) => {
                // Newest first, as Insights returns records without `sort`.
                let newest_first: Vec<(usize, bool)> = ts_col.map(|c| (c, true)).into_iter().collect();
                order_rows(&mut rows, &newest_first);
                rows
            }
            _ => Vec::new(),
        };
        for cmd in &plan.tail {
            rows = apply(cmd, rows, &mut ts_col);
        }
        rows.truncate(self.limit);
        // Row by row, so each row is freed as soon as it is handed on.
        for values in rows {
            row(&mut plan.visible.iter().map(|&i| values.get(i).and_then(Val::text)));
        }
        statistics
    }
}

/// Filters one record and adds it to the state.
fn consume<'v>(
    state: &mut State,
    stats: &mut Statistics,
    limit: usize,
    stage: &'v Stage,
    env: &mut RecordEnv<'v, '_>,
    key: &mut Vec<u8>,
) {
    if !stage.filters.iter().all(|f| test(f, env)) {
        return;
    }
    stats.records_matched += 1;
    match (state, &stage.mode) {
        (State::Groups(groups), Mode::Stats(s)) => {
            let ts = env.timestamp;
            groups.update(s, env, Some(ts), key);
        }
        (State::Rows(rows), Mode::Records { columns, truncate }) => {
            rows.push(columns.iter().map(|c| eval(c, env).into_owned()).collect());
            if let Some((keys, k)) = truncate {
                let k = (*k).min(limit);
                if rows.len() >= 2 * k + 1024 {
                    order_rows(rows, keys);
                    rows.truncate(k);
                }
            }
        }
        _ => unreachable!("the state follows the plan's mode"),
    }
}

/// A flow-log `start`/`end` value in milliseconds (values above 2^31 are milliseconds already).
fn epoch_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 18 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = b.iter().fold(0i64, |acc, &c| acc * 10 + i64::from(c - b'0'));
    Some(if v > 1 << 31 { v } else { v * 1000 })
}

/// Format addresses identify a format only while the caller's borrow lasts (one push call):
/// afterwards another format may live at the same address.
fn forget_addresses(bounds: &mut [BoundFormat]) {
    for b in bounds {
        b.addr = 0;
    }
}

/// The binding of `format`, made on first sight.
fn bind(bounds: &mut Vec<BoundFormat>, last: &mut usize, plan: &Plan, format: &FlowFormat) -> usize {
    let addr = std::ptr::from_ref(format) as usize;
    if let Some(b) = bounds.get(*last)
        && b.addr == addr
    {
        return *last;
    }
    if let Some(i) = bounds.iter().position(|b| b.format == *format) {
        bounds[i].addr = addr;
        *last = i;
        return i;
    }
    let ext = resolve_names(plan, format);
    let stage = bind_stage(plan, &ext);
    let prefilter = Prefilter::new(&stage, &ext, format.len());
    bounds.push(BoundFormat {
        addr,
        prefilter,
        stage,
        format: format.clone(),
        ext,
        interface_col: format.position(KnownField::InterfaceId),
    });
    *last = bounds.len() - 1;
    *last
}

/// The high bit of every byte of `w` that is zero, and no other bit (exact, unlike the
/// shorter test that can flag a byte after a zero one).
#[inline]
fn zero_bytes(w: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = !HIGH;
    !(((w & low7).wrapping_add(low7)) | w | low7)
}

/// What each of the plan's external names is in `format`.
pub(crate) fn resolve_names(plan: &Plan, format: &FlowFormat) -> Vec<Resolved> {
    plan.ext_names
        .iter()
        .map(|name| match name.as_str() {
            "@message" => Resolved::Message,
            "@timestamp" => Resolved::Timestamp,
            "@ingestionTime" => Resolved::IngestionTime,
            "@logStream" => Resolved::LogStream,
            "@log" => Resolved::Log,
            other => format.position_of_insights_name(other).map_or(Resolved::Missing, Resolved::Col),
        })
        .collect()
}

/// The positions of spaces and newlines in a chunk, found eight bytes at a time in a word
/// (SWAR). A flow-log line has a separator every seven bytes or so, too often for a vector
/// search to pay its start-up per match; here a match costs a few instructions. With `LINES`
/// false, the spaces only: those of one line.
pub(crate) struct Separators<'b, const LINES: bool = true> {
    words: std::slice::ChunksExact<'b, u8>,
    /// Offset of the word `mask` came from.
    base: usize,
    /// Offset of the next word.
    next: usize,
    /// The separators of the current word not yet returned: the high bit of each such byte.
    mask: u64,
    /// Bytes after the last whole word (which start at `next` once the words are done).
    tail: &'b [u8],
}

/// The positions of the spaces in a line (see [`Separators`]).
pub(crate) type Spaces<'b> = Separators<'b, false>;

impl<'b, const LINES: bool> Separators<'b, LINES> {
    const ONES: u64 = 0x0101_0101_0101_0101;

    #[inline]
    pub(crate) fn new(bytes: &'b [u8]) -> Self {
        let words = bytes.chunks_exact(8);
        let tail = words.remainder();
        Separators { words, base: 0, next: 0, mask: 0, tail }
    }

    #[inline]
    fn separators(word: &[u8]) -> u64 {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let spaces = zero_bytes(w ^ (Self::ONES * u64::from(b' ')));
        if LINES { spaces | zero_bytes(w ^ (Self::ONES * u64::from(b'\n'))) } else { spaces }
    }
}

impl<const LINES: bool> Iterator for Separators<'_, LINES> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let i = self.mask.trailing_zeros() as usize / 8;
                self.mask &= self.mask - 1;
                return Some(self.base + i);
            }
            if let Some(word) = self.words.next() {
                self.base = self.next;
                self.next += 8;
                self.mask = Self::separators(word);
                continue;
            }
            let (&b, rest) = self.tail.split_first()?;
            let at = self.next;
            self.tail = rest;
            self.next += 1;
            if b == b' ' || (LINES && b == b'\n') {
                return Some(at);
            }
        }
    }
}

/// Splits a line on runs of ASCII whitespace (AWS writes one space; other tools more).
pub(crate) fn split_fields<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    out.clear();
    let b = line.as_bytes();
    let n = b.len();
    let mut i = 0;
    loop {
        while i < n && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        while i < n && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push(&line[start..i]);
    }
}

/// [`split_fields`] of a line whose only whitespace is spaces, its spaces found eight bytes at
/// a time.
fn split_spaces<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    out.clear();
    let mut start = 0;
    for at in Spaces::new(line.as_bytes()) {
        if at > start {
            out.push(&line[start..at]);
        }
        start = at + 1;
    }
    if start < line.len() {
        out.push(&line[start..]);
    }
}

/// Sorts rows by `keys` (column, descending), ties by every column ascending so the order
/// never depends on which thread read what first.
fn order_rows(rows: &mut [Row<'_>], keys: &[(usize, bool)]) {
    rows.sort_by(|a, b| {
        for &(c, desc) in keys {
            let o = sort_cmp(a.get(c).unwrap_or(&Val::Missing), b.get(c).unwrap_or(&Val::Missing));
            if o != Ordering::Equal {
                return if desc { o.reverse() } else { o };
            }
        }
        cmp_all(a, b)
    });
}

pub(crate) fn cmp_all(a: &Row<'_>, b: &Row<'_>) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = sort_cmp(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn apply<'k>(cmd: &RowCmd, mut rows: Vec<Row<'k>>, ts_col: &mut Option<usize>) -> Vec<Row<'k>> {
    let timestamp_col = *ts_col;
    match cmd {
        RowCmd::Filter(e) => rows.retain(|row| test(e, &mut RowEnv { row, timestamp_col })),
        RowCmd::Fields(list) => {
            for row in &mut rows {
                let values: Vec<(usize, Val<'static>)> =
                    list.iter().map(|(i, e)| (*i, eval(e, &mut RowEnv { row, timestamp_col }).into_owned())).collect();
                for (i, v) in values {
                    if row.len() <= i {
                        row.resize(i + 1, Val::Missing);
                    }
                    row[i] = v;
                }
            }
        }
        RowCmd::Sort(keys) => {
            // Keys are computed as rows are compared: most name a column (`sort count desc`),
            // and no keyed copy of the rows is made.
            rows.sort_by(|a, b| {
                sort_keys_cmp(keys.iter().map(|(e, desc)| {
                    let x = eval(e, &mut RowEnv { row: a, timestamp_col });
                    (x, eval(e, &mut RowEnv { row: b, timestamp_col }), *desc)
                }))
            });
        }
        RowCmd::Limit(n) => rows.truncate(*n),
        RowCmd::Dedup(cols) => {
            let mut seen: FxHashSet<Vec<u8>> = FxHashSet::default();
            rows.retain(|row| {
                let vals: Vec<&Val<'_>> = cols.iter().map(|&c| row.get(c).unwrap_or(&Val::Missing)).collect();
                if vals.iter().any(|v| v.is_missing()) {
                    return true;
                }
                let mut key = Vec::new();
                for v in vals {
                    encode_key(v, &mut key);
                }
                seen.insert(key)
            });
        }
        RowCmd::Stats(stats) => {
            let mut groups = Groups::new(&stats.aggs);
            let mut key = Vec::new();
            for row in &rows {
                let mut env = RowEnv { row, timestamp_col };
                let ts = env.timestamp();
                groups.update(stats, &mut env, ts, &mut key);
            }
            *ts_col = None;
            let (keys, mut cols) = groups.into_parts();
            rows = group_rows(&keys, &mut cols, stats).into_iter().map(owned_row).collect();
        }
    }
    rows
}

/// `sort`'s order over (left, right, descending) key values: missing values stay last in
/// both directions.
fn sort_keys_cmp<'a>(keys: impl Iterator<Item = (Val<'a>, Val<'a>, bool)>) -> Ordering {
    for (x, y, desc) in keys {
        let o = sort_cmp(&x, &y);
        if o != Ordering::Equal {
            return if desc && !x.is_missing() && !y.is_missing() { o.reverse() } else { o };
        }
    }
    Ordering::Equal
}

fn owned_row(row: Row<'_>) -> Row<'static> {
    row.into_iter().map(Val::into_owned).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_of_spaces_split_as_lines_of_any_whitespace() {
        let shapes = (0..400usize).map(|n| {
            let mut line = String::from(["", " ", "  "][n % 3]);
            for c in 0..n % 9 {
                line.push_str(["x", "abcdefg", "abcdefgh", "abcdefghi", "ab"][(n / 9 + c) % 5]);
                line.push_str(if (n + c) % 7 == 0 { "   " } else { " " });
            }
            if n % 2 == 0 {
                line.pop();
            }
            line
        });
        let lines = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "  a  b ",
            "2 123 eni-1 10.0.0.5 10.0.0.8 40001 443",
            "a  b   c",
            "abcdefghij klmnopqrstu",
        ];
        for line in lines.into_iter().map(String::from).chain(shapes) {
            let line = line.as_str();
            let (mut want, mut got) = (Vec::new(), Vec::new());
            super::split_fields(line, &mut want);
            super::split_spaces(line, &mut got);
            assert_eq!(got, want, "{line:?}");
        }
    }

    #[test]
    fn separators_are_every_space_and_newline() {
        let alphabet = [b' ', b'\n', b'a', b'\t', 0xa0, 0, 0xff, b'!'];
        let text: Vec<u8> = (0..300usize).map(|i| alphabet[i * i % 7 + i % 2]).collect();
        for start in 0..9 {
            for end in (start..text.len()).step_by(13) {
                let bytes = &text[start..end];
                let want: Vec<usize> = memchr::memchr2_iter(b' ', b'\n', bytes).collect();
                assert_eq!(<super::Separators>::new(bytes).collect::<Vec<_>>(), want, "{start}..{end}");
                let spaces: Vec<usize> = memchr::memchr_iter(b' ', bytes).collect();
                assert_eq!(super::Spaces::new(bytes).collect::<Vec<_>>(), spaces, "spaces {start}..{end}");
            }
        }
    }
}
