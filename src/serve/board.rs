//! What the server hands out: the last run's bodies, rendered once when the
//! run ended (a request only takes a pointer to them), and whether runs keep
//! coming (`/healthz`).

use bytes::Bytes;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The bodies of one published state.
pub struct Published {
    pub metrics: Bytes,
    /// The last completed run's JSON report; `None` before the first.
    pub report: Option<Bytes>,
    pub page: Bytes,
    /// When the last run ended, whether or not it gave a report.
    pub last_run: Option<Instant>,
}

pub struct Board {
    current: Mutex<Arc<Published>>,
    started: Instant,
    /// Runs are stuck when none ended for this long.
    stale_after: Duration,
}

impl Board {
    pub fn new(stale_after: Duration) -> Board {
        let waiting = Published {
            metrics: Bytes::new(),
            report: None,
            page: Bytes::from(super::page::waiting()),
            last_run: None,
        };
        Board {
            current: Mutex::new(Arc::new(waiting)),
            started: Instant::now(),
            stale_after,
        }
    }

    pub fn publish(&self, published: Published) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(published);
    }

    pub fn current(&self) -> Arc<Published> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `Err(for how long)` when no run ended for longer than runs may take.
    pub fn runs_keep_coming(&self) -> Result<(), Duration> {
        let since = self.current().last_run.unwrap_or(self.started).elapsed();
        if since > self.stale_after {
            Err(since)
        } else {
            Ok(())
        }
    }
}
