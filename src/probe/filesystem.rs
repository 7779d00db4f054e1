//! A filesystem's free space and inodes (`statvfs`), as an unprivileged
//! process may use them (the blocks and inodes reserved for root excluded).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

#[derive(Clone, Copy, Debug)]
pub struct Space {
    pub free_bytes: u64,
    pub total_bytes: u64,
    pub free_inodes: u64,
    pub total_inodes: u64,
}

impl Space {
    /// The share of inodes still free, in percent (100 when the filesystem
    /// has no fixed number of them, as btrfs reports 0).
    pub fn free_inodes_percent(&self) -> f64 {
        if self.total_inodes == 0 {
            100.0
        } else {
            self.free_inodes as f64 * 100.0 / self.total_inodes as f64
        }
    }
}

/// The space of the filesystem holding `path`, off the async threads (a hung
/// network filesystem blocks only a blocking thread).
pub async fn space(path: &Path) -> std::io::Result<Space> {
    let path = CString::new(path.as_os_str().as_bytes())?;
    tokio::task::spawn_blocking(move || statvfs(&path))
        .await
        .map_err(std::io::Error::other)?
}

fn statvfs(path: &CString) -> std::io::Result<Space> {
    let mut found = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is NUL-terminated and `found` is a valid place for one statvfs.
    if unsafe { libc::statvfs(path.as_ptr(), found.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled `found`.
    let found = unsafe { found.assume_init() };
    let fragment = found.f_frsize;
    Ok(Space {
        free_bytes: found.f_bavail * fragment,
        total_bytes: found.f_blocks * fragment,
        free_inodes: found.f_favail,
        total_inodes: found.f_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn measures_this_machine_s_root_and_refuses_a_missing_path() {
        let root = space(Path::new("/")).await.unwrap();
        assert!(root.total_bytes > 0 && root.free_bytes <= root.total_bytes);
        assert!(root.free_inodes <= root.total_inodes);
        assert!(space(Path::new("/no/such/folder")).await.is_err());
    }
}
