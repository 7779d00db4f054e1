//! `serve`'s own metrics, after the last run's (the `--format prometheus`
//! families): runs by status, runs cut off with no report, the time spent
//! running, when the last run ended and the interval (for staleness alerts).

use crate::check::Status;
use std::fmt::Write;
use std::time::{Duration, SystemTime};

/// The statuses a run may end with, each counted from zero.
const RUN_STATUSES: [Status; 4] = [Status::Pass, Status::Warn, Status::Fail, Status::Error];

pub struct Tally {
    interval: Duration,
    /// Completed runs, in `RUN_STATUSES`' order.
    by_status: [u64; RUN_STATUSES.len()],
    cut: u64,
    seconds: f64,
    last_end: Option<SystemTime>,
}

impl Tally {
    pub fn new(interval: Duration) -> Tally {
        Tally {
            interval,
            by_status: [0; RUN_STATUSES.len()],
            cut: 0,
            seconds: 0.0,
            last_end: None,
        }
    }

    pub fn completed(&mut self, status: Status, took: Duration) {
        // A run's status is never Skip (a run of only skips passes).
        let slot = RUN_STATUSES.iter().position(|s| *s == status).unwrap_or(0);
        self.by_status[slot] += 1;
        self.ended(took);
    }

    /// A run dropped past its deadline, with no report.
    pub fn cut(&mut self, took: Duration) {
        self.cut += 1;
        self.ended(took);
    }

    fn ended(&mut self, took: Duration) {
        self.seconds += took.as_secs_f64();
        self.last_end = Some(SystemTime::now());
    }

    /// Every run that ended, with or without a report.
    pub fn runs(&self) -> u64 {
        self.by_status.iter().sum::<u64>() + self.cut
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "helpdesk_serve_runs_total",
            "counter",
            "Runs of the checks completed since serve started, by the run's status.",
        );
        for (status, count) in RUN_STATUSES.iter().zip(self.by_status) {
            let _ = writeln!(
                out,
                "helpdesk_serve_runs_total{{status=\"{}\"}} {count}",
                status.as_str()
            );
        }
        header(
            &mut out,
            "helpdesk_serve_run_errors_total",
            "counter",
            "Runs dropped past their deadline without a report (the engine or a server hung).",
        );
        let _ = writeln!(out, "helpdesk_serve_run_errors_total {}", self.cut);
        header(
            &mut out,
            "helpdesk_serve_run_duration_seconds",
            "summary",
            "Time spent running the checks.",
        );
        let _ = writeln!(
            out,
            "helpdesk_serve_run_duration_seconds_sum {}",
            self.seconds
        );
        let _ = writeln!(
            out,
            "helpdesk_serve_run_duration_seconds_count {}",
            self.runs()
        );
        header(
            &mut out,
            "helpdesk_serve_interval_seconds",
            "gauge",
            "How often serve runs the checks.",
        );
        let _ = writeln!(
            out,
            "helpdesk_serve_interval_seconds {}",
            self.interval.as_secs_f64()
        );
        if let Some(end) = self.last_end {
            let unix = end
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            header(
                &mut out,
                "helpdesk_serve_last_run_timestamp_seconds",
                "gauge",
                "When the last run ended (Unix time), whether or not it gave a report.",
            );
            let _ = writeln!(
                out,
                "helpdesk_serve_last_run_timestamp_seconds {:.3}",
                unix.as_secs_f64()
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_counted_by_status_from_zero_and_cut_ones_apart() {
        let mut tally = Tally::new(Duration::from_secs(30));
        assert!(!tally.render().contains("last_run_timestamp"), "no run yet");
        tally.completed(Status::Fail, Duration::from_millis(250));
        tally.completed(Status::Fail, Duration::from_millis(250));
        tally.cut(Duration::from_secs(15));
        let text = tally.render();
        assert!(
            text.contains("helpdesk_serve_runs_total{status=\"pass\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("helpdesk_serve_runs_total{status=\"fail\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("helpdesk_serve_run_errors_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("helpdesk_serve_run_duration_seconds_sum 15.5\n"),
            "{text}"
        );
        assert!(
            text.contains("helpdesk_serve_run_duration_seconds_count 3\n"),
            "{text}"
        );
        assert!(
            text.contains("helpdesk_serve_interval_seconds 30\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE helpdesk_serve_last_run_timestamp_seconds gauge\n"));
    }
}
