//! Recent log lines of a container matching the guide's patterns (error,
//! ECONNREFUSED, EADDRINUSE, timeout, slow), summarised per pattern.

use super::Context;
use crate::check::Outcome;
use crate::terminal_text::clean;
use bollard::query_parameters::LogsOptionsBuilder;
use futures::StreamExt;
use std::collections::BTreeMap;

const MAX_LINES: usize = 2000;
/// The most recent matching lines shown, each cut to `EXAMPLE_CHARS`.
const EXAMPLES: usize = 3;
const EXAMPLE_CHARS: usize = 300;

pub async fn scan(
    ctx: &Context,
    container: &str,
    patterns: &[String],
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
    let options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .since(since as i32)
        .tail(&MAX_LINES.to_string())
        .build();
    let mut stream = match crate::deployment::containers::logs(ctx, container, options).await {
        Ok(stream) => stream,
        Err(e) => return Outcome::from(e),
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples = std::collections::VecDeque::with_capacity(EXAMPLES + 1);
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk.to_string(),
            Err(e) => return Outcome::fail(format!("reading logs of {container}: {e}")),
        };
        for line in chunk.lines() {
            let lower = line.to_lowercase();
            let matched: Vec<&String> = patterns
                .iter()
                .filter(|p| lower.contains(&p.to_lowercase()))
                .collect();
            for pattern in &matched {
                *counts.entry(pattern.to_string()).or_default() += 1;
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
