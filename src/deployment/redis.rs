//! The Redis client where the deployment's server is reached (`reach`): authenticated when a password was
//! found (`credentials`), a failure classified (NOAUTH, WRONGPASS, NOPERM, refused).

use super::connect_error::ConnectCause;
use super::credentials::{Credential, Source, Unreadable};
use super::{Context, CredentialKind, Failure, reach};
use crate::profile::Service;
use redis::aio::MultiplexedConnection;

/// The password (see `crate::credentials::redis` for where it is looked for).
pub async fn password(ctx: &Context, service: &Service) -> Result<Credential, Unreadable> {
    ctx.credential(service, CredentialKind::Redis).await
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
