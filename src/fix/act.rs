//! How each repair `fix` plans is carried out: a container started (every
//! stopped replica, `compose up -d` of its service when none exists, a restart
//! when it loops), expired tokens purged, a missing index created, a blocking
//! session cancelled — each failure typed (`RepairError`).

use super::{HEALTHY_TIMEOUT, Step};
use crate::deployment::Deployment;
use crate::deployment::container::{Container, Health};
use crate::deployment::engine_client::HealthError;
use crate::deployment::{Context, containers, postgres};
use crate::error::Error;
use crate::probe::Probe;
use crate::repair::Repair;
use crate::runbook::{self, Confirmation};

/// Why a repair failed (the message is the step's REPAIR FAILED line).
#[derive(Debug, thiserror::Error)]
pub(super) enum RepairError {
    /// The repair does not fit the check it is attached to.
    #[error("{0}")]
    Misplaced(&'static str),
    /// A database repair attached to a check about no one service's database.
    #[error("{0} needs a check about one service's database")]
    NoDatabase(&'static str),
    #[error(transparent)]
    Purge(Error),
    #[error(transparent)]
    Blocker(#[from] crate::fix_blocker::Refusal),
    /// The engine failed a request (connecting, finding or starting a replica).
    #[error(transparent)]
    Engine(#[from] crate::deployment::EngineError),
    #[error(transparent)]
    Health(#[from] HealthError),
    /// A compose name that could be an option or shell syntax.
    #[error("refused: {0}")]
    ComposeName(#[source] crate::compose_name::InvalidName),
    /// `docker compose … up` could not be run.
    #[error("{shown}: {source}")]
    ComposeSpawn {
        shown: String,
        #[source]
        source: std::io::Error,
    },
    /// `docker compose … up` failed.
    #[error("{shown}: {stderr}")]
    ComposeFailed { shown: String, stderr: String },
    /// No connection to the service's database.
    #[error("{message}; fix: {hint}")]
    Connect { message: String, hint: String },
    #[error("{database}: {source}")]
    Query {
        database: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("dropping the invalid {index}: {source}")]
    DropInvalid {
        index: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("creating {index}: {source}")]
    CreateIndex {
        index: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

pub(super) async fn repair(
    ctx: &Context,
    profile: &Deployment,
    step: &Step<'_>,
    confirmation: &Confirmation,
) -> Result<String, RepairError> {
    match (step.repair, &step.check.def.probe) {
        (
            Repair::StartContainer,
            Probe::Container {
                container,
                compose_service,
                ..
            },
        ) => start_container(ctx, container, compose_service).await,
        (Repair::StartContainer, _) => Err(RepairError::Misplaced(
            "start_container needs a container check",
        )),
        (Repair::PurgeTokens, _) => {
            let options = runbook::tokens::PurgeOptions {
                batch: 1000,
                confirmation: Confirmation {
                    dry_run: false,
                    yes: true,
                },
            };
            match runbook::tokens::purge_holding_the_lock(&options, profile).await {
                Ok(crate::exit_code::OK) => Ok("expired refresh tokens purged".to_string()),
                Ok(stopped) => Err(RepairError::Purge(Error::Runbook(format!(
                    "the purge stopped before its end (exit {stopped})"
                )))),
                Err(e) => Err(RepairError::Purge(e)),
            }
        }
        (Repair::CreateIndex { table, columns }, probe) => {
            let service = database_service(probe, profile, "create_index")?;
            create_indexes(ctx, service, table, columns).await
        }
        (Repair::CancelBlocker, probe) => {
            let service = database_service(probe, profile, "cancel_blocker")?;
            Ok(crate::fix_blocker::cancel(ctx, service, &step.result, confirmation).await?)
        }
    }
}

/// Every stopped replica started (a paused one unpaused, a looping or
/// unhealthy one restarted, a running healthy one left alone); `up -d` of the
/// compose service when it has no container at all; then healthy.
async fn start_container(
    ctx: &Context,
    container: &str,
    compose_service: &str,
) -> Result<String, RepairError> {
    let engine = ctx.engine().await?;
    let replicas = containers::find(ctx, container, compose_service).await?;
    if replicas.is_empty() {
        compose_up(ctx, compose_service).await?;
    }
    let mut names = Vec::new();
    for replica in &replicas {
        let name = replica.name.clone();
        match action(replica) {
            Some(Action::Unpause) => engine.unpause(&name).await?,
            Some(Action::Restart) => engine.restart(&name).await?,
            Some(Action::Start) => engine.start(&name).await?,
            None => continue,
        };
        names.push(name);
    }
    if names.is_empty() {
        names.push(container.to_string());
    }
    for name in &names {
        engine.wait_healthy(name, HEALTHY_TIMEOUT).await?;
    }
    Ok(format!("{} healthy", names.join(", ")))
}

/// What a replica needs to run again.
#[derive(Debug, PartialEq, Eq)]
enum Action {
    Start,
    Unpause,
    /// Running but looping or unhealthy.
    Restart,
}

/// `None` for a replica that runs and is not unhealthy: left alone.
fn action(replica: &Container) -> Option<Action> {
    let state = &replica.state;
    let unhealthy = matches!(replica.health, Health::Unhealthy { .. });
    if state.paused {
        Some(Action::Unpause)
    } else if state.restarting || (state.running && unhealthy) {
        Some(Action::Restart)
    } else if state.running {
        None
    } else {
        Some(Action::Start)
    }
}

/// The service whose database a repair (`repair`, for its error) acts on:
/// the one its check is about.
fn database_service<'a>(
    probe: &Probe,
    profile: &'a Deployment,
    repair: &'static str,
) -> Result<&'a crate::profile::Service, RepairError> {
    probe
        .service()
        .and_then(|s| profile.service(s))
        .ok_or(RepairError::NoDatabase(repair))
}

/// `up -d` of one compose service with the project and files it was started
/// with: an argument vector, never a shell; the names are compose names or
/// the repair is refused.
async fn compose_up(ctx: &Context, compose_service: &str) -> Result<(), RepairError> {
    let argv = up_argv(&ctx.profile, compose_service)?;
    let shown = argv.join(" ");
    let output = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| RepairError::ComposeSpawn {
            shown: shown.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(RepairError::ComposeFailed {
            shown,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// `docker compose -p PROJECT -f FILE… up -d --no-deps SERVICE`, one word each.
fn up_argv(profile: &Deployment, compose_service: &str) -> Result<Vec<String>, RepairError> {
    for name in [profile.compose_project.as_str(), compose_service] {
        crate::compose_name::check(name).map_err(RepairError::ComposeName)?;
    }
    let mut argv = profile.compose_argv();
    argv.extend(["up", "-d", "--no-deps", compose_service].map(String::from));
    Ok(argv)
}

/// `CREATE INDEX CONCURRENTLY IF NOT EXISTS {table}_{column}_idx` for each
/// column (never in a transaction, so writers go on); an invalid index left by
/// an interrupted earlier build is dropped (concurrently) and built again.
async fn create_indexes(
    ctx: &Context,
    service: &crate::profile::Service,
    table: &str,
    columns: &[String],
) -> Result<String, RepairError> {
    let client = postgres::client(ctx, service)
        .await
        .map_err(|f| RepairError::Connect {
            message: f.message,
            hint: f.hint,
        })?;
    // A concurrent build waits for every transaction older than it, by
    // design: this session of fix's own waits as long as it takes.
    client
        .batch_execute("SET lock_timeout = 0")
        .await
        .map_err(|source| RepairError::Query {
            database: service.database.clone(),
            source,
        })?;
    let mut built = Vec::new();
    for column in columns {
        let index = format!("{table}_{column}_idx");
        let invalid: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE c.relname = $1 AND NOT i.indisvalid)",
                &[&index],
            )
            .await
            .map_err(|source| RepairError::Query {
                database: service.database.clone(),
                source,
            })?
            .get(0);
        if invalid {
            client
                .batch_execute(&format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {}",
                    postgres::quote_identifier(&index)
                ))
                .await
                .map_err(|source| RepairError::DropInvalid {
                    index: index.clone(),
                    source,
                })?;
        }
        client
            .batch_execute(&format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({})",
                postgres::quote_identifier(&index),
                postgres::quote_identifier(table),
                postgres::quote_identifier(column)
            ))
            .await
            .map_err(|source| RepairError::CreateIndex {
                index: index.clone(),
                source,
            })?;
        built.push(index);
    }
    Ok(format!("{} present", built.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use crate::profile::Profile;

    #[test]
    fn compose_up_is_one_word_per_argument_and_refuses_other_names() {
        let mut profile = Deployment::new(Profile {
            compose_project: "prod".into(),
            compose_files: vec!["/srv/app dir/compose.yml".into()],
            ..Profile::default()
        });
        let argv = up_argv(&profile, "ticket-service").unwrap();
        assert_eq!(
            argv[argv.len() - 8..],
            [
                "-p",
                "prod",
                "-f",
                "/srv/app dir/compose.yml",
                "up",
                "-d",
                "--no-deps",
                "ticket-service"
            ]
        );
        for hostile in [
            "x; touch F",
            "x$(touch F)",
            "x`touch F`",
            "--file=/etc/passwd",
        ] {
            assert!(
                up_argv(&profile, hostile)
                    .unwrap_err()
                    .to_string()
                    .starts_with("refused: ")
            );
        }
        profile.compose_project = "p;id".into();
        assert!(up_argv(&profile, "ticket-service").is_err());
    }
}
