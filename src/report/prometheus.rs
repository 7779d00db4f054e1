//! `--format prometheus`: the node_exporter textfile collector's format. Per
//! check `helpdesk_check_status` (0 pass, 1 warn, 2 fail, 3 unknown, 4 skip)
//! and `helpdesk_check_duration_seconds`, labelled id, kind and service; the
//! run's status, duration and time.

use super::{Exporter, Report};
use crate::check::Status;

pub struct PrometheusExporter;

impl Exporter for PrometheusExporter {
    fn render(&self, report: &Report) -> String {
        let mut out = String::new();
        out.push_str("# HELP helpdesk_check_status Check status: 0 pass, 1 warn, 2 fail, 3 unknown, 4 skip.\n");
        out.push_str("# TYPE helpdesk_check_status gauge\n");
        for r in &report.results {
            out.push_str(&format!(
                "helpdesk_check_status{} {}\n",
                labels(r),
                value(r.status)
            ));
        }
        out.push_str("# HELP helpdesk_check_duration_seconds How long the check took.\n");
        out.push_str("# TYPE helpdesk_check_duration_seconds gauge\n");
        for r in &report.results {
            out.push_str(&format!(
                "helpdesk_check_duration_seconds{} {}\n",
                labels(r),
                r.duration_ms as f64 / 1000.0
            ));
        }
        out.push_str(
            "# HELP helpdesk_run_status The run's status: 0 pass, 1 warn, 2 fail, 3 unknown.\n",
        );
        out.push_str("# TYPE helpdesk_run_status gauge\n");
        out.push_str(&format!("helpdesk_run_status {}\n", value(report.status)));
        out.push_str("# HELP helpdesk_run_duration_seconds How long the run took.\n");
        out.push_str("# TYPE helpdesk_run_duration_seconds gauge\n");
        out.push_str(&format!(
            "helpdesk_run_duration_seconds {}\n",
            report.summary.duration_ms as f64 / 1000.0
        ));
        out
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
    format!(
        "{{id=\"{}\",kind=\"{}\",service=\"{}\"}}",
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
    }
}
