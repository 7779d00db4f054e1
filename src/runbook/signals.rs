//! Ctrl-C and SIGTERM during a runbook: caught (from the moment `Signals` is
//! made) so the runbook can roll back and start what it stopped before exiting.

use std::future::Future;
use tokio::signal::unix::{Signal, SignalKind, signal};

pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    /// Catches SIGINT and SIGTERM from now on (a signal no longer kills the process).
    pub fn catch() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// `work`'s result, or the signal that came first (`work` is then dropped
    /// where it stood: only for work that may stop anywhere).
    pub async fn unless_interrupted<T>(
        &mut self,
        work: impl Future<Output = T>,
    ) -> Result<T, &'static str> {
        tokio::select! {
            done = work => Ok(done),
            signal = self.received() => Err(signal),
        }
    }

    /// The name of the next signal received.
    pub async fn received(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}
