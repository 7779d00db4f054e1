//! Trends no single run can see, judged over `watch`'s samples: memory that
//! grows monotonically (a leak), a response time growing steadily, a restart
//! count that moves. Each becomes a WARN result next to the run's own.

use crate::check::{CheckResult, Status};
use std::collections::{BTreeMap, VecDeque};

/// Samples kept per series (the oldest go first): bounded memory, however long the watch.
const WINDOW: usize = 720;
/// A trend needs at least this many samples rising in a row.
const MIN_SAMPLES: usize = 5;

/// The figures followed, each read from one detail of a check's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    Memory,
    ResponseTime,
    Restarts,
}

impl Figure {
    const ALL: [Figure; 3] = [Figure::Memory, Figure::ResponseTime, Figure::Restarts];

    fn detail(self) -> &'static str {
        match self {
            Figure::Memory => "memory_bytes",
            Figure::ResponseTime => "time_total_ms",
            Figure::Restarts => "restart_count",
        }
    }

    /// How far a sample may fall below the one before and still count as rising (noise).
    fn tolerance(self) -> f64 {
        match self {
            Figure::Memory => 0.02,
            Figure::ResponseTime => 0.10,
            Figure::Restarts => 0.0,
        }
    }

    /// Whether growing from `first` to `last` is beyond noise (relative and absolute).
    fn grew_enough(self, first: f64, last: f64) -> bool {
        let grown = last - first;
        match self {
            Figure::Memory => grown >= 16.0 * MIB && grown >= first * 0.10,
            Figure::ResponseTime => grown >= 200.0 && last >= first * 2.0,
            Figure::Restarts => grown >= 1.0,
        }
    }

    fn show(self, value: f64) -> String {
        match self {
            Figure::Memory => format!("{:.0} MiB", value / MIB),
            Figure::ResponseTime => format!("{value:.0} ms"),
            Figure::Restarts => format!("{value:.0}"),
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// One reading: seconds since the watch began, and the value.
#[derive(Clone, Copy, Debug)]
struct Sample {
    at: f64,
    value: f64,
}

/// A series' identity: the check it comes from and which figure.
type Key = (String, Figure);

/// What the watch saw so far.
#[derive(Default)]
pub struct Trends {
    series: BTreeMap<Key, VecDeque<Sample>>,
    /// Each check's target (the container), for the messages.
    targets: BTreeMap<String, String>,
}

/// A judged trend, with the fix to try.
#[derive(Debug, PartialEq)]
pub struct Trend {
    pub check: String,
    /// The check's target (the container).
    pub target: String,
    pub figure: Figure,
    pub message: String,
}

impl Trends {
    /// Records every followed figure of one run's results, at `at` seconds.
    pub fn record(&mut self, at: f64, results: &[CheckResult]) {
        for result in results {
            for figure in Figure::ALL {
                let Some(value) = result.details.get(figure.detail()).and_then(|v| v.as_f64())
                else {
                    continue;
                };
                let samples = self.series.entry((result.id.clone(), figure)).or_default();
                samples.push_back(Sample { at, value });
                if samples.len() > WINDOW {
                    samples.pop_front();
                }
                self.targets
                    .insert(result.id.clone(), result.target.clone());
            }
        }
    }

    /// The trends seen so far.
    pub fn judge(&self) -> Vec<Trend> {
        self.series
            .iter()
            .filter_map(|((check, figure), samples)| {
                let target = self.targets.get(check).unwrap_or(check);
                judge(*figure, samples).map(|message| Trend {
                    check: check.clone(),
                    target: target.clone(),
                    figure: *figure,
                    message: message.replace("{target}", target),
                })
            })
            .collect()
    }

    /// ↑ ↓ → for a check's figure over its last three samples (None before).
    pub fn arrow(&self, check: &str, figure: Figure) -> Option<&'static str> {
        let samples = self.series.get(&(check.to_string(), figure))?;
        let n = samples.len();
        if n < 3 {
            return None;
        }
        let (before, now) = (samples[n - 3].value, samples[n - 1].value);
        let noise = before.abs() * figure.tolerance().max(0.01);
        Some(if now > before + noise {
            "↑"
        } else if now < before - noise {
            "↓"
        } else {
            "→"
        })
    }

    /// Each followed figure's latest value, shown (`37 MiB`), with its arrow.
    pub fn latest(&self, figure: Figure) -> Vec<(String, String, &'static str)> {
        self.series
            .iter()
            .filter(|((_, f), _)| *f == figure)
            .filter_map(|((check, _), samples)| {
                let last = samples.back()?;
                let target = self.targets.get(check).cloned().unwrap_or_default();
                Some((
                    target,
                    figure.show(last.value),
                    self.arrow(check, figure).unwrap_or(" "),
                ))
            })
            .collect()
    }
}

/// The message for a series that trends, with `{target}` for its container.
fn judge(figure: Figure, samples: &VecDeque<Sample>) -> Option<String> {
    let last = samples.back()?;
    if figure == Figure::Restarts {
        let first = samples.front()?;
        return figure.grew_enough(first.value, last.value).then(|| {
            format!(
                "{{target}} restarted {} times in the last {:.0} s",
                last.value - first.value,
                last.at - first.at
            )
        });
    }
    let start = rising_since(figure, samples);
    let first = samples[start];
    if samples.len() - start < MIN_SAMPLES || !figure.grew_enough(first.value, last.value) {
        return None;
    }
    let (from, to, over) = (
        figure.show(first.value),
        figure.show(last.value),
        last.at - first.at,
    );
    Some(match figure {
        Figure::Memory => format!(
            "memory of {{target}} grew from {from} to {to} over {over:.0} s — likely a leak"
        ),
        _ => format!("response time of {{target}} grew from {from} to {to} over {over:.0} s"),
    })
}

/// Where the run of rising samples ending with the last one begins.
fn rising_since(figure: Figure, samples: &VecDeque<Sample>) -> usize {
    let mut start = samples.len().saturating_sub(1);
    while start > 0 {
        let (before, after) = (samples[start - 1].value, samples[start].value);
        if after < before * (1.0 - figure.tolerance()) {
            break;
        }
        start -= 1;
    }
    start
}

/// A trend as a result beside the run's own (`<check>.trend`), so every
/// output shows it and the exit code counts it.
pub fn as_result(trend: &Trend, hint: Option<String>) -> CheckResult {
    CheckResult {
        id: format!("{}.trend", trend.check),
        kind: "trend".into(),
        target: trend.target.clone(),
        title: format!("{} steady over the watch", trend.target),
        status: Status::Warn,
        message: trend.message.clone(),
        hint,
        duration_ms: 0,
        details: serde_json::Map::from_iter([(
            "figure".to_string(),
            serde_json::Value::String(trend.figure.detail().into()),
        )]),
        reached: None,
        engine: None,
        node: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(id: &str, memory: f64) -> CheckResult {
        CheckResult {
            id: id.into(),
            kind: "container_resources".into(),
            target: "helpdesk-auth-service".into(),
            title: String::new(),
            status: Status::Pass,
            message: String::new(),
            hint: None,
            duration_ms: 0,
            details: serde_json::Map::from_iter([("memory_bytes".to_string(), memory.into())]),
            reached: None,
            engine: None,
            node: None,
        }
    }

    fn watched(values: &[f64]) -> Trends {
        let mut trends = Trends::default();
        for (i, mib) in values.iter().enumerate() {
            trends.record(
                i as f64,
                &[resources("container.auth.service.resources", mib * MIB)],
            );
        }
        trends
    }

    #[test]
    fn memory_growing_monotonically_is_a_leak() {
        let trends = watched(&[40.0, 40.5, 41.0, 48.0, 56.0, 64.0, 72.0, 80.0]);
        let judged = trends.judge();
        assert_eq!(judged.len(), 1, "{judged:?}");
        assert_eq!(
            judged[0].message,
            "memory of helpdesk-auth-service grew from 40 MiB to 80 MiB over 7 s — likely a leak"
        );
        assert_eq!(
            trends.arrow("container.auth.service.resources", Figure::Memory),
            Some("↑")
        );
    }

    #[test]
    fn flat_noisy_or_falling_memory_is_not() {
        assert!(
            watched(&[40.0, 41.0, 39.5, 40.2, 40.8, 39.9, 40.1, 40.0])
                .judge()
                .is_empty()
        );
        // Grew, then the collector gave most of it back: not monotonic to the end.
        assert!(
            watched(&[40.0, 60.0, 80.0, 100.0, 120.0, 50.0])
                .judge()
                .is_empty()
        );
        // Too few rising samples.
        assert!(watched(&[40.0, 80.0, 120.0, 160.0]).judge().is_empty());
        assert_eq!(
            watched(&[40.0, 40.0, 40.0]).arrow("container.auth.service.resources", Figure::Memory),
            Some("→")
        );
    }

    #[test]
    fn a_restart_count_that_moves_is_named() {
        let mut trends = Trends::default();
        for (at, count) in [(0.0, 2.0), (5.0, 2.0), (10.0, 3.0)] {
            let mut result = resources("container.auth.service", 0.0);
            result.details = serde_json::Map::from_iter([("restart_count".into(), count.into())]);
            trends.record(at, &[result]);
        }
        let judged = trends.judge();
        assert_eq!(judged.len(), 1);
        assert_eq!(
            judged[0].message,
            "helpdesk-auth-service restarted 1 times in the last 10 s"
        );
    }
}
