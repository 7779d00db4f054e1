//! `manifest.json`, written last: what a backup holds, and how to check it is
//! complete and intact. A directory without one is not a backup.

use super::files;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE: &str = "manifest.json";
pub const PREFIX: &str = "emergency-backup-";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub tool_version: String,
    pub created_at: String,
    pub via: String,
    /// `complete` when every database was dumped, else `failed`.
    pub status: String,
    pub databases: Vec<DatabaseEntry>,
    #[serde(default)]
    pub volumes: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseEntry {
    pub service: String,
    pub database: String,
    pub user: String,
    /// `complete` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileEntry>,
    #[serde(default)]
    pub server_version_num: i64,
    #[serde(default)]
    pub tables: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// Why a backup cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("{0}: no manifest.json: not a backup (incomplete or interrupted)")]
    NoManifest(PathBuf),
    #[error("{path}: broken manifest: {reason}")]
    BrokenManifest { path: PathBuf, reason: String },
    #[error("{0}: the backup is marked failed: {1}")]
    Failed(PathBuf, String),
    #[error("{path}: missing file {name}")]
    MissingFile { path: PathBuf, name: String },
    #[error("{path}: {name} is {actual} bytes, the manifest says {expected} (truncated or grown)")]
    WrongSize {
        path: PathBuf,
        name: String,
        expected: u64,
        actual: u64,
    },
    #[error("{path}: {name} does not match its sha256 (corrupted)")]
    WrongDigest { path: PathBuf, name: String },
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Manifest, Invalid> {
        let path = dir.join(FILE);
        let text =
            std::fs::read_to_string(&path).map_err(|_| Invalid::NoManifest(dir.to_path_buf()))?;
        serde_json::from_str(&text).map_err(|e| Invalid::BrokenManifest {
            path,
            reason: e.to_string(),
        })
    }

    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).expect("a manifest serialises");
        files::write_atomically(&dir.join(FILE), &text)
    }

    /// Every file present with its size and sha256; the backup complete.
    pub fn verify(dir: &Path) -> Result<Manifest, Invalid> {
        let manifest = Manifest::read(dir)?;
        if manifest.status != "complete" {
            let failed: Vec<String> = manifest
                .databases
                .iter()
                .filter(|d| d.status != "complete")
                .map(|d| format!("{}: {}", d.database, d.error.as_deref().unwrap_or("failed")))
                .collect();
            return Err(Invalid::Failed(dir.to_path_buf(), failed.join("; ")));
        }
        let entries = manifest
            .databases
            .iter()
            .filter_map(|d| d.file.as_ref())
            .chain(&manifest.volumes);
        for entry in entries {
            check_file(dir, entry)?;
        }
        Ok(manifest)
    }
}

fn check_file(dir: &Path, entry: &FileEntry) -> Result<(), Invalid> {
    let path = dir.to_path_buf();
    let name = entry.name.clone();
    if name.contains('/') || name.starts_with('.') {
        return Err(Invalid::BrokenManifest {
            path: dir.join(FILE),
            reason: format!("unsafe file name {name:?}"),
        });
    }
    let (size, sha) = files::digest(&dir.join(&name)).map_err(|_| Invalid::MissingFile {
        path: path.clone(),
        name: name.clone(),
    })?;
    if size != entry.size {
        return Err(Invalid::WrongSize {
            path,
            name,
            expected: entry.size,
            actual: size,
        });
    }
    if sha != entry.sha256 {
        return Err(Invalid::WrongDigest { path, name });
    }
    Ok(())
}
