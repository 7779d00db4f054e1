//! The last restore drill's result, kept in the state folder
//! (`last-drill.json`, 0600) so that `diagnose` can tell it (`backup.drill`).

use crate::state;
use serde::{Deserialize, Serialize};

const FILE: &str = "last-drill.json";
/// The record is small; a larger file is not ours.
const MAX_BYTES: u64 = 64 << 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DrillRecord {
    /// When the drill ended (RFC 3339).
    pub at: String,
    /// The backup folder drilled.
    pub backup: String,
    pub passed: bool,
    pub databases: Vec<DatabaseDrill>,
}

/// One database's drill.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DatabaseDrill {
    pub database: String,
    /// Why it failed; `None` when it restored with the manifest's row counts.
    pub error: Option<String>,
}

impl DrillRecord {
    pub fn new(backup: &std::path::Path, databases: Vec<DatabaseDrill>) -> DrillRecord {
        DrillRecord {
            at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            backup: backup.display().to_string(),
            passed: databases.iter().all(|d| d.error.is_none()),
            databases,
        }
    }

    pub fn save(&self) -> std::io::Result<()> {
        state::save_record(FILE, self)
    }

    /// The last drill's record, if a drill ever ended here.
    pub fn load() -> Option<DrillRecord> {
        state::load_record(FILE, MAX_BYTES)
    }
}
