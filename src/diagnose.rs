//! `diagnose`: load the profile and catalog, run the checks, write the report.

use crate::catalog::{self, Check};
use crate::check::{CheckResult, Status};
use crate::cli::{Color, DiagnoseArgs, Selection};
use crate::deployment::Context;
use crate::deployment::discovery::{self, ProjectSource};
use crate::deployment::engine::Engine;
use crate::error::Error;
use crate::exit_code;
use crate::profile::Profile;
use crate::report::{self, Report, Style};
use crate::runner;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Everything a run of the checks needs, loaded and validated once.
pub struct Plan {
    pub checks: Vec<Check>,
    /// How the compose project was found.
    pub project_source: ProjectSource,
    pub profile: Profile,
    pub deadline: std::time::Duration,
    /// How long loading took: it counts against the deadline.
    load_time: std::time::Duration,
}

impl Plan {
    pub async fn load(
        config: Option<&Path>,
        project: Option<&str>,
        checks_dirs: &[PathBuf],
        selection: &Selection,
    ) -> Result<Plan, Error> {
        Plan::load_on(config, project, checks_dirs, selection, Engine::chosen()).await
    }

    /// `load`, for the deployment on `engine`.
    pub async fn load_on(
        config: Option<&Path>,
        project: Option<&str>,
        checks_dirs: &[PathBuf],
        selection: &Selection,
        engine: Engine,
    ) -> Result<Plan, Error> {
        let loading_started = Instant::now();
        let (mut profile, project_source) = discovery::load_on(config, project, engine).await?;
        if let Some(timeout) = selection.probe_timeout {
            profile.timeouts.probe_ms = timeout.as_millis() as u64;
        }
        if let Some(deadline) = selection.deadline {
            profile.timeouts.deadline_ms = deadline.as_millis() as u64;
        }
        let all = catalog::load(&profile, checks_dirs)?;
        let chosen = catalog::Choice {
            only: &selection.only,
            skip: &selection.skip,
            services: &selection.service,
        };
        let checks = catalog::select(&all, &chosen);
        if checks.is_empty() {
            return Err(Error::Usage(format!(
                "no check matches --only/--skip/--service{}",
                catalog::suggest(&all, &selection.only)
            )));
        }
        for (skipped, needed_by) in catalog::skipped_but_needed(&checks, &selection.skip) {
            eprintln!("helpdesk-doctor: {skipped} still runs: {needed_by} needs it");
        }
        let deadline = std::time::Duration::from_millis(profile.timeouts.deadline_ms);
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
            .max(std::time::Duration::from_millis(1));
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

pub async fn run(
    args: &DiagnoseArgs,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
    engines: Vec<(String, Engine)>,
    color: Color,
) -> Result<u8, Error> {
    let mut report = if engines.len() > 1 {
        on_engines(args, config, project, checks_dirs, engines).await?
    } else {
        let engine = engines
            .into_iter()
            .next()
            .map_or_else(Engine::chosen, |(_, e)| e);
        let plan = Plan::load_on(config, project, checks_dirs, &args.selection, engine).await?;
        plan.report().await
    };
    // Shown on the human output only; a run over several engines has no
    // single "last healthy".
    if args.format == report::Format::Human
        && report.engines.is_empty()
        && matches!(report.status, Status::Fail | Status::Error)
    {
        report.since_healthy = serde_json::to_value(&report)
            .ok()
            .and_then(|now| crate::history::since_last_healthy(&now));
    }
    let to_stdout = args.output.as_os_str() == "-";
    warn_if_output_looks_like_a_format(&args.output);
    let style = Style {
        color: use_color(color, to_stdout),
        verbose: args.verbose,
        quiet: args.quiet,
    };
    // The JSON report is rendered once, whoever needs it (history, output, --report).
    let json = std::cell::OnceCell::new();
    let render = |format: report::Format, style: Style| match format {
        report::Format::Json => json
            .get_or_init(|| report::exporter(format, Style::default()).render(&report))
            .clone(),
        _ => report::exporter(format, style).render(&report),
    };
    if !args.no_history {
        let saved = render(report::Format::Json, Style::default());
        if let Err(e) = crate::history::save(&saved, &report.generated_at, report.status.as_str()) {
            eprintln!("helpdesk-doctor: this run was not saved in the history: {e}");
        }
    }
    for target in &args.reports {
        write_output(&target.path, &render(target.format, Style::default()))?;
    }
    let text = render(args.format, style);
    write_output(&args.output, &text)?;
    Ok(match args.format {
        report::Format::Nagios => report::nagios_exit_code(report.status),
        _ => exit_code_for(report.status, args.strict),
    })
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

/// One run on several engines at once: each engine's deployment discovered
/// and checked concurrently; an unreachable engine fails only its own part.
async fn on_engines(
    args: &DiagnoseArgs,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
    engines: Vec<(String, Engine)>,
) -> Result<Report, Error> {
    let started = Instant::now();
    let runs = engines.into_iter().map(|(name, engine)| async move {
        let endpoint = engine.endpoint();
        let plan = Plan::load_on(config, project, checks_dirs, &args.selection, engine).await?;
        Ok::<_, Error>((name, endpoint, plan.report().await))
    });
    let parts = futures::future::try_join_all(runs).await?;
    Ok(Report::of_engines(
        parts,
        started.elapsed().as_millis() as u64,
    ))
}

/// `-o json` writes a file named `json`: say so, it is rarely what was meant.
fn warn_if_output_looks_like_a_format(output: &Path) {
    let name = output.to_string_lossy();
    if <report::Format as clap::ValueEnum>::from_str(&name, true).is_ok() {
        eprintln!(
            "helpdesk-doctor: writing the report to a file named {name:?}; \
             for that format say --format {name} (-o names the output file)"
        );
    }
}

pub fn exit_code_for(status: Status, strict: bool) -> u8 {
    match status {
        Status::Fail => exit_code::CHECK_FAILED,
        Status::Error => exit_code::UNKNOWN,
        Status::Warn if strict => exit_code::CHECK_FAILED,
        Status::Warn | Status::Pass | Status::Skip => exit_code::OK,
    }
}

pub fn use_color(color: Color, to_stdout: bool) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            // no-color.org: set and not empty.
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            to_stdout && std::io::stdout().is_terminal() && !no_color
        }
    }
}

/// Writes to stdout (a closed pipe is not an error), atomically to a regular
/// file, or in place to anything else (a device, a FIFO).
pub fn write_output(output: &Path, text: &str) -> Result<(), Error> {
    if output.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        return match stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
        {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Error::CannotRun(format!("writing output: {e}")))
            }
            _ => Ok(()),
        };
    }
    let written = match std::fs::metadata(output) {
        // A device or a FIFO (/dev/null, a pipe) is written in place: renaming a
        // file over it would replace it.
        Ok(meta) if !meta.is_file() => std::fs::write(output, text),
        // A regular file (or none yet): a unique temporary file, then rename —
        // a planted symlink is replaced, never followed; concurrent runs never share it.
        _ => crate::files::write_atomically(output, text.as_bytes(), 0o644),
    };
    written.map_err(|e| Error::CannotRun(format!("writing {}: {e}", output.display())))
}
