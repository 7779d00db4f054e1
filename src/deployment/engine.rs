//! The Docker engine client: connected (honouring `DOCKER_HOST`) and its API
//! version negotiated within a timeout.

use std::time::Duration;

pub async fn connect(timeout: Duration) -> Result<bollard::Docker, String> {
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let docker = bollard::Docker::connect_with_defaults()
        .map_err(|e| format!("Docker engine not reachable at {host}: {e}"))?;
    match tokio::time::timeout(timeout, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(e)) => Err(format!("Docker engine not reachable at {host}: {e}")),
        Err(_) => Err(format!(
            "Docker engine at {host} did not answer within {timeout:?}"
        )),
    }
}

/// Whether the engine runs on this machine (its unix socket): then paths it
/// reports on the host (a bind mount's source) are this machine's.
pub fn is_local() -> bool {
    std::env::var("DOCKER_HOST").map_or(true, |host| host.is_empty() || host.starts_with("unix://"))
}
