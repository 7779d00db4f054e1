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
