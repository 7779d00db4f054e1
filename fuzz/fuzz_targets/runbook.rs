//! The doctor's dump check and its PostgreSQL reference, compiled in from src/.

#[allow(dead_code)]
#[path = "../../src/runbook/dump_check.rs"]
pub mod dump_check;
