//! What the deployment layer reports when the engine or a container fails it:
//! typed, each with the fix an operator would try first (`hint`).

use std::fmt::Display;
use std::time::Duration;

#[derive(Clone, Debug, thiserror::Error)]
pub enum EngineError {
    /// No engine at the endpoint, or it refused the connection.
    #[error("Docker engine not reachable at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    /// The engine's TLS handshake failed (wrong CA, name or client certificate).
    #[error("Docker engine at {endpoint}: TLS failed ({reason})")]
    Tls {
        endpoint: String,
        reason: String,
        /// The folder of ca.pem, cert.pem, key.pem used.
        certificates: String,
    },
    /// A docker context that cannot be used.
    #[error("docker context {name:?} cannot be used: {reason}")]
    Context { name: String, reason: String },
    /// The engine accepted the connection but did not answer in time.
    #[error("Docker engine at {endpoint} did not answer within {timeout:?}")]
    Silent { endpoint: String, timeout: Duration },
    /// A request the engine failed (`action` says which: "inspecting X", "exec in X").
    #[error("{action}: {reason}")]
    Request { action: String, reason: String },
    /// A command run in a container whose output could not be handled.
    #[error("{action}: {reason}")]
    Output { action: String, reason: String },
    /// A Swarm task on another node, whose engine no config names.
    #[error(
        "{container} runs on {node}: node {hostname}'s engine would answer, and none is \
         configured ([[engines]] with node = \"{hostname}\", or a docker context named {hostname})"
    )]
    NoNodeEngine {
        container: String,
        node: String,
        hostname: String,
    },
    /// A Swarm task that waits for a node.
    #[error("{container} has no node: {reason}")]
    Unplaced { container: String, reason: String },
    /// The node a task runs on cannot be reached.
    #[error("{node} unreachable: {reason}")]
    NodeUnreachable { node: String, reason: String },
}

impl EngineError {
    pub fn request(action: impl Into<String>, reason: impl Display) -> EngineError {
        EngineError::Request {
            action: action.into(),
            reason: reason.to_string(),
        }
    }

    pub fn output(action: impl Into<String>, reason: impl Display) -> EngineError {
        EngineError::Output {
            action: action.into(),
            reason: reason.to_string(),
        }
    }

    /// The engine itself cannot be used (not one request of it failing).
    pub fn is_unreachable(&self) -> bool {
        match self {
            EngineError::Unreachable { .. }
            | EngineError::Tls { .. }
            | EngineError::Context { .. }
            | EngineError::Silent { .. } => true,
            EngineError::Request { .. }
            | EngineError::Output { .. }
            | EngineError::NoNodeEngine { .. }
            | EngineError::Unplaced { .. }
            | EngineError::NodeUnreachable { .. } => false,
        }
    }

    /// The container is a task that cannot be read from here: not a fault of
    /// the check's (its node or the swarm's checks say what is wrong).
    pub fn is_elsewhere(&self) -> bool {
        matches!(
            self,
            EngineError::NoNodeEngine { .. }
                | EngineError::Unplaced { .. }
                | EngineError::NodeUnreachable { .. }
        )
    }

    /// The fix to try first.
    pub fn hint(&self) -> String {
        match self {
            EngineError::Unreachable { endpoint, .. } => format!(
                "Start the engine (systemctl start docker) or point DOCKER_HOST at it; \
                 check that this user may use {endpoint}: docker info"
            ),
            EngineError::Tls { certificates, .. } => format!(
                "The engine's certificate must be signed by {certificates}/ca.pem and name the \
                 host you reach it by; this client's cert.pem and key.pem must be signed by the \
                 CA the engine trusts (DOCKER_CERT_PATH, or the context's TLS files)"
            ),
            EngineError::Context { name, .. } => {
                format!("See the contexts: docker context ls; docker context inspect {name}")
            }
            EngineError::Silent { .. } => {
                "The engine is overloaded or stuck: docker info; systemctl status docker".into()
            }
            EngineError::Request { .. } => {
                "Look at the engine's view: docker ps -a; docker info".into()
            }
            EngineError::Output { .. } => {
                "Check free space and permissions where the output goes, then retry".into()
            }
            EngineError::NoNodeEngine { hostname, .. } => format!(
                "Name the engine of node {hostname}: [[engines]] name = \"{hostname}\" node = \"{hostname}\" \
                 host = \"ssh://USER@{hostname}\" in the config, or docker context create {hostname} \
                 --docker host=ssh://USER@{hostname}"
            ),
            EngineError::Unplaced { .. } => {
                "See why it has no node: docker service ps --no-trunc SERVICE; docker node ls"
                    .into()
            }
            EngineError::NodeUnreachable { .. } => {
                "See the nodes: docker node ls; on the node: systemctl status docker".into()
            }
        }
    }
}

/// The engine failed a runbook before it could do its work: the doctor cannot run.
impl From<EngineError> for crate::error::Error {
    fn from(e: EngineError) -> crate::error::Error {
        crate::error::Error::CannotRun(format!("{e}\nfix: {}", e.hint()))
    }
}
