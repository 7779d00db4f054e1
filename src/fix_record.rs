//! The record of a `fix` in progress, kept in the state folder from before its
//! first repair until its last is done: if the doctor is killed (kill -9, a
//! crash) while it starts or restarts containers, the next command says which
//! repairs were left unfinished, which containers may be left stopped, and how
//! to finish (`fix --yes` with those checks), as an interrupted restore does.

use crate::state;
use crate::terminal_text::clean;
use serde::{Deserialize, Serialize};

const FILE: &str = "interrupted-fix.json";
/// The record is small; a larger file is not ours.
const MAX_BYTES: u64 = 64 << 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub pid: u32,
    pub started_at: String,
    /// The repairs not finished yet, in the order they run.
    pub pending: Vec<Pending>,
}

/// One repair not finished yet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pending {
    /// The check it repairs.
    pub check: String,
    /// What it does (the plan's words).
    pub action: String,
    /// The container it starts or restarts, if any.
    pub container: Option<String>,
}

impl Record {
    pub fn new(pending: Vec<Pending>) -> Record {
        Record {
            pid: std::process::id(),
            started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            pending,
        }
    }

    /// Written before a repair starts (the whole plan first, then what is left).
    pub fn save(&self) -> std::io::Result<()> {
        state::save_record(FILE, self)
    }

    /// Removed once every repair has run (done or failed, never half-way).
    pub fn clear() {
        state::clear_record(FILE);
    }

    /// The record of an interrupted fix, if one was left (the fix that wrote
    /// it no longer runs).
    pub fn left_behind() -> Option<Record> {
        state::load_record::<Record>(FILE, MAX_BYTES).filter(|r| !state::still_running(r.pid))
    }

    /// What to tell the user, on stderr, before any command runs.
    pub fn warning(&self) -> String {
        let repairs: Vec<String> = self
            .pending
            .iter()
            .map(|p| format!("{} ({})", clean(&p.check), clean(&p.action)))
            .collect();
        let checks: Vec<String> = self
            .pending
            .iter()
            .map(|p| clean(&p.check).into_owned())
            .collect();
        let containers: Vec<String> = self
            .pending
            .iter()
            .filter_map(|p| p.container.as_deref().map(|c| clean(c).into_owned()))
            .collect();
        let stopped = if containers.is_empty() {
            String::new()
        } else {
            format!(
                " These containers may be left stopped: {}.",
                containers.join(", ")
            )
        };
        format!(
            "warning: a fix (started {}, pid {}) was interrupted before it finished: {}.{stopped} \
             Finish it with `helpdesk-doctor fix --yes {}`.",
            clean(&self.started_at),
            self.pid,
            repairs.join(", "),
            checks.join(" ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_what_is_left_and_how_to_finish() {
        let record = Record {
            pid: 42,
            started_at: "2026-11-28T10:00:00Z".into(),
            pending: vec![Pending {
                check: "container.ticket.service\u{1b}]0;x\u{7}".into(),
                action: "start the container, wait until healthy".into(),
                container: Some("helpdesk-ticket-service".into()),
            }],
        };
        let warning = record.warning();
        assert!(warning.contains("left stopped: helpdesk-ticket-service."));
        // The planted OSC title sequence goes whole (its payload too), as
        // everywhere else text reaches the terminal (`terminal_text::clean`).
        assert!(
            warning.contains("`helpdesk-doctor fix --yes container.ticket.service`"),
            "{warning:?}"
        );
        assert!(
            !warning.contains('\u{1b}') && !warning.contains("]0;x"),
            "{warning:?}"
        );
    }
}
