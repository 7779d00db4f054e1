//! The Redis client where the deployment's server is reached (`reach`):
//! authenticated when a password was found (`credentials`), as its ACL user
//! when one is known (`AUTH user pass`), a failure classified with the user
//! named (NOAUTH, WRONGPASS, NOPERM, refused).

use super::app_config::Server;
use super::app_credentials;
use super::connect_error::ConnectCause;
use super::credentials::{Credential, Unreadable};
use super::exec_stream::Stderr;
use super::reach::{Address, Via};
use super::{Context, CredentialKind, EngineError, Failure, bridge, route};
use crate::profile::{Role, Service};
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
    let container = service.container(Role::Redis);
    // The way, the password and the database number are independent engine
    // lookups: at once.
    let (address, credential, database) = tokio::join!(
        route::to(ctx, service, Role::Redis),
        password(ctx, service),
        app_database(ctx, service, &container)
    );
    let address = address.map_err(|no| no.failure(ctx, service, Role::Redis, &container))?;
    let credential = credential.map_err(|e| Failure {
        message: format!("{container}: the password cannot be read from {e}"),
        hint: "Make it readable, or name the password another way (HELPDESK_<SERVICE>_REDIS_PASSWORD)."
            .into(),
    })?;
    let password = credential.value.clone().filter(|p| !p.is_empty());
    let mut said = None;
    let connecting = async {
        let (mut connection, bridge) = open(ctx, &address).await?;
        said = bridge;
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
        // MISCONF (a failing save under stop-writes-on-bgsave-error) refuses
        // PING too, yet the server answers: persistence is the check that tells.
        match redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
        {
            Err(e) if e.code() == Some("MISCONF") => {}
            other => {
                other?;
            }
        }
        // The database its application uses (a URL's `/1`, `REDIS_DB`).
        if let Some(db) = database {
            redis::cmd("SELECT")
                .arg(db)
                .query_async::<()>(&mut connection)
                .await?;
        }
        Ok::<_, redis::RedisError>(connection)
    };
    let connected = tokio::time::timeout(ctx.timeout, connecting).await;
    let said = said.map(|s| s.text()).unwrap_or_default();
    match connected {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => {
            let mut failure = classify(service, &e, &credential, &ctx.profile.compose_command());
            if e.code().is_none() && !said.is_empty() {
                failure.message = format!("{} ({address}: {said})", failure.message);
            }
            Err(failure)
        }
        Err(_) => Err(Failure {
            message: format!(
                "{container}: no answer within {:?} ({address})",
                ctx.timeout
            ),
            hint: format!(
                "Check {container} ({} logs {}; {} unpause it if it is paused).",
                ctx.profile.compose_command(),
                service.compose_service(Role::Redis),
                ctx.profile.docker_command()
            ),
        }),
    }
}

/// The database number the application pointing at this Redis selects, when
/// not the default 0.
async fn app_database(ctx: &Context, service: &Service, container: &str) -> Option<u32> {
    let found = app_credentials::find(ctx, service, container, Server::Redis).await?;
    let db: u32 = found.config.database?.trim().parse().ok()?;
    (db != 0).then_some(db)
}

/// A connection at `address`: over TCP, or through the engine's bridge into
/// the Redis container (then with what the bridge says, for a failure).
async fn open(
    ctx: &Context,
    address: &Address,
) -> Result<(MultiplexedConnection, Option<Stderr>), redis::RedisError> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(ctx.timeout))
        .set_response_timeout(Some(ctx.timeout));
    let Via::Engine(container) = &address.via else {
        let client = redis::Client::open(format!("redis://{}/", address.host_port()))?;
        let connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        return Ok((connection, None));
    };
    let engine_failed =
        |e: EngineError| redis::RedisError::from(std::io::Error::other(format!("{e}")));
    let docker = ctx.docker_for(container).await.map_err(engine_failed)?;
    let inside = bridge::Inside::redis(address.port);
    let (stream, said) = bridge::open(&docker, container, &inside)
        .await
        .map_err(engine_failed)?;
    let info = redis::RedisConnectionInfo::default();
    let (connection, driver) =
        MultiplexedConnection::new_with_config(&info, stream, config).await?;
    tokio::spawn(driver);
    Ok((connection, Some(said)))
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
    let container = service.container(Role::Redis);
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
                service.container(Role::Service)
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
                service.container(Role::Service)
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
                service.compose_service(Role::Redis)
            ),
        },
        _ => Failure {
            message: format!("{container}: {e}"),
            hint: format!(
                "Read its logs: {compose_command} logs {}",
                service.compose_service(Role::Redis)
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
