//! The one sanitizer for text that leaves for a terminal: whatever a server, a
//! container or a label wrote loses its control characters and escape sequences
//! (CSI, OSC, DCS and the other string sequences, 7-bit and C1 forms) and the
//! bidi overrides that reorder what is shown, so only the doctor's own colour
//! codes ever reach a TTY. Line feeds and tabs stay.

use std::borrow::Cow;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
/// C1 String Terminator.
const ST: char = '\u{9c}';

/// `text` as it may be shown on a terminal; borrowed when it had nothing to strip.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_stripped) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if is_stripped(c) => {}
            c => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

/// Control characters but line feed and tab, and the bidi embeddings,
/// overrides and isolates (which make a terminal show text in another order).
fn is_stripped(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC: the rest of its sequence, whatever its kind.
fn skip_escape(chars: &mut Chars) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        // nF sequences (`ESC ( B`, `ESC # 8`): intermediates, then one final.
        Some(' '..='/') => {
            while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
            chars.next_if(|c| ('0'..='~').contains(c));
        }
        // Two-character sequences (`ESC c` resets the terminal, `ESC 7`, `ESC =`).
        Some('0'..='~') => {
            chars.next();
        }
        _ => {}
    }
}

/// A control sequence's parameters and intermediates, then its final byte.
fn skip_csi(chars: &mut Chars) {
    while chars.next_if(|c| ('0'..='?').contains(c)).is_some() {}
    while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
    chars.next_if(|c| ('@'..='~').contains(c));
}

/// An OSC, DCS, SOS, PM or APC string, up to its terminator (BEL, `ESC \` or
/// ST) or the end of the text (unterminated, it would swallow what follows).
/// Another ESC ends it too and is left to start the next sequence, as a
/// terminal reads it.
fn skip_string(chars: &mut Chars) {
    while let Some(c) = chars.next_if(|&c| c != ESC) {
        if c == BEL || c == ST {
            return;
        }
    }
    let mut ahead = chars.clone();
    if ahead.next() == Some(ESC) && ahead.peek() == Some(&'\\') {
        chars.next();
        chars.next();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_untouched() {
        let text = "port 5403 closed ✗ — ça marche\n\tdetails";
        assert!(matches!(clean(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn osc_title_and_clipboard_writes_are_removed_whole() {
        assert_eq!(clean("a\x1b]0;pwned title\x07b"), "ab");
        assert_eq!(clean("a\x1b]52;c;ZWNobyBoaQ==\x1b\\b"), "ab");
        assert_eq!(clean("a\u{9d}52;c;ZWNobyBoaQ==\u{9c}b"), "ab");
        assert_eq!(clean("a\x1b]2;unterminated swallows the rest"), "a");
        assert_eq!(clean("a\x1b]0;t\x1b[2Jb"), "ab", "an ESC ends the string");
    }

    #[test]
    fn csi_sequences_are_removed_whole() {
        assert_eq!(clean("a\x1b[2Jb\x1b[Hc"), "abc");
        assert_eq!(clean("\x1b[1;31mred\x1b[0m"), "red");
        assert_eq!(clean("a\x1b[?1049hb"), "ab");
        assert_eq!(clean("a\u{9b}2Jb"), "ab");
    }

    #[test]
    fn dcs_and_other_escapes_are_removed() {
        assert_eq!(clean("a\x1bP+q544e\x1b\\b"), "ab");
        assert_eq!(clean("a\x1b_apc\x07b\x1b^pm\x07c\x1bXsos\x07d"), "abcd");
        assert_eq!(clean("a\x1bcb\x1b(Bc\x1b#8d\x1b7e"), "abcde");
        assert_eq!(clean("trailing\x1b"), "trailing");
    }

    #[test]
    fn other_controls_go_line_feeds_and_tabs_stay() {
        assert_eq!(clean("a\rb\x08c\x00d\x7fe\u{85}f\n\tg"), "abcdef\n\tg");
    }

    #[test]
    fn bidi_overrides_and_isolates_go() {
        assert_eq!(clean("admin\u{202e}txt.exe\u{202c}"), "admintxt.exe");
        assert_eq!(clean("a\u{2066}b\u{2069}c"), "abc");
    }

    #[test]
    fn a_long_hostile_text_is_cleaned_in_linear_time() {
        let text = "\x1b[".repeat(200_000) + &"\x1b]0;".repeat(200_000);
        let started = std::time::Instant::now();
        assert_eq!(clean(&text), "");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
