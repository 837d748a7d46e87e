//! Text bound for a terminal. Names come from snapshots and flow logs, and a security group
//! named with escape sequences must not recolour, clear or retitle the reader's terminal: every
//! control character but the line break and the tab is shown as its escape (`\u{1b}`).

use std::borrow::Cow;

/// `text` with its control characters (other than `\n` and `\t`) escaped.
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(printable("sg-1 (web)\n\tok"), "sg-1 (web)\n\tok");
        assert_eq!(printable("evil\x1b[31mRED\x1b[0m\x07\r"), "evil\\u{1b}[31mRED\\u{1b}[0m\\u{7}\\r");
        assert_eq!(printable("\u{9b}2J"), "\\u{9b}2J", "the one-byte CSI of C1 too");
    }
}
