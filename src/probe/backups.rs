//! The deployment's backups in the backup folder (`state::backup_dir`): the
//! age of the newest one that verifies — cheaply: its signed manifest and
//! each file present at its recorded size (`Manifest::verify_sizes`), never
//! the dumps read, so it costs a few small reads whatever their size — and the
//! last restore drill's result (`runbook::drill_record`).

use super::duration::said;
use crate::check::Outcome;
use crate::deployment::Context;
use crate::runbook::drill_record::DrillRecord;
use crate::runbook::manifest::{self, Manifest};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Backup folders examined at most, newest first, for one that verifies.
const EXAMINED: usize = 20;

/// What the backup folder holds.
#[derive(Debug)]
enum Found {
    NoFolder,
    /// The newest backup that verifies, with the newer ones that did not.
    Verified {
        path: PathBuf,
        manifest: Box<Manifest>,
        rejected: Vec<(PathBuf, String)>,
    },
    /// None of those examined verifies.
    NoneVerifies {
        rejected: Vec<(PathBuf, String)>,
    },
}

pub async fn latest(ctx: &Context, max_age_seconds: u64) -> Outcome {
    let dir = crate::state::backup_dir(&ctx.profile.backup_dir);
    let scanned = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || scan(&dir)).await
    };
    match scanned {
        Ok(found) => judge(&dir, found, SystemTime::now(), max_age_seconds),
        Err(e) => Outcome::fail(format!("reading {}: {e}", dir.display())),
    }
}

/// The newest backup folders of `dir` by name (their UTC time), each
/// checked until one verifies.
fn scan(dir: &Path) -> Found {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Found::NoFolder;
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(manifest::PREFIX)
                && e.file_type().is_ok_and(|t| t.is_dir())
        })
        .map(|e| e.path())
        .collect();
    folders.sort_by(|a, b| b.file_name().cmp(&a.file_name()));
    let mut rejected = Vec::new();
    for path in folders.into_iter().take(EXAMINED) {
        match Manifest::verify_sizes(&path) {
            Ok(manifest) => {
                return Found::Verified {
                    path,
                    manifest: Box::new(manifest),
                    rejected,
                };
            }
            Err(invalid) => rejected.push((path, invalid.to_string())),
        }
    }
    Found::NoneVerifies { rejected }
}

fn judge(dir: &Path, found: Found, now: SystemTime, max_age_seconds: u64) -> Outcome {
    let limit = said(max_age_seconds as f64);
    let make_one = "Make one and drill it: helpdesk-doctor backup --verify; then schedule it \
                    (a daily cron job or systemd timer running the same command)";
    match found {
        Found::NoFolder => Outcome::warn(format!("no backup: {} does not exist", dir.display()))
            .with_hint(make_one)
            .detail("backup_dir", dir),
        Found::NoneVerifies { rejected } => {
            let message = match rejected.first() {
                None => format!("no backup in {}", dir.display()),
                Some((path, why)) => format!(
                    "no backup that verifies in {} ({} found; the newest, {}: {why})",
                    dir.display(),
                    rejected.len(),
                    name(path)
                ),
            };
            Outcome::warn(message)
                .with_hint(make_one)
                .detail("backup_dir", dir)
                .detail("rejected", rejected_detail(&rejected))
        }
        Found::Verified {
            path,
            manifest,
            rejected,
        } => {
            let age = humantime::parse_rfc3339(&manifest.created_at)
                .ok()
                .and_then(|then| now.duration_since(then).ok())
                .map_or(0, |d| d.as_secs());
            let files = manifest.databases.len() + manifest.volumes.len();
            let mut message = format!(
                "newest backup that verifies is {} old: {} ({} databases; signed manifest, {files} files at their recorded size)",
                said(age as f64),
                path.display(),
                manifest.databases.len()
            );
            if let Some((newer, why)) = rejected.first() {
                message.push_str(&format!(
                    "; a newer one does not verify: {}: {why}",
                    name(newer)
                ));
            }
            let outcome = if age > max_age_seconds {
                Outcome::warn(format!("{message} — older than {limit}")).with_hint(make_one)
            } else {
                Outcome::pass(message)
            };
            outcome
                .detail("backup_dir", dir)
                .detail("newest", &path)
                .detail("age_seconds", age)
                .detail("rejected", rejected_detail(&rejected))
        }
    }
}

fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn rejected_detail(rejected: &[(PathBuf, String)]) -> Vec<serde_json::Value> {
    rejected
        .iter()
        .map(|(path, why)| serde_json::json!({ "backup": path, "why": why }))
        .collect()
}

/// The last restore drill: failed is a warning, none is said.
pub fn drill(ctx: &Context) -> Outcome {
    let Some(record) = DrillRecord::load() else {
        return Outcome::pass(
            "no restore drill recorded yet: a backup never restored is not known to restore \
             (helpdesk-doctor backup verify --restore-test DIR)",
        );
    };
    let age = humantime::parse_rfc3339(&record.at)
        .ok()
        .and_then(|then| SystemTime::now().duration_since(then).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    let when = format!("{} ago, of {}", said(age), record.backup);
    let outcome = if record.passed {
        Outcome::pass(format!(
            "the last restore drill passed {when}: {} databases restored with the manifest's row counts",
            record.databases.len()
        ))
    } else {
        let failed: Vec<String> = record
            .databases
            .iter()
            .filter_map(|d| {
                d.error
                    .as_ref()
                    .map(|e| format!("{}: {}", d.database, ctx.mask(e)))
            })
            .collect();
        Outcome::warn(format!(
            "the last restore drill failed ({when}): {}",
            failed.join("; ")
        ))
        .with_hint(format!(
            "A backup that does not restore is no backup: see why with helpdesk-doctor backup verify \
             --restore-test {}; make a new one and drill it (helpdesk-doctor backup --verify).",
            record.backup
        ))
    };
    outcome.detail("drill", &record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::manifest::Status;
    use std::time::Duration;

    fn manifest(created_at: SystemTime) -> Box<Manifest> {
        let text = format!(
            r#"{{"format": 1, "tool_version": "0", "created_at": "{}", "via": "docker",
                "status": "complete", "databases": []}}"#,
            humantime::format_rfc3339_seconds(created_at)
        );
        let manifest: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(manifest.status, Status::Complete);
        Box::new(manifest)
    }

    #[test]
    fn a_backup_older_than_the_limit_warns_and_a_fresh_one_passes() {
        let now = SystemTime::now();
        let dir = Path::new("/var/backups/helpdesk-doctor");
        let found = |age: u64| Found::Verified {
            path: dir.join("emergency-backup-20261128_060000"),
            manifest: manifest(now - Duration::from_secs(age)),
            rejected: vec![],
        };
        let fresh = judge(dir, found(3_600), now, 26 * 3_600);
        assert_eq!(
            fresh.status,
            crate::check::Status::Pass,
            "{}",
            fresh.message
        );
        assert!(
            fresh
                .message
                .starts_with("newest backup that verifies is 1 h old"),
            "{}",
            fresh.message
        );
        let stale = judge(dir, found(3 * 86_400), now, 26 * 3_600);
        assert_eq!(stale.status, crate::check::Status::Warn);
        assert!(
            stale.message.ends_with("— older than 1 d 2 h"),
            "{}",
            stale.message
        );
        let none = judge(
            dir,
            Found::NoneVerifies { rejected: vec![] },
            now,
            26 * 3_600,
        );
        assert_eq!(none.status, crate::check::Status::Warn);
        assert_eq!(none.message, "no backup in /var/backups/helpdesk-doctor");
    }
}
