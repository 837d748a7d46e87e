//! Which lines can pass a query's record filters, decided before a line is split.
//!
//! From the bound filters this derives tests of which every matching line passes at least
//! one: `action = "REJECT"` needs the column `action` to read `REJECT`; `srcAddr in [...]`
//! needs that column to be one of the texts; `isIpv4InSubnet(srcAddr, "10.1.2.0/24")` needs
//! it to start with `10.1.2.` (a dotted quad is read without leading zeros, so its first
//! octets are spelled one way); an IPv6 subnet test needs a `:` in it; `like "text"` and a
//! test of `@message` need the text in the line. A `coalesce` of columns needs the test in
//! one of them. An `or` needs what either side needs, an `and` what its more selective side
//! needs. Anything else (a negation, a number, a computed value) gives no test, and then
//! neither does an `or` above it.
//!
//! One text that a matching line must hold is searched for across a whole chunk, so lines
//! without it are never visited. Otherwise each line's needed columns are found (from the
//! front, and the last one from the back) and tested: no line is split or filtered unless a
//! test passes. Either way a skipped line would fail the filters, so no result changes (unit
//! tests hold every derivation against the filters themselves).

use std::collections::BTreeSet;

use memchr::memmem::Finder;

use crate::ast::{BinOp, Func};
use crate::bind::Stage;
use crate::eval::Resolved;
use crate::exec::Spaces;
use crate::plan::{CExpr, FieldRef, SlotDef};
use crate::typed::{Net, SubnetKind, Texts};

/// Finds the lines that may match.
#[derive(Debug)]
pub(crate) enum Prefilter {
    /// Lines holding this text: found across a chunk.
    Text(Finder<'static>),
    /// Lines that pass one of these tests: tried line by line.
    Lines(LineTests),
}

/// What one line or one of its columns must hold.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    /// The column is this text.
    Is(usize, Vec<u8>),
    /// The column starts with this text.
    Starts(usize, Vec<u8>),
    /// The column (or, with `None`, the line) holds this text.
    Holds(Option<usize>, Vec<u8>),
}

impl Need {
    fn text(&self) -> &[u8] {
        match self {
            Need::Is(_, t) | Need::Starts(_, t) | Need::Holds(_, t) => t,
        }
    }

    /// A test that lets few lines through: a whole column, or a text long enough to be rare.
    fn selective(&self) -> bool {
        match self {
            Need::Is(..) => true,
            Need::Starts(_, t) | Need::Holds(_, t) => t.len() >= 6,
        }
    }
}

impl Prefilter {
    /// The prefilter of a bound stage reading lines of `columns` fields, when its filters need
    /// something.
    pub fn new(stage: &Stage, ext: &[Resolved], columns: usize) -> Option<Self> {
        let mut needs = needed_all(&stage.filters, &Ctx { ext, slots: &stage.slots })?;
        needs.sort();
        needs.dedup();
        if let [one] = needs.as_slice()
            && one.text().len() >= 4
        {
            return Some(Prefilter::Text(Finder::new(one.text()).into_owned()));
        }
        Some(Prefilter::Lines(LineTests::new(&needs, columns)))
    }
}

/// Tests on a line's columns, the same column's texts in one set.
#[derive(Debug)]
pub(crate) struct LineTests {
    /// Per column read from the front, in column order: its texts, prefixes and held texts.
    front: Vec<(usize, ColumnTest)>,
    /// The last column's test (read from the back of the line).
    last: Option<ColumnTest>,
    /// Texts the whole line may hold.
    line: Vec<Finder<'static>>,
}

#[derive(Debug, Default)]
struct ColumnTest {
    is: Option<Texts>,
    starts: Vec<Vec<u8>>,
    holds: Vec<Finder<'static>>,
}

impl ColumnTest {
    fn add(&mut self, need: &Need) {
        match need {
            Need::Is(_, t) => self.is.get_or_insert_with(Texts::default).insert(&String::from_utf8_lossy(t)),
            Need::Starts(_, t) => self.starts.push(t.clone()),
            Need::Holds(_, t) => self.holds.push(Finder::new(t).into_owned()),
        }
    }

    #[inline]
    fn passes(&self, column: &str) -> bool {
        self.is.as_ref().is_some_and(|s| s.contains(column))
            || self.starts.iter().any(|t| column.as_bytes().starts_with(t))
            || self.holds.iter().any(|f| f.find(column.as_bytes()).is_some())
    }
}

impl LineTests {
    fn new(needs: &[Need], columns: usize) -> Self {
        let mut tests = LineTests { front: Vec::new(), last: None, line: Vec::new() };
        for need in needs {
            let col = match need {
                Need::Holds(None, t) => {
                    tests.line.push(Finder::new(t).into_owned());
                    continue;
                }
                Need::Is(c, _) | Need::Starts(c, _) | Need::Holds(Some(c), _) => *c,
            };
            let test = if col + 1 == columns && columns > 1 {
                tests.last.get_or_insert_with(ColumnTest::default)
            } else {
                let i = match tests.front.binary_search_by_key(&col, |(c, _)| *c) {
                    Ok(i) => i,
                    Err(i) => {
                        tests.front.insert(i, (col, ColumnTest::default()));
                        i
                    }
                };
                &mut tests.front[i].1
            };
            test.add(need);
        }
        tests
    }

    /// Whether `line` passes some test, its columns separated by runs of whitespace as the
    /// splitter reads them. With `spaces_only` the caller vouches that the line holds no
    /// whitespace but spaces, so columns are found a word at a time.
    #[inline]
    pub fn passes(&self, line: &str, spaces_only: bool) -> bool {
        let b = line.as_bytes();
        if self.line.iter().any(|f| f.find(b).is_some()) {
            return true;
        }
        if let Some(test) = &self.last {
            let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(0, |i| i + 1);
            let start = b[..end].iter().rposition(u8::is_ascii_whitespace).map_or(0, |i| i + 1);
            if test.passes(&line[start..end]) {
                return true;
            }
        }
        match spaces_only.then(|| self.front_by_spaces(line)).flatten() {
            Some(passed) => passed,
            None => self.front_by_whitespace(line),
        }
    }

    /// The front columns' tests on a line whose columns are one space apart; `None` when
    /// they are not (a run of spaces, or one at the start). One pass over the line's spaces.
    #[inline]
    fn front_by_spaces(&self, line: &str) -> Option<bool> {
        let b = line.as_bytes();
        let mut wanted = self.front.iter();
        let Some(mut next) = wanted.next() else { return Some(false) };
        // Column `col` starts at `start`; a space at `at` ends it. `Some` answer once known:
        // a test passed, none is left, or (`Some(None)`) the columns are not one space apart.
        let (mut col, mut start) = (0, 0);
        let mut end_column = |at: usize| -> Option<Option<bool>> {
            if at == start {
                return Some(None);
            }
            if col == next.0 {
                if next.1.passes(&line[start..at]) {
                    return Some(Some(true));
                }
                match wanted.next() {
                    Some(n) => next = n,
                    None => return Some(Some(false)),
                }
            }
            col += 1;
            start = at + 1;
            None
        };
        for at in Spaces::new(b) {
            if let Some(answer) = end_column(at) {
                return answer;
            }
        }
        // The line's last column; a test of a column past it fails.
        end_column(b.len()).unwrap_or(Some(false))
    }

    fn front_by_whitespace(&self, line: &str) -> bool {
        let b = line.as_bytes();
        let mut i = 0;
        let mut col = 0;
        for (want, test) in &self.front {
            // To the start of column `want`, then to its end.
            loop {
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i >= b.len() {
                    return false;
                }
                if col == *want {
                    break;
                }
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                col += 1;
            }
            let start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            col += 1;
            if test.passes(&line[start..i]) {
                return true;
            }
        }
        false
    }
}

struct Ctx<'a> {
    ext: &'a [Resolved],
    slots: &'a [SlotDef],
}

/// What every filter of a list (an implicit `and`) needs: the most selective one's needs.
fn needed_all(filters: &[CExpr], ctx: &Ctx<'_>) -> Option<Vec<Need>> {
    filters.iter().map(|f| needed(f, ctx)).fold(None, better)
}

/// Needs of which a line passing `e` meets at least one; `None` when there is no such list.
fn needed(e: &CExpr, ctx: &Ctx<'_>) -> Option<Vec<Need>> {
    let needs = match e {
        CExpr::Bin(BinOp::And, a, b) => better(needed(a, ctx), needed(b, ctx))?,
        CExpr::Bin(BinOp::Or, a, b) => {
            let mut needs = needed(a, ctx)?;
            needs.extend(needed(b, ctx)?);
            needs
        }
        CExpr::StrEq(r, text, false) => ctx.sources_ref(*r)?.each(|c| match c {
            Some(c) => Need::Is(c, text.as_bytes().to_vec()),
            None => Need::Holds(None, text.as_bytes().to_vec()),
        }),
        CExpr::InSet(x, set, false) => {
            let sources = ctx.sources(x)?;
            let texts = set.texts()?;
            texts
                .iter()
                .flat_map(|t| {
                    sources.each(|c| match c {
                        Some(c) => Need::Is(c, t.as_bytes().to_vec()),
                        None => Need::Holds(None, t.as_bytes().to_vec()),
                    })
                })
                .collect()
        }
        CExpr::LikeStr(x, finder, false) => ctx.sources(x)?.each(|c| Need::Holds(c, finder.needle().to_vec())),
        CExpr::InSubnet(x, net, kind, _) => {
            let sources = ctx.sources(x)?;
            match subnet_text(*net, *kind)? {
                Subnet::Starts(t) => {
                    sources.each(|c| c.map_or(Need::Holds(None, t.clone()), |c| Need::Starts(c, t.clone())))
                }
                Subnet::Holds(t) => sources.each(|c| Need::Holds(c, t.clone())),
            }
        }
        _ => return None,
    };
    // A text with a line break is in no line: that alternative cannot hold. An empty text is
    // in every line: the list then says nothing.
    let needs: Vec<Need> = needs.into_iter().filter(|n| !n.text().contains(&b'\n')).collect();
    (!needs.is_empty() && needs.iter().all(|n| !n.text().is_empty())).then_some(needs)
}

/// Of two lists that are both needed, the one that lets fewer lines through, and costs less
/// to test: every test selective first, then the fewer tests (one column's texts are one).
#[allow(clippy::needless_pass_by_value)]
fn better(a: Option<Vec<Need>>, b: Option<Vec<Need>>) -> Option<Vec<Need>> {
    let rank = |needs: &Vec<Need>| {
        let columns: BTreeSet<usize> =
            needs.iter().filter_map(|n| if let Need::Is(c, _) = n { Some(*c) } else { None }).collect();
        let others = needs.iter().filter(|n| !matches!(n, Need::Is(..))).count();
        (needs.iter().all(Need::selective), std::cmp::Reverse(columns.len() + others))
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(if rank(&b) > rank(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

enum Subnet {
    Starts(Vec<u8>),
    Holds(Vec<u8>),
}

/// What the text of an address inside `net` has in every spelling the subnet function reads.
fn subnet_text(net: Net, kind: SubnetKind) -> Option<Subnet> {
    match net {
        // `isIpv4InSubnet` reads dotted quads without leading zeros: the whole octets of the
        // prefix are spelled one way, each followed by a dot.
        Net::V4 { addr, mask } if kind == SubnetKind::V4 => {
            let whole = (mask.leading_ones() / 8) as usize;
            if whole == 0 {
                return None;
            }
            let octets = addr.to_be_bytes();
            let mut text = octets[..whole].iter().map(u8::to_string).collect::<Vec<_>>().join(".");
            if whole < 4 {
                text.push('.');
            }
            Some(Subnet::Starts(text.into_bytes()))
        }
        // Every spelling of an IPv6 address has a colon; an IPv4 address is never inside.
        Net::V6 { .. } => Some(Subnet::Holds(b":".to_vec())),
        Net::V4 { .. } => None,
    }
}

/// Where a value's text comes from: columns of the line, or (`None`) somewhere in the line.
struct Sources(Vec<Option<usize>>);

impl Sources {
    fn each(&self, need: impl Fn(Option<usize>) -> Need) -> Vec<Need> {
        self.0.iter().map(|&c| need(c)).collect()
    }
}

impl Ctx<'_> {
    /// Where the value of `e`, when it is text, comes from, if from the line.
    fn sources(&self, e: &CExpr) -> Option<Sources> {
        match e {
            CExpr::Field(r) => self.sources_ref(*r),
            CExpr::Call(Func::Coalesce, args) => {
                let mut all = Vec::new();
                for a in args {
                    all.extend(self.sources(a)?.0);
                }
                Some(Sources(all))
            }
            _ => None,
        }
    }

    fn sources_ref(&self, r: FieldRef) -> Option<Sources> {
        match r {
            FieldRef::Ext(i) => match self.ext[i] {
                Resolved::Col(c) => Some(Sources(vec![Some(c)])),
                Resolved::Message => Some(Sources(vec![None])),
                _ => None,
            },
            FieldRef::Slot(s) => match &self.slots[s] {
                SlotDef::Expr(e) => self.sources(e),
                SlotDef::Parse { .. } => None,
            },
            FieldRef::Col(_) | FieldRef::Missing => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use wavegap_core::flowlog::FlowFormat;

    use super::*;
    use crate::bind::bind_stage;
    use crate::exec::resolve_names;
    use crate::{Event, FlowLines, Query, QueryResult};

    /// Version 2 records that share spellings: addresses that are prefixes of others, two
    /// spellings of one IPv6 address, a SKIPDATA record, REJECT in another field's place.
    const LINES: &[&str] = &[
        "2 111122223333 eni-1 10.0.0.5 10.0.0.8 40001 443 6 3 120 1700000000 1700000060 ACCEPT OK",
        "2 111122223333 eni-1 10.0.0.50 10.0.0.8 40002 443 6 3 120 1700000000 1700000060 REJECT OK",
        "2 111122223333 eni-2 10.0.0.8 110.0.0.5 443 40001 6 3 120 1700000000 1700000060 ACCEPT OK",
        "2 111122223333 eni-2 192.168.1.9 10.1.2.3 50000 22 6 1 60 1700000000 1700000060 REJECT OK",
        "2 111122223333 eni-3 2001:db8::7 2001:db8:0:0::8 50000 5432 6 1 60 1700000000 1700000060 REJECT OK",
        "2 111122223333 eni-3 2001:db8:0::7 2001:db8::9 50001 5432 6 1 60 1700000000 1700000060 ACCEPT OK",
        "2 111122223333 eni-4 - - - - - - - 1700000000 1700000060 - SKIPDATA",
        "2 111122223333 eni-4 - - - - - - - 1700000000 1700000060 - NODATA",
        "2 111122223333 eni-5 10.1.20.3 10.10.2.3 1 2 17 1 60 1700000000 1700000060 ACCEPT OK",
        "2 111122223333 eni-REJECT 10.1.2.30 10.0.0.5 53 40000 17 1 60 1700000000 1700000060 ACCEPT OK",
    ];

    fn query(filter: &str) -> Query {
        let text = format!("filter {filter}\n| stats count(*) as n by srcAddr, dstAddr, action, logStatus");
        Query::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// What the filter needs, sorted, each as `is|starts|holds COLUMN TEXT` (`-`: the line).
    fn needs(filter: &str) -> Option<Vec<String>> {
        let q = query(filter);
        let ext = resolve_names(&q.plan, &FlowFormat::default_v2());
        let stage = bind_stage(&q.plan, &ext);
        let mut needs = needed_all(&stage.filters, &Ctx { ext: &ext, slots: &stage.slots })?;
        needs.sort();
        needs.dedup();
        let col = |c: &Option<usize>| c.map_or("-".to_owned(), |c| c.to_string());
        Some(
            needs
                .iter()
                .map(|n| {
                    let (how, c) = match n {
                        Need::Is(c, _) => ("is", c.to_string()),
                        Need::Starts(c, _) => ("starts", c.to_string()),
                        Need::Holds(c, _) => ("holds", col(c)),
                    };
                    format!("{how} {c} {}", String::from_utf8_lossy(n.text()))
                })
                .collect(),
        )
    }

    /// The result over the lines as a file (prefiltered) and as events (every line evaluated).
    fn both_ways(filter: &str) -> (QueryResult, QueryResult) {
        let q = query(filter);
        let format = FlowFormat::default_v2();
        let text = LINES.join("\n");
        let lines = FlowLines {
            text: &text,
            first_line: 2,
            format: &format,
            log: "111122223333:fl-1",
            default_timestamp: 0,
            ingestion_time: 0,
            window_ms: None,
        };
        let mut file = q.executor();
        file.push_flow_lines(&lines, |n, line| panic!("line {n} is damaged: {line}"));
        let events = LINES.iter().map(|line| Event {
            message: line,
            timestamp: 1_700_000_000_000,
            ingestion_time: 0,
            log_stream: None,
            log: "111122223333:fl-1",
            format: &format,
        });
        (file.finish(), q.run(events))
    }

    const FILTERS: &[&str] = &[
        r#"action = "REJECT""#,
        r#"srcAddr in ["10.0.0.5", "10.1.2.3"] or dstAddr in ["10.0.0.5", "10.1.2.3"]"#,
        r#"logStatus = "SKIPDATA" or ((srcAddr in ["10.0.0.8"] or dstAddr in ["10.0.0.8"]) and ((isIpv4InSubnet(srcAddr, "10.0.0.0/8") and isIpv4InSubnet(dstAddr, "10.0.0.0/8")) or action = "REJECT"))"#,
        r#"isIpv4InSubnet(srcAddr, "10.1.2.0/24") or isIpv4InSubnet(dstAddr, "10.1.0.0/20")"#,
        r#"isIpv4InSubnet(srcAddr, "10.0.0.4/31") or isIpv4InSubnet(dstAddr, "10.0.0.5/32")"#,
        r#"isIpv6InSubnet(srcAddr, "2001:db8::7/128") or isIpv6InSubnet(dstAddr, "2001:db8::8/128")"#,
        r#"coalesce(srcAddr, dstAddr) in ["10.0.0.50"] and action = "REJECT""#,
        r#"srcAddr like "192.168." and not action = "ACCEPT""#,
        "dstPort in [443, 22]",
        r#"isIpv4InSubnet(srcAddr, "0.0.0.0/1") or action = "REJECT""#,
    ];

    #[test]
    fn each_filter_needs_what_its_matching_lines_hold() {
        // Version 2 columns: 3 srcaddr, 4 dstaddr, 6 dstport, 12 action, 13 log-status.
        let want: [Option<&[&str]>; 10] = [
            Some(&["is 12 REJECT"]),
            Some(&["is 3 10.0.0.5", "is 3 10.1.2.3", "is 4 10.0.0.5", "is 4 10.1.2.3"]),
            Some(&["is 3 10.0.0.8", "is 4 10.0.0.8", "is 13 SKIPDATA"]),
            Some(&["starts 3 10.1.2.", "starts 4 10.1."]),
            Some(&["starts 3 10.0.0.", "starts 4 10.0.0.5"]),
            Some(&["holds 3 :", "holds 4 :"]),
            Some(&["is 12 REJECT"]),
            Some(&["holds 3 192.168."]),
            None,
            None,
        ];
        for (filter, want) in FILTERS.iter().zip(want) {
            let want = want.map(|w| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
            assert_eq!(needs(filter), want, "{filter}");
        }
    }

    #[test]
    fn one_needed_text_is_searched_for_and_several_are_tested_per_line() {
        let prefilter = |filter: &str| {
            let q = query(filter);
            let ext = resolve_names(&q.plan, &FlowFormat::default_v2());
            Prefilter::new(&bind_stage(&q.plan, &ext), &ext, 14)
        };
        assert!(matches!(prefilter(FILTERS[0]), Some(Prefilter::Text(f)) if f.needle() == b"REJECT"));
        let Some(Prefilter::Lines(tests)) = prefilter(FILTERS[2]) else { panic!("{FILTERS:?}") };
        for spaces_only in [true, false] {
            let passing: Vec<usize> = (0..LINES.len()).filter(|&i| tests.passes(LINES[i], spaces_only)).collect();
            assert_eq!(passing, [0, 1, 2, 6], "10.0.0.8 at either end, or SKIPDATA");
        }
        // Runs of spaces and other whitespace are read as the splitter reads them.
        for line in ["2  111122223333 eni-2 10.0.0.8 x", "2 111122223333\x0ceni-1 10.0.0.7 10.0.0.8 1"] {
            assert!(tests.passes(line, !line.contains('\x0c')), "{line:?}");
        }
        assert!(prefilter(FILTERS[8]).is_none());
    }

    /// Finding columns a word at a time answers as reading them the careful way, for lines of
    /// every shape: columns of 0 to 11 bytes, one or two spaces apart, a space at either end,
    /// a tested column at the end of the line or past it.
    #[test]
    fn columns_found_by_spaces_are_the_columns_found_by_whitespace() {
        let texts = ["", "a", "ab", "abcdefgh", "abcdefghijk", "ab cd"];
        let mut lines = Vec::new();
        for n in 0..600usize {
            let columns = 1 + n % 7;
            let mut line = String::from(if n % 11 == 0 { " " } else { "" });
            for c in 0..columns {
                if c > 0 {
                    line.push_str(if (n / 7 + c) % 13 == 0 { "  " } else { " " });
                }
                line.push_str(["x", "ab", "abcdefgh", "abcdefghijk", "a", "yyyy"][(n / 3 + c * c) % 6]);
            }
            if n % 17 == 0 {
                line.push(' ');
            }
            lines.push(line);
        }
        for wanted in [vec![0], vec![1], vec![2, 4], vec![0, 3, 6], vec![5], vec![7]] {
            for text in texts {
                let mut test = ColumnTest::default();
                test.add(&Need::Is(0, text.as_bytes().to_vec()));
                let front = wanted.iter().map(|&c| (c, ColumnTest { is: test.is.clone(), ..ColumnTest::default() }));
                let tests = LineTests { front: front.collect(), last: None, line: Vec::new() };
                for line in &lines {
                    let careful = tests.front_by_whitespace(line);
                    let regular = !line.starts_with(' ') && !line.ends_with(' ') && !line.contains("  ");
                    match tests.front_by_spaces(line) {
                        Some(fast) => assert_eq!(fast, careful, "{wanted:?} {text:?} {line:?}"),
                        None => assert!(!regular, "{wanted:?} {line:?} is one space apart"),
                    }
                }
            }
        }
    }

    #[test]
    fn a_prefiltered_file_answers_what_every_line_evaluated_answers() {
        for filter in FILTERS {
            let (file, events) = both_ways(filter);
            assert_eq!(
                file.rows().map(|r| r.fields().collect::<Vec<_>>()).collect::<Vec<_>>(),
                events.rows().map(|r| r.fields().collect::<Vec<_>>()).collect::<Vec<_>>(),
                "{filter}"
            );
            assert!(!events.is_empty(), "{filter} matches some line");
        }
    }
}
