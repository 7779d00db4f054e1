//! The status page's response-time chart: one line per series (a health
//! endpoint's `time_total_ms`) over the kept runs, as inline SVG; a run
//! without a value breaks the line. Colours by class (`s0`…), from the page's CSS.

use super::timeline::Timeline;
use maud::{Markup, html};
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 48.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 8.0;
/// Series colours in the page's CSS (`.s0` … `.s11`).
const COLOURS: usize = 12;

pub fn response_times(timeline: &Timeline) -> Markup {
    let series = timeline.series();
    if series.is_empty() {
        return html! { p { "No response time measured yet." } };
    }
    let runs = timeline.marks().len();
    let top = nice_ceiling(
        timeline
            .marks()
            .flat_map(|m| m.response_ms.iter().map(|(_, ms)| *ms))
            .fold(0.0, f64::max),
    );
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| LEFT + (WIDTH - LEFT - 4.0) * i as f64 / (runs.max(2) - 1) as f64;
    let y = |ms: f64| TOP + plot_height * (1.0 - ms / top);
    let latest = timeline.marks().next_back();
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
            aria-label="response times of the last runs" {
            @for ms in [0.0, top / 2.0, top] {
                line x1=(LEFT) x2=(WIDTH) y1=(y(ms)) y2=(y(ms)) stroke="#ddd" {}
                text x=(LEFT - 4.0) y=(y(ms) + 4.0) text-anchor="end" { (ms) }
            }
            @for (k, id) in series.iter().enumerate() {
                @for segment in segments(timeline, id) {
                    @if let [(i, ms)] = segment.as_slice() {
                        circle class=(colour(k)) cx=(x(*i)) cy=(y(*ms)) r="2" {}
                    } @else {
                        polyline class=(colour(k)) fill="none" stroke-width="1.5" points=(points(&segment, x, y)) {}
                    }
                }
            }
        }
        ul.legend {
            @for (k, id) in series.iter().enumerate() {
                li {
                    span class={ "swatch " (colour(k)) } {}
                    (id)
                    @if let Some(ms) = latest.and_then(|m| m.response(id)) { " " (format!("{ms:.0}")) " ms" }
                }
            }
        }
    }
}

fn colour(k: usize) -> String {
    format!("s{}", k % COLOURS)
}

/// The runs that measured `id`, as runs of consecutive indexes with their value.
fn segments(timeline: &Timeline, id: &str) -> Vec<Vec<(usize, f64)>> {
    let mut segments = vec![Vec::new()];
    for (i, mark) in timeline.marks().enumerate() {
        match mark.response(id) {
            Some(ms) => segments.last_mut().expect("one at least").push((i, ms)),
            None if segments.last().is_some_and(|s| !s.is_empty()) => segments.push(Vec::new()),
            None => {}
        }
    }
    segments.retain(|s| !s.is_empty());
    segments
}

fn points(segment: &[(usize, f64)], x: impl Fn(usize) -> f64, y: impl Fn(f64) -> f64) -> String {
    let mut text = String::new();
    for (i, ms) in segment {
        let _ = write!(text, "{:.1},{:.1} ", x(*i), y(*ms));
    }
    text.trim_end().to_string()
}

/// The axis' top: 1, 2 or 5 times a power of ten, at or above `max` (1 ms at least).
fn nice_ceiling(max: f64) -> f64 {
    let max = max.max(1.0);
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * power)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * power)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::timeline::Mark;
    use std::time::SystemTime;

    fn mark(ms: Option<f64>) -> Mark {
        Mark {
            at: SystemTime::now(),
            status: None,
            groups: Vec::new(),
            response_ms: ms
                .map(|ms| ("http.auth.health".to_string(), ms))
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn the_axis_tops_at_a_round_figure() {
        assert_eq!(nice_ceiling(0.2), 1.0);
        assert_eq!(nice_ceiling(4.4), 5.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(200.0), 200.0);
        assert_eq!(nice_ceiling(501.0), 1000.0);
    }

    #[test]
    fn a_run_without_a_value_breaks_the_line() {
        let mut timeline = Timeline::new(10);
        for ms in [Some(4.0), Some(5.0), None, Some(6.0)] {
            timeline.push(mark(ms));
        }
        let svg = response_times(&timeline).into_string();
        assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
        assert!(svg.contains("http.auth.health 6 ms"), "{svg}");
    }
}
