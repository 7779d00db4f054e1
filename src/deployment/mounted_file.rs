//! A file a container sees through a bind mount (a compose secret, a mounted
//! config), read at the mount's source on this machine: only when the
//! container's engine is this machine's and the engine's stat of the file in
//! the container (a regular file, its size, its mtime to the nanosecond) is
//! the stat of that source. One HEAD request instead of the archive's tar,
//! which the engine builds in a helper process (~40 ms each).

use super::{Context, container_file::MAX_FILE, containers};
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::ContainerArchiveInfoOptionsBuilder;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Go's `os.ModeType` (directory, symlink, pipe, socket, devices, irregular):
/// a regular file has none of these bits in the engine's stat.
const GO_MODE_TYPE: u32 =
    (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19);

/// The text of `path` in `container`, read at its bind mount's source; None
/// whenever that is not surely the same file (the caller asks the engine).
pub async fn read(ctx: &Context, container: &str, path: &str) -> Option<String> {
    if !ctx.is_local_for(container) {
        return None;
    }
    let inspected = containers::inspect(ctx, container).await.ok()??;
    let source = source_of(&inspected, path)?;
    let docker = ctx.docker_for(container).await.ok()?;
    let options = ContainerArchiveInfoOptionsBuilder::new().path(path).build();
    let stat = docker
        .get_container_archive_info(container, Some(options))
        .await
        .ok()?;
    let is_small_file = stat.file_mode & GO_MODE_TYPE == 0
        && stat.link_target.is_empty()
        && (0..=MAX_FILE as i64).contains(&stat.size);
    if !is_small_file {
        return None;
    }
    let mtime: jiff::Timestamp = stat.modification_time?.parse().ok()?;
    read_if_same(&source, stat.size as u64, mtime.as_nanosecond())
}

/// The host path of `path` in the container: the source of the mount with
/// the longest destination that holds it, and the rest of `path` below it
/// (plain names only: no `..`, no `.`).
fn source_of(inspected: &ContainerInspectResponse, path: &str) -> Option<PathBuf> {
    let path = Path::new(path);
    let host_visible = |t: &Option<String>| matches!(t.as_deref(), Some("bind" | "volume"));
    inspected
        .mounts
        .as_deref()?
        .iter()
        .filter(|m| host_visible(&m.typ))
        .filter_map(|m| {
            let destination = Path::new(m.destination.as_deref()?);
            let rest = path.strip_prefix(destination).ok()?;
            let plain = rest.components().all(|c| matches!(c, Component::Normal(_)));
            let source = Path::new(m.source.as_deref().filter(|s| !s.is_empty())?);
            // Not `join("")`: its trailing slash would name a directory.
            let host = match rest.as_os_str().is_empty() {
                true => source.to_path_buf(),
                false => source.join(rest),
            };
            plain.then(|| (destination.components().count(), host))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, source)| source)
}

/// The text of `source` when it is a regular file (not followed if a link)
/// of `size` bytes last modified at `mtime_ns`.
fn read_if_same(source: &Path, size: u64, mtime_ns: i128) -> Option<String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(source)
        .ok()?;
    let meta = file.metadata().ok()?;
    let host_mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    if !meta.is_file() || meta.len() != size || host_mtime != mtime_ns {
        return None;
    }
    let mut text = Vec::new();
    file.take(size + 1).read_to_end(&mut text).ok()?;
    (text.len() as u64 == size).then(|| String::from_utf8_lossy(&text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::MountPoint;

    fn mounted(mounts: &[(&str, &str, &str)]) -> ContainerInspectResponse {
        let mounts = mounts
            .iter()
            .map(|(typ, source, destination)| MountPoint {
                typ: Some(typ.to_string()),
                source: Some(source.to_string()),
                destination: Some(destination.to_string()),
                ..Default::default()
            })
            .collect();
        ContainerInspectResponse {
            mounts: Some(mounts),
            ..Default::default()
        }
    }

    /// As text: a `PathBuf` compares equal with or without a trailing slash.
    fn host(c: &ContainerInspectResponse, path: &str) -> Option<String> {
        source_of(c, path).map(|p| p.to_string_lossy().into_owned())
    }

    #[test]
    fn the_deepest_mount_holding_the_path_gives_its_source() {
        let c = mounted(&[
            ("bind", "/srv/app", "/run"),
            ("bind", "/srv/secrets/db", "/run/secrets/db"),
            ("volume", "/var/lib/docker/volumes/cfg/_data", "/etc/app"),
        ]);
        assert_eq!(
            host(&c, "/run/secrets/db"),
            Some("/srv/secrets/db".to_string())
        );
        assert_eq!(
            host(&c, "/run/secrets/other"),
            Some("/srv/app/secrets/other".to_string())
        );
        assert_eq!(
            host(&c, "/etc/app/redis.conf"),
            Some("/var/lib/docker/volumes/cfg/_data/redis.conf".to_string())
        );
        assert_eq!(host(&c, "/etc/passwd"), None, "not mounted");
    }

    #[test]
    fn a_path_that_climbs_out_of_its_mount_or_a_tmpfs_has_no_source() {
        let c = mounted(&[("bind", "/srv/app", "/run"), ("tmpfs", "", "/tmp")]);
        assert_eq!(host(&c, "/run/../etc/shadow"), None);
        assert_eq!(
            host(&c, "/run/./x"),
            Some("/srv/app/x".to_string()),
            "Path drops a `.`"
        );
        assert_eq!(host(&c, "/tmp/pw"), None);
    }

    #[test]
    fn a_source_is_read_only_when_it_is_the_same_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "secret\n").unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
        assert_eq!(read_if_same(&file, 7, mtime).as_deref(), Some("secret\n"));
        assert_eq!(read_if_same(&file, 6, mtime), None, "another size");
        assert_eq!(read_if_same(&file, 7, mtime + 1), None, "another mtime");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(
            read_if_same(&link, 7, mtime),
            None,
            "a link is not followed"
        );
        assert_eq!(read_if_same(dir.path(), 7, mtime), None, "a directory");
    }
}
