//! Integration tests against the real bundled stack (tests/stack/up.sh brings it up).
//! Tests that change the stack take the stack lock exclusively and put it back.
//! `deployments` runs on every fixture (`fixture`); `prod_shaped` only on the
//! production-shaped one, `foreign` only on the foreign one (tests/run.sh runs
//! each pass).

mod fixture;
mod hints;
mod runbook;
mod support;

mod advice;
mod backup_restore;
mod cache_flush;
mod canary;
mod catalog_errors;
mod cli;
mod conventions;
mod credentials;
mod deployments;
mod diagnose_faults;
mod diagnose_healthy;
mod discovery;
mod dump_check;
mod engines;
mod fault_catalog;
mod fix;
mod foreign;
mod habits;
mod hardening;
mod history;
mod host_faults;
mod hostile;
mod https;
mod incidents;
mod layout;
mod log_levels;
mod logs;
mod masking;
mod other_project;
mod package;
mod prod_shaped;
mod reports;
mod restore_session;
mod runtimes;
mod safety;
mod serve;
mod ssh;
mod stack;
mod statuses;
mod swarm;
mod terminal;
mod tokens_purge;
mod twonode;
mod wait;
mod watch;
