//! Redis probes where the deployment's server is reached (never another's): PING with the password (NOAUTH told
//! apart from WRONGPASS), and INFO (memory vs maxmemory, evictions, clients, last save).

use super::client_failure;
use crate::check::Outcome;
use crate::deployment::credentials::Source;
use crate::deployment::reach::{self, Reached};
use crate::deployment::redis::{connect, noperm, password, user_of};
use crate::deployment::{Context, CredentialKind};
use crate::profile::Service;
use std::collections::HashMap;

/// Where the service's Redis is reached, or the outcome saying why it is not.
fn reached(ctx: &Context, service: &Service) -> Result<Reached, Outcome> {
    reach::address(&ctx.profile, service, "redis")
        .map(|address| address.reached())
        .map_err(|not| super::not_reached(ctx, not))
}

pub async fn ping(ctx: &Context, service: &Service) -> Outcome {
    let reached = match reached(ctx, service) {
        Ok(reached) => reached,
        Err(outcome) => return outcome,
    };
    match connect(ctx, service).await {
        Ok(_) => {
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

pub async fn info(ctx: &Context, service: &Service) -> Outcome {
    let reached = match reached(ctx, service) {
        Ok(reached) => reached,
        Err(outcome) => return outcome,
    };
    let mut connection = match connect(ctx, service).await {
        Ok(c) => c,
        Err(failure) => {
            return client_failure(ctx, service, CredentialKind::Redis, failure).await;
        }
    };
    let text: String = match redis::cmd("INFO")
        .arg("all")
        .query_async(&mut connection)
        .await
    {
        Ok(text) => text,
        Err(e) if e.code() == Some("NOPERM") => {
            let user = password(ctx, service).await.ok();
            let user = user.as_ref().map(user_of).unwrap_or("default");
            let failure = noperm(&service.container("redis"), user, &e);
            return Outcome::fail(failure.message)
                .with_hint(failure.hint)
                .reached(reached);
        }
        Err(e) => return Outcome::fail(format!("INFO failed: {e}")).reached(reached),
    };
    let info: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.trim_end().split_once(':'))
        .collect();
    let number = |key: &str| {
        info.get(key)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (used, max, evicted, clients) = (
        number("used_memory"),
        number("maxmemory"),
        number("evicted_keys"),
        number("connected_clients"),
    );
    let last_save = info
        .get("rdb_last_bgsave_status")
        .copied()
        .unwrap_or("unknown")
        .to_string();
    let mut problems = Vec::new();
    if max > 0 && used as f64 >= max as f64 * 0.9 {
        problems.push(format!(
            "memory at {:.0}% of maxmemory",
            used as f64 * 100.0 / max as f64
        ));
    }
    if evicted > 0 {
        problems.push(format!("{evicted} keys evicted"));
    }
    if last_save != "ok" {
        problems.push(format!("last background save {last_save}"));
    }
    let memory = if max > 0 {
        format!("{} of {}", human(used), human(max))
    } else {
        format!("{} (no maxmemory)", human(used))
    };
    let summary =
        format!("memory {memory}, {clients} clients, {evicted} evicted, last save {last_save}");
    let outcome = if problems.is_empty() {
        Outcome::pass(summary)
    } else {
        Outcome::warn(format!("{}: {summary}", problems.join("; ")))
    };
    outcome
        .reached(reached)
        .detail("used_memory", used)
        .detail("maxmemory", max)
        .detail("evicted_keys", evicted)
        .detail("connected_clients", clients)
        .detail("rdb_last_bgsave_status", last_save)
        .detail(
            "redis_version",
            info.get("redis_version").copied().unwrap_or("unknown"),
        )
}

fn human(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}
