//! Expression evaluation over one record or one result row.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr};

use crate::ast::{BinOp, Func, ParsePattern};
use crate::plan::{CExpr, FieldRef, ParseDef, SlotDef, SubnetKind};
use crate::value::{Val, compare};

/// Where field values come from while evaluating.
pub(crate) trait Env<'v> {
    fn field(&mut self, r: FieldRef) -> Val<'v>;
    /// `@timestamp` in milliseconds, for `bin(…)`.
    fn timestamp(&mut self) -> Option<i64>;
    fn agg(&mut self, _index: usize) -> Val<'v> {
        Val::Missing
    }

    /// The address in `x`'s value as `kind` reads it; `cache` names where a record keeps it.
    fn address(&mut self, x: &'v CExpr, kind: SubnetKind, _cache: Option<usize>) -> Option<IpAddr>
    where
        Self: Sized,
    {
        eval(x, self).text().and_then(|t| kind.parse(&t))
    }
}

/// The value of `e`, reading a field without a call to `eval` (most subjects, keys and
/// aggregate arguments are fields).
#[inline]
pub(crate) fn value<'v, E: Env<'v>>(e: &'v CExpr, env: &mut E) -> Val<'v> {
    match e {
        CExpr::Field(r) => env.field(*r),
        _ => eval(e, env),
    }
}

/// A condition's truth, without building a value: filters, `and`/`or` (short-circuit), `not`
/// and the tests. Anything else is evaluated and its value tested.
pub(crate) fn test<'v, E: Env<'v>>(e: &'v CExpr, env: &mut E) -> bool {
    match e {
        CExpr::Bin(BinOp::And, a, b) => test(a, env) && test(b, env),
        CExpr::Bin(BinOp::Or, a, b) => test(a, env) || test(b, env),
        CExpr::Not(a) => !test(a, env),
        CExpr::StrEq(r, lit, ne) => match env.field(*r) {
            Val::Str(s) => (s.as_ref() == lit.as_str()) != *ne,
            Val::Missing => false,
            other => compare(&other, &Val::str(lit)).is_some_and(|o| (o == Ordering::Equal) != *ne),
        },
        CExpr::InSet(x, set, neg) => {
            let v = value(x, env);
            !v.is_missing() && set.contains(&v) != *neg
        }
        CExpr::In(x, items, neg) => {
            let v = eval(x, env);
            if v.is_missing() {
                return false;
            }
            let found = items.iter().any(|i| compare(&v, &eval(i, env)) == Some(Ordering::Equal));
            found != *neg
        }
        CExpr::LikeStr(x, finder, neg) => match value(x, env).text() {
            Some(s) => finder.find(s.as_bytes()).is_some() != *neg,
            None => false,
        },
        CExpr::LikeRe(x, re, neg) => match value(x, env).text() {
            Some(s) => re.is_match(&s) != *neg,
            None => false,
        },
        CExpr::InSubnet(x, net, kind, cache) => env.address(x, *kind, *cache).is_some_and(|ip| net.contains(ip)),
        other => eval(other, env).truthy(),
    }
}

#[allow(clippy::many_single_char_names)]
pub(crate) fn eval<'v, E: Env<'v>>(e: &'v CExpr, env: &mut E) -> Val<'v> {
    match e {
        CExpr::Field(r) => env.field(*r),
        CExpr::Lit(v) => v.borrowed(),
        CExpr::Bin(BinOp::And | BinOp::Or, ..)
        | CExpr::Not(_)
        | CExpr::StrEq(..)
        | CExpr::InSet(..)
        | CExpr::In(..)
        | CExpr::LikeStr(..)
        | CExpr::LikeRe(..)
        | CExpr::InSubnet(..) => Val::bool(test(e, env)),
        CExpr::Bin(op, a, b) => {
            let x = eval(a, env);
            let y = eval(b, env);
            binary(*op, &x, &y)
        }
        CExpr::Neg(a) => match eval(a, env) {
            Val::Missing => Val::Missing,
            v => v.as_num().map_or(Val::Missing, |n| Val::Num(-n)),
        },
        CExpr::Call(f, args) => call(*f, args, env),
        CExpr::Agg(i) => env.agg(*i),
    }
}

/// A dotted-quad IPv4 address, fast (the common case in flow logs).
pub(crate) fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut idx = 0;
    let mut cur: u32 = 0;
    let mut digits = 0;
    for &c in b {
        if c == b'.' {
            if digits == 0 || idx == 3 {
                return None;
            }
            octets[idx] = u8::try_from(cur).ok()?;
            idx += 1;
            cur = 0;
            digits = 0;
        } else if c.is_ascii_digit() {
            if digits == 3 || (digits > 0 && cur == 0) {
                return None;
            }
            cur = cur * 10 + u32::from(c - b'0');
            digits += 1;
        } else {
            return None;
        }
    }
    if idx != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(cur).ok()?;
    Some(Ipv4Addr::from(octets))
}

#[allow(clippy::many_single_char_names)]
fn binary<'v>(op: BinOp, x: &Val<'v>, y: &Val<'v>) -> Val<'v> {
    let cmp = |pred: fn(Ordering) -> bool| Val::bool(compare(x, y).is_some_and(pred));
    match op {
        BinOp::Eq => cmp(|o| o == Ordering::Equal),
        BinOp::Ne => cmp(|o| o != Ordering::Equal),
        BinOp::Lt => cmp(|o| o == Ordering::Less),
        BinOp::Le => cmp(|o| o != Ordering::Greater),
        BinOp::Gt => cmp(|o| o == Ordering::Greater),
        BinOp::Ge => cmp(|o| o != Ordering::Less),
        BinOp::And | BinOp::Or => unreachable!("short-circuited by eval"),
        _ => {
            let (Some(a), Some(b)) = (x.as_num(), y.as_num()) else { return Val::Missing };
            let n = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div | BinOp::Mod if b == 0.0 => return Val::Missing,
                BinOp::Div => a / b,
                BinOp::Mod => a % b,
                _ => a.powf(b),
            };
            // A time plus or minus a span stays a time.
            #[allow(clippy::cast_possible_truncation)]
            match (x, y, op) {
                (Val::Time(_), Val::Time(_), BinOp::Sub) => Val::Num(n),
                (Val::Time(_), _, BinOp::Add | BinOp::Sub) | (_, Val::Time(_), BinOp::Add) => Val::Time(n as i64),
                _ => Val::Num(n),
            }
        }
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
#[allow(clippy::many_single_char_names)]
fn call<'v, E: Env<'v>>(f: Func, args: &'v [CExpr], env: &mut E) -> Val<'v> {
    let arg = |i: usize, env: &mut E| args.get(i).map_or(Val::Missing, |a| eval(a, env));
    let num = |v: Val<'v>| v.as_num();
    match f {
        Func::IsValidIp | Func::IsValidIpV4 | Func::IsValidIpV6 => {
            let v = arg(0, env);
            let Some(s) = v.text() else { return Val::bool(false) };
            let ok = match f {
                Func::IsValidIpV4 => parse_ipv4(&s).is_some(),
                Func::IsValidIpV6 => s.parse::<std::net::Ipv6Addr>().is_ok(),
                _ => s.parse::<IpAddr>().is_ok(),
            };
            Val::bool(ok)
        }
        Func::Least | Func::Greatest => {
            let mut best: Option<f64> = None;
            for i in 0..args.len() {
                if let Some(n) = num(arg(i, env)) {
                    best = Some(match best {
                        None => n,
                        Some(b) if f == Func::Least => b.min(n),
                        Some(b) => b.max(n),
                    });
                }
            }
            best.map_or(Val::Missing, Val::Num)
        }
        Func::Abs | Func::Floor | Func::Ceil | Func::Sqrt => match num(arg(0, env)) {
            Some(n) => Val::Num(match f {
                Func::Abs => n.abs(),
                Func::Floor => n.floor(),
                Func::Ceil => n.ceil(),
                _ => n.sqrt(),
            }),
            None => Val::Missing,
        },
        Func::Pow => match (num(arg(0, env)), num(arg(1, env))) {
            (Some(a), Some(b)) => Val::Num(a.powf(b)),
            _ => Val::Missing,
        },
        Func::Strlen => arg(0, env).text().map_or(Val::Missing, |s| Val::Num(s.chars().count() as f64)),
        Func::Concat => {
            let mut out = String::new();
            for i in 0..args.len() {
                if let Some(s) = arg(i, env).text() {
                    out.push_str(&s);
                }
            }
            Val::Str(Cow::Owned(out))
        }
        Func::ToLower | Func::ToUpper => match arg(0, env).text() {
            Some(s) => Val::Str(Cow::Owned(if f == Func::ToLower { s.to_lowercase() } else { s.to_uppercase() })),
            None => Val::Missing,
        },
        Func::Trim | Func::Ltrim | Func::Rtrim => {
            let v = arg(0, env);
            let chars: Option<Vec<char>> =
                if args.len() > 1 { arg(1, env).text().map(|s| s.chars().collect()) } else { None };
            let Some(s) = v.text() else { return Val::Missing };
            let pat = |c: char| chars.as_ref().map_or(c.is_whitespace(), |set| set.contains(&c));
            let t = match f {
                Func::Trim => s.trim_matches(pat),
                Func::Ltrim => s.trim_start_matches(pat),
                _ => s.trim_end_matches(pat),
            };
            Val::Str(Cow::Owned(t.to_owned()))
        }
        Func::Substr => {
            let v = arg(0, env);
            let start = num(arg(1, env));
            let len = if args.len() > 2 { num(arg(2, env)) } else { None };
            let (Some(s), Some(start)) = (v.text(), start) else { return Val::Missing };
            let start = start.max(0.0) as usize;
            let it = s.chars().skip(start);
            let out: String = match len {
                Some(l) => it.take(l.max(0.0) as usize).collect(),
                None => it.collect(),
            };
            Val::Str(Cow::Owned(out))
        }
        Func::Replace => {
            let v = arg(0, env);
            let from = arg(1, env);
            let to = arg(2, env);
            match (v.text(), from.text(), to.text()) {
                (Some(s), Some(a), Some(b)) if !a.is_empty() => Val::Str(Cow::Owned(s.replace(a.as_ref(), &b))),
                (Some(s), Some(_), Some(_)) => Val::Str(Cow::Owned(s.into_owned())),
                _ => Val::Missing,
            }
        }
        Func::StrContains => {
            let v = arg(0, env);
            let sub = arg(1, env);
            match (v.text(), sub.text()) {
                (Some(s), Some(t)) => Val::bool(s.contains(t.as_ref())),
                _ => Val::bool(false),
            }
        }
        Func::IsPresent => Val::bool(!arg(0, env).is_missing()),
        Func::IsEmpty => Val::bool(arg(0, env).text().is_none_or(|s| s.is_empty())),
        Func::IsBlank => Val::bool(arg(0, env).text().is_none_or(|s| s.trim().is_empty())),
        Func::Coalesce => {
            for i in 0..args.len() {
                let v = arg(i, env);
                if !v.is_missing() {
                    return v;
                }
            }
            Val::Missing
        }
        Func::Bin => {
            let span = num(arg(0, env)).unwrap_or(1.0) as i64;
            match env.timestamp() {
                Some(ts) if span > 0 => Val::Time(ts.div_euclid(span) * span),
                _ => Val::Missing,
            }
        }
        Func::DateFloor | Func::DateCeil => {
            let t = time_of(&arg(0, env));
            let span = num(arg(1, env)).unwrap_or(1.0) as i64;
            match t {
                Some(t) if span > 0 => {
                    let floor = t.div_euclid(span) * span;
                    Val::Time(if f == Func::DateCeil && floor != t { floor + span } else { floor })
                }
                _ => Val::Missing,
            }
        }
        Func::FromMillis => num(arg(0, env)).map_or(Val::Missing, |n| Val::Time(n as i64)),
        Func::ToMillis => time_of(&arg(0, env)).map_or(Val::Missing, |t| Val::Num(t as f64)),
        Func::IsIpv4InSubnet | Func::IsIpv6InSubnet | Func::IsIpInSubnet => unreachable!("compiled to InSubnet"),
    }
}

#[allow(clippy::cast_possible_truncation)]
fn time_of(v: &Val<'_>) -> Option<i64> {
    match v {
        Val::Time(t) => Some(*t),
        other => other.as_num().map(|n| n as i64),
    }
}

/// The values of one record: its split fields, system fields and the slots the query defines,
/// computed on first use (so a filter that fails early skips them).
pub(crate) struct RecordEnv<'v, 'r> {
    pub ext: &'r [Resolved],
    pub cols: &'r [&'v str],
    pub valid: bool,
    pub message: &'v str,
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub log_stream: Option<&'v str>,
    pub log: &'v str,
    pub interface_col: Option<usize>,
    pub slots: &'r mut [Option<Val<'v>>],
    /// The plan's address caches for this record.
    pub addrs: &'r mut [Parsed],
    pub slot_defs: &'v [SlotDef],
    pub parses: &'v [ParseDef],
}

/// An address cache of one record: not read yet, or the address the text holds (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    NotYet,
    Done(Option<IpAddr>),
}

/// An external name bound to a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    Col(usize),
    Message,
    Timestamp,
    IngestionTime,
    LogStream,
    Log,
    Missing,
}

impl<'v> RecordEnv<'v, '_> {
    fn col(&self, i: usize) -> Val<'v> {
        if self.valid { Val::str(self.cols[i]) } else { Val::Missing }
    }

    fn run_parse(&mut self, p: usize) {
        let parses = self.parses;
        let def = &parses[p];
        let source = eval(&def.source, self);
        let outputs: Vec<Val<'v>> = match &source {
            Val::Missing => Vec::new(),
            Val::Str(Cow::Borrowed(s)) => match_pattern(&def.pattern, s).unwrap_or_default(),
            other => {
                let text = other.text().map(Cow::into_owned).unwrap_or_default();
                match_pattern(&def.pattern, &text)
                    .map(|vs| vs.into_iter().map(Val::into_owned).collect())
                    .unwrap_or_default()
            }
        };
        let mut outputs = outputs.into_iter();
        for &slot in &def.slots {
            self.slots[slot] = Some(outputs.next().unwrap_or(Val::Missing));
        }
    }
}

/// Runs a parse pattern; `None` when it does not match (every output is then missing).
pub(crate) fn match_pattern<'s>(pattern: &ParsePattern, s: &'s str) -> Option<Vec<Val<'s>>> {
    match pattern {
        ParsePattern::Glob { parts } => {
            let mut out = Vec::with_capacity(parts.len() - 1);
            let mut rest = s.strip_prefix(parts[0].as_str())?;
            let last = parts.len() - 1;
            for (i, lit) in parts[1..].iter().enumerate() {
                if i + 1 == last && lit.is_empty() {
                    out.push(Val::str(rest));
                    rest = "";
                } else if lit.is_empty() {
                    // Two stars in a row: the first matches nothing.
                    out.push(Val::str(""));
                } else {
                    let at = rest.find(lit.as_str())?;
                    out.push(Val::str(&rest[..at]));
                    rest = &rest[at + lit.len()..];
                }
            }
            Some(out)
        }
        ParsePattern::Regex(re) => {
            let caps = re.captures(s)?;
            Some(
                re.capture_names()
                    .flatten()
                    .map(|name| caps.name(name).map_or(Val::Missing, |m| Val::str(m.as_str())))
                    .collect(),
            )
        }
    }
}

impl<'v> RecordEnv<'v, '_> {
    /// Every other kind of field than a column of the line (see `field`).
    fn other_field(&mut self, r: FieldRef) -> Val<'v> {
        match r {
            FieldRef::Ext(i) => match self.ext[i] {
                Resolved::Col(c) => self.col(c),
                Resolved::Message => Val::str(self.message),
                Resolved::Timestamp => Val::Time(self.timestamp),
                Resolved::IngestionTime => Val::Time(self.ingestion_time),
                Resolved::LogStream => match (self.log_stream, self.interface_col) {
                    (Some(s), _) => Val::str(s),
                    (None, Some(c)) => self.col(c),
                    (None, None) => Val::Missing,
                },
                Resolved::Log => Val::str(self.log),
                Resolved::Missing => Val::Missing,
            },
            FieldRef::Slot(s) => {
                if let Some(v) = &self.slots[s] {
                    return v.clone();
                }
                match &self.slot_defs[s] {
                    SlotDef::Expr(e) => {
                        let v = eval(e, self);
                        self.slots[s] = Some(v.clone());
                        v
                    }
                    SlotDef::Parse { parse, .. } => {
                        self.run_parse(*parse);
                        self.slots[s].clone().unwrap_or(Val::Missing)
                    }
                }
            }
            FieldRef::Col(_) | FieldRef::Missing => Val::Missing,
        }
    }
}

impl<'v> Env<'v> for RecordEnv<'v, '_> {
    /// A column of the line, the field most tests read, inline; the rest out of line.
    #[inline]
    fn field(&mut self, r: FieldRef) -> Val<'v> {
        if let FieldRef::Ext(i) = r
            && let Resolved::Col(c) = self.ext[i]
            && self.valid
        {
            return Val::str(self.cols[c]);
        }
        self.other_field(r)
    }

    fn timestamp(&mut self) -> Option<i64> {
        Some(self.timestamp)
    }

    fn address(&mut self, x: &'v CExpr, kind: SubnetKind, cache: Option<usize>) -> Option<IpAddr> {
        if let Some(Parsed::Done(known)) = cache.map(|i| self.addrs[i]) {
            return known;
        }
        let ip = value(x, self).text().and_then(|t| kind.parse(&t));
        if let Some(i) = cache {
            self.addrs[i] = Parsed::Done(ip);
        }
        ip
    }
}

/// A result row.
pub(crate) struct RowEnv<'v> {
    pub row: &'v [Val<'v>],
    pub timestamp_col: Option<usize>,
}

impl<'v> Env<'v> for RowEnv<'v> {
    fn field(&mut self, r: FieldRef) -> Val<'v> {
        match r {
            FieldRef::Col(i) => self.row.get(i).map_or(Val::Missing, Val::borrowed),
            _ => Val::Missing,
        }
    }

    fn timestamp(&mut self) -> Option<i64> {
        match self.timestamp_col.and_then(|c| self.row.get(c)) {
            Some(Val::Time(t)) => Some(*t),
            _ => None,
        }
    }
}

/// The finished aggregates of one group, for the stats items.
pub(crate) struct AggEnv<'v> {
    pub values: &'v [Val<'static>],
}

impl<'v> Env<'v> for AggEnv<'v> {
    fn field(&mut self, _: FieldRef) -> Val<'v> {
        Val::Missing
    }

    fn timestamp(&mut self) -> Option<i64> {
        None
    }

    fn agg(&mut self, index: usize) -> Val<'v> {
        self.values.get(index).map_or(Val::Missing, Val::borrowed)
    }
}
