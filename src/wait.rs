//! `wait`: re-runs the checks until every one is ready or the timeout expires.
//! Stricter than a health status alone: a container still `starting` is not ready;
//! one that crashed and then became healthy is; a one-shot container that exited 0
//! is ready when named in `--allow-exited`. On a terminal one live status line
//! says what it still waits for and why; elsewhere (CI) one line per change.

use crate::check::{CheckResult, Status};
use crate::cli::WaitArgs;
use crate::error::Error;
use crate::exit_code;
use crate::plan::Plan;
use crate::report::{self, Report};
use crate::terminal_text::clean;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub async fn run(
    args: &WaitArgs,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
) -> Result<u8, Error> {
    let started = Instant::now();
    let plan = Plan::load(config, project, checks_dirs, &(&args.selection).into()).await?;
    let mut last_waiting: Vec<String> = Vec::new();
    let mut last_round: Option<Report> = None;
    let mut line = StatusLine::new();
    loop {
        let remaining = args.timeout.saturating_sub(started.elapsed());
        // A round in progress is cut by the wait's own timeout.
        let Ok((results, duration_ms)) = tokio::time::timeout(remaining, plan.run()).await else {
            line.end();
            return Ok(timed_out(started, last_round.as_ref()));
        };
        let not_ready: Vec<CheckResult> = results
            .iter()
            .filter(|r| !ready(r, &args.allow_exited))
            .cloned()
            .collect();
        if not_ready.is_empty() {
            line.end();
            eprintln!(
                "ready: {} checks pass after {:.1}s",
                results.len(),
                started.elapsed().as_secs_f64()
            );
            return Ok(exit_code::OK);
        }
        let waiting: Vec<String> = not_ready.iter().map(|r| r.id.clone()).collect();
        let status = format!(
            "[{:>5.1}s] waiting for {} checks: {} — {}",
            started.elapsed().as_secs_f64(),
            waiting.len(),
            summarise(&waiting),
            why(&not_ready)
        );
        last_round = Some(plan.as_report(results, duration_ms));
        let remaining = args.timeout.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            line.end();
            return Ok(timed_out(started, last_round.as_ref()));
        }
        line.show(&status, waiting != last_waiting);
        last_waiting = waiting;
        tokio::time::sleep(args.interval.min(remaining)).await;
    }
}

/// The reason of the most telling check not ready yet: the first failure that
/// no other explains (a root cause), else the first of the worst status.
fn why(not_ready: &[CheckResult]) -> String {
    let root = not_ready
        .iter()
        .find(|r| r.status == Status::Fail && r.root_cause().is_none());
    let worst = not_ready.iter().map(|r| r.status).max();
    root.or_else(|| not_ready.iter().find(|r| Some(r.status) == worst))
        .map(|r| format!("{}: {}", r.id, clean(&r.message)))
        .unwrap_or_default()
}

/// Where `wait` says what it waits for: one line rewritten in place on a
/// terminal, one line per change elsewhere.
struct StatusLine {
    live: bool,
    shown: bool,
}

impl StatusLine {
    fn new() -> StatusLine {
        StatusLine {
            live: std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    fn show(&mut self, status: &str, changed: bool) {
        if self.live {
            let width = terminal_width().saturating_sub(1).max(20);
            let cut: String = status.chars().take(width).collect();
            eprint!("\r\x1b[K{cut}");
            self.shown = true;
        } else if changed {
            eprintln!("{status}");
        }
    }

    /// Ends the live line so what follows starts on its own.
    fn end(&mut self) {
        if self.live && self.shown {
            eprintln!();
            self.shown = false;
        }
    }
}

/// The terminal's width in columns (stderr's), 80 when it cannot be asked.
fn terminal_width() -> usize {
    terminal_size::terminal_size_of(std::io::stderr())
        .map_or(80, |(terminal_size::Width(columns), _)| columns as usize)
}

/// Says what never passed as `diagnose` shows the last finished round: per
/// group, each root cause with its fix and the checks it explains or skipped
/// under it (never the same fix once per dependent); exit 4.
fn timed_out(started: Instant, last_round: Option<&Report>) -> u8 {
    let elapsed = started.elapsed().as_secs_f64();
    match last_round {
        Some(report) => {
            eprintln!("timed out after {elapsed:.1}s; the last round of checks:");
            let human = report::exporter(report::Format::Human, report::Style::default());
            eprint!("{}", human.render(report));
        }
        None => {
            eprintln!("timed out after {elapsed:.1}s; the first round of checks had not finished")
        }
    }
    exit_code::WAIT_TIMEOUT
}

/// Whether a check's result lets `wait` stop waiting for it.
fn ready(result: &CheckResult, allow_exited: &[String]) -> bool {
    let detail = |key: &str| result.details.get(key);
    match result.status {
        Status::Pass => true,
        Status::Warn => {
            !(result.kind == "container"
                && detail("health").and_then(|h| h.as_str()) == Some("starting"))
        }
        Status::Fail => {
            let exited_cleanly = detail("exit_code").and_then(|c| c.as_i64()) == Some(0)
                && detail("running").and_then(|r| r.as_bool()) == Some(false);
            let allowed = detail("compose_service")
                .and_then(|s| s.as_str())
                .is_some_and(|s| allow_exited.iter().any(|a| a == s));
            result.kind == "container" && exited_cleanly && allowed
        }
        Status::Skip | Status::Error => false,
    }
}

fn summarise(ids: &[String]) -> String {
    const SHOWN: usize = 6;
    let mut text = ids
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(status: Status, details: serde_json::Value) -> CheckResult {
        CheckResult {
            id: "container.migrate".into(),
            kind: "container".into(),
            target: "migrate".into(),
            title: String::new(),
            status,
            message: String::new(),
            hint: None,
            duration_ms: 0,
            details: details.as_object().cloned().unwrap_or_default(),
            reached: None,
            engine: None,
            node: None,
        }
    }

    #[test]
    fn starting_is_not_ready_but_a_recovered_crash_is() {
        assert!(!ready(
            &container(Status::Warn, serde_json::json!({"health": "starting"})),
            &[]
        ));
        assert!(ready(
            &container(
                Status::Warn,
                serde_json::json!({"health": "healthy", "restart_count": 2})
            ),
            &[]
        ));
    }

    #[test]
    fn an_exited_one_shot_is_ready_only_when_allowed() {
        let exited = container(
            Status::Fail,
            serde_json::json!({"exit_code": 0, "running": false, "compose_service": "migrate"}),
        );
        assert!(!ready(&exited, &[]));
        assert!(ready(&exited, &["migrate".to_string()]));
        let crashed = container(
            Status::Fail,
            serde_json::json!({"exit_code": 1, "running": false, "compose_service": "migrate"}),
        );
        assert!(!ready(&crashed, &["migrate".to_string()]));
    }
}
