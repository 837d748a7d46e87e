//! The local source: flow-log files as AWS delivers them to S3, and CloudWatch Logs events
//! exported as JSON lines, queried with `wavegap-insights` — the same query text that goes to
//! CloudWatch.
//!
//! - S3 objects (`AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD[/HH]/…log.gz` or the Hive
//!   layout `aws-account-id=…/…`), gzip or plain, each with a header line naming its fields;
//!   formats may differ between files. `@logStream` is the record's `interface-id` and `@log`
//!   is `account-id:flow-log-id` from the object name, so a query written for CloudWatch
//!   (one stream per ENI) still groups per ENI. `@timestamp` is the record's `start`.
//! - The same objects in the delivery's Parquet format (`….log.parquet`): one column per field,
//!   named with `_` for `-`. Only the columns the query reads are decoded, row group by row
//!   group, and rendered as the text lines the same engine reads, so both formats answer
//!   alike. Parquet needs random access: a file is read where it is, an S3 object whole.
//! - CloudWatch exports (`*.jsonl`, `*.ndjson`, optionally gzip): one
//!   `{"logGroup","logStream","timestamp","message"}` object per line, in the format the caller
//!   passes (default version 2); `@log` is `account-id:log-group` with the account of the group's
//!   first record.
//!
//! Files are read on every core, each streamed in chunks of 256 KiB, so memory stays flat
//! as the input grows; only the query's aggregation state grows. An object whose name puts it
//! more than an hour before or 15 minutes after the window is skipped without being opened
//! (S3 objects hold the records of the five minutes before their time, later if delivery
//! lagged); records are then filtered by `@timestamp` exactly. Objects an earlier cycle of a
//! watch read ([`LocalOptions::read_before`]) are left out before that, unopened too.
//!
//! Damage is reported, never fatal by default: a truncated or corrupt gzip stream, a `.gz`
//! that is not gzip, a line whose field count does not match the header, text that is not
//! UTF-8, an unknown header field (kept as text), a Parquet file that is not one, is corrupt or
//! has a column of a type flow logs never have (skipped whole). Each is a [`Problem`] with the file and line;
//! everything else is still read. [`LocalOptions::strict`] turns any problem into an error.

mod discover;
mod parquet;

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::read::MultiGzDecoder;
use wavegap_core::flow::TimeWindow;
use wavegap_core::flowlog::{FlowField, FlowFormat, KnownField};
use wavegap_insights::{Event, Executor, FlowLines, Query, QueryResult};

pub(crate) use self::discover::{FileKind, kind_of};
use self::discover::{S3Name, find_files};

/// How many problems are kept with their details (all are counted).
const MAX_PROBLEMS: usize = 1000;
/// Decompressed bytes handed to the engine at a time: small enough that the buffer's
/// footprint does not follow the size of the files.
const CHUNK: usize = 256 << 10;
/// The most bytes asked of the decoder at a time.
const READ: usize = 128 << 10;
/// The longest line read as a record. Flow-log records are a few hundred bytes (CloudWatch
/// events at most 256 KiB); a longer line is damage, reported and skipped up to its end, so
/// a file without newlines never grows the buffer without bound.
const MAX_LINE: usize = 1 << 20;
/// The largest object read whole for random access (S3 delivers objects of at most 75 MB).
pub(crate) const MAX_RANDOM_ACCESS: u64 = 1 << 30;
/// An S3 object can hold records this much older than its name says (delivery lag).
const BEFORE_NAME: i64 = 3600;
/// … and this much newer (clock skew).
const AFTER_NAME: i64 = 15 * 60;

#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Fail on the first kind of damage instead of reporting it.
    pub strict: bool,
    /// Format of CloudWatch export messages (S3 objects carry their own header).
    pub log_format: FlowFormat,
    /// Row limit (as `StartQuery`'s `limit`); default 10,000.
    pub limit: Option<usize>,
    /// Whether `stats` rows come sorted by their keys (`wavegap query` prints them so); a
    /// caller that orders them itself spares the sort ([`Executor::unordered`]).
    pub ordered: bool,
    /// Reader threads; default: every core.
    pub threads: Option<usize>,
    /// Objects not read at all, by [`object_name`]: an earlier cycle read them
    /// ([`QueryPlan::read_before`](crate::plan::QueryPlan::read_before)).
    pub read_before: Arc<BTreeSet<String>>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            strict: false,
            log_format: FlowFormat::default_v2(),
            limit: None,
            ordered: true,
            threads: None,
            read_before: Arc::default(),
        }
    }
}

/// An object's name as [`LocalOptions::read_before`] and `FlowData::objects_read` hold it:
/// the path, or `s3://bucket/key`, as the listing names it.
pub(crate) fn object_name(name: &Path) -> Cow<'_, str> {
    name.to_string_lossy()
}

/// Something wrong with one file or line; the rest was still read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: PathBuf,
    pub line: Option<u64>,
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.what),
            None => write!(f, "{}: {}", self.file.display(), self.what),
        }
    }
}

/// What a local run found: `result` is the query's result, or what a caller that took the
/// rows as they were made kept of it.
#[derive(Debug, Clone)]
pub struct LocalOutput<R = QueryResult> {
    pub result: R,
    /// The first problems in file and line order (at most 1,000; see `problem_count`).
    pub problems: Vec<Problem>,
    pub problem_count: u64,
    /// Lines that were not records of their format.
    pub bad_lines: u64,
    /// The files that lost records, in path order, each with its count and first problem.
    pub damaged: Vec<Damage>,
    /// The files read, in the listing's order: the rest were skipped by name or read before.
    pub read: Vec<PathBuf>,
    /// Files whose name puts them outside the window, unopened.
    pub skipped: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("`{}` does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no flow-log files under `{}`\nhint: expected S3 objects (`*.log.gz`, `*.log`) or CloudWatch exports (`*.jsonl`)",
        path.display()
    )]
    NoFiles { path: PathBuf },
    #[error("{count} problem(s) in the flow-log files, first: {first}\nhint: drop --strict to read around them")]
    Strict { count: u64, first: Problem },
}

/// The times (Unix seconds) an S3 object's name may carry when it holds records of `window`:
/// from [`AFTER_NAME`] before its start to [`BEFORE_NAME`] after its end.
pub(crate) fn object_times(window: TimeWindow) -> (i64, i64) {
    (window.start - AFTER_NAME, window.end + BEFORE_NAME)
}

/// Where flow-log objects are opened: the file system, or a bucket (`crate::s3`).
pub(crate) trait Store: Sync {
    /// Opens the object `name` (as the listing named it), or says in words why it cannot.
    fn open(&self, name: &Path) -> Result<Box<dyn Read + '_>, String>;

    /// Opens the object `name` for reads at any offset (a Parquet file is read from its
    /// footer): by default its bytes, read whole.
    fn open_random(&self, name: &Path) -> Result<RandomAccess, String> {
        let mut bytes = Vec::new();
        self.open(name)?
            .take(MAX_RANDOM_ACCESS + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read: {e}; skipped"))?;
        if bytes.len() as u64 > MAX_RANDOM_ACCESS {
            return Err(format!(
                "larger than {} MiB, more than a flow-log object holds; skipped",
                MAX_RANDOM_ACCESS >> 20
            ));
        }
        Ok(RandomAccess::Bytes(bytes.into()))
    }
}

/// An object open for reads at any offset.
pub(crate) enum RandomAccess {
    File(std::fs::File),
    Bytes(bytes::Bytes),
}

/// The file system.
struct Disk;

impl Disk {
    fn open_file(name: &Path) -> Result<std::fs::File, String> {
        // Devices, FIFOs and sockets (or links to them) are never flow logs: /dev/zero never
        // ends, and opening a FIFO waits for a writer.
        if std::fs::metadata(name).is_ok_and(|m| !m.is_file()) {
            return Err("not a regular file (a device, FIFO or socket, or a link to one); skipped".to_owned());
        }
        std::fs::File::open(name).map_err(|e| format!("cannot open: {e}"))
    }
}

impl Store for Disk {
    fn open(&self, name: &Path) -> Result<Box<dyn Read + '_>, String> {
        Ok(Box::new(Disk::open_file(name)?))
    }

    fn open_random(&self, name: &Path) -> Result<RandomAccess, String> {
        Disk::open_file(name).map(RandomAccess::File)
    }
}

/// Runs `query` over every flow-log file under `path` (a directory or one file).
pub fn run_query(
    path: &Path,
    query: &Query,
    window: Option<TimeWindow>,
    options: &LocalOptions,
) -> Result<LocalOutput, LocalError> {
    run_query_with(path, query, window, options, Executor::finish)
}

/// [`run_query`], the result made by `finish` from the query's state once every record is in
/// (with [`Executor::finish_each`], row by row, never held whole).
pub fn run_query_with<R>(
    path: &Path,
    query: &Query,
    window: Option<TimeWindow>,
    options: &LocalOptions,
    finish: impl FnOnce(Executor) -> R,
) -> Result<LocalOutput<R>, LocalError> {
    if !path.exists() {
        return Err(LocalError::NotFound { path: path.to_path_buf() });
    }
    let files = find_files(path).map_err(|source| LocalError::Io { path: path.to_path_buf(), source })?;
    if files.is_empty() {
        return Err(LocalError::NoFiles { path: path.to_path_buf() });
    }
    run_objects(&Disk, files, query, window, options, finish)
}

/// One reader's share of `files`: it takes the next unread one (`next`) until none is left,
/// and returns its partial state.
fn read_files(
    files: &[(PathBuf, FileKind)],
    next: &AtomicUsize,
    store: &dyn Store,
    query: &Query,
    window: Option<TimeWindow>,
    options: &LocalOptions,
) -> (Executor, Report) {
    let mut exec = new_executor(query, options);
    let mut report = Report::default();
    let mut buf = Vec::with_capacity(CHUNK + (256 << 10));
    while let Some((file, kind)) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
        let mut ctx =
            FileCtx { path: file, store, exec: &mut exec, report: &mut report, buf: &mut buf, window, options };
        match kind {
            FileKind::S3(name) => ctx.read_s3(name.as_ref()),
            FileKind::Parquet(name) => ctx.read_parquet(name.as_ref()),
            FileKind::CloudWatchExport => ctx.read_export(),
        }
    }
    (exec, report)
}

/// Runs `query` over `objects` opened from `store`, on `options.threads` reader threads;
/// those read before are left out, and those whose names put them outside `window` skipped.
/// `finish` makes the result from the merged state.
pub(crate) fn run_objects<R>(
    store: &dyn Store,
    mut objects: Vec<(PathBuf, FileKind)>,
    query: &Query,
    window: Option<TimeWindow>,
    options: &LocalOptions,
    finish: impl FnOnce(Executor) -> R,
) -> Result<LocalOutput<R>, LocalError> {
    objects.retain(|(name, _)| !options.read_before.contains(object_name(name).as_ref()));
    let times = window.map(object_times);
    let (files, skipped): (Vec<_>, Vec<_>) = objects.into_iter().partition(|(_, kind)| match (kind, times) {
        (kind, Some((from, to))) => kind.s3_name().is_none_or(|name| (from..=to).contains(&name.time)),
        (_, None) => true,
    });
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    // Each reader returns its partial state; a reader's panic is carried on with its payload.
    let partials: Vec<(Executor, Report)> = std::thread::scope(|scope| {
        let readers: Vec<_> =
            (0..threads).map(|_| scope.spawn(|| read_files(&files, &next, store, query, window, options))).collect();
        readers.into_iter().map(wavegap_core::threads::joined).collect()
    });
    let mut partials = partials.into_iter();
    let (mut exec, mut report) = partials.next().unwrap_or_else(|| (new_executor(query, options), Report::default()));
    for (e, r) in partials {
        exec.merge(e);
        report.merge(r);
    }
    let mut damaged: Vec<Damage> = report.damaged.into_values().collect();
    damaged.sort_by(|a, b| a.file.cmp(&b.file));
    report.problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    report.problems.truncate(MAX_PROBLEMS);
    if options.strict && report.count > 0 {
        let first = report.problems.first().cloned().expect("counted problems are kept");
        return Err(LocalError::Strict { count: report.count, first });
    }
    Ok(LocalOutput {
        result: finish(exec),
        problems: report.problems,
        problem_count: report.count,
        bad_lines: report.bad_lines,
        damaged,
        read: files.into_iter().map(|(file, _)| file).collect(),
        skipped: skipped.into_iter().map(|(file, _)| file).collect(),
    })
}

fn new_executor(query: &Query, options: &LocalOptions) -> Executor {
    let exec = if options.ordered { query.executor() } else { query.executor().unordered() };
    match options.limit {
        Some(limit) => exec.with_limit(limit),
        None => exec,
    }
}

#[derive(Debug, Default)]
struct Report {
    problems: Vec<Problem>,
    count: u64,
    bad_lines: u64,
    damaged: HashMap<PathBuf, Damage>,
}

impl Report {
    /// A problem that lost records: counted against its file, which the report then names.
    fn add(&mut self, file: &Path, line: Option<u64>, what: impl Into<String>) {
        let what = what.into();
        match self.damaged.get_mut(file) {
            // One thread reads a file front to back: the first problem added is its first.
            Some(d) => d.problems += 1,
            None => {
                self.damaged.insert(
                    file.to_path_buf(),
                    Damage { file: file.to_path_buf(), problems: 1, line, what: what.clone() },
                );
            }
        }
        self.notice(file, line, what);
    }

    /// A problem that lost nothing (a field kept as text, a format assumed).
    fn notice(&mut self, file: &Path, line: Option<u64>, what: impl Into<String>) {
        self.count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem { file: file.to_path_buf(), line, what: what.into() });
        }
    }

    fn merge(&mut self, other: Report) {
        self.count += other.count;
        self.bad_lines += other.bad_lines;
        self.problems.extend(other.problems);
        // Each file is read by one thread: no file is in two reports.
        self.damaged.extend(other.damaged);
    }
}

/// A file whose records could not all be read: how many problems, and the first one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub file: PathBuf,
    pub problems: u64,
    pub line: Option<u64>,
    pub what: String,
}

struct FileCtx<'a> {
    path: &'a Path,
    store: &'a dyn Store,
    exec: &'a mut Executor,
    report: &'a mut Report,
    buf: &'a mut Vec<u8>,
    window: Option<TimeWindow>,
    options: &'a LocalOptions,
}

/// Per-file state of an S3 object while its chunks go by.
struct S3State {
    format: Option<FlowFormat>,
    log: String,
    time_ms: i64,
}

impl S3State {
    /// `@log` is `account-id:flow-log-id` from the object's name (else the file's name), and
    /// the name's time stands in for records without a `start`.
    fn new(path: &Path, name: Option<&S3Name>) -> Self {
        S3State {
            format: None,
            log: match name {
                Some(n) => format!("{}:{}", n.account, n.flow_log_id),
                None => path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            },
            time_ms: name.map_or(0, |n| n.time * 1000),
        }
    }
}

impl<'a> FileCtx<'a> {
    /// Opens the object, gunzipping when it starts with the gzip magic; a `.gz` name without
    /// it is a problem.
    fn open(&mut self) -> Option<Box<dyn Read + 'a>> {
        let file = match self.store.open(self.path) {
            Ok(f) => f,
            Err(what) => {
                self.report.add(self.path, None, what);
                return None;
            }
        };
        let mut reader = BufReader::with_capacity(256 << 10, file);
        let gzip = match reader.fill_buf() {
            Ok(head) => head.starts_with(&[0x1f, 0x8b]),
            Err(e) => {
                self.report.add(self.path, None, format!("cannot read: {e}"));
                return None;
            }
        };
        let named_gz = self.path.extension().is_some_and(|e| e == "gz");
        if named_gz && !gzip {
            self.report.add(self.path, None, "not a gzip file (no gzip header); skipped");
            return None;
        }
        Some(if gzip { Box::new(MultiGzDecoder::new(reader)) } else { Box::new(reader) })
    }

    /// Streams the file in chunks of whole lines to `each(chunk, first_line_number)`.
    ///
    /// The buffer is zeroed once, when it grows, not before every read: the bytes after a
    /// chunk's last line move to the front and the next read fills in after them.
    fn for_each_chunk(&mut self, mut reader: Box<dyn Read + '_>, mut each: impl FnMut(&mut Self, &[u8], u64)) {
        let mut buf = std::mem::take(self.buf);
        let mut filled = 0;
        let mut line_no = 1u64;
        let mut eof = false;
        let mut truncated = false;
        // Inside a line longer than MAX_LINE: its bytes are dropped until its newline.
        let mut skipping = false;
        // Read until this many bytes are in the buffer (more when one line is longer).
        let mut want = CHUNK;
        while !eof {
            while filled < want {
                if buf.len() < filled + READ {
                    buf.resize(filled + READ, 0);
                }
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                            "the gzip stream is truncated; lines before the cut were read".to_owned()
                        } else {
                            format!("the data is corrupt ({e}); lines before it were read")
                        };
                        // The line the stream was cut in: the one after the last whole line read.
                        let cut = line_no + memchr::memchr_iter(b'\n', &buf[..filled]).count() as u64;
                        self.report.add(self.path, Some(cut), what);
                        eof = true;
                        truncated = true;
                        break;
                    }
                }
            }
            if skipping {
                let Some(i) = memchr::memchr(b'\n', &buf[..filled]) else {
                    filled = 0;
                    continue;
                };
                buf.copy_within(i + 1..filled, 0);
                filled -= i + 1;
                line_no += 1;
                skipping = false;
            }
            // A cut stream ends mid-line: its last partial line is dropped, not misread.
            let upto =
                if eof && !truncated { filled } else { memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |i| i + 1) };
            if upto > 0 {
                each(self, &buf[..upto], line_no);
                line_no += memchr::memchr_iter(b'\n', &buf[..upto]).count() as u64;
                buf.copy_within(upto..filled, 0);
                filled -= upto;
                want = CHUNK;
            } else if filled > MAX_LINE {
                self.report.add(
                    self.path,
                    Some(line_no),
                    format!("a line longer than {} MiB is not a flow-log record; skipped to its end", MAX_LINE >> 20),
                );
                skipping = true;
                filled = 0;
                want = CHUNK;
            } else {
                // No newline yet: the line goes on past the chunk.
                want = filled + READ;
            }
        }
        *self.buf = buf;
    }

    fn read_s3(&mut self, name: Option<&S3Name>) {
        let Some(reader) = self.open() else { return };
        let mut state = S3State::new(self.path, name);
        let mut stop = false;
        self.for_each_chunk(reader, |ctx, chunk, first_line| {
            if stop {
                return;
            }
            let mut chunk = chunk;
            let mut first_line = first_line;
            if state.format.is_none() {
                let end = memchr::memchr(b'\n', chunk).map_or(chunk.len(), |i| i + 1);
                let header = String::from_utf8_lossy(&chunk[..end]);
                match ctx.header_format(header.trim()) {
                    Some((format, true)) => {
                        state.format = Some(format);
                        chunk = &chunk[end..];
                        first_line += 1;
                        ctx.exec.add_bytes_scanned(end as u64);
                    }
                    Some((format, false)) => state.format = Some(format),
                    None => {
                        stop = true;
                        return;
                    }
                }
            }
            let format = state.format.as_ref().expect("set above");
            ctx.push_s3_lines(chunk, first_line, format, &state);
        });
    }

    /// The format from a header line, and whether the line was a header. A file starting with
    /// a record has no header: the default format is assumed and that is reported.
    fn header_format(&mut self, header: &str) -> Option<(FlowFormat, bool)> {
        if header.split_ascii_whitespace().next().is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit())) {
            self.report.notice(self.path, Some(1), "no header line; assuming the default (version 2) format");
            return Some((FlowFormat::default_v2(), false));
        }
        self.fields_format(header, Some(1), "header line").map(|format| (format, true))
    }

    /// The format whose field names `names` lists (space-separated), as a file's `part`
    /// (`header line`, `schema`) at `line` gives them; an unknown name is kept as text.
    fn fields_format(&mut self, names: &str, line: Option<u64>, part: &str) -> Option<FlowFormat> {
        match FlowFormat::from_header(names) {
            Ok(format) => {
                for field in format.fields() {
                    if let FlowField::Other(name) = field {
                        self.report.notice(
                            self.path,
                            line,
                            format!("unknown field `{name}` in the {part}, kept as text"),
                        );
                    }
                }
                Some(format)
            }
            Err(e) => {
                self.report.add(self.path, line, format!("bad {part}: {e}; file skipped"));
                None
            }
        }
    }

    fn push_s3_lines(&mut self, chunk: &[u8], first_line: u64, format: &FlowFormat, state: &S3State) {
        let window_ms = self.window.map(|w| (w.start * 1000, w.end * 1000 + 999));
        let lines = |text| FlowLines {
            text,
            first_line,
            format,
            log: &state.log,
            default_timestamp: state.time_ms,
            ingestion_time: state.time_ms,
            window_ms,
        };
        let path = self.path;
        let report = &mut *self.report;
        match std::str::from_utf8(chunk) {
            Ok(text) => self.exec.push_flow_lines(&lines(text), |line, _| {
                report.bad_lines += 1;
                report.add(path, Some(line), format!("not a record of the header's {} fields", format.len()));
            }),
            Err(_) => {
                // Rare: go line by line so only the bad lines are lost.
                for (i, raw) in chunk.split(|&b| b == b'\n').enumerate() {
                    let line_no = first_line + i as u64;
                    if let Ok(text) = std::str::from_utf8(raw) {
                        let one = FlowLines { first_line: line_no, ..lines(text) };
                        self.exec.push_flow_lines(&one, |line, _| {
                            report.bad_lines += 1;
                            report.add(
                                path,
                                Some(line),
                                format!("not a record of the header's {} fields", format.len()),
                            );
                        });
                    } else {
                        report.bad_lines += 1;
                        report.add(path, Some(line_no), "not UTF-8 text");
                    }
                }
            }
        }
    }

    fn read_export(&mut self) {
        let Some(reader) = self.open() else { return };
        let mut logs: HashMap<String, String> = HashMap::new();
        let format = self.options.log_format.clone();
        self.for_each_chunk(reader, |ctx, chunk, first_line| {
            ctx.push_export_chunk(chunk, first_line, &format, &mut logs);
        });
    }

    fn push_export_chunk(
        &mut self,
        chunk: &[u8],
        first_line: u64,
        format: &FlowFormat,
        logs: &mut HashMap<String, String>,
    ) {
        let account_col = format.position(KnownField::AccountId);
        let mut parsed: Vec<(u64, ExportEvent<'_>)> = Vec::new();
        for (i, raw) in chunk.split(|&b| b == b'\n').enumerate() {
            let line_no = first_line + i as u64;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<ExportEvent<'_>>(raw) {
                Ok(ev) => {
                    if !logs.contains_key(ev.log_group.as_ref()) {
                        let account =
                            account_col.and_then(|c| ev.message.split_ascii_whitespace().nth(c)).unwrap_or("");
                        logs.insert(ev.log_group.to_string(), format!("{account}:{}", ev.log_group));
                    }
                    parsed.push((line_no, ev));
                }
                Err(e) => {
                    self.report.bad_lines += 1;
                    self.report.add(self.path, Some(line_no), format!("not a CloudWatch Logs event ({e})"));
                }
            }
        }
        let window_ms = self.window.map(|w| (w.start * 1000, w.end * 1000 + 999));
        let current = Cell::new(0u64);
        let events = parsed
            .iter()
            .filter(|(_, ev)| window_ms.is_none_or(|(a, b)| (a..=b).contains(&ev.timestamp)))
            .map(|(line, ev)| {
                current.set(*line);
                Event {
                    message: &ev.message,
                    timestamp: ev.timestamp,
                    ingestion_time: ev.ingestion_time.unwrap_or(ev.timestamp),
                    log_stream: Some(&ev.log_stream),
                    log: logs.get(ev.log_group.as_ref()).map_or("", String::as_str),
                    format,
                }
            });
        let path = self.path;
        let report = &mut *self.report;
        self.exec.push_checked(events, |_| {
            report.bad_lines += 1;
            report.add(
                path,
                Some(current.get()),
                format!("message is not a record of the {} fields of the log format", format.len()),
            );
        });
    }
}

/// One exported CloudWatch Logs event.
#[derive(Debug, serde::Deserialize)]
struct ExportEvent<'a> {
    #[serde(rename = "logGroup", borrow)]
    log_group: Cow<'a, str>,
    #[serde(rename = "logStream", borrow)]
    log_stream: Cow<'a, str>,
    timestamp: i64,
    #[serde(rename = "ingestionTime", default)]
    ingestion_time: Option<i64>,
    #[serde(borrow)]
    message: Cow<'a, str>,
}
