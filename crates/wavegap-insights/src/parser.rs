//! Recursive-descent parser: tokens to [`Command`]s. Anything outside the supported subset is
//! an error at the offending token, never silently ignored.

use crate::QueryError;
use crate::ast::{AggCall, AggFunc, BinOp, Command, Expr, Func, Named, ParsePattern, SortKey};
use crate::lexer::{Tok, Token, lex};

/// Commands Insights has that this engine does not run: named so the error says so.
const UNSUPPORTED_COMMANDS: &[&str] =
    &["pattern", "diff", "anomaly", "unmask", "unnest", "lookup", "join", "filterindex", "source", "head", "tail"];

pub(crate) fn parse(text: &str) -> Result<Vec<Command>, QueryError> {
    let tokens = lex(text)?;
    let mut p = Parser { text, tokens, pos: 0, aggs: None, depth: 0 };
    let mut commands = Vec::new();
    let mut row_stage = false;
    loop {
        if p.at(&Tok::Eof) {
            if commands.is_empty() {
                return Err(p.error("the query is empty: expected a command such as `fields`, `filter` or `stats`"));
            }
            return Err(p.error("expected a command after `|`"));
        }
        if row_stage && p.at_kw("parse") {
            return Err(p.error("`parse` after `stats`, `sort`, `limit` or `dedup` is not supported by the local query engine; hint: move it before them"));
        }
        let command = p.command()?;
        row_stage |=
            matches!(command, Command::Stats { .. } | Command::Sort(_) | Command::Limit(_) | Command::Dedup(_));
        commands.push(command);
        if p.at(&Tok::Eof) {
            break;
        }
        if !p.at(&Tok::Pipe) {
            return Err(p.error("expected `|` or the end of the query"));
        }
        p.pos += 1;
    }
    Ok(commands)
}

struct Parser<'q> {
    text: &'q str,
    tokens: Vec<Token>,
    pos: usize,
    /// The aggregates of the stats item being parsed; `None` outside `stats`.
    aggs: Option<Vec<AggCall>>,
    /// How deep the expression being parsed nests (parentheses, calls, `not`, `-`, `^`).
    depth: usize,
}

/// The deepest an expression may nest. Real queries nest a few levels; the parser, the binder
/// and the evaluator recurse once per level, so a bound keeps a hostile query (thousands of
/// parentheses) a located error instead of a stack overflow.
pub(crate) const MAX_DEPTH: usize = 128;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }

    fn at(&self, tok: &Tok) -> bool {
        self.peek().tok == *tok
    }

    fn error(&self, message: &str) -> QueryError {
        let t = self.peek();
        let token = if t.tok == Tok::Eof { "end of query" } else { t.text(self.text) };
        QueryError::new(t.line, t.column, token, message)
    }

    fn error_at(&self, t: &Token, message: &str) -> QueryError {
        QueryError::new(t.line, t.column, t.text(self.text), message)
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), QueryError> {
        if self.at(tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected {what}")))
        }
    }

    /// Whether the next token is the (case-insensitive) keyword `kw`.
    fn at_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn command(&mut self) -> Result<Command, QueryError> {
        let t = self.peek().clone();
        let Tok::Ident(name) = &t.tok else {
            return Err(self.error("expected a command such as `fields`, `filter`, `stats`, `sort` or `limit`"));
        };
        let lower = name.to_ascii_lowercase();
        self.pos += 1;
        match lower.as_str() {
            "fields" => Ok(Command::Fields(self.named_list()?)),
            "display" => Ok(Command::Display(self.named_list()?)),
            "filter" => Ok(Command::Filter(self.expr()?)),
            "stats" => self.stats(),
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let start = self.pos;
                    let expr = self.expr()?;
                    let text = self.name_of(&expr, start, self.pos);
                    let descending = if self.eat_kw("desc") {
                        true
                    } else {
                        self.eat_kw("asc");
                        false
                    };
                    keys.push(SortKey { expr, text, descending });
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                Ok(Command::Sort(keys))
            }
            "limit" => {
                let t = self.peek().clone();
                match &t.tok {
                    Tok::Num(n) if *n >= 1.0 && n.fract() == 0.0 && *n <= 1e9 => {
                        self.pos += 1;
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        Ok(Command::Limit(*n as usize))
                    }
                    _ => Err(self.error("expected a positive whole number after `limit`")),
                }
            }
            "parse" => self.parse_command(),
            "dedup" => {
                let mut names = Vec::new();
                loop {
                    names.push(self.field_name()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                Ok(Command::Dedup(names))
            }
            other if UNSUPPORTED_COMMANDS.contains(&other) => Err(self.error_at(
                &t,
                &format!("the `{name}` command is not supported by the local query engine; hint: run it in CloudWatch Logs Insights"),
            )),
            _ => Err(self.error_at(&t, "unknown command; expected `fields`, `filter`, `stats`, `sort`, `limit`, `parse`, `display` or `dedup`")),
        }
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.at(tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn field_name(&mut self) -> Result<String, QueryError> {
        match &self.peek().tok {
            Tok::Ident(s) | Tok::Quoted(s) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.error("expected a field name")),
        }
    }

    /// The display name of an expression without `as`: the field name, or its text as written.
    fn name_of(&self, expr: &Expr, start: usize, end: usize) -> String {
        if let Expr::Field(name) = expr {
            return name.clone();
        }
        let a = self.tokens[start].start;
        let b = self.tokens[end - 1].end;
        self.text[a..b].to_owned()
    }

    fn named_list(&mut self) -> Result<Vec<Named>, QueryError> {
        let mut out = Vec::new();
        loop {
            let start = self.pos;
            let expr = self.expr()?;
            let end = self.pos;
            let name = if self.eat_kw("as") { self.field_name()? } else { self.name_of(&expr, start, end) };
            out.push(Named { name, expr });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(out)
    }

    fn stats(&mut self) -> Result<Command, QueryError> {
        let mut aggs: Vec<AggCall> = Vec::new();
        let mut items = Vec::new();
        loop {
            let start = self.pos;
            let expr = self.stats_expr(&mut aggs)?;
            let end = self.pos;
            if !contains_agg(&expr) {
                return Err(self.error_at(
                    &self.tokens[start].clone(),
                    "expected an aggregate function such as `count(*)`, `sum(f)` or `avg(f)`",
                ));
            }
            let name = if self.eat_kw("as") { self.field_name()? } else { self.name_of(&expr, start, end) };
            items.push(Named { name, expr });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        let mut by = Vec::new();
        if self.eat_kw("by") {
            by = self.named_list()?;
            for n in &by {
                if contains_agg(&n.expr) {
                    return Err(self.error("an aggregate function cannot be a `by` key"));
                }
            }
        }
        Ok(Command::Stats { aggs, items, by })
    }

    /// An expression in `stats` where aggregate calls may appear (`sum(bytes) / 1024`).
    fn stats_expr(&mut self, aggs: &mut Vec<AggCall>) -> Result<Expr, QueryError> {
        self.with_aggs(aggs, Self::expr)
    }

    fn with_aggs(
        &mut self,
        aggs: &mut Vec<AggCall>,
        f: impl FnOnce(&mut Self) -> Result<Expr, QueryError>,
    ) -> Result<Expr, QueryError> {
        // Aggregates are collected through a side list while parsing one stats item.
        self.aggs = Some(std::mem::take(aggs));
        let result = f(self);
        *aggs = self.aggs.take().unwrap_or_default();
        result
    }

    fn parse_command(&mut self) -> Result<Command, QueryError> {
        // `parse [field] "glob" as a, b` or `parse [field] /regex with (?<name>…)/`
        let source = match &self.peek().tok {
            Tok::Str(_) | Tok::Regex(_) => Expr::Field("@message".to_owned()),
            _ => self.primary()?,
        };
        let t = self.peek().clone();
        match &t.tok {
            Tok::Str(glob) => {
                self.pos += 1;
                let glob = glob.clone();
                let parts: Vec<String> = glob.split('*').map(str::to_owned).collect();
                if parts.len() < 2 {
                    return Err(self.error_at(&t, "a parse pattern needs at least one `*`"));
                }
                if !self.eat_kw("as") {
                    return Err(self.error("expected `as` and the field names after the parse pattern"));
                }
                let mut names = Vec::new();
                loop {
                    names.push(self.field_name()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                if names.len() != parts.len() - 1 {
                    return Err(self.error_at(
                        &t,
                        &format!(
                            "the parse pattern has {} `*` but {} field names follow `as`",
                            parts.len() - 1,
                            names.len()
                        ),
                    ));
                }
                Ok(Command::Parse { source, pattern: ParsePattern::Glob { parts }, names })
            }
            Tok::Regex(re) => {
                self.pos += 1;
                let regex = regex::Regex::new(re)
                    .map_err(|e| self.error_at(&t, &format!("invalid regular expression: {e}")))?;
                let names: Vec<String> = regex.capture_names().flatten().map(str::to_owned).collect();
                if names.is_empty() {
                    return Err(
                        self.error_at(&t, "a parse regular expression needs named groups such as `(?<port>\\d+)`")
                    );
                }
                if self.at_kw("as") {
                    return Err(self.error("a parse regular expression names its fields with `(?<name>…)`, not `as`"));
                }
                Ok(Command::Parse { source, pattern: ParsePattern::Regex(regex), names })
            }
            _ => Err(self.error("expected a parse pattern: a \"glob * string\" or a /regex/")),
        }
    }

    fn expr(&mut self) -> Result<Expr, QueryError> {
        self.nested(Self::or_expr)
    }

    /// Runs `f` one nesting level deeper, refusing past [`MAX_DEPTH`].
    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Result<Expr, QueryError>) -> Result<Expr, QueryError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(&format!(
                "the expression nests deeper than {MAX_DEPTH} levels (parentheses, calls, `not`, `-`); hint: write it flatter"
            )));
        }
        self.depth += 1;
        let e = f(self);
        self.depth -= 1;
        e
    }

    fn or_expr(&mut self) -> Result<Expr, QueryError> {
        let mut lhs = self.and_expr()?;
        while self.eat_kw("or") {
            let rhs = self.and_expr()?;
            lhs = Expr::Bin(BinOp::Or, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn and_expr(&mut self) -> Result<Expr, QueryError> {
        let mut lhs = self.not_expr()?;
        while self.eat_kw("and") {
            let rhs = self.not_expr()?;
            lhs = Expr::Bin(BinOp::And, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn not_expr(&mut self) -> Result<Expr, QueryError> {
        if self.at_kw("not") && !matches!(self.peek_at(1), Tok::Comma | Tok::RParen | Tok::Pipe | Tok::Eof) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.nested(Self::not_expr)?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, QueryError> {
        let lhs = self.additive()?;
        let negated = if self.at_kw("not")
            && matches!(self.peek_at(1), Tok::Ident(s) if s.eq_ignore_ascii_case("like") || s.eq_ignore_ascii_case("in"))
        {
            self.pos += 1;
            true
        } else {
            false
        };
        let t = self.peek().clone();
        let op = match &t.tok {
            Tok::Eq => BinOp::Eq,
            Tok::Ne => BinOp::Ne,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::Match => {
                self.pos += 1;
                return self.like_rhs(lhs, negated, true);
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("like") => {
                self.pos += 1;
                return self.like_rhs(lhs, negated, false);
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("in") => {
                self.pos += 1;
                self.expect(&Tok::LBracket, "`[` to start the `in` list")?;
                let mut items = Vec::new();
                if !self.at(&Tok::RBracket) {
                    loop {
                        items.push(self.additive()?);
                        if !self.eat(&Tok::Comma) {
                            break;
                        }
                    }
                }
                self.expect(&Tok::RBracket, "`,` or `]` in the `in` list")?;
                return Ok(Expr::In(Box::new(lhs), items, negated));
            }
            _ if negated => return Err(self.error("expected `like` or `in` after `not`")),
            _ => return Ok(lhs),
        };
        self.pos += 1;
        let rhs = self.additive()?;
        Ok(Expr::Bin(op, Box::new(lhs), Box::new(rhs)))
    }

    fn like_rhs(&mut self, lhs: Expr, negated: bool, regex_only: bool) -> Result<Expr, QueryError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Regex(re) => {
                self.pos += 1;
                let regex = regex::Regex::new(re)
                    .map_err(|e| self.error_at(&t, &format!("invalid regular expression: {e}")))?;
                Ok(Expr::LikeRe(Box::new(lhs), regex, negated))
            }
            Tok::Str(s) if !regex_only => {
                self.pos += 1;
                Ok(Expr::LikeStr(Box::new(lhs), s.clone(), negated))
            }
            Tok::Str(s) => {
                self.pos += 1;
                let regex =
                    regex::Regex::new(s).map_err(|e| self.error_at(&t, &format!("invalid regular expression: {e}")))?;
                Ok(Expr::LikeRe(Box::new(lhs), regex, negated))
            }
            _ => Err(self.error("expected a \"string\" or a /regular expression/")),
        }
    }

    fn additive(&mut self) -> Result<Expr, QueryError> {
        let mut lhs = self.multiplicative()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            let rhs = self.multiplicative()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, QueryError> {
        let mut lhs = self.power()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            let rhs = self.power()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn power(&mut self) -> Result<Expr, QueryError> {
        let base = self.unary()?;
        if self.eat(&Tok::Caret) {
            let exp = self.nested(Self::power)?;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.eat(&Tok::Minus) {
            return Ok(match self.nested(Self::unary)? {
                Expr::Num(n) => Expr::Num(-n),
                e => Expr::Neg(Box::new(e)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Expr::Str(s.clone()))
            }
            Tok::Num(n) => {
                self.pos += 1;
                Ok(Expr::Num(*n))
            }
            Tok::Span(ms) => {
                self.pos += 1;
                Ok(Expr::Span(*ms))
            }
            Tok::Quoted(name) => {
                self.pos += 1;
                Ok(Expr::Field(name.clone()))
            }
            Tok::LParen => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::Ident(name) if *self.peek_at(1) == Tok::LParen => {
                self.pos += 2;
                self.call(&t, name)
            }
            Tok::Ident(name) => {
                let lower = name.to_ascii_lowercase();
                if matches!(lower.as_str(), "and" | "or" | "not" | "in" | "like" | "as" | "by" | "asc" | "desc") {
                    return Err(self.error_at(&t, "expected a field, a value or a function, found a keyword"));
                }
                self.pos += 1;
                Ok(Expr::Field(name.clone()))
            }
            Tok::Regex(_) => Err(self.error("a /regular expression/ is only allowed after `like`, `=~` or `parse`")),
            Tok::Eof => Err(self.error("the query ends where a value was expected")),
            _ => Err(self.error("expected a field, a value or a function")),
        }
    }

    fn call(&mut self, name_tok: &Token, name: &str) -> Result<Expr, QueryError> {
        if let Some(func) = AggFunc::from_name(name) {
            if self.aggs.is_none() {
                return Err(self.error_at(name_tok, "aggregate functions are only allowed in `stats`"));
            }
            let (func, args) = if func == AggFunc::Count && self.at(&Tok::Star) && *self.peek_at(1) == Tok::RParen {
                self.pos += 2;
                (AggFunc::CountStar, Vec::new())
            } else if func == AggFunc::Count && self.at(&Tok::RParen) {
                self.pos += 1;
                (AggFunc::CountStar, Vec::new())
            } else {
                // No aggregate inside an aggregate: parse the arguments outside stats mode.
                let saved = self.aggs.take();
                let args = self.args();
                self.aggs = saved;
                (func, args?)
            };
            let want = match func {
                AggFunc::Pct => 2,
                AggFunc::CountStar => 0,
                _ => 1,
            };
            if args.len() != want {
                return Err(self.error_at(name_tok, &format!("`{name}` takes {want} argument(s), got {}", args.len())));
            }
            if func == AggFunc::Pct && !matches!(args[1], Expr::Num(p) if (0.0..=100.0).contains(&p)) {
                return Err(self.error_at(name_tok, "the second argument of `pct` must be a number from 0 to 100"));
            }
            let list = self.aggs.get_or_insert_with(Vec::new);
            list.push(AggCall { func, args });
            let index = list.len() - 1;
            return Ok(Expr::Agg(index));
        }
        let Some(func) = Func::from_name(name) else {
            return Err(self.error_at(name_tok, "unknown or unsupported function"));
        };
        let args = self.args()?;
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return Err(self.error_at(name_tok, &format!("`{name}` does not take {} argument(s)", args.len())));
        }
        if matches!(func, Func::Bin | Func::DateFloor | Func::DateCeil) && !matches!(args.last(), Some(Expr::Span(_))) {
            return Err(self.error_at(name_tok, &format!("`{name}` needs a time span such as `5m` or `1h`")));
        }
        if matches!(func, Func::IsIpv4InSubnet | Func::IsIpv6InSubnet | Func::IsIpInSubnet) {
            match &args[1] {
                Expr::Str(cidr) if cidr.parse::<ipnet::IpNet>().is_ok() => {}
                _ => {
                    return Err(
                        self.error_at(name_tok, "the second argument must be a CIDR string such as \"10.0.0.0/8\"")
                    );
                }
            }
        }
        Ok(Expr::Call(func, args))
    }

    /// Arguments after `(`, through `)`.
    fn args(&mut self) -> Result<Vec<Expr>, QueryError> {
        let mut args = Vec::new();
        if self.eat(&Tok::RParen) {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen, "`,` or `)`")?;
        Ok(args)
    }
}

pub(crate) fn contains_agg(e: &Expr) -> bool {
    match e {
        Expr::Agg(_) => true,
        Expr::Bin(_, a, b) => contains_agg(a) || contains_agg(b),
        Expr::Not(a) | Expr::Neg(a) | Expr::LikeStr(a, ..) | Expr::LikeRe(a, ..) => contains_agg(a),
        Expr::In(a, items, _) => contains_agg(a) || items.iter().any(contains_agg),
        Expr::Call(_, args) => args.iter().any(contains_agg),
        Expr::Field(_) | Expr::Str(_) | Expr::Num(_) | Expr::Span(_) => false,
    }
}
