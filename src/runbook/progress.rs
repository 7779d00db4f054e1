//! Progress of a runbook's parallel work: one bar per database on a terminal
//! (indicatif), plain lines otherwise. Always on stderr.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

pub struct Progress {
    bars: Option<MultiProgress>,
}

/// One task's progress: bytes moved so far.
pub struct Task {
    name: String,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            bars: std::io::stderr().is_terminal().then(MultiProgress::new),
        }
    }

    pub fn task(&self, name: &str, what: &str) -> Task {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix:<10} {msg} {bytes} ({bytes_per_sec})",
                )
                .expect("a static template"),
            );
            bar.set_prefix(name.to_string());
            bar.set_message(what.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        if bar.is_none() {
            eprintln!("{name}: {what}");
        }
        Task {
            name: name.to_string(),
            bar,
            started: Instant::now(),
        }
    }
}

impl Task {
    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// Ends the task's line: `name: summary in 1.2s` (the bar's own prefix
    /// already names it, so a bar shows the summary once, without the spinner).
    pub fn done(&self, summary: &str) {
        let took = format!("{summary} in {:.1}s", self.started.elapsed().as_secs_f64());
        match &self.bar {
            Some(bar) => {
                bar.set_style(
                    ProgressStyle::with_template("✓ {prefix:<10} {msg}")
                        .expect("a static template"),
                );
                bar.finish_with_message(took);
            }
            None => eprintln!("{}: {took}", self.name),
        }
    }
}
