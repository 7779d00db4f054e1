//! Integration tests against the real bundled stack (tests/stack/up.sh brings it up).
//! Tests that change the stack take the stack lock exclusively and put it back.

mod support;

mod backup_restore;
mod cache_flush;
mod canary;
mod catalog_errors;
mod credentials;
mod diagnose_faults;
mod diagnose_healthy;
mod discovery;
mod safety;
mod stack;
mod tokens_purge;
mod wait;
