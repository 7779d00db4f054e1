//! A run of the checks planned once: the deployment discovered, the catalog
//! loaded and the checks chosen (`Plan`), then run on a fresh context each
//! time and turned into a report. Every command that runs checks starts here.

use crate::catalog::{self, Check};
use crate::check::CheckResult;
use crate::deployment::Context;
use crate::deployment::Deployment;
use crate::deployment::discovery::{self, ProjectSource};
use crate::deployment::engine::Engine;
use crate::error::Error;
use crate::report::Report;
use crate::runner;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which checks, within which bounds (the flags' `cli::Selection`, or a
/// command's own choice).
#[derive(Clone, Debug, Default)]
pub struct Wanted {
    /// Only checks whose id matches one of these globs.
    pub only: Vec<String>,
    /// No check whose id matches one of these globs (unless a chosen one needs it).
    pub skip: Vec<String>,
    /// Only these services' checks, with what they need.
    pub services: Vec<String>,
    pub probe_timeout: Option<Duration>,
    pub deadline: Option<Duration>,
}

/// Everything a run of the checks needs, loaded and validated once.
pub struct Plan {
    pub checks: Vec<Check>,
    /// How the compose project was found.
    pub project_source: ProjectSource,
    pub profile: Deployment,
    pub deadline: Duration,
    /// How long loading took: it counts against the deadline.
    load_time: Duration,
}

impl Plan {
    pub async fn load(
        config: Option<&Path>,
        project: Option<&str>,
        checks_dirs: &[PathBuf],
        wanted: &Wanted,
    ) -> Result<Plan, Error> {
        Plan::load_on(config, project, checks_dirs, wanted, Engine::chosen()).await
    }

    /// `load`, for the deployment on `engine`.
    pub async fn load_on(
        config: Option<&Path>,
        project: Option<&str>,
        checks_dirs: &[PathBuf],
        wanted: &Wanted,
        engine: Engine,
    ) -> Result<Plan, Error> {
        let loading_started = Instant::now();
        let (mut profile, project_source) = discovery::load_on(config, project, engine).await?;
        if let Some(timeout) = wanted.probe_timeout {
            profile.timeouts.probe_ms = timeout.as_millis() as u64;
        }
        if let Some(deadline) = wanted.deadline {
            profile.timeouts.deadline_ms = deadline.as_millis() as u64;
        }
        let all = catalog::load(&profile, checks_dirs)?;
        let chosen = catalog::Choice {
            only: &wanted.only,
            skip: &wanted.skip,
            services: &wanted.services,
        };
        let checks = catalog::select(&all, &chosen);
        if checks.is_empty() {
            return Err(Error::Usage(format!(
                "no check matches --only/--skip/--service{}",
                catalog::suggest(&all, &wanted.only)
            )));
        }
        for (skipped, needed_by) in catalog::skipped_but_needed(&checks, &wanted.skip) {
            eprintln!("helpdesk-doctor: {skipped} still runs: {needed_by} needs it");
        }
        let deadline = Duration::from_millis(profile.timeouts.deadline_ms);
        Ok(Plan {
            checks,
            project_source,
            profile,
            deadline,
            load_time: loading_started.elapsed(),
        })
    }

    /// One round of every check; a fresh context each time, so nothing stale is reused.
    pub async fn run(&self) -> (Vec<CheckResult>, u64) {
        let (results, duration_ms, _) = self.run_keeping_context().await;
        (results, duration_ms)
    }

    /// `run`, with the context it used (its redactor knows every credential found).
    pub async fn run_keeping_context(&self) -> (Vec<CheckResult>, u64, Arc<Context>) {
        let context = Arc::new(Context::new(self.profile.clone()));
        let started = Instant::now();
        // `--deadline` bounds the whole run, loading the catalog included.
        let deadline = self
            .deadline
            .saturating_sub(self.load_time)
            .max(Duration::from_millis(1));
        // Every credential of the deployment is looked up while the checks run
        // (they share the lookups), and known to the redactor before any result
        // is redacted: nothing is shown before the run ends.
        let registered = tokio::time::timeout(deadline, context.register_secrets());
        let checked = runner::run(&self.checks, context.clone(), deadline);
        let (_, mut results) = tokio::join!(registered, checked);
        runner::redact_all(&mut results, &context);
        (results, started.elapsed().as_millis() as u64, context)
    }
}

impl Plan {
    /// One run of the checks, as a report naming its project and engine.
    pub async fn report(&self) -> Report {
        let (results, duration_ms) = self.run().await;
        self.as_report(results, duration_ms)
    }

    /// Results of this plan's run as a report naming its project and engine.
    pub fn as_report(&self, results: Vec<CheckResult>, duration_ms: u64) -> Report {
        Report::new(results, duration_ms)
            .with_project(
                &self.profile.compose_project,
                &self.project_source.to_string(),
            )
            .with_engine(self.profile.engine.describe())
            .with_cluster(&self.profile)
    }
}
