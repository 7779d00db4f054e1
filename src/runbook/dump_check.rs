//! Validates a plain-SQL dump as pg_dump's output before psql may see it: the
//! header and the closing line, psql meta-commands limited to what pg_dump
//! writes (`\restrict` / `\unrestrict`), only the statement kinds pg_dump
//! writes, no `PROGRAM` in `COPY`, no transaction control. Quotes, comments,
//! dollar quotes and COPY data are tracked the way psql's lexer does, so data
//! is never mistaken for a command and a command never hides in what looks like
//! data. Fed in chunks (constant memory); every error names its line.

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
/// How many leading words of a statement are kept for its checks.
const WORDS_KEPT: usize = 8;

/// Why a dump is refused, with the line where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lexer {
    Normal,
    BlockComment(u32),
    Quoted { escapes: bool },
    Identifier,
    Dollar(Vec<u8>),
}

/// What is known of the statement being read.
#[derive(Default)]
struct Statement {
    words: Vec<String>,
    count: usize,
    last_two: [String; 2],
    program: bool,
    started_on: u64,
}

impl Statement {
    fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    fn push(&mut self, word: String) {
        if word == "PROGRAM" {
            self.program = true;
        }
        self.count += 1;
        self.last_two = [std::mem::take(&mut self.last_two[1]), word.clone()];
        if self.words.len() < WORDS_KEPT {
            self.words.push(word);
        }
    }
}

pub struct DumpCheck {
    lexer: Lexer,
    statement: Statement,
    line: Vec<u8>,
    line_number: u64,
    in_copy_data: bool,
    copy_line: Vec<u8>,
    header_seen: bool,
    footer_seen: bool,
    bytes: u64,
    max_bytes: u64,
    /// Statements accepted so far (see `statements_ended`).
    ended: u64,
}

impl DumpCheck {
    /// A check that refuses a dump decompressing to more than `max_bytes`.
    pub fn new(max_bytes: u64) -> DumpCheck {
        DumpCheck {
            lexer: Lexer::Normal,
            statement: Statement::default(),
            line: Vec::new(),
            line_number: 0,
            in_copy_data: false,
            copy_line: Vec::new(),
            header_seen: false,
            footer_seen: false,
            bytes: 0,
            max_bytes,
            ended: 0,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Rejected> {
        self.bytes += chunk.len() as u64;
        if self.bytes > self.max_bytes {
            return Err(self.reject(format!(
                "the dump decompresses to more than the {} bytes the manifest allows",
                self.max_bytes
            )));
        }
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.in_copy_data {
                rest = self.copy_data(rest);
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
            self.sql_line(&line)?;
        }
        Ok(())
    }

    /// The end of the dump: it must be complete, with nothing left open.
    pub fn finish(mut self) -> Result<(), Rejected> {
        if self.bytes == 0 {
            return Err(self.reject("the dump is empty".into()));
        }
        if self.in_copy_data {
            return Err(self.reject("the dump ends inside COPY data (truncated)".into()));
        }
        if !self.line.is_empty() {
            self.line_number += 1;
            let line = std::mem::take(&mut self.line);
            self.sql_line(&line)?;
        }
        if self.lexer != Lexer::Normal || !self.statement.is_empty() {
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

    /// COPY data is passed through unread until the line `\.`: only each line's
    /// first bytes are looked at (newlines found with memchr). Returns what follows.
    fn copy_data<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let mut rest = data;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, after) = (&rest[..end], &rest[end + 1..]);
            self.remember_copy_start(line);
            self.line_number += 1;
            let ended = self.copy_line == b"\\.";
            self.copy_line.clear();
            rest = after;
            if ended {
                self.in_copy_data = false;
                return rest;
            }
        }
        self.remember_copy_start(rest);
        &[]
    }

    /// Keeps the first 3 bytes of the COPY line being read (enough to tell `\.`).
    fn remember_copy_start(&mut self, bytes: &[u8]) {
        let wanted = 3usize.saturating_sub(self.copy_line.len()).min(bytes.len());
        self.copy_line.extend_from_slice(&bytes[..wanted]);
    }

    fn sql_line(&mut self, line: &[u8]) -> Result<(), Rejected> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.contains(&0) {
            return Err(self.reject("a NUL byte (not pg_dump output)".into()));
        }
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

    /// Lexes one SQL line, carrying the lexer state to the next.
    fn scan(&mut self, line: &[u8]) -> Result<(), Rejected> {
        let mut i = 0;
        while i < line.len() {
            let byte = line[i];
            match &mut self.lexer {
                Lexer::BlockComment(depth) => {
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
                    if *escapes && byte == b'\\' {
                        i += 1;
                    } else if byte == b'\'' {
                        self.lexer = Lexer::Normal;
                    }
                }
                Lexer::Identifier => {
                    if byte == b'"' {
                        self.lexer = Lexer::Normal;
                    }
                }
                Lexer::Dollar(tag) => {
                    if line[i..].starts_with(tag) {
                        i += tag.len() - 1;
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
        Ok(())
    }

    /// One token of SQL outside quotes and comments, from `line[i]`; returns where the next starts.
    fn normal(&mut self, line: &[u8], i: usize) -> Result<usize, Rejected> {
        let byte = line[i];
        let rest = &line[i..];
        if self.statement.is_empty() && !byte.is_ascii_whitespace() {
            self.statement.started_on = self.line_number;
        }
        if rest.starts_with(b"--") {
            return Ok(line.len());
        }
        if rest.starts_with(b"/*") {
            self.lexer = Lexer::BlockComment(1);
            return Ok(i + 2);
        }
        let after_word = i > 0 && is_word_byte(line[i - 1]);
        match byte {
            b'\'' => {
                let escapes = i > 0
                    && matches!(line[i - 1], b'E' | b'e')
                    && !(i > 1 && is_word_byte(line[i - 2]));
                self.lexer = Lexer::Quoted { escapes };
                Ok(i + 1)
            }
            b'"' => {
                self.lexer = Lexer::Identifier;
                self.statement.push("\"".into());
                Ok(i + 1)
            }
            b'$' if !after_word => match dollar_tag(rest) {
                Some(tag) => {
                    let next = i + tag.len();
                    self.lexer = Lexer::Dollar(tag);
                    Ok(next)
                }
                None => Ok(i + 1),
            },
            b'\\' => Err(self.reject(format!(
                "psql meta-command inside a statement: {:?}",
                truncate(&String::from_utf8_lossy(rest))
            ))),
            b';' => {
                self.end_statement(&line[i + 1..])?;
                Ok(i + 1)
            }
            b if is_word_start(b) && !after_word => {
                let end = line[i..]
                    .iter()
                    .position(|&b| !is_word_byte(b))
                    .map_or(line.len(), |n| i + n);
                let word = String::from_utf8_lossy(&line[i..end]).to_ascii_uppercase();
                self.statement.push(word);
                Ok(end)
            }
            _ => Ok(i + 1),
        }
    }

    /// Judges the statement that `;` just ended; `rest` is what follows on its line.
    fn end_statement(&mut self, rest: &[u8]) -> Result<(), Rejected> {
        let statement = std::mem::take(&mut self.statement);
        let Some(first) = statement.words.first() else {
            return Ok(());
        };
        let line = statement.started_on;
        let refuse = |reason: String| Err(Rejected { line, reason });
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
                if statement.last_two != ["FROM", "STDIN"] {
                    return refuse("COPY that is not COPY … FROM stdin".into());
                }
                if !rest.iter().all(u8::is_ascii_whitespace) {
                    return refuse("text after COPY … FROM stdin; on the same line".into());
                }
                self.in_copy_data = true;
                self.copy_line.clear();
            }
            "SELECT" => {
                let function = statement.words.get(2).map(String::as_str).unwrap_or("");
                let plain_call = statement.count <= WORDS_KEPT
                    && second == "PG_CATALOG"
                    && SELECTED_FUNCTIONS.contains(&function)
                    && statement.words[3..]
                        .iter()
                        .all(|w| w == "TRUE" || w == "FALSE");
                if !plain_call {
                    return refuse(
                        "SELECT that is not one of pg_dump's pg_catalog calls (set_config, setval, lo_*)"
                            .into(),
                    );
                }
            }
            "SET" if second == "STANDARD_CONFORMING_STRINGS" && statement.last_two[1] != "ON" => {
                return refuse("standard_conforming_strings must stay on".into());
            }
            _ => {}
        }
        self.ended += 1;
        Ok(())
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
}
