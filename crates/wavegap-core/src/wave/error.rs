//! Wave file errors: where (file, line, column, key), what was wrong, what would be accepted,
//! and what to do next, with a source excerpt for the terminal.

use std::fmt::{self, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What kind of mistake a wave file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaveErrorKind {
    /// Not TOML at all (unclosed string, missing `=`, key defined twice).
    Syntax,
    /// A key the wave file format does not have (often a typo).
    UnknownKey,
    /// A required key is absent.
    Missing,
    /// A value of the wrong TOML type (a number where a string belongs).
    WrongType,
    /// A value of the right type that is not acceptable (bad IP, port out of range).
    Invalid,
    /// Two servers, apps or log groups with the same name or address.
    Duplicate,
    /// Keys that cannot be used together (two sources, `last` with `start`).
    Conflict,
}

/// A problem in a wave file (or in `waves/defaults.toml`), located to the character.
///
/// Boxed so that `Result<WaveConfig, WaveError>` stays small; the fields are reached through
/// [`Deref`](std::ops::Deref): `err.line`, `err.key`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}:{}: {}{}", .0.path.display(), .0.line, .0.column, KeyPrefix(&.0.key), .0.message)]
pub struct WaveError(Box<WaveErrorDetails>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveErrorDetails {
    pub kind: WaveErrorKind,
    /// The file that holds the mistake: the wave file or the defaults file.
    pub path: PathBuf,
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The dotted key, such as `apps[0].servers[1].ip` (indexes from 0); empty for the file.
    pub key: String,
    pub message: String,
    /// What would have been accepted, shown under the excerpt.
    pub expected: Option<String>,
    /// What to do next.
    pub hint: Option<String>,
    excerpt: Option<Excerpt>,
    /// Mistakes in other parts of the same file, found in the same pass.
    more: Vec<WaveError>,
}

impl std::ops::Deref for WaveError {
    type Target = WaveErrorDetails;
    fn deref(&self) -> &WaveErrorDetails {
        &self.0
    }
}

struct KeyPrefix<'a>(&'a str);

impl fmt::Display for KeyPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { Ok(()) } else { write!(f, "`{}`: ", self.0) }
    }
}

/// The source line an error points into, and the part of it to underline (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Excerpt {
    text: String,
    underline: Range<usize>,
}

impl WaveError {
    /// An error at byte range `span` of `text` (the content of `path`); `None` points at the
    /// start of the file without an excerpt (used when a required top-level key is missing).
    pub(crate) fn new(
        kind: WaveErrorKind,
        path: &Path,
        text: &str,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column, excerpt) = match span {
            Some(span) => locate(text, span),
            None => (1, 1, None),
        };
        WaveError(Box::new(WaveErrorDetails {
            kind,
            path: path.to_path_buf(),
            line,
            column,
            key: key.into(),
            message: message.into(),
            expected: None,
            hint: None,
            excerpt,
            more: Vec::new(),
        }))
    }

    /// The first of `errors` (by file, line and column) carrying the others in that order, or
    /// `None` when there are none.
    pub(crate) fn gather(mut errors: Vec<WaveError>) -> Option<WaveError> {
        errors.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        let mut errors = errors.into_iter();
        let mut first = errors.next()?;
        first.0.more.extend(errors);
        Some(first)
    }

    /// The other mistakes found in the same file (each in a different part of it).
    pub fn more(&self) -> &[WaveError] {
        &self.more
    }

    #[must_use]
    pub(crate) fn expected(mut self, expected: impl Into<String>) -> Self {
        self.0.expected = Some(expected.into());
        self
    }

    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }

    /// `path:line:column`, the way editors and terminals link to a position.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.path.display(), self.line, self.column)
    }

    /// The error as a terminal block, in the style of rustc:
    ///
    /// ```text
    /// error: invalid IP address "10.0.0.300"
    ///   --> waves/wave-3.toml:14:6 (apps[0].servers[1].ip)
    ///    |
    /// 14 | ip = "10.0.0.300"
    ///    |      ^^^^^^^^^^^^ expected an IPv4 or IPv6 address, such as "10.0.0.7"
    ///    |
    ///    = hint: …
    /// ```
    ///
    /// `color` adds ANSI colours (the caller decides, from `--color` and `NO_COLOR`). The
    /// [`more`](WaveError::more) mistakes follow, each as a block of its own.
    pub fn render(&self, color: bool) -> String {
        let mut out = self.render_one(color);
        for more in &self.more {
            out.push_str(&more.render_one(color));
        }
        out
    }

    fn render_one(&self, color: bool) -> String {
        let paint = |code: &str, s: &str| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_owned() };
        let red = |s: &str| paint("1;31", s);
        let blue = |s: &str| paint("1;34", s);
        let bold = |s: &str| paint("1", s);

        let gutter_width = self.line.to_string().len();
        let pad = " ".repeat(gutter_width);
        let bar = blue("|");
        let mut out = String::new();
        let _ = writeln!(out, "{}{}", red("error"), bold(&format!(": {}", self.message)));
        let key = if self.key.is_empty() { String::new() } else { format!(" ({})", self.key) };
        let _ = writeln!(out, "{pad}{} {}{key}", blue("-->"), self.location());
        if let Some(excerpt) = &self.excerpt {
            let _ = writeln!(out, "{pad} {bar}");
            let _ = writeln!(out, "{} {bar} {}", blue(&self.line.to_string()), excerpt.text);
            let carets = "^".repeat(excerpt.underline.len().max(1));
            let label = self.expected.as_deref().map(|e| format!(" expected {e}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{pad} {bar} {}{}",
                " ".repeat(excerpt.underline.start),
                red(&format!("{carets}{label}"))
            );
        } else if let Some(expected) = &self.expected {
            let _ = writeln!(out, "{pad} {} expected {expected}", blue("="));
        }
        if let Some(hint) = &self.hint {
            if self.excerpt.is_some() {
                let _ = writeln!(out, "{pad} {bar}");
            }
            let _ = writeln!(out, "{pad} {} {}: {hint}", blue("="), bold("hint"));
        }
        out
    }
}

/// 1-based line and column of `span.start`, and the excerpt with the span's part of that line.
fn locate(text: &str, span: Range<usize>) -> (usize, usize, Option<Excerpt>) {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let end = floor_char_boundary(text, span.end.clamp(start, text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_text = text[line_start..line_end].trim_end_matches('\r');
    let line = text[..line_start].matches('\n').count() + 1;
    let col0 = text[line_start..start].chars().count();
    let underline_end = end.min(line_start + line_text.len()).max(start);
    let width = text[start..underline_end].chars().count();
    // Tabs would shift the carets; show them as single spaces in the excerpt.
    let excerpt = Excerpt { text: line_text.replace('\t', " "), underline: col0..col0 + width.max(1) };
    (line, col0 + 1, Some(excerpt))
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, span: Range<usize>, expected: &(usize, usize, &str, Range<usize>)) {
        let (line, column, excerpt) = locate(text, span);
        let excerpt = excerpt.unwrap();
        assert_eq!(&(line, column, excerpt.text.as_str(), excerpt.underline), expected);
    }

    #[test]
    fn locates_spans() {
        check("a = 1\nb = \"x\"\n", 10..13, &(2, 5, "b = \"x\"", 4..7));
        check("a = 1", 0..1, &(1, 1, "a = 1", 0..1));
        // An empty span at the end of the file still gets a caret.
        check("a = [", 5..5, &(1, 6, "a = [", 5..6));
        // Columns count characters, not bytes.
        check("d = \"é\" x\n", 9..10, &(1, 9, "d = \"é\" x", 8..9));
        // A span across lines is underlined to the end of its first line.
        check("a = [\n 1,\n]\n", 4..12, &(1, 5, "a = [", 4..5));
        check("a = 1\r\nb = 2\r\n", 7..8, &(2, 1, "b = 2", 0..1));
    }

    #[test]
    fn renders_plain_block() {
        let text = "[[apps]]\nname = \"crm\"\n[[apps.servers]]\nname = \"web\"\nip = \"10.0.0.300\"\n";
        let start = text.find("\"10.0.0.300\"").unwrap();
        let err = WaveError::new(
            WaveErrorKind::Invalid,
            Path::new("waves/w.toml"),
            text,
            Some(start..start + 12),
            "apps[0].servers[0].ip",
            "invalid IP address \"10.0.0.300\"",
        )
        .expected("an IPv4 or IPv6 address")
        .hint("write the server's private IP");
        assert_eq!(err.to_string(), "waves/w.toml:5:6: `apps[0].servers[0].ip`: invalid IP address \"10.0.0.300\"");
        assert_eq!(
            err.render(false),
            "error: invalid IP address \"10.0.0.300\"\n \
             --> waves/w.toml:5:6 (apps[0].servers[0].ip)\n  \
             |\n\
             5 | ip = \"10.0.0.300\"\n  \
             |      ^^^^^^^^^^^^ expected an IPv4 or IPv6 address\n  \
             |\n  \
             = hint: write the server's private IP\n"
        );
    }
}
