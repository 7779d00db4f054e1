//! The result model: one flat, serialisable result per check (goss-style).

use crate::deployment::reach::Reached;
use serde::Serialize;

/// The check of the swarm's nodes, under which an unreachable node's tasks are skipped.
pub const NODES_CHECK: &str = "docker.swarm.nodes";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    /// The check could not reach a verdict (cut off by the run's deadline):
    /// Nagios' UNKNOWN, never a FAIL with the usual fix.
    Error,
    Fail,
}

impl Status {
    /// The exit code of a run whose verdict this is (`strict`: warnings fail).
    pub fn exit_code(self, strict: bool) -> u8 {
        match self {
            Status::Fail => crate::exit_code::CHECK_FAILED,
            Status::Error => crate::exit_code::UNKNOWN,
            Status::Warn if strict => crate::exit_code::CHECK_FAILED,
            Status::Warn | Status::Pass | Status::Skip => crate::exit_code::OK,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Error => "error",
            Status::Fail => "fail",
        }
    }

    /// The word shown to people (`error` reads UNKNOWN, as in Nagios).
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Skip => "SKIP",
            Status::Warn => "WARN",
            Status::Error => "UNKNOWN",
            Status::Fail => "FAIL",
        }
    }

    /// Whether checks that need this one may run.
    pub fn opens_gate(self) -> bool {
        matches!(self, Status::Pass | Status::Warn)
    }
}

/// What a probe found, before the runner adds identity and timing.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: Status,
    pub message: String,
    /// A fix more precise than the catalog's (e.g. NOAUTH vs WRONGPASS).
    pub hint: Option<String>,
    pub details: serde_json::Map<String, serde_json::Value>,
    /// No verdict could be reached without the engine, which could not be
    /// reached: when the engine's own check failed too, the runner reports
    /// this check as SKIP under it (one root cause, told once).
    pub wants_engine: bool,
    /// The address the probe really connected to, if it connected.
    pub reached: Option<Reached>,
}

impl Outcome {
    pub fn new(status: Status, message: impl Into<String>) -> Outcome {
        Outcome {
            status,
            message: message.into(),
            hint: None,
            details: Default::default(),
            wants_engine: false,
            reached: None,
        }
    }
    pub fn pass(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Pass, message)
    }
    pub fn warn(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Warn, message)
    }
    pub fn fail(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Fail, message)
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Outcome {
        self.hint = Some(hint.into());
        self
    }
    /// Marks the outcome as the engine's absence, not the check's finding.
    pub fn wanting_engine(mut self) -> Outcome {
        self.wants_engine = true;
        self
    }
    /// The probe connected to `reached`.
    pub fn reached(mut self, reached: Reached) -> Outcome {
        self.reached = Some(reached);
        self
    }
    pub fn detail(mut self, key: &str, value: impl Serialize) -> Outcome {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.details.insert(key.to_string(), value);
        self
    }

    /// A skip for the check `gate` (the one that really did not pass).
    pub fn skipped_for(self, gate: &str) -> Outcome {
        self.detail(SKIPPED_BECAUSE, gate)
    }
}

/// The detail naming the check a skipped one was skipped for.
const SKIPPED_BECAUSE: &str = "skipped_because";
/// The detail naming the check whose failure explains this one's.
const ROOT_CAUSE: &str = "root_cause";

/// One check's result as every report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub title: String,
    pub status: Status,
    pub message: String,
    pub hint: Option<String>,
    pub duration_ms: u64,
    pub details: serde_json::Map<String, serde_json::Value>,
    /// The address the check really connected to, and how (PostgreSQL, Redis,
    /// HTTP and port checks that connected); `target` is then that address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reached: Option<Reached>,
    /// The engine it ran on, when one run covers several (`--context a --context b`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The swarm node (hostname) of the task it checked, on a Swarm stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl CheckResult {
    /// The check this one was skipped for, if it was skipped for one.
    pub fn skipped_because(&self) -> Option<&str> {
        self.details.get(SKIPPED_BECAUSE)?.as_str()
    }

    /// The check whose failure explains this one's, if one does.
    pub fn root_cause(&self) -> Option<&str> {
        self.details.get(ROOT_CAUSE)?.as_str()
    }

    /// Says that the failure of check `id` explains this one's.
    pub fn set_root_cause(&mut self, id: &str) {
        self.details.insert(ROOT_CAUSE.into(), id.into());
    }

    /// The id, with its engine's name before it in a run over several engines
    /// (`prod/port.auth.app`): unique across the run.
    pub fn qualified_id(&self) -> String {
        match &self.engine {
            Some(engine) => format!("{engine}/{}", self.id),
            None => self.id.clone(),
        }
    }
}

/// Counts per status, and the overall status of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    /// Checks with no verdict (cut off by the deadline).
    pub error: usize,
    pub duration_ms: u64,
}

impl Summary {
    pub fn of(results: &[CheckResult], duration_ms: u64) -> Summary {
        let count = |s| results.iter().filter(|r| r.status == s).count();
        Summary {
            total: results.len(),
            pass: count(Status::Pass),
            warn: count(Status::Warn),
            fail: count(Status::Fail),
            skip: count(Status::Skip),
            error: count(Status::Error),
            duration_ms,
        }
    }

    /// fail if anything failed, else error if a check has no verdict, else
    /// warn if anything warned, else pass.
    pub fn status(&self) -> Status {
        if self.fail > 0 {
            Status::Fail
        } else if self.error > 0 {
            Status::Error
        } else if self.warn > 0 {
            Status::Warn
        } else {
            Status::Pass
        }
    }
}

impl From<crate::deployment::EngineError> for Outcome {
    /// A check the engine failed: its message, and the engine's fix.
    fn from(e: crate::deployment::EngineError) -> Outcome {
        // A task this run cannot read: SKIP saying which engine would answer
        // (an unreachable node: under the nodes' check, which fails for it).
        if e.is_elsewhere() {
            let outcome = Outcome::new(Status::Skip, e.to_string());
            return match e {
                crate::deployment::EngineError::NodeUnreachable { .. } => {
                    outcome.skipped_for(NODES_CHECK)
                }
                _ => outcome,
            };
        }
        let hint = e.hint();
        let outcome = Outcome::fail(e.to_string()).with_hint(hint);
        if e.is_unreachable() {
            outcome.wanting_engine()
        } else {
            outcome
        }
    }
}
