//! The state of a `stats`: one group per distinct key, every key in one byte arena, the
//! aggregates column by column, numbers as numbers.
//!
//! A key is its values encoded one after another (tagged, so no two different keys encode
//! alike). Text that reads back exactly from a smaller form is held in it — a dotted quad
//! as its four octets, a whole number of up to 15 digits as a number, any other text as the
//! number of a word held once per state — so a flow-log key (two addresses, a port, a
//! protocol, an interface, a log, …) is short to hash and compare, and a group costs a few
//! dozen bytes instead of an allocation per key. The text comes back
//! unchanged when the rows are made: `06` and `6` stay different groups, as their texts
//! differ.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use crate::ast::AggFunc;
use crate::eval::{AggEnv, Env, eval, parse_ipv4, value};
use crate::plan::{CAgg, StatsPlan};
use crate::value::{Val, parse_num_bytes, sort_cmp};

/// A row of the row stage; `stats` rows borrow their key text from the group keys.
pub(crate) type Row<'k> = Vec<Val<'k>>;

/// The tags of encoded values.
mod tag {
    pub const MISSING: u8 = 0;
    pub const TEXT: u8 = 1;
    pub const NUM: u8 = 2;
    pub const TIME: u8 = 3;
    /// Text that is a whole number of at most 15 digits, no leading zero: the number.
    pub const DIGITS: u8 = 4;
    /// Text that is a dotted quad (read without leading zeros, so spelled one way): its octets.
    pub const QUAD: u8 = 5;
    /// A number that is whole, from 0 below 2^53: as an integer.
    pub const WHOLE: u8 = 6;
    /// Text held once in the state's [`Words`](super::Words): its number.
    pub const WORD: u8 = 7;
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        #[allow(clippy::cast_possible_truncation)]
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(v as u8);
}

fn take_varint(b: &mut &[u8]) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let (&byte, rest) = b.split_first().expect("an encoded key");
        *b = rest;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// The number a text of digits spells, when it reads back as the same text.
#[inline]
fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 15 || (b[0] == b'0' && b.len() > 1) || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |acc, &c| acc * 10 + u64::from(c - b'0')))
}

/// Appends the encoding of `v` to `out`, text that is neither a number nor a dotted quad
/// spelled out in full.
pub(crate) fn encode_key(v: &Val<'_>, out: &mut Vec<u8>) {
    encode(v, out, put_text);
}

/// A text in full: its length and bytes.
fn put_text(s: &[u8], out: &mut Vec<u8>) {
    out.push(tag::TEXT);
    put_varint(s.len() as u64, out);
    out.extend_from_slice(s);
}

/// Appends the encoding of `v` to `out`, handing other text than a number or a dotted quad to
/// `text`.
#[inline]
fn encode(v: &Val<'_>, out: &mut Vec<u8>, text: impl FnOnce(&[u8], &mut Vec<u8>)) {
    match v {
        Val::Missing => out.push(tag::MISSING),
        Val::Str(s) => {
            if let Some(n) = digits(s.as_bytes()) {
                out.push(tag::DIGITS);
                put_varint(n, out);
            } else if let Some(ip) = parse_ipv4(s) {
                out.push(tag::QUAD);
                out.extend_from_slice(&ip.octets());
            } else {
                text(s.as_bytes(), out);
            }
        }
        Val::Num(n) => {
            // One group for 0 and -0.
            let n = if *n == 0.0 { 0.0 } else { *n };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            if n >= 0.0 && n < (1u64 << 53) as f64 && n.fract() == 0.0 {
                out.push(tag::WHOLE);
                put_varint(n as u64, out);
            } else {
                out.push(tag::NUM);
                out.extend_from_slice(&n.to_bits().to_le_bytes());
            }
        }
        Val::Time(t) => {
            out.push(tag::TIME);
            out.extend_from_slice(&t.to_le_bytes());
        }
    }
}

/// The texts of a `stats`'s keys, each held once and named in the keys by its number: an
/// interface, a log or an action is one of few texts repeated in many groups. Up to
/// [`Words::MAX`] of them; a text first met after that is held in full in each key (and so
/// always, as it is never a word later: a text has one encoding in one state).
#[derive(Debug, Default)]
pub(crate) struct Words {
    /// Word numbers, found by their texts' hashes.
    table: HashTable<u32>,
    texts: Arena,
}

impl Words {
    const MAX: usize = 1 << 16;

    /// Appends `s` to `out` as its word, made when new and there is room, else in full.
    #[inline]
    fn put(&mut self, s: &[u8], out: &mut Vec<u8>) {
        let Words { table, texts } = self;
        let hash = FxBuildHasher.hash_one(s);
        let word = match table.find(hash, |&w| texts.get(w as usize) == s) {
            Some(&w) => w,
            None if texts.len() < Self::MAX => {
                let w = u32::try_from(texts.len()).expect("fewer words than MAX");
                texts.push(s);
                table.insert_unique(hash, w, |&w| FxBuildHasher.hash_one(texts.get(w as usize)));
                w
            }
            None => return put_text(s, out),
        };
        out.push(tag::WORD);
        put_varint(u64::from(word), out);
    }

    /// Appends `v` to `out`, its text as a word where it can be one.
    #[inline]
    fn encode(&mut self, v: &Val<'_>, out: &mut Vec<u8>) {
        encode(v, out, |s, out| self.put(s, out));
    }

    /// Appends `key`, encoded with the words of `from`, to `out` in the words of this state.
    fn reencode<'k>(&mut self, mut key: &'k [u8], from: &'k Words, out: &mut Vec<u8>) {
        loop {
            let rest = key;
            let Some(field) = KeyField::next(&mut key, from) else { break };
            match field {
                KeyField::Text(t) => self.put(t, out),
                _ => out.extend_from_slice(&rest[..rest.len() - key.len()]),
            }
        }
    }
}

/// One value of an encoded key, text in whichever form it is held.
enum KeyField<'k> {
    Text(&'k [u8]),
    Digits(u64),
    Quad([u8; 4]),
    Other(Val<'static>),
}

impl<'k> KeyField<'k> {
    /// The first value of `b` (whose words are `words`), and `b` moved past it.
    fn next(b: &mut &'k [u8], words: &'k Words) -> Option<Self> {
        let (&t, rest) = b.split_first()?;
        *b = rest;
        let mut take = |n: usize| {
            let (x, rest) = b.split_at(n);
            *b = rest;
            x
        };
        Some(match t {
            tag::MISSING => KeyField::Other(Val::Missing),
            tag::TEXT => {
                let len = usize::try_from(take_varint(b)).expect("a length in memory");
                let (s, rest) = b.split_at(len);
                *b = rest;
                KeyField::Text(s)
            }
            tag::WORD => KeyField::Text(words.texts.get(usize::try_from(take_varint(b)).expect("a word number"))),
            tag::DIGITS => KeyField::Digits(take_varint(b)),
            tag::QUAD => KeyField::Quad(<[u8; 4]>::try_from(take(4)).expect("four bytes")),
            #[allow(clippy::cast_precision_loss)]
            tag::WHOLE => KeyField::Other(Val::Num(take_varint(b) as f64)),
            tag::NUM => KeyField::Other(Val::Num(f64::from_bits(u64::from_le_bytes(
                <[u8; 8]>::try_from(take(8)).expect("eight bytes"),
            )))),
            _ => KeyField::Other(Val::Time(i64::from_le_bytes(<[u8; 8]>::try_from(take(8)).expect("eight bytes")))),
        })
    }

    /// Appends the value's text to `out` (as [`KeyField::into_val`]'s value spells it);
    /// `false` when missing.
    fn write_text(&self, out: &mut String) -> bool {
        match self {
            KeyField::Text(s) => out.push_str(&String::from_utf8_lossy(s)),
            KeyField::Digits(n) => out.push_str(itoa::Buffer::new().format(*n)),
            KeyField::Quad(o) => spell_quad(*o, |part| out.push_str(part)),
            KeyField::Other(v) => return v.write_text(out),
        }
        true
    }

    fn into_val(self) -> Val<'k> {
        match self {
            KeyField::Text(s) => Val::Str(String::from_utf8_lossy(s)),
            KeyField::Digits(n) => Val::Str(Cow::Owned(n.to_string())),
            KeyField::Quad(o) => {
                let mut text = String::with_capacity(15);
                spell_quad(o, |part| text.push_str(part));
                Val::Str(Cow::Owned(text))
            }
            KeyField::Other(v) => v,
        }
    }

    /// Appends a form of the value whose bytes order as `sort_cmp` orders values, and that
    /// ends where it ends (so the forms of a key's values, end to end, order as its rows):
    /// a number (or text that reads as one) as `1` and the eight bytes of `total_cmp`'s
    /// order, other text as `2`, its bytes (a zero byte as `0 255`) and `0 0`, missing as `3`.
    fn write_sortable(&self, out: &mut Vec<u8>) {
        #[allow(clippy::cast_precision_loss)]
        let num = match self {
            KeyField::Digits(n) => Some(*n as f64),
            KeyField::Text(t) => parse_num_bytes(t),
            KeyField::Quad(_) => None,
            KeyField::Other(Val::Missing) => return out.push(3),
            KeyField::Other(v) => v.as_num(),
        };
        if let Some(n) = num {
            let bits = n.to_bits();
            let ordered = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
            out.push(1);
            out.extend_from_slice(&ordered.to_be_bytes());
            return;
        }
        out.push(2);
        match self {
            KeyField::Text(t) => {
                for &b in *t {
                    out.push(b);
                    if b == 0 {
                        out.push(255);
                    }
                }
            }
            // A dotted quad's text (the rest read as numbers above), with no zero byte.
            KeyField::Quad(o) => spell_quad(*o, |part| out.extend_from_slice(part.as_bytes())),
            KeyField::Digits(_) | KeyField::Other(_) => unreachable!("read as a number or missing"),
        }
        out.extend_from_slice(&[0, 0]);
    }
}

/// A dotted quad's text (`10.0.1.5`), handed to `put` piece by piece.
fn spell_quad(octets: [u8; 4], mut put: impl FnMut(&str)) {
    let mut digits = itoa::Buffer::new();
    for (i, octet) in octets.iter().enumerate() {
        if i > 0 {
            put(".");
        }
        put(digits.format(*octet));
    }
}

/// The sortable forms of a key's values, end to end (see [`KeyField::write_sortable`]).
fn sortable_key<'k>(mut key: &'k [u8], words: &'k Words, out: &mut Vec<u8>) {
    while let Some(f) = KeyField::next(&mut key, words) {
        f.write_sortable(out);
    }
}

/// The key's values (text borrowed from the key or its words), in a row with room for
/// `capacity` values.
pub(crate) fn decode_key<'k>(mut b: &'k [u8], words: &'k Words, capacity: usize) -> Row<'k> {
    let mut out = Vec::with_capacity(capacity);
    while let Some(f) = KeyField::next(&mut b, words) {
        out.push(f.into_val());
    }
    out
}

/// Byte strings end to end in one buffer, each found by its number.
#[derive(Debug, Default)]
struct Arena {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Arena {
    fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    fn push(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
        self.ends.push(self.bytes.len());
    }
}

/// The encoded keys of the groups, in group order, and the words they name.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    keys: Arena,
    words: Words,
}

impl Keys {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key of group `g`.
    #[inline]
    pub fn get(&self, g: usize) -> &[u8] {
        self.keys.get(g)
    }
}

/// Group-by state: one entry per distinct key, aggregate state stored column by column.
#[derive(Debug)]
pub(crate) struct Groups {
    /// Group numbers, found by their keys' hashes.
    table: HashTable<u32>,
    /// Each group's key hash, for growing the table without hashing again.
    hashes: Vec<u64>,
    keys: Keys,
    cols: Vec<AggCol>,
}

impl Groups {
    pub fn new(aggs: &[CAgg]) -> Self {
        Groups {
            table: HashTable::new(),
            hashes: Vec::new(),
            keys: Keys::default(),
            cols: aggs.iter().map(|a| AggCol::new(a.func)).collect(),
        }
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The group of `key` (whose hash is `hash`), made when new.
    #[inline]
    fn group_of(&mut self, key: &[u8], hash: u64) -> usize {
        let Groups { table, hashes, keys, cols } = self;
        match table.entry(hash, |&g| keys.get(g as usize) == key, |&g| hashes[g as usize]) {
            Entry::Occupied(e) => *e.get() as usize,
            Entry::Vacant(e) => {
                let g = keys.len();
                e.insert(u32::try_from(g).expect("fewer than 2^32 groups"));
                keys.keys.push(key);
                hashes.push(hash);
                cols.iter_mut().for_each(AggCol::push);
                g
            }
        }
    }

    pub fn update<'v, E: Env<'v>>(&mut self, plan: &'v StatsPlan, env: &mut E, ts: Option<i64>, key: &mut Vec<u8>) {
        key.clear();
        for k in &plan.keys {
            self.keys.words.encode(&value(k, env), key);
        }
        let g = self.group_of(key, FxBuildHasher.hash_one(key.as_slice()));
        for (col, agg) in self.cols.iter_mut().zip(&plan.aggs) {
            let v = match (&agg.func, &agg.arg) {
                (AggFunc::CountStar, _) | (_, None) => None,
                (_, Some(e)) => Some(value(e, env)),
            };
            col.update(g, v, ts);
        }
    }

    /// Folds another partial state of the same `stats` into this one.
    pub fn merge(&mut self, mut other: Groups) {
        let mut key = Vec::new();
        for h in 0..other.keys.len() {
            // In this state's words: a text may have another number here, or none.
            key.clear();
            self.keys.words.reencode(other.keys.get(h), &other.keys.words, &mut key);
            let g = self.group_of(&key, FxBuildHasher.hash_one(key.as_slice()));
            for (a, b) in self.cols.iter_mut().zip(other.cols.iter_mut()) {
                a.merge(g, b, h);
            }
        }
    }

    /// The group keys (group `g`'s is `keys.get(g)`) and the aggregate columns.
    pub fn into_parts(self) -> (Keys, Vec<AggCol>) {
        (self.keys, self.cols)
    }
}

/// The smallest or largest value of each group: numbers while every value is a number or
/// text (the usual case: ports, times, counts, and the `-` of a record without data), any
/// values once one is neither.
///
/// A number beats text for `min` (numbers sort first) and `max` (numbers above text) alike,
/// so text only counts in a group that has no number: such groups are few, and their text
/// is kept aside instead of widening every group to a value.
#[derive(Debug)]
pub(crate) enum Extremes {
    /// Each group's number, NaN where it has none yet (a NaN value turns the column into
    /// `Vals`), and the text of the groups with text and no number.
    Nums(Vec<f64>, FxHashMap<usize, Val<'static>>),
    Vals(Vec<Val<'static>>),
}

impl Extremes {
    fn new() -> Self {
        Extremes::Nums(Vec::new(), FxHashMap::default())
    }

    /// The column as values, from here on.
    fn vals(&mut self) -> &mut Vec<Val<'static>> {
        if let Extremes::Nums(nums, texts) = self {
            let vals = nums
                .iter()
                .enumerate()
                .map(|(g, &n)| if n.is_nan() { texts.remove(&g).unwrap_or(Val::Missing) } else { Val::Num(n) })
                .collect();
            *self = Extremes::Vals(vals);
        }
        match self {
            Extremes::Vals(v) => v,
            Extremes::Nums(..) => unreachable!("just made values"),
        }
    }

    /// Keeps `n` (not NaN) in group `g` when it comes before what is there in `want` order.
    #[inline]
    fn offer_num(&mut self, g: usize, n: f64, want: Ordering) {
        match self {
            Extremes::Nums(m, texts) => {
                if m[g].is_nan() {
                    if !texts.is_empty() {
                        texts.remove(&g);
                    }
                    m[g] = n;
                } else if n.total_cmp(&m[g]) == want {
                    m[g] = n;
                }
            }
            Extremes::Vals(m) => offer_val(m, g, Val::Num(n), want),
        }
    }

    /// Keeps `v` (not missing) in group `g` when it comes before what is there.
    fn offer(&mut self, g: usize, v: Val<'_>, want: Ordering) {
        let v = normalise(v);
        match (&mut *self, v) {
            (_, Val::Num(n)) if !n.is_nan() => self.offer_num(g, n, want),
            (Extremes::Nums(m, texts), Val::Str(t)) => {
                if m[g].is_nan() {
                    let text = Val::Str(t);
                    // Among texts, `max_cmp` is `sort_cmp`: one order for both.
                    if texts.get(&g).is_none_or(|old| sort_cmp(&text, old) == want) {
                        texts.insert(g, text.into_owned());
                    }
                }
            }
            (_, v) => offer_val(self.vals(), g, v, want),
        }
    }

    fn push(&mut self) {
        match self {
            Extremes::Nums(m, _) => m.push(f64::NAN),
            Extremes::Vals(m) => m.push(Val::Missing),
        }
    }

    fn merge(&mut self, g: usize, other: &mut Extremes, h: usize, want: Ordering) {
        let v = other.result(h);
        if !v.is_missing() {
            self.offer(g, v, want);
        }
    }

    fn result(&mut self, g: usize) -> Val<'static> {
        match self {
            Extremes::Nums(m, texts) if m[g].is_nan() => texts.remove(&g).unwrap_or(Val::Missing),
            Extremes::Nums(m, _) => Val::Num(m[g]),
            Extremes::Vals(m) => std::mem::replace(&mut m[g], Val::Missing),
        }
    }
}

/// `min` (`want` Less) or `max` (Greater) of one group's value and `v`, over any values: two
/// numbers compare as `sort_cmp` does; for `max`, numbers above text.
fn offer_val(m: &mut [Val<'static>], g: usize, v: Val<'_>, want: Ordering) {
    let old = &m[g];
    let better = match (&v, old) {
        (Val::Num(new), Val::Num(best)) => new.total_cmp(best) == want,
        (_, old) if old.is_missing() => true,
        (_, old) if want == Ordering::Less => sort_cmp(&v, old) == Ordering::Less,
        (_, old) => max_cmp(&v, old) == Ordering::Greater,
    };
    if better {
        m[g] = v.into_owned();
    }
}

#[derive(Debug)]
pub(crate) enum AggCol {
    Count(Vec<u64>),
    Distinct(Vec<FxHashSet<Box<[u8]>>>),
    Sum(Vec<Option<f64>>),
    Avg(Vec<(f64, u64)>),
    Min(Extremes),
    Max(Extremes),
    Pct(Vec<Vec<f64>>),
    Stddev(Vec<(u64, f64, f64)>),
    Earliest(Vec<(i64, Val<'static>)>),
    Latest(Vec<(i64, Val<'static>)>),
}

impl AggCol {
    fn new(func: AggFunc) -> Self {
        match func {
            AggFunc::Count | AggFunc::CountStar => AggCol::Count(Vec::new()),
            AggFunc::CountDistinct => AggCol::Distinct(Vec::new()),
            AggFunc::Sum => AggCol::Sum(Vec::new()),
            AggFunc::Avg => AggCol::Avg(Vec::new()),
            AggFunc::Min => AggCol::Min(Extremes::new()),
            AggFunc::Max => AggCol::Max(Extremes::new()),
            AggFunc::Pct => AggCol::Pct(Vec::new()),
            AggFunc::Stddev => AggCol::Stddev(Vec::new()),
            AggFunc::Earliest => AggCol::Earliest(Vec::new()),
            AggFunc::Latest => AggCol::Latest(Vec::new()),
        }
    }

    fn push(&mut self) {
        match self {
            AggCol::Count(v) => v.push(0),
            AggCol::Distinct(v) => v.push(FxHashSet::default()),
            AggCol::Sum(v) => v.push(None),
            AggCol::Avg(v) => v.push((0.0, 0)),
            AggCol::Min(m) | AggCol::Max(m) => m.push(),
            AggCol::Pct(v) => v.push(Vec::new()),
            AggCol::Stddev(v) => v.push((0, 0.0, 0.0)),
            AggCol::Earliest(v) => v.push((i64::MAX, Val::Missing)),
            AggCol::Latest(v) => v.push((i64::MIN, Val::Missing)),
        }
    }

    /// Adds one value (`None` for `count(*)`, which counts records).
    #[allow(clippy::many_single_char_names)]
    fn update(&mut self, g: usize, v: Option<Val<'_>>, ts: Option<i64>) {
        // The usual case first: text that reads as a number (`sum(bytes)`, `min(srcPort)`),
        // read once. Anything else takes the general way below, which gives the same answer.
        if let Some(Val::Str(text)) = &v
            && matches!(self, AggCol::Sum(_) | AggCol::Avg(_) | AggCol::Min(_) | AggCol::Max(_))
            && let Some(n) = crate::value::parse_num(text)
        {
            match self {
                AggCol::Sum(s) => s[g] = Some(s[g].unwrap_or(0.0) + n),
                AggCol::Avg(a) => {
                    a[g].0 += n;
                    a[g].1 += 1;
                }
                AggCol::Min(m) => m.offer_num(g, n, Ordering::Less),
                AggCol::Max(m) => m.offer_num(g, n, Ordering::Greater),
                _ => unreachable!("matched above"),
            }
            return;
        }
        let Some(v) = v else {
            if let AggCol::Count(c) = self {
                c[g] += 1;
            }
            return;
        };
        if v.is_missing() {
            return;
        }
        match self {
            AggCol::Count(c) => c[g] += 1,
            AggCol::Distinct(sets) => {
                let mut k = Vec::new();
                encode_key(&v, &mut k);
                sets[g].insert(k.into_boxed_slice());
            }
            AggCol::Sum(s) => {
                if let Some(n) = v.as_num() {
                    s[g] = Some(s[g].unwrap_or(0.0) + n);
                }
            }
            AggCol::Avg(a) => {
                if let Some(n) = v.as_num() {
                    a[g].0 += n;
                    a[g].1 += 1;
                }
            }
            AggCol::Min(m) => m.offer(g, v, Ordering::Less),
            AggCol::Max(m) => m.offer(g, v, Ordering::Greater),
            AggCol::Pct(p) => {
                if let Some(n) = v.as_num() {
                    p[g].push(n);
                }
            }
            AggCol::Stddev(s) => {
                if let Some(x) = v.as_num() {
                    let (n, mean, m2) = &mut s[g];
                    *n += 1;
                    let delta = x - *mean;
                    #[allow(clippy::cast_precision_loss)]
                    {
                        *mean += delta / *n as f64;
                    }
                    *m2 += delta * (x - *mean);
                }
            }
            AggCol::Earliest(e) => {
                if let Some(ts) = ts
                    && ts < e[g].0
                {
                    e[g] = (ts, v.into_owned());
                }
            }
            AggCol::Latest(l) => {
                if let Some(ts) = ts
                    && ts > l[g].0
                {
                    l[g] = (ts, v.into_owned());
                }
            }
        }
    }

    /// Puts group `order[i]`'s state at `i`, leaving out the groups `order` does not name: one
    /// column at a time, so reading the rows in `order` afterwards walks each column in turn.
    fn gather(&mut self, order: &[usize]) {
        fn pick<T>(v: &mut Vec<T>, order: &[usize], empty: impl Fn() -> T) {
            let mut old = std::mem::take(v);
            *v = order.iter().map(|&g| std::mem::replace(&mut old[g], empty())).collect();
        }
        match self {
            AggCol::Count(v) => pick(v, order, || 0),
            AggCol::Distinct(v) => pick(v, order, FxHashSet::default),
            AggCol::Sum(v) => pick(v, order, || None),
            AggCol::Avg(v) => pick(v, order, || (0.0, 0)),
            AggCol::Min(Extremes::Nums(v, texts)) | AggCol::Max(Extremes::Nums(v, texts)) => {
                pick(v, order, || f64::NAN);
                if !texts.is_empty() {
                    let mut old = std::mem::take(texts);
                    texts.extend(order.iter().enumerate().filter_map(|(i, g)| Some((i, old.remove(g)?))));
                }
            }
            AggCol::Min(Extremes::Vals(v)) | AggCol::Max(Extremes::Vals(v)) => pick(v, order, || Val::Missing),
            AggCol::Pct(v) => pick(v, order, Vec::new),
            AggCol::Stddev(v) => pick(v, order, || (0, 0.0, 0.0)),
            AggCol::Earliest(v) | AggCol::Latest(v) => pick(v, order, || (0, Val::Missing)),
        }
    }

    /// Folds group `h` of `other` into group `g` of `self`.
    #[allow(clippy::cast_precision_loss)]
    #[allow(clippy::many_single_char_names)]
    fn merge(&mut self, g: usize, other: &mut AggCol, h: usize) {
        match (self, other) {
            (AggCol::Count(a), AggCol::Count(b)) => a[g] += b[h],
            (AggCol::Distinct(a), AggCol::Distinct(b)) => a[g].extend(std::mem::take(&mut b[h])),
            (AggCol::Sum(a), AggCol::Sum(b)) => {
                if let Some(y) = b[h] {
                    a[g] = Some(a[g].unwrap_or(0.0) + y);
                }
            }
            (AggCol::Avg(a), AggCol::Avg(b)) => {
                a[g].0 += b[h].0;
                a[g].1 += b[h].1;
            }
            (AggCol::Min(a), AggCol::Min(b)) => a.merge(g, b, h, Ordering::Less),
            (AggCol::Max(a), AggCol::Max(b)) => a.merge(g, b, h, Ordering::Greater),
            (AggCol::Pct(a), AggCol::Pct(b)) => a[g].append(&mut b[h]),
            (AggCol::Stddev(a), AggCol::Stddev(b)) => {
                let (n1, mean1, m21) = a[g];
                let (n2, mean2, m22) = b[h];
                if n2 > 0 {
                    let n = n1 + n2;
                    let delta = mean2 - mean1;
                    let mean = mean1 + delta * n2 as f64 / n as f64;
                    let m2 = m21 + m22 + delta * delta * n1 as f64 * n2 as f64 / n as f64;
                    a[g] = (n, mean, m2);
                }
            }
            (AggCol::Earliest(a), AggCol::Earliest(b)) => {
                if b[h].0 < a[g].0 {
                    a[g] = std::mem::replace(&mut b[h], (i64::MAX, Val::Missing));
                }
            }
            (AggCol::Latest(a), AggCol::Latest(b)) => {
                if b[h].0 > a[g].0 {
                    a[g] = std::mem::replace(&mut b[h], (i64::MIN, Val::Missing));
                }
            }
            _ => unreachable!("both states come from one plan"),
        }
    }

    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn result(&mut self, g: usize, pct: f64) -> Val<'static> {
        match self {
            AggCol::Count(c) => Val::Num(c[g] as f64),
            AggCol::Distinct(d) => Val::Num(d[g].len() as f64),
            AggCol::Sum(s) => s[g].map_or(Val::Missing, Val::Num),
            AggCol::Avg(a) => {
                if a[g].1 == 0 {
                    Val::Missing
                } else {
                    Val::Num(a[g].0 / a[g].1 as f64)
                }
            }
            AggCol::Min(m) | AggCol::Max(m) => m.result(g),
            AggCol::Pct(p) => {
                let v = &mut p[g];
                if v.is_empty() {
                    return Val::Missing;
                }
                v.sort_by(f64::total_cmp);
                // Nearest rank: the smallest value with at least pct % of the values at or below it.
                let rank = ((pct / 100.0) * v.len() as f64).ceil() as usize;
                Val::Num(v[rank.clamp(1, v.len()) - 1])
            }
            AggCol::Stddev(s) => {
                let (n, _, m2) = s[g];
                if n < 2 { Val::Missing } else { Val::Num((m2 / (n - 1) as f64).sqrt()) }
            }
            AggCol::Earliest(e) => std::mem::replace(&mut e[g].1, Val::Missing),
            AggCol::Latest(l) => std::mem::replace(&mut l[g].1, Val::Missing),
        }
    }
}

/// Text that is a number aggregates as that number (`min(startTime)`).
fn normalise(v: Val<'_>) -> Val<'_> {
    match &v {
        Val::Str(s) => crate::value::parse_num(s).map_or(v, Val::Num),
        _ => v,
    }
}

/// For `max`: numbers above text, so text never beats a number.
fn max_cmp(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    match (a.as_num(), b.as_num()) {
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        _ => sort_cmp(a, b),
    }
}

/// The order of the rows [`for_each_group_text`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// By the group keys ascending.
    Keys,
    /// As the groups are held.
    Any,
}

/// One row per group: the keys, then the stats items; ordered by the keys ascending (a sort
/// of the group numbers by their encoded keys, not of decoded rows).
pub(crate) fn group_rows<'k>(keys: &'k Keys, cols: &mut [AggCol], plan: &StatsPlan) -> Vec<Row<'k>> {
    let width = plan.keys.len() + plan.items.len();
    let mut rows = Vec::with_capacity(keys.len());
    for_each_group(keys, cols, plan, usize::MAX, Order::Keys, |key, values| {
        let mut row = decode_key(key, &keys.words, width);
        row.extend(plan.items.iter().map(|item| eval(item, &mut AggEnv { values }).into_owned()));
        rows.push(row);
    });
    rows
}

/// One result row as text: each value's text in one buffer, so a row costs no allocation.
#[derive(Debug, Default)]
pub(crate) struct TextRow {
    text: String,
    /// Each value's start and end in `text`; `None` where the row has no value.
    cells: Vec<Option<(usize, usize)>>,
}

impl TextRow {
    /// The text of value `i`, if the row has one.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.cells.get(i).copied().flatten().map(|(start, end)| &self.text[start..end])
    }

    /// Appends a value whose text `write` appends (returning whether there is one).
    fn push(&mut self, write: impl FnOnce(&mut String) -> bool) {
        let start = self.text.len();
        let present = write(&mut self.text);
        let end = self.text.len();
        self.cells.push(present.then_some((start, end)));
    }
}

/// The first `limit` rows of [`group_rows`] in `order` as text, one at a time, spelled
/// straight from the encoded keys and the aggregates: the way a `stats` result leaves the
/// engine, so a large result is never held twice.
pub(crate) fn for_each_group_text(
    keys: &Keys,
    cols: &mut [AggCol],
    plan: &StatsPlan,
    limit: usize,
    order: Order,
    mut each: impl FnMut(&TextRow),
) {
    if keys.len().min(limit) < PIPELINED_ROWS {
        let mut row = TextRow::default();
        for_each_group(keys, cols, plan, limit, order, |key, values| {
            spell_row(key, values, &keys.words, plan, &mut row);
            each(&row);
        });
        return;
    }
    // Many rows: spelled on a second thread, a batch at a time, while this one hands them on;
    // the batches go back to be filled again, so at most a few are ever held.
    let (full, filled) = std::sync::mpsc::sync_channel::<(Vec<TextRow>, usize)>(2);
    let (empty, emptied) = std::sync::mpsc::channel::<Vec<TextRow>>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut batch: Vec<TextRow> = Vec::new();
            let mut used = 0;
            for_each_group(keys, cols, plan, limit, order, |key, values| {
                if used == batch.len() {
                    batch.push(TextRow::default());
                }
                spell_row(key, values, &keys.words, plan, &mut batch[used]);
                used += 1;
                if used == ROW_BATCH {
                    let next = emptied.try_recv().unwrap_or_default();
                    // A send fails only when the rows' taker has stopped (it panicked).
                    let _ = full.send((std::mem::replace(&mut batch, next), used));
                    used = 0;
                }
            });
            if used > 0 {
                let _ = full.send((batch, used));
            }
        });
        for (batch, used) in filled {
            batch[..used].iter().for_each(&mut each);
            let _ = empty.send(batch);
        }
    });
}

/// Results from which [`for_each_group_text`] spells the rows on a second thread.
const PIPELINED_ROWS: usize = 1 << 15;
/// Rows spelled before they are handed on together.
const ROW_BATCH: usize = 1024;

/// Spells one group's row: its key's values, then the stats items over its aggregates.
fn spell_row<'k>(mut key: &'k [u8], values: &[Val<'static>], words: &'k Words, plan: &StatsPlan, row: &mut TextRow) {
    row.text.clear();
    row.cells.clear();
    while let Some(field) = KeyField::next(&mut key, words) {
        row.push(|out| field.write_text(out));
    }
    for item in &plan.items {
        row.push(|out| eval(item, &mut AggEnv { values }).write_text(out));
    }
}

/// The first `limit` groups in `order`, one at a time: each one's encoded key (empty for a
/// `stats` without `by`) and its finished aggregates.
fn for_each_group<'k>(
    keys: &'k Keys,
    cols: &mut [AggCol],
    plan: &StatsPlan,
    limit: usize,
    order: Order,
    mut each: impl FnMut(&'k [u8], &[Val<'static>]),
) {
    let mut values = Vec::with_capacity(cols.len());
    for (i, g) in arrange(keys, cols, plan, limit, order).into_iter().enumerate() {
        values.clear();
        values.extend(cols.iter_mut().zip(&plan.aggs).map(|(c, a)| c.result(i, a.pct)));
        each(if keys.is_empty() { &[] } else { keys.get(g) }, &values);
    }
}

/// Groups from which [`arrange`] sorts the keys in two halves on two threads.
const PARALLEL_SORT: usize = 1 << 15;

/// Some groups' sortable keys (see [`KeyField::write_sortable`]), and the groups in key order:
/// each with its first sixteen bytes as a number, in front, to compare most pairs by.
struct SortedRun {
    first: usize,
    forms: Arena,
    order: Vec<(u128, usize)>,
}

impl SortedRun {
    fn new(keys: &Keys, groups: std::ops::Range<usize>) -> Self {
        let mut run = SortedRun { first: groups.start, forms: Arena::default(), order: Vec::new() };
        let mut form = Vec::new();
        let mut order: Vec<(u128, usize)> = groups
            .map(|g| {
                form.clear();
                sortable_key(keys.get(g), &keys.words, &mut form);
                run.forms.push(&form);
                let mut head = [0; 16];
                let n = form.len().min(16);
                head[..n].copy_from_slice(&form[..n]);
                (u128::from_be_bytes(head), g)
            })
            .collect();
        order.sort_unstable_by(|a, b| by_form(a, b, |g| run.form(g)));
        run.order = order;
        run
    }

    /// The sortable key of group `g` (one of this run's).
    fn form(&self, g: usize) -> &[u8] {
        self.forms.get(g - self.first)
    }
}

/// The order of two groups by their sortable keys (`form`), then by group number.
#[inline]
fn by_form<'f>(a: &(u128, usize), b: &(u128, usize), form: impl Fn(usize) -> &'f [u8]) -> Ordering {
    a.0.cmp(&b.0).then_with(|| form(a.1).cmp(form(b.1))).then(a.1.cmp(&b.1))
}

/// The groups of the first `limit` rows in `order`, with the aggregate columns arranged to
/// match (row `i`'s aggregates at `i`). `stats count(*)` with no `by` over no records still
/// answers one row of zeros: the group made here.
fn arrange(keys: &Keys, cols: &mut [AggCol], plan: &StatsPlan, limit: usize, order: Order) -> Vec<usize> {
    if keys.is_empty() && plan.keys.is_empty() {
        cols.iter_mut().for_each(AggCol::push);
        return if limit > 0 { vec![0] } else { Vec::new() };
    }
    if order == Order::Any {
        return (0..keys.len().min(limit)).collect();
    }
    // By each group's sortable key: the first sixteen bytes as a number (an address's text
    // fits), the rest compared only where those tie; ties of whole keys (`6` and `06` read as
    // one number) in the table's order, as a stable sort of the decoded rows has them. Many
    // groups are sorted in two halves side by side, then merged: the same total order.
    let n = keys.len();
    let mid = if n >= PARALLEL_SORT { n / 2 } else { n };
    let (left, right) = std::thread::scope(|scope| {
        let right = (mid < n).then(|| scope.spawn(|| SortedRun::new(keys, mid..n)));
        (SortedRun::new(keys, 0..mid), right.map(wavegap_core::threads::joined))
    });
    let order: Vec<usize> = match &right {
        None => left.order.iter().take(limit).map(|&(_, g)| g).collect(),
        Some(right) => {
            let form = |g: usize| if g < mid { left.form(g) } else { right.form(g) };
            let mut order = Vec::with_capacity(n.min(limit));
            let (mut lower, mut upper) = (left.order.iter().peekable(), right.order.iter().peekable());
            while order.len() < limit {
                let next = match (lower.peek(), upper.peek()) {
                    (Some(l), Some(u)) if by_form(l, u, form) == Ordering::Greater => upper.next(),
                    (Some(_), _) => lower.next(),
                    (None, _) => upper.next(),
                };
                let Some(&(_, g)) = next else { break };
                order.push(g);
            }
            order
        }
    };
    drop((left, right));
    for col in cols.iter_mut() {
        col.gather(&order);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result of more groups than [`PARALLEL_SORT`] and [`PIPELINED_ROWS`], so its keys are
    /// sorted in two halves and its rows spelled on a second thread: the rows are every group
    /// once, in the order of a stable sort of the decoded keys, each with its own aggregates;
    /// and with a limit, the first rows of that order. The keys tie in their first sixteen
    /// bytes (long texts with one prefix) and in whole (`6` and `06` read as one number).
    #[test]
    fn many_groups_come_in_key_order_with_their_aggregates() {
        use wavegap_core::flowlog::FlowFormat;
        let n = (PARALLEL_SORT.max(PIPELINED_ROWS) * 3) / 2;
        let key = |i: usize| {
            let j = i / 5;
            let x = match i % 5 {
                0 => j.to_string(),
                1 => format!("0{j}"),
                2 => format!("10.{}.{}.{}", j % 256, j / 256 % 256, j % 7),
                3 => format!("eni-00000000000000000000{j:06}"),
                _ => format!("-{j}.5"),
            };
            // Of one `j`, so `6` and `06` tie in whole keys as well.
            (x, (j % 3).to_string())
        };
        let format = FlowFormat::default_v2();
        let lines: Vec<String> = (0..n)
            .chain((0..n).rev())
            .map(|i| {
                let (x, y) = key(i);
                format!("2 123 {x} 10.0.0.1 10.0.0.2 {y} 443 6 1 {} 1 2 ACCEPT OK", i % 1000)
            })
            .collect();
        let events = || {
            lines.iter().map(|message| crate::Event {
                message,
                timestamp: 0,
                ingestion_time: 0,
                log_stream: None,
                log: "123:flows",
                format: &format,
            })
        };
        let query = crate::Query::parse("stats count(*) as n, sum(bytes) as b by interfaceId, srcPort").unwrap();
        // First seen in `i` order, so a stable sort keeps tied keys in that order.
        let mut want: Vec<usize> = (0..n).collect();
        want.sort_by(|&a, &b| {
            let row = |i| {
                let (x, y) = key(i);
                vec![Val::Str(x.into()), Val::Str(y.into())]
            };
            crate::exec::cmp_all(&row(a), &row(b))
        });
        for limit in [n, n - PARALLEL_SORT / 4] {
            let mut exec = query.executor().with_limit(limit);
            exec.push_all(events());
            let result = exec.finish();
            assert_eq!(result.len(), limit);
            for (r, &i) in want[..limit].iter().enumerate() {
                let (x, y) = key(i);
                let got =
                    [result.get(r, "interfaceId"), result.get(r, "srcPort"), result.get(r, "n"), result.get(r, "b")];
                let sum = (2 * (i % 1000)).to_string();
                assert_eq!(got, [Some(x.as_str()), Some(y.as_str()), Some("2"), Some(sum.as_str())], "row {r}");
            }
        }
    }

    fn roundtrip(v: &Val<'_>) -> Val<'static> {
        let mut key = Vec::new();
        encode_key(v, &mut key);
        let none = Words::default();
        let row = decode_key(&key, &none, 1);
        assert_eq!(row.len(), 1, "{v:?}");
        row.into_iter().next().unwrap().into_owned()
    }

    /// Every value reads back as it was, whichever form holds it, and no two texts share an
    /// encoding (`06` and `6`, `010.0.0.1` and `10.0.0.1` stay apart).
    #[test]
    fn keys_read_back_exactly() {
        let texts = [
            "",
            "0",
            "6",
            "06",
            "443",
            "000",
            "999999999999999",
            "1000000000000000",
            "18446744073709551616",
            "-5",
            "5.0",
            "10.0.0.1",
            "010.0.0.1",
            "10.0.0.256",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0",
            "eni-0a1b",
            "2001:db8::7",
            "ACCEPT",
            "ünïcode",
        ];
        let mut seen = std::collections::HashSet::new();
        for t in texts {
            assert_eq!(roundtrip(&Val::str(t)), Val::str(t), "{t:?}");
            let mut key = Vec::new();
            encode_key(&Val::str(t), &mut key);
            assert!(seen.insert(key), "{t:?} shares an encoding");
        }
        for n in [0.0, 1.0, 443.0, 2.5, -3.0, 9_007_199_254_740_992.0, 1e300, f64::INFINITY] {
            assert_eq!(roundtrip(&Val::Num(n)), Val::Num(n), "{n}");
        }
        assert_eq!(roundtrip(&Val::Num(-0.0)), Val::Num(0.0));
        assert_eq!(roundtrip(&Val::Time(1_714_953_600_000)), Val::Time(1_714_953_600_000));
        assert_eq!(roundtrip(&Val::Missing), Val::Missing);
        // A number and the text of it are different keys.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encode_key(&Val::Num(6.0), &mut a);
        encode_key(&Val::str("6"), &mut b);
        assert_ne!(a, b);
    }

    /// Text held as words reads back as it was, has one encoding in one state (a word, or in
    /// full once the words are full), and comes over into another state's words unchanged.
    #[test]
    fn words_read_back_and_carry_over_between_states() {
        let vals = [Val::str("eni-0a1b"), Val::str("ACCEPT"), Val::str("10.0.0.1"), Val::str("443"), Val::Missing];
        let encode = |words: &mut Words, vals: &[Val<'_>]| {
            let mut key = Vec::new();
            for v in vals {
                words.encode(v, &mut key);
            }
            key
        };
        let (mut a, mut b) = (Words::default(), Words::default());
        // `b` numbers the texts the other way round.
        let reversed: Vec<Val<'_>> = vals.iter().rev().cloned().collect();
        encode(&mut b, &reversed);
        let in_a = encode(&mut a, &vals);
        let in_b = encode(&mut b, &vals);
        assert_ne!(in_a, in_b, "the words are numbered differently");
        assert_eq!(decode_key(&in_a, &a, 5), vals);
        assert_eq!(decode_key(&in_b, &b, 5), vals);
        assert_eq!(encode(&mut a, &vals), in_a, "one encoding per state");
        let mut carried = Vec::new();
        a.reencode(&in_b, &b, &mut carried);
        assert_eq!(carried, in_a);

        // Full words: a new text is held in full, always, and a word of another state that is
        // not a word here comes over in full too.
        let mut full = Words::default();
        for i in 0..Words::MAX {
            full.put(format!("t{i}").as_bytes(), &mut Vec::new());
        }
        let late = [Val::str("late"), Val::str("t7")];
        let first = encode(&mut full, &late);
        assert_eq!(encode(&mut full, &late), first);
        assert_eq!(first[0], tag::TEXT);
        assert_eq!(decode_key(&first, &full, 2), late);
        let mut other = Words::default();
        let there = encode(&mut other, &late);
        assert_eq!(there[0], tag::WORD);
        let mut carried = Vec::new();
        full.reencode(&there, &other, &mut carried);
        assert_eq!(carried, first);
    }

    /// Sortable keys order exactly as their decoded rows do, whatever forms their values take.
    #[test]
    fn encoded_keys_sort_as_their_rows() {
        let vals = [
            Val::str("6"),
            Val::str("06"),
            Val::str("17"),
            Val::str("1e3"),
            Val::str("10.0.0.9"),
            Val::str("10.0.0.10"),
            Val::str("9.0.0.1"),
            Val::str("10.0.0.1"),
            Val::str("100.0.0.1"),
            Val::str("10.10.0.1"),
            Val::str("10.1.0.1"),
            Val::str("ACCEPT"),
            Val::str(""),
            Val::str("A"),
            Val::str("A\0"),
            Val::str("A\u{1}"),
            Val::str("-7"),
            Val::str("é"),
            Val::Num(6.0),
            Val::Num(2.5),
            Val::Num(-2.5),
            Val::Num(-0.0),
            Val::Num(f64::NEG_INFINITY),
            Val::Num(f64::NAN),
            Val::Time(5),
            Val::Missing,
        ];
        // In full, as `encode_key` writes them, and as a state writes them (text as words).
        let mut words = Words::default();
        for in_words in [false, true] {
            let keys: Vec<Vec<u8>> = vals
                .iter()
                .flat_map(|a| vals.iter().map(move |b| (a, b)))
                .map(|(a, b)| {
                    let mut k = Vec::new();
                    for v in [a, b] {
                        if in_words { words.encode(v, &mut k) } else { encode_key(v, &mut k) }
                    }
                    k
                })
                .collect();
            let words = &words;
            for x in &keys {
                for y in &keys {
                    let want = crate::exec::cmp_all(&decode_key(x, words, 2), &decode_key(y, words, 2));
                    let sortable = |k: &[u8]| {
                        let mut out = Vec::new();
                        sortable_key(k, words, &mut out);
                        out
                    };
                    assert_eq!(
                        sortable(x).cmp(&sortable(y)),
                        want,
                        "{:?} {:?}",
                        decode_key(x, words, 2),
                        decode_key(y, words, 2)
                    );
                }
            }
            assert_eq!(in_words, words.texts.len() > 0, "the second pass holds its text as words");
        }
    }

    /// `min`/`max` over numbers and text (kept aside while a group has no number), then
    /// over a time or a NaN, answer as over values throughout, in one state or merged from two.
    #[test]
    fn extremes_turn_into_values_without_changing_answers() {
        for want in [Ordering::Less, Ordering::Greater] {
            let inputs: [&[Val<'_>]; 8] = [
                &[Val::str("5"), Val::Num(3.0), Val::str("7")],
                &[Val::str("5"), Val::str("abc"), Val::Num(-1.0)],
                &[Val::Num(2.0), Val::Num(f64::NAN), Val::Num(1.0)],
                &[Val::str("x"), Val::str("b"), Val::Num(9.0)],
                &[Val::str("-"), Val::str("b"), Val::str("-")],
                &[Val::str("b"), Val::str("-"), Val::str("80")],
                &[Val::str("-"), Val::Time(5), Val::str("b")],
                &[Val::str("-")],
            ];
            for vs in inputs {
                let plain = |vs: &[Val<'_>]| {
                    let mut e = Extremes::Vals(vec![Val::Missing]);
                    for v in vs {
                        e.offer(0, v.clone(), want);
                    }
                    format!("{:?}", e.result(0))
                };
                // Group 1 of the typed state gets the values; group 0 stays empty.
                let typed = |vs: &[Val<'_>]| {
                    let mut e = Extremes::new();
                    e.push();
                    e.push();
                    for v in vs {
                        e.offer(1, v.clone(), want);
                    }
                    e
                };
                let mut one = typed(vs);
                assert_eq!(format!("{:?}", one.result(1)), plain(vs), "{vs:?} {want:?}");
                assert!(one.result(0).is_missing());
                for cut in 0..=vs.len() {
                    let (mut a, mut b) = (typed(&vs[..cut]), typed(&vs[cut..]));
                    a.merge(1, &mut b, 1, want);
                    assert_eq!(format!("{:?}", a.result(1)), plain(vs), "{vs:?} cut at {cut} {want:?}");
                }
                let mut gathered = typed(vs);
                let mut col = if want == Ordering::Less { AggCol::Min(gathered) } else { AggCol::Max(gathered) };
                col.gather(&[1]);
                gathered = match col {
                    AggCol::Min(e) | AggCol::Max(e) => e,
                    _ => unreachable!(),
                };
                assert_eq!(format!("{:?}", gathered.result(0)), plain(vs), "{vs:?} gathered {want:?}");
            }
        }
    }
}
