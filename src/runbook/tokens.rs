//! `tokens purge`: delete expired refresh tokens from auth_db in small batches
//! (one short transaction each, so a busy table is never locked for long).

use super::Confirmation;
use super::signals::Signals;
use super::skeleton::{self, Locking, Proposal, Runbook};
use crate::deployment::Deployment;
use crate::deployment::{Context, postgres};
use crate::error::Error;
use crate::exit_code;
use crate::stdout::outln;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_postgres::Client;
use tokio_postgres::types::ToSql;

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
    let purge = Purge { args, profile };
    skeleton::run(&purge, &args.confirmation, Locking::Take).await
}

/// `purge` for a caller that already holds the runbook lock (`fix`).
pub async fn purge_holding_the_lock(
    args: &PurgeOptions,
    profile: &Deployment,
) -> Result<u8, Error> {
    let purge = Purge { args, profile };
    skeleton::run(&purge, &args.confirmation, Locking::HeldByCaller).await
}

struct Purge<'a> {
    args: &'a PurgeOptions,
    profile: &'a Deployment,
}

/// The expired tokens counted, on the session that will delete them.
struct Expired {
    database: String,
    client: Arc<Client>,
    /// One cutoff for the whole purge: a token expiring meanwhile is left for next time.
    cutoff: SystemTime,
    total: i64,
    expired: i64,
}

/// What the batches deleted, and the signal that stopped them, if one did.
struct Deleted {
    database: String,
    deleted: u64,
    /// The tokens left, when they could be counted.
    left: Option<i64>,
    /// The signal, and whether the batch under way was left unanswered.
    interrupted: Option<(&'static str, bool)>,
}

/// After a signal, how long the batch under way may take to end.
const BATCH_END_WAIT: Duration = Duration::from_secs(5);
/// How long the tokens left may take to count.
const COUNT_WAIT: Duration = Duration::from_secs(5);

impl Runbook for Purge<'_> {
    type Plan<'a>
        = Expired
    where
        Self: 'a;
    type Done = Deleted;

    async fn plan(&self) -> Result<Expired, Error> {
        let service = self.profile.service(AUTH_SERVICE).ok_or_else(|| {
            Error::Config("the profile has no auth service (it owns refresh_tokens)".into())
        })?;
        let ctx = Context::new(self.profile.clone());
        let client = postgres::client(&ctx, service)
            .await
            .map_err(|f| Error::CannotRun(format!("{}\nfix: {}", f.message, f.hint)))?;
        let cutoff = SystemTime::now();
        let sql_error = sql_error(&service.database);
        let total = count_all(&client).await.map_err(&sql_error)?;
        let expired: i64 = client
            .query_one(
                "SELECT count(*) FROM refresh_tokens WHERE expires_at < $1",
                &[&cutoff],
            )
            .await
            .map_err(&sql_error)?
            .get(0);
        Ok(Expired {
            database: service.database.clone(),
            client,
            cutoff,
            total,
            expired,
        })
    }

    fn propose(&self, plan: &Expired) -> Proposal {
        if plan.expired == 0 {
            outln!("no expired refresh tokens in {}", plan.database);
            return Proposal::Nothing(exit_code::OK);
        }
        Proposal::Ask(format!("Delete {}?", what(plan)))
    }

    fn dry_run(&self, plan: &Expired) {
        outln!(
            "dry run: would delete {}, {} per batch; nothing changed",
            what(plan),
            self.args.batch
        );
    }

    async fn act(&self, plan: Expired, signals: &mut Signals) -> Result<Deleted, Error> {
        let sql_error = sql_error(&plan.database);
        let mut deleted = 0u64;
        let mut interrupted = None;
        let mut cut = false;
        while interrupted.is_none() {
            let parameters: [&(dyn ToSql + Sync); 2] = [&plan.cutoff, &self.args.batch];
            let batch = plan.client.execute(
                "DELETE FROM refresh_tokens WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM refresh_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
                &parameters,
            );
            let mut batch = std::pin::pin!(batch);
            let removed = tokio::select! {
                removed = &mut batch => removed,
                signal = signals.received() => {
                    interrupted = Some(signal);
                    // The batch under way (one short transaction) ends first,
                    // so what is said deleted is; unless it hangs.
                    match tokio::time::timeout(BATCH_END_WAIT, batch).await {
                        Ok(removed) => removed,
                        Err(_) => {
                            cut = true;
                            break;
                        }
                    }
                }
            };
            let removed = removed.map_err(&sql_error)?;
            deleted += removed;
            if removed == 0 {
                break;
            }
        }
        let left = tokio::time::timeout(COUNT_WAIT, count_all(&plan.client)).await;
        // What is left is said if it could be counted in time.
        let left = match (left, interrupted) {
            (Ok(counted), None) => Some(counted.map_err(&sql_error)?),
            (Ok(counted), Some(_)) => counted.ok(),
            (Err(_), _) => None,
        };
        Ok(Deleted {
            database: plan.database,
            deleted,
            left,
            interrupted: interrupted.map(|signal| (signal, cut)),
        })
    }

    fn report(&self, done: Deleted) -> u8 {
        let left = done
            .left
            .map_or_else(|| "not counted".to_string(), |n| n.to_string());
        let Some((signal, cut)) = done.interrupted else {
            outln!(
                "{}: deleted {} expired refresh tokens; {left} remain",
                done.database,
                done.deleted
            );
            return exit_code::OK;
        };
        let under_way = if cut {
            format!(
                " (and up to {} more: the batch under way did not answer)",
                self.args.batch
            )
        } else {
            String::new()
        };
        outln!(
            "{}: interrupted by {signal}: deleted {}{under_way} expired refresh tokens; {left} remain",
            done.database,
            done.deleted
        );
        eprintln!("helpdesk-doctor: interrupted by {signal}: stopped between two batches");
        exit_code::INTERRUPTED
    }
}

fn what(plan: &Expired) -> String {
    format!(
        "{} expired of {} refresh tokens in {}",
        plan.expired, plan.total, plan.database
    )
}

async fn count_all(client: &Client) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT count(*) FROM refresh_tokens", &[])
        .await?;
    Ok(row.get(0))
}

fn sql_error(database: &str) -> impl Fn(tokio_postgres::Error) -> Error + use<> {
    let database = database.to_string();
    move |e| Error::Runbook(format!("{database}: {e}"))
}
