//! Files a backup is made of: private (0700 directories, 0600 files, whatever the
//! umask), written under a temporary name, fsynced, then renamed into place.

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Creates `path` (not already existing) with mode 0700; its parents as needed.
pub fn private_dir(path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::DirBuilder::new().mode(0o700).create(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
}

/// A file being written as `<name>.partial`; `commit` fsyncs and renames it.
pub struct PendingFile {
    file: File,
    partial: PathBuf,
    path: PathBuf,
}

impl PendingFile {
    pub fn create(path: &Path) -> io::Result<PendingFile> {
        let partial = path.with_file_name(format!("{}.partial", file_name(path)));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)?;
        fs::set_permissions(&partial, fs::Permissions::from_mode(0o600))?;
        Ok(PendingFile {
            file,
            partial,
            path: path.to_path_buf(),
        })
    }

    pub fn commit(self) -> io::Result<()> {
        self.file.sync_all()?;
        fs::rename(&self.partial, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes `text` to `path` atomically (temporary name, fsync, rename), mode 0600.
pub fn write_atomically(path: &Path, text: &[u8]) -> io::Result<()> {
    let mut pending = PendingFile::create(path)?;
    pending.write_all(text)?;
    pending.commit()
}

/// Counts and hashes what passes through to the inner writer.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the byte count and the hex sha256 of everything written.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A gzip file being written: compressed, then counted and hashed on its way to
/// a `PendingFile`. `finish` commits it; dropping it unfinished leaves only `.partial`.
pub struct CompressedFile {
    gzip: GzEncoder<HashingWriter<BufWriter<PendingFile>>>,
    path: PathBuf,
}

impl CompressedFile {
    pub fn create(path: &Path) -> Result<CompressedFile, String> {
        let pending =
            PendingFile::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
        let writer = HashingWriter::new(BufWriter::with_capacity(1 << 20, pending));
        Ok(CompressedFile {
            gzip: GzEncoder::new(writer, Compression::fast()),
            path: path.to_path_buf(),
        })
    }

    /// Commits the file; returns its size and hex sha256.
    pub fn finish(self) -> Result<(u64, String), String> {
        let path = self.path.display().to_string();
        let (buffered, size, sha256) = self
            .gzip
            .finish()
            .map_err(|e| format!("compressing {path}: {e}"))?
            .finish();
        let pending = buffered
            .into_inner()
            .map_err(|e| format!("writing {path}: {}", e.error()))?;
        pending
            .commit()
            .map_err(|e| format!("committing {path}: {e}"))?;
        Ok((size, sha256))
    }

    /// Removes what was written of a file that will not be finished.
    pub fn abandon(self) {
        let partial = self
            .path
            .with_file_name(format!("{}.partial", file_name(&self.path)));
        drop(self.gzip);
        fs::remove_file(partial).ok();
    }
}

impl Write for CompressedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.gzip.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.gzip.flush()
    }
}

/// The size and hex sha256 of a file, read in constant memory.
pub fn digest(path: &Path) -> io::Result<(u64, String)> {
    let mut hashing = HashingWriter::new(io::sink());
    io::copy(&mut File::open(path)?, &mut hashing)?;
    let (_, bytes, sha) = hashing.finish();
    Ok((bytes, sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_private_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let backup = dir.path().join("b");
        private_dir(&backup).unwrap();
        let file = backup.join("x");
        write_atomically(&file, b"hello").unwrap();
        assert_eq!(
            fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(!backup.join("x.partial").exists());
        let (size, sha) = digest(&file).unwrap();
        assert_eq!(size, 5);
        assert_eq!(
            sha,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }
}
