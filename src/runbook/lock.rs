//! One runbook at a time: an advisory lock on one fixed file (see
//! `state::runtime_dir`) holding the owner's pid, released when the process
//! exits, however it exits. Opened without following symlinks, in a private folder.

use crate::error::Error;
use crate::state;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Held while a runbook runs; dropping it releases the lock.
pub struct RunbookLock {
    _file: File,
}

pub fn path() -> PathBuf {
    state::runtime_dir().join("lock")
}

pub fn acquire() -> Result<RunbookLock, Error> {
    let path = path();
    let cannot = |e: std::io::Error| Error::CannotRun(format!("the lock {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        state::private_dir(dir).map_err(cannot)?;
    }
    let mut file = open(&path).map_err(cannot)?;
    if file.try_lock().is_err() {
        return Err(Error::Refused(format!(
            "another helpdesk-doctor runbook is running ({}); lock {}",
            holder(&mut file),
            path.display()
        )));
    }
    file.set_len(0).ok();
    file.rewind().ok();
    write!(file, "{}", std::process::id()).ok();
    file.flush().ok();
    Ok(RunbookLock { _file: file })
}

/// Opens (or creates, 0600) the lock file: never through a symlink, only a
/// regular file of ours.
fn open(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if !meta.is_file() || meta.uid() != unsafe { libc::geteuid() } {
        return Err(std::io::Error::other(
            "not a regular file of ours: remove it and run again",
        ));
    }
    Ok(file)
}

/// "pid 1234" from the lock's content, read as a number only.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    file.take(16).read_to_string(&mut text).ok();
    match text.trim().parse::<u32>() {
        Ok(pid) => format!("pid {pid}"),
        Err(_) => "pid unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_lock_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let link = dir.path().join("lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(open(&link).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    }

    #[test]
    fn the_holder_is_read_as_a_number_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        std::fs::write(&path, "\x1b[31m666").unwrap();
        assert_eq!(holder(&mut File::open(&path).unwrap()), "pid unknown");
        std::fs::write(&path, "4242\n").unwrap();
        assert_eq!(holder(&mut File::open(&path).unwrap()), "pid 4242");
    }
}
