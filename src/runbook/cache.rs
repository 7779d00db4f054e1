//! `cache flush`: delete a service's Redis keys by pattern with SCAN + UNLINK in
//! batches (never KEYS, so Redis keeps answering), or all of them with FLUSHDB ASYNC;
//! SIGINT/SIGTERM stop it between two batches with what was deleted and what is left.

use super::Confirmation;
use super::signals::Signals;
use super::skeleton::{self, Locking, Proposal, Runbook};
use crate::deployment::Deployment;
use crate::deployment::{Context, redis as redis_client};
use crate::error::Error;
use crate::exit_code;
use crate::profile::{Role, Service};
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
    let flush = Flush {
        args,
        profile,
        service: profile.named_service(&args.service)?,
    };
    skeleton::run(&flush, &args.confirmation, Locking::Take).await
}

struct Flush<'a> {
    args: &'a FlushOptions,
    profile: &'a Deployment,
    service: &'a Service,
}

/// The keys there are, on the connection that will delete them.
struct Keys {
    connection: MultiplexedConnection,
    container: String,
    before: u64,
    /// What a dry run or the question needs: the keys matching and a few of them.
    counted: Option<(u64, Vec<String>)>,
}

/// What the flush deleted, and where a signal stopped it.
struct Flushed {
    container: String,
    before: u64,
    deleted: u64,
    after: u64,
    /// The signal, and the keys still matching when they could be counted.
    interrupted: Option<(&'static str, Option<u64>)>,
}

impl Runbook for Flush<'_> {
    type Plan<'a>
        = Keys
    where
        Self: 'a;
    type Done = Flushed;

    async fn plan(&self) -> Result<Keys, Error> {
        let ctx = Context::new(self.profile.clone());
        let mut connection = redis_client::connect(&ctx, self.service)
            .await
            .map_err(|f| Error::CannotRun(format!("{}\nfix: {}", f.message, f.hint)))?;
        let before = dbsize(&mut connection).await?;
        let confirmation = &self.args.confirmation;
        // Counting takes a full SCAN: only worth it for a dry run or a question.
        let counted = match &self.args.pattern {
            Some(pattern) if !confirmation.yes || confirmation.dry_run => {
                Some(count_matching(&mut connection, pattern, self.args.batch as usize).await?)
            }
            _ => None,
        };
        Ok(Keys {
            connection,
            container: self.service.container(Role::Redis).to_string(),
            before,
            counted,
        })
    }

    fn propose(&self, plan: &Keys) -> Proposal {
        Proposal::Ask(format!("Delete {}?", self.what(plan)))
    }

    fn dry_run(&self, plan: &Keys) {
        outln!("dry run: would delete {}; nothing changed", self.what(plan));
        for key in plan.counted.iter().flat_map(|(_, examples)| examples) {
            outln!("  e.g. {key}");
        }
    }

    async fn act(&self, plan: Keys, signals: &mut Signals) -> Result<Flushed, Error> {
        let Keys {
            mut connection,
            container,
            before,
            ..
        } = plan;
        let batch = self.args.batch as usize;
        let (deleted, interrupted) = match &self.args.pattern {
            Some(pattern) => unlink_matching(&mut connection, pattern, batch, signals).await?,
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
        let interrupted = match (interrupted, &self.args.pattern) {
            (None, _) => None,
            (Some(signal), Some(pattern)) => {
                Some((signal, remaining(&mut connection, pattern, signals).await))
            }
            (Some(signal), None) => Some((signal, None)),
        };
        Ok(Flushed {
            container,
            before,
            deleted,
            after,
            interrupted,
        })
    }

    fn report(&self, done: Flushed) -> u8 {
        let Flushed {
            container,
            before,
            deleted,
            after,
            interrupted,
        } = done;
        let Some((signal, left)) = interrupted else {
            outln!("{container}: keys before {before}, deleted {deleted}, after {after}");
            return exit_code::OK;
        };
        let left = left.map_or_else(|| "not counted".to_string(), |n| format!("{n} matching"));
        outln!(
            "{container}: interrupted by {signal}: keys before {before}, deleted {deleted}, remaining {left}, after {after}"
        );
        eprintln!("helpdesk-doctor: interrupted by {signal}: stopped between two batches");
        exit_code::INTERRUPTED
    }
}

impl Flush<'_> {
    /// The keys the flush deletes, as the dry run and the question say them.
    fn what(&self, plan: &Keys) -> String {
        let Keys {
            container,
            before,
            counted,
            ..
        } = plan;
        match (&self.args.pattern, counted) {
            (Some(pattern), Some((matching, _))) => {
                format!("{matching} keys matching {pattern:?} of {before} in {container}")
            }
            (Some(pattern), None) => {
                format!("the keys matching {pattern:?} of {before} in {container}")
            }
            (None, _) => format!("all {before} keys of {container} (FLUSHDB ASYNC)"),
        }
    }
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
