//! One runbook at a time: an advisory lock on a file holding the owner's pid,
//! released when the process exits, however it exits.

use crate::error::Error;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

/// Held while a runbook runs; dropping it releases the lock.
pub struct RunbookLock {
    _file: File,
}

/// `HELPDESK_DOCTOR_LOCK`, else `helpdesk-doctor.lock` in the runtime or temp directory.
fn path() -> PathBuf {
    if let Some(path) = std::env::var_os("HELPDESK_DOCTOR_LOCK") {
        return PathBuf::from(path);
    }
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join("helpdesk-doctor.lock")
}

pub fn acquire() -> Result<RunbookLock, Error> {
    let path = path();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::CannotRun(format!("opening the lock {}: {e}", path.display())))?;
    if file.try_lock().is_err() {
        let mut owner = String::new();
        file.read_to_string(&mut owner).ok();
        let owner = owner.trim();
        let owner = if owner.is_empty() { "unknown" } else { owner };
        return Err(Error::Refused(format!(
            "another helpdesk-doctor runbook is running (pid {owner}); lock {}",
            path.display()
        )));
    }
    file.set_len(0).ok();
    file.rewind().ok();
    write!(file, "{}", std::process::id()).ok();
    file.flush().ok();
    Ok(RunbookLock { _file: file })
}

/// The lock for a runbook that will change things; none for a dry run.
pub fn unless_dry_run(dry_run: bool) -> Result<Option<RunbookLock>, Error> {
    if dry_run {
        Ok(None)
    } else {
        acquire().map(Some)
    }
}
