//! The Redis client where the deployment's server is reached (`reach`):
//! authenticated when a password was found (`credentials`), as its ACL user
//! when one is known (`AUTH user pass`), a failure classified with the user
//! named (NOAUTH, WRONGPASS, NOPERM, refused).

use super::connect_error::ConnectCause;
use super::credentials::{Credential, Unreadable};
use super::{Context, CredentialKind, Failure, reach};
use crate::profile::Service;
use redis::aio::MultiplexedConnection;

/// The password (see `crate::credentials::redis` for where it is looked for).
pub async fn password(ctx: &Context, service: &Service) -> Result<Credential, Unreadable> {
    ctx.credential(service, CredentialKind::Redis).await
}

/// The run's one connection to the service's Redis, shared by its checks
/// (`connect`, once).
pub async fn shared(ctx: &Context, service: &Service) -> Result<MultiplexedConnection, Failure> {
    ctx.redis
        .get_or_init(&service.name, || connect(ctx, service))
        .await
}

/// A connection to the service's Redis, authenticated when a password was found.
pub async fn connect(ctx: &Context, service: &Service) -> Result<MultiplexedConnection, Failure> {
    let address = reach::address(&ctx.profile, service, "redis").map_err(|not| Failure {
        message: format!("{}: {not}", service.container("redis")),
        hint: not.hint(&ctx.profile),
    })?;
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
        let url = format!("redis://{address}/");
        let client = redis::Client::open(url)?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(ctx.timeout))
            .set_response_timeout(Some(ctx.timeout));
        let mut connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        if let Some(password) = &password {
            let mut auth = redis::cmd("AUTH");
            auth.arg(credential.user.as_deref().into_iter().collect::<Vec<_>>())
                .arg(password);
            let auth = auth.query_async::<()>(&mut connection).await;
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
            &credential,
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

/// The user a connection authenticates as (`default` without a username).
pub fn user_of(credential: &Credential) -> &str {
    credential.user.as_deref().unwrap_or("default")
}

fn classify(
    service: &Service,
    e: &redis::RedisError,
    credential: &Credential,
    compose_command: &str,
) -> Failure {
    let container = service.container("redis");
    let env_var = format!("HELPDESK_{}_REDIS_PASSWORD", service.name.to_uppercase());
    let user = user_of(credential);
    let source = &credential.source;
    let text = e.to_string();
    match e.code() {
        Some("NOAUTH") => Failure {
            message: format!(
                "{container}: NOAUTH, the server requires authentication and no password was found \
                 (looked in HELPDESK_*, REDISCLI_AUTH, the application's REDIS_URL or REDIS_PASSWORD(_FILE), \
                 --requirepass, --user rules, its config file, REDIS_PASSWORD)"
            ),
            hint: format!("Set {env_var} (or HELPDESK_REDIS_PASSWORD) to the server's password."),
        },
        Some("WRONGPASS") => Failure {
            message: format!(
                "{container}: WRONGPASS, user {user:?} with the password from {source} was refused \
                 (a wrong password, or the user does not exist or is off)"
            ),
            hint: format!(
                "Compare the password of user {user:?} in the server's --user rules or requirepass \
                 (ACL LIST) with the application's REDIS_URL / REDIS_USERNAME / REDIS_PASSWORD(_FILE) \
                 (`docker exec {} env`), or set {env_var}.",
                service.container("service")
            ),
        },
        Some("ERR") if text.to_lowercase().contains("pass") => Failure {
            message: format!(
                "{container}: the password (from {source}) was refused: {}",
                e.detail().unwrap_or_default()
            ),
            hint: format!(
                "The password differs from the server's requirepass: set {env_var}, or compare REDIS_URL in \
                 `docker exec {} env` with the server's config (CONFIG GET requirepass).",
                service.container("service")
            ),
        },
        Some("NOPERM") => noperm(&container, user, e),
        _ if e.is_connection_refusal() => Failure {
            message: format!(
                "{container}: {} on port {}",
                ConnectCause::Refused.describe(),
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

/// A command the ACL user may not run, the user and the command named.
pub fn noperm(container: &str, user: &str, e: &redis::RedisError) -> Failure {
    Failure {
        message: format!(
            "{container}: NOPERM, user {user:?} lacks the rights: {}",
            e.detail().unwrap_or_default()
        ),
        hint: format!(
            "Grant it in its --user rule or with ACL SETUSER {user} +ping +info (the doctor reads PING and INFO)."
        ),
    }
}
