//! `--format prometheus`: the node_exporter textfile collector's format. Per
//! check `helpdesk_check_status` (0 pass, 1 warn, 2 fail, 3 unknown, 4 skip)
//! and `helpdesk_check_duration_seconds`, labelled id, kind, service (and
//! engine, over several); the
//! run's status, duration and time.

use super::{Exporter, Report};
use crate::check::Status;

pub struct PrometheusExporter;

impl Exporter for PrometheusExporter {
    fn render(&self, report: &Report) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "helpdesk_check_status",
            "Check status: 0 pass, 1 warn, 2 fail, 3 unknown, 4 skip.",
            report
                .results
                .iter()
                .map(|r| (labels(r), value(r.status).to_string())),
        );
        family(
            &mut out,
            "helpdesk_check_duration_seconds",
            "How long the check took.",
            report
                .results
                .iter()
                .map(|r| (labels(r), (r.duration_ms as f64 / 1000.0).to_string())),
        );
        family(
            &mut out,
            "helpdesk_run_status",
            "The run's status: 0 pass, 1 warn, 2 fail, 3 unknown.",
            [(String::new(), value(report.status).to_string())],
        );
        family(
            &mut out,
            "helpdesk_run_duration_seconds",
            "How long the run took.",
            [(
                String::new(),
                (report.summary.duration_ms as f64 / 1000.0).to_string(),
            )],
        );
        out
    }
}

/// One gauge family: its HELP and TYPE lines, then a sample per `(labels, value)`.
fn family(
    out: &mut String,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, String)>,
) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
    for (labels, value) in samples {
        out.push_str(&format!("{name}{labels} {value}\n"));
    }
}

fn value(status: Status) -> u8 {
    match status {
        Status::Pass => 0,
        Status::Warn => 1,
        Status::Fail => 2,
        Status::Error => 3,
        Status::Skip => 4,
    }
}

fn labels(r: &crate::check::CheckResult) -> String {
    let service = super::service_of(&r.id).unwrap_or_default();
    // One run over several engines: the same check once per engine, told apart.
    let engine = r
        .engine
        .as_deref()
        .map(|e| format!(",engine=\"{}\"", escape(e)))
        .unwrap_or_default();
    format!(
        "{{id=\"{}\",kind=\"{}\",service=\"{}\"{engine}}}",
        escape(&r.id),
        escape(&r.kind),
        escape(&service)
    )
}

/// A label value as the exposition format wants it.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_a_status_and_a_duration_sample() {
        let text = PrometheusExporter.render(&super::super::sample());
        assert!(text.contains(
            "helpdesk_check_status{id=\"port.ticket.db\",kind=\"tcp\",service=\"ticket\"} 2\n"
        ));
        assert!(text.contains(
            "helpdesk_check_duration_seconds{id=\"port.auth.app\",kind=\"tcp\",service=\"auth\"} 0.003\n"
        ));
        assert!(text.contains("helpdesk_run_status 2\n"));
        // The sample run took 42 ms.
        assert!(
            text.contains("helpdesk_run_duration_seconds 0.042\n"),
            "{text}"
        );
    }
}
