//! A small file inside a container (a secret under /run/secrets, a config
//! file), read as the engine sees it: at its bind mount's source when the
//! engine vouches that it is the same file (`mounted_file`), else through the
//! archive API (one request, any container, running or not), else `cat` by
//! exec (an argv, no shell). Bounded in size and time.

use super::{Context, EngineError, exec, mounted_file};
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use futures::StreamExt;
use std::io::Read;

/// Secret and config files are small; anything larger is not one.
pub const MAX_FILE: usize = 64 << 10;
/// The archive of one file: the file and its tar headers.
const MAX_ARCHIVE: usize = MAX_FILE + (16 << 10);

/// Why a file in a container could not be read (the message names neither:
/// the caller says which file it wanted).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The engine failed the exec or the archive request.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// `cat` ran and failed.
    #[error("cannot be read: {stderr}")]
    Cat { stderr: String },
    /// The engine's archive of the file could not be read.
    #[error("its archive: {0}")]
    Archive(#[source] std::io::Error),
    /// The engine failed sending the archive.
    #[error("its archive: {0}")]
    Download(#[source] bollard::errors::Error),
    #[error("larger than a secret file")]
    TooLarge,
    #[error("not a file")]
    NotAFile,
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// Both ways failed: by the archive, then by exec (said exec first).
    #[error("{exec}; {archive}")]
    BothFailed {
        exec: Box<FileError>,
        #[source]
        archive: Box<FileError>,
    },
}

/// The text of `path` in `container`.
pub async fn read(ctx: &Context, container: &str, path: &str) -> Result<String, FileError> {
    // A second at most: the archive and exec still have their own timeouts.
    let fast = ctx.timeout.min(std::time::Duration::from_secs(1));
    let at_its_source = tokio::time::timeout(fast, mounted_file::read(ctx, container, path));
    if let Ok(Some(text)) = at_its_source.await {
        return Ok(text);
    }
    match within(ctx, by_archive(ctx, container, path)).await {
        Ok(text) => Ok(text),
        Err(archive_failed) => {
            within(ctx, by_exec(ctx, container, path))
                .await
                .map_err(|exec_failed| FileError::BothFailed {
                    exec: Box::new(exec_failed),
                    archive: Box::new(archive_failed),
                })
        }
    }
}

async fn within(
    ctx: &Context,
    reading: impl Future<Output = Result<String, FileError>>,
) -> Result<String, FileError> {
    tokio::time::timeout(ctx.timeout, reading)
        .await
        .map_err(|_| FileError::Timeout(ctx.timeout))?
}

async fn by_exec(ctx: &Context, container: &str, path: &str) -> Result<String, FileError> {
    let docker = ctx.docker_for(container).await?;
    let mut text = Vec::new();
    let finished = exec::run(
        &docker,
        container,
        &["cat", "--", path],
        &[],
        None,
        |chunk| {
            if text.len() + chunk.len() > MAX_FILE {
                return Err(std::io::Error::other("larger than a secret file"));
            }
            text.extend_from_slice(chunk);
            Ok(())
        },
    )
    .await?;
    if finished.exit_code != 0 {
        return Err(FileError::Cat {
            stderr: finished.stderr.trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

async fn by_archive(ctx: &Context, container: &str, path: &str) -> Result<String, FileError> {
    let docker = ctx.docker_for(container).await?;
    let options = DownloadFromContainerOptionsBuilder::new()
        .path(path)
        .build();
    let mut stream = docker.download_from_container(container, Some(options));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(FileError::Download)?;
        if archive.len() + chunk.len() > MAX_ARCHIVE {
            return Err(FileError::TooLarge);
        }
        archive.extend_from_slice(&chunk);
    }
    first_file(&archive)
}

/// The first regular file of a tar archive, bounded.
fn first_file(archive: &[u8]) -> Result<String, FileError> {
    let mut entries = tar::Archive::new(archive);
    let entries = entries.entries().map_err(FileError::Archive)?;
    for entry in entries {
        let entry = entry.map_err(FileError::Archive)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let mut text = Vec::new();
        entry
            .take(MAX_FILE as u64 + 1)
            .read_to_end(&mut text)
            .map_err(FileError::Archive)?;
        if text.len() > MAX_FILE {
            return Err(FileError::TooLarge);
        }
        return Ok(String::from_utf8_lossy(&text).into_owned());
    }
    Err(FileError::NotAFile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(name: &str, body: &[u8]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o400);
        header.set_cksum();
        builder.append_data(&mut header, name, body).unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn the_archive_of_a_file_gives_its_text_bounded() {
        assert_eq!(
            first_file(&archive("db_password", b"pw\n")).unwrap(),
            "pw\n"
        );
        let large = archive("big", &vec![b'x'; MAX_FILE + 1]);
        assert_eq!(
            first_file(&large).unwrap_err().to_string(),
            "larger than a secret file"
        );
    }
}
