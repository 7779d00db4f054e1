//! Report formats, one small file each behind one trait: human (the default
//! summary), table (every check), json, junit; the text ones through the
//! terminal guard (`for_terminal`).

mod for_terminal;
pub mod grouped;
mod human;
mod json;
mod junit;
mod nagios;
mod prometheus;
mod table;
mod tap;

pub use crate::catalog::{group_of, service_of};
pub use nagios::exit_code as nagios_exit_code;

use crate::check::{CheckResult, Status, Summary};
use serde::Serialize;

/// A run's results, as every format receives them.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub version: u32,
    /// When the run ended (RFC 3339, UTC).
    pub generated_at: String,
    /// The Docker engine asked, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<Engine>,
    /// The compose project diagnosed, and how it was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<Project>,
    pub status: Status,
    pub summary: Summary,
    /// Each engine's part, when one run covers several (its results name it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<EnginePart>,
    /// On a Swarm stack: the swarm's nodes and the node of each task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::deployment::cluster::View>,
    /// For a failing run: what changed since the last healthy one (the human
    /// output shows it above the verdict; machine reports have `diff`).
    #[serde(skip)]
    pub since_healthy: Option<String>,
    pub results: Vec<CheckResult>,
}

/// One engine's part of a run over several engines.
#[derive(Clone, Debug, Serialize)]
pub struct EnginePart {
    /// Its name (the context's, or `[[engines]]`' `name`).
    pub name: String,
    pub endpoint: String,
    pub project: Option<Project>,
    pub status: Status,
    pub summary: Summary,
}

impl Report {
    pub fn new(results: Vec<CheckResult>, duration_ms: u64) -> Report {
        let summary = Summary::of(&results, duration_ms);
        Report {
            version: 1,
            generated_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
            engine: None,
            project: None,
            status: summary.status(),
            summary,
            engines: Vec::new(),
            cluster: None,
            since_healthy: None,
            results,
        }
    }

    /// One report of runs on several engines: every result names its engine;
    /// the status is the worst of theirs.
    pub fn of_engines(parts: Vec<(String, String, Report)>, duration_ms: u64) -> Report {
        let mut engines = Vec::new();
        let mut results = Vec::new();
        for (name, endpoint, part) in parts {
            results.extend(part.results.into_iter().map(|mut r| {
                r.engine = Some(name.clone());
                r
            }));
            engines.push(EnginePart {
                endpoint,
                name,
                project: part.project,
                status: part.status,
                summary: part.summary,
            });
        }
        let mut report = Report::new(results, duration_ms);
        report.engines = engines;
        report
    }

    /// The results of one engine of a run over several, as a report of its own.
    pub fn engine_part(&self, part: &EnginePart) -> Report {
        let results = self
            .results
            .iter()
            .filter(|r| r.engine.as_deref() == Some(part.name.as_str()))
            .cloned()
            .collect();
        let mut report = Report::new(results, part.summary.duration_ms);
        report.project = part.project.clone();
        report.engine = Some(Engine {
            endpoint: format!("{} ({})", part.name, part.endpoint),
            version: String::new(),
            api_version: String::new(),
        });
        report
    }

    pub fn with_project(mut self, name: &str, found_by: &str) -> Report {
        self.project = Some(Project {
            name: name.into(),
            found_by: found_by.into(),
        });
        self
    }
}

/// The engine's endpoint and version, from the `docker.engine` check.
#[derive(Clone, Debug, Serialize)]
pub struct Engine {
    pub endpoint: String,
    pub version: String,
    pub api_version: String,
}

impl Report {
    /// The engine as the `docker.engine` check found it (none when it did not run or pass).
    /// On a Swarm stack, its swarm's nodes and each task's node.
    pub fn with_cluster(mut self, profile: &crate::deployment::Deployment) -> Report {
        self.cluster = profile.cluster.as_ref().map(|c| c.view(profile));
        self
    }

    pub fn with_engine(mut self, endpoint: String) -> Report {
        let engine = self
            .results
            .iter()
            .find(|r| r.id == "docker.engine" && r.status == Status::Pass);
        self.engine = engine.map(|r| {
            let detail = |key: &str| {
                r.details
                    .get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            Engine {
                endpoint: endpoint.clone(),
                version: detail("version"),
                api_version: detail("api_version"),
            }
        });
        self
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub name: String,
    pub found_by: String,
}

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum Format {
    /// One line per group, problems expanded, the verdict (`-v`: the table).
    Human,
    /// Every check, with the fix under each warning and failure.
    Table,
    Json,
    Junit,
    /// TAP version 14.
    Tap,
    /// The Monitoring Plugins' status line with perfdata (exits 0/1/2/3).
    Nagios,
    /// node_exporter's textfile collector.
    Prometheus,
}

/// How the human output looks: colours; `verbose`: every check with its
/// details (the table); `quiet`: only failures and the verdict.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
    pub verbose: bool,
    pub quiet: bool,
}

pub trait Exporter {
    fn render(&self, report: &Report) -> String;
}

/// The format's exporter; the text formats (read on terminals) render through
/// `for_terminal`, so no escape sequence a deployment wrote reaches a TTY.
pub fn exporter(format: Format, style: Style) -> Box<dyn Exporter> {
    let text = |exporter: Box<dyn Exporter>| -> Box<dyn Exporter> {
        Box::new(for_terminal::ForTerminal(exporter))
    };
    match format {
        Format::Human if style.verbose => text(Box::new(table::TableExporter { style })),
        Format::Human => text(Box::new(human::HumanExporter { style })),
        Format::Table => text(Box::new(table::TableExporter { style })),
        Format::Json => Box::new(json::JsonExporter),
        Format::Junit => Box::new(junit::JunitExporter),
        Format::Tap => text(Box::new(tap::TapExporter)),
        Format::Nagios => text(Box::new(nagios::NagiosExporter)),
        Format::Prometheus => Box::new(prometheus::PrometheusExporter),
    }
}

/// Renders with `exporter`, one test at a time: `colored`'s colour switch is
/// one per process, and the tests run in parallel threads.
#[cfg(test)]
pub(crate) fn render_alone(exporter: &dyn Exporter, report: &Report) -> String {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    exporter.render(report)
}

#[cfg(test)]
pub(crate) fn sample() -> Report {
    let result = |id: &str, status, message: &str, hint: Option<&str>| CheckResult {
        id: id.into(),
        kind: "tcp".into(),
        target: "127.0.0.1:5403".into(),
        title: format!("title of {id}"),
        status,
        message: message.into(),
        hint: hint.map(Into::into),
        duration_ms: 3,
        details: Default::default(),
        reached: None,
        engine: None,
        node: None,
    };
    Report::new(
        vec![
            result(
                "port.ticket.db",
                Status::Fail,
                "port 5403 closed",
                Some("start helpdesk-ticket-db"),
            ),
            result(
                "postgres.ticket.connect",
                Status::Skip,
                "skipped: port.ticket.db did not pass",
                None,
            ),
            result(
                "redis.auth.info",
                Status::Warn,
                "12 keys evicted <&>",
                Some("raise maxmemory"),
            ),
            result("port.auth.app", Status::Pass, "port 3001 open", None),
        ],
        42,
    )
}
