//! `--format nagios`: the Monitoring Plugins' output — one status line with
//! performance data, then one line per problem — and their exit codes
//! (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN: `exit_code`).

use super::{Exporter, Report};
use crate::check::Status;

pub struct NagiosExporter;

impl Exporter for NagiosExporter {
    fn render(&self, report: &Report) -> String {
        let s = &report.summary;
        let run_state = state(report.status);
        let problems: Vec<String> = report
            .results
            .iter()
            .filter(|r| matches!(r.status, Status::Fail | Status::Error | Status::Warn))
            .map(|r| r.qualified_id())
            .collect();
        let headline = if problems.is_empty() {
            format!("{} checks passed", s.total)
        } else {
            format!(
                "{} of {} checks: {}",
                problems.len(),
                s.total,
                problems.join(", ")
            )
        };
        let perfdata = format!(
            "checks={} pass={} warn={} fail={} unknown={} skip={} time={:.3}s",
            s.total,
            s.pass,
            s.warn,
            s.fail,
            s.error,
            s.skip,
            s.duration_ms as f64 / 1000.0
        );
        let mut lines = vec![format!("HELPDESK {run_state} - {headline} | {perfdata}")];
        for result in report
            .results
            .iter()
            .filter(|r| r.status != Status::Pass && r.status != Status::Skip)
        {
            lines.push(format!(
                "[{}] {}: {}",
                state(result.status),
                result.qualified_id(),
                result.message.replace('|', "/")
            ));
        }
        lines.join("\n") + "\n"
    }
}

/// The Nagios state of a whole run.
fn state(status: Status) -> &'static str {
    match status {
        Status::Pass | Status::Skip => "OK",
        Status::Warn => "WARNING",
        Status::Error => "UNKNOWN",
        Status::Fail => "CRITICAL",
    }
}

/// The plugin exit code of a run's status.
pub fn exit_code(status: Status) -> u8 {
    match status {
        Status::Pass | Status::Skip => 0,
        Status::Warn => 1,
        Status::Fail => 2,
        Status::Error => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_status_line_with_perfdata_then_the_problems() {
        let text = NagiosExporter.render(&super::super::sample());
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("HELPDESK CRITICAL - 2 of 4 checks: port.ticket.db, redis.auth.info | checks=4 pass=1 warn=1 fail=1 unknown=0 skip=1 time=0.042s"),
            "{first}"
        );
        assert!(text.contains("[CRITICAL] port.ticket.db: port 5403 closed"));
        // Only the problems follow: no line for a passed or a skipped check.
        let problems: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(problems.len(), 2, "{text}");
        assert!(
            problems[0].starts_with("[CRITICAL] port.ticket.db:")
                && problems[1].starts_with("[WARNING] redis.auth.info:"),
            "{text}"
        );
        assert_eq!(exit_code(Status::Error), 3);
    }

    #[test]
    fn over_several_engines_each_problem_names_its_engine() {
        let mut report = super::super::sample();
        for (result, engine) in report
            .results
            .iter_mut()
            .zip(["prod", "prod", "staging", "staging"])
        {
            result.engine = Some(engine.into());
        }
        let text = NagiosExporter.render(&report);
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with(
                "HELPDESK CRITICAL - 2 of 4 checks: prod/port.ticket.db, staging/redis.auth.info |"
            ),
            "{first}"
        );
        assert!(
            text.lines()
                .skip(1)
                .all(|l| l.contains("] prod/") || l.contains("] staging/")),
            "{text}"
        );
    }
}
