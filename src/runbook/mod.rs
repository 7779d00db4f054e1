//! Runbooks: the guide's repair procedures, done safely — each one a plan, a
//! `--dry-run`, a confirmation (or `--yes`), one runbook at a time, in the
//! order `skeleton` runs them.

pub mod backup;
pub mod cache;
pub mod drill;
pub mod drill_record;
mod dump_check;
mod in_flight;
pub mod interrupted;
pub mod lock;
pub mod manifest;
mod pg_session;
pub mod pg_tool;
mod progress;
pub mod prune;
pub mod restore;
mod restore_role;
pub mod signals;
mod signing;
pub mod skeleton;
mod snapshot;
mod sql_stream;
pub mod tokens;
mod volumes;

use crate::error::Error;
use std::io::{BufRead, IsTerminal, Write};

/// What a runbook that changes things may do: show its plan only, or go on
/// without asking.
#[derive(Clone, Copy, Debug, Default)]
pub struct Confirmation {
    pub dry_run: bool,
    pub yes: bool,
}

/// Asks `question` on the terminal; without a TTY, only `--yes` proceeds. The
/// answer is read off the async workers, so a signal watched meanwhile (fix's
/// own questions come during its act) is not held up by the read.
pub async fn confirm(question: &str, confirmation: &Confirmation) -> Result<(), Error> {
    if confirmation.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Refused(
            "no terminal to confirm on: nothing was changed; re-run with --yes to proceed (or --dry-run to see the plan)".into(),
        ));
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let read = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map(|_| answer)
    });
    let answer = read
        .await
        .map_err(std::io::Error::other)
        .and_then(|read| read)
        .map_err(|e| Error::CannotRun(format!("reading the answer: {e}")))?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Error::Refused("not confirmed: nothing was changed".into())),
    }
}
