//! A file a container sees through a bind mount (a compose secret, a mounted
//! config), read at the mount's source on this machine: only when the
//! container's engine is this machine's and the engine's stat of the file in
//! the container (a regular file, its size, its mtime to the nanosecond) is
//! the stat of that source. One HEAD request instead of the archive's tar,
//! which the engine builds in a helper process (~40 ms each).
//!
//! What the container could have changed on the host is never trusted: the
//! path is resolved with no symlink anywhere in it, opened as a path only
//! (a device or a FIFO is never opened), and read only once it is known to
//! be a regular file; off the async workers (a dead network share blocks).

use super::{Context, container_file::MAX_FILE, containers};
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::ContainerArchiveInfoOptionsBuilder;
use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Go's `os.ModeType` (directory, symlink, pipe, socket, devices, irregular):
/// a regular file has none of these bits in the engine's stat.
const GO_MODE_TYPE: u32 =
    (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19);
const NANOS: i128 = 1_000_000_000;

/// The text of `path` in `container`, read at its bind mount's source; None
/// whenever that is not surely the same file (the caller asks the engine).
pub async fn read(ctx: &Context, container: &str, path: &str) -> Option<String> {
    if !ctx.is_local_for(container) {
        return None;
    }
    let inspected = containers::inspect(ctx, container).await.ok()??;
    let source = source_of(&inspected.inspected, path)?;
    // The container whose mounts were read, not another of the same name since.
    let id = inspected.reference();
    let docker = ctx.docker_for(container).await.ok()?;
    let options = ContainerArchiveInfoOptionsBuilder::new().path(path).build();
    let stat = docker
        .get_container_archive_info(id, Some(options))
        .await
        .ok()?;
    let is_small_file = stat.file_mode & GO_MODE_TYPE == 0
        && stat.link_target.is_empty()
        && (0..=MAX_FILE as i64).contains(&stat.size);
    let mtime: jiff::Timestamp = stat.modification_time?.parse().ok()?;
    let mtime = mtime.as_nanosecond();
    if !is_small_file || !precise(mtime) {
        return None;
    }
    let size = stat.size as u64;
    tokio::task::spawn_blocking(move || read_if_same(&source, size, mtime))
        .await
        .ok()?
}

/// Whether an mtime tells one file from another: a whole second (a
/// reproducible build, an archive's, a coarse filesystem's) is too common.
fn precise(mtime_ns: i128) -> bool {
    mtime_ns.rem_euclid(NANOS) != 0
}

/// The host path of `path` in the container, when the deepest mount holding
/// it is a bind or a volume's whole folder (a tmpfs above it, or a volume's
/// subpath, is not what the host path holds): its source, and the rest of
/// `path` below it (plain names only: no `..`, no `.`).
fn source_of(inspected: &ContainerInspectResponse, path: &str) -> Option<PathBuf> {
    let path = Path::new(path);
    let listed = inspected.mounts.as_deref().unwrap_or_default().iter();
    let listed = listed.filter_map(|m| {
        let typ = m.typ.as_deref().unwrap_or_default();
        Some((m.destination.as_deref()?, typ, m.source.as_deref()))
    });
    let host = inspected.host_config.as_ref();
    let tmpfs = host.and_then(|h| h.tmpfs.as_ref()).into_iter().flatten();
    let tmpfs = tmpfs.map(|(destination, _)| (destination.as_str(), "tmpfs", None));
    let (destination, typ, source) = listed
        .chain(tmpfs)
        .filter(|(destination, ..)| path.starts_with(destination))
        .max_by_key(|(destination, ..)| Path::new(destination).components().count())?;
    let at_a_subpath = host
        .and_then(|h| h.mounts.as_ref())
        .into_iter()
        .flatten()
        .filter(|m| m.target.as_deref().map(Path::new) == Some(Path::new(destination)))
        .any(|m| {
            let options = m.volume_options.as_ref();
            options
                .and_then(|o| o.subpath.as_deref())
                .is_some_and(|s| !s.is_empty())
        });
    if !matches!(typ, "bind" | "volume") || at_a_subpath {
        return None;
    }
    let source = Path::new(source.filter(|s| !s.is_empty())?);
    let rest = path.strip_prefix(destination).ok()?;
    if !rest.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    // Not `join("")`: its trailing slash would name a directory.
    Some(match rest.as_os_str().is_empty() {
        true => source.to_path_buf(),
        false => source.join(rest),
    })
}

/// The text of `source` when it is a regular file of `size` bytes last
/// modified at `mtime_ns`.
fn read_if_same(source: &Path, size: u64, mtime_ns: i128) -> Option<String> {
    let file = open_regular(source)?;
    let meta = file.metadata().ok()?;
    let host_mtime = i128::from(meta.mtime()) * NANOS + i128::from(meta.mtime_nsec());
    if meta.len() != size || host_mtime != mtime_ns {
        return None;
    }
    let mut text = Vec::new();
    file.take(size + 1).read_to_end(&mut text).ok()?;
    (text.len() as u64 == size).then(|| String::from_utf8_lossy(&text).into_owned())
}

/// `path` opened for reading when it is a regular file reached through no
/// symlink at all: first as a path only (`O_PATH`: nothing is opened, a
/// device or a FIFO included), then — a regular file — that same inode again
/// for reading. None on a kernel without `openat2` (before 5.6) or no /proc.
fn open_regular(path: &Path) -> Option<File> {
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: open_how is plain data whose all-zero value is its default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: a NUL-terminated path, a valid open_how and its size.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c_path.as_ptr(),
            &how as *const libc::open_how,
            size_of::<libc::open_how>(),
        )
    };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: openat2 just returned this descriptor; nothing else owns it.
    let pinned = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let meta = pinned.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let reopened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(format!("/proc/self/fd/{}", pinned.as_raw_fd()))
        .ok()?;
    let again = reopened.metadata().ok()?;
    (again.dev() == meta.dev() && again.ino() == meta.ino()).then_some(reopened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{HostConfig, Mount, MountPoint, MountVolumeOptions};
    use std::collections::HashMap;

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
        assert_eq!(host(&c, "/run/sec"), Some("/srv/app/sec".to_string()));
    }

    #[test]
    fn a_path_that_climbs_out_or_lies_under_a_tmpfs_has_no_source() {
        let mut c = mounted(&[
            ("bind", "/srv/app", "/run"),
            ("tmpfs", "", "/run/secrets"),
            ("bind", "/srv/cfg", "/etc/app"),
        ]);
        assert_eq!(host(&c, "/run/../etc/shadow"), None);
        assert_eq!(
            host(&c, "/run/./x"),
            Some("/srv/app/x".to_string()),
            "Path drops a `.`"
        );
        assert_eq!(
            host(&c, "/run/secrets/pw"),
            None,
            "a tmpfs hides the bind below it"
        );
        c.host_config = Some(HostConfig {
            tmpfs: Some(HashMap::from([(
                "/etc/app/private".to_string(),
                String::new(),
            )])),
            ..Default::default()
        });
        assert_eq!(host(&c, "/etc/app/private/pw"), None, "compose's `tmpfs:`");
        assert_eq!(host(&c, "/etc/app/pw"), Some("/srv/cfg/pw".to_string()));
    }

    #[test]
    fn a_volumes_subpath_is_not_its_source() {
        let mut c = mounted(&[("volume", "/var/lib/docker/volumes/v/_data", "/cfg")]);
        c.host_config = Some(HostConfig {
            mounts: Some(vec![Mount {
                target: Some("/cfg".into()),
                volume_options: Some(MountVolumeOptions {
                    subpath: Some("app".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        });
        assert_eq!(host(&c, "/cfg/pw"), None);
    }

    fn mtime_of(path: &Path) -> i128 {
        let meta = std::fs::metadata(path).unwrap();
        i128::from(meta.mtime()) * NANOS + i128::from(meta.mtime_nsec())
    }

    #[test]
    fn a_source_is_read_only_when_it_is_the_same_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "secret\n").unwrap();
        let mtime = mtime_of(&file);
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

    #[test]
    fn no_symlink_anywhere_in_the_path_and_no_fifo_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        let file = dir.path().join("real/pw");
        std::fs::write(&file, "secret").unwrap();
        let mtime = mtime_of(&file);
        std::os::unix::fs::symlink("real", dir.path().join("via")).unwrap();
        assert_eq!(read_if_same(&dir.path().join("via/pw"), 6, mtime), None);
        let fifo = dir.path().join("fifo");
        let c_fifo = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o600) }, 0);
        // Returns at once (a FIFO opened for reading would wait for a writer).
        assert_eq!(read_if_same(&fifo, 0, mtime_of(&fifo)), None);
        let writer = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        assert_eq!(
            writer.unwrap_err().raw_os_error(),
            Some(libc::ENXIO),
            "no reader holds the FIFO open"
        );
    }

    #[test]
    fn a_whole_second_mtime_is_too_common_to_match_on() {
        assert!(!precise(1_764_400_000 * NANOS));
        assert!(precise(1_764_400_000 * NANOS + 776_945_639));
        assert!(precise(-1));
    }
}
