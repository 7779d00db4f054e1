//! Redis probes where the deployment's server is reached (never another's): PING with the password (NOAUTH told
//! apart from WRONGPASS), and what the other Redis probes (`redis_pressure`) share: the run's connection, INFO.

use super::client_failure;
use crate::check::Outcome;
use crate::deployment::credentials::Source;
use crate::deployment::reach::Reached;
use crate::deployment::redis::{noperm, password, shared, user_of};
use crate::deployment::route;
use crate::deployment::{Context, CredentialKind};
use crate::profile::{Role, Service};
use redis::aio::MultiplexedConnection;
use std::collections::HashMap;

/// Where the service's Redis is reached, or the outcome saying why it is not.
async fn reached(ctx: &Context, service: &Service) -> Result<Reached, Outcome> {
    match route::to(ctx, service, Role::Redis).await {
        Ok(address) => Ok(address.reached()),
        Err(no) => Err(super::no_route(ctx, service, Role::Redis, no)),
    }
}

pub async fn ping(ctx: &Context, service: &Service) -> Outcome {
    let reached = match reached(ctx, service).await {
        Ok(reached) => reached,
        Err(outcome) => return outcome,
    };
    match shared(ctx, service).await {
        Ok(mut connection) => {
            let answer = redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await;
            if answer.is_err_and(|e| e.code() == Some("MISCONF")) {
                return Outcome::warn(format!(
                    "PING → MISCONF: it answers, but refuses writes until a save succeeds \
                     (see redis.{}.persistence)",
                    service.name
                ))
                .reached(reached);
            }
            let credential = password(ctx, service).await.ok();
            let how = match &credential {
                Some(c) if c.source == Source::Nowhere => "no password required".to_string(),
                Some(c) => format!(
                    "authenticated as {:?} with the password from {}",
                    user_of(c),
                    c.source
                ),
                None => String::new(),
            };
            Outcome::pass(format!("PING → PONG ({how})"))
                .detail(
                    "password_source",
                    credential
                        .as_ref()
                        .map(|c| c.source.to_string())
                        .unwrap_or_default(),
                )
                .detail(
                    "user",
                    credential.as_ref().map(user_of).unwrap_or("default"),
                )
                .reached(reached)
        }
        Err(failure) => client_failure(ctx, service, CredentialKind::Redis, failure).await,
    }
}

/// Runs `probe` on the run's connection to the service's Redis: a connect
/// failure, a command the ACL user may not run (NOPERM) and any other error
/// are told as failures; where it connected is recorded.
pub(super) async fn with_redis<F, Fut>(ctx: &Context, service: &Service, probe: F) -> Outcome
where
    F: FnOnce(MultiplexedConnection) -> Fut,
    Fut: Future<Output = Result<Outcome, redis::RedisError>>,
{
    let reached = match reached(ctx, service).await {
        Ok(reached) => reached,
        Err(outcome) => return outcome,
    };
    let connection = match shared(ctx, service).await {
        Ok(c) => c,
        Err(failure) => {
            return client_failure(ctx, service, CredentialKind::Redis, failure).await;
        }
    };
    match probe(connection).await {
        Ok(outcome) => outcome,
        Err(e) if e.code() == Some("NOPERM") => {
            let user = password(ctx, service).await.ok();
            let user = user.as_ref().map(user_of).unwrap_or("default");
            let failure = noperm(&service.container(Role::Redis), user, &e);
            Outcome::fail(failure.message).with_hint(failure.hint)
        }
        Err(e) => Outcome::fail(format!("{}: {e}", service.container(Role::Redis))),
    }
    .reached(reached)
}

/// The fields of an INFO answer (`name:value` lines).
pub(super) fn parse_info(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `INFO section…` of the service's Redis, parsed.
pub(super) async fn info_of(
    connection: &mut MultiplexedConnection,
    sections: &[&str],
) -> Result<HashMap<String, String>, redis::RedisError> {
    let text: String = redis::cmd("INFO")
        .arg(sections)
        .query_async(connection)
        .await?;
    Ok(parse_info(&text))
}

/// A number of an INFO answer (0 when absent).
pub(super) fn number(info: &HashMap<String, String>, key: &str) -> u64 {
    info.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

pub(super) fn human(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}
