//! From the parsed commands to an executable plan: names resolved to slots, system fields,
//! format columns (bound per format later) or result columns; the per-record stage split from
//! the stage that runs on result rows.

use std::collections::HashMap;

use ipnet::IpNet;
use memchr::memmem;

use crate::ast::{AggCall, AggFunc, BinOp, Command, Expr, Func, Named, ParsePattern, SortKey};
pub(crate) use crate::typed::SubnetKind;
use crate::typed::{Net, ValueSet};
use crate::value::{Val, parse_num};

/// Where a name's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldRef {
    /// A name the query does not define: a system field or a flow-log field, bound per format.
    Ext(usize),
    /// A value the query computes per record (`fields … as x`, `parse … as x`).
    Slot(usize),
    /// A column of a result row.
    Col(usize),
    Missing,
}

#[derive(Debug, Clone)]
pub(crate) enum CExpr {
    Field(FieldRef),
    Lit(Val<'static>),
    Bin(BinOp, Box<CExpr>, Box<CExpr>),
    Not(Box<CExpr>),
    Neg(Box<CExpr>),
    In(Box<CExpr>, Vec<CExpr>, bool),
    /// `field = "text"` / `!=`, when the text is not a number: a byte comparison.
    StrEq(FieldRef, String, bool),
    /// `x in [...]` whose items are all constants: one hash lookup.
    InSet(Box<CExpr>, Box<ValueSet>, bool),
    LikeStr(Box<CExpr>, Box<memmem::Finder<'static>>, bool),
    LikeRe(Box<CExpr>, Box<regex::Regex>, bool),
    /// A subnet function with a constant CIDR; the subject's address is parsed once per
    /// record into the address cache of that number, when it has one.
    InSubnet(Box<CExpr>, Net, SubnetKind, Option<usize>),
    Call(Func, Vec<CExpr>),
    Agg(usize),
}

#[derive(Debug, Clone)]
pub(crate) enum SlotDef {
    Expr(CExpr),
    /// An output of parse number `parse` (which fills all its outputs at once).
    Parse {
        parse: usize,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct ParseDef {
    pub source: CExpr,
    pub pattern: ParsePattern,
    /// The slot of each output, in pattern order.
    pub slots: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct CAgg {
    pub func: AggFunc,
    pub arg: Option<CExpr>,
    pub pct: f64,
}

/// A `stats` command, compiled.
#[derive(Debug, Clone)]
pub(crate) struct StatsPlan {
    pub keys: Vec<CExpr>,
    pub aggs: Vec<CAgg>,
    /// The aggregate expressions (over `CExpr::Agg`), in output order after the keys.
    pub items: Vec<CExpr>,
}

/// A command that runs on result rows.
#[derive(Debug, Clone)]
pub(crate) enum RowCmd {
    Filter(CExpr),
    Fields(Vec<(usize, CExpr)>),
    Sort(Vec<(CExpr, bool)>),
    Limit(usize),
    Dedup(Vec<usize>),
    Stats(Box<StatsPlan>),
}

#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// The first `stats` aggregates the records; the tail runs on its rows.
    Stats(StatsPlan),
    /// No `stats` before the first row command: matching records become rows of `columns`.
    Records {
        columns: Vec<CExpr>,
        /// Keep only the first `k` rows in this order while reading (sort keys as column
        /// indexes with `descending`), when the tail allows it.
        truncate: Option<(Vec<(usize, bool)>, usize)>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub ext_names: Vec<String>,
    pub slots: Vec<SlotDef>,
    /// How many per-record address caches the record stage has (see `CExpr::InSubnet`).
    pub addr_caches: usize,
    pub parses: Vec<ParseDef>,
    pub filters: Vec<CExpr>,
    pub mode: Mode,
    pub tail: Vec<RowCmd>,
    /// Column names of result rows after the tail, and which of them are shown, in order.
    pub columns: Vec<String>,
    pub visible: Vec<usize>,
    /// Column of `@timestamp` in record rows (for the default newest-first order).
    pub timestamp_col: Option<usize>,
}

/// System fields every event has.
pub(crate) const SYSTEM_FIELDS: &[&str] = &["@timestamp", "@message", "@logStream", "@log"];

struct Compiler {
    scope: HashMap<String, FieldRef>,
    ext_names: Vec<String>,
    slots: Vec<SlotDef>,
    parses: Vec<ParseDef>,
    /// Computed values already in a slot, by their compiled form (`Debug` text).
    shared: HashMap<String, usize>,
    /// The field and kind of each address cache.
    addr_caches: Vec<(FieldRef, SubnetKind)>,
}

/// What compiling an expression needs from the stage it runs in.
pub(crate) trait Scope {
    fn resolve(&mut self, name: &str) -> FieldRef;

    /// `e` as the record stage reads it: a computed value (`coalesce(pktSrcAddr, srcAddr)`)
    /// in a per-record slot, computed at most once per record however many tests and keys
    /// read it. Result rows have no slots: there it is `e`.
    fn share(&mut self, e: CExpr) -> CExpr {
        e
    }

    /// The per-record cache of the address in field `r` as `kind` reads it, where records are
    /// evaluated (so ten subnet tests on one field parse its text once).
    fn address_cache(&mut self, _r: FieldRef, _kind: SubnetKind) -> Option<usize> {
        None
    }
}

impl<F: FnMut(&str) -> FieldRef> Scope for F {
    fn resolve(&mut self, name: &str) -> FieldRef {
        self(name)
    }
}

impl Scope for Compiler {
    fn resolve(&mut self, name: &str) -> FieldRef {
        Compiler::resolve(self, name)
    }

    fn share(&mut self, e: CExpr) -> CExpr {
        if matches!(e, CExpr::Field(_) | CExpr::Lit(_)) {
            return e;
        }
        let key = format!("{e:?}");
        let slot = if let Some(&slot) = self.shared.get(&key) {
            slot
        } else {
            self.slots.push(SlotDef::Expr(e));
            self.shared.insert(key, self.slots.len() - 1);
            self.slots.len() - 1
        };
        CExpr::Field(FieldRef::Slot(slot))
    }

    fn address_cache(&mut self, r: FieldRef, kind: SubnetKind) -> Option<usize> {
        if !matches!(r, FieldRef::Ext(_) | FieldRef::Slot(_)) {
            return None;
        }
        Some(self.addr_caches.iter().position(|c| *c == (r, kind)).unwrap_or_else(|| {
            self.addr_caches.push((r, kind));
            self.addr_caches.len() - 1
        }))
    }
}

impl Compiler {
    fn resolve(&mut self, name: &str) -> FieldRef {
        if let Some(r) = self.scope.get(name) {
            return *r;
        }
        let idx = self.ext_names.len();
        self.ext_names.push(name.to_owned());
        let r = FieldRef::Ext(idx);
        self.scope.insert(name.to_owned(), r);
        r
    }

    fn expr(&mut self, e: &Expr) -> CExpr {
        compile_expr(e, self)
    }

    /// Defines `name` as the value of `expr`: an alias for a plain field, a slot otherwise
    /// (the one slot of that computation, shared with every other place that computes it).
    fn define(&mut self, n: &Named) -> FieldRef {
        let r = if let Expr::Field(src) = &n.expr {
            self.resolve(src)
        } else {
            let c = self.expr(&n.expr);
            match self.share(c) {
                CExpr::Field(r) => r,
                c => {
                    self.slots.push(SlotDef::Expr(c));
                    FieldRef::Slot(self.slots.len() - 1)
                }
            }
        };
        self.scope.insert(n.name.clone(), r);
        r
    }
}

#[allow(clippy::many_single_char_names)]
pub(crate) fn compile_expr(e: &Expr, scope: &mut dyn Scope) -> CExpr {
    let rec = |e: &Expr, scope: &mut dyn Scope| Box::new(compile_expr(e, scope));
    // The subject of a test, shared when it is computed.
    let subject = |e: &Expr, scope: &mut dyn Scope| {
        let c = compile_expr(e, scope);
        Box::new(scope.share(c))
    };
    let literal = |e: &Expr| match e {
        Expr::Str(s) => Some(Val::Str(s.clone().into())),
        Expr::Num(n) => Some(Val::Num(*n)),
        #[allow(clippy::cast_precision_loss)]
        Expr::Span(ms) => Some(Val::Num(*ms as f64)),
        _ => None,
    };
    match e {
        Expr::Field(name) => CExpr::Field(scope.resolve(name)),
        Expr::Str(_) | Expr::Num(_) | Expr::Span(_) => CExpr::Lit(literal(e).expect("a literal")),
        Expr::Bin(op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
            let (x, y) = (subject(a, scope), subject(b, scope));
            // `field = "text"` with text that is no number compares bytes.
            let text = |c: &CExpr| match c {
                CExpr::Lit(Val::Str(s)) if parse_num(s).is_none() => Some(s.to_string()),
                _ => None,
            };
            if matches!(op, BinOp::Eq | BinOp::Ne) {
                match (&*x, &*y) {
                    (CExpr::Field(r), other) | (other, CExpr::Field(r)) if text(other).is_some() => {
                        return CExpr::StrEq(*r, text(other).expect("checked"), *op == BinOp::Ne);
                    }
                    _ => {}
                }
            }
            CExpr::Bin(*op, x, y)
        }
        Expr::Bin(op, a, b) => CExpr::Bin(*op, rec(a, scope), rec(b, scope)),
        Expr::Not(a) => CExpr::Not(rec(a, scope)),
        Expr::Neg(a) => CExpr::Neg(rec(a, scope)),
        Expr::In(x, items, neg) => {
            let x = subject(x, scope);
            if let Some(constants) = items.iter().map(literal).collect::<Option<Vec<_>>>() {
                return CExpr::InSet(x, Box::new(ValueSet::new(constants)), *neg);
            }
            CExpr::In(x, items.iter().map(|i| compile_expr(i, scope)).collect(), *neg)
        }
        Expr::LikeStr(x, s, neg) => {
            CExpr::LikeStr(subject(x, scope), Box::new(memmem::Finder::new(s.as_bytes()).into_owned()), *neg)
        }
        Expr::LikeRe(x, re, neg) => CExpr::LikeRe(subject(x, scope), Box::new(re.clone()), *neg),
        Expr::Call(func @ (Func::IsIpv4InSubnet | Func::IsIpv6InSubnet | Func::IsIpInSubnet), args) => {
            let Expr::Str(cidr) = &args[1] else { unreachable!("checked by the parser") };
            let net: IpNet = cidr.parse().expect("checked by the parser");
            let kind = match func {
                Func::IsIpv4InSubnet => SubnetKind::V4,
                Func::IsIpv6InSubnet => SubnetKind::V6,
                _ => SubnetKind::Any,
            };
            let x = subject(&args[0], scope);
            let cache = if let CExpr::Field(r) = *x { scope.address_cache(r, kind) } else { None };
            CExpr::InSubnet(x, Net::new(net), kind, cache)
        }
        Expr::Call(func, args) => CExpr::Call(*func, args.iter().map(|a| compile_expr(a, scope)).collect()),
        Expr::Agg(i) => CExpr::Agg(*i),
    }
}

fn no_field(_: &str) -> FieldRef {
    FieldRef::Missing
}

fn compile_aggs(aggs: &[AggCall], scope: &mut dyn Scope) -> Vec<CAgg> {
    aggs.iter()
        .map(|a| CAgg {
            func: a.func,
            arg: a.args.first().map(|e| {
                let c = compile_expr(e, scope);
                scope.share(c)
            }),
            pct: match a.args.get(1) {
                Some(Expr::Num(p)) => *p,
                _ => 50.0,
            },
        })
        .collect()
}

/// Names a command reads (for the columns records must carry into the row stage).
fn names_in(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Field(n) => out.push(n.clone()),
        Expr::Bin(_, a, b) => {
            names_in(a, out);
            names_in(b, out);
        }
        Expr::Not(a) | Expr::Neg(a) | Expr::LikeStr(a, ..) | Expr::LikeRe(a, ..) => names_in(a, out),
        Expr::In(a, items, _) => {
            names_in(a, out);
            for i in items {
                names_in(i, out);
            }
        }
        Expr::Call(_, args) => args.iter().for_each(|a| names_in(a, out)),
        Expr::Str(_) | Expr::Num(_) | Expr::Span(_) | Expr::Agg(_) => {}
    }
}

fn command_names(c: &Command, out: &mut Vec<String>) {
    match c {
        Command::Fields(list) | Command::Display(list) => list.iter().for_each(|n| names_in(&n.expr, out)),
        Command::Filter(e) => names_in(e, out),
        Command::Parse { source, .. } => names_in(source, out),
        Command::Stats { aggs, by, .. } => {
            for e in aggs.iter().flat_map(|a| &a.args).chain(by.iter().map(|n| &n.expr)) {
                names_in(e, out);
            }
            out.push("@timestamp".to_owned());
        }
        Command::Sort(keys) => keys.iter().for_each(|k| names_in(&k.expr, out)),
        Command::Dedup(names) => out.extend(names.iter().cloned()),
        Command::Limit(_) => {}
    }
}

/// Columns of result rows while compiling the row stage.
struct RowScope {
    columns: Vec<String>,
    visible: Vec<usize>,
}

impl RowScope {
    fn col(&self, name: &str) -> FieldRef {
        self.columns.iter().rposition(|c| c == name).map_or(FieldRef::Missing, FieldRef::Col)
    }

    fn expr(&self, e: &Expr) -> CExpr {
        compile_expr(e, &mut |n: &str| self.col(n))
    }

    fn add(&mut self, name: &str) -> usize {
        if let Some(i) = self.columns.iter().position(|c| c == name) {
            return i;
        }
        self.columns.push(name.to_owned());
        self.columns.len() - 1
    }

    fn show(&mut self, idx: usize) {
        if !self.visible.contains(&idx) {
            self.visible.push(idx);
        }
    }
}

fn stats_plan(aggs: &[AggCall], items: &[Named], by: &[Named], scope: &mut dyn Scope) -> (StatsPlan, Vec<String>) {
    let keys = by
        .iter()
        .map(|n| {
            let c = compile_expr(&n.expr, scope);
            scope.share(c)
        })
        .collect();
    let caggs = compile_aggs(aggs, scope);
    let citems = items.iter().map(|n| compile_expr(&n.expr, &mut no_field)).collect();
    let names = by.iter().chain(items).map(|n| n.name.clone()).collect();
    (StatsPlan { keys, aggs: caggs, items: citems }, names)
}

pub(crate) fn compile(commands: &[Command]) -> Plan {
    let mut c = Compiler {
        scope: HashMap::new(),
        ext_names: Vec::new(),
        slots: Vec::new(),
        parses: Vec::new(),
        shared: HashMap::new(),
        addr_caches: Vec::new(),
    };
    let mut filters = Vec::new();
    // Columns chosen by `fields`/`display` in the record stage: (name, ref).
    let mut shown: Vec<(String, FieldRef)> = Vec::new();
    let mut displayed: Option<Vec<(String, FieldRef)>> = None;
    let mut parsed_names: Vec<String> = Vec::new();
    let mut split = commands.len();
    for (i, cmd) in commands.iter().enumerate() {
        match cmd {
            Command::Filter(e) => filters.push(c.expr(e)),
            Command::Fields(list) => {
                for n in list {
                    let r = c.define(n);
                    shown.retain(|(name, _)| *name != n.name);
                    shown.push((n.name.clone(), r));
                }
            }
            Command::Display(list) => {
                displayed = Some(list.iter().map(|n| (n.name.clone(), c.define(n))).collect());
            }
            Command::Parse { source, pattern, names } => {
                let source = c.expr(source);
                let parse = c.parses.len();
                let mut slots = Vec::new();
                for name in names {
                    c.slots.push(SlotDef::Parse { parse });
                    let slot = c.slots.len() - 1;
                    slots.push(slot);
                    c.scope.insert(name.clone(), FieldRef::Slot(slot));
                    if !parsed_names.contains(name) {
                        parsed_names.push(name.clone());
                    }
                }
                c.parses.push(ParseDef { source, pattern: pattern.clone(), slots });
            }
            Command::Stats { .. } | Command::Sort(_) | Command::Limit(_) | Command::Dedup(_) => {
                split = i;
                break;
            }
        }
    }
    let tail_cmds = &commands[split..];
    let mut rows = RowScope { columns: Vec::new(), visible: Vec::new() };
    let mut timestamp_col = None;
    let mut tail_start = 0;
    let mode = if let Some(Command::Stats { aggs, items, by }) = tail_cmds.first() {
        let (plan, names) = stats_plan(aggs, items, by, &mut c);
        for name in &names {
            let idx = rows.add(name);
            rows.show(idx);
        }
        tail_start = 1;
        Mode::Stats(plan)
    } else {
        // Records become rows: the shown columns, then whatever the tail reads.
        let base: Vec<(String, FieldRef)> = if let Some(d) = displayed.take() {
            d
        } else if !shown.is_empty() {
            shown.clone()
        } else {
            let mut d: Vec<(String, FieldRef)> =
                SYSTEM_FIELDS.iter().map(|n| ((*n).to_owned(), c.resolve(n))).collect();
            for n in &parsed_names {
                d.push((n.clone(), c.resolve(n)));
            }
            d
        };
        let mut columns = Vec::new();
        for (name, r) in &base {
            let idx = rows.add(name);
            rows.show(idx);
            if idx == columns.len() {
                columns.push(CExpr::Field(*r));
            }
        }
        let mut wanted = vec!["@timestamp".to_owned()];
        for cmd in tail_cmds {
            command_names(cmd, &mut wanted);
        }
        for name in wanted {
            if !rows.columns.contains(&name) {
                rows.add(&name);
                columns.push(CExpr::Field(c.resolve(&name)));
            }
        }
        timestamp_col = rows.columns.iter().position(|n| n == "@timestamp");
        Mode::Records { columns, truncate: None }
    };
    let mut tail = Vec::new();
    for cmd in &tail_cmds[tail_start..] {
        tail.push(match cmd {
            Command::Filter(e) => RowCmd::Filter(rows.expr(e)),
            Command::Fields(list) => {
                let mut out = Vec::new();
                for n in list {
                    let e = rows.expr(&n.expr);
                    let idx = rows.add(&n.name);
                    rows.show(idx);
                    out.push((idx, e));
                }
                RowCmd::Fields(out)
            }
            Command::Display(list) => {
                let mut out = Vec::new();
                let mut visible = Vec::new();
                for n in list {
                    let e = rows.expr(&n.expr);
                    let idx = rows.add(&n.name);
                    visible.push(idx);
                    out.push((idx, e));
                }
                rows.visible = visible;
                RowCmd::Fields(out)
            }
            Command::Sort(keys) => RowCmd::Sort(
                keys.iter()
                    .map(|SortKey { expr, text, descending }| {
                        let e = match rows.col(text) {
                            FieldRef::Col(i) => CExpr::Field(FieldRef::Col(i)),
                            _ => rows.expr(expr),
                        };
                        (e, *descending)
                    })
                    .collect(),
            ),
            Command::Limit(n) => RowCmd::Limit(*n),
            Command::Dedup(names) => {
                RowCmd::Dedup(names.iter().filter_map(|n| rows.columns.iter().rposition(|c| c == n)).collect())
            }
            Command::Stats { aggs, items, by } => {
                let (plan, names) = stats_plan(aggs, items, by, &mut |n: &str| rows.col(n));
                rows = RowScope { columns: Vec::new(), visible: Vec::new() };
                for name in &names {
                    let idx = rows.add(name);
                    rows.show(idx);
                }
                timestamp_col = None;
                RowCmd::Stats(Box::new(plan))
            }
            Command::Parse { .. } => unreachable!("rejected by the parser"),
        });
    }
    let mut mode = mode;
    if let Mode::Records { truncate, .. } = &mut mode {
        *truncate = truncation(&tail, timestamp_col);
    }
    Plan {
        ext_names: c.ext_names,
        slots: c.slots,
        addr_caches: c.addr_caches.len(),
        parses: c.parses,
        filters,
        mode,
        tail,
        columns: rows.columns,
        visible: rows.visible,
        timestamp_col,
    }
}

/// Record rows can be cut to the first `k` while reading when the tail is at most one leading
/// `sort` on plain columns followed by `limit`/`fields`; `k` is then the smallest limit.
fn truncation(tail: &[RowCmd], timestamp_col: Option<usize>) -> Option<(Vec<(usize, bool)>, usize)> {
    let (keys, rest) = match tail.first() {
        Some(RowCmd::Sort(keys)) => {
            let cols = keys
                .iter()
                .map(|(e, desc)| if let CExpr::Field(FieldRef::Col(i)) = e { Some((*i, *desc)) } else { None })
                .collect::<Option<Vec<_>>>()?;
            (cols, &tail[1..])
        }
        _ => (vec![(timestamp_col?, true)], tail),
    };
    let mut k = usize::MAX;
    for cmd in rest {
        match cmd {
            RowCmd::Limit(n) => k = k.min(*n),
            RowCmd::Fields(_) => {}
            _ => return None,
        }
    }
    Some((keys, k))
}
