//! `--format tap`: TAP version 14, one test point per check. Warnings pass
//! (as in the exit code) with their message as a comment; skips are `# SKIP`;
//! unknowns (cut by the deadline) are `not ok … # unknown`.

use super::{Exporter, Report};
use crate::check::{CheckResult, Status};

pub struct TapExporter;

impl Exporter for TapExporter {
    fn render(&self, report: &Report) -> String {
        let mut lines = vec![
            "TAP version 14".to_string(),
            format!("1..{}", report.results.len()),
        ];
        for (index, result) in report.results.iter().enumerate() {
            lines.extend(point(index + 1, result));
        }
        lines.join("\n") + "\n"
    }
}

fn point(number: usize, result: &CheckResult) -> Vec<String> {
    let message = one_line(&result.message);
    let id = result.qualified_id();
    let head = match result.status {
        Status::Pass => format!("ok {number} - {id}"),
        Status::Warn => format!("ok {number} - {id} # warn: {message}"),
        Status::Skip => format!("ok {number} - {id} # SKIP {message}"),
        Status::Error => format!("not ok {number} - {id} # unknown: {message}"),
        Status::Fail => format!("not ok {number} - {id}"),
    };
    let mut lines = vec![head];
    if result.status == Status::Fail {
        lines.push("  ---".into());
        lines.push(format!("  message: {}", yaml_string(&result.message)));
        if let Some(hint) = &result.hint {
            lines.push(format!("  fix: {}", yaml_string(hint)));
        }
        lines.push("  ...".into());
    }
    lines
}

/// A description may not span lines, nor contain `#` (it starts a directive).
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('#', "\\#")
}

/// A double-quoted YAML scalar.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_points_and_directives() {
        let text = TapExporter.render(&super::super::sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "TAP version 14");
        assert_eq!(lines[1], "1..4");
        assert_eq!(lines[2], "not ok 1 - port.ticket.db");
        assert!(text.contains("  fix: \"start helpdesk-ticket-db\""));
        assert!(text.contains("\nok 2 - postgres.ticket.connect # SKIP"));
        assert!(text.contains("\nok 3 - redis.auth.info # warn: 12 keys evicted <&>"));
        assert!(text.ends_with("\nok 4 - port.auth.app\n"));
    }
}
