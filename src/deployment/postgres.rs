//! The PostgreSQL client where the deployment's server is reached (`reach`): one connection per database
//! and run, its password from `credentials`, a failed connect classified
//! (refused, timeout, authentication failed, no password found, no database).

use super::connect_error::ConnectCause;
use super::credentials::{Credential, Source, Unreadable};
use super::{Context, CredentialKind, Failure, reach};
use crate::profile::Service;
use std::sync::Arc;
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

pub async fn client(ctx: &Context, service: &Service) -> Result<Arc<Client>, Failure> {
    ctx.postgres
        .get_or_init(&service.name, || open(ctx, service))
        .await
}

async fn open(ctx: &Context, service: &Service) -> Result<Arc<Client>, Failure> {
    let address = reach::address(&ctx.profile, service, "db").map_err(|not| Failure {
        message: format!("{}: {not}", service.database),
        hint: not.hint(&ctx.profile),
    })?;
    let mut config = tokio_postgres::Config::new();
    config
        .host(&address.host)
        .port(address.port)
        .dbname(&service.database)
        .application_name("helpdesk-doctor")
        // Not "$user" first: a schema named like the user (which a restored
        // dump may create) never shadows the tables and views the doctor reads.
        .options("-c search_path=pg_catalog,public")
        .connect_timeout(ctx.timeout);
    let credential = password(ctx, service).await.map_err(|e| Failure {
        message: format!("{}: the password cannot be read from {e}", service.database),
        hint: "Make the file readable, or name the password another way (HELPDESK_<SERVICE>_DB_PASSWORD).".into(),
    })?;
    // The password's own user when its source names one (the application's).
    let user = credential.user.as_deref().unwrap_or(&service.db_user);
    config.user(user);
    if let Some(password) = &credential.value {
        config.password(password);
    }
    let connecting = config.connect(tokio_postgres::NoTls);
    match tokio::time::timeout(ctx.timeout, connecting).await {
        Ok(Ok((client, connection))) => {
            tokio::spawn(connection);
            Ok(Arc::new(client))
        }
        Ok(Err(e)) => Err(classify(
            service,
            user,
            &e,
            &credential.source,
            &ctx.profile.compose_command(),
        )),
        Err(_) => Err(Failure {
            message: format!(
                "{}: connect timed out after {:?}",
                service.database, ctx.timeout
            ),
            hint: format!(
                "Check that {} is running and reachable on port {}.",
                service.container("db"),
                service.db_port
            ),
        }),
    }
}

fn classify(
    service: &Service,
    user: &str,
    e: &tokio_postgres::Error,
    source: &Source,
    compose_command: &str,
) -> Failure {
    let db = &service.database;
    let container = service.container("db");
    let compose = service.compose_service("db");
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
                    service.container("service")
                ),
            };
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return Failure {
                message: format!("{db}: database does not exist"),
                hint: format!(
                    "Recreate it: docker exec {container} psql -U {} -d postgres -c 'CREATE DATABASE {db}' \
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

fn logs_hint(compose_command: &str, compose_service: &str) -> String {
    format!("Read its logs: {compose_command} logs --tail=50 {compose_service}")
}
