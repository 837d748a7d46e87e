//! Values as the engine sees them, their comparison and their text in results.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// A field or expression value. Flow-log fields are strings as written; they act as numbers
/// wherever a number is needed and the text is one (`"443"`), as Insights does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Missing,
    Str(Cow<'a, str>),
    Num(f64),
    /// Milliseconds since the epoch (`@timestamp`, `bin(…)`, `fromMillis(…)`).
    Time(i64),
}

impl<'a> Val<'a> {
    pub fn str(s: &'a str) -> Self {
        Val::Str(Cow::Borrowed(s))
    }

    pub fn bool(b: bool) -> Self {
        Val::Num(if b { 1.0 } else { 0.0 })
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Val::Missing)
    }

    #[allow(clippy::cast_precision_loss)]
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Time(t) => Some(*t as f64),
            Val::Str(s) => parse_num(s),
            Val::Missing => None,
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Val::Missing => false,
            Val::Num(n) => *n != 0.0 && !n.is_nan(),
            Val::Time(_) => true,
            Val::Str(s) => !s.is_empty(),
        }
    }

    /// The value as text, or `None` when missing.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Missing => None,
            Val::Str(s) => Some(Cow::Borrowed(s)),
            Val::Num(n) => Some(Cow::Owned(format_num(*n))),
            Val::Time(t) => Some(Cow::Owned(format_time(*t))),
        }
    }

    /// Appends the value's text to `out`, as [`Val::text`] spells it; `false` when missing.
    pub fn write_text(&self, out: &mut String) -> bool {
        match self {
            Val::Missing => return false,
            Val::Str(s) => out.push_str(s),
            Val::Num(n) => write_num(*n, out),
            Val::Time(t) => write_time(*t, out),
        }
        true
    }

    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Missing => Val::Missing,
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Num(n) => Val::Num(n),
            Val::Time(t) => Val::Time(t),
        }
    }

    pub fn borrowed(&self) -> Val<'_> {
        match self {
            Val::Missing => Val::Missing,
            Val::Str(s) => Val::Str(Cow::Borrowed(s)),
            Val::Num(n) => Val::Num(*n),
            Val::Time(t) => Val::Time(*t),
        }
    }
}

/// A number from text: digits fast, otherwise a decimal or exponent form. `inf`/`nan` and
/// anything with letters are not numbers.
#[inline]
pub(crate) fn parse_num(s: &str) -> Option<f64> {
    parse_num_bytes(s.as_bytes())
}

/// [`parse_num`] of text given as its bytes (group keys keep text as bytes).
pub(crate) fn parse_num_bytes(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return None;
    }
    if b.len() <= 15 && b.iter().all(u8::is_ascii_digit) {
        let mut v: u64 = 0;
        for &c in b {
            v = v * 10 + u64::from(c - b'0');
        }
        #[allow(clippy::cast_precision_loss)]
        return Some(v as f64);
    }
    let first = b[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    // Only digits, signs, one point and an exponent can make a number: everything else (an
    // IPv4 address's second dot, an IPv6 colon, letters) is rejected before the float parser,
    // which would reject it too, only slower.
    let mut points = 0;
    for &c in b {
        match c {
            b'0'..=b'9' | b'-' | b'+' | b'e' | b'E' => {}
            b'.' => points += 1,
            _ => return None,
        }
    }
    if points > 1 {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Numbers print without a fraction when whole (`12345`), otherwise in the shortest form that
/// reads back to the same double (`2.5`, `0.30000000000000004`).
pub(crate) fn format_num(n: f64) -> String {
    let mut out = String::new();
    write_num(n, &mut out);
    out
}

/// [`format_num`] appended to `out`.
pub(crate) fn write_num(n: f64, out: &mut String) {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        out.push_str(itoa::Buffer::new().format(n as i64));
    } else if n.is_nan() {
        out.push_str("NaN");
    } else {
        let _ = write!(out, "{n}");
    }
}

/// `2024-05-06 00:00:00.000` in UTC, the way `GetQueryResults` prints timestamps.
pub(crate) fn format_time(ms: i64) -> String {
    let mut out = String::with_capacity(23);
    write_time(ms, &mut out);
    out
}

/// [`format_time`] appended to `out`.
fn write_time(ms: i64, out: &mut String) {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{milli:03}", sod / 3600, sod % 3600 / 60, sod % 60);
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Insights' comparison: numerically when both sides are numbers (or text that is one),
/// otherwise as text; a missing side makes every comparison false (`None`).
pub(crate) fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    if a.is_missing() || b.is_missing() {
        return None;
    }
    if let (Val::Str(x), Val::Str(y)) = (a, b) {
        // Two texts compare as numbers only when both are numbers ("9" < "10").
        return match (parse_num(x), parse_num(y)) {
            (Some(p), Some(q)) => p.partial_cmp(&q),
            _ => Some(x.as_ref().cmp(y.as_ref())),
        };
    }
    if let (Some(p), Some(q)) = (a.as_num(), b.as_num()) {
        return p.partial_cmp(&q);
    }
    let x = a.text()?;
    let y = b.text()?;
    Some(x.as_ref().cmp(y.as_ref()))
}

/// A total order for sorting rows: missing values last, then numbers, then text.
pub(crate) fn sort_cmp(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    match (a.is_missing(), b.is_missing()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    match (a.as_num(), b.as_num()) {
        (Some(p), Some(q)) => p.total_cmp(&q),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => {
            let x = a.text().unwrap_or_default();
            let y = b.text().unwrap_or_default();
            x.as_ref().cmp(y.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_print_like_results() {
        for (n, text) in [(12345.0, "12345"), (2.5, "2.5"), (-3.0, "-3"), (0.1 + 0.2, "0.30000000000000004")] {
            assert_eq!(format_num(n), text);
        }
        assert_eq!(format_time(1_714_953_600_000), "2024-05-06 00:00:00.000");
        assert_eq!(format_time(1_418_530_010_123), "2014-12-14 04:06:50.123");
        assert_eq!(format_time(0), "1970-01-01 00:00:00.000");
    }

    #[test]
    fn comparison_is_numeric_when_both_are_numbers() {
        let s = Val::str;
        assert_eq!(compare(&s("9"), &s("10")), Some(Ordering::Less));
        assert_eq!(compare(&s("abc"), &s("abd")), Some(Ordering::Less));
        assert_eq!(compare(&s("17"), &Val::Num(17.0)), Some(Ordering::Equal));
        assert_eq!(compare(&s("10.0.0.6"), &s("10.0.0.6")), Some(Ordering::Equal));
        assert_eq!(compare(&Val::Missing, &s("x")), None);
        assert_eq!(parse_num("1e3"), Some(1000.0));
        assert_eq!(parse_num("inf"), None);
        assert_eq!(parse_num("-"), None);
        assert_eq!(parse_num("10.0.0.6"), None);
        for (text, n) in [("1.5e-3", Some(0.0015)), ("+7", Some(7.0)), (".5", Some(0.5)), ("5.", Some(5.0))] {
            assert_eq!(parse_num(text), n, "{text}");
        }
        for text in ["2001:db8::1", "1.2.3", "1_000", "0x10", "1 2", "e5", "--1"] {
            assert_eq!(parse_num(text), None, "{text}");
        }
    }
}
