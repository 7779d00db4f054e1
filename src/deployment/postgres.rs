//! The PostgreSQL client where the deployment's server is reached (`reach`): one connection per database
//! and run, its password from `credentials`, a failed connect classified
//! (refused, timeout, authentication failed, no password found, no database).

use super::connect_error::ConnectCause;
use super::credentials::{Credential, Source, Unreadable};
use super::reach::{Address, Via};
use super::route;
use super::{Context, CredentialKind, EngineError, Failure, bridge};
use crate::profile::{Role, Service};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

/// The password (see `crate::credentials::postgres` for where it is looked for).
/// A (possibly `schema.`-qualified) name as a quoted SQL identifier.
pub fn quote_identifier(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

pub async fn password(ctx: &Context, service: &Service) -> Result<Credential, Unreadable> {
    ctx.credential(service, CredentialKind::Postgres).await
}

/// How long a statement of the doctor's waits for a lock before it gives up
/// (the session's `lock_timeout`): a quarter of the probe time-out, from 100 ms
/// to 1 s.
pub fn lock_wait(ctx: &Context) -> Duration {
    (ctx.timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(1))
}

pub async fn client(ctx: &Context, service: &Service) -> Result<Arc<Client>, Failure> {
    ctx.postgres
        .get_or_init(&service.name, || open(ctx, service))
        .await
}

async fn open(ctx: &Context, service: &Service) -> Result<Arc<Client>, Failure> {
    // The way and the password are independent engine lookups: at once.
    let (address, credential) =
        tokio::join!(route::to(ctx, service, Role::Db), password(ctx, service));
    let address = address.map_err(|no| no.failure(ctx, service, Role::Db, &service.database))?;
    let mut config = tokio_postgres::Config::new();
    config
        .dbname(&service.database)
        .application_name("helpdesk-doctor")
        // Not "$user" first: a schema named like the user (which a restored
        // dump may create) never shadows the tables and views the doctor reads.
        // A statement waiting on a lock gives up soon: the checks sharing this
        // session are not held behind it until their own time-outs.
        .options(format!(
            "-c search_path=pg_catalog,public -c lock_timeout={}",
            lock_wait(ctx).as_millis()
        ))
        .connect_timeout(ctx.timeout);
    let credential = credential.map_err(|e| Failure {
        message: format!("{}: the password cannot be read from {e}", service.database),
        hint: "Make the file readable, or name the password another way (HELPDESK_<SERVICE>_DB_PASSWORD).".into(),
    })?;
    // The password's own user when its source names one (the application's).
    let user = credential.user.as_deref().unwrap_or(&service.db_user);
    config.user(user);
    if let Some(password) = &credential.value {
        config.password(password);
    }
    let connecting = connect(ctx, &mut config, &address);
    match tokio::time::timeout(ctx.timeout, connecting).await {
        Ok(Ok(client)) => Ok(Arc::new(client)),
        Ok(Err(Connecting::Engine(e))) => Err(Failure {
            message: format!("{}: {e}", service.database),
            hint: e.hint(),
        }),
        Ok(Err(Connecting::Postgres { error, bridge })) => {
            let mut failure = classify(service, user, &error, &credential.source, &ctx.profile);
            if error.as_db_error().is_none() && !bridge.is_empty() {
                failure.message = format!("{} ({address}: {bridge})", failure.message);
            }
            Err(failure)
        }
        Err(_) => Err(Failure {
            message: format!(
                "{}: connect timed out after {:?} ({address})",
                service.database, ctx.timeout
            ),
            hint: format!(
                "Check that {} is running and reachable on port {}.",
                service.container(Role::Db),
                service.db_port
            ),
        }),
    }
}

/// Why a connection was not made.
enum Connecting {
    Engine(EngineError),
    /// The client's error, and what the bridge through the engine said.
    Postgres {
        error: tokio_postgres::Error,
        bridge: String,
    },
}

/// A session at `address`: over TCP, or through the engine's bridge into
/// the database's container (`connect_raw` over the exec).
async fn connect(
    ctx: &Context,
    config: &mut tokio_postgres::Config,
    address: &Address,
) -> Result<Client, Connecting> {
    let Via::Engine(container) = &address.via else {
        config.host(&address.host).port(address.port);
        let (client, connection) =
            config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|error| Connecting::Postgres {
                    error,
                    bridge: String::new(),
                })?;
        tokio::spawn(connection);
        return Ok(client);
    };
    let docker = ctx
        .docker_for(container)
        .await
        .map_err(Connecting::Engine)?;
    let inside = bridge::Inside::postgres(address.port);
    let (stream, said) = bridge::open(&docker, container, &inside)
        .await
        .map_err(Connecting::Engine)?;
    match config.connect_raw(stream, tokio_postgres::NoTls).await {
        Ok((client, connection)) => {
            tokio::spawn(connection);
            Ok(client)
        }
        Err(error) => Err(Connecting::Postgres {
            error,
            bridge: said.text(),
        }),
    }
}

/// The server's message when there is one (`ERROR: permission denied for
/// schema x`), else the error and its cause: tokio-postgres says only "db
/// error" of a server's answer.
pub fn reason(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

fn classify(
    service: &Service,
    user: &str,
    e: &tokio_postgres::Error,
    source: &Source,
    profile: &crate::deployment::Deployment,
) -> Failure {
    let compose_command = &profile.compose_command();
    let docker = profile.docker_command();
    let db = &service.database;
    let container = service.container(Role::Db);
    let compose = service.compose_service(Role::Db);
    // The server asked for a password the doctor has none of: tokio-postgres
    // says only "invalid configuration" (its cause: "password missing").
    let password_missing = std::error::Error::source(e)
        .is_some_and(|cause| cause.to_string().contains("password missing"));
    if password_missing && matches!(source, Source::Nowhere) {
        return Failure {
            message: format!(
                "{db}: the server requires a password for user {:?} and none was found \
                 (looked in HELPDESK_*, PGPASSWORD, .pgpass, the application's DATABASE_URL or DB_*/PG* variables, POSTGRES_PASSWORD(_FILE))",
                user
            ),
            hint: format!(
                "Set HELPDESK_{}_DB_PASSWORD (or HELPDESK_DB_PASSWORD) to the password of {:?}",
                service.name.to_uppercase(),
                user
            ),
        };
    }
    if let Some(db_error) = e.as_db_error() {
        let code = db_error.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            let message = match source {
                Source::Nowhere => format!(
                    "{db}: the server requires a password for user {:?} and none was found \
                     (looked in HELPDESK_*, PGPASSWORD, .pgpass, the application's DATABASE_URL or DB_*/PG* variables, POSTGRES_PASSWORD(_FILE))",
                    user
                ),
                found => format!(
                    "{db}: password authentication failed for user {:?} (password from {found})",
                    user
                ),
            };
            return Failure {
                message,
                hint: format!(
                    "Set HELPDESK_{}_DB_PASSWORD (or HELPDESK_DB_PASSWORD) to the password of {:?}; compare with \
                     the application's (its URL or DB_*/PG*/POSTGRES_* variables): \
                     `docker exec {} env | grep -E 'DATABASE|DB_|PG|POSTGRES'`.",
                    service.name.to_uppercase(),
                    user,
                    service.container(Role::Service)
                ),
            };
        }
        if *code == SqlState::TOO_MANY_CONNECTIONS {
            return too_many_clients(service, db_error.message(), compose_command, &docker);
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return Failure {
                message: format!("{db}: database does not exist"),
                hint: format!(
                    "Recreate it: {docker} exec {container} psql -U {} -d postgres -c 'CREATE DATABASE {db}' \
                     then restart the service so its migrations run.",
                    service.db_user
                ),
            };
        }
        return Failure {
            message: format!("{db}: {}", db_error.message()),
            hint: logs_hint(compose_command, &compose),
        };
    }
    let cause = ConnectCause::of(e);
    if cause == Some(ConnectCause::Refused) {
        Failure {
            message: format!(
                "{db}: {} on port {}",
                ConnectCause::Refused.describe(),
                service.db_port
            ),
            hint: format!(
                "Start the database: {compose_command} up -d {compose}; then {}",
                logs_hint(compose_command, &compose)
            ),
        }
    } else {
        let text = match cause {
            Some(cause) => format!("{}: {e}", cause.describe()),
            None => e.to_string(),
        };
        Failure {
            message: format!("{db}: {text}"),
            hint: logs_hint(compose_command, &compose),
        }
    }
}

/// Every connection slot taken: the doctor itself is refused, as every new
/// client is (an application's pool times out, or gets the same error).
fn too_many_clients(
    service: &Service,
    server_said: &str,
    compose_command: &str,
    docker: &str,
) -> Failure {
    let container = service.container(Role::Db);
    Failure {
        message: format!(
            "{}: too many clients: every connection slot is taken, the doctor itself cannot connect ({server_said})",
            service.database
        ),
        hint: format!(
            "Find who holds them (a superuser may still get one of the reserved slots): {docker} exec -it \
             {container} psql -U {} -d {} -c \"SELECT application_name, usename, client_addr, state, \
             count(*) FROM pg_stat_activity GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC\"; end the idle ones: \
             ... -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle' AND \
             state_change < now() - interval '10 minutes'\"; or restart the application that leaks them \
             ({compose_command} restart {}); then size the pools (node-pg max × replicas) under \
             max_connections.",
            service.db_user,
            service.database,
            service.compose_service(Role::Service)
        ),
    }
}

fn logs_hint(compose_command: &str, compose_service: &str) -> String {
    format!("Read its logs: {compose_command} logs --tail=50 {compose_service}")
}
