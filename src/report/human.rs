//! `--format human` (the default): a verdict that fits a screen. One line per
//! group (docker, host, then each service) with its key figures and a ✓ ! ✗ ?
//! marker; every warning, failure and unknown expanded under its group with its
//! fix; the checks skipped because of it counted under it; the verdict last.

use super::{Exporter, Report, Style, group_of};
use crate::check::{CheckResult, Status};
use crate::deployment::cluster::{TaskView, View};
use crate::deployment::task_state::TaskState;
use crate::profile::Role;
use colored::Colorize;
use std::collections::BTreeMap;

pub struct HumanExporter {
    pub style: Style,
}

impl Exporter for HumanExporter {
    fn render(&self, report: &Report) -> String {
        colored::control::set_override(self.style.color);
        if !report.engines.is_empty() {
            return self.render_engines(report);
        }
        let skipped = skipped_per_cause(&report.results);
        let explained = explained_per_cause(&report.results);
        let mut lines = vec![header(report)];
        for group in groups(&report.results) {
            let worst = group
                .results
                .iter()
                .map(|r| r.status)
                .filter(|s| is_problem(*s))
                .max();
            // A failure explained by another is listed under that one, not again.
            let problems: Vec<&CheckResult> = group
                .results
                .iter()
                .copied()
                .filter(|r| is_problem(r.status) && root_cause(r).is_none())
                .collect();
            if self.style.quiet && worst != Some(Status::Fail) {
                continue;
            }
            lines.push(format!(
                "{} {:<8} {}",
                group_marker(worst, &group),
                group.name,
                key_figures(&group, report.cluster.as_ref()).dimmed()
            ));
            for problem in problems {
                if self.style.quiet && problem.status != Status::Fail {
                    continue;
                }
                let id = problem.id.as_str();
                lines.extend(expanded(problem, skipped.get(id), explained.get(id)));
            }
        }
        lines.extend(report.since_healthy.clone());
        lines.push(verdict(report));
        lines.join("\n") + "\n"
    }
}

impl HumanExporter {
    /// A run over several engines: each engine's summary in turn (the engine is
    /// the top group), then one line for them all.
    fn render_engines(&self, report: &Report) -> String {
        let mut text = String::new();
        let mut verdicts = Vec::new();
        for part in &report.engines {
            text.push_str(&self.render(&report.engine_part(part)));
            let worst = Some(part.status).filter(|s| is_problem(*s));
            verdicts.push(format!("{} {}", part.name, marker(worst)));
        }
        text.push_str(&format!(
            "{} engines: {}\n",
            report.engines.len(),
            verdicts.join(" · ")
        ));
        text
    }
}

pub(super) fn is_problem(status: Status) -> bool {
    matches!(status, Status::Warn | Status::Fail | Status::Error)
}

fn header(report: &Report) -> String {
    let project = report
        .project
        .as_ref()
        .map(|p| format!(" · project {}", p.name))
        .unwrap_or_default();
    // A remote engine is named: the same project may run on several.
    let engine = report
        .engine
        .as_ref()
        .filter(|e| !e.endpoint.starts_with("unix://"))
        .map(|e| format!(" · engine {}", e.endpoint))
        .unwrap_or_default();
    format!(
        "helpdesk-doctor{project}{engine} · {} checks in {} ms",
        report.summary.total, report.summary.duration_ms
    )
    .bold()
    .to_string()
}

/// A group's marker: its worst status's, a dash when nothing in it ran.
fn group_marker(worst: Option<Status>, group: &Group) -> String {
    if group.results.iter().all(|r| r.status == Status::Skip) {
        "–".dimmed().to_string()
    } else {
        marker(worst)
    }
}

fn marker(worst: Option<Status>) -> String {
    match worst {
        None => "✓".green().to_string(),
        Some(Status::Warn) => "!".yellow().bold().to_string(),
        Some(Status::Error) => "?".magenta().bold().to_string(),
        Some(_) => "✗".red().bold().to_string(),
    }
}

pub(super) fn root_cause(result: &CheckResult) -> Option<&str> {
    result.root_cause()
}

/// The failures and warnings each failed check explains (their `root_cause`).
pub(super) fn explained_per_cause(results: &[CheckResult]) -> BTreeMap<&str, Vec<&CheckResult>> {
    let mut explained: BTreeMap<&str, Vec<&CheckResult>> = BTreeMap::new();
    for result in results {
        if let Some(cause) = root_cause(result) {
            explained.entry(cause).or_default().push(result);
        }
    }
    explained
}

/// A warning, failure or unknown: its message, its fix, the failures it
/// explains and how many checks were skipped because of it.
fn expanded(
    result: &CheckResult,
    skipped: Option<&usize>,
    explained: Option<&Vec<&CheckResult>>,
) -> Vec<String> {
    // On a swarm, the node of the task it is about.
    let on = result
        .node
        .as_ref()
        .map(|node| format!(" on {node}"))
        .unwrap_or_default();
    let mut lines = vec![format!(
        "    {} {}{on}: {}",
        marker(Some(result.status)),
        result.id,
        result.message
    )];
    if let Some(hint) = &result.hint {
        lines.push(format!("      {} {hint}", "fix:".bold()));
    }
    let explained = explained.map(Vec::as_slice).unwrap_or_default();
    for (status, said) in [
        (Status::Fail, "also failing because of it"),
        (Status::Warn, "warnings it explains"),
    ] {
        let ids: Vec<&str> = explained
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.id.as_str())
            .collect();
        if !ids.is_empty() {
            lines.push(format!("      {said}: {}", ids.join(", ")));
        }
    }
    if let Some(count) = skipped {
        let checks = if *count == 1 { "check" } else { "checks" };
        lines.push(
            format!("      {count} {checks} skipped because of it")
                .dimmed()
                .to_string(),
        );
    }
    lines
}

/// How many checks were skipped because of each check shown: a skip caused by
/// a failure that is itself explained by another counts under that other one.
pub(super) fn skipped_per_cause(results: &[CheckResult]) -> BTreeMap<&str, usize> {
    let roots: BTreeMap<&str, &str> = results
        .iter()
        .filter_map(|r| Some((r.id.as_str(), root_cause(r)?)))
        .collect();
    let mut counts = BTreeMap::new();
    for result in results.iter().filter(|r| r.status == Status::Skip) {
        let Some(mut cause) = result.skipped_because() else {
            continue;
        };
        // Bounded: a root cause never names a check that names it back.
        for _ in 0..results.len() {
            match roots.get(cause) {
                Some(root) if *root != cause => cause = root,
                _ => break,
            }
        }
        *counts.entry(cause).or_insert(0) += 1;
    }
    counts
}

fn verdict(report: &Report) -> String {
    let s = &report.summary;
    let counted = |n: usize, one: &str, many: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    };
    let parts: Vec<String> = [
        counted(s.fail, "failure", "failures"),
        counted(s.error, "unknown", "unknowns"),
        counted(s.warn, "warning", "warnings"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        return "No issues found.".green().bold().to_string();
    }
    let text = format!("{} — details: -v, --format json", parts.join(", "));
    match report.status {
        Status::Fail => text.red().bold().to_string(),
        Status::Error => text.magenta().bold().to_string(),
        _ => text.yellow().bold().to_string(),
    }
}

/// The checks of one group (docker, host, a service, or a custom first segment).
pub(super) struct Group<'a> {
    pub(super) name: String,
    pub(super) results: Vec<&'a CheckResult>,
}

impl Group<'_> {
    fn find(&self, id: &str) -> Option<&CheckResult> {
        self.results.iter().copied().find(|r| r.id == id)
    }
}

/// Groups in a fixed order: docker, host, the services as they first appear,
/// then any other group (custom checks) by its id's first segment.
pub(super) fn groups(results: &[CheckResult]) -> Vec<Group<'_>> {
    let mut order: Vec<String> = vec!["docker".into(), "host".into()];
    let mut members: BTreeMap<String, Vec<&CheckResult>> = BTreeMap::new();
    for result in results {
        let name = group_of(&result.id);
        if !order.contains(&name) {
            order.push(name.clone());
        }
        members.entry(name).or_default().push(result);
    }
    order
        .into_iter()
        .filter_map(|name| {
            let results = members.remove(&name)?;
            Some(Group { name, results })
        })
        .collect()
}

/// The figures an on-call engineer looks at first, for the group's kind; a
/// group whose every check was skipped says under which.
pub(super) fn key_figures(group: &Group, cluster: Option<&View>) -> String {
    let skipped_under = group
        .results
        .iter()
        .map(|r| (r.status == Status::Skip).then(|| r.skipped_because()))
        .collect::<Option<Option<Vec<&str>>>>()
        .flatten();
    if let Some(mut under) = skipped_under {
        under.dedup();
        return format!("skipped: {} did not pass", under.join(", "));
    }
    if let Some(said) = all_skipped_said(group) {
        return said;
    }
    match group.name.as_str() {
        "docker" => group
            .find("docker.engine")
            .map(|r| r.message.clone())
            .unwrap_or_default(),
        "host" => ["host.disk", "host.memory", "host.load"]
            .iter()
            .filter_map(|id| group.find(id))
            .filter(|r| r.status != Status::Skip)
            .map(|r| short(&r.message))
            .collect::<Vec<_>>()
            .join(" · "),
        service => service_figures(group, service, cluster),
    }
}

/// A group whose every check was skipped for a reason of its own (the host's
/// on a remote engine): each distinct reason once.
fn all_skipped_said(group: &Group) -> Option<String> {
    if group.results.is_empty() || group.results.iter().any(|r| r.status != Status::Skip) {
        return None;
    }
    let mut said: Vec<String> = group.results.iter().map(|r| short(&r.message)).collect();
    said.sort();
    said.dedup();
    Some(format!("skipped: {}", said.join(" · ")))
}

/// A stack's service on a swarm: `tasks 3/3 · node-a ×2, node-b ×1` — its
/// tasks running against those meant to run, and where they run.
fn tasks_figure(cluster: &View, service: &str) -> Option<String> {
    let tasks: Vec<&TaskView> = cluster
        .tasks
        .iter()
        .filter(|t| t.service.as_deref() == Some(service))
        .filter(|t| t.desired.is_some_and(TaskState::is_wanted_up))
        .collect();
    if tasks.is_empty() {
        return None;
    }
    let running = tasks
        .iter()
        .filter(|t| t.state == Some(TaskState::Running))
        .count();
    let mut per_node: BTreeMap<&str, usize> = BTreeMap::new();
    for task in &tasks {
        let node = match (task.placed, task.node.as_deref()) {
            (true, Some(node)) => node,
            _ => "no node",
        };
        *per_node.entry(node).or_default() += 1;
    }
    let nodes: Vec<String> = per_node
        .into_iter()
        .map(|(node, count)| format!("{node} ×{count}"))
        .collect();
    Some(format!(
        "tasks {running}/{} · {}",
        tasks.len(),
        nodes.join(", ")
    ))
}

fn service_figures(group: &Group, service: &str, cluster: Option<&View>) -> String {
    let mut figures = Vec::new();
    if let Some(tasks) = cluster.and_then(|c| tasks_figure(c, service)) {
        figures.push(tasks);
    }
    let containers: Vec<&CheckResult> = ["service", "db", "redis"]
        .iter()
        .filter_map(|role| group.find(&format!("container.{service}.{role}")))
        .filter(|r| r.status != Status::Skip)
        .collect();
    if !containers.is_empty() {
        let count = |r: &CheckResult| {
            r.details
                .get("replicas")
                .and_then(|n| n.as_u64())
                .unwrap_or(1)
        };
        let total: u64 = containers.iter().map(|r| count(r)).sum();
        // A container that restarted lately but runs healthy again is healthy.
        let healthy: u64 = containers
            .iter()
            .filter(|r| {
                r.status == Status::Pass
                    || r.status == Status::Warn && r.details.contains_key("restart_cause")
            })
            .map(|r| count(r))
            .sum();
        figures.push(format!("containers {healthy}/{total} healthy"));
    }
    if let Some(http) = group.find(&format!("http.{service}.health")) {
        let status = http.details.get("http_status").and_then(|s| s.as_u64());
        let total = http.details.get("time_total_ms").and_then(|t| t.as_f64());
        if let (Some(status), Some(total)) = (status, total) {
            figures.push(format!("HTTP {status} in {total:.0} ms"));
        }
    }
    // A port check skipped on its own (not for another check): not published.
    let unpublished = |role: Role| {
        group
            .find(&format!("port.{service}.{role}"))
            .is_some_and(|r| r.status == Status::Skip && r.skipped_because().is_none())
    };
    if let Some(version) = group
        .find(&format!("postgres.{service}.connect"))
        .and_then(|r| r.details.get("server_version")?.as_str())
    {
        let number = version.split_whitespace().next().unwrap_or(version);
        figures.push(format!("PostgreSQL {number}"));
    } else if unpublished(Role::Db) {
        figures.push("PostgreSQL not published (not reached)".into());
    }
    if let Some(memory) = group
        .find(&format!("redis.{service}.info"))
        .and_then(|r| r.details.get("used_memory")?.as_u64())
    {
        figures.push(format!("Redis {}", indicatif::HumanBytes(memory)));
    } else if unpublished(Role::Redis) {
        figures.push("Redis not published (not reached)".into());
    }
    figures.join(" · ")
}

/// A host message without its details after `;` (`lowest free space 81.0 GB on /`).
fn short(message: &str) -> String {
    message
        .split(';')
        .next()
        .unwrap_or(message)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(id: &str, status: Status, message: &str, details: serde_json::Value) -> CheckResult {
        CheckResult {
            id: id.into(),
            kind: "k".into(),
            target: "t".into(),
            title: id.into(),
            status,
            message: message.into(),
            hint: matches!(status, Status::Warn | Status::Fail).then(|| format!("fix of {id}")),
            duration_ms: 1,
            details: details.as_object().cloned().unwrap_or_default(),
            reached: None,
            engine: None,
            node: None,
        }
    }

    /// A healthy two-service deployment's results, with `changes` applied.
    fn report(changes: Vec<CheckResult>) -> Report {
        let mut results = vec![
            result(
                "docker.engine",
                Status::Pass,
                "Docker 20.10.24 (API 1.41)",
                json!({}),
            ),
            result(
                "host.disk",
                Status::Pass,
                "lowest free space 81.0 GB on /; more",
                json!({}),
            ),
            result(
                "host.memory",
                Status::Pass,
                "memory 1.2 of 25.3 GB used (5%)",
                json!({}),
            ),
        ];
        for service in ["auth", "ticket"] {
            for role in ["service", "db", "redis"] {
                let replicas = if service == "ticket" && role == "service" {
                    3
                } else {
                    1
                };
                results.push(result(
                    &format!("container.{service}.{role}"),
                    Status::Pass,
                    "running, health healthy",
                    json!({ "replicas": replicas }),
                ));
            }
            results.push(result(
                &format!("port.{service}.db"),
                Status::Pass,
                "open",
                json!({}),
            ));
            results.push(result(
                &format!("http.{service}.health"),
                Status::Pass,
                "200",
                json!({ "http_status": 200, "time_total_ms": 4.4 }),
            ));
            results.push(result(
                &format!("postgres.{service}.connect"),
                Status::Pass,
                "SELECT 1 ok",
                json!({ "server_version": "15.18 (Debian 15.18-0+deb12u1)" }),
            ));
            results.push(result(
                &format!("redis.{service}.info"),
                Status::Pass,
                "ok",
                json!({ "used_memory": 1153434 }),
            ));
        }
        for change in changes {
            let slot = results
                .iter_mut()
                .find(|r| r.id == change.id)
                .expect("a known id");
            *slot = change;
        }
        let mut report = Report::new(results, 117).with_project("helpdesk-microservices", "engine");
        report.generated_at = "2026-11-28T05:00:00Z".into();
        report
    }

    fn render(report: &Report, quiet: bool) -> String {
        let human = HumanExporter {
            style: Style {
                quiet,
                ..Style::default()
            },
        };
        crate::report::render_alone(&human, report)
    }

    #[test]
    fn a_healthy_deployment_is_one_line_per_group_and_no_issues_found() {
        insta::assert_snapshot!(render(&report(vec![]), false));
    }

    #[test]
    fn a_remote_engines_host_is_said_once_with_a_dash() {
        let remote = "the engine is remote (tcp://10.0.0.9:2376): its host has 2 CPUs; \
                      its free space is not in the Docker API";
        let skipped = |id: &str| result(id, Status::Skip, remote, json!({}));
        let text = render(
            &report(vec![skipped("host.disk"), skipped("host.memory")]),
            false,
        );
        let host = text.lines().find(|l| l.contains(" host ")).unwrap();
        assert_eq!(
            host,
            "– host     skipped: the engine is remote (tcp://10.0.0.9:2376): its host has 2 CPUs"
        );
    }

    #[test]
    fn a_stopped_database_is_expanded_with_what_it_explains_and_skips() {
        let skipped = |id: &str| {
            result(
                id,
                Status::Skip,
                "skipped: port.ticket.db is FAIL (port 5403 closed)",
                json!({ "skipped_because": "port.ticket.db" }),
            )
        };
        let stopped = report(vec![
            result(
                "container.ticket.db",
                Status::Fail,
                "helpdesk-ticket-db is not running (exited, exit code 0)",
                json!({ "replicas": 1 }),
            ),
            result(
                "port.ticket.db",
                Status::Fail,
                "port 5403 closed; root cause: helpdesk-ticket-db is not running",
                json!({ "root_cause": "container.ticket.db" }),
            ),
            skipped("postgres.ticket.connect"),
            skipped("redis.ticket.info"),
            result(
                "http.auth.health",
                Status::Warn,
                "200 but slow",
                json!({ "http_status": 200, "time_total_ms": 1500.0 }),
            ),
        ]);
        insta::assert_snapshot!("stopped", render(&stopped, false));
        insta::assert_snapshot!("stopped_quiet", render(&stopped, true));
    }

    #[test]
    fn on_a_swarm_each_service_counts_its_tasks_per_node_and_a_problem_names_its_node() {
        use crate::deployment::cluster::{Availability, Node, State, TaskView, View};
        let task = |service: &str, role: &str, node: &str, state: TaskState| TaskView {
            task: format!("helpdesk_{service}-{role}.1"),
            container: format!("helpdesk_{service}-{role}.1.x"),
            service: Some(service.into()),
            node: Some(node.into()),
            placed: true,
            state: Some(state),
            desired: Some(TaskState::Running),
        };
        let node = |hostname: &str| Node {
            id: hostname.into(),
            hostname: hostname.into(),
            address: "10.0.0.1".into(),
            availability: Availability::Active,
            state: State::Ready,
            manager: false,
        };
        let mut redis = result(
            "container.ticket.redis",
            Status::Fail,
            "helpdesk_ticket-redis.1.x is not running (exited, exit code 0)",
            json!({ "replicas": 1 }),
        );
        redis.node = Some("node-b".into());
        let mut report = report(vec![redis]);
        report.cluster = Some(View {
            nodes: vec![node("node-a"), node("node-b")],
            tasks: vec![
                task("ticket", "service", "node-a", TaskState::Running),
                task("ticket", "db", "node-a", TaskState::Running),
                task("ticket", "redis", "node-b", TaskState::Complete),
            ],
        });
        let text = render(&report, false);
        assert!(
            text.contains("✗ ticket   tasks 2/3 · node-a ×2, node-b ×1 · containers"),
            "{text}"
        );
        assert!(
            text.contains(
                "    ✗ container.ticket.redis on node-b: helpdesk_ticket-redis.1.x is not running"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_check_cut_by_the_deadline_is_unknown_with_no_fix() {
        let cut = report(vec![result(
            "redis.auth.info",
            Status::Error,
            "cut off by --deadline after 500 ms",
            json!({}),
        )]);
        insta::assert_snapshot!(render(&cut, false));
    }
}
