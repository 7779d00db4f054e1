//! The record of a restore in progress, kept in the state folder from the moment
//! it stops the application containers until they run again: if the doctor is
//! killed (kill -9, a crash) the next command says which containers were left
//! stopped and how to start them (`restore --finish`).

use crate::state;
use crate::terminal_text::clean;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

const FILE: &str = "interrupted-restore.json";
/// The record is small; a larger file is not ours.
const MAX_BYTES: u64 = 64 << 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub pid: u32,
    pub started_at: String,
    pub backup: PathBuf,
    /// The application containers the restore stopped.
    pub stopped: Vec<String>,
}

impl Record {
    pub fn new(backup: PathBuf, stopped: Vec<String>) -> Record {
        Record {
            pid: std::process::id(),
            started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            backup,
            stopped,
        }
    }

    /// Written before the first container is stopped.
    pub fn save(&self) -> std::io::Result<()> {
        state::save_record(FILE, self)
    }

    /// Removed once the containers run again.
    pub fn clear() {
        state::clear_record(FILE);
    }

    /// The record of an interrupted restore, if one was left (the restore that
    /// wrote it no longer runs).
    pub fn left_behind() -> Option<Record> {
        state::load_record::<Record>(FILE, MAX_BYTES).filter(|r| !state::still_running(r.pid))
    }

    /// What to tell the user, on stderr, before any command runs: through the
    /// terminal sanitizer (the record is a file anyone with access to the state
    /// folder could have edited).
    pub fn warning(&self) -> String {
        let names: Vec<String> = self.stopped.iter().map(|n| clean(n).into_owned()).collect();
        format!(
            "warning: a restore from {} (started {}, pid {}) was interrupted and left these \
             application containers stopped: {}. The databases were not changed by it. \
             Start them again with `helpdesk-doctor restore --finish` (or `docker start {}`).",
            clean(&self.backup.display().to_string()),
            clean(&self.started_at),
            self.pid,
            names.join(", "),
            names.join(" ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_shows_no_escape_sequence_planted_in_the_record() {
        let record = Record {
            pid: 42,
            started_at: "2026-11-28T10:00:00Z\u{1b}[2J".into(),
            backup: PathBuf::from("/var/backups/b\u{1b}]52;c;ZWNobyBoaQ==\u{7}1"),
            stopped: vec!["helpdesk-ticket-service\u{9b}2J".into()],
        };
        let warning = record.warning();
        assert!(
            warning.contains("from /var/backups/b1 (started 2026-11-28T10:00:00Z, pid 42)"),
            "{warning:?}"
        );
        assert!(warning.contains("`docker start helpdesk-ticket-service`"));
        assert!(
            !warning.chars().any(|c| c.is_control()) && !warning.contains("52;c;"),
            "{warning:?}"
        );
    }
}
