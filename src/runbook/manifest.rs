//! `manifest.json`, written last: what a backup holds, signed with this
//! doctor's key, and the check that a backup is complete, intact, authentic
//! and made only of pg_dump output that a restore may trust.

use super::dump_check::{DumpCheck, Rejected};
use super::pg_tool::Via;
use super::signing::{self, Key};
use crate::files::{self, HashingReader, open_regular};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub const FILE: &str = "manifest.json";
pub const PREFIX: &str = "emergency-backup-";
/// A manifest larger than this is not ours.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Without a recorded size, a dump may decompress to at most this many times its
/// compressed size (gzip's own limit is about 1032).
const MAX_RATIO: u64 = 1100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Complete,
    Failed,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Status::Complete => "complete",
            Status::Failed => "failed",
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub tool_version: String,
    pub created_at: String,
    pub via: Via,
    /// `complete` when every database was dumped.
    pub status: Status,
    pub databases: Vec<DatabaseEntry>,
    #[serde(default)]
    pub volumes: Vec<FileEntry>,
    /// HMAC-SHA256 of the manifest without this field, with the doctor's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseEntry {
    pub service: String,
    pub database: String,
    pub user: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileEntry>,
    #[serde(default)]
    pub server_version_num: i64,
    /// Row counts taken in pg_dump's own snapshot.
    #[serde(default)]
    pub tables: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// The size once decompressed (bounds what a verify or restore decompresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_size: Option<u64>,
}

impl FileEntry {
    /// The most a verify or restore will decompress from this file.
    pub fn max_raw_size(&self) -> u64 {
        self.raw_size
            .unwrap_or_else(|| self.size.saturating_mul(MAX_RATIO))
    }
}

/// Why a backup cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("{0}: no such folder")]
    NotFound(PathBuf),
    #[error("{0}: no manifest.json: not a backup (incomplete or interrupted)")]
    NoManifest(PathBuf),
    #[error("{path}: broken manifest: {reason}")]
    BrokenManifest { path: PathBuf, reason: String },
    #[error(
        "{0}: not signed by this doctor's key (made elsewhere, or edited): refused; \
         pass --trust-foreign-backup to accept it (it is still checked)"
    )]
    Foreign(PathBuf),
    #[error("{0}: the backup is marked failed: {1}")]
    Failed(PathBuf, String),
    #[error("{path}: {name}: {reason}")]
    BadFile {
        path: PathBuf,
        name: String,
        reason: String,
    },
    #[error("{path}: {name} is {actual} bytes, the manifest says {expected} (truncated or grown)")]
    WrongSize {
        path: PathBuf,
        name: String,
        expected: u64,
        actual: u64,
    },
    #[error("{path}: {name} does not match its sha256 (corrupted)")]
    WrongDigest { path: PathBuf, name: String },
    #[error("{path}: {name} is not a dump a restore may run: {rejected}")]
    NotADump {
        path: PathBuf,
        name: String,
        rejected: Rejected,
    },
    #[error("the signing key: {0}")]
    Key(#[from] signing::KeyError),
}

/// Whether a backup must carry this doctor's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    OwnOnly,
    AlsoForeign,
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Manifest, Invalid> {
        let path = dir.join(FILE);
        let mut file = open_regular(&path).map_err(|_| Invalid::NoManifest(dir.to_path_buf()))?;
        let mut text = String::new();
        (&mut file)
            .take(MAX_MANIFEST_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| broken(&path, e.to_string()))?;
        if text.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(broken(
                &path,
                format!("larger than {MAX_MANIFEST_BYTES} bytes"),
            ));
        }
        serde_json::from_str(&text).map_err(|e| broken(&path, e.to_string()))
    }

    /// Signs the manifest with this doctor's key (created on first use) and
    /// writes it atomically, mode 0600.
    pub fn write(mut self, dir: &Path) -> Result<Manifest, Invalid> {
        let key = Key::load_or_create()?;
        self.hmac = None;
        self.hmac = Some(key.sign(&self.canonical()));
        let text = serde_json::to_vec_pretty(&self).expect("a manifest serialises");
        files::write_atomically(&dir.join(FILE), &text, 0o600)
            .map_err(|e| broken(&dir.join(FILE), format!("writing: {e}")))?;
        Ok(self)
    }

    /// The bytes the signature covers: the manifest without its signature.
    fn canonical(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.hmac = None;
        serde_json::to_vec(&unsigned).expect("a manifest serialises")
    }

    pub fn is_signed_by_us(&self) -> Result<bool, Invalid> {
        let Some(tag) = &self.hmac else {
            return Ok(false);
        };
        Ok(match Key::load()? {
            Some(key) => key.verify(&self.canonical(), tag),
            None => false,
        })
    }

    /// Everything a restore will trust, checked before anything changes: the
    /// signature, a complete backup of at least one database with a file for
    /// each, regular files inside the folder with their size and sha256, and
    /// dumps that are pg_dump output (decompressed within their recorded size).
    pub fn verify(dir: &Path, trust: Trust) -> Result<Manifest, Invalid> {
        Manifest::verify_to(dir, trust, Depth::Contents)
    }

    /// What can be checked without reading the dumps: the signature, a
    /// complete backup, and each file the manifest names present, regular and
    /// of its recorded size. Cheap enough for every `diagnose`; a file
    /// corrupted in place at its own size is found only by `verify`.
    pub fn verify_sizes(dir: &Path) -> Result<Manifest, Invalid> {
        Manifest::verify_to(dir, Trust::OwnOnly, Depth::Sizes)
    }

    fn verify_to(dir: &Path, trust: Trust, depth: Depth) -> Result<Manifest, Invalid> {
        if !dir.is_dir() {
            return Err(Invalid::NotFound(dir.to_path_buf()));
        }
        let manifest = Manifest::read(dir)?;
        if trust == Trust::OwnOnly && !manifest.is_signed_by_us()? {
            return Err(Invalid::Foreign(dir.to_path_buf()));
        }
        if manifest.status != Status::Complete {
            let failed: Vec<String> = manifest
                .databases
                .iter()
                .filter(|d| d.status != Status::Complete)
                .map(|d| format!("{}: {}", d.database, d.error.as_deref().unwrap_or("failed")))
                .collect();
            return Err(Invalid::Failed(dir.to_path_buf(), failed.join("; ")));
        }
        if manifest.databases.is_empty() {
            return Err(broken(&dir.join(FILE), "it lists no database".into()));
        }
        for database in &manifest.databases {
            let file = match (&database.file, database.status) {
                (Some(file), Status::Complete) => file,
                _ => {
                    return Err(broken(
                        &dir.join(FILE),
                        format!(
                            "{} is listed without a complete dump file",
                            database.database
                        ),
                    ));
                }
            };
            check_file(dir, file, Content::Dump, depth)?;
        }
        for volume in &manifest.volumes {
            check_file(dir, volume, Content::Archive, depth)?;
        }
        Ok(manifest)
    }
}

/// How far a file is checked: its size only, or also its digest and content.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    Sizes,
    Contents,
}

fn broken(path: &Path, reason: String) -> Invalid {
    Invalid::BrokenManifest {
        path: path.to_path_buf(),
        reason,
    }
}

/// Opens a file the manifest names, inside `dir` only.
pub fn open_entry(dir: &Path, entry: &FileEntry) -> Result<File, Invalid> {
    let name = &entry.name;
    let bad = |reason: String| Invalid::BadFile {
        path: dir.to_path_buf(),
        name: name.clone(),
        reason,
    };
    if name.is_empty() || name.contains('/') || name.starts_with('.') || name == FILE {
        return Err(bad("an unsafe file name".into()));
    }
    open_regular(&dir.join(name)).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) => bad("missing".into()),
        Some(libc::ELOOP) => bad("a symlink: only regular files are trusted".into()),
        _ => bad(format!("{e}: only regular files are trusted")),
    })
}

enum Content {
    Dump,
    Archive,
}

/// Size, then (at `Depth::Contents`) sha256 and, for a dump, its validation,
/// in one pass over the file.
fn check_file(
    dir: &Path,
    entry: &FileEntry,
    content: Content,
    depth: Depth,
) -> Result<(), Invalid> {
    let file = open_entry(dir, entry)?;
    let path = dir.to_path_buf();
    let name = entry.name.clone();
    let actual = file.metadata().map(|m| m.len()).unwrap_or(0);
    if actual != entry.size {
        return Err(Invalid::WrongSize {
            path,
            name,
            expected: entry.size,
            actual,
        });
    }
    if depth == Depth::Sizes {
        return Ok(());
    }
    let mut hashed = HashingReader::new(file.take(entry.size));
    let dump = match content {
        Content::Dump => Some(validate_dump(&mut hashed, entry.max_raw_size())),
        Content::Archive => {
            io::copy(&mut hashed, &mut io::sink()).map_err(|e| Invalid::BadFile {
                path: path.clone(),
                name: name.clone(),
                reason: e.to_string(),
            })?;
            None
        }
    };
    // Whatever the decompressor left unread still counts in the digest.
    io::copy(&mut hashed, &mut io::sink()).ok();
    if hashed.finish() != entry.sha256 {
        return Err(Invalid::WrongDigest { path, name });
    }
    match dump {
        Some(Err(rejected)) => Err(Invalid::NotADump {
            path,
            name,
            rejected,
        }),
        _ => Ok(()),
    }
}

/// Decompresses `reader` through the dump check.
pub fn validate_dump(reader: impl Read, max_raw: u64) -> Result<(), Rejected> {
    let mut gzip = GzDecoder::new(reader);
    let mut check = DumpCheck::new(max_raw);
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = gzip.read(&mut buffer).map_err(|e| Rejected {
            line: 0,
            reason: format!("not a readable gzip file: {e}"),
        })?;
        if n == 0 {
            return check.finish();
        }
        check.feed(&buffer[..n])?;
    }
}
