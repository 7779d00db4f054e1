//! The runs `diagnose` remembers (its JSON reports, already redacted, in the
//! state folder, the last 50, kept by the doctor's own index — never by what
//! else lies in the folder) and `diff`: what changed between two of them —
//! statuses, new warnings and failures, and the figures that moved (restarts,
//! memory, slow queries, expired tokens, response times).

use crate::error::Error;
use crate::files;
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// How many runs are kept.
pub const KEPT: usize = 50;
/// A saved report larger than this is not read back (hostile input is bounded).
const MAX_REPORT: u64 = 16 << 20;
/// The index: the names of the runs the doctor saved, oldest first, one a line.
/// Only the runs it names are listed and pruned; anything else in the folder
/// is ignored, never deleted.
const INDEX: &str = "index";
/// An index holds `KEPT` short names; a larger one is not the doctor's.
const MAX_INDEX: u64 = 64 << 10;
/// The time in a run's name (UTC).
const NAME_TIME: &str = "%Y%m%dT%H%M%SZ";
/// The names the doctor gives its runs: `20261128T061000Z-4242-pass.json`.
static RUN_NAME: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^[0-9]{8}T[0-9]{6}Z-[0-9]{1,10}-(pass|warn|fail|error)\.json$")
        .expect("a valid pattern")
});

/// The folder of saved runs.
pub fn dir() -> PathBuf {
    crate::state::state_dir().join("history")
}

/// Why a run was not saved.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct SaveError {
    path: PathBuf,
    source: std::io::Error,
}

/// Saves one JSON report (mode 0600), adds it to the index and deletes the
/// runs the index names beyond the last `KEPT`.
pub fn save(json: &str, generated_at: &str, status: &str) -> Result<(), SaveError> {
    save_in(&dir(), json, generated_at, status)
}

fn save_in(dir: &Path, json: &str, generated_at: &str, status: &str) -> Result<(), SaveError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SaveError { path, source }
    };
    crate::state::private_dir(dir).map_err(failed(dir))?;
    let stamp = generated_at
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .strftime(NAME_TIME)
        .to_string();
    let name = format!("{stamp}-{}-{status}.json", std::process::id());
    let path = dir.join(&name);
    // A new file of ours (never through a symlink), not fsynced: a run lost
    // in a crash costs nothing, an fsync per diagnose would.
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .and_then(|mut file| file.write_all(json.as_bytes()));
    written.map_err(failed(&path))?;
    // Runs saved at once (20 parallel diagnoses) update the index one at a time.
    let _locked = lock(dir).map_err(failed(dir))?;
    // Only the runs still there count (a name whose file is gone, or is not
    // a regular file, is dropped from the index, its path left alone).
    let mut names: Vec<String> = runs_in(dir).into_iter().map(|r| r.name).collect();
    names.push(name);
    let pruned = names.len().saturating_sub(KEPT);
    for old in names.drain(..pruned) {
        let _ = std::fs::remove_file(dir.join(old));
    }
    write_index(dir, &names).map_err(failed(&dir.join(INDEX)))
}

/// The folder locked (`flock`) until the returned file is dropped.
fn lock(dir: &Path) -> std::io::Result<std::fs::File> {
    let folder = std::fs::File::open(dir)?;
    // SAFETY: flock on a descriptor we own; it is released when the file closes.
    if unsafe { libc::flock(folder.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(folder)
}

/// The run names the index holds, oldest first: only names the doctor gives,
/// each once (a line that is anything else is ignored).
fn read_index(dir: &Path) -> Vec<String> {
    let text = files::read_bounded(&dir.join(INDEX), MAX_INDEX).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .filter(|name| RUN_NAME.is_match(name) && seen.insert(*name))
        .map(String::from)
        .collect()
}

/// Replaces the index (a new file renamed over it: a reader sees the old or
/// the new one whole).
fn write_index(dir: &Path, names: &[String]) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{INDEX}.{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temporary)?;
    let written = file
        .write_all(
            names
                .iter()
                .map(|n| format!("{n}\n"))
                .collect::<String>()
                .as_bytes(),
        )
        .and_then(|()| std::fs::rename(&temporary, dir.join(INDEX)));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// One saved run, oldest first in `runs()`.
#[derive(Clone, Debug)]
pub struct Run {
    pub path: PathBuf,
    pub name: String,
}

impl Run {
    /// `pass`, `warn`, `fail` or `error`, as saved in its name.
    pub fn status(&self) -> &str {
        self.name
            .trim_end_matches(".json")
            .rsplit('-')
            .next()
            .unwrap_or("")
    }

    /// When it ran, from its name.
    pub fn time(&self) -> Option<jiff::Timestamp> {
        let stamp = self.name.split('-').next()?;
        let at = jiff::civil::DateTime::strptime(NAME_TIME, stamp).ok()?;
        jiff::tz::Offset::UTC.to_timestamp(at).ok()
    }

    pub fn load(&self) -> Result<serde_json::Value, Error> {
        let text = files::read_bounded(&self.path, MAX_REPORT)
            .map_err(|e| Error::CannotRun(format!("{}: {e}", self.path.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::CannotRun(format!("{}: not a report: {e}", self.path.display())))
    }
}

/// Every saved run the index names that is still there, oldest first.
pub fn runs() -> Vec<Run> {
    runs_in(&dir())
}

fn runs_in(dir: &Path) -> Vec<Run> {
    read_index(dir)
        .into_iter()
        .map(|name| Run {
            path: dir.join(&name),
            name,
        })
        .filter(|r| std::fs::symlink_metadata(&r.path).is_ok_and(|m| m.is_file()))
        .collect()
}

/// `history --format json`: each run's number (as `diff` takes it), file,
/// time and status, and its summary when it is small enough to read back.
pub fn listing(runs: &[Run]) -> serde_json::Value {
    let listed: Vec<serde_json::Value> = runs
        .iter()
        .enumerate()
        .map(|(number, run)| {
            let summary = run
                .path
                .metadata()
                .is_ok_and(|m| m.len() <= MAX_SUMMARISED)
                .then(|| run.load().ok())
                .flatten()
                .map_or(serde_json::Value::Null, |report| report["summary"].clone());
            serde_json::json!({
                "number": number + 1,
                "file": run.name,
                "time": run.time().map(|t| t.to_string()),
                "status": run.status(),
                "summary": summary,
            })
        })
        .collect();
    serde_json::Value::Array(listed)
}

/// A run named on the command line: its number in `history` (1 = oldest) or
/// its file name.
pub fn named(name: &str) -> Result<Run, Error> {
    let runs = runs();
    let found = match name.parse::<usize>() {
        Ok(n) if n >= 1 => runs.get(n - 1).cloned(),
        _ => runs
            .into_iter()
            .find(|r| r.name == name || r.path == Path::new(name)),
    };
    found.ok_or_else(|| {
        Error::Usage(format!(
            "no saved run {name:?} (see: helpdesk-doctor history)"
        ))
    })
}

/// The check ids of a saved report.
pub fn ids(report: &serde_json::Value) -> Vec<String> {
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str().map(String::from))
        .collect()
}

/// The last run whose status was pass.
pub fn last_passing() -> Option<Run> {
    runs().into_iter().rev().find(|r| r.status() == "pass")
}

/// The figures `diff` follows, and how far one must move to count (relative,
/// absolute): counts move at all, noisy timings must at least double.
const FIGURES: [(&str, f64, f64); 5] = [
    ("restart_count", 0.0, 1.0),
    ("value", 0.0, 1.0),
    ("memory_bytes", 0.2, 16.0 * 1024.0 * 1024.0),
    ("time_total_ms", 2.0, 200.0),
    ("slow_queries", 0.0, 1.0),
];

/// One difference between two runs.
#[derive(Debug, PartialEq)]
pub enum Change {
    New {
        id: String,
        status: String,
        message: String,
    },
    Status {
        id: String,
        from: String,
        to: String,
        message: String,
    },
    Figure {
        id: String,
        key: &'static str,
        from: f64,
        to: f64,
    },
    Gone {
        id: String,
    },
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::New {
                id,
                status,
                message,
            } => write!(f, "{id}: new check, {status}: {message}"),
            Change::Status {
                id,
                from,
                to,
                message,
            } => write!(f, "{id}: {from} → {to}: {message}"),
            Change::Figure { id, key, from, to } => {
                write!(f, "{id}: {key} {} → {}", show(*from), show(*to))
            }
            Change::Gone { id } => write!(f, "{id}: no longer checked"),
        }
    }
}

impl Change {
    /// Without the message: for one line of several changes.
    fn short(&self) -> String {
        match self {
            Change::Status { id, from, to, .. } => format!("{id} {from} → {to}"),
            Change::New { id, status, .. } => format!("{id} new, {status}"),
            other => other.to_string(),
        }
    }
}

/// What changed from report `a` to report `b`.
pub fn changes(a: &serde_json::Value, b: &serde_json::Value) -> Vec<Change> {
    let by_id = |report: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r["id"].as_str()?.to_string(), r.clone())))
            .collect()
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_string();
    let (before, after) = (by_id(a), by_id(b));
    let mut changes = Vec::new();
    for (id, now) in &after {
        let message = now["message"].as_str().unwrap_or("").to_string();
        let Some(then) = before.get(id) else {
            changes.push(Change::New {
                id: id.clone(),
                status: text(&now["status"]),
                message,
            });
            continue;
        };
        if then["status"] != now["status"] {
            changes.push(Change::Status {
                id: id.clone(),
                from: text(&then["status"]),
                to: text(&now["status"]),
                message,
            });
        }
        changes.extend(moved_figures(id, &then["details"], &now["details"]));
    }
    for id in before.keys().filter(|id| !after.contains_key(*id)) {
        changes.push(Change::Gone { id: id.clone() });
    }
    changes
}

fn moved_figures(id: &str, then: &serde_json::Value, now: &serde_json::Value) -> Vec<Change> {
    FIGURES
        .iter()
        .filter_map(|(key, relative, absolute)| {
            let number = |v: &serde_json::Value| match &v[*key] {
                serde_json::Value::Array(items) => Some(items.len() as f64),
                other => other.as_f64(),
            };
            let (from, to) = (number(then)?, number(now)?);
            let moved =
                (to - from).abs() >= *absolute && (to - from).abs() >= from.abs() * relative;
            moved.then(|| Change::Figure {
                id: id.to_string(),
                key,
                from,
                to,
            })
        })
        .collect()
}

/// The largest saved run the one-line summary compares with (a deployment's
/// run is ~100 KiB; a catalog of thousands of checks is left to `diff`, so a
/// failing diagnose never parses megabytes of history).
const MAX_SUMMARISED: u64 = 2 << 20;

/// How many changes the one-line summary names.
const SUMMARISED: usize = 3;

/// `last healthy: 2h ago; since then: redis.user.ping pass → fail, … (diff
/// lists them all)` — for a failing run, against the last saved run that passed.
pub fn since_last_healthy(now: &serde_json::Value) -> Option<String> {
    let then = last_passing_like(now)?;
    let at = humantime::parse_rfc3339_weak(then["generated_at"].as_str()?).ok()?;
    let age = std::time::SystemTime::now()
        .duration_since(at)
        .unwrap_or_default();
    // Checks the healthy run did not make tell nothing of what changed since.
    let mut changes: Vec<Change> = changes(&then, now)
        .into_iter()
        .filter(|c| !matches!(c, Change::New { .. } | Change::Gone { .. }))
        .collect();
    // Status changes first: they are the story; moved figures explain them.
    changes.sort_by_key(|c| !matches!(c, Change::Status { .. }));
    let mut named: Vec<String> = changes.iter().take(SUMMARISED).map(Change::short).collect();
    if changes.len() > SUMMARISED {
        named.push(format!("and {} more", changes.len() - SUMMARISED));
    }
    let since = if named.is_empty() {
        "nothing changed in the checks it ran".to_string()
    } else {
        named.join(", ")
    };
    Some(format!(
        "last healthy: {} ago; since then: {since} (all: helpdesk-doctor diff)",
        rounded_age(age)
    ))
}

/// The last passing run of the same project on the same engine as `now`
/// (when `now` names them), as saved.
fn last_passing_like(now: &serde_json::Value) -> Option<serde_json::Value> {
    let same = |then: &serde_json::Value, key: &str, field: &str| {
        now[key][field].is_null() || then[key][field] == now[key][field]
    };
    runs()
        .into_iter()
        .rev()
        .filter(|r| r.status() == "pass")
        .filter(|r| r.path.metadata().is_ok_and(|m| m.len() <= MAX_SUMMARISED))
        .filter_map(|r| r.load().ok())
        .find(|then| same(then, "project", "name") && same(then, "engine", "endpoint"))
}

/// `40 seconds`, `12 minutes`, `2 hours`, `3 days`: the largest unit.
fn rounded_age(age: std::time::Duration) -> String {
    indicatif::HumanDuration(age).to_string()
}

fn show(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    #[test]
    fn only_what_changed_is_listed() {
        let a = json!({"results": [
            {"id": "redis.user.ping", "status": "pass", "message": "PONG", "details": {}},
            {"id": "postgres.auth.expired_tokens", "status": "pass", "message": "0", "details": {"value": 0}},
            {"id": "http.auth.health", "status": "pass", "message": "200", "details": {"time_total_ms": 4.0}},
        ]});
        let b = json!({"results": [
            {"id": "redis.user.ping", "status": "fail", "message": "refused", "details": {}},
            {"id": "postgres.auth.expired_tokens", "status": "warn", "message": "150", "details": {"value": 150}},
            {"id": "http.auth.health", "status": "pass", "message": "200", "details": {"time_total_ms": 9.0}},
        ]});
        assert_eq!(
            changes(&a, &b)
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>(),
            [
                "postgres.auth.expired_tokens: pass → warn: 150",
                "postgres.auth.expired_tokens: value 0 → 150",
                "redis.user.ping: pass → fail: refused",
            ],
            "a response time from 4 to 9 ms is noise, not a change"
        );
        assert_eq!(rounded_age(std::time::Duration::from_secs(7300)), "2 hours");
        assert_eq!(
            rounded_age(std::time::Duration::from_secs(59)),
            "59 seconds"
        );
    }

    #[test]
    fn junk_in_the_folder_neither_counts_nor_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let history = dir.path().join("history");
        crate::state::private_dir(&history).unwrap();
        // Junk sorting before and after the runs, some shaped like runs.
        for i in 0..10_000 {
            let name = match i % 4 {
                0 => format!("zzzz-junk-{i}.json"),
                1 => format!("99991231T235959Z-{i}-pass.json"),
                2 => format!("00000000T000000Z-{i}-fail.json"),
                _ => format!("junk-{i}"),
            };
            std::fs::write(history.join(name), "{}").unwrap();
        }
        std::os::unix::fs::symlink("/etc/passwd", history.join("20991231T000000Z-1-pass.json"))
            .unwrap();
        let mut index = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(history.join(INDEX))
            .unwrap();
        writeln!(index, "../escape.json\n20991231T000000Z-1-pass.json").unwrap();
        drop(index);
        for run in 0..KEPT + 5 {
            let at = format!("2026-11-28T06:{:02}:{:02}Z", run / 60, run % 60);
            save_in(&history, "{}", &at, "pass").unwrap();
        }
        let runs = runs_in(&history);
        assert_eq!(runs.len(), KEPT, "the real runs are kept");
        assert!(
            runs[0].name.starts_with("20261128T060005Z-"),
            "{}",
            runs[0].name
        );
        assert!(runs[KEPT - 1].name.starts_with("20261128T060054Z-"));
        let files = std::fs::read_dir(&history).unwrap().count();
        // 10,000 junk files, the symlink, the index and the kept runs: none deleted.
        assert_eq!(files, 10_000 + 1 + 1 + KEPT);
        assert!(history.join("20991231T000000Z-1-pass.json").is_symlink());
    }
}
