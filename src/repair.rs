//! The repairs a check may declare in the catalog (`fix = { action = … }`),
//! which `helpdesk-doctor fix` runs: only safe ones — nothing is ever deleted
//! but expired refresh tokens, and the only session ever cancelled is one that
//! blocks others, after its own confirmation naming it (`fix_blocker`).

use crate::check::{CheckResult, Status};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Repair {
    /// Start the check's container (every stopped replica; `up -d` of its
    /// compose service when none exists; a restart when it loops), then wait
    /// until it is healthy.
    StartContainer,
    /// The `tokens purge` runbook.
    PurgeTokens,
    /// `CREATE INDEX CONCURRENTLY` on the service's database (an invalid
    /// leftover of an earlier attempt is dropped first).
    CreateIndex { table: String, columns: Vec<String> },
    /// Cancel the query of the PostgreSQL session that blocks others (end it
    /// when it is idle in transaction), after a confirmation of its own
    /// naming its pid and query.
    CancelBlocker,
}

impl Repair {
    /// Whether this repair has something to do for `result`: a check that
    /// passes never has; a container check only when a container is down
    /// (a WARN for a running one — restarted, health starting — is advice,
    /// not something to start).
    pub fn applies(&self, result: &CheckResult) -> bool {
        match (self, result.status) {
            (_, Status::Pass | Status::Skip | Status::Error) => false,
            (Repair::StartContainer, Status::Warn) => result
                .details
                .get("replicas_down")
                .and_then(|n| n.as_u64())
                .is_some_and(|n| n > 0),
            (Repair::CancelBlocker, Status::Warn | Status::Fail) => {
                result.details.contains_key("blocker_pid")
            }
            (_, Status::Warn | Status::Fail) => true,
        }
    }

    /// Data containers are repaired before the applications that need them,
    /// applications before the rest.
    pub fn order(&self, check_id: &str) -> u8 {
        match self {
            Repair::StartContainer if check_id.ends_with(".service") => 1,
            Repair::StartContainer => 0,
            _ => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: Status, down: Option<u64>) -> CheckResult {
        let mut details = serde_json::Map::new();
        if let Some(down) = down {
            details.insert("replicas_down".into(), down.into());
        }
        CheckResult {
            id: "container.auth.service".into(),
            kind: "container".into(),
            target: String::new(),
            title: String::new(),
            status,
            message: String::new(),
            hint: None,
            duration_ms: 0,
            details,
            engine: None,
            node: None,
            reached: None,
        }
    }

    #[test]
    fn a_container_is_started_only_when_one_is_down() {
        let start = Repair::StartContainer;
        assert!(start.applies(&result(Status::Fail, Some(1))));
        assert!(start.applies(&result(Status::Warn, Some(1))), "degraded");
        assert!(
            !start.applies(&result(Status::Warn, Some(0))),
            "restarted, runs"
        );
        assert!(!start.applies(&result(Status::Pass, Some(0))));
        assert!(!Repair::PurgeTokens.applies(&result(Status::Pass, None)));
        assert!(Repair::PurgeTokens.applies(&result(Status::Warn, None)));
        let mut waiting = result(Status::Fail, None);
        assert!(!Repair::CancelBlocker.applies(&waiting), "no blocker named");
        waiting.details.insert("blocker_pid".into(), 799.into());
        assert!(Repair::CancelBlocker.applies(&waiting));
    }
}
