//! `restore`: verify first, plan, confirm, lock, take a safety backup, stop the
//! application containers, restore each database all-or-nothing (one transaction,
//! ON_ERROR_STOP), start the applications again whatever happened, wait for health.

use super::manifest::{DatabaseEntry, Manifest};
use super::pg_tool::{self, Via};
use super::{backup, confirm, lock};
use crate::check::Status;
use crate::cli::RestoreArgs;
use crate::error::Error;
use crate::exit_code;
use crate::probe::{Context, docker, http};
use crate::profile::{Profile, Service};
use bollard::query_parameters::StopContainerOptionsBuilder;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const HEALTH_TIMEOUT: Duration = Duration::from_secs(90);
const HEALTH_POLL: Duration = Duration::from_millis(200);

pub async fn run(args: &RestoreArgs, profile: &Profile) -> Result<u8, Error> {
    let manifest = Manifest::verify(&args.dir)
        .map_err(|e| Error::Refused(format!("{e}; nothing was changed")))?;
    let targets = targets(profile, &manifest, &args.only)?;
    let ctx = Context::new(profile.clone());
    check_versions(&ctx, args.via, &targets).await?;
    let apps = application_containers(&ctx, &targets).await?;
    print_plan(args, &targets, &apps);
    if args.confirmation.dry_run {
        println!("dry run: nothing was changed");
        return Ok(exit_code::OK);
    }
    confirm("Restore these databases now?", &args.confirmation)?;
    let _lock = lock::acquire()?;
    if !args.no_safety_backup {
        let services: Vec<&Service> = targets.iter().map(|(s, _)| *s).collect();
        let (dir, safety) =
            backup::make(&ctx, &args.safety_dir, &services, args.via, false).await?;
        if safety.status != "complete" {
            return Err(Error::Runbook(format!(
                "the safety backup {} failed: nothing was changed",
                dir.display()
            )));
        }
        println!("safety backup: {}", dir.display());
    }
    stop(&ctx, &apps).await?;
    let restores = targets
        .iter()
        .map(|(service, entry)| restore_one(&ctx, args.via, &args.dir, service, entry));
    let outcomes = futures::future::join_all(restores).await;
    let restarted = start_and_wait(&ctx, &apps, &targets).await;
    let mut failed = false;
    for ((service, _), outcome) in targets.iter().zip(&outcomes) {
        match outcome {
            Ok(note) => println!("  {:<10} restored{note}", service.database),
            Err(e) => {
                failed = true;
                println!(
                    "  {:<10} FAILED, left unchanged: {}",
                    service.database,
                    ctx.secrets.redact(e)
                );
            }
        }
    }
    if let Err(e) = restarted {
        return Err(Error::Runbook(format!(
            "the application containers did not come back healthy: {e}"
        )));
    }
    println!("application containers running and healthy again");
    Ok(if failed {
        exit_code::RUNBOOK_FAILED
    } else {
        exit_code::OK
    })
}

/// The services to restore and their entries in the manifest.
fn targets<'a>(
    profile: &'a Profile,
    manifest: &'a Manifest,
    only: &[String],
) -> Result<Vec<(&'a Service, &'a DatabaseEntry)>, Error> {
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
        let server = pg_tool::query(ctx, via, service, "SHOW server_version_num")
            .await
            .map_err(|e| Error::CannotRun(format!("reading the server version of {}: {e}", service.database)))?;
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
        let found = docker::find(
            ctx,
            &service.container("service"),
            &service.compose_service("service"),
        )
        .await
        .map_err(Error::CannotRun)?;
        names.extend(found.iter().filter_map(|c| {
            c.name
                .as_ref()
                .map(|n| n.trim_start_matches('/').to_string())
        }));
    }
    Ok(names)
}

fn print_plan(args: &RestoreArgs, targets: &[(&Service, &DatabaseEntry)], apps: &[String]) {
    println!("restore plan from {}:", args.dir.display());
    if args.no_safety_backup {
        println!("  0. no safety backup (--no-safety-backup)");
    } else {
        println!(
            "  0. take a safety backup of the current databases into {}",
            args.safety_dir.display()
        );
    }
    println!("  1. stop the application containers: {}", apps.join(", "));
    for (service, entry) in targets {
        let rows: i64 = entry.tables.values().sum();
        println!(
            "  2. restore {} in {} ({} tables, {rows} rows) in one transaction: all or nothing",
            service.database,
            service.container("db"),
            entry.tables.len()
        );
    }
    println!(
        "  3. start {} again and wait until their health checks pass",
        apps.join(", ")
    );
}

/// Stops every application container at once.
async fn stop(ctx: &Context, apps: &[String]) -> Result<(), Error> {
    let docker = ctx
        .docker()
        .await
        .map_err(|e| Error::CannotRun(e.to_string()))?;
    let stops = apps.iter().map(|app| async move {
        docker
            .stop_container(app, Some(StopContainerOptionsBuilder::new().t(10).build()))
            .await
            .map_err(|e| Error::Runbook(format!("stopping {app}: {e}; nothing was restored")))
    });
    futures::future::try_join_all(stops).await.map(|_| ())
}

/// Streams the decompressed dump into psql in one transaction that stops at the
/// first error: a failing statement leaves the database exactly as it was.
async fn restore_one(
    ctx: &Context,
    via: Via,
    dir: &Path,
    service: &Service,
    entry: &DatabaseEntry,
) -> Result<String, String> {
    let file = entry.file.as_ref().ok_or("no dump file in the manifest")?;
    let (sender, receiver) = mpsc::channel::<Vec<u8>>(8);
    let path = dir.join(&file.name);
    let reader = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let mut gzip = GzDecoder::new(
            std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?,
        );
        loop {
            let mut chunk = vec![0u8; 1 << 20];
            let n = gzip
                .read(&mut chunk)
                .map_err(|e| format!("decompressing {}: {e}", path.display()))?;
            if n == 0 || sender.blocking_send(chunk[..n].to_vec()).is_err() {
                return Ok(());
            }
        }
    });
    let args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"];
    let finished =
        pg_tool::run(ctx, via, service, "psql", &args, Some(receiver), |_| Ok(())).await?;
    reader.await.map_err(|e| e.to_string())??;
    if finished.exit_code != 0 {
        return Err(format!(
            "psql exited {} (transaction rolled back): {}",
            finished.exit_code, finished.stderr
        ));
    }
    let (_, tables) = pg_tool::describe(ctx, via, service).await?;
    let differing: Vec<String> = tables
        .iter()
        .filter(|(t, n)| entry.tables.get(t).is_some_and(|expected| expected != n))
        .map(|(t, n)| format!("{t} has {n} rows, the backup {}", entry.tables[t]))
        .collect();
    Ok(if differing.is_empty() {
        String::new()
    } else {
        format!(" (but {})", differing.join(", "))
    })
}

/// Starts the application containers again and waits until diagnose's health
/// check passes for each restored service (all at once).
async fn start_and_wait(
    ctx: &Context,
    apps: &[String],
    targets: &[(&Service, &DatabaseEntry)],
) -> Result<(), String> {
    let docker = ctx.docker().await?;
    let starts = apps.iter().map(|app| async move {
        docker
            .start_container(app, None)
            .await
            .map_err(|e| format!("starting {app}: {e}"))
    });
    let started: Vec<Result<(), String>> = futures::future::join_all(starts).await;
    let waits = targets.iter().map(|(service, _)| async move {
        let url = format!(
            "http://{}:{}/api/v1/health",
            ctx.profile.host, service.app_port
        );
        let deadline = Instant::now() + HEALTH_TIMEOUT;
        while http::health(ctx, &url).await.status != Status::Pass {
            if Instant::now() > deadline {
                return Err(format!("{url} not healthy after {HEALTH_TIMEOUT:?}"));
            }
            tokio::time::sleep(HEALTH_POLL).await;
        }
        Ok(())
    });
    let healthy: Vec<Result<(), String>> = futures::future::join_all(waits).await;
    let errors: Vec<String> = started
        .into_iter()
        .chain(healthy)
        .filter_map(Result::err)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
