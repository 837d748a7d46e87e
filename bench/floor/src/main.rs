//! The aggregation of wavegap's report query, written by hand for the version 2 lines of the
//! bench set: the filter, group keys and aggregates of `scripts/duckdb_report_query.py`, with
//! nothing general about them (fixed columns, no query language, no check for damaged lines,
//! no UTF-8 validation). The benchmark runs it as the lower bound of what a reader of the same
//! gzip text reaches on the machine, and compares its answer with wavegap's row by row.
//!
//! usage: wavegap-bench-floor DATA --servers FILE --networks CIDR,... > rows.csv
//! (CSV without a header, in wavegap's column order, rows unsorted)

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::bufread::MultiGzDecoder;
use rustc_hash::{FxHashMap, FxHashSet};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Bytes inflated per step, as wavegap's files source reads them.
const CHUNK: usize = 256 << 10;

/// The version 2 columns the query reads.
const INTERFACE: usize = 2;
const SRC: usize = 3;
const COLUMNS: usize = 14;

struct Wave {
    /// The servers' addresses as [`short`] texts.
    servers: FxHashSet<u128>,
    /// (network address, mask) of the internal and on-premises networks.
    networks: Vec<(u32, u32)>,
}

impl Wave {
    fn private(&self, a: u32) -> bool {
        self.networks.iter().any(|&(net, mask)| a & mask == net)
    }
}

/// Texts held once per reader, named by number in the keys.
#[derive(Default)]
struct Words {
    ids: FxHashMap<Box<[u8]>, u32>,
    texts: Vec<Box<[u8]>>,
}

impl Words {
    /// The word of `text` in a column whose last word is `last` (a column repeats its text
    /// from record to record more often than not: an interface, an action, a status).
    fn id_after(&mut self, text: &[u8], last: &mut u32) -> u32 {
        if self.texts.get(*last as usize).is_some_and(|t| **t == *text) {
            return *last;
        }
        *last = self.id(text);
        *last
    }

    fn id(&mut self, text: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.texts.len()).expect("fewer than 2^32 texts");
        self.texts.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }
}

/// An address column: a dotted quad as its number, other text (`-`) as `TEXT` plus its word.
const TEXT: u64 = 1 << 32;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: u64,
    dst: u64,
    /// `least(srcPort, dstPort)`, `u32::MAX` when neither is a number.
    low: u32,
    protocol: u32,
    action: u32,
    interface: u32,
    log: u32,
    status: u32,
}

#[derive(Clone, Copy, Default)]
struct Agg {
    records: u64,
    packets: Option<u64>,
    bytes: Option<u64>,
    first: Option<u64>,
    last: Option<u64>,
    /// min and max of srcport, then of dstport.
    ports: [Option<u64>; 4],
}

/// `f` of the two values, or whichever of them is there.
fn pick(a: Option<u64>, b: Option<u64>, f: fn(u64, u64) -> u64) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, y) => x.or(y),
    }
}

impl Agg {
    fn add(&mut self, o: &Agg) {
        self.records += o.records;
        self.packets = pick(self.packets, o.packets, u64::wrapping_add);
        self.bytes = pick(self.bytes, o.bytes, u64::wrapping_add);
        self.first = pick(self.first, o.first, u64::min);
        self.last = pick(self.last, o.last, u64::max);
        for (i, (a, b)) in self.ports.iter_mut().zip(o.ports).enumerate() {
            *a = pick(*a, b, if i % 2 == 0 { u64::min } else { u64::max });
        }
    }
}

/// A dotted quad without leading zeros, as wavegap reads one.
fn quad(b: &[u8]) -> Option<u32> {
    let (mut v, mut octet, mut digits, mut dots) = (0u32, 0u32, 0, 0);
    for &c in b {
        if c == b'.' {
            if digits == 0 || dots == 3 {
                return None;
            }
            (v, octet, digits, dots) = (v << 8 | octet, 0, 0, dots + 1);
        } else if c.is_ascii_digit() && digits < 3 && (digits == 0 || octet != 0) {
            (octet, digits) = (octet * 10 + u32::from(c - b'0'), digits + 1);
        } else {
            return None;
        }
    }
    (dots == 3 && digits > 0 && octet < 256).then_some(v << 8 | octet)
}

/// A text of 8 to 15 bytes (every dotted quad of a private network) as one number: its first
/// eight bytes, the bytes after them, and its length in the top byte.
fn short(b: &[u8]) -> Option<u128> {
    let n = b.len();
    (8..16).contains(&n).then(|| {
        let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes"));
        let rest = word(n - 8).checked_shr(8 * (16 - n) as u32).unwrap_or(0);
        u128::from(word(0)) | u128::from(rest) << 64 | (n as u128) << 120
    })
}

fn num(b: &[u8]) -> Option<u64> {
    (!b.is_empty() && b.len() < 20 && b.iter().all(u8::is_ascii_digit))
        .then(|| b.iter().fold(0u64, |n, &c| n * 10 + u64::from(c - b'0')))
}

/// The high bit of every zero byte of `w`.
fn zero_bytes(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((w & LOW7).wrapping_add(LOW7)) | w | LOW7)
}

/// The address columns `SRC` and `SRC + 1`, their spaces found eight bytes at a time (`None`
/// when they are not within the line's whole words).
fn addresses(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut spaces = [0usize; 3];
    let mut seen = 0;
    for (i, word) in line.chunks_exact(8).enumerate() {
        let mut m = zero_bytes(u64::from_le_bytes(word.try_into().expect("eight bytes")) ^ 0x2020_2020_2020_2020);
        while m != 0 {
            if seen >= SRC - 1 {
                spaces[seen + 1 - SRC] = i * 8 + m.trailing_zeros() as usize / 8;
                if seen == SRC + 1 {
                    return Some((&line[spaces[0] + 1..spaces[1]], &line[spaces[1] + 1..spaces[2]]));
                }
            }
            seen += 1;
            m &= m - 1;
        }
    }
    None
}

struct Reader<'w> {
    wave: &'w Wave,
    words: Words,
    /// The last word of the protocol, action, interface and status columns.
    last: [u32; 4],
    groups: FxHashMap<Key, Agg>,
}

impl Reader<'_> {
    fn address(&mut self, text: &[u8], parsed: Option<u32>) -> u64 {
        parsed.map_or_else(|| TEXT | u64::from(self.words.id(text)), u64::from)
    }

    fn line(&mut self, line: &[u8], log: u32) {
        let status = &line[memchr::memrchr(b' ', line).map_or(0, |i| i + 1)..];
        let skipdata = status == b"SKIPDATA";
        let (src, dst) = if skipdata {
            (None, None)
        } else {
            let words = addresses(line).or_else(|| {
                let mut cols = line.split(|&c| c == b' ').skip(SRC);
                Some((cols.next()?, cols.next()?))
            });
            let Some((s, d)) = words else { return };
            let listed = |a: &[u8]| short(a).is_some_and(|a| self.wave.servers.contains(&a));
            if !listed(s) && !listed(d) {
                return;
            }
            (quad(s), quad(d))
        };
        let mut cols: [&[u8]; COLUMNS] = [&[]; COLUMNS];
        let mut n = 0;
        for col in line.split(|&c| c == b' ') {
            if n == COLUMNS {
                return;
            }
            cols[n] = col;
            n += 1;
        }
        if n != COLUMNS {
            return;
        }
        let action = cols[12];
        let private = |a: Option<u32>| a.is_some_and(|a| self.wave.private(a));
        if !(skipdata || action == b"REJECT" || private(src) && private(dst)) {
            return;
        }
        let (sp, dp) = (num(cols[5]), num(cols[6]));
        let key = Key {
            src: self.address(cols[SRC], src),
            dst: self.address(cols[SRC + 1], dst),
            low: pick(sp, dp, u64::min).map_or(u32::MAX, |p| u32::try_from(p).unwrap_or(u32::MAX - 1)),
            protocol: self.words.id_after(cols[7], &mut self.last[0]),
            action: self.words.id_after(action, &mut self.last[1]),
            interface: self.words.id_after(cols[INTERFACE], &mut self.last[2]),
            log,
            status: self.words.id_after(status, &mut self.last[3]),
        };
        let one = Agg {
            records: 1,
            packets: num(cols[8]),
            bytes: num(cols[9]),
            first: num(cols[10]),
            last: num(cols[11]),
            ports: [sp, sp, dp, dp],
        };
        self.groups.entry(key).or_default().add(&one);
    }

    fn file(&mut self, path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
        // `account-id:flow-log-id` from the S3 object's name, as wavegap's `@log`.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let parts: Vec<&str> = name.split('_').collect();
        let log = self.words.id(format!("{}:{}", parts[0], parts.get(3).unwrap_or(&"")).as_bytes());
        let mut gz = MultiGzDecoder::new(BufReader::with_capacity(128 << 10, std::fs::File::open(path)?));
        let (mut kept, mut header) = (0, true);
        loop {
            if buf.len() < kept + CHUNK {
                buf.resize(kept + CHUNK, 0);
            }
            let n = gz.read(&mut buf[kept..kept + CHUNK])?;
            let end = kept + n;
            let whole = if n == 0 { end } else { memchr::memrchr(b'\n', &buf[..end]).map_or(0, |i| i + 1) };
            let mut text = &buf[..whole];
            if header && whole > 0 {
                text = &text[memchr::memchr(b'\n', text).map_or(text.len(), |i| i + 1)..];
                header = false;
            }
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', text).chain((n == 0).then_some(text.len())) {
                if end > start {
                    self.line(&text[start..end], log);
                }
                start = end + 1;
            }
            if n == 0 {
                return Ok(());
            }
            buf.copy_within(whole..end, 0);
            kept = end - whole;
        }
    }
}

fn objects(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            objects(&path, out)?;
        } else if path.to_string_lossy().ends_with(".log.gz") {
            out.push(path);
        }
    }
    Ok(())
}

fn cidr(text: &str) -> (u32, u32) {
    let (addr, bits) = text.split_once('/').unwrap_or((text, "32"));
    let bits: u32 = bits.parse().expect("a prefix length");
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    (quad(addr.as_bytes()).expect("an IPv4 network") & mask, mask)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).map(|i| args[i + 1].clone()).expect(name);
    let (data, servers, networks) = (&args[1], flag("--servers"), flag("--networks"));
    let wave = Wave {
        servers: std::fs::read_to_string(servers)?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| short(l.trim().as_bytes()).expect("an IPv4 server"))
            .collect(),
        networks: networks.split(',').filter(|n| !n.is_empty()).map(cidr).collect(),
    };
    let mut files = Vec::new();
    objects(&Path::new(data).join("AWSLogs"), &mut files)?;
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let readers: Vec<Reader> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut reader = Reader {
                        wave: &wave,
                        words: Words::default(),
                        last: [u32::MAX; 4],
                        groups: FxHashMap::default(),
                    };
                    let mut buf = Vec::new();
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        reader.file(path, &mut buf).expect("a readable object");
                    }
                    reader
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a reader")).collect()
    });
    // The other readers' groups in the first one's words.
    let mut readers = readers.into_iter();
    let mut all = readers.next().expect("one reader");
    for r in readers {
        let ids: Vec<u32> = r.words.texts.iter().map(|t| all.words.id(t)).collect();
        let word = |id: u32| ids[id as usize];
        let address = |a: u64| if a & TEXT == 0 { a } else { TEXT | u64::from(word(a as u32)) };
        for (k, agg) in &r.groups {
            let key = Key {
                src: address(k.src),
                dst: address(k.dst),
                protocol: word(k.protocol),
                action: word(k.action),
                interface: word(k.interface),
                log: word(k.log),
                status: word(k.status),
                ..*k
            };
            all.groups.entry(key).or_default().add(agg);
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let word = |id: u32| String::from_utf8_lossy(&all.words.texts[id as usize]);
    let address = |a: u64| {
        if a & TEXT == 0 { std::net::Ipv4Addr::from(a as u32).to_string() } else { word(a as u32).into_owned() }
    };
    let text = |v: Option<u64>, none: &str| v.map_or_else(|| none.to_owned(), |v| v.to_string());
    for (k, a) in &all.groups {
        let low = if k.low == u32::MAX { String::new() } else { k.low.to_string() };
        let (src, dst) = (address(k.src), address(k.dst));
        let (protocol, action, interface, log, status) =
            (word(k.protocol), word(k.action), word(k.interface), word(k.log), word(k.status));
        let [a0, a1, a2, a3] = a.ports.map(|p| text(p, "-"));
        let (p, b, f, l) = (text(a.packets, ""), text(a.bytes, ""), text(a.first, ""), text(a.last, ""));
        writeln!(
            out,
            "{src},{dst},{low},{protocol},{action},{interface},{log},{status},,,{},{p},{b},{f},{l},{a0},{a1},{a2},{a3}",
            a.records
        )?;
    }
    out.flush()?;
    Ok(())
}
