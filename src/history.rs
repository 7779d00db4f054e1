//! The runs `diagnose` remembers (its JSON reports, already redacted, in the
//! state folder, the last 50) and `diff`: what changed between two of them —
//! statuses, new warnings and failures, and the figures that moved (restarts,
//! memory, slow queries, expired tokens, response times).

use crate::error::Error;
use crate::files;
use std::collections::BTreeMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How many runs are kept.
pub const KEPT: usize = 50;
/// A saved report larger than this is not read back (hostile input is bounded).
const MAX_REPORT: u64 = 16 << 20;

/// The folder of saved runs.
pub fn dir() -> PathBuf {
    crate::state::state_dir().join("history")
}

/// Saves one JSON report (mode 0600) and keeps only the last `KEPT`.
pub fn save(json: &str, generated_at: &str, status: &str) -> Result<(), String> {
    let dir = dir();
    crate::state::private_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stamp = generated_at.replace([':', '-'], "");
    let path = dir.join(format!("{stamp}-{}-{status}.json", std::process::id()));
    // A new file of ours (never through a symlink), not fsynced: a run lost
    // in a crash costs nothing, an fsync per diagnose would.
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, json.as_bytes()));
    written.map_err(|e| format!("{}: {e}", path.display()))?;
    let runs = runs();
    for old in runs.iter().take(runs.len().saturating_sub(KEPT)) {
        let _ = std::fs::remove_file(&old.path);
    }
    Ok(())
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

    pub fn load(&self) -> Result<serde_json::Value, Error> {
        let text = files::read_bounded(&self.path, MAX_REPORT)
            .map_err(|e| Error::CannotRun(format!("{}: {e}", self.path.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::CannotRun(format!("{}: not a report: {e}", self.path.display())))
    }
}

/// Every saved run, oldest first.
pub fn runs() -> Vec<Run> {
    let Ok(entries) = std::fs::read_dir(dir()) else {
        return Vec::new();
    };
    let mut runs: Vec<Run> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| Run {
            name: e.file_name().to_string_lossy().into_owned(),
            path: e.path(),
        })
        .filter(|r| r.name.ends_with(".json"))
        .collect();
    runs.sort_by(|a, b| a.name.cmp(&b.name));
    runs
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

/// What changed from report `a` to report `b`, one line each.
pub fn changes(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    let by_id = |report: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r["id"].as_str()?.to_string(), r.clone())))
            .collect()
    };
    let (before, after) = (by_id(a), by_id(b));
    let mut lines = Vec::new();
    for (id, now) in &after {
        let now_status = now["status"].as_str().unwrap_or("?");
        let Some(then) = before.get(id) else {
            lines.push(format!(
                "{id}: new check, {now_status}: {}",
                now["message"].as_str().unwrap_or("")
            ));
            continue;
        };
        let then_status = then["status"].as_str().unwrap_or("?");
        if then_status != now_status {
            lines.push(format!(
                "{id}: {then_status} → {now_status}: {}",
                now["message"].as_str().unwrap_or("")
            ));
        }
        lines.extend(moved_figures(id, &then["details"], &now["details"]));
    }
    for id in before.keys().filter(|id| !after.contains_key(*id)) {
        lines.push(format!("{id}: no longer checked"));
    }
    lines
}

fn moved_figures(id: &str, then: &serde_json::Value, now: &serde_json::Value) -> Vec<String> {
    FIGURES
        .iter()
        .filter_map(|(key, relative, absolute)| {
            let number = |v: &serde_json::Value| match &v[*key] {
                serde_json::Value::Array(items) => Some(items.len() as f64),
                other => other.as_f64(),
            };
            let (a, b) = (number(then)?, number(now)?);
            let moved = (b - a).abs() >= *absolute && (b - a).abs() >= a.abs() * relative;
            moved.then(|| format!("{id}: {key} {} → {}", show(a), show(b)))
        })
        .collect()
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
            changes(&a, &b),
            [
                "postgres.auth.expired_tokens: pass → warn: 150",
                "postgres.auth.expired_tokens: value 0 → 150",
                "redis.user.ping: pass → fail: refused",
            ],
            "a response time from 4 to 9 ms is noise, not a change"
        );
    }
}
