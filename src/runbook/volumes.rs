//! `backup --volumes`: a database volume archived through the Engine API, never
//! from a running database (a tarball of a live data directory is not a consistent
//! backup): stop the container, archive, start it again, wait until healthy.

use super::files::{HashingWriter, PendingFile};
use super::manifest::FileEntry;
use super::progress::Progress;
use crate::probe::Context;
use crate::profile::Service;
use bollard::Docker;
use bollard::query_parameters::{DownloadFromContainerOptionsBuilder, StopContainerOptionsBuilder};
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::StreamExt;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const HEALTHY_TIMEOUT: Duration = Duration::from_secs(120);

pub async fn archive(
    ctx: &Context,
    dir: &Path,
    service: &Service,
    progress: &Progress,
) -> Result<FileEntry, String> {
    let docker = ctx.docker().await?;
    let container = service.container("db");
    let data = data_path(docker, &container).await?;
    let task = progress.task(&container, "stopping, archiving the volume");
    docker
        .stop_container(
            &container,
            Some(StopContainerOptionsBuilder::new().t(30).build()),
        )
        .await
        .map_err(|e| format!("stopping {container}: {e}"))?;
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

/// Where the container's data volume is mounted.
async fn data_path(docker: &Docker, container: &str) -> Result<String, String> {
    let inspected = docker
        .inspect_container(container, None)
        .await
        .map_err(|e| format!("inspecting {container}: {e}"))?;
    inspected
        .mounts
        .unwrap_or_default()
        .into_iter()
        .find(|m| m.typ.as_ref().map(|t| t.to_string()) == Some("volume".into()))
        .and_then(|m| m.destination)
        .ok_or_else(|| format!("{container} has no volume mounted"))
}

async fn download(
    docker: &Docker,
    container: &str,
    path: &str,
    dir: &Path,
    service: &str,
    advance: impl Fn(u64),
) -> Result<FileEntry, String> {
    let name = format!("{service}-db-data.tar.gz");
    let target = dir.join(&name);
    let pending =
        PendingFile::create(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    let mut gzip = GzEncoder::new(
        HashingWriter::new(BufWriter::with_capacity(1 << 20, pending)),
        Compression::fast(),
    );
    let options = DownloadFromContainerOptionsBuilder::new()
        .path(path)
        .build();
    let mut stream = docker.download_from_container(container, Some(options));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("archiving {container}:{path}: {e}"))?;
        advance(chunk.len() as u64);
        gzip.write_all(&chunk)
            .map_err(|e| format!("writing {}: {e}", target.display()))?;
    }
    let (buffered, size, sha256) = gzip
        .finish()
        .map_err(|e| format!("compressing: {e}"))?
        .finish();
    let pending = buffered
        .into_inner()
        .map_err(|e| format!("writing {}: {}", target.display(), e.error()))?;
    pending
        .commit()
        .map_err(|e| format!("committing {}: {e}", target.display()))?;
    Ok(FileEntry { name, size, sha256 })
}

pub async fn start_and_wait_healthy(docker: &Docker, container: &str) -> Result<(), String> {
    docker
        .start_container(container, None)
        .await
        .map_err(|e| format!("starting {container}: {e}"))?;
    let deadline = Instant::now() + HEALTHY_TIMEOUT;
    loop {
        let inspected = docker
            .inspect_container(container, None)
            .await
            .map_err(|e| format!("inspecting {container}: {e}"))?;
        let state = inspected.state.unwrap_or_default();
        let health = state.health.and_then(|h| h.status).map(|s| s.to_string());
        if health.as_deref() == Some("healthy") || (health.is_none() && state.running == Some(true))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{container} not healthy {HEALTHY_TIMEOUT:?} after starting it again"
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
