//! `cache flush`: delete a service's Redis keys by pattern with SCAN + UNLINK in
//! batches (never KEYS, so Redis keeps answering), or all of them with FLUSHDB ASYNC;
//! SIGINT/SIGTERM stop it between two batches with what was deleted and what is left.

use super::Confirmation;
use super::signals::Signals;
use super::{confirm, lock};
use crate::deployment::Deployment;
use crate::deployment::{Context, redis as redis_client};
use crate::error::Error;
use crate::exit_code;
use crate::profile::Role;
use crate::stdout::outln;
use futures::FutureExt;
use redis::aio::MultiplexedConnection;

const EXAMPLES: usize = 5;
/// After an interruption, the keys still matching are counted this long at most.
const REMAINING_COUNT_TIME: std::time::Duration = std::time::Duration::from_secs(5);
const REMAINING_COUNT_BATCH: usize = 10_000;

/// What `cache flush` is asked.
#[derive(Clone, Debug)]
pub struct FlushOptions {
    /// Whose Redis (auth, user, ticket).
    pub service: String,
    /// Delete the keys matching this glob; `None`: the whole database (FLUSHDB ASYNC).
    pub pattern: Option<String>,
    /// Keys per SCAN/UNLINK batch.
    pub batch: u32,
    pub confirmation: Confirmation,
}

pub async fn flush(args: &FlushOptions, profile: &Deployment) -> Result<u8, Error> {
    let service = profile.named_service(&args.service)?;
    let _lock = lock::unless_dry_run(args.confirmation.dry_run)?;
    let ctx = Context::new(profile.clone());
    let container = service.container(Role::Redis);
    let mut connection = redis_client::connect(&ctx, service)
        .await
        .map_err(|f| Error::CannotRun(format!("{}\nfix: {}", f.message, f.hint)))?;
    let before = dbsize(&mut connection).await?;
    // Counting takes a full SCAN: only worth it for a dry run or a question.
    let counted = match &args.pattern {
        Some(pattern) if !args.confirmation.yes || args.confirmation.dry_run => {
            Some(count_matching(&mut connection, pattern, args.batch as usize).await?)
        }
        _ => None,
    };
    let examples = counted.as_ref().map(|(_, e)| e.clone()).unwrap_or_default();
    let what = match (&args.pattern, &counted) {
        (Some(pattern), Some((matching, _))) => {
            format!("{matching} keys matching {pattern:?} of {before} in {container}")
        }
        (Some(pattern), None) => {
            format!("the keys matching {pattern:?} of {before} in {container}")
        }
        (None, _) => format!("all {before} keys of {container} (FLUSHDB ASYNC)"),
    };
    if args.confirmation.dry_run {
        outln!("dry run: would delete {what}; nothing changed");
        for key in &examples {
            outln!("  e.g. {key}");
        }
        return Ok(exit_code::OK);
    }
    confirm(&format!("Delete {what}?"), &args.confirmation)?;
    // From here SIGINT and SIGTERM stop the flush between two batches, even
    // when the doctor was started with them ignored (nohup, `trap '' INT`):
    // catching one replaces an inherited SIG_IGN.
    let mut signals =
        Signals::catch().map_err(|e| Error::CannotRun(format!("catching signals: {e}")))?;
    let (deleted, interrupted) = match &args.pattern {
        Some(pattern) => {
            unlink_matching(&mut connection, pattern, args.batch as usize, &mut signals).await?
        }
        None => {
            redis::cmd("FLUSHDB")
                .arg("ASYNC")
                .query_async::<()>(&mut connection)
                .await
                .map_err(|e| command_error("FLUSHDB", &e))?;
            (before, signals.received().now_or_never())
        }
    };
    let after = dbsize(&mut connection).await?;
    let Some(signal) = interrupted else {
        outln!("{container}: keys before {before}, deleted {deleted}, after {after}");
        return Ok(exit_code::OK);
    };
    let left = match &args.pattern {
        Some(pattern) => remaining(&mut connection, pattern, &mut signals).await,
        None => None,
    };
    let left = left.map_or_else(|| "not counted".to_string(), |n| format!("{n} matching"));
    outln!(
        "{container}: interrupted by {signal}: keys before {before}, deleted {deleted}, remaining {left}, after {after}"
    );
    eprintln!("helpdesk-doctor: interrupted by {signal}: stopped between two batches");
    Ok(exit_code::INTERRUPTED)
}

/// How many keys still match, counted for at most `REMAINING_COUNT_TIME`
/// (a second signal stops the count): `None` when not counted.
async fn remaining(
    connection: &mut MultiplexedConnection,
    pattern: &str,
    signals: &mut Signals,
) -> Option<u64> {
    let counted = tokio::time::timeout(
        REMAINING_COUNT_TIME,
        count_matching(connection, pattern, REMAINING_COUNT_BATCH),
    );
    tokio::select! {
        counted = counted => counted.ok()?.ok().map(|(n, _)| n),
        _ = signals.received() => None,
    }
}

async fn dbsize(connection: &mut MultiplexedConnection) -> Result<u64, Error> {
    redis::cmd("DBSIZE")
        .query_async(connection)
        .await
        .map_err(|e| command_error("DBSIZE", &e))
}

/// One SCAN step: the next cursor and the keys of this batch.
async fn scan_step(
    connection: &mut MultiplexedConnection,
    cursor: u64,
    pattern: &str,
    batch: usize,
) -> Result<(u64, Vec<String>), Error> {
    redis::cmd("SCAN")
        .arg(cursor)
        .arg("MATCH")
        .arg(pattern)
        .arg("COUNT")
        .arg(batch)
        .query_async(connection)
        .await
        .map_err(|e| command_error("SCAN", &e))
}

async fn count_matching(
    connection: &mut MultiplexedConnection,
    pattern: &str,
    batch: usize,
) -> Result<(u64, Vec<String>), Error> {
    let (mut cursor, mut count, mut examples) = (0, 0u64, Vec::new());
    loop {
        let (next, keys) = scan_step(connection, cursor, pattern, batch).await?;
        count += keys.len() as u64;
        examples.extend(
            keys.into_iter()
                .take(EXAMPLES.saturating_sub(examples.len())),
        );
        if next == 0 {
            return Ok((count, examples));
        }
        cursor = next;
    }
}

/// SCAN MATCH + UNLINK per batch. SCAN returns every key present for the whole
/// iteration, so no matching key that existed before the flush survives it.
/// A signal stops it between two batches (a batch is never cut in two): the
/// keys deleted so far and the signal's name.
async fn unlink_matching(
    connection: &mut MultiplexedConnection,
    pattern: &str,
    batch: usize,
    signals: &mut Signals,
) -> Result<(u64, Option<&'static str>), Error> {
    let (mut cursor, mut deleted, mut batches) = (0, 0u64, 0u64);
    loop {
        let (next, keys) = scan_step(connection, cursor, pattern, batch).await?;
        if !keys.is_empty() {
            let removed: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(connection)
                .await
                .map_err(|e| command_error("UNLINK", &e))?;
            deleted += removed;
        }
        batches += 1;
        if batches.is_multiple_of(100) {
            eprintln!("  … {deleted} keys deleted so far");
        }
        if next == 0 {
            return Ok((deleted, None));
        }
        if let Some(signal) = signals.received().now_or_never() {
            return Ok((deleted, Some(signal)));
        }
        cursor = next;
    }
}

fn command_error(command: &str, e: &redis::RedisError) -> Error {
    match e.code() {
        Some("NOPERM") => Error::CannotRun(format!(
            "{command} refused: NOPERM, the Redis user lacks the right (grant it with ACL SETUSER <user> +{})",
            command.to_lowercase()
        )),
        _ => Error::Runbook(format!("{command} failed: {e}")),
    }
}
