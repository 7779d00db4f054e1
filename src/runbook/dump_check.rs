//! Validates a plain-SQL dump as pg_dump's output before it may be restored: the
//! header and the closing line, psql meta-commands limited to what pg_dump
//! writes (`\restrict` / `\unrestrict`), only the statement kinds pg_dump
//! writes, no `PROGRAM` in `COPY`, no transaction control, and the settings that
//! change how the rest is read (`standard_conforming_strings`, `client_encoding`…)
//! only with pg_dump's own values. Quotes (E'', U&'', continued strings),
//! comments, dollar quotes, numbers and COPY data are lexed the way PostgreSQL's
//! scanner and psql's lexer do, so that wherever the check and PostgreSQL could
//! disagree on where a string, a statement or a COPY block ends, the dump is
//! refused instead. Fed in chunks (constant memory); every error names its line.

const HEADER: &[u8] = b"-- PostgreSQL database dump";
const FOOTER: &[u8] = b"-- PostgreSQL database dump complete";
/// The header must come within the first lines.
const HEADER_WITHIN_LINES: u64 = 10;
/// The longest SQL line accepted (COPY data lines are not buffered, so unbounded).
const MAX_LINE: usize = 64 << 20;
/// Statement kinds pg_dump writes (plain format, without `--inserts`).
const STATEMENTS: &[&str] = &[
    "ALTER", "COMMENT", "COPY", "CREATE", "DROP", "GRANT", "REFRESH", "REVOKE", "SECURITY",
    "SELECT", "SET",
];
/// The only functions a pg_dump `SELECT` calls.
const SELECTED_FUNCTIONS: &[&str] = &[
    "SET_CONFIG",
    "SETVAL",
    "LO_CREATE",
    "LO_OPEN",
    "LOWRITE",
    "LO_CLOSE",
];
/// The settings pg_dump writes with `SET`. Those that change how the statements
/// after them are read or run are allowed only with pg_dump's own value
/// (compared lower-cased, without punctuation, as PostgreSQL compares encoding
/// names); any other setting is refused.
const SETTINGS: &[(&str, Option<&[&str]>)] = &[
    ("statement_timeout", None),
    ("lock_timeout", None),
    ("idle_in_transaction_session_timeout", None),
    ("transaction_timeout", None),
    ("check_function_bodies", None),
    ("xmloption", None),
    ("client_min_messages", None),
    ("row_security", None),
    ("default_tablespace", None),
    ("default_table_access_method", None),
    ("default_with_oids", None),
    ("standard_conforming_strings", Some(&["on"])),
    // Encodings whose multi-byte characters never hold an ASCII byte (a
    // backslash or a quote): SJIS, BIG5, GBK, GB18030, UHC… are refused.
    ("client_encoding", Some(&["utf8", "unicode", "sqlascii"])),
    ("escape_string_warning", Some(&["off"])),
    ("session_replication_role", Some(&["replica"])),
];
/// Settings an `ALTER DATABASE|ROLE|USER … SET` may not touch: they would change
/// how the next session reads a dump.
const GUARDED: &[&str] = &[
    "STANDARD_CONFORMING_STRINGS",
    "CLIENT_ENCODING",
    "SESSION_REPLICATION_ROLE",
    "SEARCH_PATH",
    "BACKSLASH_QUOTE",
    "ESCAPE_STRING_WARNING",
];
/// The bytes PostgreSQL's scanner makes operators of.
const OPERATOR: &[u8] = b"~!@#^&|`?+-*/%<>=";
/// How many leading words of a statement are kept for its checks.
const WORDS_KEPT: usize = 8;
/// How many leading tokens of a statement are kept for its checks.
const TOKENS_KEPT: usize = 16;
/// The longest string or quoted name kept whole in a token.
const LITERAL_KEPT: usize = 64;

/// Why a dump is refused, with the line where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// Where one piece of an accepted dump ends, in bytes from its start.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Just past the `;` that ends a statement.
    Statement(u64),
    /// Just past the line that ends COPY data (`\.`).
    CopyEnd(u64),
    /// Where a psql meta-command line (`\restrict`…) starts.
    Meta(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lexer {
    Normal,
    BlockComment(u32),
    Quoted {
        escapes: bool,
    },
    /// Just past a string's closing quote: whitespace holding a newline, then a
    /// quote, continues the same string (in the same escape mode).
    QuoteStop {
        escapes: bool,
        newline: bool,
        comment: bool,
    },
    Identifier,
    Dollar(Vec<u8>),
}

/// A token of a statement, as far as its checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A keyword or a name, upper-cased.
    Word(String),
    /// A "quoted name" (empty if longer than what is kept).
    Quoted(String),
    /// A string: `plain` when a standard '…' whose text is its value.
    Str {
        plain: bool,
        text: String,
    },
    Number(String),
    Punct(u8),
}

impl Token {
    /// The value of a `SET`, compared as PostgreSQL compares encoding names.
    fn setting_value(&self) -> Option<String> {
        let text = match self {
            Token::Word(word) => word,
            Token::Quoted(text) | Token::Number(text) => text,
            Token::Str { plain: true, text } => text,
            _ => return None,
        };
        Some(
            text.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect(),
        )
    }
}

/// What is known of the statement being read.
#[derive(Default)]
struct Statement {
    words: Vec<String>,
    count: usize,
    /// The last token was the word FROM; the last two are FROM STDIN.
    after_from: bool,
    ends_from_stdin: bool,
    program: bool,
    guarded: bool,
    tokens: Vec<Token>,
    token_count: usize,
    started_on: u64,
    paren_depth: u32,
    /// psql's `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN … END` tracking:
    /// a `;` inside it does not end the statement for psql.
    identifiers: [u8; 4],
    identifier_count: usize,
    begin_depth: u32,
}

impl Statement {
    fn is_empty(&self) -> bool {
        self.token_count == 0
    }

    /// Whether the next token is kept (past that, only its kind matters).
    fn keeps_tokens(&self) -> bool {
        self.tokens.len() < TOKENS_KEPT
    }

    /// A fresh statement keeping `self`'s allocations.
    fn recycle(mut self) -> Statement {
        self.words.clear();
        self.tokens.clear();
        Statement {
            words: self.words,
            tokens: self.tokens,
            ..Statement::default()
        }
    }

    fn push_token(&mut self, token: Token) {
        self.token_count += 1;
        let word = match &token {
            Token::Word(word) => word.as_str(),
            _ => "",
        };
        self.ends_from_stdin = self.after_from && word == "STDIN";
        self.after_from = word == "FROM";
        if self.tokens.len() < TOKENS_KEPT {
            self.tokens.push(token);
        }
    }

    fn push(&mut self, word: String) {
        if word == "PROGRAM" {
            self.program = true;
        }
        if GUARDED.contains(&word.as_str()) {
            self.guarded = true;
        }
        if self.words.len() < WORDS_KEPT {
            self.words.push(word.clone());
        }
        self.count += 1;
        self.push_token(Token::Word(word));
    }

    /// A word for the checks on words only (`"` for a quoted name, so that a
    /// `SELECT pg_catalog."f"()` is no plain call).
    fn push_word(&mut self, word: String) {
        self.count += 1;
        if self.words.len() < WORDS_KEPT {
            self.words.push(word);
        }
    }

    /// psql's heuristic (psqlscan.l) for SQL-standard function bodies, on an
    /// unquoted identifier or keyword.
    fn track_begin(&mut self, word: &str) {
        if matches!(word, "CREATE" | "FUNCTION" | "PROCEDURE" | "OR" | "REPLACE")
            && self.identifier_count < self.identifiers.len()
        {
            self.identifiers[self.identifier_count] = word.as_bytes()[0].to_ascii_lowercase();
        }
        self.identifier_count += 1;
        let ids = self.identifiers;
        let routine = ids[0] == b'c'
            && (ids[1] == b'f'
                || ids[1] == b'p'
                || (ids[1] == b'o' && ids[2] == b'r' && (ids[3] == b'f' || ids[3] == b'p')));
        if routine && self.paren_depth == 0 {
            match word {
                "BEGIN" => self.begin_depth += 1,
                "CASE" if self.begin_depth >= 1 => self.begin_depth += 1,
                "END" => self.begin_depth = self.begin_depth.saturating_sub(1),
                _ => {}
            }
        }
    }
}

pub struct DumpCheck {
    lexer: Lexer,
    statement: Statement,
    line: Vec<u8>,
    line_number: u64,
    /// Bytes before the line being read.
    offset: u64,
    line_start: u64,
    in_copy_data: bool,
    copy_line: Vec<u8>,
    literal: Vec<u8>,
    literal_long: bool,
    header_seen: bool,
    footer_seen: bool,
    bytes: u64,
    max_bytes: u64,
    /// Statements accepted so far (see `statements_ended`).
    ended: u64,
    boundaries: Option<Vec<Boundary>>,
}

impl DumpCheck {
    /// A check that refuses a dump decompressing to more than `max_bytes`.
    pub fn new(max_bytes: u64) -> DumpCheck {
        DumpCheck {
            lexer: Lexer::Normal,
            statement: Statement::default(),
            line: Vec::new(),
            line_number: 0,
            offset: 0,
            line_start: 0,
            in_copy_data: false,
            copy_line: Vec::new(),
            literal: Vec::new(),
            literal_long: false,
            header_seen: false,
            footer_seen: false,
            bytes: 0,
            max_bytes,
            ended: 0,
            boundaries: None,
        }
    }

    /// A check that also records where each statement, COPY block and
    /// meta-command ends (see [`DumpCheck::boundaries`]).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn recording(max_bytes: u64) -> DumpCheck {
        DumpCheck {
            boundaries: Some(Vec::new()),
            ..DumpCheck::new(max_bytes)
        }
    }

    /// The boundaries recorded so far (empty unless made by [`DumpCheck::recording`]).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn boundaries(&self) -> &[Boundary] {
        self.boundaries.as_deref().unwrap_or(&[])
    }

    fn record(&mut self, boundary: Boundary) {
        if let Some(boundaries) = &mut self.boundaries {
            boundaries.push(boundary);
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Rejected> {
        self.count(chunk.len())?;
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.in_copy_data {
                rest = self.copy_data(rest)?;
                continue;
            }
            let end = memchr::memchr(b'\n', rest);
            let part = &rest[..end.unwrap_or(rest.len())];
            if self.line.len() + part.len() > MAX_LINE {
                return Err(self.reject(format!("a line longer than {MAX_LINE} bytes")));
            }
            self.line.extend_from_slice(part);
            let Some(end) = end else { break };
            rest = &rest[end + 1..];
            self.line_number += 1;
            let line = std::mem::take(&mut self.line);
            self.line_start = self.offset;
            self.offset += line.len() as u64 + 1;
            self.sql_line(&line)?;
        }
        Ok(())
    }

    /// Feeds COPY data (while `in_copy_data`), as `feed` does, but only up to
    /// the end of the COPY block: returns how many bytes of `chunk` it took —
    /// all of them, or up to and with the end marker's line (`\.`, `\.` CR).
    /// For a caller that passes the data on in bulk rather than line by line.
    pub fn feed_copy_data(&mut self, chunk: &[u8]) -> Result<usize, Rejected> {
        debug_assert!(self.in_copy_data, "feed_copy_data outside COPY data");
        let taken = chunk.len() - self.copy_data(chunk)?.len();
        self.count(taken)?;
        Ok(taken)
    }

    /// `bytes` more of the dump, refused past the manifest's size.
    fn count(&mut self, bytes: usize) -> Result<(), Rejected> {
        self.bytes += bytes as u64;
        if self.bytes > self.max_bytes {
            return Err(self.reject(format!(
                "the dump decompresses to more than the {} bytes the manifest allows",
                self.max_bytes
            )));
        }
        Ok(())
    }

    /// The lines read whole so far.
    pub fn lines(&self) -> u64 {
        self.line_number
    }

    /// The end of the dump: it must be complete, with nothing left open.
    pub fn finish(mut self) -> Result<(), Rejected> {
        self.end()
    }

    /// [`DumpCheck::finish`], keeping the check (and what it recorded).
    pub fn end(&mut self) -> Result<(), Rejected> {
        if self.bytes == 0 {
            return Err(self.reject("the dump is empty".into()));
        }
        if self.in_copy_data {
            return Err(self.reject("the dump ends inside COPY data (truncated)".into()));
        }
        if !self.line.is_empty() {
            self.line_number += 1;
            let line = std::mem::take(&mut self.line);
            self.line_start = self.offset;
            self.offset += line.len() as u64;
            self.sql_line(&line)?;
        }
        if !matches!(self.lexer, Lexer::Normal | Lexer::QuoteStop { .. })
            || !self.statement.is_empty()
        {
            return Err(self.reject("the dump ends inside a statement (truncated)".into()));
        }
        if !self.footer_seen {
            return Err(self.reject(
                "no \"-- PostgreSQL database dump complete\" at the end (truncated, or not pg_dump output)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// How many statements (not counting empty ones) ended and were accepted
    /// so far: a caller feeding whole lines learns where each one ends.
    pub fn statements_ended(&self) -> u64 {
        self.ended
    }

    /// Inside a `COPY … FROM stdin` block: what is fed now is data, up to `\.`.
    pub fn in_copy_data(&self) -> bool {
        self.in_copy_data
    }

    /// Between statements: no statement, quote, comment or COPY data open.
    pub fn between_statements(&self) -> bool {
        !self.in_copy_data && self.lexer == Lexer::Normal && self.statement.is_empty()
    }

    fn reject(&self, reason: String) -> Rejected {
        Rejected {
            line: self.line_number.max(1),
            reason,
        }
    }

    /// COPY data is passed through unread until the line `\.` (or `\.` and CR,
    /// which psql takes as the end too): only each line's first bytes are looked
    /// at (newlines found with memchr). A NUL byte is refused: psql reads data
    /// lines with `fgets` and `strlen`, so a NUL would hide the next end marker
    /// from psql but not from this check. Returns what follows.
    fn copy_data<'a>(&mut self, data: &'a [u8]) -> Result<&'a [u8], Rejected> {
        // A NUL is refused after COPY data too: one pass over the whole chunk.
        if let Some(at) = memchr::memchr(0, data) {
            self.line_number += memchr::memchr_iter(b'\n', &data[..at]).count() as u64 + 1;
            return Err(self.reject("a NUL byte in COPY data (not pg_dump output)".into()));
        }
        let mut rest = data;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, after) = (&rest[..end], &rest[end + 1..]);
            self.line_number += 1;
            self.data_bytes(line);
            self.offset += line.len() as u64 + 1;
            let ended = matches!(self.copy_line.as_slice(), b"\\." | b"\\.\r");
            self.copy_line.clear();
            rest = after;
            if ended {
                self.in_copy_data = false;
                self.record(Boundary::CopyEnd(self.offset));
                return Ok(rest);
            }
        }
        self.data_bytes(rest);
        self.offset += rest.len() as u64;
        Ok(&[])
    }

    /// Keeps the first 4 bytes of the COPY line being read (enough to tell `\.`
    /// and `\.` CR from longer lines).
    fn data_bytes(&mut self, bytes: &[u8]) {
        let wanted = 4usize.saturating_sub(self.copy_line.len()).min(bytes.len());
        self.copy_line.extend_from_slice(&bytes[..wanted]);
    }

    fn sql_line(&mut self, line: &[u8]) -> Result<(), Rejected> {
        if line.contains(&0) {
            return Err(self.reject("a NUL byte (not pg_dump output)".into()));
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !self.header_seen {
            if line == HEADER {
                self.header_seen = true;
                return Ok(());
            }
            if self.line_number > HEADER_WITHIN_LINES || !(line.is_empty() || line == b"--") {
                return Err(self.reject(
                    "no \"-- PostgreSQL database dump\" header: not pg_dump output".into(),
                ));
            }
            return Ok(());
        }
        if self.lexer == Lexer::Normal && self.statement.is_empty() {
            if line == FOOTER {
                self.footer_seen = true;
                return Ok(());
            }
            if line.first() == Some(&b'\\') {
                self.record(Boundary::Meta(self.line_start));
                return self.meta_command(line);
            }
        }
        self.scan(line)
    }

    /// A psql meta-command line: only pg_dump's `\restrict KEY` / `\unrestrict KEY`.
    fn meta_command(&self, line: &[u8]) -> Result<(), Rejected> {
        let text = String::from_utf8_lossy(line);
        let mut parts = text[1..].split_whitespace();
        let allowed = matches!(parts.next(), Some("restrict" | "unrestrict"))
            && parts
                .next()
                .is_some_and(|key| key.bytes().all(|b| b.is_ascii_alphanumeric()))
            && parts.next().is_none();
        if allowed {
            Ok(())
        } else {
            Err(self.reject(format!(
                "psql meta-command {:?}: a dump may only use \\restrict and \\unrestrict",
                truncate(&text)
            )))
        }
    }

    /// Lexes one SQL line, carrying the lexer state to the next. Inside quotes
    /// and comments, the bytes that may end them are found with memchr.
    fn scan(&mut self, line: &[u8]) -> Result<(), Rejected> {
        let mut i = 0;
        while i < line.len() {
            let rest = &line[i..];
            match &mut self.lexer {
                Lexer::BlockComment(depth) => {
                    let Some(n) = memchr::memchr2(b'*', b'/', rest) else {
                        break;
                    };
                    i += n;
                    if line[i..].starts_with(b"*/") {
                        *depth -= 1;
                        if *depth == 0 {
                            self.lexer = Lexer::Normal;
                        }
                        i += 1;
                    } else if line[i..].starts_with(b"/*") {
                        *depth += 1;
                        i += 1;
                    }
                }
                Lexer::Quoted { escapes } => {
                    let escapes = *escapes;
                    let stop = if escapes {
                        memchr::memchr2(b'\'', b'\\', rest)
                    } else {
                        memchr::memchr(b'\'', rest)
                    };
                    let Some(n) = stop else {
                        self.keep_literal(rest);
                        break;
                    };
                    self.keep_literal(&rest[..n]);
                    i += n;
                    if line[i] == b'\\' {
                        if matches!(line.get(i + 1), Some(b'u' | b'U')) {
                            // pg_dump writes none; PostgreSQL's scanner refuses a bad one.
                            return Err(self.reject("a Unicode escape in an E'' string".into()));
                        }
                        self.keep_literal(&line[i..(i + 2).min(line.len())]);
                        i += 2;
                        continue;
                    }
                    self.end_literal(Some(escapes));
                    self.lexer = Lexer::QuoteStop {
                        escapes,
                        newline: false,
                        comment: false,
                    };
                }
                Lexer::QuoteStop { .. } => {
                    if !self.quote_stop(line, &mut i)? {
                        continue;
                    }
                }
                Lexer::Identifier => {
                    let Some(n) = memchr::memchr(b'"', rest) else {
                        self.keep_literal(rest);
                        break;
                    };
                    self.keep_literal(&rest[..n + usize::from(rest.get(n + 1) == Some(&b'"'))]);
                    i += n;
                    if line.get(i + 1) == Some(&b'"') {
                        // `""` is a quote inside the name.
                        i += 2;
                        continue;
                    }
                    if self.literal.is_empty() && !self.literal_long {
                        return Err(self.reject(
                            "a zero-length quoted name (\"\"): PostgreSQL refuses it".into(),
                        ));
                    }
                    self.end_literal(None);
                    self.lexer = Lexer::Normal;
                }
                Lexer::Dollar(tag) => {
                    let Some(n) = memchr::memchr(b'$', rest) else {
                        break;
                    };
                    i += n;
                    if line[i..].starts_with(tag) {
                        i += tag.len() - 1;
                        self.statement.push_token(Token::Str {
                            plain: false,
                            text: String::new(),
                        });
                        self.lexer = Lexer::Normal;
                    }
                }
                Lexer::Normal => {
                    i = self.normal(line, i)?;
                    if self.in_copy_data {
                        return Ok(());
                    }
                    continue;
                }
            }
            i += 1;
        }
        // The line's end is a newline: a string may now be continued.
        if let Lexer::QuoteStop {
            newline, comment, ..
        } = &mut self.lexer
        {
            *newline = true;
            *comment = false;
        }
        Ok(())
    }

    /// One byte after a closing quote (PostgreSQL's `xqs` state): returns false
    /// when the byte is to be read again as SQL.
    fn quote_stop(&mut self, line: &[u8], i: &mut usize) -> Result<bool, Rejected> {
        let Lexer::QuoteStop {
            escapes,
            newline,
            comment,
        } = &mut self.lexer
        else {
            return Ok(false);
        };
        let byte = line[*i];
        match byte {
            b'\r' => {
                *newline = true;
                *comment = false;
            }
            _ if *comment => {}
            b' ' | b'\t' | b'\x0c' => {}
            0x0b => {
                return Err(self.reject(
                    "a vertical tab after a string (PostgreSQL versions read it differently)"
                        .into(),
                ));
            }
            b'-' if *newline && line.get(*i + 1) == Some(&b'-') => {
                *comment = true;
                *i += 1;
            }
            b'\'' if *newline => {
                self.lexer = Lexer::Quoted { escapes: *escapes };
            }
            _ => {
                self.lexer = Lexer::Normal;
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn keep_literal(&mut self, bytes: &[u8]) {
        if self.literal_long {
            return;
        }
        if self.literal.len() + bytes.len() > LITERAL_KEPT {
            self.literal_long = true;
        } else {
            self.literal.extend_from_slice(bytes);
        }
    }

    /// The end of a string (`escapes` given) or of a quoted name (`None`).
    fn end_literal(&mut self, escapes: Option<bool>) {
        if escapes.is_none()
            && !self.literal_long
            && GUARDED
                .iter()
                .any(|g| g.as_bytes().eq_ignore_ascii_case(&self.literal))
        {
            self.statement.guarded = true;
        }
        let text = if !self.statement.keeps_tokens() {
            String::new()
        } else if self.literal_long {
            "\u{fffd}".to_string()
        } else {
            String::from_utf8_lossy(&self.literal).into_owned()
        };
        self.literal.clear();
        self.literal_long = false;
        self.statement.push_token(match escapes {
            Some(escapes) => Token::Str {
                plain: !escapes,
                text,
            },
            None => Token::Quoted(text),
        });
    }

    /// Opens a string whose body starts at `next`.
    fn open_string(&mut self, escapes: bool, next: usize) -> usize {
        self.literal.clear();
        self.literal_long = false;
        self.lexer = Lexer::Quoted { escapes };
        next
    }

    /// One token of SQL outside quotes and comments, from `line[i]`; returns where the next starts.
    fn normal(&mut self, line: &[u8], i: usize) -> Result<usize, Rejected> {
        let byte = line[i];
        let rest = &line[i..];
        let next = line.get(i + 1).copied();
        if self.statement.is_empty() && !byte.is_ascii_whitespace() {
            self.statement.started_on = self.line_number;
        }
        if rest.starts_with(b"--") {
            // A comment ends at a CR as at a newline.
            return Ok(memchr::memchr(b'\r', rest).map_or(line.len(), |cr| i + cr + 1));
        }
        if rest.starts_with(b"/*") {
            self.lexer = Lexer::BlockComment(1);
            return Ok(i + 2);
        }
        match byte {
            b'\'' => Ok(self.open_string(false, i + 1)),
            b'E' | b'e' if next == Some(b'\'') => Ok(self.open_string(true, i + 2)),
            b'B' | b'b' | b'X' | b'x' | b'N' | b'n' if next == Some(b'\'') => {
                Ok(self.open_string(false, i + 2))
            }
            b'U' | b'u' if next == Some(b'&') && matches!(line.get(i + 2), Some(b'\'' | b'"')) => {
                if line[i + 2] == b'\'' {
                    Ok(self.open_string(false, i + 3))
                } else {
                    Ok(self.open_identifier(i + 3))
                }
            }
            b'"' => Ok(self.open_identifier(i + 1)),
            b'$' => self.dollar(line, i),
            b'0'..=b'9' => self.number(line, i),
            b'.' if next.is_some_and(|b| b.is_ascii_digit()) => self.number(line, i),
            b':' => self.colon(line, i),
            b'\\' => Err(self.reject(format!(
                "psql meta-command inside a statement: {:?}",
                truncate(&String::from_utf8_lossy(rest))
            ))),
            b'(' | b')' => {
                let depth = &mut self.statement.paren_depth;
                *depth = if byte == b'(' {
                    *depth + 1
                } else {
                    depth.saturating_sub(1)
                };
                self.statement.push_token(Token::Punct(byte));
                Ok(i + 1)
            }
            b';' => {
                self.semicolon(i)?;
                self.end_statement(&line[i + 1..])?;
                Ok(i + 1)
            }
            b if is_word_start(b) => {
                let end = line[i..]
                    .iter()
                    .position(|&b| !is_word_byte(b))
                    .map_or(line.len(), |n| i + n);
                let word = String::from_utf8_lossy(&line[i..end]).to_ascii_uppercase();
                self.statement.track_begin(&word);
                self.statement.push(word);
                Ok(end)
            }
            b if b.is_ascii_whitespace() || b == 0x0b => Ok(i + 1),
            b if OPERATOR.contains(&b) => self.operator(line, i),
            _ => {
                self.statement.push_token(Token::Punct(byte));
                Ok(i + 1)
            }
        }
    }

    /// An operator, cut as PostgreSQL's scanner cuts it (before `--` or `/*`,
    /// trailing `+`/`-` dropped); one it would find too long is refused.
    fn operator(&mut self, line: &[u8], i: usize) -> Result<usize, Rejected> {
        let run = &line[i..];
        let run = &run[..run.iter().take_while(|b| OPERATOR.contains(b)).count()];
        let mut n = (1..run.len())
            .find(|&at| run[at..].starts_with(b"--") || run[at..].starts_with(b"/*"))
            .unwrap_or(run.len());
        if n > 1
            && matches!(run[n - 1], b'+' | b'-')
            && !run[..n - 1].iter().any(|b| b"~!@#^&|`?%".contains(b))
        {
            while n > 1 && matches!(run[n - 1], b'+' | b'-') {
                n -= 1;
            }
        }
        if n >= 64 {
            return Err(self.reject("an operator longer than PostgreSQL allows".into()));
        }
        for &byte in &run[..n] {
            self.statement.push_token(Token::Punct(byte));
        }
        Ok(i + n)
    }

    fn open_identifier(&mut self, next: usize) -> usize {
        self.literal.clear();
        self.literal_long = false;
        self.lexer = Lexer::Identifier;
        self.statement.push_word("\"".into());
        next
    }

    /// A `;` ends the statement only where psql's lexer ends it too: not inside
    /// parentheses, not inside a `BEGIN … END` function body.
    fn semicolon(&mut self, i: usize) -> Result<(), Rejected> {
        let statement = &self.statement;
        if statement.paren_depth > 0 || statement.begin_depth > 0 {
            return Err(Rejected {
                line: statement.started_on.max(1),
                reason: "a ';' inside parentheses or a BEGIN … END body: psql and the server \
                         would split this statement differently"
                    .into(),
            });
        }
        self.record(Boundary::Statement(self.line_start + i as u64 + 1));
        Ok(())
    }

    /// `$tag$` opens a dollar quote; `$1` is a parameter; a lone `$` is itself.
    fn dollar(&mut self, line: &[u8], i: usize) -> Result<usize, Rejected> {
        if let Some(tag) = dollar_tag(&line[i..]) {
            let next = i + tag.len();
            self.lexer = Lexer::Dollar(tag);
            return Ok(next);
        }
        let digits = line[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        self.statement.push_token(Token::Punct(b'$'));
        if digits == 0 {
            return Ok(i + 1);
        }
        self.no_junk(line, i + 1 + digits)
    }

    /// A number (`12`, `1.5`, `.5`, `1e-3`); one followed by a letter, `_` or
    /// `$` is refused: PostgreSQL versions read `1e'…'` or `1$a$` differently.
    fn number(&mut self, line: &[u8], i: usize) -> Result<usize, Rejected> {
        let digits_from = |at: usize| {
            at + line[at.min(line.len())..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let mut end = digits_from(i);
        if line.get(end) == Some(&b'.') && line.get(end + 1) != Some(&b'.') {
            end = digits_from(end + 1);
        }
        if matches!(line.get(end), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(line.get(end + 1), Some(b'+' | b'-')));
            if line.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
                end = digits_from(end + 1 + sign);
            }
        }
        let text = if self.statement.keeps_tokens() {
            String::from_utf8_lossy(&line[i..end]).into_owned()
        } else {
            String::new()
        };
        self.statement.push_token(Token::Number(text));
        self.no_junk(line, end)
    }

    fn no_junk(&self, line: &[u8], end: usize) -> Result<usize, Rejected> {
        if line.get(end).is_some_and(|&b| is_word_byte(b)) {
            return Err(self.reject(
                "a number followed by a letter, '_' or '$' (trailing junk PostgreSQL versions read differently)"
                    .into(),
            ));
        }
        Ok(end)
    }

    /// `::` is a cast; `:name`, `:'name'`, `:"name"` and `:{?name}` are psql
    /// variables, substituted by psql before the server sees them: refused.
    fn colon(&mut self, line: &[u8], i: usize) -> Result<usize, Rejected> {
        self.statement.push_token(Token::Punct(b':'));
        match line.get(i + 1) {
            Some(b':') => {
                self.statement.push_token(Token::Punct(b':'));
                Ok(i + 2)
            }
            Some(&b) if is_word_start(b) || matches!(b, b'\'' | b'"' | b'{') => {
                Err(self.reject(format!(
                    "psql variable {:?}: a dump uses none",
                    truncate(&String::from_utf8_lossy(&line[i..]))
                )))
            }
            _ => Ok(i + 1),
        }
    }

    /// Judges the statement that `;` just ended; `rest` is what follows on its line.
    fn end_statement(&mut self, rest: &[u8]) -> Result<(), Rejected> {
        let statement = std::mem::take(&mut self.statement);
        let verdict = self.judge(&statement, rest);
        self.statement = statement.recycle();
        verdict
    }

    /// Judges a statement just ended.
    fn judge(&mut self, statement: &Statement, rest: &[u8]) -> Result<(), Rejected> {
        let line = statement.started_on;
        let refuse = |reason: String| Err(Rejected { line, reason });
        let first = match statement.tokens.first() {
            None => return Ok(()),
            Some(Token::Word(first)) => first,
            // The server would refuse it, and psql would then read COPY data as SQL.
            Some(_) => return refuse("a statement that does not start with a keyword".into()),
        };
        if !STATEMENTS.contains(&first.as_str()) {
            return refuse(format!(
                "{first} statement: pg_dump writes no such statement (transaction control, DO, CALL, LOAD… are refused)"
            ));
        }
        let second = statement.words.get(1).map(String::as_str).unwrap_or("");
        match first.as_str() {
            "COPY" => {
                if statement.program {
                    return refuse("COPY with PROGRAM runs a command: refused".into());
                }
                if !statement.ends_from_stdin {
                    return refuse("COPY that is not COPY … FROM stdin".into());
                }
                if !rest.iter().all(u8::is_ascii_whitespace) {
                    return refuse("text after COPY … FROM stdin; on the same line".into());
                }
                self.in_copy_data = true;
                self.copy_line.clear();
            }
            "SELECT" => select(statement).or_else(|r| refuse(r.to_string()))?,
            "SET" => set(statement).or_else(|r| refuse(r.to_string()))?,
            "ALTER" if second == "SYSTEM" => {
                return refuse("ALTER SYSTEM: pg_dump writes none".into());
            }
            "ALTER"
                if matches!(second, "DATABASE" | "ROLE" | "USER" | "GROUP")
                    && statement.guarded =>
            {
                return refuse(format!(
                    "ALTER {second} … SET of a setting that changes how dumps are read: refused"
                ));
            }
            _ => {}
        }
        self.ended += 1;
        Ok(())
    }
}

/// Why a `SELECT` or `SET` is not one pg_dump writes (the reason of its `Rejected`).
#[derive(Debug, thiserror::Error)]
enum NotPgDump {
    #[error("SELECT that is not one of pg_dump's pg_catalog calls (set_config, setval, lo_*)")]
    Select,
    #[error("set_config other than pg_dump's set_config('search_path', '', false): refused")]
    SetConfig,
    #[error("SET of something pg_dump never sets")]
    SetWhat,
    /// `name` is cut to 60 characters.
    #[error("SET {name}: pg_dump sets no such setting")]
    NoSuchSetting { name: String },
    #[error("SET {name} other than pg_dump's {name} = {allowed}: refused")]
    OtherValue { name: String, allowed: &'static str },
}

/// A pg_dump `SELECT`: one of its pg_catalog calls; `set_config` only as
/// pg_dump calls it, `set_config('search_path', '', false)`.
fn select(statement: &Statement) -> Result<(), NotPgDump> {
    let second = statement.words.get(1).map(String::as_str).unwrap_or("");
    let function = statement.words.get(2).map(String::as_str).unwrap_or("");
    let plain_call = statement.count <= WORDS_KEPT
        && second == "PG_CATALOG"
        && SELECTED_FUNCTIONS.contains(&function)
        && statement.words[3..]
            .iter()
            .all(|w| w == "TRUE" || w == "FALSE");
    if !plain_call {
        return Err(NotPgDump::Select);
    }
    if function == "SET_CONFIG" && statement.tokens != set_config_search_path() {
        return Err(NotPgDump::SetConfig);
    }
    Ok(())
}

fn set_config_search_path() -> Vec<Token> {
    let word = |w: &str| Token::Word(w.into());
    let plain = |t: &str| Token::Str {
        plain: true,
        text: t.into(),
    };
    vec![
        word("SELECT"),
        word("PG_CATALOG"),
        Token::Punct(b'.'),
        word("SET_CONFIG"),
        Token::Punct(b'('),
        plain("search_path"),
        Token::Punct(b','),
        plain(""),
        Token::Punct(b','),
        word("FALSE"),
        Token::Punct(b')'),
    ]
}

/// A pg_dump `SET`: a setting pg_dump writes, and for those that change how the
/// rest is read or run, pg_dump's own value (`SET ROLE` / `SET SESSION
/// AUTHORIZATION`, which pg_dump writes with `--role` and
/// `--use-set-session-authorization`, are left to the server's privileges).
fn set(statement: &Statement) -> Result<(), NotPgDump> {
    let mut rest = &statement.tokens[1..];
    if let Some(Token::Word(scope)) = rest.first()
        && (scope == "SESSION" || scope == "LOCAL")
    {
        rest = &rest[1..];
    }
    let name = match rest.first() {
        Some(Token::Word(word)) if word == "ROLE" || word == "AUTHORIZATION" => return Ok(()),
        Some(Token::Word(word)) => word.to_ascii_lowercase(),
        Some(Token::Quoted(name)) => name.clone(),
        _ => return Err(NotPgDump::SetWhat),
    };
    let Some((_, allowed)) = SETTINGS.iter().find(|(known, _)| *known == name) else {
        return Err(NotPgDump::NoSuchSetting {
            name: truncate(&name),
        });
    };
    let Some(allowed) = allowed else {
        return Ok(());
    };
    let value = match &rest[1..] {
        [Token::Punct(b'='), value] => Some(value),
        [Token::Word(to), value] if to == "TO" => Some(value),
        _ => None,
    };
    let value = value.and_then(Token::setting_value);
    match value {
        Some(value)
            if statement.token_count <= TOKENS_KEPT && allowed.contains(&value.as_str()) =>
        {
            Ok(())
        }
        _ => Err(NotPgDump::OtherValue {
            name,
            allowed: allowed[0],
        }),
    }
}

fn is_word_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

fn is_word_byte(byte: u8) -> bool {
    is_word_start(byte) || byte.is_ascii_digit() || byte == b'$'
}

/// `$tag$` (or `$$`) at the start of `text`, as psql's lexer reads a dollar quote.
fn dollar_tag(text: &[u8]) -> Option<Vec<u8>> {
    let body = &text[1..];
    let end = body.iter().position(|&b| b == b'$')?;
    let tag = &body[..end];
    let valid = tag.is_empty()
        || (is_word_start(tag[0])
            && tag[1..]
                .iter()
                .all(|&b| is_word_start(b) || b.is_ascii_digit()));
    valid.then(|| text[..end + 2].to_vec())
}

fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\
        SET standard_conforming_strings = on;\n\
        SELECT pg_catalog.set_config('search_path', '', false);\n\
        DROP TABLE IF EXISTS public.t;\n\
        CREATE FUNCTION public.f() RETURNS trigger LANGUAGE plpgsql AS $_$\nBEGIN\n  COMMIT;\n  -- \\! not a command\n  RETURN NEW;\nEND;\n$_$;\n\
        CREATE TABLE public.t (\n    id integer,\n    body text DEFAULT 'it''s; \\! fine'::text\n);\n\
        COMMENT ON TABLE public.t IS 'a /* comment */ \\o |x';\n\
        COPY public.t (id, body) FROM stdin;\n1\t\\! touch /tmp/pwned\n2\tCOPY x TO PROGRAM 'y';\n\\.\n\n\
        SELECT pg_catalog.setval('public.t_id_seq', 2, true);\n\
        /* nested /* block */ COMMIT; */\n\
        --\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc123\n";

    fn check(text: &str) -> Result<(), Rejected> {
        let mut check = DumpCheck::new(1 << 30);
        // Fed in small chunks: state must carry across chunk boundaries.
        for chunk in text.as_bytes().chunks(7) {
            check.feed(chunk)?;
        }
        check.finish()
    }

    fn with(statement: &str) -> String {
        GOOD.replace(
            "DROP TABLE IF EXISTS public.t;\n",
            &format!("DROP TABLE IF EXISTS public.t;\n{statement}\n"),
        )
    }

    fn rejected_at(text: &str) -> u64 {
        check(text).expect_err("must be refused").line
    }

    #[test]
    fn pg_dump_output_with_tricky_data_is_accepted() {
        check(GOOD).unwrap();
    }

    #[test]
    fn commands_are_refused_with_their_line() {
        // The inserted statement is on line 9.
        for bad in [
            "\\! touch /tmp/pwned",
            "\\copy t from program 'touch /tmp/x'",
            "\\o |touch /tmp/x",
            "\\connect other",
            "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned2';",
            "COPY public.t FROM PROGRAM 'id';",
            "SELECT 1 \\g |sh",
            "COMMIT;",
            "BEGIN;",
            "end;",
            "DO $$BEGIN PERFORM 1; END$$;",
            "LOAD 'evil';",
            "SELECT evil();",
            "SELECT pg_catalog.set_config(evil(), '', false);",
            "SELECT pg_catalog.setval('s', 1, true, true, true, true, true, evil());",
            "SET standard_conforming_strings = off;",
            "COPY t FROM stdin; SELECT 1;",
        ] {
            assert_eq!(rejected_at(&with(bad)), 9, "{bad}");
        }
    }

    #[test]
    fn not_a_dump_or_a_truncated_one_is_refused() {
        assert!(check("").is_err());
        assert!(check(&"\0".repeat(100)).is_err());
        assert!(check("SELECT 1;\n").is_err());
        let cut = &GOOD[..GOOD.find("2\tCOPY").unwrap()];
        assert!(check(cut).unwrap_err().reason.contains("COPY data"));
        let no_footer = GOOD.replace("-- PostgreSQL database dump complete", "--");
        assert!(check(&no_footer).is_err());
        let open_quote = GOOD.replace("DROP TABLE IF EXISTS public.t;", "COMMENT ON TABLE t IS 'x");
        assert!(check(&open_quote).is_err());
    }

    #[test]
    fn decompression_is_bounded() {
        let mut check = DumpCheck::new(10);
        assert!(check.feed(GOOD.as_bytes()).is_err());
    }

    #[test]
    fn a_string_that_ends_where_psql_ends_it_exposes_what_follows() {
        // With standard_conforming_strings on, \' does not escape: the string ends
        // and the meta-command after it is seen.
        assert!(check(&with("COMMENT ON TABLE t IS 'a\\'; \\! id")).is_err());
        // In an E'' string \' does escape, so the same text stays inside the string.
        check(&with("COMMENT ON TABLE t IS E'a\\'; \\\\! id';")).unwrap();
    }

    #[test]
    fn settings_that_change_how_a_dump_is_read_keep_pg_dumps_values() {
        for bad in [
            "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);",
            "SET SESSION standard_conforming_strings TO 'off';",
            "SET LOCAL standard_conforming_strings = off;",
            "SET \"standard_conforming_strings\" = off;",
            "SET client_encoding = 'SJIS';",
            "SET client_encoding TO BIG5;",
            "SET NAMES 'GBK';",
            "SELECT pg_catalog.set_config('client_encoding', 'GB18030', false);",
            "SET session_replication_role = origin;",
            "SET search_path = evil, pg_catalog;",
            "SET SCHEMA 'evil';",
            "SELECT pg_catalog.set_config('search_path', 'evil', false);",
            "SELECT pg_catalog.set_config('search_path', '', true);",
            "SET backslash_quote = on;",
            "ALTER DATABASE d SET standard_conforming_strings = off;",
            "ALTER ROLE r SET client_encoding = 'UHC';",
            "ALTER SYSTEM SET archive_command = 'touch /tmp/p';",
        ] {
            assert_eq!(rejected_at(&with(bad)), 9, "{bad}");
        }
        for good in [
            "SET client_encoding = 'SQL_ASCII';",
            "SET client_encoding = 'utf-8';",
            "SET standard_conforming_strings TO on;",
            "SET session_replication_role = replica;",
            "SET default_tablespace = fast;",
            "SET ROLE owner;",
            "SET SESSION AUTHORIZATION 'owner';",
            "ALTER FUNCTION public.f() SET search_path TO 'public';",
        ] {
            check(&with(good)).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
    }

    #[test]
    fn strings_and_comments_end_where_postgresql_ends_them() {
        for bad in [
            // A comment ends at a CR: what follows is SQL (or a meta-command).
            "-- comment\rSELECT evil();",
            "-- comment\r\\! id",
            // A string continued on the next line keeps its E'' escapes.
            "COMMENT ON TABLE t IS E'x'\n'\\'' \\! id';",
            // `$` is not part of a name: E'' after it is an escape string.
            "COMMENT ON TABLE t IS $E'\\'' \\! id';",
            // A number then `$a$` or `E'`: versions of PostgreSQL disagree.
            "COMMENT ON TABLE t IS 1$a$'$a$ \\! id';",
            "COMMENT ON TABLE t IS 1E'\\'' \\! id';",
            "COMMENT ON TABLE t IS $1$a$'$a$ \\! id';",
            // psql substitutes its variables before the server reads them.
            "COMMENT ON TABLE t IS :'DBNAME';",
            "COMMENT ON TABLE t IS :DBNAME;",
            // psql does not end a statement inside parentheses or a BEGIN body.
            "SELECT pg_catalog.setval('s', (1;\nDO $$BEGIN END$$;\n), true);",
            "CREATE FUNCTION public.begin() RETURNS integer LANGUAGE sql AS $$select 1$$;",
            // The server would refuse it, and psql would read the COPY data as SQL.
            "$ COPY public.t (id) FROM stdin;\n\\! id\n\\.",
            "COPY public.t (id) FROM $stdin;\n\\! id\n\\.",
            // A vertical tab after a string: whitespace for PostgreSQL 16, not 15.
            "COMMENT ON TABLE t IS 'a'\x0b\n'b';",
            // An empty quoted name: PostgreSQL's scanner refuses it (found by fuzzing).
            "COMMENT ON COLUMN t.\"\" IS 'x';",
            "COMMENT ON TABLE t IS E'\\u12';",
            &format!(
                "SELECT pg_catalog.setval('s', 1 {} 1, true);",
                "`".repeat(64)
            ),
        ] {
            assert!(check(&with(bad)).is_err(), "{bad:?}");
        }
        for good in [
            "COMMENT ON TABLE t IS E'x'\n'\\\\'' \\! id';",
            "COMMENT ON TABLE t IS U&'!0041' UESCAPE '!';",
            "COMMENT ON TABLE t IS 'a' -- one\n-- two\n'b';",
            "CREATE VIEW v AS SELECT (1.5e3 + .5 + 1e-3)::numeric AS n, a[1:2] FROM t;",
            "CREATE TABLE \"$x$\" (\"a\"\"b;\" integer, c$d integer, \"\"\"\" integer);",
            "COMMENT ON TABLE t IS $a$ $b$ ' $a$;",
        ] {
            check(&with(good)).unwrap_or_else(|e| panic!("{good:?}: {e}"));
        }
    }

    #[test]
    fn copy_data_ends_where_psql_ends_it() {
        let copy = "COPY public.t (id, body) FROM stdin;\n";
        // psql ends COPY data at `\.` CR LF: the meta-commands after it run.
        let attack = GOOD.replace(
            copy,
            &format!("{copy}0\tx\r\n\\.\r\n\\unrestrict abc123\r\n\\! id\r\n\\restrict abc123\r\n\\.\n{copy}"),
        );
        assert!(check(&attack).unwrap_err().reason.contains("meta-command"));
        // A dump with CRLF line ends is read as psql reads it.
        check(&GOOD.replace('\n', "\r\n")).unwrap();
        // A NUL hides the next line from psql's end-marker test.
        let nul = GOOD.replace(
            copy,
            &format!("{copy}0\tx\0\n\\.\nCOMMENT ON TABLE t IS '\n"),
        );
        assert!(check(&nul).unwrap_err().reason.contains("NUL"));
        // `\.` with more on its line is data, for psql as for the check.
        check(&GOOD.replace(copy, &format!("{copy}\\.x\n\\. \n"))).unwrap();
    }

    #[test]
    fn boundaries_are_recorded_where_pieces_end() {
        let text = "--\n-- PostgreSQL database dump\n--\n\\restrict k\nSET row_security = off;\nCOPY t FROM stdin;\n1\n\\.\n";
        let mut check = DumpCheck::recording(1 << 20);
        check.feed(text.as_bytes()).unwrap();
        let after = |s: &str| (text.find(s).unwrap() + s.len()) as u64;
        assert_eq!(
            check.boundaries(),
            [
                Boundary::Meta(after("--\n-- PostgreSQL database dump\n--\n")),
                Boundary::Statement(after("SET row_security = off;")),
                Boundary::Statement(after("FROM stdin;")),
                Boundary::CopyEnd(text.len() as u64),
            ]
        );
    }
}

// Explicit paths: the integration tests and the fuzz target (fuzz/) compile this file in too.
#[cfg(test)]
#[path = "dump_check/differential.rs"]
mod differential;
#[cfg(any(test, fuzzing))]
#[path = "dump_check/oracle.rs"]
pub mod oracle;
