//! The run loop: a run every interval, one at a time (a run longer than the
//! interval delays the next), each bounded by the plan's deadline plus a
//! grace; after each, the bodies the server hands out are rendered once.

use super::board::{Board, Published};
use super::metrics::Tally;
use super::page::{self, Page};
use super::timeline::{Mark, Timeline};
use crate::report::grouped::{self, Group};
use crate::report::{self, Format, Report, Style};
use crate::watch::Rounds;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Past the plan's deadline, how long a run may still take before it is
/// dropped (the runner cuts checks at the deadline: this is a safety net).
pub const GRACE: Duration = Duration::from_secs(5);

pub struct Settings {
    pub interval: Duration,
    pub keep_runs: usize,
    /// The longest a run may take.
    pub run_limit: Duration,
}

impl Settings {
    /// How long without a run ending means runs are stuck.
    pub fn stale_after(&self) -> Duration {
        self.interval * 2 + self.run_limit
    }
}

pub async fn keep_running(mut rounds: Rounds, board: Arc<Board>, settings: Settings) {
    let mut tally = Tally::new(settings.interval);
    let mut timeline = Timeline::new(settings.keep_runs);
    let mut last: Option<Last> = None;
    let mut ticks = tokio::time::interval(settings.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let started = Instant::now();
        match tokio::time::timeout(settings.run_limit, rounds.next()).await {
            Ok(report) => {
                tally.completed(report.status, started.elapsed());
                let groups = grouped::grouped(&report);
                timeline.push(Mark::of(&report, &groups));
                last = Some(Last::of(report, groups));
            }
            Err(_) => {
                tally.cut(started.elapsed());
                timeline.push(Mark::cut());
            }
        }
        board.publish(publish(last.as_ref(), &tally, &timeline, &settings));
    }
}

/// The last completed run, and what of it every state publishes.
struct Last {
    report: Report,
    groups: Vec<Group>,
    json: Bytes,
    metrics: String,
}

impl Last {
    fn of(report: Report, groups: Vec<Group>) -> Last {
        let render = |format| report::exporter(format, Style::default()).render(&report);
        Last {
            json: Bytes::from(render(Format::Json)),
            metrics: render(Format::Prometheus),
            report,
            groups,
        }
    }
}

fn publish(
    last: Option<&Last>,
    tally: &Tally,
    timeline: &Timeline,
    settings: &Settings,
) -> Published {
    let mut metrics = last.map(|l| l.metrics.clone()).unwrap_or_default();
    metrics.push_str(&tally.render());
    let page = Page {
        last: last.map(|l| (&l.report, l.groups.as_slice())),
        timeline,
        interval: settings.interval,
        runs: tally.runs(),
    };
    Published {
        metrics: Bytes::from(metrics),
        report: last.map(|l| l.json.clone()),
        page: Bytes::from(page::render(&page)),
        last_run: Some(Instant::now()),
    }
}
