//! The Docker engine client: connected (honouring `DOCKER_HOST`) and its API
//! version negotiated within a timeout.

use std::time::Duration;

use super::EngineError;

/// Where the engine is asked: `DOCKER_HOST`, else the local socket.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into())
}

pub async fn connect(timeout: Duration) -> Result<bollard::Docker, EngineError> {
    let endpoint = endpoint();
    let unreachable = |reason: &dyn std::fmt::Display| EngineError::Unreachable {
        endpoint: endpoint.clone(),
        reason: reason.to_string(),
    };
    let docker = bollard::Docker::connect_with_defaults().map_err(|e| unreachable(&e))?;
    match tokio::time::timeout(timeout, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(e)) => Err(unreachable(&e)),
        Err(_) => Err(EngineError::Silent { endpoint, timeout }),
    }
}

/// Whether the engine runs on this machine (its unix socket): then paths it
/// reports on the host (a bind mount's source) are this machine's.
pub fn is_local() -> bool {
    std::env::var("DOCKER_HOST").map_or(true, |host| host.is_empty() || host.starts_with("unix://"))
}
