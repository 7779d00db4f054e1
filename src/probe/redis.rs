//! Redis probes over the published port: PING with the password (NOAUTH told
//! apart from WRONGPASS), and INFO (memory vs maxmemory, evictions, clients, last save).

use super::{Context, CredentialKind};
use crate::check::Outcome;
use crate::credentials::{Credential, Source, Unreadable};
use crate::profile::Service;
use redis::aio::MultiplexedConnection;
use std::collections::HashMap;

/// Why a connection failed, with the fix.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub hint: String,
}

/// The password (see `crate::credentials::redis` for where it is looked for).
pub async fn password(ctx: &Context, service: &Service) -> Result<Credential, Unreadable> {
    ctx.credential(service, CredentialKind::Redis).await
}

/// A connection to the service's Redis, authenticated when a password was found.
pub async fn connect(ctx: &Context, service: &Service) -> Result<MultiplexedConnection, Failure> {
    let credential = password(ctx, service).await.map_err(|e| Failure {
        message: format!(
            "{}: the password cannot be read from {e}",
            service.container("redis")
        ),
        hint: "Make it readable, or name the password another way (HELPDESK_<SERVICE>_REDIS_PASSWORD)."
            .into(),
    })?;
    let password = credential.value.clone().filter(|p| !p.is_empty());
    let connecting = async {
        let url = format!("redis://{}:{}/", ctx.profile.host, service.redis_port);
        let client = redis::Client::open(url)?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(ctx.timeout))
            .set_response_timeout(Some(ctx.timeout));
        let mut connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        if let Some(password) = &password {
            let auth = redis::cmd("AUTH")
                .arg(password)
                .query_async::<()>(&mut connection)
                .await;
            match auth {
                // A server without a password: nothing to authenticate.
                Err(e) if e.to_string().contains("without any password configured") => {}
                other => other?,
            }
        }
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await?;
        Ok::<_, redis::RedisError>(connection)
    };
    match tokio::time::timeout(ctx.timeout, connecting).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => Err(classify(
            service,
            &e,
            &credential.source,
            &ctx.profile.compose_command(),
        )),
        Err(_) => Err(Failure {
            message: format!(
                "{}: no answer within {:?}",
                service.container("redis"),
                ctx.timeout
            ),
            hint: format!(
                "Check {} ({} logs {}; docker unpause it if it is paused).",
                service.container("redis"),
                ctx.profile.compose_command(),
                service.compose_service("redis")
            ),
        }),
    }
}

fn classify(
    service: &Service,
    e: &redis::RedisError,
    source: &Source,
    compose_command: &str,
) -> Failure {
    let container = service.container("redis");
    let env_var = format!("HELPDESK_{}_REDIS_PASSWORD", service.name.to_uppercase());
    match e.code() {
        Some("NOAUTH") => Failure {
            message: format!(
                "{container}: NOAUTH, the server requires a password and none was found \
                 (looked in HELPDESK_*, REDISCLI_AUTH, REDIS_URL, --requirepass, its config file, REDIS_PASSWORD)"
            ),
            hint: format!(
                "Set {env_var} (or HELPDESK_REDIS_PASSWORD) to the server's requirepass."
            ),
        },
        Some("WRONGPASS") | Some("ERR") if e.to_string().to_lowercase().contains("pass") => {
            Failure {
                message: format!(
                    "{container}: WRONGPASS, the password (from {source}) was refused"
                ),
                hint: format!(
                    "The password differs from the server's requirepass: set {env_var}, or compare REDIS_URL in \
                 `docker exec {} env` with the server's config (CONFIG GET requirepass).",
                    service.container("service")
                ),
            }
        }
        Some("NOPERM") => Failure {
            message: format!("{container}: NOPERM, the user lacks the rights for this command"),
            hint: "Grant the ACL user +ping +info (ACL SETUSER …).".into(),
        },
        _ if e.is_connection_refusal() => Failure {
            message: format!(
                "{container}: connection refused (ECONNREFUSED) on port {}",
                service.redis_port
            ),
            hint: format!(
                "Start it: {compose_command} up -d {0}; read {compose_command} logs {0}",
                service.compose_service("redis")
            ),
        },
        _ => Failure {
            message: format!("{container}: {e}"),
            hint: format!(
                "Read its logs: {compose_command} logs {}",
                service.compose_service("redis")
            ),
        },
    }
}

pub async fn ping(ctx: &Context, service: &Service) -> Outcome {
    match connect(ctx, service).await {
        Ok(_) => {
            let source = password(ctx, service).await.map(|c| c.source);
            let how = match &source {
                Ok(Source::Nowhere) => "no password required".to_string(),
                Ok(source) => format!("authenticated with the password from {source}"),
                Err(_) => String::new(),
            };
            Outcome::pass(format!("PING → PONG ({how})")).detail(
                "password_source",
                source.map(|s| s.to_string()).unwrap_or_default(),
            )
        }
        Err(failure) => Outcome::fail(failure.message).with_hint(failure.hint),
    }
}

pub async fn info(ctx: &Context, service: &Service) -> Outcome {
    let mut connection = match connect(ctx, service).await {
        Ok(c) => c,
        Err(failure) => return Outcome::fail(failure.message).with_hint(failure.hint),
    };
    let text: String = match redis::cmd("INFO")
        .arg("all")
        .query_async(&mut connection)
        .await
    {
        Ok(text) => text,
        Err(e) => return Outcome::fail(format!("INFO failed: {e}")),
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
        .detail("used_memory", used)
        .detail("maxmemory", max)
        .detail("evicted_keys", evicted)
        .detail("connected_clients", clients)
        .detail("rdb_last_bgsave_status", last_save)
}

fn human(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}
