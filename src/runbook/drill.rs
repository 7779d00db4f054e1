//! The restore drill (`backup verify --restore-test`, `backup --verify`): each
//! dump of a verified backup is restored into a throwaway container started
//! from its database's own image — no network, a recognisable random name, no
//! production password — and each table's row count is compared with the
//! manifest. The containers are removed afterwards, on failure and on Ctrl-C too.
//! The dump goes over the doctor's own session bridged into the container (no
//! psql, see `sql_stream`); a backup the doctor did not sign is restored as an
//! unprivileged role, as `restore` does.

use super::drill_record::{DatabaseDrill, DrillRecord};
use super::in_flight::InFlight;
use super::manifest::{self, DatabaseEntry, Manifest};
use super::pg_session::{self, Login};
use super::restore_role::Restorer;
use super::restore_role::RoleError;
use super::signals::Signals;
use super::sql_stream;
use crate::deployment::Deployment;
use crate::deployment::engine_client::{EngineClient, NewContainer};
use crate::deployment::{Context, EngineError};
use crate::error::Error;
use crate::exit_code;
use crate::profile::{Role, Service};
use crate::stdout::outln;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every drill container's name starts with this (and carries `LABEL`).
pub const PREFIX: &str = "helpdesk-doctor-drill-";
const LABEL: &str = "helpdesk-doctor.drill";
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// The port PostgreSQL listens on in a drill container (its image's default).
const DRILL_PORT: u16 = 5432;

/// Why one database's drill failed (its DRILL FAILED line).
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("no service {0} in this deployment")]
    NoService(String),
    #[error("no database container for {0} to take the image from")]
    NoDatabaseContainer(String),
    /// The engine failed a request (inspecting, creating, starting).
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{0} does not exist")]
    NoContainer(String),
    #[error("{0} names no image")]
    NoImage(String),
    #[error("the drill container was not ready within {0:?}")]
    NotReady(Duration),
    #[error(transparent)]
    Session(#[from] pg_session::SessionError),
    #[error("no dump file in the manifest")]
    NoDumpFile,
    #[error(transparent)]
    Dump(#[from] manifest::Invalid),
    #[error(transparent)]
    Role(#[from] RoleError),
    #[error("the dump does not restore: {0}")]
    DoesNotRestore(#[source] sql_stream::StreamError),
}

/// Drills every database of the backup in `dir` at once; exit 0 when each
/// restored and matched its manifest, 1 otherwise, 130 on SIGINT/SIGTERM.
pub async fn run(dir: &Path, manifest: &Manifest, profile: &Deployment) -> Result<u8, Error> {
    let ctx = Context::new(profile.clone());
    let engine = ctx.engine().await?;
    let run_id = random_hex();
    let foreign = !manifest.is_signed_by_us().unwrap_or(false);
    let mut signals =
        Signals::catch().map_err(|e| Error::CannotRun(format!("catching signals: {e}")))?;
    let in_flight = InFlight::default();
    let drills = manifest.databases.iter().map(|entry| {
        let (ctx, run_id, in_flight) = (&ctx, &run_id, &in_flight);
        async move {
            let started = Instant::now();
            let outcome = drill_one(ctx, dir, entry, run_id, in_flight, foreign).await;
            (entry, outcome, started.elapsed())
        }
    });
    let outcome = tokio::select! {
        outcomes = futures::future::join_all(drills) => Some(outcomes),
        signal = signals.received() => {
            eprintln!("helpdesk-doctor: interrupted by {signal}: removing the drill containers");
            None
        }
    };
    // A container still being created would escape the removal.
    in_flight.settle().await;
    remove_drill_containers(&engine, &run_id).await;
    let Some(outcomes) = outcome else {
        return Ok(exit_code::INTERRUPTED);
    };
    record(dir, &outcomes);
    let mut all_passed = true;
    for (entry, outcome, took) in outcomes {
        match outcome {
            Ok(rows) => outln!(
                "{}: restored in a throwaway container in {:.1}s: {} tables, {rows} rows, as in the manifest",
                entry.database,
                took.as_secs_f64(),
                entry.tables.len()
            ),
            Err(why) => {
                all_passed = false;
                outln!(
                    "{}: DRILL FAILED after {:.1}s: {why}",
                    entry.database,
                    took.as_secs_f64()
                );
            }
        }
    }
    Ok(if all_passed {
        exit_code::OK
    } else {
        exit_code::CHECK_FAILED
    })
}

/// Keeps the drill's result for `diagnose` (`backup.drill`); a record that
/// cannot be written is said, and does not change the drill's verdict.
fn record(dir: &Path, outcomes: &[(&DatabaseEntry, Result<i64, DrillError>, Duration)]) {
    let databases = outcomes
        .iter()
        .map(|(entry, outcome, _)| DatabaseDrill {
            database: entry.database.clone(),
            error: outcome.as_ref().err().map(ToString::to_string),
        })
        .collect();
    if let Err(e) = DrillRecord::new(dir, databases).save() {
        eprintln!("helpdesk-doctor: the drill's result was not recorded for diagnose: {e}");
    }
}

/// Restores one dump into its own throwaway container; the rows it counted.
async fn drill_one(
    ctx: &Context,
    dir: &Path,
    entry: &DatabaseEntry,
    run_id: &str,
    in_flight: &InFlight,
    foreign: bool,
) -> Result<i64, DrillError> {
    let service = ctx
        .profile
        .services
        .iter()
        .find(|s| s.name == entry.service)
        .ok_or_else(|| DrillError::NoService(entry.service.clone()))?;
    let image = database_image(ctx, service).await?;
    let database = Database {
        container: format!("{PREFIX}{}-{run_id}", entry.database.replace('_', "-")),
        user: &entry.user,
        name: &entry.database,
    };
    start_container(ctx, &database, &image, run_id, in_flight).await?;
    wait_ready(ctx, &database).await?;
    let admin = session(ctx, &database, None).await?;
    // Committed only when every table's row count matches the manifest.
    restore_into(ctx, dir, entry, &database, &admin, foreign).await?;
    Ok(entry.tables.values().sum())
}

/// The drill's database: its container, and the user and database the dump
/// was taken as (its objects' owner must exist).
struct Database<'a> {
    container: String,
    user: &'a str,
    name: &'a str,
}

/// The image the deployment's database container runs (the same PostgreSQL).
async fn database_image(ctx: &Context, service: &Service) -> Result<String, DrillError> {
    let container = service
        .existing_container(Role::Db)
        .ok_or_else(|| DrillError::NoDatabaseContainer(service.name.clone()))?;
    let inspected = crate::deployment::containers::inspect(ctx, &container)
        .await?
        .ok_or_else(|| DrillError::NoContainer(container.clone()))?;
    inspected
        .image
        .clone()
        .ok_or(DrillError::NoImage(container))
}

/// A container with no network and a throwaway password that never leaves
/// this process (the drill talks to it over its local socket).
async fn start_container(
    ctx: &Context,
    database: &Database<'_>,
    image: &str,
    run_id: &str,
    in_flight: &InFlight,
) -> Result<(), DrillError> {
    let engine = ctx.engine().await?;
    let new = NewContainer {
        name: database.container.clone(),
        image: image.to_string(),
        env: vec![
            format!("POSTGRES_USER={}", database.user),
            format!("POSTGRES_DB={}", database.name),
            format!("POSTGRES_PASSWORD={}", random_hex()),
        ],
        labels: HashMap::from([(LABEL.to_string(), run_id.to_string())]),
        isolated: true,
    };
    in_flight
        .run(async move { engine.create_and_start(new).await })
        .await
        .map_err(DrillError::from)
}

/// Until the final server accepts connections on TCP (the image's first start
/// runs a temporary server on the socket only, then restarts it).
async fn wait_ready(ctx: &Context, database: &Database<'_>) -> Result<(), DrillError> {
    let engine = ctx.engine().await?;
    let deadline = Instant::now() + READY_TIMEOUT;
    let cmd = [
        "pg_isready",
        "-q",
        "-h",
        "127.0.0.1",
        "-U",
        database.user,
        "-d",
        database.name,
    ];
    loop {
        let ready = engine
            .exec(&database.container, &cmd, &[], None, |_| Ok(()))
            .await;
        if matches!(ready, Ok(ref finished) if finished.exit_code == 0) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(DrillError::NotReady(READY_TIMEOUT));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A session in the drill container over its local socket (trusted: no password).
async fn session(
    ctx: &Context,
    database: &Database<'_>,
    restorer: Option<&Restorer>,
) -> Result<tokio_postgres::Client, DrillError> {
    let engine = ctx.engine().await?;
    let own = Login {
        user: database.user,
        password: None,
        database: database.name,
    };
    let login = match restorer {
        Some(restorer) => restorer.login(own),
        None => own,
    };
    // The drill runs the database's image as it is: at the image's own port.
    let inside = crate::deployment::bridge::Inside::postgres(DRILL_PORT);
    Ok(
        pg_session::in_container(&engine, &database.container, &inside, &login, ctx.timeout)
            .await?,
    )
}

/// The dump restored over the doctor's own session, validated on the way (as a
/// real restore does), committed only if all of it was valid; a foreign one as
/// an unprivileged role.
async fn restore_into(
    ctx: &Context,
    dir: &Path,
    entry: &DatabaseEntry,
    database: &Database<'_>,
    admin: &tokio_postgres::Client,
    foreign: bool,
) -> Result<(), DrillError> {
    let file = entry.file.clone().ok_or(DrillError::NoDumpFile)?;
    let opened = manifest::open_entry(dir, &file)?;
    let stall = Duration::from_millis(ctx.profile.timeouts.stall_ms);
    let (restorer, policy) = if foreign {
        let restorer = Restorer::prepare(admin, database.name, &ctx.secrets, stall).await?;
        (Some(restorer), sql_stream::Policy::Unprivileged)
    } else {
        (None, sql_stream::Policy::Owner)
    };
    let restored = async {
        let session = session(ctx, database, restorer.as_ref()).await?;
        let expected = sql_stream::Expected {
            entry: &file,
            tables: &entry.tables,
        };
        sql_stream::restore(&session, opened, expected, policy, stall)
            .await
            .map_err(DrillError::DoesNotRestore)
    }
    .await;
    if let Some(restorer) = restorer {
        restorer.drop(admin, stall).await?;
    }
    restored
}

/// Removes this run's drill containers (and their anonymous volumes), whatever
/// state they are in.
async fn remove_drill_containers(engine: &EngineClient, run_id: &str) {
    let label = format!("{LABEL}={run_id}");
    match engine.remove_labelled(&label).await {
        Ok(failed) => {
            for (id, e) in failed {
                eprintln!("helpdesk-doctor: could not remove drill container {id}: {e}");
            }
        }
        Err(_) => eprintln!(
            "helpdesk-doctor: could not list the drill containers: remove {PREFIX}* by hand"
        ),
    }
}

/// 16 hex digits from the kernel's randomness (the time and pid if it fails).
fn random_hex() -> String {
    crate::files::random_hex(8).unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:016x}", nanos as u64 ^ std::process::id() as u64)
    })
}
