//! A Swarm task's state, in the deployment's own words (the engine's names,
//! lowercase, as `docker service ps` prints them and the report serialises them).

use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    New,
    Allocated,
    Pending,
    Assigned,
    Accepted,
    Preparing,
    Ready,
    Starting,
    Running,
    Complete,
    Shutdown,
    Failed,
    Rejected,
    Remove,
    Orphaned,
}

impl TaskState {
    /// Whether a task in this state was meant to run (the orchestrator wants it up).
    pub fn is_wanted_up(self) -> bool {
        matches!(self, TaskState::Running | TaskState::Ready)
    }
}

impl From<bollard::models::TaskState> for TaskState {
    fn from(state: bollard::models::TaskState) -> TaskState {
        use bollard::models::TaskState as Engine;
        match state {
            Engine::NEW => TaskState::New,
            Engine::ALLOCATED => TaskState::Allocated,
            Engine::PENDING => TaskState::Pending,
            Engine::ASSIGNED => TaskState::Assigned,
            Engine::ACCEPTED => TaskState::Accepted,
            Engine::PREPARING => TaskState::Preparing,
            Engine::READY => TaskState::Ready,
            Engine::STARTING => TaskState::Starting,
            Engine::RUNNING => TaskState::Running,
            Engine::COMPLETE => TaskState::Complete,
            Engine::SHUTDOWN => TaskState::Shutdown,
            Engine::FAILED => TaskState::Failed,
            Engine::REJECTED => TaskState::Rejected,
            Engine::REMOVE => TaskState::Remove,
            Engine::ORPHANED => TaskState::Orphaned,
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let said = serde_json::to_value(self).unwrap_or_default();
        f.write_str(said.as_str().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_is_said_as_the_engine_says_it() {
        use bollard::models::TaskState as Engine;
        for engine in [
            Engine::NEW,
            Engine::READY,
            Engine::RUNNING,
            Engine::COMPLETE,
            Engine::REJECTED,
        ] {
            assert_eq!(TaskState::from(engine).to_string(), engine.to_string());
        }
        assert!(TaskState::Ready.is_wanted_up() && !TaskState::Complete.is_wanted_up());
    }
}
