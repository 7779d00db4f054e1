//! `backup --volumes`: a database volume archived through the Engine API, never
//! from a running database (a tarball of a live data directory is not a consistent
//! backup): stop the container, archive, start it again, wait until healthy.

use super::in_flight::InFlight;
use super::manifest::FileEntry;
use super::progress::Progress;
use crate::deployment::engine_client::{EngineClient, HealthError};
use crate::deployment::{Context, EngineError};
use crate::files::CompressedFile;
use crate::profile::{Role, Service};
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
    let container = service.container(Role::Db);
    let engine = ctx.engine_for(&container).await?;
    let data = data_path(&engine, &container).await?;
    let task = progress.task(&container, "stopping, archiving the volume");
    let (stopping, name) = (engine.clone(), container.clone());
    in_flight
        .run(async move { stopping.stop(&name, 30).await })
        .await?;
    let archived = download(&engine, &container, &data, dir, &service.name, |n| {
        task.advance(n)
    })
    .await;
    // Started again whatever happened to the archive.
    let restarted = start_and_wait_healthy(&engine, &container).await;
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
        let container = service.container(Role::Db);
        let Ok(engine) = ctx.engine_for(&container).await else {
            continue;
        };
        let running = engine.running_now(&container).await.unwrap_or(true);
        if !running {
            let _ = start_and_wait_healthy(&engine, &container).await;
        }
    }
}

/// Where the container's data volume is mounted.
async fn data_path(engine: &EngineClient, container: &str) -> Result<String, VolumeError> {
    engine
        .volume_destination(container)
        .await?
        .ok_or_else(|| VolumeError::NoVolume {
            container: container.to_string(),
        })
}

async fn download(
    engine: &EngineClient,
    container: &str,
    path: &str,
    dir: &Path,
    service: &str,
    advance: impl Fn(u64),
) -> Result<FileEntry, VolumeError> {
    let name = format!("{service}-db-data.tar.gz");
    let mut file = CompressedFile::create(&dir.join(&name))?;
    let mut stream = engine.download(container, path);
    while let Some(chunk) = stream.next().await {
        let written = match chunk {
            Ok(chunk) => {
                advance(chunk.len() as u64);
                file.write_all(&chunk).map_err(|source| VolumeError::Write {
                    name: name.clone(),
                    source,
                })
            }
            Err(e) => Err(e.into()),
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

async fn start_and_wait_healthy(engine: &EngineClient, container: &str) -> Result<(), VolumeError> {
    engine.start(container).await?;
    Ok(engine.wait_healthy(container, HEALTHY_TIMEOUT).await?)
}
