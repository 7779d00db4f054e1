//! One log line from the engine: its timestamp, its level (`level`: read
//! from whatever shape it has), and how it is shown (JSON lines as `time
//! level message key=value`, logfmt and plain lines as they are).

use super::level;
pub use super::level::Level;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A line longer than this is cut (a hostile or runaway writer cannot fill memory).
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// A line as read from the engine, parsed.
#[derive(Debug, PartialEq)]
pub struct Line {
    /// The engine's timestamp (when the container wrote it).
    pub at: SystemTime,
    pub level: Level,
    /// Rendered, without the timestamp prefix; not yet masked.
    pub text: String,
}

/// Parses `2026-11-28T08:30:00.123456789Z message` (the engine's `timestamps`
/// prefix); a line without one is `None` (the engine always writes one).
pub fn parse(raw: &str) -> Option<Line> {
    let (stamp, message) = raw.split_once(' ').unwrap_or((raw, ""));
    let at = humantime::parse_rfc3339(stamp).ok()?;
    let message = cut(message);
    let mut line = match json_fields(&message) {
        Some(fields) => render_json(at, fields),
        None => Line {
            at,
            level: level::of_text(&message).unwrap_or(Level::Info),
            text: message,
        },
    };
    // After decoding: a JSON field's `\u001b` is an escape only once decoded.
    if let std::borrow::Cow::Owned(shown) = crate::terminal_text::clean(&line.text) {
        line.text = shown;
    }
    Some(line)
}

/// The level a message (without the engine's timestamp) states, in any
/// shape: JSON, logfmt or plain text; `None` when it states none.
pub fn level_of(message: &str) -> Option<Level> {
    match json_fields(message) {
        Some(mut fields) => level::take_json(&mut fields),
        None => level::of_text(message),
    }
}

/// The line cut to `MAX_LINE_BYTES` (a hostile or runaway writer cannot fill memory).
fn cut(message: &str) -> String {
    let message = message.trim_end_matches(['\n', '\r']);
    if message.len() <= MAX_LINE_BYTES {
        return message.to_string();
    }
    let mut end = MAX_LINE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

fn json_fields(message: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    if !message.starts_with('{') {
        return None;
    }
    match serde_json::from_str(message) {
        Ok(serde_json::Value::Object(fields)) => Some(fields),
        _ => None,
    }
}

const TIME_KEYS: [&str; 5] = ["time", "timestamp", "ts", "@timestamp", "@t"];
const MESSAGE_KEYS: [&str; 4] = ["message", "msg", "short_message", "@m"];

/// `2026-11-28T08:30:00.123Z ERROR Error: connect ECONNREFUSED service=auth`.
fn render_json(at: SystemTime, mut fields: serde_json::Map<String, serde_json::Value>) -> Line {
    let time = TIME_KEYS
        .iter()
        .find_map(|k| fields.remove(*k))
        .and_then(|t| json_time(&t))
        .unwrap_or(at);
    let level = level::take_json(&mut fields).unwrap_or(Level::Info);
    let message = MESSAGE_KEYS
        .iter()
        .find_map(|k| fields.remove(*k))
        .map(|m| plain_value(&m));
    let mut text = format!(
        "{} {:<5}",
        humantime::format_rfc3339_millis(time),
        level.label()
    );
    if let Some(message) = message {
        text.push(' ');
        text.push_str(&message);
    }
    for (key, value) in &fields {
        text.push_str(&format!(" {key}={}", quoted_value(value)));
    }
    Line { at, level, text }
}

/// The latest time RFC 3339 can write (9999-12-31T23:59:59.999Z), in epoch
/// milliseconds: a later one (`"time": 1e15`) is not a time the line can show.
const LATEST_MILLIS: f64 = 253_402_300_799_999.0;

/// Epoch milliseconds (or seconds), or an RFC 3339 string; a number outside
/// what RFC 3339 can write is no time (the engine's is shown instead).
fn json_time(value: &serde_json::Value) -> Option<SystemTime> {
    match value {
        serde_json::Value::Number(n) => {
            let n = n.as_f64()?;
            let millis = if n > 1e11 { n } else { n * 1000.0 };
            (0.0..=LATEST_MILLIS)
                .contains(&millis)
                .then(|| UNIX_EPOCH + Duration::from_millis(millis as u64))
        }
        serde_json::Value::String(s) => humantime::parse_rfc3339_weak(s).ok(),
        _ => None,
    }
}

fn plain_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as `key=value` shows it: quoted when it has spaces or is empty.
fn quoted_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) if !s.is_empty() && !s.contains([' ', '"', '=']) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_render_as_time_level_message_fields() {
        let line = parse(
            r#"2026-11-28T08:30:00.123456789Z {"level":"error","service":"auth","time":1795854600123,"message":"Error: connect ECONNREFUSED 172.31.0.3:6379","path":"/a b"}"#,
        )
        .unwrap();
        assert_eq!(line.level, Level::Error);
        assert_eq!(
            line.text,
            r#"2026-11-28T08:30:00.123Z ERROR Error: connect ECONNREFUSED 172.31.0.3:6379 path="/a b" service=auth"#
        );
        assert_eq!(
            line.at,
            humantime::parse_rfc3339("2026-11-28T08:30:00.123456789Z").unwrap()
        );
    }

    #[test]
    fn a_time_no_clock_can_show_is_the_engines() {
        let engine = "2026-11-28T08:30:00.123456789Z";
        for time in ["1e15", "-5", "1.7976931348623157e308", "253402300800000"] {
            let line = parse(&format!(r#"{engine} {{"time":{time},"msg":"kept"}}"#))
                .unwrap_or_else(|| panic!("{time}: the line is kept"));
            assert_eq!(line.text, "2026-11-28T08:30:00.123Z INFO  kept", "{time}");
        }
        let latest = parse(&format!(r#"{engine} {{"time":253402300799999,"msg":"x"}}"#)).unwrap();
        assert!(
            latest.text.starts_with("9999-12-31T23:59:59.999Z"),
            "{}",
            latest.text
        );
    }

    #[test]
    fn plain_lines_stay_as_they_are_with_their_level() {
        let pg = parse("2026-11-28T08:30:00Z 2026-11-28 08:30:00 UTC [7] ERROR:  relation \"x\" does not exist").unwrap();
        assert_eq!(pg.level, Level::Error);
        assert_eq!(
            pg.text,
            "2026-11-28 08:30:00 UTC [7] ERROR:  relation \"x\" does not exist"
        );
        let redis = parse("2026-11-28T08:30:00Z 1:M 28 Nov 2026 08:30:00.000 # Server initialized")
            .unwrap();
        assert_eq!(redis.level, Level::Warn);
        let ready = parse("2026-11-28T08:30:00Z ready to accept connections").unwrap();
        assert_eq!(ready.level, Level::Info);
        assert_eq!(
            parse(r#"2026-11-28T08:30:00Z {"level":40,"msg":"slow"}"#)
                .unwrap()
                .level,
            Level::Warn
        );
    }

    #[test]
    fn hostile_lines_lose_escapes_and_are_cut() {
        let line = parse(&format!(
            "2026-11-28T08:30:00Z \x1b[2Jowned{}",
            "x".repeat(100_000)
        ))
        .unwrap();
        assert!(!line.text.contains('\x1b'));
        assert!(line.text.starts_with("owned"), "the whole sequence goes");
        assert!(line.text.len() <= MAX_LINE_BYTES + '…'.len_utf8());
        assert_eq!(parse("no timestamp here"), None);
        let decoded = parse(
            r#"2026-11-28T08:30:00Z {"level":"error","message":"\u001b]0;pwned\u0007a","user":"\u001b]52;c;ZWNobw\u0007b\u001b[2J"}"#,
        )
        .unwrap();
        assert_eq!(decoded.text, "2026-11-28T08:30:00.000Z ERROR a user=b");
        let deep = format!("2026-11-28T08:30:00Z {}", r#"{"a":"#.repeat(10_000));
        assert!(parse(&deep).is_some(), "deeply nested JSON is a plain line");
    }
}
