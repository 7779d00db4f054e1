//! A log line's severity, read from the shape it is written in: JSON (pino
//! and bunyan numbers, winston and most others' words, GELF's syslog
//! numbers), logfmt (`level=error`), or plain text with a level marker
//! (`ERROR`, `[error]`, `Error:`, Python's `ERROR:root:`, Android's `E/`,
//! glog's `E0102`, syslog's `<3>`, Redis' `#`).

use serde_json::{Map, Value};

/// Severity, least to most severe; `--level warn` keeps Warn and above.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    serde::Deserialize,
    serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

/// The JSON keys loggers write a level under (pino, bunyan, winston: `level`;
/// log15: `lvl`; Google Cloud: `severity`; python-json-logger: `levelname`;
/// Elastic Common Schema: `log.level`; Serilog's compact form: `@l`).
const JSON_KEYS: [&str; 7] = [
    "level",
    "lvl",
    "severity",
    "levelname",
    "log.level",
    "loglevel",
    "@l",
];
/// The logfmt keys of a level (logrus, go-kit, log15, slog).
const LOGFMT_KEYS: [&str; 4] = ["level", "lvl", "severity", "loglevel"];
/// How many words of a plain line's head may hold its level marker (after a
/// date, a time, a zone, a pid, a thread or a logger name).
const HEAD_WORDS: usize = 8;

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// A level's name as loggers write it, in any case (log15's four-letter
    /// `eror`/`crit`/`dbug` too; PostgreSQL's `LOG`, `PANIC`).
    pub fn from_word(word: &str) -> Option<Level> {
        Some(match word.to_ascii_lowercase().as_str() {
            "trace" | "debug" | "dbug" | "verbose" | "silly" | "finest" | "finer" | "fine" => {
                Level::Debug
            }
            "info" | "information" | "notice" | "log" | "http" | "config" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" | "err" | "eror" | "severe" => Level::Error,
            "fatal" | "panic" | "critical" | "crit" | "emerg" | "emergency" | "alert" => {
                Level::Fatal
            }
            _ => return None,
        })
    }

    /// A number: pino's and bunyan's 10–60, or a syslog severity 0–7 (GELF).
    fn from_number(n: u64) -> Level {
        match n {
            0..=2 => Level::Fatal,
            3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            7..=29 => Level::Debug,
            30..=39 => Level::Info,
            40..=49 => Level::Warn,
            50..=59 => Level::Error,
            _ => Level::Fatal,
        }
    }

    fn from_json(value: &Value) -> Option<Level> {
        match value {
            Value::Number(n) => n.as_u64().map(Level::from_number),
            // winston's colorize() leaves escape sequences around the word.
            Value::String(s) => Level::from_word(crate::terminal_text::clean(s).trim()),
            _ => None,
        }
    }
}

/// Takes the level out of a JSON line's fields (the key it was under is
/// removed, so it is not shown twice); `None` when no key holds one.
pub fn take_json(fields: &mut Map<String, Value>) -> Option<Level> {
    let nested = fields
        .get("log")
        .and_then(|log| log.get("level"))
        .and_then(Level::from_json);
    if nested.is_some() {
        return nested;
    }
    let (key, level) = JSON_KEYS
        .iter()
        .find_map(|k| fields.get(*k).and_then(Level::from_json).map(|l| (*k, l)))?;
    fields.remove(key);
    Some(level)
}

/// The level a text line states: logfmt's `level=`, else a plain marker;
/// `None` when it states none.
pub fn of_text(text: &str) -> Option<Level> {
    of_logfmt(text).or_else(|| of_plain(text))
}

/// `level=error` (or `lvl=`, `severity=`), its value maybe quoted, as a key
/// of the line (not inside another key's quoted value).
fn of_logfmt(text: &str) -> Option<Level> {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        let key_end = rest.find(['=', ' ']).unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = &rest[key_end..];
        let Some(after) = rest.strip_prefix('=') else {
            continue;
        };
        let (value, after) = logfmt_value(after);
        if LOGFMT_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            return Level::from_word(value);
        }
        rest = after;
    }
}

/// A logfmt value (`"…"` with `\"` escapes, or up to a space) and what follows it.
fn logfmt_value(text: &str) -> (&str, &str) {
    if let Some(quoted) = text.strip_prefix('"') {
        let mut escaped = false;
        for (at, c) in quoted.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => return (&quoted[..at], &quoted[at + 1..]),
                _ => escaped = false,
            }
        }
        return (quoted, "");
    }
    let end = text.find(' ').unwrap_or(text.len());
    (&text[..end], &text[end..])
}

/// A plain line's level marker: syslog's `<PRI>`, Redis' role marker, then
/// the first word of its head that is one (see `marker`); a line that starts
/// a Python or Java trace is an error.
fn of_plain(text: &str) -> Option<Level> {
    if let Some(level) = syslog_priority(text).or_else(|| redis_marker(text)) {
        return Some(level);
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with("Traceback (most recent call last)")
        || trimmed.starts_with("Exception in thread ")
    {
        return Some(Level::Error);
    }
    let mut after_prefix = true;
    for (index, word) in text.split_whitespace().take(HEAD_WORDS).enumerate() {
        if let Some(level) = marker(word, index, after_prefix) {
            return Some(level);
        }
        after_prefix &= is_prefix(word);
    }
    None
}

/// A word a line's prefix is made of: a date, a time, a pid (digits in it),
/// something in brackets, a separator.
fn is_prefix(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit())
        || word.starts_with('[')
        || matches!(word, "-" | "|" | "UTC")
}

/// `<3>…`: the syslog priority's severity (priority mod 8).
fn syslog_priority(text: &str) -> Option<Level> {
    let rest = text.strip_prefix('<')?;
    let (digits, _) = rest.split_once('>')?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let priority: u64 = digits.parse().ok()?;
    (priority <= 191).then(|| Level::from_number(priority % 8))
}

/// `1:M 28 Nov 2026 08:00:00.000 # …`: Redis' marker after its time (`.`
/// debug, `-` verbose, `*` notice, `#` warning).
fn redis_marker(text: &str) -> Option<Level> {
    let mut words = text.split_whitespace();
    let pid_role = words.next()?;
    let (pid, role) = pid_role.split_once(':')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || role.len() != 1 {
        return None;
    }
    match words.nth(4)? {
        "#" => Some(Level::Warn),
        "*" => Some(Level::Info),
        "." | "-" => Some(Level::Debug),
        _ => None,
    }
}

/// A word that marks a level: a level's name in capitals anywhere in the
/// head (`ERROR`, `WARN:`), in brackets (`[error]`, `<warn>`, Apache's
/// `[core:error]`), or — first, or after a prefix of dates, pids and
/// brackets only — before a colon (`error:`, `Error:`, Python's
/// `ERROR:root:…`), Android's `E/Tag`, glog's `E0102` or a lone `E`.
fn marker(word: &str, index: usize, after_prefix: bool) -> Option<Level> {
    let bracketed = word
        .strip_prefix(['[', '<', '('])
        .map(|w| w.trim_end_matches([']', '>', ')', ':', ',']));
    if let Some(inner) = bracketed {
        let name = inner.rsplit(':').next().unwrap_or(inner);
        return Level::from_word(name);
    }
    let (name, colon) = match word.split_once(':') {
        Some((name, _)) => (name, true),
        None => (word.trim_end_matches([',', '|']), false),
    };
    if let Some(level) = Level::from_word(name) {
        let capitals = name.bytes().all(|b| b.is_ascii_uppercase());
        return (capitals || (colon && after_prefix)).then_some(level);
    }
    if after_prefix {
        return single_letter(word, index);
    }
    None
}

/// Android's `E/Tag(123): …` (its threadtime format's lone `E` after the
/// pid and tid) and glog's `E0102 15:04:05.000000 …`.
fn single_letter(word: &str, index: usize) -> Option<Level> {
    let mut chars = word.chars();
    let letter = chars.next()?;
    let rest = chars.as_str();
    let glog = index == 0 && rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit());
    let android = rest.starts_with('/') && rest.len() > 1;
    let lone = index > 0 && rest.is_empty();
    if !(glog || android || lone) {
        return None;
    }
    Some(match letter {
        'V' | 'D' => Level::Debug,
        'I' => Level::Info,
        'W' => Level::Warn,
        'E' => Level::Error,
        'F' | 'A' => Level::Fatal,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(line: &str) -> Option<Level> {
        let mut fields: Map<String, Value> = serde_json::from_str(line).unwrap();
        take_json(&mut fields)
    }

    /// Lines as each library writes them by default.
    #[test]
    fn json_levels_of_pino_bunyan_winston_and_others() {
        let cases = [
            // pino
            (
                r#"{"level":30,"time":1700000000000,"pid":7,"hostname":"a","msg":"listening"}"#,
                Level::Info,
            ),
            (
                r#"{"level":50,"time":1700000000000,"pid":7,"hostname":"a","err":{"type":"Error","message":"boom"},"msg":"boom"}"#,
                Level::Error,
            ),
            (
                r#"{"level":60,"time":1700000000000,"msg":"dying"}"#,
                Level::Fatal,
            ),
            (r#"{"level":20,"msg":"debugging"}"#, Level::Debug),
            // bunyan
            (
                r#"{"name":"api","hostname":"a","pid":7,"level":40,"msg":"slow","time":"2024-01-01T12:00:00.000Z","v":0}"#,
                Level::Warn,
            ),
            // winston (json, and with colorize())
            (
                r#"{"level":"error","message":"connect ECONNREFUSED 10.0.0.3:5432","timestamp":"2024-01-01T12:00:00.000Z"}"#,
                Level::Error,
            ),
            (
                "{\"level\":\"\\u001b[33mwarn\\u001b[39m\",\"message\":\"deprecated\"}",
                Level::Warn,
            ),
            // Google Cloud, python-json-logger, ECS (flat and nested), Serilog, GELF
            (r#"{"severity":"ERROR","message":"x"}"#, Level::Error),
            (
                r#"{"asctime":"2024-01-01 12:00:00","levelname":"WARNING","message":"x"}"#,
                Level::Warn,
            ),
            (
                r#"{"@timestamp":"2024-01-01T12:00:00Z","log.level":"error","message":"x"}"#,
                Level::Error,
            ),
            (r#"{"log":{"level":"warn"},"message":"x"}"#, Level::Warn),
            (
                r#"{"@t":"2024-01-01T12:00:00Z","@l":"Error","@m":"x"}"#,
                Level::Error,
            ),
            (
                r#"{"version":"1.1","short_message":"x","level":3}"#,
                Level::Error,
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(json(line), Some(expected), "{line}");
        }
        assert_eq!(json(r#"{"msg":"no level"}"#), None);
    }

    #[test]
    fn logfmt_levels_are_keys_not_words_in_values() {
        let cases = [
            // logrus
            (
                r#"time="2024-01-01T12:00:00Z" level=error msg="connect: connection refused""#,
                Some(Level::Error),
            ),
            (
                r#"time="2024-01-01T12:00:00Z" level=info msg="error count reset""#,
                Some(Level::Info),
            ),
            // go-kit, slog, log15
            (
                "ts=2024-01-01T12:00:00Z caller=main.go:12 level=warn msg=slow",
                Some(Level::Warn),
            ),
            (
                r#"time=2024-01-01T12:00:00Z level=ERROR msg="query failed" err="timeout""#,
                Some(Level::Error),
            ),
            (
                r#"t=2024-01-01T12:00:00Z lvl=eror msg="x""#,
                Some(Level::Error),
            ),
            (r#"msg="set level=debug" level=warn"#, Some(Level::Warn)),
            ("level=\"error\" msg=x", Some(Level::Error)),
        ];
        for (line, expected) in cases {
            assert_eq!(of_text(line), expected, "{line}");
        }
    }

    #[test]
    fn plain_text_markers_of_each_library() {
        let cases = [
            // Python logging's default format, and its traceback
            ("ERROR:root:connection to db failed", Some(Level::Error)),
            ("WARNING:werkzeug: * Debugger is active!", Some(Level::Warn)),
            ("Traceback (most recent call last):", Some(Level::Error)),
            // Python logging's usual format, gunicorn, Flask/werkzeug access lines
            (
                "2024-01-01 12:00:00,123 - app - ERROR - boom",
                Some(Level::Error),
            ),
            (
                "[2024-01-01 12:00:00 +0000] [1] [ERROR] Exception in worker process",
                Some(Level::Error),
            ),
            (
                "[2024-01-01 12:00:00 +0000] [7] [INFO] Booting worker with pid: 7",
                Some(Level::Info),
            ),
            (
                r#"172.18.0.1 - - [01/Jan/2024 12:00:00] "GET /error HTTP/1.1" 404 -"#,
                None,
            ),
            // PostgreSQL
            (
                "2024-01-01 12:00:00.000 UTC [7] ERROR:  relation \"x\" does not exist",
                Some(Level::Error),
            ),
            (
                "2024-01-01 12:00:00.000 UTC [7] FATAL:  password authentication failed for user \"app\"",
                Some(Level::Fatal),
            ),
            (
                "2024-01-01 12:00:00.000 UTC [1] LOG:  database system is ready to accept connections",
                Some(Level::Info),
            ),
            // Redis
            (
                "1:M 01 Jan 2024 12:00:00.000 # WARNING overcommit_memory is set to 0!",
                Some(Level::Warn),
            ),
            (
                "1:M 01 Jan 2024 12:00:00.000 * Ready to accept connections tcp",
                Some(Level::Info),
            ),
            // Node's console.error of an Error, winston's simple format
            (
                "Error: connect ECONNREFUSED 172.18.0.3:5432",
                Some(Level::Error),
            ),
            (
                "error: connect ECONNREFUSED 172.18.0.3:5432",
                Some(Level::Error),
            ),
            ("warn: deprecated option", Some(Level::Warn)),
            // nginx, Apache, log4j/logback, Rust env_logger, zap console
            (
                "2024/01/01 12:00:00 [error] 29#29: *1 connect() failed (111: Connection refused)",
                Some(Level::Error),
            ),
            (
                "[Mon Jan 01 12:00:00.000 2024] [core:error] [pid 7] AH00037: x",
                Some(Level::Error),
            ),
            (
                "12:00:00.000 [main] ERROR com.acme.App - boom",
                Some(Level::Error),
            ),
            (
                "[2024-01-01T12:00:00Z WARN  app::db] slow query",
                Some(Level::Warn),
            ),
            (
                "2024-01-01T12:00:00.000Z\tERROR\tapp/main.go:12\tboom",
                Some(Level::Error),
            ),
            // Android, glog/klog, syslog
            (
                "E/ActivityManager( 123): ANR in com.acme",
                Some(Level::Error),
            ),
            ("W/System: slow", Some(Level::Warn)),
            (
                "01-01 12:00:00.000  123  456 E ActivityManager: ANR",
                Some(Level::Error),
            ),
            (
                "E0101 12:00:00.000000       1 main.go:12] boom",
                Some(Level::Error),
            ),
            (
                "I0101 12:00:00.000000       1 main.go:12] ok",
                Some(Level::Info),
            ),
            ("<3>Jan  1 12:00:00 host app[7]: boom", Some(Level::Error)),
            ("<14>Jan  1 12:00:00 host app[7]: hello", Some(Level::Info)),
            // no marker: a word in the message is not a level
            ("retrying after an error in the pool", None),
            ("Server listening on 3000", None),
            ("the error: was logged later in a long sentence", None),
            (
                "2024-01-01T12:00:00.000Z error: connect ECONNREFUSED",
                Some(Level::Error),
            ),
            ("I think so", None),
        ];
        for (line, expected) in cases {
            assert_eq!(of_text(line), expected, "{line}");
        }
    }
}
