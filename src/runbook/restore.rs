//! `restore`: verify first (signature, files, dumps), plan, confirm, lock, take a
//! safety backup, stop the application containers, restore each database
//! all-or-nothing, start the applications again whatever happened (a failure,
//! Ctrl-C, SIGTERM), wait for health. All-or-nothing: over its own session (no
//! psql; see `sql_stream`) the doctor sends `BEGIN`, the dump statement by
//! statement through the same validation, and `COMMIT` only after the last byte
//! was read, validated and matched the manifest's sha256 — a cut session (the
//! doctor killed) never commits and the server rolls back. A backup the doctor
//! did not sign is restored as an unprivileged role (`restore_role`).

use super::in_flight::InFlight;
use super::interrupted::Record;
use super::manifest::{self, DatabaseEntry, Manifest, Status, Trust};
use super::pg_session::{self, Login};
use super::pg_tool::Via;
use super::restore_role::{self, Restorer};
use super::signals::Signals;
use super::skeleton::{self, Locking, Proposal, Runbook};
use super::sql_stream;
use super::{Confirmation, backup};
use crate::deployment::Deployment;
use crate::deployment::{Context, EngineError, containers, http, postgres};
use crate::error::Error;
use crate::exit_code;
use crate::profile::{Role, Service};
use crate::stdout::outln;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What `restore` is asked.
#[derive(Clone, Debug)]
pub struct RestoreOptions {
    /// The backup folder (required unless `finish`).
    pub dir: Option<PathBuf>,
    /// Start what an interrupted restore left stopped, and nothing else.
    pub finish: bool,
    pub trust_foreign_backup: bool,
    /// Only these services' databases (all in the backup when empty).
    pub only: Vec<String>,
    pub via: Via,
    pub no_safety_backup: bool,
    /// Where the safety backup goes.
    pub safety_dir: PathBuf,
    pub confirmation: Confirmation,
}

const HEALTH_TIMEOUT: Duration = Duration::from_secs(90);
const HEALTH_POLL: Duration = Duration::from_millis(200);

pub async fn run(args: &RestoreOptions, profile: &Deployment) -> Result<u8, Error> {
    let ctx = Context::new(profile.clone());
    if args.finish {
        let finish = Finish { ctx };
        return skeleton::run(&finish, &args.confirmation, Locking::Take).await;
    }
    let restore = Restore { args, profile, ctx };
    skeleton::run(&restore, &args.confirmation, Locking::Take).await
}

struct Restore<'a> {
    args: &'a RestoreOptions,
    profile: &'a Deployment,
    ctx: Context,
}

/// A verified backup, what it restores and what it stops meanwhile.
struct Planned<'a> {
    dir: &'a Path,
    manifest: Manifest,
    /// Whether the doctor did not sign it (restored as an unprivileged role).
    foreign: bool,
    targets: Vec<(&'a Service, DatabaseEntry)>,
    apps: Vec<String>,
    /// Each target's tables and their rows now (`None`: not counted).
    rows_now: Vec<Vec<(String, Option<i64>)>>,
}

impl Planned<'_> {
    fn targets(&self) -> Vec<(&Service, &DatabaseEntry)> {
        self.targets.iter().map(|(s, e)| (*s, e)).collect()
    }
}

/// Each database's outcome (or the signal that rolled them all back), and
/// whether the applications started again.
struct Restored {
    outcomes: Result<Vec<Outcome>, &'static str>,
    /// `None`: nothing was stopped.
    restarted: Option<Result<(), NotStarted>>,
}

/// A database, and whether it was restored.
type Outcome = (String, Result<(), Failure>);

impl Runbook for Restore<'_> {
    type Plan<'a>
        = Planned<'a>
    where
        Self: 'a;
    type Done = Restored;

    async fn plan(&self) -> Result<Planned<'_>, Error> {
        if let Some(left) = Record::left_behind() {
            return Err(Error::Refused(format!(
                "{}\nnothing was changed",
                left.warning()
            )));
        }
        let dir = self
            .args
            .dir
            .as_deref()
            .expect("clap requires DIR without --finish");
        let trust = if self.args.trust_foreign_backup {
            Trust::AlsoForeign
        } else {
            Trust::OwnOnly
        };
        let manifest = Manifest::verify(dir, trust)
            .map_err(|e| Error::Refused(format!("backup invalid: {e}; nothing was changed")))?;
        // Only a backup the doctor signed is restored as the database's own user.
        let foreign = !manifest.is_signed_by_us().unwrap_or(false);
        let targets: Vec<(&Service, DatabaseEntry)> =
            targets(self.profile, &manifest, &self.args.only)?
                .into_iter()
                .map(|(service, entry)| (service, entry.clone()))
                .collect();
        let view: Vec<(&Service, &DatabaseEntry)> = targets.iter().map(|(s, e)| (*s, e)).collect();
        check_versions(&self.ctx, self.args.via, &view).await?;
        let apps = application_containers(&self.ctx, &view).await?;
        let rows_now = rows_now(&self.ctx, &view).await;
        Ok(Planned {
            dir,
            manifest,
            foreign,
            targets,
            apps,
            rows_now,
        })
    }

    fn propose(&self, plan: &Planned<'_>) -> Proposal {
        print_plan(self.args, plan);
        Proposal::Ask("Restore these databases now?".into())
    }

    async fn act<'a>(
        &'a self,
        plan: Planned<'a>,
        signals: &mut Signals,
    ) -> Result<Restored, Error> {
        let ctx = &self.ctx;
        let targets = plan.targets();
        let stopped = AtomicBool::new(false);
        let in_flight = InFlight::default();
        if plan.foreign {
            // What a killed restore left behind.
            sweep_roles(ctx, self.args.via, &targets).await;
        }
        let source = Source {
            dir: plan.dir,
            foreign: plan.foreign,
        };
        let work = restore_all(
            self.args, source, ctx, &targets, &plan.apps, &stopped, &in_flight,
        );
        let outcome = signals.unless_interrupted(work).await;
        // A stop still on its way would undo the start below.
        in_flight.settle().await;
        if plan.foreign {
            // An interrupted restore's role (and its session) must not outlive it.
            sweep_roles(ctx, self.args.via, &targets).await;
        }
        // Whatever happened (a failure, Ctrl-C), the applications run again.
        let restarted = if stopped.load(Ordering::SeqCst) {
            let restarted = start_and_wait(ctx, &plan.apps, &targets).await;
            if restarted.is_ok() {
                Record::clear();
            }
            Some(restarted)
        } else {
            None
        };
        if let Some(Err(e)) = &restarted {
            eprintln!("helpdesk-doctor: the application containers did not come back healthy: {e}");
        }
        let outcomes = match outcome {
            Err(signal) => Err(signal),
            Ok(outcomes) => Ok(targets
                .iter()
                .map(|(service, _)| service.database.clone())
                .zip(outcomes?)
                .collect()),
        };
        Ok(Restored {
            outcomes,
            restarted,
        })
    }

    fn report(&self, done: Restored) -> u8 {
        let Restored {
            outcomes,
            restarted,
        } = done;
        let outcomes = match outcomes {
            Ok(outcomes) => outcomes,
            Err(signal) => {
                eprintln!(
                    "helpdesk-doctor: interrupted by {signal}: every database transaction was rolled \
                     back (nothing restored){}",
                    match restarted {
                        Some(Ok(())) => "; application containers started again",
                        Some(Err(_)) =>
                            "; start the application containers with `helpdesk-doctor restore --finish`",
                        None => "",
                    }
                );
                return exit_code::INTERRUPTED;
            }
        };
        let mut failed = false;
        for (database, outcome) in &outcomes {
            match outcome {
                Ok(()) => outln!("  {database:<10} restored, row counts match the backup"),
                Err(e) => {
                    failed = true;
                    outln!(
                        "  {database:<10} {}",
                        self.ctx.secrets.redact(&e.to_string())
                    );
                }
            }
        }
        match restarted {
            Some(Err(_)) => exit_code::RUNBOOK_FAILED,
            _ if failed => exit_code::RUNBOOK_FAILED,
            Some(Ok(())) => {
                outln!("application containers running and healthy again");
                exit_code::OK
            }
            None => exit_code::OK,
        }
    }
}

/// The backup restored: its folder, and whether the doctor did not sign it.
#[derive(Clone, Copy)]
struct Source<'a> {
    dir: &'a Path,
    foreign: bool,
}

/// The safety backup, then (recorded first) the applications stopped, then every
/// database restored at once. `stopped` tells the caller what to start again.
async fn restore_all(
    args: &RestoreOptions,
    source: Source<'_>,
    ctx: &Context,
    targets: &[(&Service, &DatabaseEntry)],
    apps: &[String],
    stopped: &AtomicBool,
    in_flight: &InFlight,
) -> Result<Vec<Result<(), Failure>>, Error> {
    let Source { dir, foreign } = source;
    if !args.no_safety_backup {
        let services: Vec<&Service> = targets.iter().map(|(s, _)| *s).collect();
        let (safety_dir, safety) =
            backup::make(ctx, &args.safety_dir, &services, args.via, false, in_flight).await?;
        if safety.status != Status::Complete {
            return Err(Error::Runbook(format!(
                "the safety backup {} failed: nothing was changed",
                safety_dir.display()
            )));
        }
        outln!("safety backup: {}", safety_dir.display());
    }
    Record::new(dir.to_path_buf(), apps.to_vec())
        .save()
        .map_err(|e| {
            Error::CannotRun(format!(
                "recording the restore in the state folder: {e}; nothing was changed"
            ))
        })?;
    stopped.store(true, Ordering::SeqCst);
    stop(ctx, apps, in_flight).await?;
    let restores = targets
        .iter()
        .map(|(service, entry)| restore_one(ctx, args.via, dir, service, entry, foreign));
    Ok(futures::future::join_all(restores).await)
}

/// `restore --finish`: start what an interrupted restore left stopped.
struct Finish {
    ctx: Context,
}

impl Runbook for Finish {
    type Plan<'a> = Option<Record>;
    type Done = Option<&'static str>;

    async fn plan(&self) -> Result<Option<Record>, Error> {
        Ok(Record::left_behind())
    }

    fn propose(&self, record: &Option<Record>) -> Proposal {
        let Some(record) = record else {
            outln!("no interrupted restore: nothing to finish");
            return Proposal::Nothing(exit_code::OK);
        };
        outln!(
            "starting {} again (left stopped by the restore started {})",
            record.stopped.join(", "),
            record.started_at
        );
        Proposal::Proceed
    }

    async fn act(
        &self,
        record: Option<Record>,
        signals: &mut Signals,
    ) -> Result<Option<&'static str>, Error> {
        let stopped = record.map(|r| r.stopped).unwrap_or_default();
        match signals
            .unless_interrupted(start_and_wait(&self.ctx, &stopped, &[]))
            .await
        {
            Ok(started) => {
                started
                    .map_err(|e| Error::Runbook(format!("starting the containers again: {e}")))?;
                Record::clear();
                Ok(None)
            }
            Err(signal) => Ok(Some(signal)),
        }
    }

    fn report(&self, interrupted: Option<&'static str>) -> u8 {
        match interrupted {
            None => {
                outln!("application containers running again");
                exit_code::OK
            }
            Some(signal) => {
                eprintln!(
                    "helpdesk-doctor: interrupted by {signal}: run `helpdesk-doctor restore --finish` again"
                );
                exit_code::INTERRUPTED
            }
        }
    }
}

/// The services to restore and their entries in the manifest.
fn targets<'p, 'm>(
    profile: &'p Deployment,
    manifest: &'m Manifest,
    only: &[String],
) -> Result<Vec<(&'p Service, &'m DatabaseEntry)>, Error> {
    let services = backup::select(profile, only)?;
    services
        .into_iter()
        .filter_map(
            |s| match manifest.databases.iter().find(|d| d.database == s.database) {
                Some(entry) => Some(Ok((s, entry))),
                None if only.is_empty() => None,
                None => Some(Err(Error::Refused(format!(
                    "the backup has no {}; nothing was changed",
                    s.database
                )))),
            },
        )
        .collect()
}

/// Refuses a dump from a newer PostgreSQL major version than the server's.
async fn check_versions(
    ctx: &Context,
    via: Via,
    targets: &[(&Service, &DatabaseEntry)],
) -> Result<(), Error> {
    let checks = targets.iter().map(|(service, entry)| async move {
        let cannot = |e: String| Error::CannotRun(format!("reading the server version of {}: {e}", service.database));
        let admin = pg_session::admin(ctx, via, service).await.map_err(|e| cannot(e.to_string()))?;
        let server: String = admin
            .query_one("SHOW server_version_num", &[])
            .await
            .map_err(|e| cannot(pg_session::reason(&e)))?
            .get(0);
        let server: i64 = server.parse().unwrap_or(0);
        if entry.server_version_num / 10000 > server / 10000 {
            return Err(Error::Refused(format!(
                "{} was dumped from PostgreSQL {} but the server runs {}: restore into a server at least as new; nothing was changed",
                service.database,
                entry.server_version_num / 10000,
                server / 10000
            )));
        }
        Ok(())
    });
    futures::future::try_join_all(checks).await.map(|_| ())
}

/// The running application containers (every replica) of the services to restore.
async fn application_containers(
    ctx: &Context,
    targets: &[(&Service, &DatabaseEntry)],
) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for (service, _) in targets {
        let found = containers::find(
            ctx,
            &service.container(Role::Service),
            &service.compose_service(Role::Service),
        )
        .await
        .map_err(Error::from)?;
        names.extend(found.iter().map(|c| c.name.clone()));
    }
    Ok(names)
}

/// Each target's tables with their row count now (`None` where it cannot be
/// counted: a missing table, an unreachable database).
async fn rows_now(
    ctx: &Context,
    targets: &[(&Service, &DatabaseEntry)],
) -> Vec<Vec<(String, Option<i64>)>> {
    let counts = targets.iter().map(|(service, entry)| async move {
        let client = postgres::client(ctx, service).await.ok();
        let mut rows = Vec::new();
        for table in entry.tables.keys() {
            let count = match &client {
                Some(client) => {
                    let sql = format!("SELECT count(*) FROM {}", postgres::quote_identifier(table));
                    client
                        .query_one(&sql, &[])
                        .await
                        .ok()
                        .map(|r| r.get::<_, i64>(0))
                }
                None => None,
            };
            rows.push((table.clone(), count));
        }
        rows
    });
    futures::future::join_all(counts).await
}

/// How long ago an RFC 3339 time was, for people (`3h 12m ago`).
fn age(created_at: &str) -> String {
    let Ok(then) = humantime::parse_rfc3339(created_at) else {
        return "of unknown age".into();
    };
    match std::time::SystemTime::now().duration_since(then) {
        Ok(elapsed) => {
            let minutes = Duration::from_secs(elapsed.as_secs() / 60 * 60);
            format!(
                "{} ago",
                humantime::format_duration(minutes.max(Duration::from_secs(60)))
            )
        }
        Err(_) => "from the future (check the clocks)".into(),
    }
}

fn print_plan(args: &RestoreOptions, plan: &Planned<'_>) {
    let Planned {
        dir,
        manifest,
        apps,
        rows_now,
        ..
    } = plan;
    let targets = plan.targets();
    outln!(
        "restore plan from {} (taken {}, {}):",
        dir.display(),
        manifest.created_at,
        age(&manifest.created_at)
    );
    let mut step = 0;
    let mut next = || {
        step += 1;
        step
    };
    if args.no_safety_backup {
        outln!("  -  no safety backup (--no-safety-backup)");
    } else {
        outln!(
            "  {}. take a safety backup of the current databases into {}",
            next(),
            args.safety_dir.display()
        );
    }
    outln!(
        "  {}. stop the application containers: {}",
        next(),
        apps.join(", ")
    );
    for ((service, entry), now) in targets.iter().zip(rows_now) {
        let rows: i64 = entry.tables.values().sum();
        outln!(
            "  {}. restore {} in {} ({} tables, {rows} rows) in one transaction, committed only \
             after the whole dump was checked: all or nothing",
            next(),
            service.database,
            service.container(Role::Db),
            entry.tables.len()
        );
        for (table, count) in now {
            let now = count.map_or_else(|| "?".to_string(), |n| n.to_string());
            outln!(
                "       {table:<24} rows now {now:>10} → in the backup {:>10}",
                entry.tables[table]
            );
        }
    }
    outln!(
        "  {}. start {} again and wait until their health checks pass",
        next(),
        apps.join(", ")
    );
}

/// Stops every application container at once (each stop runs to its end).
async fn stop(ctx: &Context, apps: &[String], in_flight: &InFlight) -> Result<(), Error> {
    let mut engines = Vec::with_capacity(apps.len());
    for app in apps {
        let engine = ctx
            .engine_for(app)
            .await
            .map_err(|e| Error::CannotRun(e.to_string()))?;
        engines.push(engine);
    }
    let stops = apps.iter().zip(engines).map(|(app, engine)| {
        let app = app.clone();
        in_flight.run(async move {
            engine
                .stop(&app, 10)
                .await
                .map_err(|e| Error::Runbook(format!("{e}; nothing was restored")))
        })
    });
    futures::future::try_join_all(stops).await.map(|_| ())
}

/// Why one database was not restored.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("FAILED, rolled back, left unchanged: {0}")]
    RolledBack(#[source] RestoreError),
}

/// Drops the restore roles a killed or interrupted run left (a warning if it cannot).
async fn sweep_roles(ctx: &Context, via: Via, targets: &[(&Service, &DatabaseEntry)]) {
    let stall = Duration::from_millis(ctx.profile.timeouts.stall_ms);
    for (service, _) in targets {
        let swept = match pg_session::admin(ctx, via, service).await {
            Ok(admin) => restore_role::sweep(&admin, stall)
                .await
                .map_err(RestoreError::from),
            Err(e) => Err(RestoreError::from(e)),
        };
        if let Err(e) = swept {
            eprintln!(
                "helpdesk-doctor: {}: {}",
                service.database,
                ctx.secrets.redact(&e.to_string())
            );
        }
    }
}

/// Restores one dump over the doctor's own session in one transaction (see
/// `sql_stream`, which commits only when the row counts match the backup's): a
/// foreign dump as an unprivileged role, given back and dropped afterwards
/// whatever happened.
async fn restore_one(
    ctx: &Context,
    via: Via,
    dir: &Path,
    service: &Service,
    entry: &DatabaseEntry,
    foreign: bool,
) -> Result<(), Failure> {
    let rolled_back = Failure::RolledBack;
    let file = entry
        .file
        .clone()
        .ok_or(rolled_back(RestoreError::NoDumpFile))?;
    let opened = manifest::open_entry(dir, &file).map_err(|e| rolled_back(e.into()))?;
    let stall = Duration::from_millis(ctx.profile.timeouts.stall_ms);
    // The owner's session that makes and drops the restore role: a foreign dump only.
    let admin = if foreign {
        let admin = pg_session::admin(ctx, via, service)
            .await
            .map_err(|e| rolled_back(e.into()))?;
        let restorer = Restorer::prepare(&admin, &service.database, &ctx.secrets, stall)
            .await
            .map_err(|e| rolled_back(e.into()))?;
        Some((admin, restorer))
    } else {
        None
    };
    let (restorer, policy) = match &admin {
        Some((_, restorer)) => (Some(restorer), sql_stream::Policy::Unprivileged),
        None => (None, sql_stream::Policy::Owner),
    };
    let expected = sql_stream::Expected {
        entry: &file,
        tables: &entry.tables,
    };
    let restored = restore_as(ctx, via, service, restorer, opened, expected, policy).await;
    if let Some((admin, restorer)) = admin
        && let Err(source) = restorer.drop(&admin, stall).await
    {
        return Err(rolled_back(RestoreError::RoleNotDropped {
            restored: restored.err().map(Box::new),
            source,
        }));
    }
    restored.map_err(rolled_back)
}

/// Why a dump was not restored (its transaction rolled back, if one began).
#[derive(Debug, thiserror::Error)]
enum RestoreError {
    #[error("the password of {database} cannot be read from {source}")]
    Password {
        database: String,
        #[source]
        source: crate::deployment::credentials::Unreadable,
    },
    #[error(transparent)]
    Session(#[from] pg_session::SessionError),
    #[error(transparent)]
    Stream(#[from] sql_stream::StreamError),
    #[error("no dump file in the manifest")]
    NoDumpFile,
    #[error(transparent)]
    Dump(#[from] manifest::Invalid),
    #[error(transparent)]
    Role(#[from] restore_role::RoleError),
    /// The restore role could not be dropped afterwards; `restored` is the
    /// restore's own failure, if it failed.
    #[error(
        "{}; {source}",
        .restored.as_ref().map_or("restored".to_string(), ToString::to_string)
    )]
    RoleNotDropped {
        restored: Option<Box<RestoreError>>,
        #[source]
        source: restore_role::RoleError,
    },
}

/// Why an application container was not started again, or not healthy.
#[derive(Debug, thiserror::Error)]
enum StartError {
    /// No engine for it.
    #[error("starting {app}: {source}")]
    NoEngine {
        app: String,
        #[source]
        source: EngineError,
    },
    /// The engine failed starting it.
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{url} not healthy after {timeout:?}")]
    Unhealthy { url: String, timeout: Duration },
}

/// Every application that did not come back, in order.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
struct NotStarted(Vec<StartError>);

/// The restore itself, in a session of its own that ends before the role is dropped.
async fn restore_as(
    ctx: &Context,
    via: Via,
    service: &Service,
    restorer: Option<&Restorer>,
    opened: std::fs::File,
    expected: sql_stream::Expected<'_>,
    policy: sql_stream::Policy,
) -> Result<(), RestoreError> {
    let password = match restorer {
        Some(Restorer::OwnUser) | None => {
            postgres::password(ctx, service)
                .await
                .map_err(|source| RestoreError::Password {
                    database: service.database.clone(),
                    source,
                })?
                .value
        }
        Some(Restorer::Made { .. }) => None,
    };
    let own = Login {
        user: &service.db_user,
        password: password.as_deref(),
        database: &service.database,
    };
    let login = match restorer {
        Some(restorer) => restorer.login(own),
        None => own,
    };
    let session = pg_session::connect(ctx, via, service, &login).await?;
    let stall = Duration::from_millis(ctx.profile.timeouts.stall_ms);
    Ok(sql_stream::restore(&session, opened, expected, policy, stall).await?)
}

/// Starts the application containers again and waits until diagnose's health
/// check passes for each restored service (all at once).
async fn start_and_wait(
    ctx: &Context,
    apps: &[String],
    targets: &[(&Service, &DatabaseEntry)],
) -> Result<(), NotStarted> {
    let starts = apps.iter().map(|app| async move {
        let engine = ctx
            .engine_for(app)
            .await
            .map_err(|source| StartError::NoEngine {
                app: app.clone(),
                source,
            })?;
        engine.start(app).await.map_err(StartError::from)
    });
    let started: Vec<Result<(), StartError>> = futures::future::join_all(starts).await;
    let waits = targets.iter().map(|(service, _)| async move {
        let host = crate::deployment::reach::address(&ctx.profile, service, Role::Service)
            .map(|a| a.host)
            .unwrap_or_else(|_| ctx.profile.host.clone());
        let url = format!("http://{host}:{}/api/v1/health", service.app_port);
        let deadline = Instant::now() + HEALTH_TIMEOUT;
        while !http::is_healthy(ctx, &url).await {
            if Instant::now() > deadline {
                return Err(StartError::Unhealthy {
                    url,
                    timeout: HEALTH_TIMEOUT,
                });
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
        Ok(())
    });
    let healthy: Vec<Result<(), StartError>> = futures::future::join_all(waits).await;
    let errors: Vec<StartError> = started
        .into_iter()
        .chain(healthy)
        .filter_map(Result::err)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(NotStarted(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applications_not_started_are_said_in_one_line_with_the_engine_hint_kept() {
        let engine = EngineError::request("starting app", "gone");
        let hint = engine.hint();
        let e = NotStarted(vec![
            StartError::Unhealthy {
                url: "http://h:1/api/v1/health".into(),
                timeout: Duration::from_secs(2),
            },
            StartError::Engine(engine),
        ]);
        assert_eq!(
            e.to_string(),
            "http://h:1/api/v1/health not healthy after 2s; starting app: gone"
        );
        assert!(matches!(&e.0[1], StartError::Engine(inner) if inner.hint() == hint));
    }
}
