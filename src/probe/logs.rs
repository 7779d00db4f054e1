//! Recent log lines of a container at the error level (read from each line's
//! shape: JSON, logfmt or plain text, so an info line that mentions an error
//! is not one) or holding the guide's patterns (ECONNREFUSED, EADDRINUSE,
//! timeout, slow), summarised per level and pattern.

use super::Context;
use crate::check::Outcome;
use crate::deployment::engine_client::LogQuery;
use crate::logs::{Level, level_of};
use crate::terminal_text::clean;
use futures::StreamExt;
use std::collections::BTreeMap;

const MAX_LINES: usize = 2000;
/// The most recent matching lines shown, each cut to `EXAMPLE_CHARS`.
const EXAMPLES: usize = 3;
const EXAMPLE_CHARS: usize = 300;

/// What a line is counted for.
pub struct Wanted<'a> {
    /// Lines at this level or above, counted under its name (`error`).
    pub level: Option<Level>,
    /// Lines holding one of these, in any case, counted under each.
    pub patterns: &'a [String],
}

impl Wanted<'_> {
    /// What `line` is counted under.
    fn matches(&self, line: &str) -> Vec<String> {
        let mut matched = Vec::new();
        if let Some(wanted) = self.level
            && level_of(line).is_some_and(|l| l >= wanted)
        {
            matched.push(wanted.label().to_ascii_lowercase());
        }
        let lower = line.to_lowercase();
        matched.extend(
            self.patterns
                .iter()
                .filter(|p| lower.contains(&p.to_lowercase()))
                .cloned(),
        );
        matched
    }
}

pub async fn scan(
    ctx: &Context,
    container: &str,
    wanted: &Wanted<'_>,
    window_minutes: i64,
) -> Outcome {
    // Never another project's container that bears the guide's name.
    match crate::deployment::containers::described(ctx, container).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Outcome::new(
                crate::check::Status::Skip,
                format!("no container {container} in this deployment: no logs read"),
            );
        }
        Err(e) => return Outcome::from(e),
    }
    let since = now_seconds() - window_minutes * 60;
    let query = LogQuery {
        since: Some(since),
        tail: Some(MAX_LINES as u64),
        ..Default::default()
    };
    let mut stream = match crate::deployment::containers::logs(ctx, container, query).await {
        Ok(stream) => stream,
        Err(e) => return Outcome::from(e),
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples = std::collections::VecDeque::with_capacity(EXAMPLES + 1);
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => String::from_utf8_lossy(&chunk).into_owned(),
            Err(e) => return Outcome::fail(e.to_string()),
        };
        for line in chunk.lines() {
            let matched = wanted.matches(line.trim());
            for pattern in &matched {
                *counts.entry(pattern.clone()).or_default() += 1;
            }
            if !matched.is_empty() {
                examples.push_back(example(&ctx.secrets.redact(line.trim())));
                if examples.len() > EXAMPLES {
                    examples.pop_front();
                }
            }
        }
    }
    if counts.is_empty() {
        return Outcome::pass(format!("no error lines in the last {window_minutes} min"));
    }
    let summary: Vec<String> = counts.iter().map(|(p, n)| format!("{p} ×{n}")).collect();
    Outcome::warn(format!("last {window_minutes} min: {}", summary.join(", ")))
        .detail("counts", counts)
        .detail("examples", Vec::from(examples))
}

/// A log line as it may be shown: through the terminal sanitizer (no control
/// character or escape sequence), at most `EXAMPLE_CHARS` characters.
fn example(line: &str) -> String {
    let shown = clean(line);
    let mut cut: String = shown.chars().take(EXAMPLE_CHARS).collect();
    if shown.chars().nth(EXAMPLE_CHARS).is_some() {
        cut.push('…');
    }
    cut
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_told_by_their_level_and_patterns_by_their_words() {
        let patterns = ["ECONNREFUSED".to_string(), "timeout".into()];
        let wanted = Wanted {
            level: Some(Level::Error),
            patterns: &patterns,
        };
        let cases: [(&str, &[&str]); 7] = [
            (
                r#"{"level":50,"msg":"connect ECONNREFUSED 10.0.0.3:6379"}"#,
                &["error", "ECONNREFUSED"],
            ),
            (r#"{"level":"info","message":"error count reset"}"#, &[]),
            (r#"time=x level=info msg="errors: 0""#, &[]),
            (
                r#"time=x level=error msg="query timeout""#,
                &["error", "timeout"],
            ),
            ("ERROR:root:connection refused", &["error"]),
            (
                "2024-01-01 12:00:00 UTC [7] FATAL:  the database system is shutting down",
                &["error"],
            ),
            ("GET /api/v1/errors 200", &[]),
        ];
        for (line, expected) in cases {
            assert_eq!(wanted.matches(line), expected, "{line}");
        }
    }
}
