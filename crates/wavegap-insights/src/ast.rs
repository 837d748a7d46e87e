//! The parsed query: commands and expressions, before field names are bound to a format.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    IsIpv4InSubnet,
    IsIpv6InSubnet,
    IsIpInSubnet,
    IsValidIp,
    IsValidIpV4,
    IsValidIpV6,
    Least,
    Greatest,
    Abs,
    Floor,
    Ceil,
    Sqrt,
    Pow,
    Strlen,
    Concat,
    ToLower,
    ToUpper,
    Trim,
    Ltrim,
    Rtrim,
    Substr,
    Replace,
    StrContains,
    IsPresent,
    IsEmpty,
    IsBlank,
    Coalesce,
    Bin,
    DateFloor,
    DateCeil,
    FromMillis,
    ToMillis,
}

impl Func {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "isipv4insubnet" => Func::IsIpv4InSubnet,
            "isipv6insubnet" => Func::IsIpv6InSubnet,
            "isipinsubnet" => Func::IsIpInSubnet,
            "isvalidip" => Func::IsValidIp,
            "isvalidipv4" => Func::IsValidIpV4,
            "isvalidipv6" => Func::IsValidIpV6,
            "least" => Func::Least,
            "greatest" => Func::Greatest,
            "abs" => Func::Abs,
            "floor" => Func::Floor,
            "ceil" => Func::Ceil,
            "sqrt" => Func::Sqrt,
            "pow" => Func::Pow,
            "strlen" => Func::Strlen,
            "concat" => Func::Concat,
            "tolower" => Func::ToLower,
            "toupper" => Func::ToUpper,
            "trim" => Func::Trim,
            "ltrim" => Func::Ltrim,
            "rtrim" => Func::Rtrim,
            "substr" => Func::Substr,
            "replace" => Func::Replace,
            "strcontains" => Func::StrContains,
            "ispresent" => Func::IsPresent,
            "isempty" => Func::IsEmpty,
            "isblank" => Func::IsBlank,
            "coalesce" => Func::Coalesce,
            "bin" => Func::Bin,
            "datefloor" => Func::DateFloor,
            "dateceil" => Func::DateCeil,
            "frommillis" => Func::FromMillis,
            "tomillis" => Func::ToMillis,
            _ => return None,
        })
    }

    /// Allowed argument counts (min, max).
    pub fn arity(self) -> (usize, usize) {
        match self {
            Func::IsIpv4InSubnet
            | Func::IsIpv6InSubnet
            | Func::IsIpInSubnet
            | Func::Pow
            | Func::StrContains
            | Func::DateFloor
            | Func::DateCeil => (2, 2),
            Func::Substr => (2, 3),
            Func::Replace => (3, 3),
            Func::Least | Func::Greatest | Func::Concat | Func::Coalesce => (1, usize::MAX),
            Func::Trim | Func::Ltrim | Func::Rtrim => (1, 2),
            _ => (1, 1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggFunc {
    Count,
    CountStar,
    CountDistinct,
    Sum,
    Min,
    Max,
    Avg,
    Pct,
    Stddev,
    Earliest,
    Latest,
}

impl AggFunc {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => AggFunc::Count,
            "count_distinct" => AggFunc::CountDistinct,
            "sum" => AggFunc::Sum,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "avg" => AggFunc::Avg,
            "pct" | "percentile" => AggFunc::Pct,
            "stddev" => AggFunc::Stddev,
            "earliest" => AggFunc::Earliest,
            "latest" => AggFunc::Latest,
            _ => return None,
        })
    }
}

/// A field reference: a name, resolved later against parsed fields, aliases and the format.
pub(crate) type Name = String;

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Field(Name),
    Str(String),
    Num(f64),
    Span(i64),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// `x in [a, b]` (negated for `not in`).
    In(Box<Expr>, Vec<Expr>, bool),
    /// `x like "substr"` (negated for `not like`).
    LikeStr(Box<Expr>, String, bool),
    /// `x like /re/`, `x =~ /re/` (negated for `not like`).
    LikeRe(Box<Expr>, regex::Regex, bool),
    Call(Func, Vec<Expr>),
    /// An aggregate inside `stats`; the index into the stats aggregate list.
    Agg(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct AggCall {
    pub func: AggFunc,
    pub args: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub name: Name,
    pub expr: Expr,
}

#[derive(Debug, Clone)]
pub(crate) struct SortKey {
    pub expr: Expr,
    /// The key as written, which may name a result column (`sort bin(1h)`).
    pub text: String,
    pub descending: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum ParsePattern {
    /// `*` wildcards between literal parts; `parts.len() == names.len() + 1`.
    Glob { parts: Vec<String> },
    /// Named capture groups give the field names.
    Regex(regex::Regex),
}

#[derive(Debug, Clone)]
pub(crate) enum Command {
    Fields(Vec<Named>),
    Display(Vec<Named>),
    Filter(Expr),
    Parse { source: Expr, pattern: ParsePattern, names: Vec<Name> },
    Stats { aggs: Vec<AggCall>, items: Vec<Named>, by: Vec<Named> },
    Sort(Vec<SortKey>),
    Limit(usize),
    Dedup(Vec<Name>),
}
