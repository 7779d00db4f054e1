//! The doctor's own folders: the state folder (backup signing key, the record of
//! an interrupted restore) and the runtime folder that holds the runbook lock.
//! Both are private (0700) and never followed through a symlink.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `HELPDESK_DOCTOR_STATE_DIR`, else `/var/lib/helpdesk-doctor` as root, else
/// `$XDG_STATE_HOME/helpdesk-doctor` (`~/.local/state/helpdesk-doctor`).
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HELPDESK_DOCTOR_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if is_root() {
        return PathBuf::from("/var/lib/helpdesk-doctor");
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("/var/tmp"));
    base.join("helpdesk-doctor")
}

/// The config file when `--config` (or `HELPDESK_DOCTOR_CONFIG`) names none: the
/// user's (`$XDG_CONFIG_HOME/helpdesk-doctor/config.toml`, `~/.config/…`), else
/// the system's (`/etc/helpdesk-doctor/config.toml`), when it exists.
pub fn default_config() -> Option<PathBuf> {
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|base| base.join("helpdesk-doctor/config.toml"));
    let system = PathBuf::from("/etc/helpdesk-doctor/config.toml");
    user.into_iter().chain([system]).find(|path| path.is_file())
}

/// Where backups go when no folder is named: `HELPDESK_DOCTOR_BACKUP_DIR`, else
/// the config's `backup_dir`, else `/var/backups/helpdesk-doctor` as root, else
/// `backups` in the state folder — never the current folder unless asked.
pub fn backup_dir(configured: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("HELPDESK_DOCTOR_BACKUP_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if !configured.is_empty() {
        return PathBuf::from(configured);
    }
    if is_root() {
        PathBuf::from("/var/backups/helpdesk-doctor")
    } else {
        state_dir().join("backups")
    }
}

/// Where the runbook lock lives. Deliberately not configurable by the caller's
/// environment for root (every root runbook must see the same lock):
/// `/run/helpdesk-doctor` as root, else `$XDG_RUNTIME_DIR/helpdesk-doctor`, else
/// the state folder.
pub fn runtime_dir() -> PathBuf {
    if is_root() {
        return PathBuf::from("/run/helpdesk-doctor");
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("helpdesk-doctor"),
        None => state_dir(),
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Creates `dir` (and its missing parents) as a 0700 folder owned by us, or
/// checks that the existing one is a real folder (not a symlink) owned by us
/// and not writable by others — one others can read is made 0700 again (a
/// folder made by an older version, or by hand). A folder inside the state
/// folder makes the state folder itself private first.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let state = state_dir();
    if dir != state && dir.starts_with(&state) {
        private_dir(&state)?;
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return fs::set_permissions(dir, fs::Permissions::from_mode(0o700)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = fs::symlink_metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != me || meta.mode() & 0o022 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} must be a folder owned by uid {me} and writable only by it (remove it and run again)",
                dir.display()
            ),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        // Through the folder opened without following a symlink: the one checked.
        let folder = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY)
            .open(dir)?;
        folder.set_permissions(fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes the small record `name` in the state folder (0600, atomically).
pub fn save_record(name: &str, record: &impl serde::Serialize) -> io::Result<()> {
    let dir = state_dir();
    private_dir(&dir)?;
    let text = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
    crate::files::write_atomically(&dir.join(name), &text, 0o600)
}

/// The record `name` of the state folder, if there is one (a file larger than
/// `max` bytes, unreadable or of another shape is not ours: none).
pub fn load_record<T: serde::de::DeserializeOwned>(name: &str, max: u64) -> Option<T> {
    let file = crate::files::open_regular(&state_dir().join(name)).ok()?;
    let mut text = String::new();
    io::Read::read_to_string(&mut io::Read::take(file, max), &mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Removes the record `name` of the state folder.
pub fn clear_record(name: &str) {
    fs::remove_file(state_dir().join(name)).ok();
}

/// Whether `pid` is another process still running (the writer of a record).
pub fn still_running(pid: u32) -> bool {
    pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_symlink_or_shared_folder_is_refused() {
        let base = tempfile::tempdir().unwrap();
        let target = base.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        let link = base.path().join("state");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(private_dir(&link).is_err());
        let shared = base.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(private_dir(&shared).is_err());
        let fresh = base.path().join("a/b");
        private_dir(&fresh).unwrap();
        assert_eq!(fs::metadata(&fresh).unwrap().mode() & 0o777, 0o700);
        private_dir(&fresh).unwrap();
    }

    #[test]
    fn a_folder_others_can_read_is_made_private_and_new_parents_are_private() {
        let base = tempfile::tempdir().unwrap();
        let open = base.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&open).unwrap();
        assert_eq!(fs::metadata(&open).unwrap().mode() & 0o777, 0o700);
        let deep = base.path().join("new/state/history");
        private_dir(&deep).unwrap();
        for made in ["new", "new/state"] {
            let mode = fs::metadata(base.path().join(made)).unwrap().mode();
            assert_eq!(mode & 0o077, 0, "{made} is private: {mode:o}");
        }
    }
}
