//! `helpdesk-doctor serve`, the monitoring mode: runs the checks every
//! interval (one run at a time, never because of a request) and serves the
//! last completed run over HTTP — `/metrics` (Prometheus), `/report.json`,
//! `/healthz` and a status page at `/`. SIGTERM or SIGINT end it (exit 0).

mod board;
mod chart;
mod http;
mod metrics;
mod page;
mod runs;
mod timeline;

use crate::cli::ServeArgs;
use crate::error::Error;
use crate::exit_code;
use crate::plan::Plan;
use crate::runbook::signals::Signals;
use crate::watch::Rounds;
use board::Board;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long open connections get to finish once a signal came.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(300);

pub async fn run(
    args: &ServeArgs,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
) -> Result<u8, Error> {
    let mut signals =
        Signals::catch().map_err(|e| Error::CannotRun(format!("catching signals: {e}")))?;
    let wanted = (&args.selection).into();
    let plan = tokio::select! {
        plan = Plan::load(config, project, checks_dirs, &wanted) => plan?,
        _ = signals.received() => return Ok(exit_code::OK),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Error::CannotRun(format!("listening on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::CannotRun(format!("listening on {}: {e}", args.listen)))?;
    let settings = runs::Settings {
        interval: args.interval,
        keep_runs: usize::from(args.keep_runs),
        run_limit: plan.deadline + runs::GRACE,
    };
    eprintln!(
        "helpdesk-doctor: serving http://{address}/ (metrics at /metrics); checks every {}",
        humantime::format_duration(args.interval)
    );
    let board = Arc::new(Board::new(settings.stale_after()));
    let stop = CancellationToken::new();
    let runner = tokio::spawn(runs::keep_running(
        Rounds::new(plan),
        board.clone(),
        settings,
    ));
    let server = tokio::spawn(http::serve(listener, board, stop.clone()));
    let signal = signals.received().await;
    stop.cancel();
    // A run only reads: it is dropped where it stands.
    runner.abort();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
    eprintln!("helpdesk-doctor: {signal}: stopped serving");
    Ok(exit_code::OK)
}
