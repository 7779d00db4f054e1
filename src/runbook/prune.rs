//! `backup prune`: keeps the newest backups that verify (never fewer than one)
//! and deletes the rest, saying why for each; without `--yes` it only says so.

use super::Confirmation;
use super::backup::{self, Found};
use super::manifest::{Manifest, Trust};
use super::signals::Signals;
use super::skeleton::{self, Locking, Proposal, Runbook};
use crate::error::Error;
use crate::exit_code;
use crate::stdout::outln;
use futures::FutureExt;
use std::path::PathBuf;

/// What `backup prune` is asked.
#[derive(Clone, Debug)]
pub struct PruneOptions {
    /// How many backups that verify to keep (at least one).
    pub keep: usize,
    pub dir: PathBuf,
    /// Delete (else only say what would be deleted).
    pub yes: bool,
}

/// `--yes` is the confirmation: without it, prune is a dry run.
pub async fn prune(args: &PruneOptions) -> Result<u8, Error> {
    let confirmation = Confirmation {
        dry_run: !args.yes,
        yes: args.yes,
    };
    skeleton::run(&Prune { args }, &confirmation, Locking::Take).await
}

struct Prune<'a> {
    args: &'a PruneOptions,
}

/// The backups to delete and why; `kept` of them verified and stay.
struct Doomed {
    kept: usize,
    doomed: Vec<(Found, String)>,
}

/// What was deleted before the end or a signal.
struct Deleted {
    deleted: usize,
    left: usize,
    interrupted: Option<&'static str>,
}

impl Runbook for Prune<'_> {
    type Plan<'a>
        = Doomed
    where
        Self: 'a;
    type Done = Deleted;

    /// A backup that does not verify never counts as kept, however new.
    async fn plan(&self) -> Result<Doomed, Error> {
        let keep = self.args.keep.max(1);
        let mut kept = 0;
        let mut doomed = Vec::new();
        for backup in backup::find(&self.args.dir)? {
            if kept == keep {
                doomed.push((backup, format!("older than the {keep} kept")));
                continue;
            }
            match Manifest::verify(&backup.path, Trust::AlsoForeign) {
                Ok(_) => {
                    kept += 1;
                    outln!(
                        "keep    {} (verified intact; newest {kept} of {keep})",
                        backup.path.display()
                    );
                }
                Err(invalid) => doomed.push((backup, format!("does not verify: {invalid}"))),
            }
        }
        Ok(Doomed { kept, doomed })
    }

    fn propose(&self, plan: &Doomed) -> Proposal {
        if plan.kept == 0 {
            outln!(
                "no backup in {} verifies: nothing deleted",
                self.args.dir.display()
            );
            return Proposal::Nothing(exit_code::OK);
        }
        if plan.doomed.is_empty() {
            return Proposal::Nothing(exit_code::OK);
        }
        Proposal::Proceed
    }

    fn dry_run(&self, plan: &Doomed) {
        for (backup, why) in &plan.doomed {
            outln!("would delete {} ({why})", backup.path.display());
        }
        outln!("dry run: nothing deleted; add --yes to delete");
    }

    async fn act(&self, plan: Doomed, signals: &mut Signals) -> Result<Deleted, Error> {
        let total = plan.doomed.len();
        for (deleted, (backup, why)) in plan.doomed.iter().enumerate() {
            if let Some(signal) = signals.received().now_or_never() {
                return Ok(Deleted {
                    deleted,
                    left: total - deleted,
                    interrupted: Some(signal),
                });
            }
            std::fs::remove_dir_all(&backup.path)
                .map_err(|e| Error::Runbook(format!("deleting {}: {e}", backup.path.display())))?;
            outln!("deleted {} ({why})", backup.path.display());
        }
        Ok(Deleted {
            deleted: total,
            left: 0,
            interrupted: None,
        })
    }

    fn report(&self, done: Deleted) -> u8 {
        match done.interrupted {
            None => exit_code::OK,
            Some(signal) => {
                eprintln!(
                    "helpdesk-doctor: interrupted by {signal}: {} backups deleted, {} left to delete",
                    done.deleted, done.left
                );
                exit_code::INTERRUPTED
            }
        }
    }
}
