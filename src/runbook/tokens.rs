//! `tokens purge`: delete expired refresh tokens from auth_db in small batches
//! (one short transaction each, so a busy table is never locked for long).

use super::Confirmation;
use super::{confirm, lock};
use crate::deployment::Deployment;
use crate::deployment::{Context, postgres};
use crate::error::Error;
use crate::exit_code;
use crate::stdout::outln;
use std::time::SystemTime;

/// What `tokens purge` is asked.
#[derive(Clone, Debug)]
pub struct PurgeOptions {
    /// Rows deleted per transaction.
    pub batch: i64,
    pub confirmation: Confirmation,
}

/// The service whose database holds `refresh_tokens`.
const AUTH_SERVICE: &str = "auth";

pub async fn purge(args: &PurgeOptions, profile: &Deployment) -> Result<u8, Error> {
    let _lock = lock::unless_dry_run(args.confirmation.dry_run)?;
    purge_holding_the_lock(args, profile).await
}

/// `purge` for a caller that already holds the runbook lock (`fix`).
pub async fn purge_holding_the_lock(
    args: &PurgeOptions,
    profile: &Deployment,
) -> Result<u8, Error> {
    let service = profile.service(AUTH_SERVICE).ok_or_else(|| {
        Error::Config("the profile has no auth service (it owns refresh_tokens)".into())
    })?;
    let ctx = Context::new(profile.clone());
    let client = postgres::client(&ctx, service)
        .await
        .map_err(|f| Error::CannotRun(format!("{}\nfix: {}", f.message, f.hint)))?;
    let sql_error = |e: tokio_postgres::Error| Error::Runbook(format!("{}: {e}", service.database));
    // One cutoff for the whole purge: a token expiring meanwhile is left for next time.
    let cutoff = SystemTime::now();
    let count = |sql: &'static str| {
        let client = client.clone();
        async move { client.query_one(sql, &[]).await.map(|r| r.get::<_, i64>(0)) }
    };
    let total = count("SELECT count(*) FROM refresh_tokens")
        .await
        .map_err(sql_error)?;
    let expired: i64 = client
        .query_one(
            "SELECT count(*) FROM refresh_tokens WHERE expires_at < $1",
            &[&cutoff],
        )
        .await
        .map_err(sql_error)?
        .get(0);
    let what = format!(
        "{expired} expired of {total} refresh tokens in {}",
        service.database
    );
    if args.confirmation.dry_run {
        outln!(
            "dry run: would delete {what}, {} per batch; nothing changed",
            args.batch
        );
        return Ok(exit_code::OK);
    }
    if expired == 0 {
        outln!("no expired refresh tokens in {}", service.database);
        return Ok(exit_code::OK);
    }
    confirm(&format!("Delete {what}?"), &args.confirmation)?;
    let mut deleted = 0u64;
    loop {
        let removed = client
            .execute(
                "DELETE FROM refresh_tokens WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM refresh_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
                &[&cutoff, &args.batch],
            )
            .await
            .map_err(sql_error)?;
        deleted += removed;
        if removed == 0 {
            break;
        }
    }
    let left = count("SELECT count(*) FROM refresh_tokens")
        .await
        .map_err(sql_error)?;
    outln!(
        "{}: deleted {deleted} expired refresh tokens; {left} remain",
        service.database
    );
    Ok(exit_code::OK)
}
