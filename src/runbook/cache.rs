//! `cache flush`: delete a service's Redis keys by pattern with SCAN + UNLINK in
//! batches (never KEYS, so Redis keeps answering), or all of them with FLUSHDB ASYNC.

use super::Confirmation;
use super::{confirm, lock};
use crate::deployment::{Context, redis as redis_client};
use crate::error::Error;
use crate::exit_code;
use crate::profile::Profile;
use redis::aio::MultiplexedConnection;

const EXAMPLES: usize = 5;

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

pub async fn flush(args: &FlushOptions, profile: &Profile) -> Result<u8, Error> {
    let service = profile.named_service(&args.service)?;
    let _lock = lock::unless_dry_run(args.confirmation.dry_run)?;
    let ctx = Context::new(profile.clone());
    let container = service.container("redis");
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
        println!("dry run: would delete {what}; nothing changed");
        for key in &examples {
            println!("  e.g. {key}");
        }
        return Ok(exit_code::OK);
    }
    confirm(&format!("Delete {what}?"), &args.confirmation)?;
    let deleted = match &args.pattern {
        Some(pattern) => unlink_matching(&mut connection, pattern, args.batch as usize).await?,
        None => {
            redis::cmd("FLUSHDB")
                .arg("ASYNC")
                .query_async::<()>(&mut connection)
                .await
                .map_err(|e| command_error("FLUSHDB", &e))?;
            before
        }
    };
    let after = dbsize(&mut connection).await?;
    println!("{container}: keys before {before}, deleted {deleted}, after {after}");
    Ok(exit_code::OK)
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
async fn unlink_matching(
    connection: &mut MultiplexedConnection,
    pattern: &str,
    batch: usize,
) -> Result<u64, Error> {
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
            return Ok(deleted);
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
