//! A runbook's own PostgreSQL session (never psql): with `--via docker` through
//! the engine — an exec in the database container bridges its stdin/stdout to
//! the server's socket (`deployment::bridge`), so no port needs to be published — and with
//! `--via direct` over the published port. The password goes in the protocol's
//! authentication exchange, never in argv or in the bridge's environment.

use super::pg_tool::{DESCRIBE_SQL, UnexpectedAnswer, Via, parse_description};
use crate::deployment::{Context, EngineError, bridge, postgres, reach};
use crate::profile::{Role, Service};
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

/// Who logs in, and to what.
pub struct Login<'a> {
    pub user: &'a str,
    pub password: Option<&'a str>,
    pub database: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("the password of {database} cannot be read from {reason}")]
    Password { database: String, reason: String },
    #[error(
        "connecting to {database} through {container}: {reason}{bridge}; the bridge needs perl in \
         the database container (every Debian-based postgres image has it), or use --via direct"
    )]
    Bridge {
        database: String,
        container: String,
        reason: String,
        bridge: String,
    },
    #[error("connecting to {database} on {host}:{port}: {reason}")]
    Direct {
        database: String,
        host: String,
        port: u16,
        reason: String,
    },
    #[error("connecting to {database}: no answer within {timeout:?}")]
    Timeout { database: String, timeout: Duration },
}

/// A session as the service's own user (its password from the credentials).
pub async fn admin(ctx: &Context, via: Via, service: &Service) -> Result<Client, SessionError> {
    let password = postgres::password(ctx, service)
        .await
        .map_err(|e| SessionError::Password {
            database: service.database.clone(),
            reason: e.to_string(),
        })?
        .value;
    let login = Login {
        user: &service.db_user,
        password: password.as_deref(),
        database: &service.database,
    };
    connect(ctx, via, service, &login).await
}

/// A session as `login` to `service`'s database, the way `via` says.
pub async fn connect(
    ctx: &Context,
    via: Via,
    service: &Service,
    login: &Login<'_>,
) -> Result<Client, SessionError> {
    match via {
        Via::Docker => {
            let container = service.container(Role::Db);
            let engine = ctx.engine_for(&container).await?;
            let inside = bridge::Inside::postgres(service.port_inside(Role::Db));
            in_container(&engine, &container, &inside, login, ctx.timeout).await
        }
        Via::Direct => {
            // Where diagnose reaches it (a task on another node: at that node).
            let (host, port) = match reach::address(&ctx.profile, service, Role::Db) {
                Ok(address) => (address.host, address.port),
                Err(_) => (ctx.profile.host.clone(), service.db_port),
            };
            direct(&host, port, login, ctx.timeout).await
        }
    }
}

/// Names resolve in pg_catalog only: a function, operator or relation a
/// restored dump left in another schema (`public`, one named like the user)
/// never shadows a built-in in the doctor's own queries, run as that user.
pub const SEARCH_PATH: &str = "-c search_path=pg_catalog,pg_temp";

fn config(login: &Login<'_>) -> Config {
    let mut config = Config::new();
    config
        .options(SEARCH_PATH)
        .user(login.user)
        .dbname(login.database)
        .application_name("helpdesk-doctor");
    if let Some(password) = login.password {
        config.password(password);
    }
    config
}

/// A session bridged through an exec in `container`.
pub async fn in_container(
    engine: &crate::deployment::engine_client::EngineClient,
    container: &str,
    inside: &bridge::Inside,
    login: &Login<'_>,
    timeout: Duration,
) -> Result<Client, SessionError> {
    let (stream, stderr) = engine.bridge(container, inside).await?;
    let config = config(login);
    let connecting = config.connect_raw(stream, NoTls);
    match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok((client, connection))) => {
            tokio::spawn(connection);
            Ok(client)
        }
        Ok(Err(e)) => {
            let said = stderr.text();
            Err(SessionError::Bridge {
                database: login.database.to_string(),
                container: container.to_string(),
                reason: reason(&e),
                bridge: if said.is_empty() {
                    String::new()
                } else {
                    format!(" ({said})")
                },
            })
        }
        Err(_) => Err(SessionError::Timeout {
            database: login.database.to_string(),
            timeout,
        }),
    }
}

/// A session over the published port.
pub async fn direct(
    host: &str,
    port: u16,
    login: &Login<'_>,
    timeout: Duration,
) -> Result<Client, SessionError> {
    let mut config = config(login);
    config.host(host).port(port).connect_timeout(timeout);
    match tokio::time::timeout(timeout, config.connect(NoTls)).await {
        Ok(Ok((client, connection))) => {
            tokio::spawn(connection);
            Ok(client)
        }
        Ok(Err(e)) => Err(SessionError::Direct {
            database: login.database.to_string(),
            host: host.to_string(),
            port,
            reason: reason(&e),
        }),
        Err(_) => Err(SessionError::Timeout {
            database: login.database.to_string(),
            timeout,
        }),
    }
}

pub use crate::deployment::postgres::reason;

/// Why the rows could not be counted.
#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    #[error("counting rows: {}", reason(.0))]
    Query(#[source] tokio_postgres::Error),
    #[error(transparent)]
    Answer(#[from] UnexpectedAnswer),
}

/// The server's version number and every public table's exact row count
/// (`DESCRIBE_SQL`), over `client`.
pub async fn describe(client: &Client) -> Result<(i64, Vec<(String, i64)>), DescribeError> {
    let rows = client
        .query(DESCRIBE_SQL, &[])
        .await
        .map_err(DescribeError::Query)?;
    let lines: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    Ok(parse_description(&lines.join("\n"))?)
}
