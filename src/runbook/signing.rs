//! The key that makes backups authentic: 32 random bytes kept 0600 in the
//! doctor's state folder (created on the first backup); manifests carry an
//! HMAC-SHA256 made with it, so an edited or foreign backup is recognised.

use crate::state;
use hmac::{KeyInit, Mac};
use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;
const KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct KeyError {
    path: PathBuf,
    source: io::Error,
}

pub struct Key([u8; KEY_BYTES]);

fn path() -> PathBuf {
    state::state_dir().join("backup-signing.key")
}

impl Key {
    /// The key, if this doctor ever made a backup.
    pub fn load() -> Result<Option<Key>, KeyError> {
        let path = path();
        let error = |source| KeyError {
            path: path.clone(),
            source,
        };
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(error(e)),
        };
        let meta = file.metadata().map_err(error)?;
        if !meta.is_file() || meta.mode() & 0o077 != 0 {
            return Err(error(io::Error::other(
                "must be a regular file readable only by its owner (mode 0600)",
            )));
        }
        let mut key = [0u8; KEY_BYTES];
        file.read_exact(&mut key).map_err(error)?;
        Ok(Some(Key(key)))
    }

    /// The key, created (O_EXCL, 0600, in a private folder) if there is none yet.
    pub fn load_or_create() -> Result<Key, KeyError> {
        if let Some(key) = Key::load()? {
            return Ok(key);
        }
        let path = path();
        let error = |source| KeyError {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            state::private_dir(dir).map_err(error)?;
        }
        let key: [u8; KEY_BYTES] = crate::files::random_bytes().map_err(error)?;
        let created = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path);
        match created {
            Ok(mut file) => {
                file.write_all(&key)
                    .and_then(|_| file.sync_all())
                    .map_err(error)?;
                Ok(Key(key))
            }
            // Another doctor created it meanwhile: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Key::load()?.ok_or_else(|| error(e))
            }
            Err(e) => Err(error(e)),
        }
    }

    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.mac(message).finalize().into_bytes())
    }

    /// Whether `tag` is this key's signature of `message` (compared in constant time).
    pub fn verify(&self, message: &[u8], tag: &str) -> bool {
        match hex::decode(tag) {
            Ok(tag) => self.mac(message).verify_slice(&tag).is_ok(),
            Err(_) => false,
        }
    }

    fn mac(&self, message: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(message);
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_checks_only_the_signed_bytes() {
        let key = Key([7; KEY_BYTES]);
        let tag = key.sign(b"manifest");
        assert!(key.verify(b"manifest", &tag));
        assert!(!key.verify(b"manifest!", &tag));
        assert!(!Key([8; KEY_BYTES]).verify(b"manifest", &tag));
        assert!(!key.verify(b"manifest", "not hex"));
    }
}
