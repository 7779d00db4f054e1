//! `fix`'s repair of a lock wait (`cancel_blocker`): the session that blocks
//! the others is looked at again — the same session (pid and start time), still
//! blocking someone — and, only after its own confirmation naming its pid and
//! query, its query cancelled (`pg_cancel_backend`), or its session ended
//! (`pg_terminate_backend`) when it is idle in transaction, which no cancel
//! can stop. `diagnose` never does this: it prints the commands.

use crate::check::CheckResult;
use crate::deployment::{Context, postgres};
use crate::profile::Service;
use crate::runbook::{self, Confirmation};
use crate::terminal_text::clean;

/// The blocker as `diagnose` saw it.
struct Seen {
    pid: i32,
    backend_start: Option<String>,
}

/// The blocker as it is now.
struct Now {
    state: Option<String>,
    backend_start: Option<String>,
    query: Option<String>,
    application: String,
    blocks_someone: bool,
}

/// Why nothing was done, or what was.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the check names no blocking session")]
    NoBlocker,
    #[error("{0}")]
    Connect(String),
    #[error("{0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("pid {0} is gone, or is another session now: nothing done")]
    Gone(i32),
    #[error("pid {0} no longer blocks anyone: nothing done")]
    NoLongerBlocks(i32),
    #[error("pid {0} was left alone: {1}")]
    NotConfirmed(i32, String),
    #[error("pid {0}: the server did not signal it (not allowed, or already gone)")]
    NotSignalled(i32),
}

pub async fn cancel(
    ctx: &Context,
    service: &Service,
    result: &CheckResult,
    confirmation: &Confirmation,
) -> Result<String, Refusal> {
    let seen = seen(result).ok_or(Refusal::NoBlocker)?;
    let client = postgres::client(ctx, service)
        .await
        .map_err(|f| Refusal::Connect(format!("{}; fix: {}", f.message, f.hint)))?;
    let row = client
        .query_opt(
            "SELECT state, backend_start::text, left(query, 300), coalesce(application_name, ''), \
             EXISTS (SELECT 1 FROM pg_stat_activity w WHERE $1 = ANY (pg_blocking_pids(w.pid))) \
             FROM pg_stat_activity WHERE pid = $1",
            &[&seen.pid],
        )
        .await?;
    let now = row.map(|r| Now {
        state: r.get(0),
        backend_start: r.get(1),
        query: r.get(2),
        application: r.get(3),
        blocks_someone: r.get(4),
    });
    let now = match now {
        Some(now) if now.backend_start == seen.backend_start => now,
        _ => return Err(Refusal::Gone(seen.pid)),
    };
    if !now.blocks_someone {
        return Err(Refusal::NoLongerBlocks(seen.pid));
    }
    let idle = now
        .state
        .as_deref()
        .is_some_and(|s| s.starts_with("idle in transaction"));
    let (verb, function) = if idle {
        ("End", "pg_terminate_backend")
    } else {
        ("Cancel the query of", "pg_cancel_backend")
    };
    let masked = ctx.mask(now.query.as_deref().unwrap_or(""));
    let query = clean(&masked);
    let question = format!(
        "{verb} PostgreSQL session {} on {} ({}, {:?}), which blocks others: {query}? \
         Its transaction is rolled back.",
        seen.pid,
        service.database,
        now.state.as_deref().unwrap_or("state hidden"),
        clean(&now.application)
    );
    runbook::confirm(&question, confirmation)
        .await
        .map_err(|e| Refusal::NotConfirmed(seen.pid, e.to_string()))?;
    let sql = format!("SELECT {function}($1)");
    let signalled: bool = client.query_one(&sql, &[&seen.pid]).await?.get(0);
    if !signalled {
        return Err(Refusal::NotSignalled(seen.pid));
    }
    Ok(format!("{function}({}) done: {query}", seen.pid))
}

/// The blocker `diagnose` named: its pid and when its session began.
fn seen(result: &CheckResult) -> Option<Seen> {
    let pid = i32::try_from(result.details.get("blocker_pid")?.as_i64()?).ok()?;
    let backend_start = result
        .details
        .get("blockers")?
        .as_array()?
        .iter()
        .find(|b| b["pid"].as_i64() == Some(pid.into()))
        .and_then(|b| b["backend_start"].as_str().map(String::from));
    Some(Seen { pid, backend_start })
}
