//! The last runs, kept for the status page: when each ended, its status, each
//! group's worst status and the response times it measured. Bounded: the
//! oldest runs go first, and a run keeps at most so many groups and series.

use crate::check::Status;
use crate::report::{Report, grouped::Group};
use std::collections::VecDeque;
use std::time::SystemTime;

/// Groups a run keeps (a catalog of thousands of custom checks still fits a page).
const MAX_GROUPS: usize = 40;
/// Response-time series a run keeps (the chart's lines).
const MAX_SERIES: usize = 12;
/// The detail of a result that holds its response time.
const RESPONSE_TIME: &str = "time_total_ms";

/// One run as the timeline shows it.
#[derive(Clone, Debug)]
pub struct Mark {
    pub at: SystemTime,
    /// `None`: the run was dropped past its deadline, with no report.
    pub status: Option<Status>,
    /// Each group's worst problem (`None`: all well).
    pub groups: Vec<(String, Option<Status>)>,
    /// Response times (ms) by check id.
    pub response_ms: Vec<(String, f64)>,
}

impl Mark {
    pub fn of(report: &Report, groups: &[Group]) -> Mark {
        Mark {
            at: SystemTime::now(),
            status: Some(report.status),
            groups: groups
                .iter()
                .take(MAX_GROUPS)
                .map(|g| (g.name.clone(), g.worst))
                .collect(),
            response_ms: report
                .results
                .iter()
                .filter_map(|r| Some((r.id.clone(), r.details.get(RESPONSE_TIME)?.as_f64()?)))
                .take(MAX_SERIES)
                .collect(),
        }
    }

    /// A run dropped with no report.
    pub fn cut() -> Mark {
        Mark {
            at: SystemTime::now(),
            status: None,
            groups: Vec::new(),
            response_ms: Vec::new(),
        }
    }

    pub fn group(&self, name: &str) -> Option<Option<Status>> {
        self.groups.iter().find(|(g, _)| g == name).map(|(_, s)| *s)
    }

    pub fn response(&self, id: &str) -> Option<f64> {
        self.response_ms
            .iter()
            .find(|(r, _)| r == id)
            .map(|(_, ms)| *ms)
    }
}

pub struct Timeline {
    marks: VecDeque<Mark>,
    keep: usize,
}

impl Timeline {
    pub fn new(keep: usize) -> Timeline {
        Timeline {
            marks: VecDeque::with_capacity(keep.min(1024)),
            keep: keep.max(1),
        }
    }

    pub fn push(&mut self, mark: Mark) {
        if self.marks.len() == self.keep {
            self.marks.pop_front();
        }
        self.marks.push_back(mark);
    }

    /// Oldest first.
    pub fn marks(&self) -> impl DoubleEndedIterator<Item = &Mark> + ExactSizeIterator {
        self.marks.iter()
    }

    /// The groups of the kept runs: the latest run's in its order, then any
    /// only older runs had (newest first).
    pub fn groups(&self) -> Vec<&str> {
        names(
            self.marks
                .iter()
                .rev()
                .flat_map(|m| m.groups.iter().map(|(g, _)| g.as_str())),
        )
    }

    /// The response-time series of the kept runs, in the same order.
    pub fn series(&self) -> Vec<&str> {
        names(
            self.marks
                .iter()
                .rev()
                .flat_map(|m| m.response_ms.iter().map(|(id, _)| id.as_str())),
        )
    }
}

/// Each name once, in the order first met.
fn names<'a>(all: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = Vec::new();
    for name in all {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(groups: &[&str], status: Status) -> Mark {
        Mark {
            at: SystemTime::now(),
            status: Some(status),
            groups: groups.iter().map(|g| (g.to_string(), None)).collect(),
            response_ms: vec![("http.auth.health".into(), 4.0)],
        }
    }

    #[test]
    fn the_oldest_runs_go_first_and_groups_come_in_the_latest_runs_order() {
        let mut timeline = Timeline::new(2);
        timeline.push(mark(&["docker", "gone"], Status::Fail));
        timeline.push(mark(&["docker", "old"], Status::Warn));
        timeline.push(mark(&["docker", "auth"], Status::Pass));
        let statuses: Vec<Option<Status>> = timeline.marks().map(|m| m.status).collect();
        assert_eq!(statuses, [Some(Status::Warn), Some(Status::Pass)]);
        assert_eq!(timeline.groups(), ["docker", "auth", "old"]);
        assert_eq!(timeline.series(), ["http.auth.health"]);
    }

    #[test]
    fn a_run_keeps_only_the_response_times_it_measured() {
        let mut report = crate::report::sample();
        report.results[0]
            .details
            .insert(RESPONSE_TIME.into(), serde_json::json!(12.5));
        let groups = crate::report::grouped::grouped(&report);
        let mark = Mark::of(&report, &groups);
        assert_eq!(mark.response_ms, [("port.ticket.db".to_string(), 12.5)]);
        assert_eq!(mark.group("ticket"), Some(Some(Status::Fail)));
        assert_eq!(mark.group("nowhere"), None);
    }
}
