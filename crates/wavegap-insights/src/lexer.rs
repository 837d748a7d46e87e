//! Tokens of the query language, with the line and column each one starts at.

use crate::QueryError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare name (`srcAddr`, `@message`, `stats`, `and`); keywords are names too.
    Ident(String),
    /// A backtick-quoted name (`` `detail-type` ``): never a keyword.
    Quoted(String),
    Str(String),
    Regex(String),
    Num(f64),
    /// A time span (`5m`, `1h`) in milliseconds.
    Span(i64),
    Pipe,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub line: usize,
    pub column: usize,
    /// Byte offsets of the token in the query text.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'q>(&self, query: &'q str) -> &'q str {
        &query[self.start..self.end]
    }
}

/// Whether a `/` after this token starts a regex (an operand is expected) or divides.
fn operand_expected(prev: Option<&Tok>) -> bool {
    match prev {
        Some(Tok::Ident(name)) => {
            matches!(name.to_ascii_lowercase().as_str(), "like" | "filter" | "and" | "or" | "not" | "parse" | "in")
                || name == "@message"
        }
        Some(
            Tok::Quoted(_) | Tok::Str(_) | Tok::Regex(_) | Tok::Num(_) | Tok::Span(_) | Tok::RParen | Tok::RBracket,
        ) => false,
        None | Some(_) => true,
    }
}

#[allow(clippy::many_single_char_names)]
pub(crate) fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let bytes = text.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut line_start = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            i += 1;
            line += 1;
            line_start = i;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let column = text[line_start..i].chars().count() + 1;
        let token_line = line;
        let err =
            |end: usize, message: &str| QueryError::new(token_line, column, &text[start..end.min(text.len())], message);
        let two = |s: &str| text[i..].starts_with(s);
        let (tok, len) = match c {
            b'|' => (Tok::Pipe, 1),
            b',' => (Tok::Comma, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b'=' if two("=~") => (Tok::Match, 2),
            b'=' if two("==") => (Tok::Eq, 2),
            b'=' => (Tok::Eq, 1),
            b'!' if two("!=") => (Tok::Ne, 2),
            b'<' if two("<=") => (Tok::Le, 2),
            b'<' if two("<>") => (Tok::Ne, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(">=") => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' => (Tok::Star, 1),
            b'%' => (Tok::Percent, 1),
            b'^' => (Tok::Caret, 1),
            b'/' if operand_expected(tokens.last().map(|t| &t.tok)) => {
                let mut j = i + 1;
                let mut pattern = String::new();
                loop {
                    match bytes.get(j) {
                        None | Some(b'\n') => return Err(err(j, "unterminated regular expression")),
                        Some(b'\\') if bytes.get(j + 1) == Some(&b'/') => {
                            pattern.push('/');
                            j += 2;
                        }
                        Some(b'/') => break,
                        Some(_) => {
                            let ch = text[j..].chars().next().unwrap_or('\0');
                            pattern.push(ch);
                            j += ch.len_utf8();
                        }
                    }
                }
                (Tok::Regex(pattern), j + 1 - i)
            }
            b'/' => (Tok::Slash, 1),
            b'"' | b'\'' => {
                let quote = c;
                let mut j = i + 1;
                let mut s = String::new();
                loop {
                    match bytes.get(j) {
                        None => return Err(err(j, "unterminated string")),
                        Some(&b) if b == quote => break,
                        Some(b'\\') => {
                            let next = text[j + 1..].chars().next();
                            match next {
                                Some('n') => s.push('\n'),
                                Some('t') => s.push('\t'),
                                Some(ch @ ('\\' | '"' | '\'')) => s.push(ch),
                                // Unknown escapes stay as written: `"\."` in a pattern means `\.`.
                                Some(ch) => {
                                    s.push('\\');
                                    s.push(ch);
                                }
                                None => return Err(err(j + 1, "unterminated string")),
                            }
                            j += 1 + next.map_or(0, char::len_utf8);
                        }
                        Some(_) => {
                            let ch = text[j..].chars().next().unwrap_or('\0');
                            if ch == '\n' {
                                line += 1;
                                line_start = j + 1;
                            }
                            s.push(ch);
                            j += ch.len_utf8();
                        }
                    }
                }
                (Tok::Str(s), j + 1 - i)
            }
            b'`' => {
                let Some(end) = text[i + 1..].find('`') else {
                    return Err(err(text.len(), "unterminated backtick field name"));
                };
                (Tok::Quoted(text[i + 1..i + 1 + end].to_owned()), end + 2)
            }
            b'0'..=b'9' | b'.' if c != b'.' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
                    j += 1;
                }
                if j < bytes.len()
                    && matches!(bytes[j], b'e' | b'E')
                    && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
                {
                    j += 1;
                    while j < bytes.len() && bytes[j].is_ascii_digit() {
                        j += 1;
                    }
                }
                let number: f64 = text[i..j].parse().map_err(|_| err(j, "invalid number"))?;
                let mut k = j;
                while k < bytes.len() && bytes[k].is_ascii_alphabetic() {
                    k += 1;
                }
                if k > j {
                    let Some(unit) = span_unit_ms(&text[j..k]) else {
                        return Err(err(k, "invalid number or time unit (use ms, s, m, h, d, w, mo, q, y)"));
                    };
                    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
                    let ms = (number * unit as f64).round() as i64;
                    (Tok::Span(ms), k - i)
                } else {
                    (Tok::Num(number), j - i)
                }
            }
            c if c == b'@' || c == b'_' || c == b'$' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let mut j = i + 1;
                while j < bytes.len() {
                    let b = bytes[j];
                    if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'@' || b == b'$' || b >= 0x80 {
                        j += 1;
                    } else {
                        break;
                    }
                }
                (Tok::Ident(text[i..j].to_owned()), j - i)
            }
            _ => return Err(err(i + text[i..].chars().next().map_or(1, char::len_utf8), "unexpected character")),
        };
        tokens.push(Token { tok, line: token_line, column, start, end: i + len });
        i += len;
    }
    let column = text[line_start..].chars().count() + 1;
    tokens.push(Token { tok: Tok::Eof, line, column, start: text.len(), end: text.len() });
    Ok(tokens)
}

/// Milliseconds in one unit of a time span literal (`bin(5m)`).
fn span_unit_ms(unit: &str) -> Option<i64> {
    Some(match unit {
        "ms" => 1,
        "s" | "sec" | "second" | "seconds" => 1_000,
        "m" | "min" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 7 * 86_400_000,
        "mo" | "month" | "months" => 30 * 86_400_000,
        "q" | "quarter" | "quarters" => 91 * 86_400_000,
        "y" | "year" | "years" => 365 * 86_400_000,
        _ => return None,
    })
}
