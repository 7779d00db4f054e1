//! The reference the dump check is compared with: PostgreSQL's own scanner
//! (libpg_query, through the `pg_query` crate) for SQL, and psql's rules for
//! what the scanner leaves to psql — a `;` sends a statement only outside
//! parentheses and `CREATE FUNCTION … BEGIN … END` bodies (psqlscan.l), a
//! backslash starts a meta-command that runs to the end of its line, COPY data
//! is read with `fgets` (8 KiB at a time, `strlen`) until a line that is `\.`
//! newline or `\.` CR newline (psql's copy.c). Shares no code with the check.

use crate::runbook::dump_check::{Boundary, DumpCheck};
use pg_query::protobuf::{KeywordKind, ScanToken, Token};

/// psql's COPYBUFSIZ: `fgets` reads at most this minus one byte at a time.
const COPY_BUFFER: usize = 8192;

/// What the dump check said of one text, when it agrees with the reference.
#[derive(Debug, PartialEq, Eq)]
pub enum Agreement {
    /// Accepted, with the reference's boundaries.
    Accepted(usize),
    /// Refused: nothing of it would be restored.
    Refused,
}

/// Where the dump check and the reference part, or the reference cannot read a text.
#[derive(Debug, thiserror::Error)]
pub enum Disagreement {
    #[error("the check accepts what the reference cannot read: {0}")]
    Unreadable(#[source] ReferenceError),
    #[error("boundaries differ from #{at}: check {check:?}, PostgreSQL {reference:?}")]
    Boundaries {
        at: usize,
        check: Vec<Boundary>,
        reference: Vec<Boundary>,
    },
}

/// Why the reference cannot split a text.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("COPY … FROM stdin without data")]
    NoCopyData,
    #[error("text after COPY … FROM stdin on its line")]
    TextAfterCopy,
    #[error("the text ends inside a statement")]
    EndsInStatement,
    #[error("the text ends inside COPY data")]
    EndsInCopyData,
    /// PostgreSQL's scanner refused it.
    #[error("{0}")]
    Scan(#[source] pg_query::Error),
}

/// Runs the dump check and, if it accepts `text`, the reference: every
/// statement, COPY block and meta-command must end at the same byte.
pub fn agree(text: &str) -> Result<Agreement, Disagreement> {
    let mut check = DumpCheck::recording(u64::MAX);
    let verdict = check.feed(text.as_bytes()).and_then(|()| check.end());
    if verdict.is_err() {
        return Ok(Agreement::Refused);
    }
    let checked = check.boundaries();
    let reference = boundaries(text).map_err(Disagreement::Unreadable)?;
    if checked != reference.as_slice() {
        let at = checked
            .iter()
            .zip(&reference)
            .position(|(a, b)| a != b)
            .unwrap_or(checked.len().min(reference.len()));
        return Err(Disagreement::Boundaries {
            at,
            check: checked[at..(at + 3).min(checked.len())].to_vec(),
            reference: reference[at..(at + 3).min(reference.len())].to_vec(),
        });
    }
    Ok(Agreement::Accepted(reference.len()))
}

/// Where PostgreSQL and psql end each piece of `text`.
pub fn boundaries(text: &str) -> Result<Vec<Boundary>, ReferenceError> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some((end, piece)) = next_piece(text, pos)? else {
            break;
        };
        match piece {
            Piece::Statement { copy } => {
                found.push(Boundary::Statement(end as u64));
                pos = end;
                if copy {
                    let line_end =
                        memchr::memchr(b'\n', &bytes[end..]).ok_or(ReferenceError::NoCopyData)?;
                    if !bytes[end..end + line_end]
                        .iter()
                        .all(u8::is_ascii_whitespace)
                    {
                        return Err(ReferenceError::TextAfterCopy);
                    }
                    pos = copy_end(bytes, end + line_end + 1)?;
                    found.push(Boundary::CopyEnd(pos as u64));
                }
            }
            Piece::Meta { line_start } => {
                found.push(Boundary::Meta(line_start as u64));
                pos = memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |n| end + n + 1);
            }
        }
    }
    Ok(found)
}

enum Piece {
    Statement { copy: bool },
    Meta { line_start: usize },
}

/// The next statement (ending after its `;`) or meta-command (at its backslash)
/// from `pos`, scanning whole lines, more of them until the scanner can read
/// them and one ends (tokens before the first end are the same in every window
/// that scans); `None` if only comments and blanks are left.
fn next_piece(text: &str, pos: usize) -> Result<Option<(usize, Piece)>, ReferenceError> {
    let bytes = text.as_bytes();
    let mut lines = 1usize;
    loop {
        let window_end = nth_line_end(bytes, pos, lines);
        let whole = window_end == bytes.len();
        match pg_query::scan(&text[pos..window_end]) {
            Ok(scanned) => {
                if let Some(piece) = first_piece(text, pos, &scanned.tokens) {
                    return Ok(Some(piece));
                }
                if whole {
                    return if scanned.tokens.iter().all(is_comment) {
                        Ok(None)
                    } else {
                        Err(ReferenceError::EndsInStatement)
                    };
                }
            }
            Err(e) => {
                // A meta-command's arguments are not SQL (`\restrict 1abc`):
                // the text up to a backslash may scan where the whole cannot.
                if let Some(piece) = piece_before_backslash(text, pos, window_end) {
                    return Ok(Some(piece));
                }
                if whole {
                    return Err(ReferenceError::Scan(e));
                }
            }
        }
        // One more line at a time (COPY data after a statement may not scan),
        // then faster for long statements.
        lines += if lines < 256 { 1 } else { lines };
    }
}

/// The first piece of `text[pos..]` that ends at or before one of the
/// window's backslashes, scanning only up to that backslash.
fn piece_before_backslash(text: &str, pos: usize, window_end: usize) -> Option<(usize, Piece)> {
    memchr::memchr_iter(b'\\', &text.as_bytes()[pos..window_end]).find_map(|at| {
        let scanned = pg_query::scan(&text[pos..pos + at + 1]).ok()?;
        first_piece(text, pos, &scanned.tokens)
    })
}

/// Applies psql's grouping to the tokens of `text[pos..]`.
fn first_piece(text: &str, pos: usize, tokens: &[ScanToken]) -> Option<(usize, Piece)> {
    let mut group = Group::default();
    for token in tokens.iter().filter(|t| !is_comment(t)) {
        let (start, end) = (pos + token.start as usize, pos + token.end as usize);
        let lexeme = &text[start..end];
        if token.token == Token::Ascii92 as i32 {
            let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
            let line_start = if line_start == start {
                line_start
            } else {
                start
            };
            return Some((end, Piece::Meta { line_start }));
        }
        if token.token == Token::Ascii59 as i32 {
            if group.parens == 0 && group.begins == 0 {
                let copy = group.first == Some(Token::Copy as i32)
                    && group.last_two == [Token::From as i32, Token::Stdin as i32];
                return Some((end, Piece::Statement { copy }));
            }
            continue;
        }
        group.token(token, lexeme);
    }
    None
}

/// What psql tracks of the statement being read.
#[derive(Default)]
struct Group {
    first: Option<i32>,
    last_two: [i32; 2],
    parens: u32,
    begins: u32,
    identifiers: [u8; 4],
    identifier_count: usize,
}

impl Group {
    fn token(&mut self, token: &ScanToken, lexeme: &str) {
        self.first.get_or_insert(token.token);
        self.last_two = [self.last_two[1], token.token];
        if token.token == Token::Ascii40 as i32 {
            self.parens += 1;
        } else if token.token == Token::Ascii41 as i32 {
            self.parens = self.parens.saturating_sub(1);
        } else if token.token == Token::Ident as i32
            || token.keyword_kind != KeywordKind::NoKeyword as i32
        {
            self.identifier(lexeme);
        }
    }

    /// psqlscan.l's `{identifier}` rule (only unquoted names: a quoted one
    /// starts with `"`, and psql's rule does not see it).
    fn identifier(&mut self, lexeme: &str) {
        if lexeme.starts_with('"')
            || lexeme.starts_with(['U', 'u']) && lexeme[1..].starts_with("&\"")
        {
            return;
        }
        let word = lexeme.to_ascii_lowercase();
        if matches!(
            word.as_str(),
            "create" | "function" | "procedure" | "or" | "replace"
        ) && self.identifier_count < 4
        {
            self.identifiers[self.identifier_count] = word.as_bytes()[0];
        }
        self.identifier_count += 1;
        let ids = self.identifiers;
        let routine = ids[0] == b'c'
            && (ids[1] == b'f'
                || ids[1] == b'p'
                || (ids[1] == b'o' && ids[2] == b'r' && (ids[3] == b'f' || ids[3] == b'p')));
        if routine && self.parens == 0 {
            match word.as_str() {
                "begin" => self.begins += 1,
                "case" if self.begins >= 1 => self.begins += 1,
                "end" => self.begins = self.begins.saturating_sub(1),
                _ => {}
            }
        }
    }
}

fn is_comment(token: &ScanToken) -> bool {
    token.token == Token::SqlComment as i32 || token.token == Token::CComment as i32
}

/// Where the `lines`-th line from `pos` ends (past its newline), or the text's end.
fn nth_line_end(bytes: &[u8], pos: usize, lines: usize) -> usize {
    let mut end = pos;
    for _ in 0..lines {
        match memchr::memchr(b'\n', &bytes[end..]) {
            Some(n) => end += n + 1,
            None => return bytes.len(),
        }
    }
    end
}

/// psql's handleCopyIn: lines read with `fgets` into an 8 KiB buffer; only the
/// first bufferload of a line (as `strlen` sees it) is compared with the end
/// marker. Returns where the marker line ends.
fn copy_end(bytes: &[u8], mut pos: usize) -> Result<usize, ReferenceError> {
    loop {
        let mut first_load = true;
        loop {
            if pos >= bytes.len() {
                return Err(ReferenceError::EndsInCopyData);
            }
            let rest = &bytes[pos..];
            let load = memchr::memchr(b'\n', &rest[..rest.len().min(COPY_BUFFER - 1)])
                .map_or(rest.len().min(COPY_BUFFER - 1), |n| n + 1);
            let buffer = &rest[..load];
            let c_string = &buffer[..memchr::memchr(0, buffer).unwrap_or(load)];
            pos += load;
            if first_load && (c_string == b"\\.\n" || c_string == b"\\.\r\n") {
                return Ok(pos);
            }
            first_load = false;
            if c_string.last() == Some(&b'\n') {
                break;
            }
        }
    }
}
