//! `helpdesk-doctor watch`: re-runs the checks every interval; on a terminal a
//! live screen (the grouped verdict, memory with trend arrows), piped one JSON
//! line per run; trends no single run shows (a leak, a slowing response, a
//! restart) become warnings with their fix.

mod trend;

use crate::check::CheckResult;
use crate::cli::{Color, WatchArgs};
use crate::deployment::Deployment;
use crate::error::Error;
use crate::exit_code;
use crate::output::use_color;
use crate::plan::Plan;
use crate::report::{self, Report, Style};
use crate::terminal_text::clean;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;
use trend::{Figure, Trend, Trends};

pub async fn run(
    args: &WatchArgs,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
    color: Color,
) -> Result<u8, Error> {
    let plan = Plan::load(config, project, checks_dirs, &(&args.selection).into()).await?;
    let live = std::io::stdout().is_terminal();
    let style = Style {
        color: use_color(color, true),
        ..Style::default()
    };
    let started = Instant::now();
    let mut rounds = Rounds::new(plan);
    let mut last_status = None;
    for round in 1.. {
        let report = tokio::select! {
            report = rounds.next() => report,
            _ = tokio::signal::ctrl_c() => break,
        };
        last_status = Some(report.status);
        let elapsed = started.elapsed();
        let text = if live {
            screen(round, args, elapsed, &report, rounds.trends(), style)
        } else {
            json_line(round, elapsed.as_secs_f64(), &report)
        };
        if !print(&text) {
            break;
        }
        let remaining = args.duration.map(|d| d.saturating_sub(started.elapsed()));
        if remaining.is_some_and(|r| r.is_zero()) {
            break;
        }
        let pause = remaining.map_or(args.interval, |r| r.min(args.interval));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {},
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(last_status.map_or(exit_code::INTERRUPTED, |s| s.exit_code(args.strict)))
}

/// Runs of one plan, one after another, each judged with the trends of the
/// runs before it (`watch` and `serve` both run this way).
pub struct Rounds {
    plan: Plan,
    trends: Trends,
    started: Instant,
}

impl Rounds {
    pub fn new(plan: Plan) -> Rounds {
        Rounds {
            plan,
            trends: Trends::default(),
            started: Instant::now(),
        }
    }

    fn trends(&self) -> &Trends {
        &self.trends
    }

    /// The next run: its results, the trends judged so far as warnings, as a
    /// report naming its project and engine.
    pub async fn next(&mut self) -> Report {
        let plan = &self.plan;
        let (mut results, duration_ms) = plan.run().await;
        self.trends
            .record(self.started.elapsed().as_secs_f64(), &results);
        let judged = self.trends.judge();
        results.extend(judged.iter().map(|t| as_result(t, &plan.profile)));
        plan.as_report(results, duration_ms)
    }
}

/// Writes to stdout; `false` once the reader is gone (a closed pipe).
fn print(text: &str) -> bool {
    crate::stdout::write(text).unwrap_or(false)
}

/// A trend as a WARN result, with the fix to try for its container.
fn as_result(trend: &Trend, profile: &Deployment) -> CheckResult {
    let target = &trend.target;
    let node = profile.services.iter().any(|s| {
        s.containers
            .get(&crate::profile::Role::Service)
            .is_some_and(|c| c.contains(target))
    });
    let docker = profile.docker_command();
    let hint = match trend.figure {
        Figure::Memory if node => format!(
            "Heap dump of the running Node process: {docker} exec {target} kill -USR1 1 opens its \
             inspector on port 9229 (the guide starts a copy with node --max-old-space-size=512 \
             --inspect=0.0.0.0:9229); take a heap snapshot from Chrome DevTools, then restart it"
        ),
        Figure::Memory => format!(
            "Follow it: {docker} stats --no-stream {target}; give it a memory limit (deploy.resources.limits.memory)"
        ),
        Figure::ResponseTime => {
            format!(
                "Read its slow requests: {} logs {target} --grep slow --since 10m",
                profile.doctor_command()
            )
        }
        Figure::Restarts => {
            format!(
                "Read why: {} logs {target} --since 10m --level error",
                profile.doctor_command()
            )
        }
    };
    trend::as_result(trend, Some(hint))
}

/// The live screen: what is watched, the grouped verdict, memory with arrows.
fn screen(
    round: u64,
    args: &WatchArgs,
    elapsed: std::time::Duration,
    report: &Report,
    trends: &Trends,
    style: Style,
) -> String {
    let of = args
        .duration
        .map(|d| format!(" of {}", humantime::format_duration(d)))
        .unwrap_or_default();
    let mut text = format!(
        "\x1b[H\x1b[2Jwatch · run {round} every {} · {}s{of} · Ctrl-C to stop\n",
        humantime::format_duration(args.interval),
        elapsed.as_secs()
    );
    text.push_str(&report::exporter(report::Format::Human, style).render(report));
    let memory: Vec<String> = trends
        .latest(Figure::Memory)
        .into_iter()
        .map(|(target, value, arrow)| format!("{} {value} {arrow}", clean(&target)))
        .collect();
    if !memory.is_empty() {
        text.push_str(&format!("memory: {}\n", memory.join(" · ")));
    }
    text
}

/// One run as one JSON line: status, counts, what is not passing (trends
/// included), and each container's memory.
fn json_line(round: u64, elapsed_s: f64, report: &Report) -> String {
    let problems: Vec<serde_json::Value> = report
        .results
        .iter()
        .filter(|r| {
            !matches!(
                r.status,
                crate::check::Status::Pass | crate::check::Status::Skip
            )
        })
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "status": r.status.as_str(),
                "message": r.message,
                "hint": r.hint,
            })
        })
        .collect();
    let memory: serde_json::Map<String, serde_json::Value> = report
        .results
        .iter()
        .filter_map(|r| Some((r.target.clone(), r.details.get("memory_bytes")?.clone())))
        .collect();
    let line = serde_json::json!({
        "run": round,
        "elapsed_s": (elapsed_s * 10.0).round() / 10.0,
        "generated_at": report.generated_at,
        "status": report.status.as_str(),
        "summary": report.summary,
        "problems": problems,
        "memory_bytes": memory,
    });
    line.to_string() + "\n"
}
