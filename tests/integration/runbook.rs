//! The doctor's dump check and its PostgreSQL reference (`oracle`), compiled in
//! for the differential test on the dumps the real stack produces.

#[allow(dead_code)]
#[path = "../../src/runbook/dump_check.rs"]
pub mod dump_check;
