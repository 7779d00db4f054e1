//! The status page at `/`, for teams without Grafana: the grouped verdict
//! with each problem and its fix, the last runs as a timeline (each group's
//! status over time) and the response times as an inline SVG chart.
//! Server-rendered by maud, which escapes every string it is given: names,
//! messages and container output are the deployment's, hostile until shown
//! as text. No script, no external asset.

use super::chart;
use super::timeline::Timeline;
use crate::check::Status;
use crate::report::Report;
use crate::report::grouped::{Group, Problem};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::time::Duration;

const CSS: &str = include_str!("page.css");

pub struct Page<'a> {
    /// The last completed run, with its groups; `None` while the first runs.
    pub last: Option<(&'a Report, &'a [Group])>,
    pub timeline: &'a Timeline,
    pub interval: Duration,
    /// Runs ended so far.
    pub runs: u64,
}

pub fn render(page: &Page) -> String {
    let Some((report, groups)) = page.last else {
        return waiting();
    };
    let project = report.project.as_ref().map(|p| p.name.as_str());
    let body = html! {
        header {
            h1 { "helpdesk-doctor" @if let Some(project) = project { " · " (project) } }
            p.meta {
                "run " (page.runs) " · ended " (report.generated_at) " · "
                (report.summary.total) " checks in " (report.summary.duration_ms) " ms · every "
                (humantime::format_duration(page.interval))
                @if let Some(engine) = &report.engine { " · engine " (engine.endpoint) }
            }
        }
        p #verdict class=(class(Some(report.status))) { (verdict(report)) }
        section #groups {
            @for group in groups { (group_view(group)) }
        }
        section #timeline {
            h2 { "Last " (page.timeline.marks().len()) " runs" }
            (timeline_table(page.timeline))
        }
        section #response-times {
            h2 { "Response times (ms)" }
            (chart::response_times(page.timeline))
        }
        footer {
            a href="metrics" { "/metrics" } " · " a href="report.json" { "/report.json" }
            " · " a href="healthz" { "/healthz" }
        }
    };
    document(
        project.unwrap_or("status"),
        refresh_seconds(page.interval),
        body,
    )
}

/// The page before the first run ended.
pub fn waiting() -> String {
    document(
        "status",
        2,
        html! { p #verdict { "The first run of the checks is under way…" } },
    )
}

fn document(title: &str, refresh: u64, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(refresh);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "helpdesk-doctor · " (title) }
                style { (PreEscaped(CSS)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// The page reloads itself once per run (never faster than every 2 s).
fn refresh_seconds(interval: Duration) -> u64 {
    interval.as_secs().max(2)
}

fn group_view(group: &Group) -> Markup {
    html! {
        article.group data-group=(group.name) data-status=(class(group.worst)) {
            h2 {
                span.mark { (mark(group.worst)) } " " (group.name) " "
                span.figures { (group.figures) }
            }
            @if !group.problems.is_empty() {
                ul { @for problem in &group.problems { (problem_view(problem)) } }
            }
        }
    }
}

fn problem_view(problem: &Problem) -> Markup {
    let skipped = match problem.skipped {
        0 => None,
        1 => Some("1 check skipped because of it".to_string()),
        n => Some(format!("{n} checks skipped because of it")),
    };
    html! {
        li.problem data-check=(problem.id) data-status=(class(Some(problem.status))) {
            p.message {
                span.label { (problem.status.label()) } " " code { (problem.id) } ": "
                (problem.message)
            }
            @if let Some(hint) = &problem.hint { p.fix { b { "fix: " } (hint) } }
            @if !problem.also_failing.is_empty() {
                p.explains { "also failing because of it: " (problem.also_failing.join(", ")) }
            }
            @if !problem.warnings_explained.is_empty() {
                p.explains { "warnings it explains: " (problem.warnings_explained.join(", ")) }
            }
            @if let Some(skipped) = skipped { p.skipped { (skipped) } }
        }
    }
}

/// One row per group, one cell per run (oldest on the left); the top row is
/// the run's own status, with its time.
fn timeline_table(timeline: &Timeline) -> Markup {
    let groups = timeline.groups();
    html! {
        table.timeline {
            tr {
                th { "run" }
                @for mark in timeline.marks() {
                    @let at = humantime::format_rfc3339_seconds(mark.at);
                    @let said = mark.status.map_or("no report (cut off)", |s| s.as_str());
                    td class=(mark.status.map_or("cut", |s| class(Some(s)))) title={ (at) ": " (said) } {}
                }
            }
            @for group in &groups {
                tr {
                    th { (group) }
                    @for mark in timeline.marks() {
                        @let cell = match mark.group(group) {
                            Some(worst) => class(worst),
                            None if mark.status.is_none() => "cut",
                            None => "none",
                        };
                        td class=(cell) {}
                    }
                }
            }
        }
    }
}

/// A status as a CSS class; `None` (no problem) passes.
fn class(status: Option<Status>) -> &'static str {
    match status {
        None | Some(Status::Pass) => "pass",
        Some(Status::Warn) => "warn",
        Some(Status::Fail) => "fail",
        Some(Status::Error) => "unknown",
        Some(Status::Skip) => "skip",
    }
}

fn mark(worst: Option<Status>) -> &'static str {
    match worst {
        None | Some(Status::Pass) | Some(Status::Skip) => "✓",
        Some(Status::Warn) => "!",
        Some(Status::Error) => "?",
        Some(Status::Fail) => "✗",
    }
}

fn verdict(report: &Report) -> String {
    let s = &report.summary;
    let parts: Vec<String> = [
        (s.fail, "failure", "failures"),
        (s.error, "unknown", "unknowns"),
        (s.warn, "warning", "warnings"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
    .collect();
    if parts.is_empty() {
        "No issues found.".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grouped::grouped;
    use crate::serve::timeline::Mark;

    fn page_of(report: &Report) -> String {
        let groups = grouped(report);
        let mut timeline = Timeline::new(10);
        timeline.push(Mark::cut());
        timeline.push(Mark::of(report, &groups));
        render(&Page {
            last: Some((report, &groups)),
            timeline: &timeline,
            interval: Duration::from_secs(30),
            runs: 2,
        })
    }

    #[test]
    fn a_failing_group_shows_its_problem_and_fix() {
        let page = page_of(&crate::report::sample());
        assert!(
            page.contains(r#"<article class="group" data-group="ticket" data-status="fail">"#),
            "{page}"
        );
        assert!(
            page.contains("<b>fix: </b>start helpdesk-ticket-db"),
            "{page}"
        );
        assert!(
            page.contains(r#"<p id="verdict" class="fail">1 failure, 1 warning</p>"#),
            "{page}"
        );
        assert!(
            page.contains(r#"<meta http-equiv="refresh" content="30">"#),
            "{page}"
        );
    }

    #[test]
    fn every_string_of_the_deployment_is_escaped() {
        let mut report = crate::report::sample();
        let hostile = r#"<script>alert(1)</script><img src=x onerror="alert(2)">"#;
        report.results[0].message = hostile.into();
        report.results[0].hint = Some(hostile.into());
        report.results[0].id = format!("port.\"><b>{hostile}");
        report.project = Some(crate::report::Project {
            name: hostile.into(),
            found_by: String::new(),
        });
        let page = page_of(&report);
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(
            page.contains(r#"data-check="port.&quot;&gt;&lt;b&gt;&lt;script&gt;"#),
            "an attribute is not broken out of: {page}"
        );
    }
}
