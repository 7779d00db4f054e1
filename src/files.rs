//! Files written safely: private (0700 folders, 0600 files, whatever the umask),
//! written to a unique temporary file (O_EXCL, in the target's folder), fsynced,
//! then renamed into place; a file that is not finished disappears with it.

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// Creates `path` (not already existing) with mode 0700; its missing parents
/// as needed, private too.
pub fn private_dir(path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    fs::DirBuilder::new().mode(0o700).create(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
}

/// A file being written under a unique temporary name beside `path` (mode
/// 0600); `commit` fsyncs and renames it, dropping it removes it.
pub struct PendingFile {
    file: NamedTempFile,
    path: PathBuf,
}

impl PendingFile {
    pub fn create(path: &Path) -> io::Result<PendingFile> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let file = tempfile::Builder::new()
            .prefix(&format!(".{}.", file_name(path)))
            .suffix(".tmp")
            .tempfile_in(dir)?;
        Ok(PendingFile {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Sets the final file's mode (0600 unless changed).
    pub fn set_mode(&self, mode: u32) -> io::Result<()> {
        self.file
            .as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
    }

    pub fn commit(self) -> io::Result<()> {
        self.file.as_file().sync_all()?;
        self.file.persist(&self.path).map_err(|e| e.error)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
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

/// Writes `bytes` to `path` atomically with `mode`: a unique temporary file,
/// fsync, rename. On failure `path` is untouched and nothing is left behind.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut pending = PendingFile::create(path)?;
    pending.set_mode(mode)?;
    pending.write_all(bytes)?;
    pending.commit()
}

/// At most `max` bytes of the regular file `path`, as text (never through a
/// symlink, never blocking on a FIFO).
pub fn read_bounded(path: &Path, max: u64) -> io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    open_regular(path)?.take(max).read_to_string(&mut text)?;
    Ok(text)
}

/// The text of a file the user named (`--config`, a check file): a regular
/// file (a symlink to one is followed), its type checked before it is opened
/// — a FIFO or a device is never opened — and again once open, opened
/// non-blocking so one swapped in between cannot hang; at most `max` bytes.
pub fn read_named(path: &Path, max: u64) -> io::Result<String> {
    use std::io::Read;
    let regular = |meta: &fs::Metadata| {
        if !meta.is_file() {
            return Err(io::Error::other(format!(
                "not a regular file (a {})",
                kind_of(meta.file_type())
            )));
        }
        if meta.len() > max {
            return Err(io::Error::other(format!("larger than {max} bytes")));
        }
        Ok(())
    };
    regular(&fs::metadata(path)?)?;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    regular(&file.metadata()?)?;
    let mut text = String::new();
    file.take(max).read_to_string(&mut text)?;
    Ok(text)
}

/// What a file that is not a regular one is, for an error message.
fn kind_of(kind: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "folder"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_socket() {
        "socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "device"
    } else {
        "special file"
    }
}

/// `20261125_031502`: a UTC time as the guide's backup folders name it.
pub fn utc_stamp(at: std::time::SystemTime) -> String {
    jiff::Timestamp::try_from(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y%m%d_%H%M%S")
        .to_string()
}

/// `bytes` random bytes from the operating system, as hex digits.
pub fn random_hex(bytes: usize) -> io::Result<String> {
    let mut random = vec![0u8; bytes];
    getrandom::fill(&mut random).map_err(io::Error::other)?;
    Ok(hex::encode(random))
}

/// `N` random bytes from the operating system (getrandom(2)).
pub fn random_bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(io::Error::other)?;
    Ok(bytes)
}

/// Opens `path` for reading only if it is a regular file (never through a
/// symlink, never blocking on a FIFO or a device).
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
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

/// Hashes what is read through it.
pub struct HashingReader<R> {
    inner: R,
    hashing: HashingWriter<io::Sink>,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hashing: HashingWriter::new(io::sink()),
        }
    }

    /// The hex sha256 of everything read.
    pub fn finish(self) -> String {
        self.hashing.finish().2
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        Write::write_all(&mut self.hashing, &buf[..n])?;
        Ok(n)
    }
}

/// A gzip file being written: counted, compressed, then counted and hashed on its
/// way to a `PendingFile`. `finish` commits it; dropping it removes it.
pub struct CompressedFile {
    gzip: GzEncoder<HashingWriter<BufWriter<PendingFile>>>,
    path: PathBuf,
    raw_bytes: u64,
}

/// What a finished compressed file holds.
pub struct Compressed {
    /// Compressed size on disk.
    pub size: u64,
    pub sha256: String,
    /// Size once decompressed.
    pub raw_size: u64,
}

impl CompressedFile {
    pub fn create(path: &Path) -> Result<CompressedFile, WriteError> {
        let pending = PendingFile::create(path).map_err(WriteError::at("creating", path))?;
        let writer = HashingWriter::new(BufWriter::with_capacity(1 << 20, pending));
        Ok(CompressedFile {
            gzip: GzEncoder::new(writer, Compression::fast()),
            path: path.to_path_buf(),
            raw_bytes: 0,
        })
    }

    /// Commits the file.
    pub fn finish(self) -> Result<Compressed, WriteError> {
        let path = self.path.as_path();
        let (buffered, size, sha256) = self
            .gzip
            .finish()
            .map_err(WriteError::at("compressing", path))?
            .finish();
        let pending = buffered
            .into_inner()
            .map_err(|e| WriteError::at("writing", path)(e.into_error()))?;
        pending
            .commit()
            .map_err(WriteError::at("committing", path))?;
        Ok(Compressed {
            size,
            sha256,
            raw_size: self.raw_bytes,
        })
    }
}

/// A step of writing a file that failed, and the file.
#[derive(Debug, thiserror::Error)]
#[error("{step} {}: {source}", path.display())]
pub struct WriteError {
    step: &'static str,
    path: PathBuf,
    #[source]
    source: io::Error,
}

impl WriteError {
    fn at(step: &'static str, path: &Path) -> impl FnOnce(io::Error) -> WriteError {
        let path = path.to_path_buf();
        move |source| WriteError { step, path, source }
    }
}

impl Write for CompressedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.gzip.write(buf)?;
        self.raw_bytes += written as u64;
        Ok(written)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.gzip.flush()
    }
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
        write_atomically(&file, b"hello", 0o600).unwrap();
        assert_eq!(
            fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::read_dir(&backup).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn an_unfinished_file_leaves_nothing_and_a_symlink_target_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = CompressedFile::create(&dir.path().join("x.gz")).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let precious = dir.path().join("precious");
        fs::write(&precious, "keep").unwrap();
        let report = dir.path().join("report.json");
        std::os::unix::fs::symlink(&precious, &report).unwrap();
        write_atomically(&report, b"{}", 0o644).unwrap();
        assert_eq!(fs::read_to_string(&precious).unwrap(), "keep");
        assert_eq!(fs::read_to_string(&report).unwrap(), "{}");
    }
}
