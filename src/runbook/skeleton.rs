//! The one shape of every runbook and of `fix`: lock → plan → dry run →
//! confirm → signals → act → report. A runbook says what it would change, how
//! to do it and what it did; the order of the steps, the refusals and the
//! moment signals start being caught are written here once. The lock comes
//! first for a run that may act, so that what the plan read is what the act
//! changes (no other runbook in between); a dry run takes none.

use super::Confirmation;
use super::signals::Signals;
use super::{confirm, lock};
use crate::error::Error;
use crate::exit_code;
use crate::stdout::outln;

/// What a plan proposes once it has been shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposal {
    /// Nothing to change: the run ends here with this exit code (the plan said why).
    Nothing(u8),
    /// Changes that need a yes to this question (or `--yes`).
    Ask(String),
    /// Changes that remove nothing (a backup, starting what was stopped): no question.
    Proceed,
}

/// Who holds the runbook lock while the runbook acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// The run takes it (and refuses when another runbook holds it).
    Take,
    /// The caller already holds it (`fix` purging tokens).
    HeldByCaller,
}

/// A runbook: what it plans, how it acts, what it reports.
pub trait Runbook {
    /// What would change, found without changing anything; it may borrow the runbook.
    type Plan<'a>
    where
        Self: 'a;
    /// What acting did, whole or interrupted.
    type Done;

    /// Reads the deployment and decides; changes nothing.
    async fn plan(&self) -> Result<Self::Plan<'_>, Error>;

    /// Shows the plan (it is what a dry run and the question are about) and
    /// says what it proposes.
    fn propose(&self, plan: &Self::Plan<'_>) -> Proposal;

    /// What a dry run says after its plan.
    fn dry_run(&self, _plan: &Self::Plan<'_>) {
        outln!("dry run: nothing was changed");
    }

    /// Carries the plan out. SIGINT and SIGTERM no longer kill the process
    /// from here: `act` watches `signals` and stops where stopping is safe.
    async fn act<'a>(
        &'a self,
        plan: Self::Plan<'a>,
        signals: &mut Signals,
    ) -> Result<Self::Done, Error>;

    /// Says what was done, and its exit code.
    fn report(&self, done: Self::Done) -> u8;
}

/// Runs `runbook` through every step, in order: a refusal (the lock held, no
/// confirmation) changes nothing, a dry run never reaches the lock or the act,
/// and the lock is held from before the plan until the report is made.
pub async fn run<R: Runbook>(
    runbook: &R,
    confirmation: &Confirmation,
    locking: Locking,
) -> Result<u8, Error> {
    let _lock = match locking {
        Locking::Take if !confirmation.dry_run => Some(lock::acquire()?),
        Locking::Take | Locking::HeldByCaller => None,
    };
    let plan = runbook.plan().await?;
    let question = match runbook.propose(&plan) {
        Proposal::Nothing(code) => return Ok(code),
        Proposal::Ask(question) => Some(question),
        Proposal::Proceed => None,
    };
    if confirmation.dry_run {
        runbook.dry_run(&plan);
        return Ok(exit_code::OK);
    }
    if let Some(question) = question {
        confirm(&question, confirmation).await?;
    }
    let mut signals =
        Signals::catch().map_err(|e| Error::CannotRun(format!("catching signals: {e}")))?;
    let done = runbook.act(plan, &mut signals).await?;
    Ok(runbook.report(done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A runbook that records which of its steps ran.
    struct Recorder {
        proposal: Proposal,
        steps: RefCell<Vec<&'static str>>,
    }

    impl Recorder {
        fn proposing(proposal: Proposal) -> Recorder {
            Recorder {
                proposal,
                steps: RefCell::default(),
            }
        }

        fn steps(&self) -> Vec<&'static str> {
            self.steps.borrow().clone()
        }
    }

    impl Runbook for Recorder {
        type Plan<'a> = &'a str;
        type Done = u8;

        async fn plan(&self) -> Result<&str, Error> {
            self.steps.borrow_mut().push("plan");
            Ok("the plan")
        }

        fn propose(&self, plan: &&str) -> Proposal {
            assert_eq!(*plan, "the plan");
            self.steps.borrow_mut().push("propose");
            self.proposal.clone()
        }

        fn dry_run(&self, _plan: &&str) {
            self.steps.borrow_mut().push("dry run");
        }

        async fn act<'a>(&'a self, plan: &'a str, _signals: &mut Signals) -> Result<u8, Error> {
            assert_eq!(plan, "the plan");
            self.steps.borrow_mut().push("act");
            Ok(42)
        }

        fn report(&self, done: u8) -> u8 {
            self.steps.borrow_mut().push("report");
            done + 1
        }
    }

    fn confirmation(dry_run: bool, yes: bool) -> Confirmation {
        Confirmation { dry_run, yes }
    }

    fn run_now(
        runbook: &Recorder,
        confirmation: Confirmation,
        locking: Locking,
    ) -> Result<u8, Error> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(runbook, &confirmation, locking))
    }

    #[test]
    fn a_dry_run_shows_the_plan_and_never_acts() {
        let runbook = Recorder::proposing(Proposal::Ask("Delete?".into()));
        let code = run_now(&runbook, confirmation(true, true), Locking::HeldByCaller);
        assert_eq!(code.unwrap(), exit_code::OK);
        assert_eq!(runbook.steps(), ["plan", "propose", "dry run"]);
    }

    #[test]
    fn nothing_to_do_ends_with_its_own_code_before_the_dry_run() {
        let runbook = Recorder::proposing(Proposal::Nothing(exit_code::CHECK_FAILED));
        let code = run_now(&runbook, confirmation(true, false), Locking::HeldByCaller);
        assert_eq!(code.unwrap(), exit_code::CHECK_FAILED);
        assert_eq!(runbook.steps(), ["plan", "propose"]);
    }

    #[test]
    fn a_confirmed_plan_is_acted_and_reported_with_the_reports_code() {
        let runbook = Recorder::proposing(Proposal::Ask("Delete?".into()));
        let code = run_now(&runbook, confirmation(false, true), Locking::HeldByCaller);
        assert_eq!(code.unwrap(), 43);
        assert_eq!(runbook.steps(), ["plan", "propose", "act", "report"]);
    }

    #[test]
    fn a_question_without_yes_and_without_a_terminal_is_refused_before_acting() {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            // Someone is there to answer: the refusal without a terminal is not what runs.
            return;
        }
        let runbook = Recorder::proposing(Proposal::Ask("Delete?".into()));
        let refused = run_now(&runbook, confirmation(false, false), Locking::HeldByCaller);
        assert!(matches!(refused, Err(Error::Refused(_))), "{refused:?}");
        assert_eq!(runbook.steps(), ["plan", "propose"]);
    }

    #[test]
    fn a_plan_that_removes_nothing_proceeds_without_a_question() {
        let runbook = Recorder::proposing(Proposal::Proceed);
        let code = run_now(&runbook, confirmation(false, false), Locking::HeldByCaller);
        assert_eq!(code.unwrap(), 43);
        assert_eq!(runbook.steps(), ["plan", "propose", "act", "report"]);
    }

    #[test]
    fn a_lock_held_by_another_runbook_refuses_before_the_plan_but_not_a_dry_run() {
        // Held here, or already by a runbook running on this machine: held either way.
        let _holder = lock::acquire();
        let runbook = Recorder::proposing(Proposal::Proceed);
        let refused = run_now(&runbook, confirmation(false, true), Locking::Take);
        assert!(matches!(refused, Err(Error::Refused(_))), "{refused:?}");
        assert!(runbook.steps().is_empty(), "{:?}", runbook.steps());
        let dry = Recorder::proposing(Proposal::Proceed);
        let code = run_now(&dry, confirmation(true, false), Locking::Take);
        assert_eq!(code.unwrap(), exit_code::OK);
        assert_eq!(dry.steps(), ["plan", "propose", "dry run"]);
    }
}
