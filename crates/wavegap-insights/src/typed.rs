//! Constants the planner parses once per query instead of once per record: the items of an
//! `in [...]` list as a hash set, and the CIDR of a subnet test as an address and a mask.
//! Each keeps the language's comparison exactly (see `value::compare`); only the cost changes.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;
use rustc_hash::FxHashSet;

use crate::eval::parse_ipv4;
use crate::value::{Val, compare, format_num, format_time, parse_num};

/// The constant items of an `in [...]` list. A text value is looked up once — by number when
/// it reads as one, else by text — so the cost does not grow with the list.
///
/// Why that is exact: two texts that both read as numbers compare as numbers, a text and a
/// number compare as numbers when the text reads as one, and otherwise everything compares as
/// text. A text that reads as a number can equal only an item that is (or reads as) the same
/// number; a text that does not can equal only an item whose text is the same (which then
/// does not read as a number either). Numbers and times among the values are rare (a computed
/// value) and compare with each item as before.
#[derive(Debug, Clone)]
pub(crate) struct ValueSet {
    /// Items that are numbers, or text that reads as one, by value (`-0` as `0`; NaN equals
    /// nothing, so it is left out).
    nums: FxHashSet<u64>,
    /// The text of the items that does not read as a number (text items, and numbers printed
    /// as `NaN` or `inf`, times as dates).
    texts: Texts,
    /// The items as written, for values that are not text.
    items: Vec<Val<'static>>,
}

fn num_key(n: f64) -> u64 {
    if n == 0.0 { 0 } else { n.to_bits() }
}

impl ValueSet {
    /// `items` are literals: text or numbers.
    pub fn new(items: Vec<Val<'static>>) -> Self {
        let mut nums = FxHashSet::default();
        let mut texts = Texts::default();
        let add_text = |t: &str, texts: &mut Texts| {
            if parse_num(t).is_none() {
                texts.insert(t);
            }
        };
        for item in &items {
            #[allow(clippy::cast_precision_loss)]
            let n = match item {
                Val::Missing => None,
                Val::Str(s) => {
                    add_text(s, &mut texts);
                    parse_num(s)
                }
                Val::Num(n) => {
                    add_text(&format_num(*n), &mut texts);
                    Some(*n)
                }
                Val::Time(t) => {
                    add_text(&format_time(*t), &mut texts);
                    Some(*t as f64)
                }
            };
            if let Some(n) = n.filter(|n| !n.is_nan()) {
                nums.insert(num_key(n));
            }
        }
        ValueSet { nums, texts, items }
    }

    /// Whether `v` equals an item (`v` is not missing).
    pub fn contains(&self, v: &Val<'_>) -> bool {
        match v {
            // `texts` holds no text that reads as a number, so a hit there is a text match;
            // a text not there can match only by number, and only if the set has numbers
            // (lists of addresses have none, and skip reading the text as a number).
            Val::Str(s) => {
                self.texts.contains(s.as_ref())
                    || (!self.nums.is_empty() && parse_num(s).is_some_and(|n| self.nums.contains(&num_key(n))))
            }
            other => self.items.iter().any(|i| compare(other, i) == Some(std::cmp::Ordering::Equal)),
        }
    }

    /// The texts a matching value must have one of, when every item is text that is not a
    /// number (for the line prefilter).
    pub fn texts(&self) -> Option<Vec<&str>> {
        if !self.nums.is_empty() {
            return None;
        }
        self.items.iter().map(|i| if let Val::Str(s) = i { Some(s.as_ref()) } else { None }).collect()
    }
}

/// A set of texts. Short ones (addresses, ports, actions: up to 15 bytes) are kept as one
/// 128-bit number each, built from their bytes and length, so a lookup hashes and compares two
/// words instead of calling a string hash and `memcmp`; a text of a length no item has is
/// turned away before that.
#[derive(Debug, Clone, Default)]
pub(crate) struct Texts {
    short: FxHashSet<u128>,
    long: FxHashSet<Box<str>>,
    /// Bit `n` is set when an item has `n` bytes (`n` < 16), bit 16 for any longer item.
    lengths: u32,
}

impl Texts {
    /// The bytes of `t` and its length, when it is short, in one number: the first (up to) 8
    /// bytes from one load, the rest from a second load ending at the last byte, shifted
    /// past the bytes the first already holds; the length in the top byte.
    #[inline]
    fn short_key(t: &str) -> Option<u128> {
        let b = t.as_bytes();
        let n = b.len();
        // Bits to drop from the second load: the bytes the first already holds.
        #[allow(clippy::cast_possible_truncation)]
        let overlap = |width: usize| (8 * (2 * width - n)) as u32;
        let (lo, hi) = match n {
            8..=15 => (word::<8>(b, 0), word::<8>(b, n - 8).checked_shr(overlap(8)).unwrap_or(0)),
            4..=7 => (word::<4>(b, 0) | word::<4>(b, n - 4).checked_shr(overlap(4)).unwrap_or(0) << 32, 0),
            1..=3 => (u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16, 0),
            0 => (0, 0),
            _ => return None,
        };
        Some(u128::from(lo) | u128::from(hi) << 64 | (n as u128) << 120)
    }

    #[inline]
    fn length_bit(n: usize) -> u32 {
        1 << n.min(16)
    }

    pub fn insert(&mut self, t: &str) {
        self.lengths |= Self::length_bit(t.len());
        match Self::short_key(t) {
            Some(k) => self.short.insert(k),
            None => self.long.insert(Box::from(t)),
        };
    }

    #[inline]
    pub fn contains(&self, t: &str) -> bool {
        if self.lengths & Self::length_bit(t.len()) == 0 {
            return false;
        }
        match Self::short_key(t) {
            Some(k) => self.short.contains(&k),
            None => self.long.contains(t),
        }
    }
}

/// `N` (4 or 8) bytes of `b` from `at`, as a little-endian number.
#[inline]
fn word<const N: usize>(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w[..N].copy_from_slice(&b[at..at + N]);
    u64::from_le_bytes(w)
}

/// Which addresses a subnet function reads from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SubnetKind {
    /// `isIpv4InSubnet`: dotted quads only.
    V4,
    /// `isIpv6InSubnet`.
    V6,
    /// `isIpInSubnet`: either.
    Any,
}

impl SubnetKind {
    /// The address `text` holds for this function, if any.
    pub fn parse(self, text: &str) -> Option<IpAddr> {
        match self {
            SubnetKind::V4 => parse_ipv4(text).map(IpAddr::V4),
            SubnetKind::V6 => text.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
            SubnetKind::Any => parse_ipv4(text).map(IpAddr::V4).or_else(|| text.parse().ok()),
        }
    }
}

/// A CIDR as its network address and mask: containment is one AND and one compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Net {
    V4 { addr: u32, mask: u32 },
    V6 { addr: u128, mask: u128 },
}

impl Net {
    pub fn new(net: IpNet) -> Self {
        match net.trunc() {
            IpNet::V4(n) => Net::V4 { addr: n.network().to_bits(), mask: n.netmask().to_bits() },
            IpNet::V6(n) => Net::V6 { addr: n.network().to_bits(), mask: n.netmask().to_bits() },
        }
    }

    /// As `IpNet::contains`: an address of the other family is never inside.
    pub fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Net::V4 { addr, mask }, IpAddr::V4(ip)) => ip.to_bits() & mask == addr,
            (Net::V6 { addr, mask }, IpAddr::V6(ip)) => ip.to_bits() & mask == addr,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[Val<'static>]) -> ValueSet {
        ValueSet::new(items.to_vec())
    }

    /// The set answers exactly what comparing with each item answers.
    #[track_caller]
    fn agrees(items: &[Val<'static>], values: &[Val<'static>]) {
        let s = set(items);
        for v in values {
            let want = items.iter().any(|i| compare(v, i) == Some(std::cmp::Ordering::Equal));
            assert_eq!(s.contains(v), want, "{v:?} in {items:?}");
        }
    }

    #[test]
    fn short_keys_differ_for_every_two_texts() {
        // Every text of up to 5 bytes over three letters, and longer ones that share long
        // prefixes and suffixes, as addresses do.
        let mut texts: Vec<String> = vec![String::new()];
        for _ in 0..5 {
            let last: Vec<String> = texts.iter().filter(|t| t.len() == texts.last().unwrap().len()).cloned().collect();
            texts.extend(last.iter().flat_map(|t| ["a", "1", "."].map(|c| format!("{t}{c}"))));
        }
        for i in 0..200 {
            texts.push(format!("10.{}.{}.{}", i % 7, i / 7, i % 13));
            texts.push(format!("{}{}", "9".repeat(i % 16), i % 3));
        }
        texts.sort();
        texts.dedup();
        let keys: FxHashSet<u128> = texts.iter().filter_map(|t| Texts::short_key(t)).collect();
        assert_eq!(keys.len(), texts.iter().filter(|t| t.len() <= 15).count());
        let mut set = Texts::default();
        for t in texts.iter().step_by(2) {
            set.insert(t);
        }
        for (i, t) in texts.iter().enumerate() {
            assert_eq!(set.contains(t), i % 2 == 0, "{t:?}");
        }
    }

    #[test]
    fn sets_agree_with_item_by_item_comparison() {
        let values: Vec<Val<'static>> = [
            "443",
            "443.0",
            "0443",
            "-0",
            "0",
            "1e3",
            "1000",
            "10.0.0.6",
            "10.0.0.06",
            "abc",
            "ABC",
            "",
            "-",
            "NaN",
            "inf",
            "2001:db8::6",
            "2001:DB8::6",
            "2024-05-06 00:00:00.000",
            "1714953600000",
        ]
        .into_iter()
        .map(Val::str)
        .chain([
            Val::Num(443.0),
            Val::Num(-0.0),
            Val::Num(f64::NAN),
            Val::Num(f64::INFINITY),
            Val::Time(1_714_953_600_000),
        ])
        .collect();
        let s = Val::str;
        agrees(&[s("443"), s("10.0.0.6"), s("abc")], &values);
        agrees(&[Val::Num(443.0), Val::Num(0.0), s("2001:db8::6")], &values);
        agrees(&[s("1000"), s("-"), s("")], &values);
        agrees(&[Val::Num(f64::NAN), Val::Num(f64::INFINITY)], &values);
        agrees(&[Val::Time(1_714_953_600_000)], &values);
        agrees(&[], &values);
    }

    #[test]
    fn nets_agree_with_ipnet() {
        let nets = ["10.0.0.0/8", "10.1.2.3/32", "0.0.0.0/0", "10.0.0.7/8", "2001:db8::/32", "::/0", "2001:db8::6/128"];
        let ips = ["10.0.0.6", "11.0.0.1", "10.1.2.3", "2001:db8::6", "2001:db9::1", "::ffff:10.0.0.6", "0.0.0.0"];
        for n in nets {
            let net: IpNet = n.parse().unwrap();
            for ip in ips {
                let ip: IpAddr = ip.parse().unwrap();
                assert_eq!(Net::new(net).contains(ip), net.trunc().contains(&ip), "{ip} in {n}");
            }
        }
    }
}
