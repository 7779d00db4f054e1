//! A small file inside a container (a secret under /run/secrets, a config
//! file), read through the engine: `cat` by exec (an argv, no shell), else the
//! archive API (a container without `cat`, or not running). Bounded in size
//! and time; the engine's view, not a host path that may not be the engine's.

use super::{Context, exec};
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use futures::StreamExt;
use std::io::Read;

/// Secret and config files are small; anything larger is not one.
pub const MAX_FILE: usize = 64 << 10;
/// The archive of one file: the file and its tar headers.
const MAX_ARCHIVE: usize = MAX_FILE + (16 << 10);

/// The text of `path` in `container`.
pub async fn read(ctx: &Context, container: &str, path: &str) -> Result<String, String> {
    match within(ctx, by_exec(ctx, container, path)).await {
        Ok(text) => Ok(text),
        Err(exec_failed) => within(ctx, by_archive(ctx, container, path))
            .await
            .map_err(|archive_failed| format!("{exec_failed}; {archive_failed}")),
    }
}

async fn within(
    ctx: &Context,
    reading: impl Future<Output = Result<String, String>>,
) -> Result<String, String> {
    tokio::time::timeout(ctx.timeout, reading)
        .await
        .map_err(|_| format!("no answer within {:?}", ctx.timeout))?
}

async fn by_exec(ctx: &Context, container: &str, path: &str) -> Result<String, String> {
    let docker = ctx.docker_for(container).await.map_err(|e| e.to_string())?;
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
    .await
    .map_err(|e| e.to_string())?;
    if finished.exit_code != 0 {
        return Err(format!("cannot be read: {}", finished.stderr.trim()));
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

async fn by_archive(ctx: &Context, container: &str, path: &str) -> Result<String, String> {
    let docker = ctx.docker_for(container).await.map_err(|e| e.to_string())?;
    let options = DownloadFromContainerOptionsBuilder::new()
        .path(path)
        .build();
    let mut stream = docker.download_from_container(container, Some(options));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("its archive: {e}"))?;
        if archive.len() + chunk.len() > MAX_ARCHIVE {
            return Err("larger than a secret file".into());
        }
        archive.extend_from_slice(&chunk);
    }
    first_file(&archive)
}

/// The first regular file of a tar archive, bounded.
fn first_file(archive: &[u8]) -> Result<String, String> {
    let mut entries = tar::Archive::new(archive);
    let entries = entries.entries().map_err(|e| format!("its archive: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("its archive: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let mut text = Vec::new();
        entry
            .take(MAX_FILE as u64 + 1)
            .read_to_end(&mut text)
            .map_err(|e| format!("its archive: {e}"))?;
        if text.len() > MAX_FILE {
            return Err("larger than a secret file".into());
        }
        return Ok(String::from_utf8_lossy(&text).into_owned());
    }
    Err("not a file".into())
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
        assert_eq!(first_file(&large).unwrap_err(), "larger than a secret file");
    }
}
