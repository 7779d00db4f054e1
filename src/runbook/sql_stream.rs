//! Restores a plain-SQL dump over the doctor's own PostgreSQL session — no psql,
//! so no client with meta-commands exists on the path. The dump is split where
//! the validator (`DumpCheck`, the one lexer) ends each statement, and each
//! statement is sent as ONE extended-protocol message: the server refuses a
//! message holding two ("cannot insert multiple commands into a prepared
//! statement"), so it never runs a statement the validator did not see as one.
//! `COPY … FROM stdin` data goes through the copy-in protocol, streamed; it is
//! never read as SQL. pg_dump's `\restrict` / `\unrestrict` lines are checked
//! and skipped (any other meta-command is refused by the validator). All of it
//! runs in one transaction, committed only once the whole dump was read,
//! validated and matched its sha256, and every table's row count, read inside
//! that transaction, matches the manifest's.

use super::dump_check::{DumpCheck, Rejected};
use super::manifest::FileEntry;
use crate::files::HashingReader;
use bytes::{Bytes, BytesMut};
use flate2::read::GzDecoder;
use futures::SinkExt;
use regex::Regex;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::pin::Pin;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_postgres::{Client, CopyInSink};

/// COPY data is sent in messages of about this size; lines are read in pieces of at most this.
const PIECE: usize = 1 << 20;
/// The longest COPY end marker line (`\.` CR LF).
const MARKER: usize = 4;
/// The longest statement sent (pg_dump's are DDL, far smaller).
const MAX_STATEMENT: usize = 256 << 20;

/// What a dump is restored as, which decides the statements left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The database's own user (a backup the doctor signed): every statement runs.
    Owner,
    /// An unprivileged role (a foreign backup). Statements only an owner of
    /// everything could run are left out, on purpose: `ALTER … OWNER TO` (what
    /// the role creates is given to the database's user once restored) and
    /// `DROP EXTENSION` / `COMMENT ON EXTENSION` (extensions stay as the server
    /// has them; `CREATE EXTENSION IF NOT EXISTS` still runs, as the role: a
    /// no-op when present, refused by the server when it needs a superuser).
    Unprivileged,
}

/// One step of the restore, in the dump's order.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Statement {
        text: String,
        line: u64,
    },
    CopyIn {
        text: String,
        line: u64,
    },
    CopyData(Bytes),
    CopyDone,
    /// All of the dump was read, valid and matched its sha256.
    End,
}

/// Why a dump was not restored (the transaction was rolled back).
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("{file}: {reason}")]
    Dump { file: String, reason: String },
    /// The rows restored could not be counted.
    #[error("{file}: {source}")]
    Counts {
        file: String,
        #[source]
        source: super::pg_session::DescribeError,
    },
    #[error("{file}: {rejected}")]
    Refused { file: String, rejected: Rejected },
    #[error("{file} line {line}: {reason} (in {statement:?})")]
    Server {
        file: String,
        line: u64,
        statement: String,
        reason: String,
    },
    #[error("{file}: the row counts differ from the backup's: {differing}")]
    CountsDiffer { file: String, differing: String },
    #[error("{file}: the server did not answer within {stall:?} (paused or hung?): stopped")]
    Stalled { file: String, stall: Duration },
}

/// What the restore must end with: the dump and each table's row count.
pub struct Expected<'a> {
    pub entry: &'a FileEntry,
    pub tables: &'a BTreeMap<String, i64>,
}

/// Restores `file` (the gzip dump `expected.entry` describes) over `client` in
/// one transaction; a server that answers nothing for `stall` ends it.
pub async fn restore(
    client: &Client,
    file: std::fs::File,
    expected: Expected<'_>,
    policy: Policy,
    stall: Duration,
) -> Result<(), StreamError> {
    let entry = expected.entry;
    let (sender, receiver) = mpsc::channel(16);
    let read_entry = entry.clone();
    let reader = tokio::task::spawn_blocking(move || read_dump(file, &read_entry, policy, &sender));
    let applied = apply(client, receiver, &expected, stall).await;
    let read = reader.await.map_err(|e| StreamError::Dump {
        file: entry.name.clone(),
        reason: e.to_string(),
    })?;
    // The reader's reason first: the server saw a dump cut short because of it.
    read?;
    applied
}

/// Sends each piece to the server: `BEGIN`, the dump, and `COMMIT` only on
/// `End` and once the row counts match.
async fn apply(
    client: &Client,
    mut pieces: mpsc::Receiver<Piece>,
    expected: &Expected<'_>,
    stall: Duration,
) -> Result<(), StreamError> {
    let file = expected.entry.name.as_str();
    let (mut line, mut statement) = (0, String::new());
    let failed = |line: u64, statement: &str, e: tokio_postgres::Error| StreamError::Server {
        file: file.to_string(),
        line,
        statement: statement.chars().take(80).collect(),
        reason: super::pg_session::reason(&e),
    };
    within(stall, file, client.batch_execute("BEGIN"))
        .await?
        .map_err(|e| failed(0, "BEGIN", e))?;
    let mut sink: Option<Pin<Box<CopyInSink<Bytes>>>> = None;
    while let Some(piece) = pieces.recv().await {
        match piece {
            Piece::Statement { text, line: at } => {
                (line, statement) = (at, text);
                within(stall, file, client.query_typed(&statement, &[]))
                    .await?
                    .map_err(|e| failed(line, &statement, e))?;
            }
            Piece::CopyIn { text, line: at } => {
                (line, statement) = (at, text);
                let started = within(stall, file, client.copy_in(&statement))
                    .await?
                    .map_err(|e| failed(line, &statement, e))?;
                sink = Some(Box::pin(started));
            }
            Piece::CopyData(data) => {
                let copy = sink.as_mut().expect("COPY data follows COPY");
                within(stall, file, copy.send(data))
                    .await?
                    .map_err(|e| failed(line, &statement, e))?;
            }
            Piece::CopyDone => {
                let mut copy = sink.take().expect("the end of COPY data follows COPY");
                within(stall, file, copy.as_mut().finish())
                    .await?
                    .map_err(|e| failed(line, &statement, e))?;
            }
            Piece::End => {
                let (_, tables) = within(stall, file, super::pg_session::describe(client))
                    .await?
                    .map_err(|source| StreamError::Counts {
                        file: file.to_string(),
                        source,
                    })?;
                let differing = count_differences(expected.tables, &tables);
                if !differing.is_empty() {
                    return Err(StreamError::CountsDiffer {
                        file: file.to_string(),
                        differing: differing.join(", "),
                    });
                }
                return within(stall, file, client.batch_execute("COMMIT"))
                    .await?
                    .map_err(|e| failed(line, "COMMIT", e));
            }
        }
    }
    // The reader stopped before the end: its error says why (nothing committed).
    Err(StreamError::Dump {
        file: file.to_string(),
        reason: "the dump was not read to its end".into(),
    })
}

async fn within<T>(
    stall: Duration,
    file: &str,
    future: impl Future<Output = T>,
) -> Result<T, StreamError> {
    tokio::time::timeout(stall, future)
        .await
        .map_err(|_| StreamError::Stalled {
            file: file.to_string(),
            stall,
        })
}

/// Decompresses, validates and splits the dump into `sender`; sends `End` only
/// once all of it was valid and matched the manifest's sha256. Returns `Ok`
/// also when the receiver went away (it reports its own error).
fn read_dump(
    file: std::fs::File,
    entry: &FileEntry,
    policy: Policy,
    sender: &mpsc::Sender<Piece>,
) -> Result<(), StreamError> {
    let dump_error = |reason: String| StreamError::Dump {
        file: entry.name.clone(),
        reason,
    };
    let mut hashed = HashingReader::new(file.take(entry.size));
    let mut splitter = Splitter::new(DumpCheck::new(entry.max_raw_size()), policy, sender);
    let split = {
        let mut lines = BufReader::with_capacity(PIECE, GzDecoder::new(&mut hashed));
        splitter.all(&mut lines)
    };
    match split {
        Ok(()) => {}
        Err(Stop::ReceiverGone) => return Ok(()),
        Err(Stop::Refused(rejected)) => {
            return Err(StreamError::Refused {
                file: entry.name.clone(),
                rejected,
            });
        }
        Err(Stop::Unreadable(e)) => return Err(dump_error(format!("decompressing: {e}"))),
    }
    std::io::copy(&mut hashed, &mut std::io::sink()).map_err(|e| dump_error(e.to_string()))?;
    if hashed.finish() != entry.sha256 {
        return Err(dump_error("changed since it was verified (sha256)".into()));
    }
    let _ = sender.blocking_send(Piece::End);
    Ok(())
}

enum Stop {
    ReceiverGone,
    Refused(Rejected),
    Unreadable(std::io::Error),
}

impl From<Rejected> for Stop {
    fn from(rejected: Rejected) -> Stop {
        Stop::Refused(rejected)
    }
}

/// Follows the validator line by line and cuts the dump where it ends statements.
struct Splitter<'a> {
    check: DumpCheck,
    policy: Policy,
    sender: &'a mpsc::Sender<Piece>,
    /// The statement being read, from the end of the previous one.
    sql: Vec<u8>,
    /// Where it starts (a line number).
    sql_line: u64,
    lines_read: u64,
    copy: BytesMut,
    at_line_start: bool,
    in_meta_command: bool,
}

impl<'a> Splitter<'a> {
    fn new(check: DumpCheck, policy: Policy, sender: &'a mpsc::Sender<Piece>) -> Self {
        Splitter {
            check,
            policy,
            sender,
            sql: Vec::new(),
            sql_line: 1,
            lines_read: 0,
            copy: BytesMut::with_capacity(PIECE),
            at_line_start: true,
            in_meta_command: false,
        }
    }

    /// Every line of `lines` (each cut in pieces of at most `PIECE` bytes; COPY
    /// data in bulk), then the end.
    fn all(&mut self, lines: &mut impl BufRead) -> Result<(), Stop> {
        let mut piece = Vec::with_capacity(PIECE);
        loop {
            if self.check.in_copy_data() {
                if self.copy_data(lines)? {
                    continue;
                }
                break;
            }
            piece.clear();
            let n = lines
                .by_ref()
                .take(PIECE as u64)
                .read_until(b'\n', &mut piece)
                .map_err(Stop::Unreadable)?;
            if n == 0 {
                break;
            }
            self.piece(&piece)?;
        }
        let check = std::mem::replace(&mut self.check, DumpCheck::new(0));
        check.finish()?;
        if !self.sql.is_empty() {
            return Err(Stop::Refused(Rejected {
                line: self.lines_read.max(1),
                reason: "the last line has no newline (not pg_dump output)".into(),
            }));
        }
        Ok(())
    }

    fn send(&self, piece: Piece) -> Result<(), Stop> {
        self.sender
            .blocking_send(piece)
            .map_err(|_| Stop::ReceiverGone)
    }

    fn piece(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let complete = bytes.last() == Some(&b'\n');
        let line_start = std::mem::replace(&mut self.at_line_start, complete);
        if complete {
            self.lines_read += 1;
        }
        if line_start && self.check.between_statements() && bytes.first() == Some(&b'\\') {
            self.in_meta_command = true;
        }
        let ended_before = self.check.statements_ended();
        self.check.feed(bytes)?;
        if self.in_meta_command {
            // Validated (\restrict, \unrestrict) and not sent: no server runs it.
            self.in_meta_command = !complete;
            return Ok(());
        }
        if self.sql.is_empty() {
            self.sql_line = self.lines_read;
        }
        self.sql.extend_from_slice(bytes);
        if self.sql.len() > MAX_STATEMENT {
            return Err(self.refuse(format!("a statement longer than {MAX_STATEMENT} bytes")));
        }
        if complete {
            self.line_ended(self.check.statements_ended() - ended_before)?;
        }
        Ok(())
    }

    /// A whole SQL line was read in which `ended` statements ended.
    fn line_ended(&mut self, ended: u64) -> Result<(), Stop> {
        let copy = self.check.in_copy_data();
        if !copy && !self.check.between_statements() {
            if ended > 0 {
                return Err(self.refuse(
                    "a statement begins on the line where another ends (not pg_dump's layout)"
                        .into(),
                ));
            }
            return Ok(());
        }
        if ended == 0 {
            // Comments and blank lines between statements.
            self.sql.clear();
            return Ok(());
        }
        if ended > 1 {
            return Err(
                self.refuse("two statements on one line (pg_dump writes one per line)".into())
            );
        }
        let line = self.sql_line;
        let text = String::from_utf8(std::mem::take(&mut self.sql))
            .map_err(|_| self.refuse("a statement that is not UTF-8 text".into()))?;
        if copy {
            self.copy.clear();
            return self.send(Piece::CopyIn { text, line });
        }
        if self.policy == Policy::Unprivileged && left_out(&text) {
            return Ok(());
        }
        self.send(Piece::Statement { text, line })
    }

    /// COPY data straight from the reader's buffer, not line by line: the
    /// check takes what is data, up to and with its end marker, which is not
    /// sent (the copy-in protocol ends the data itself). The data goes in
    /// pieces of about `PIECE` bytes that always keep back the last
    /// `MARKER` bytes read, so that the end marker, when it comes, is still
    /// here to be cut off. False at the end of the input (a truncated dump:
    /// the check refuses it).
    fn copy_data(&mut self, input: &mut impl BufRead) -> Result<bool, Stop> {
        let buffered = input.fill_buf().map_err(Stop::Unreadable)?;
        if buffered.is_empty() {
            return Ok(false);
        }
        let taken = self.check.feed_copy_data(buffered)?;
        self.copy.extend_from_slice(&buffered[..taken]);
        input.consume(taken);
        self.lines_read = self.check.lines();
        if self.check.in_copy_data() {
            self.at_line_start = self.copy.last() == Some(&b'\n');
            if self.copy.len() >= PIECE {
                let data = self.copy.split_to(self.copy.len() - MARKER).freeze();
                self.send(Piece::CopyData(data))?;
            }
            return Ok(true);
        }
        // The end marker's line, as the check ended the data with it.
        let marker = if self.copy.ends_with(b"\\.\r\n") {
            4
        } else {
            3
        };
        debug_assert!(self.copy.ends_with(b"\\.\n") || marker == 4);
        self.copy.truncate(self.copy.len() - marker);
        self.at_line_start = true;
        if !self.copy.is_empty() {
            let data = self.copy.split().freeze();
            self.send(Piece::CopyData(data))?;
        }
        self.send(Piece::CopyDone)?;
        Ok(true)
    }

    fn refuse(&self, reason: String) -> Stop {
        Stop::Refused(Rejected {
            line: self.lines_read.max(1),
            reason,
        })
    }
}

/// "tickets has 3 rows, the backup 4" for every table whose count differs.
pub fn count_differences(
    expected: &BTreeMap<String, i64>,
    actual: &[(String, i64)],
) -> Vec<String> {
    let mut differing: Vec<String> = actual
        .iter()
        .filter(|(t, n)| expected.get(t).is_some_and(|e| e != n))
        .map(|(t, n)| format!("{t} has {n} rows, the backup {}", expected[t]))
        .collect();
    differing.extend(
        expected
            .keys()
            .filter(|t| !actual.iter().any(|(a, _)| a == *t))
            .map(|t| format!("{t} is missing")),
    );
    differing
}

/// The statements the unprivileged policy leaves out (see `Policy`), by
/// their exact pg_dump shape; anything else is sent and judged by the server.
fn left_out(statement: &str) -> bool {
    static SHAPES: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:ALTER [A-Z ]+ [^;'$\\]+ OWNER TO [^;'$\\]+",
            r#"|DROP EXTENSION (?:IF EXISTS )?[a-z0-9_"]+(?: CASCADE)?"#,
            r#"|COMMENT ON EXTENSION [a-z0-9_"]+ IS '(?:[^'\\]|'')*'"#,
            r");\n?$"
        ))
        .expect("a valid regex")
    });
    let code = statement
        .split_inclusive('\n')
        .skip_while(|l| l.trim().is_empty() || l.starts_with("--"))
        .collect::<String>();
    SHAPES.is_match(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\
        SET standard_conforming_strings = on;\n\
        SELECT pg_catalog.set_config('search_path', '', false);\n\
        DROP EXTENSION IF EXISTS pg_stat_statements;\n\
        CREATE FUNCTION public.f() RETURNS trigger LANGUAGE plpgsql AS $_$\nBEGIN\n  RETURN NEW;\nEND;\n$_$;\n\
        \n--\n-- Name: t\n--\n\n\
        CREATE TABLE public.t (\n    id integer,\n    body text DEFAULT 'it''s; \\! fine'::text\n);\n\
        ALTER TABLE public.t OWNER TO \"user\";\n\
        COPY public.t (id, body) FROM stdin;\n1\t\\! touch /tmp/pwned\n2\tx;\n\\.\n\n\
        --\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc123\n";

    fn split(text: &str, policy: Policy) -> Result<Vec<Piece>, Rejected> {
        let (sender, mut receiver) = mpsc::channel(1000);
        let mut splitter = Splitter::new(DumpCheck::new(1 << 30), policy, &sender);
        let mut lines = BufReader::with_capacity(16, text.as_bytes());
        splitter.all(&mut lines).map_err(|e| match e {
            Stop::Refused(r) => r,
            Stop::ReceiverGone | Stop::Unreadable(_) => panic!("stopped"),
        })?;
        drop(sender);
        let mut pieces = Vec::new();
        while let Ok(piece) = receiver.try_recv() {
            pieces.push(piece);
        }
        Ok(pieces)
    }

    fn statements(pieces: &[Piece]) -> Vec<&str> {
        pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Statement { text, .. } | Piece::CopyIn { text, .. } => Some(text.trim()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_dump_is_cut_where_the_validator_ends_each_statement() {
        let pieces = split(DUMP, Policy::Owner).unwrap();
        let statements = statements(&pieces);
        assert_eq!(statements.len(), 7, "{statements:#?}");
        assert!(statements[3].starts_with("CREATE FUNCTION") && statements[3].ends_with("$_$;"));
        assert!(
            statements[4].starts_with("CREATE TABLE"),
            "comment lines are not sent"
        );
        assert_eq!(statements[6], "COPY public.t (id, body) FROM stdin;");
        assert!(
            pieces.contains(&Piece::CopyData(Bytes::from_static(
                b"1\t\\! touch /tmp/pwned\n2\tx;\n"
            ))),
            "COPY data goes as data, without its end marker: {pieces:?}"
        );
        assert_eq!(pieces[pieces.len() - 1], Piece::CopyDone);
        assert!(!statements.iter().any(|s| s.contains("restrict")));
    }

    #[test]
    fn the_unprivileged_policy_leaves_out_owner_and_extension_statements() {
        let pieces = split(DUMP, Policy::Unprivileged).unwrap();
        let statements = statements(&pieces);
        assert_eq!(statements.len(), 5, "{statements:#?}");
        assert!(
            !statements
                .iter()
                .any(|s| s.contains("OWNER TO") || s.contains("EXTENSION"))
        );
        // A statement shaped otherwise is sent (and judged by the server).
        assert!(!left_out("ALTER TABLE t OWNER TO x; SELECT 1;\n"));
        assert!(!left_out("ALTER TABLE t OWNER TO 'x';\n"));
        assert!(left_out(
            "--\n-- c\n--\n\nALTER FUNCTION public.f(integer, text) OWNER TO \"user\";\n"
        ));
        assert!(left_out("COMMENT ON EXTENSION x IS 'it''s';\n"));
    }

    #[test]
    fn copy_data_goes_whole_in_bounded_pieces_without_its_end_marker() {
        let copy = "COPY public.t (id, body) FROM stdin;\n";
        // Three PIECEs of lines, one line of two PIECEs, `\.` inside lines.
        let mut data = String::new();
        for i in 0..(3 * PIECE / 40) {
            data.push_str(&format!("{i}\tbody \\. of line {i:>16}\n"));
        }
        data.push_str(&format!("0\t{}\\.\n", "x".repeat(2 * PIECE)));
        for marker in ["\\.\n", "\\.\r\n"] {
            let dump = DUMP.replace(
                &format!("{copy}1\t\\! touch /tmp/pwned\n2\tx;\n\\.\n"),
                &format!("{copy}{data}{marker}"),
            );
            let (sender, mut receiver) = mpsc::channel(1000);
            let mut splitter = Splitter::new(DumpCheck::new(1 << 30), Policy::Owner, &sender);
            let mut lines = BufReader::with_capacity(PIECE, dump.as_bytes());
            splitter.all(&mut lines).map_err(|_| "refused").unwrap();
            drop(sender);
            let (mut sent, mut pieces) = (Vec::new(), 0);
            while let Ok(piece) = receiver.try_recv() {
                match piece {
                    Piece::CopyData(bytes) => {
                        assert!(bytes.len() <= 3 * PIECE, "{} bytes", bytes.len());
                        sent.extend_from_slice(&bytes);
                        pieces += 1;
                    }
                    Piece::CopyDone => break,
                    _ => {}
                }
            }
            assert!(pieces > 3, "{pieces} pieces");
            assert!(
                sent == data.as_bytes(),
                "{marker:?}: the data, whole, without its marker"
            );
            assert_eq!(
                statements(&split(&dump, Policy::Owner).unwrap()).len(),
                7,
                "what follows the COPY block is read as before"
            );
        }
    }

    #[test]
    fn layouts_pg_dump_never_writes_are_refused() {
        let two = DUMP.replace(
            "SET standard_conforming_strings = on;\n",
            "SET standard_conforming_strings = on; SET lock_timeout = 0;\n",
        );
        assert!(
            split(&two, Policy::Owner)
                .unwrap_err()
                .to_string()
                .contains("two statements")
        );
        let begins = DUMP.replace(
            "SET standard_conforming_strings = on;\n",
            "SET standard_conforming_strings = on; CREATE TABLE x (\n);\n",
        );
        assert!(
            split(&begins, Policy::Owner)
                .unwrap_err()
                .to_string()
                .contains("begins on the line")
        );
        let no_newline = DUMP.trim_end().to_string() + "\nSET lock_timeout = 0;";
        assert!(split(&no_newline, Policy::Owner).is_err());
    }
}
