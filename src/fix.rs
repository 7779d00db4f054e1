//! `helpdesk-doctor fix [CHECK-ID|SERVICE …]`: runs the checks, plans the safe
//! repairs the catalog declares for what failed (`fix = { action = … }`),
//! ordered by root cause — data containers before the applications that need
//! them, then the rest —, prints the plan, asks (or `--yes`), takes the runbook
//! lock, repairs, then runs the checks again and shows before → after. What has
//! no safe repair gets its hint; nothing destructive ever comes from here.

mod act;

use crate::catalog::{Check, glob_match, service_of};
use crate::check::{CheckResult, Status};
use crate::deployment::Context;
use crate::error::Error;
use crate::exit_code;
use crate::fix_record::{Pending, Record};
use crate::plan::Plan;
use crate::probe::Probe;
use crate::repair::Repair;
use crate::runbook::signals::Signals;
use crate::runbook::skeleton::{Locking, Proposal, Runbook};
use crate::runbook::{self, Confirmation};
use crate::stdout::outln;
use crate::terminal_text::clean;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HEALTHY_TIMEOUT: Duration = Duration::from_secs(120);

/// What `fix` is asked.
pub struct FixOptions {
    /// Check ids (globs) or service names; empty: every failure.
    pub targets: Vec<String>,
    pub confirmation: Confirmation,
}

/// One planned repair: the failing check and what will be done about it.
struct Step<'a> {
    check: &'a Check,
    result: CheckResult,
    repair: &'a Repair,
}

pub async fn run(
    options: &FixOptions,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
) -> Result<u8, Error> {
    let diagnose = Plan::load(config, project, checks_dirs, &Default::default()).await?;
    if diagnose.profile.runtime.orchestrated() {
        return Err(Error::Refused(format!(
            "fix does not act on Swarm stacks yet (the orchestrator restarts tasks itself): \
             see docker stack ps {} and docker service update --force SERVICE",
            diagnose.profile.compose_project
        )));
    }
    let fix = Fix {
        options,
        diagnose,
        reload: Reload {
            config,
            project,
            checks_dirs,
        },
    };
    runbook::skeleton::run(&fix, &options.confirmation, Locking::Take).await
}

struct Fix<'a> {
    options: &'a FixOptions,
    /// The checks, run before to plan and after to show what the repairs did.
    diagnose: Plan,
    reload: Reload<'a>,
}

/// Where the checks are loaded from again after the repairs.
struct Reload<'a> {
    config: Option<&'a Path>,
    project: Option<&'a str>,
    checks_dirs: &'a [PathBuf],
}

/// The repairs to run, and the failures they leave to their cause or to you.
struct Repairs<'a> {
    steps: Vec<Step<'a>>,
    by_hand: Vec<CheckResult>,
}

/// What the repairs did: the checks after them, or where a signal stopped them.
struct Repaired {
    /// The results the repairs were planned from.
    before: Vec<CheckResult>,
    failed: usize,
    after: Result<Vec<CheckResult>, Interrupted>,
}

/// A signal, and how many repairs it left unrun (still recorded).
struct Interrupted {
    signal: &'static str,
    repairs_left: usize,
}

impl Runbook for Fix<'_> {
    type Plan<'a>
        = Repairs<'a>
    where
        Self: 'a;
    type Done = Repaired;

    async fn plan(&self) -> Result<Repairs<'_>, Error> {
        let (before, _) = self.diagnose.run().await;
        let (steps, by_hand) = steps(&self.diagnose.checks, before, &self.options.targets);
        Ok(Repairs { steps, by_hand })
    }

    fn propose(&self, plan: &Repairs<'_>) -> Proposal {
        print_plan(&plan.steps, &plan.by_hand);
        if !plan.steps.is_empty() {
            return Proposal::Ask("Run these repairs now?".into());
        }
        if !self.options.confirmation.dry_run && Record::left_behind().is_some() {
            // What an interrupted fix left undone no longer fails: nothing to finish.
            Record::clear();
        }
        Proposal::Nothing(if plan.by_hand.is_empty() {
            exit_code::OK
        } else {
            exit_code::CHECK_FAILED
        })
    }

    async fn act<'a>(
        &'a self,
        plan: Repairs<'a>,
        signals: &mut Signals,
    ) -> Result<Repaired, Error> {
        let steps = plan.steps;
        let profile = &self.diagnose.profile;
        let ctx = Context::new(profile.clone());
        let confirmation = &self.options.confirmation;
        let mut failed = 0;
        for (number, step) in steps.iter().enumerate() {
            record_left(&steps[number..])?;
            let started = Instant::now();
            let repaired = act::repair(&ctx, profile, step, confirmation);
            match signals.unless_interrupted(repaired).await {
                Ok(Ok(done)) => outln!(
                    "  {}. {}: {done} ({:.1}s)",
                    number + 1,
                    step.result.id,
                    started.elapsed().as_secs_f64()
                ),
                Ok(Err(why)) => {
                    failed += 1;
                    outln!("  {}. {}: REPAIR FAILED: {why}", number + 1, step.result.id);
                }
                // What is left stays recorded: the next command says so.
                Err(signal) => {
                    let repairs_left = steps.len() - number;
                    return Ok(Repaired {
                        before: repaired_ones(steps),
                        failed,
                        after: Err(Interrupted {
                            signal,
                            repairs_left,
                        }),
                    });
                }
            }
        }
        Record::clear();
        // The deployment is discovered again: a container the repairs created was
        // not there to learn its address or credentials from before.
        let Reload {
            config,
            project,
            checks_dirs,
        } = self.reload;
        let checked = async {
            let diagnose = Plan::load(config, project, checks_dirs, &Default::default()).await?;
            Ok::<_, Error>(diagnose.run().await.0)
        };
        let after = match signals.unless_interrupted(checked).await {
            Ok(after) => Ok(after?),
            Err(signal) => Err(Interrupted {
                signal,
                repairs_left: 0,
            }),
        };
        Ok(Repaired {
            before: repaired_ones(steps),
            failed,
            after,
        })
    }

    fn report(&self, done: Repaired) -> u8 {
        let after = match done.after {
            Ok(after) => after,
            Err(Interrupted {
                signal,
                repairs_left: 0,
            }) => {
                eprintln!(
                    "helpdesk-doctor: interrupted by {signal}: every repair ran; the checks after them did not"
                );
                return exit_code::INTERRUPTED;
            }
            Err(Interrupted {
                signal,
                repairs_left,
            }) => {
                eprintln!(
                    "helpdesk-doctor: interrupted by {signal}: {repairs_left} repairs not run or not finished \
                     (recorded: the next command says which)"
                );
                return exit_code::INTERRUPTED;
            }
        };
        print_before_after(&done.before, &after);
        let still_failing = after.iter().any(|r| r.status == Status::Fail);
        if done.failed > 0 {
            exit_code::RUNBOOK_FAILED
        } else if still_failing {
            exit_code::CHECK_FAILED
        } else {
            exit_code::OK
        }
    }
}

/// Records the repairs left before the next one starts: a fix killed
/// half-way is told by the next command (`fix_record`).
fn record_left(left: &[Step]) -> Result<(), Error> {
    let pending = left
        .iter()
        .map(|step| Pending {
            check: step.result.id.clone(),
            action: describe(step.repair),
            container: match (step.repair, &step.check.def.probe) {
                (Repair::StartContainer, Probe::Container { container, .. }) => {
                    Some(container.clone())
                }
                _ => None,
            },
        })
        .collect();
    Record::new(pending).save().map_err(|e| {
        Error::CannotRun(format!(
            "recording the fix in {}: {e}",
            crate::state::state_dir().display()
        ))
    })
}

/// The repairs for the failures (and warnings) that declare one, in root-cause
/// order; and the failures with no safe repair of their own or of their cause.
fn steps<'a>(
    checks: &'a [Check],
    results: Vec<CheckResult>,
    targets: &[String],
) -> (Vec<Step<'a>>, Vec<CheckResult>) {
    let wanted = |id: &str| {
        targets.is_empty()
            || targets
                .iter()
                .any(|t| glob_match(t, id) || service_of(id).as_deref() == Some(t))
    };
    let mut steps = Vec::new();
    let mut by_hand = Vec::new();
    for (check, result) in checks.iter().zip(results) {
        if !matches!(result.status, Status::Fail | Status::Warn) || !wanted(&result.id) {
            continue;
        }
        match &check.def.fix {
            Some(repair) if repair.applies(&result) => steps.push(Step {
                check,
                result,
                repair,
            }),
            _ if result.status == Status::Fail => by_hand.push(result),
            _ => {}
        }
    }
    steps.sort_by_key(|s| s.repair.order(&s.result.id));
    (steps, by_hand)
}

fn print_plan(steps: &[Step], by_hand: &[CheckResult]) {
    if steps.is_empty() {
        outln!("no safe repair to run");
    } else {
        outln!("repair plan (data containers first, then the applications, then the rest):");
    }
    for (number, step) in steps.iter().enumerate() {
        outln!(
            "  {}. {}: {} — {}",
            number + 1,
            step.result.id,
            describe(step.repair),
            clean(&step.result.message)
        );
    }
    if !by_hand.is_empty() {
        outln!("no repair of their own (fixed with their root cause, or by you):");
        for result in by_hand {
            outln!("  {}: {}", result.id, clean(&result.message));
            let explained = result.root_cause();
            match (explained, &result.hint) {
                (Some(cause), _) => outln!("      root cause: {cause}"),
                (None, Some(hint)) => outln!("      fix: {}", clean(hint)),
                (None, None) => {}
            }
        }
    }
}

fn describe(repair: &Repair) -> String {
    match repair {
        Repair::StartContainer => "start the container, wait until healthy".into(),
        Repair::PurgeTokens => "purge the expired refresh tokens in batches".into(),
        Repair::CreateIndex { table, columns } => format!(
            "CREATE INDEX CONCURRENTLY on {table} ({})",
            columns.join(", ")
        ),
        Repair::CancelBlocker => "cancel the blocking session's query (end the session if it is idle in transaction), after its own confirmation"
            .into(),
    }
}

fn print_before_after(before: &[CheckResult], after: &[CheckResult]) {
    outln!("before → after:");
    for repaired in before {
        let now = after
            .iter()
            .find(|r| r.id == repaired.id)
            .map_or("gone", |r| r.status.label());
        outln!("  {}: {} → {now}", repaired.id, repaired.status.label());
    }
    // A failure the repairs did not touch still fails the run: say which.
    for still in after
        .iter()
        .filter(|r| r.status == Status::Fail && !before.iter().any(|b| b.id == r.id))
    {
        outln!("  {}: still FAIL: {}", still.id, clean(&still.message));
    }
}

/// The results the steps were planned from.
fn repaired_ones(steps: Vec<Step>) -> Vec<CheckResult> {
    steps.into_iter().map(|step| step.result).collect()
}
