//! The exit codes a pipeline can trust: named, documented, distinct.

/// Everything checked is healthy (warnings allowed unless `--strict`); a runbook succeeded.
pub const OK: u8 = 0;
/// At least one check failed (or warned, under `--strict`).
pub const CHECK_FAILED: u8 = 1;
/// Usage error, or an invalid config or check file.
pub const USAGE: u8 = 2;
/// The doctor itself could not run (output not writable, engine unreachable for a runbook, …).
pub const CANNOT_RUN: u8 = 3;
/// No check failed but some have no verdict (cut off by `--deadline`): Nagios'
/// UNKNOWN, the same code as "could not run" — the doctor could not tell.
pub const UNKNOWN: u8 = CANNOT_RUN;
/// `wait` gave up: the timeout expired before every check passed.
pub const WAIT_TIMEOUT: u8 = 4;
/// A runbook was refused before it changed anything: not confirmed, no TTY without `--yes`, lock held.
pub const REFUSED: u8 = 5;
/// A runbook started and failed (what was changed is reported).
pub const RUNBOOK_FAILED: u8 = 6;
/// A runbook was interrupted (SIGINT or SIGTERM): what it had begun was rolled
/// back and what it had stopped was started again (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;
