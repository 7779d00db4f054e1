//! `backup --volumes`: a database volume archived through the Engine API, never
//! from a running database (a tarball of a live data directory is not a consistent
//! backup): stop the container, archive, start it again, wait until healthy.

use super::in_flight::InFlight;
use super::manifest::FileEntry;
use super::progress::Progress;
use crate::deployment::containers::{self, HealthError};
use crate::deployment::{Context, EngineError};
use crate::files::CompressedFile;
use crate::profile::Service;
use bollard::Docker;
use bollard::query_parameters::{DownloadFromContainerOptionsBuilder, StopContainerOptionsBuilder};
use futures::StreamExt;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const HEALTHY_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a volume could not be archived (or its container started again).
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// The engine failed a request (inspect, stop, archive, start).
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{container} has no volume mounted")]
    NoVolume { container: String },
    /// The archive file could not be created or committed.
    #[error(transparent)]
    File(#[from] crate::files::WriteError),
    #[error("writing {name}: {source}")]
    Write {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Health(#[from] HealthError),
}

pub async fn archive(
    ctx: &Context,
    dir: &Path,
    service: &Service,
    progress: &Progress,
    in_flight: &InFlight,
) -> Result<FileEntry, VolumeError> {
    let container = service.container("db");
    let docker = ctx.docker_for(&container).await?;
    let docker = &docker;
    let data = data_path(docker, &container).await?;
    let task = progress.task(&container, "stopping, archiving the volume");
    let (stopping, name) = (docker.clone(), container.clone());
    in_flight
        .run(async move {
            let options = StopContainerOptionsBuilder::new().t(30).build();
            stopping.stop_container(&name, Some(options)).await
        })
        .await
        .map_err(|e| EngineError::request(format!("stopping {container}"), e))?;
    let archived = download(docker, &container, &data, dir, &service.name, |n| {
        task.advance(n)
    })
    .await;
    // Started again whatever happened to the archive.
    let restarted = start_and_wait_healthy(docker, &container).await;
    let entry = archived?;
    restarted?;
    task.done(&format!(
        "{} bytes compressed, restarted healthy",
        entry.size
    ));
    Ok(entry)
}

/// Starts the database containers of `services` again (after an interrupted
/// archive); one that runs already is left as it is.
pub async fn start_again(ctx: &Context, services: &[&Service]) {
    for service in services {
        let container = service.container("db");
        let Ok(docker) = ctx.docker_for(&container).await else {
            continue;
        };
        let docker = &docker;
        let running = docker
            .inspect_container(&container, None)
            .await
            .ok()
            .and_then(|c| c.state?.running)
            .unwrap_or(true);
        if !running {
            let _ = start_and_wait_healthy(docker, &container).await;
        }
    }
}

/// Where the container's data volume is mounted.
async fn data_path(docker: &Docker, container: &str) -> Result<String, VolumeError> {
    let inspected = docker
        .inspect_container(container, None)
        .await
        .map_err(|e| EngineError::request(format!("inspecting {container}"), e))?;
    inspected
        .mounts
        .unwrap_or_default()
        .into_iter()
        .find(|m| m.typ.as_ref().map(|t| t.to_string()) == Some("volume".into()))
        .and_then(|m| m.destination)
        .ok_or_else(|| VolumeError::NoVolume {
            container: container.to_string(),
        })
}

async fn download(
    docker: &Docker,
    container: &str,
    path: &str,
    dir: &Path,
    service: &str,
    advance: impl Fn(u64),
) -> Result<FileEntry, VolumeError> {
    let name = format!("{service}-db-data.tar.gz");
    let mut file = CompressedFile::create(&dir.join(&name))?;
    let options = DownloadFromContainerOptionsBuilder::new()
        .path(path)
        .build();
    let mut stream = docker.download_from_container(container, Some(options));
    while let Some(chunk) = stream.next().await {
        let written = match chunk {
            Ok(chunk) => {
                advance(chunk.len() as u64);
                file.write_all(&chunk).map_err(|source| VolumeError::Write {
                    name: name.clone(),
                    source,
                })
            }
            Err(e) => Err(EngineError::request(format!("archiving {container}:{path}"), e).into()),
        };
        // Dropping the unfinished file removes it.
        written?;
    }
    let written = file.finish()?;
    Ok(FileEntry {
        name,
        size: written.size,
        sha256: written.sha256,
        raw_size: None,
    })
}

async fn start_and_wait_healthy(docker: &Docker, container: &str) -> Result<(), VolumeError> {
    docker
        .start_container(container, None)
        .await
        .map_err(|e| EngineError::request(format!("starting {container}"), e))?;
    Ok(containers::wait_healthy(docker, container, HEALTHY_TIMEOUT).await?)
}
