//! Report formats, one small file each behind one trait: table, json, junit.

mod json;
mod junit;
mod table;

use crate::check::{CheckResult, Status, Summary};
use serde::Serialize;

/// A run's results, as every format receives them.
#[derive(Debug, Serialize)]
pub struct Report {
    pub version: u32,
    /// The compose project diagnosed, and how it was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<Project>,
    pub status: Status,
    pub summary: Summary,
    pub results: Vec<CheckResult>,
}

impl Report {
    pub fn new(results: Vec<CheckResult>, duration_ms: u64) -> Report {
        let summary = Summary::of(&results, duration_ms);
        Report {
            version: 1,
            project: None,
            status: summary.status(),
            summary,
            results,
        }
    }

    pub fn with_project(mut self, name: &str, found_by: &str) -> Report {
        self.project = Some(Project {
            name: name.into(),
            found_by: found_by.into(),
        });
        self
    }
}

#[derive(Debug, Serialize)]
pub struct Project {
    pub name: String,
    pub found_by: String,
}

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Junit,
}

/// How the table looks: colours and whether passing checks show their details.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub verbose: bool,
}

pub trait Exporter {
    fn render(&self, report: &Report) -> String;
}

pub fn exporter(format: Format, style: Style) -> Box<dyn Exporter> {
    match format {
        Format::Table => Box::new(table::TableExporter { style }),
        Format::Json => Box::new(json::JsonExporter),
        Format::Junit => Box::new(junit::JunitExporter),
    }
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
