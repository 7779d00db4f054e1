//! Integration tests against the real bundled stack (tests/stack/up.sh brings it up).
//! Tests that change the stack take the stack lock exclusively and put it back.
//! `deployments` runs on either fixture (`fixture`); `prod_shaped` only on the
//! production-shaped one (tests/run.sh runs both passes).

mod fixture;
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
mod fix;
mod habits;
mod hardening;
mod history;
mod hostile;
mod https;
mod logs;
mod masking;
mod other_project;
mod package;
mod prod_shaped;
mod reports;
mod restore_session;
mod safety;
mod stack;
mod statuses;
mod swarm;
mod terminal;
mod tokens_purge;
mod wait;
mod watch;
