//! Parsing with located errors: serde's errors turned into a key, a span and a hint.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) struct Doc<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
    /// Where each line starts, found once: a wave of 10,000 servers asks for thousands of lines.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl<'a> Doc<'a> {
    pub(super) fn new(path: &'a Path, text: &'a str) -> Self {
        Doc { path, text, line_starts: std::sync::OnceLock::new() }
    }

    pub(super) fn error(
        &self,
        kind: K,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> WaveError {
        WaveError::new(kind, self.path, self.text, span, key, message)
    }

    /// The 1-based line a span starts on, for "first defined on line N" hints.
    pub(super) fn line(&self, span: &Range<usize>) -> usize {
        let starts = self
            .line_starts
            .get_or_init(|| std::iter::once(0).chain(self.text.match_indices('\n').map(|(i, _)| i + 1)).collect());
        starts.partition_point(|&start| start <= span.start)
    }
}

pub(super) fn parse<T: DeserializeOwned>(doc: &Doc<'_>) -> Result<T, WaveError> {
    let deserializer = toml::Deserializer::parse(doc.text).map_err(|e| {
        let key = e.span().map(|span| key_at(doc.text, span.start)).unwrap_or_default();
        doc.error(K::Syntax, e.span(), key, format!("invalid TOML: {}", e.message().trim_end()))
            .hint("see the wave file reference in README.md")
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| serde_error(doc, &e))
}

/// The dotted key on the line holding byte `offset`, as far as a line-by-line reading of a
/// broken file can tell: the last `[table]` header above it and the bare key on the line.
pub(super) fn key_at(text: &str, offset: usize) -> String {
    let line_start = text.get(..offset).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or_default();
    if let Some(header) = header_of(line) {
        return header.to_owned();
    }
    let table = text[..line_start].lines().rev().find_map(header_of).unwrap_or_default();
    let key = line.split_once('=').map(|(k, _)| k.trim()).unwrap_or_default();
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    match (table.is_empty(), bare) {
        (_, false) => table.to_owned(),
        (true, true) => key.to_owned(),
        (false, true) => format!("{table}.{key}"),
    }
}

pub(super) fn header_of(line: &str) -> Option<&str> {
    let inner = line.trim().strip_prefix('[')?.trim_start_matches('[');
    Some(inner.split(']').next().unwrap_or(inner).trim())
}

/// Turns serde's messages ("unknown field `regoin`, expected one of …") into wave errors
/// that say "key", name the dotted key, and suggest the closest valid key.
pub(super) fn serde_error(doc: &Doc<'_>, e: &serde_path_to_error::Error<toml::de::Error>) -> WaveError {
    let inner = e.inner();
    let message = inner.message().trim_end();
    let mut key = String::new();
    for segment in e.path() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                let _ = write!(key, "[{index}]");
            }
            serde_path_to_error::Segment::Map { key: k } | serde_path_to_error::Segment::Enum { variant: k } => {
                // Spanned<T> travels through serde as a map with private keys: not the user's.
                if k.starts_with("$__") {
                    continue;
                }
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
            }
            serde_path_to_error::Segment::Unknown => key.push_str(".?"),
        }
    }
    let ticked: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let join = |key: &str, name: &str| if key.is_empty() { name.to_owned() } else { format!("{key}.{name}") };
    if let Some(name) = message.strip_prefix("unknown field ").and(ticked.first()) {
        let valid = &ticked[1..];
        let full = if key.ends_with(name) { key.clone() } else { join(&key, name) };
        let mut err = doc.error(K::UnknownKey, inner.span(), full, format!("unknown key `{name}`"));
        if !valid.is_empty() {
            err = err
                .expected(format!("one of {}", valid.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")));
        }
        return match closest(name, valid) {
            Some(best) => err.hint(format!("did you mean `{best}`?")),
            None => err.hint("remove it, or see the wave file reference in README.md"),
        };
    }
    if let Some(name) = message.strip_prefix("missing field ").and(ticked.first()) {
        return doc
            .error(K::Missing, inner.span(), join(&key, name), format!("missing key `{name}`"))
            .hint(format!("add `{name} = …` to this table"));
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let err = doc.error(K::WrongType, inner.span(), key, format!("wrong type: found {found}"));
        return if expected.is_empty() { err } else { err.expected(expected.to_owned()) };
    }
    doc.error(K::Invalid, inner.span(), key, message.to_owned())
}

/// The valid key closest to a misspelt one, if it is close enough to be the intended one.
pub(super) fn closest<'a>(name: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (edit_distance(name, v), *v))
        .filter(|(d, v)| *d <= 2.max(v.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
