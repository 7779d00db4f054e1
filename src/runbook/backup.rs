//! `backup`: dump every database concurrently, streamed and compressed, each file
//! hashed on the way and committed atomically; the manifest is written last.
//! Also `backup verify`, `backup list` and `backup prune`.

use super::in_flight::InFlight;
use super::manifest::{self, DatabaseEntry, FileEntry, Manifest, Status, Trust};
use super::pg_tool::{self, Via};
use super::progress::{Progress, Task};
use super::signals::Signals;
use super::skeleton::{self, Locking, Proposal, Runbook};
use super::{Confirmation, snapshot, volumes};
use crate::deployment::Context;
use crate::deployment::Deployment;
use crate::error::Error;
use crate::exit_code;
use crate::files::{self, CompressedFile, WriteError};
use crate::profile::{Role, Service};
use crate::stdout::outln;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub async fn run(args: &BackupOptions, profile: &Deployment) -> Result<u8, Error> {
    let backup = Backup {
        args,
        ctx: Context::new(profile.clone()),
        profile,
    };
    // A backup removes nothing: no question, no dry run.
    skeleton::run(&backup, &Confirmation::default(), Locking::Take).await
}

struct Backup<'a> {
    args: &'a BackupOptions,
    ctx: Context,
    profile: &'a Deployment,
}

/// A backup made (complete or not), or the signal that stopped it.
enum Made {
    Made(PathBuf, Manifest),
    Interrupted(&'static str),
}

impl Runbook for Backup<'_> {
    type Plan<'a>
        = Vec<&'a Service>
    where
        Self: 'a;
    type Done = Made;

    async fn plan(&self) -> Result<Vec<&Service>, Error> {
        let services = select(self.profile, &self.args.only)?;
        if self.args.via == Via::Docker || self.args.volumes {
            // An unreachable engine: nothing can be dumped, so nothing is started.
            self.ctx.engine().await?;
        }
        Ok(services)
    }

    fn propose(&self, _services: &Vec<&Service>) -> Proposal {
        Proposal::Proceed
    }

    async fn act<'a>(
        &'a self,
        services: Vec<&'a Service>,
        signals: &mut Signals,
    ) -> Result<Made, Error> {
        let BackupOptions {
            out, via, volumes, ..
        } = self.args;
        let in_flight = InFlight::default();
        let made = make(&self.ctx, out, &services, *via, *volumes, &in_flight);
        match signals.unless_interrupted(made).await {
            Ok(made) => made.map(|(dir, manifest)| Made::Made(dir, manifest)),
            Err(signal) => {
                // Dropping the work removed every unfinished file; a database stopped
                // for its volume archive (once its stop has ended) is started again.
                in_flight.settle().await;
                if *volumes {
                    volumes::start_again(&self.ctx, &services).await;
                }
                Ok(Made::Interrupted(signal))
            }
        }
    }

    fn report(&self, done: Made) -> u8 {
        let (dir, manifest) = match done {
            Made::Made(dir, manifest) => (dir, manifest),
            Made::Interrupted(signal) => {
                eprintln!(
                    "helpdesk-doctor: interrupted by {signal}: no backup was completed, no partial file is left"
                );
                return exit_code::INTERRUPTED;
            }
        };
        outln!(
            "{}: backup {} ({} databases)",
            dir.display(),
            manifest.status,
            manifest.databases.len()
        );
        for db in &manifest.databases {
            match (&db.file, &db.error) {
                (Some(file), _) => outln!(
                    "  {:<10} {}, sha256 {}",
                    db.database,
                    indicatif::HumanBytes(file.size),
                    file.sha256
                ),
                (None, error) => outln!(
                    "  {:<10} FAILED: {}",
                    db.database,
                    error.as_deref().unwrap_or("")
                ),
            }
        }
        if manifest.status == Status::Complete {
            exit_code::OK
        } else {
            exit_code::RUNBOOK_FAILED
        }
    }
}

/// What `backup` is asked.
#[derive(Clone, Debug)]
pub struct BackupOptions {
    /// Where `emergency-backup-…` is created.
    pub out: PathBuf,
    /// Only these services' databases (all when empty).
    pub only: Vec<String>,
    /// Also archive each database volume (stopping its container meanwhile).
    pub volumes: bool,
    pub via: Via,
}

/// The services named by `--only` (all by default).
pub fn select<'a>(profile: &'a Deployment, only: &[String]) -> Result<Vec<&'a Service>, Error> {
    if only.is_empty() {
        return Ok(profile.services.iter().collect());
    }
    only.iter()
        .map(|name| profile.named_service(name))
        .collect()
}

/// Makes a backup under `out`: the databases concurrently, then the volumes if
/// asked, then the manifest. A failed database does not stop the others.
pub async fn make(
    ctx: &Context,
    out: &Path,
    services: &[&Service],
    via: Via,
    with_volumes: bool,
    in_flight: &InFlight,
) -> Result<(PathBuf, Manifest), Error> {
    let dir = new_backup_dir(out)?;
    let progress = Progress::new();
    let dumps = services
        .iter()
        .map(|service| dump(ctx, &dir, service, via, &progress));
    let databases: Vec<DatabaseEntry> = futures::future::join_all(dumps).await;
    let mut failed = databases.iter().any(|d| d.status != Status::Complete);
    let mut volume_files = Vec::new();
    if with_volumes {
        for service in services {
            match volumes::archive(ctx, &dir, service, &progress, in_flight).await {
                Ok(entry) => volume_files.push(entry),
                Err(e) => {
                    eprintln!(
                        "{}: volume archive failed: {e}",
                        service.container(Role::Db)
                    );
                    failed = true;
                }
            }
        }
    }
    let manifest = Manifest {
        format: 1,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        created_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        via,
        status: if failed {
            Status::Failed
        } else {
            Status::Complete
        },
        databases,
        volumes: volume_files,
        hmac: None,
    };
    let manifest = manifest
        .write(&dir)
        .map_err(|e| Error::CannotRun(format!("writing the manifest in {}: {e}", dir.display())))?;
    Ok((dir, manifest))
}

/// `emergency-backup-YYYYmmdd_HHMMSS` (with `_2`, `_3`… if that second is taken).
fn new_backup_dir(out: &Path) -> Result<PathBuf, Error> {
    let name = format!(
        "{}{}",
        manifest::PREFIX,
        files::utc_stamp(SystemTime::now())
    );
    for attempt in 1.. {
        let dir = if attempt == 1 {
            out.join(&name)
        } else {
            out.join(format!("{name}_{attempt}"))
        };
        match files::private_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::CannotRun(format!("creating {}: {e}", dir.display()))),
        }
    }
    unreachable!("some suffix is free")
}

async fn dump(
    ctx: &Context,
    dir: &Path,
    service: &Service,
    via: Via,
    progress: &Progress,
) -> DatabaseEntry {
    let task = progress.task(&service.database, "dumping");
    let mut entry = DatabaseEntry {
        service: service.name.clone(),
        database: service.database.clone(),
        user: service.db_user.clone(),
        status: Status::Failed,
        error: None,
        file: None,
        server_version_num: 0,
        tables: Default::default(),
    };
    // The dump and the row counts read one snapshot: the counts are the dump's.
    let dumped = snapshot::with_snapshot(ctx, via, service, |id| {
        dump_to_file(ctx, dir, service, via, &task, id)
    })
    .await;
    match dumped {
        Ok((file, counts)) => {
            task.done(&format!("{} compressed", indicatif::HumanBytes(file.size)));
            entry.status = Status::Complete;
            entry.file = Some(file);
            entry.server_version_num = counts.server_version_num;
            entry.tables = counts.tables.into_iter().collect();
        }
        Err(e) => {
            let e = ctx.secrets.redact(&e.to_string());
            task.done(&format!("FAILED: {e}"));
            entry.error = Some(e);
        }
    }
    entry
}

/// Why a database was not dumped.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The snapshot session (psql) failed.
    #[error(transparent)]
    Snapshot(#[from] snapshot::SnapshotError),
    /// pg_dump could not run, or was stopped.
    #[error(transparent)]
    Tool(#[from] pg_tool::ToolError),
    /// The dump file could not be created or committed.
    #[error(transparent)]
    File(#[from] WriteError),
    #[error("pg_dump exited with code {code}: {stderr}")]
    Exited { code: i64, stderr: String },
}

/// pg_dump (in `snapshot`) → gzip → sha256 → `<database>.sql.gz`, streamed in
/// constant memory. Nothing is left behind if it fails.
async fn dump_to_file(
    ctx: &Context,
    dir: &Path,
    service: &Service,
    via: Via,
    task: &Task,
    snapshot: String,
) -> Result<FileEntry, DumpError> {
    let name = format!("{}.sql.gz", service.database);
    let mut file = CompressedFile::create(&dir.join(&name))?;
    // --clean --if-exists: the dump drops what it recreates, so the guide's own
    // `psql < dump` restores it into a live database too.
    let snapshot_arg = format!("--snapshot={snapshot}");
    let finished = pg_tool::run(
        ctx,
        via,
        service,
        "pg_dump",
        &["--clean", "--if-exists", &snapshot_arg],
        None,
        |chunk| {
            task.advance(chunk.len() as u64);
            file.write_all(chunk)
        },
    )
    .await;
    match finished {
        Ok(f) if f.exit_code == 0 => {}
        Ok(f) => {
            return Err(DumpError::Exited {
                code: f.exit_code,
                stderr: f.stderr,
            });
        }
        Err(e) => return Err(e.into()),
    }
    let written = file.finish()?;
    Ok(FileEntry {
        name,
        size: written.size,
        sha256: written.sha256,
        raw_size: Some(written.raw_size),
    })
}

pub fn verify(dir: &Path, trust: Trust) -> Result<u8, Error> {
    if std::fs::symlink_metadata(dir).is_err() {
        return Err(Error::Usage(format!("{}: no such folder", dir.display())));
    }
    match Manifest::verify(dir, trust) {
        Ok(manifest) => {
            let files = manifest.databases.len() + manifest.volumes.len();
            outln!(
                "{}: complete, intact and restorable ({files} files match their size and sha256; every dump is pg_dump output)",
                dir.display()
            );
            Ok(exit_code::OK)
        }
        Err(invalid) => {
            eprintln!("helpdesk-doctor: backup invalid: {invalid}");
            Ok(exit_code::CHECK_FAILED)
        }
    }
}

/// Restores the (verified) backup in `dir` into throwaway containers: `drill`.
pub async fn drill(dir: &Path, trust: Trust, profile: &Deployment) -> Result<u8, Error> {
    let manifest =
        Manifest::verify(dir, trust).map_err(|e| Error::Refused(format!("backup invalid: {e}")))?;
    super::drill::run(dir, &manifest, profile).await
}

/// The newest backup folder in `dir` (the one `backup` just made).
pub fn newest(dir: &Path) -> Result<PathBuf, Error> {
    find(dir)?
        .into_iter()
        .map(|found| found.path)
        .max()
        .ok_or_else(|| Error::CannotRun(format!("no backup in {}", dir.display())))
}

/// What a backup's manifest says of it (without checking its files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    Complete,
    Failed,
    /// No readable manifest: interrupted, or not a backup.
    Incomplete,
}

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Listed::Complete => "complete",
            Listed::Failed => "failed",
            Listed::Incomplete => "incomplete",
        })
    }
}

/// A backup directory found on disk, and what state it is in.
pub struct Found {
    pub path: PathBuf,
    pub status: Listed,
    pub bytes: u64,
    pub modified: SystemTime,
}

/// Every `emergency-backup-*` directory in `dir` (not followed through
/// symlinks), newest first: the name carries the creation time.
pub fn folders(dir: &Path) -> std::io::Result<Vec<std::fs::DirEntry>> {
    let mut folders: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(manifest::PREFIX)
                && e.file_type().is_ok_and(|t| t.is_dir())
        })
        .collect();
    folders.sort_by_key(|e| std::cmp::Reverse(e.file_name()));
    Ok(folders)
}

/// Every backup folder in `dir` (`folders`), newest first, with what its manifest says.
pub fn find(dir: &Path) -> Result<Vec<Found>, Error> {
    let entries =
        folders(dir).map_err(|e| Error::CannotRun(format!("reading {}: {e}", dir.display())))?;
    let found: Vec<Found> = entries
        .into_iter()
        .map(|e| {
            let path = e.path();
            let status = match Manifest::read(&path) {
                Ok(m) if m.status == Status::Complete => Listed::Complete,
                Ok(_) => Listed::Failed,
                Err(_) => Listed::Incomplete,
            };
            let bytes = std::fs::read_dir(&path)
                .map(|files| {
                    files
                        .filter_map(Result::ok)
                        .filter_map(|f| f.metadata().ok())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0);
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            Found {
                path,
                status,
                bytes,
                modified,
            }
        })
        .collect();
    Ok(found)
}

pub fn list(dir: &Path) -> Result<u8, Error> {
    if !dir.exists() {
        outln!("no backups yet: {} does not exist", dir.display());
        return Ok(exit_code::OK);
    }
    let found = find(dir)?;
    if found.is_empty() {
        outln!("no backups in {}", dir.display());
    }
    for backup in found {
        let age = SystemTime::now()
            .duration_since(backup.modified)
            .unwrap_or_default();
        let age = humantime::format_duration(std::time::Duration::from_secs(age.as_secs()));
        outln!(
            "{:<11} {:>10}  {:<16} {}",
            backup.status,
            indicatif::HumanBytes(backup.bytes).to_string(),
            format!("{age} ago"),
            backup.path.display()
        );
    }
    Ok(exit_code::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_follow_the_guide() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_576_502);
        assert_eq!(files::utc_stamp(at), "20261125_031502");
    }
}
