//! The record stage of a plan bound to one flow-log format: a field the format does not have
//! is a missing constant, `coalesce` skips such constants, and a computed slot that comes out
//! as a plain field or a constant is read as that directly. Files of one local source differ
//! in format (`coalesce(pktSrcAddr, srcAddr)` is `srcAddr` in a version 2 file), so this runs
//! once per format an executor meets, never per record.
//!
//! Every rewrite gives the value the unbound expression gives on every record of the format:
//! a field the format lacks is missing on all of them, and `coalesce` returns its first
//! argument that is not missing.

use crate::ast::Func;
use crate::eval::Resolved;
use crate::plan::{CAgg, CExpr, FieldRef, Mode, ParseDef, Plan, SlotDef, StatsPlan};
use crate::value::Val;

/// What the record stage runs for one format.
#[derive(Debug, Clone)]
pub(crate) struct Stage {
    pub slots: Vec<SlotDef>,
    pub parses: Vec<ParseDef>,
    pub filters: Vec<CExpr>,
    /// The plan's mode with its per-record expressions bound (stats keys and aggregate
    /// arguments, or the record columns).
    pub mode: Mode,
}

struct Binder<'a> {
    ext: &'a [Resolved],
    /// What each slot reads as, when it came out as a field or a constant.
    alias: Vec<Option<CExpr>>,
}

pub(crate) fn bind_stage(plan: &Plan, ext: &[Resolved]) -> Stage {
    let mut b = Binder { ext, alias: Vec::with_capacity(plan.slots.len()) };
    // A slot reads only slots before it (a definition is compiled before its slot is made).
    let mut slots = Vec::with_capacity(plan.slots.len());
    for def in &plan.slots {
        let (def, alias) = match def {
            SlotDef::Expr(e) => {
                let e = b.expr(e);
                let alias = matches!(e, CExpr::Field(_) | CExpr::Lit(_)).then(|| e.clone());
                (SlotDef::Expr(e), alias)
            }
            SlotDef::Parse { parse } => (SlotDef::Parse { parse: *parse }, None),
        };
        slots.push(def);
        b.alias.push(alias);
    }
    let parses = plan
        .parses
        .iter()
        .map(|p| ParseDef { source: b.expr(&p.source), pattern: p.pattern.clone(), slots: p.slots.clone() })
        .collect();
    let filters = plan.filters.iter().map(|f| b.expr(f)).collect();
    let mode = match &plan.mode {
        Mode::Stats(s) => Mode::Stats(StatsPlan {
            keys: s.keys.iter().map(|k| b.expr(k)).collect(),
            aggs: s
                .aggs
                .iter()
                .map(|a| CAgg { func: a.func, arg: a.arg.as_ref().map(|e| b.expr(e)), pct: a.pct })
                .collect(),
            items: s.items.clone(),
        }),
        Mode::Records { columns, truncate } => {
            Mode::Records { columns: columns.iter().map(|c| b.expr(c)).collect(), truncate: truncate.clone() }
        }
    };
    Stage { slots, parses, filters, mode }
}

impl Binder<'_> {
    /// The field `r` as read in this format, when that is simpler than reading `r`.
    fn field(&self, r: FieldRef) -> Option<CExpr> {
        match r {
            FieldRef::Ext(i) if self.ext[i] == Resolved::Missing => Some(CExpr::Lit(Val::Missing)),
            FieldRef::Slot(s) => self.alias[s].clone(),
            _ => None,
        }
    }

    fn expr(&self, e: &CExpr) -> CExpr {
        let rec = |e: &CExpr| Box::new(self.expr(e));
        match e {
            CExpr::Field(r) => self.field(*r).unwrap_or_else(|| e.clone()),
            CExpr::Lit(_) | CExpr::Agg(_) => e.clone(),
            CExpr::StrEq(r, lit, ne) => match self.field(*r) {
                Some(CExpr::Field(f)) => CExpr::StrEq(f, lit.clone(), *ne),
                // A missing value equals nothing and differs from nothing.
                Some(CExpr::Lit(Val::Missing)) => CExpr::Lit(Val::bool(false)),
                _ => e.clone(),
            },
            CExpr::Bin(op, a, b) => CExpr::Bin(*op, rec(a), rec(b)),
            CExpr::Not(a) => CExpr::Not(rec(a)),
            CExpr::Neg(a) => CExpr::Neg(rec(a)),
            CExpr::In(x, items, neg) => CExpr::In(rec(x), items.iter().map(|i| self.expr(i)).collect(), *neg),
            CExpr::InSet(x, set, neg) => CExpr::InSet(rec(x), set.clone(), *neg),
            CExpr::LikeStr(x, finder, neg) => CExpr::LikeStr(rec(x), finder.clone(), *neg),
            CExpr::LikeRe(x, re, neg) => CExpr::LikeRe(rec(x), re.clone(), *neg),
            CExpr::InSubnet(x, net, kind, cache) => CExpr::InSubnet(rec(x), *net, *kind, *cache),
            CExpr::Call(Func::Coalesce, args) => {
                let mut args: Vec<CExpr> = args.iter().map(|a| self.expr(a)).collect();
                args.retain(|a| !matches!(a, CExpr::Lit(Val::Missing)));
                // A constant that is present ends the list: nothing after it is ever read.
                if let Some(i) = args.iter().position(|a| matches!(a, CExpr::Lit(_))) {
                    args.truncate(i + 1);
                }
                match args.len() {
                    0 => CExpr::Lit(Val::Missing),
                    1 => args.pop().expect("one argument"),
                    _ => CExpr::Call(Func::Coalesce, args),
                }
            }
            CExpr::Call(f, args) => CExpr::Call(*f, args.iter().map(|a| self.expr(a)).collect()),
        }
    }
}
