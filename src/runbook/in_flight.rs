//! Engine calls that change the deployment (stop, create, start) run to their
//! end even when a runbook is interrupted: a request dropped on its way still
//! takes effect in the engine, after the clean-up would have looked. The
//! clean-up first waits for them to settle.

use std::future::Future;
use tokio_util::task::TaskTracker;

/// The runbook's changes on their way to the engine.
#[derive(Default)]
pub struct InFlight(TaskTracker);

impl InFlight {
    /// Runs `change` to its end, whether or not its caller still waits for it.
    pub async fn run<T: Send + 'static>(
        &self,
        change: impl Future<Output = T> + Send + 'static,
    ) -> T {
        match self.0.spawn(change).await {
            Ok(done) => done,
            Err(failed) => std::panic::resume_unwind(failed.into_panic()),
        }
    }

    /// Until every change begun has ended (each is bounded by the engine
    /// client's own time-out); no new one starts after.
    pub async fn settle(&self) {
        self.0.close();
        self.0.wait().await;
    }
}
