//! `diagnose`: load the profile and catalog, run the checks, write the report.

use crate::check::Status;
use crate::cli::{Color, DiagnoseArgs};
use crate::deployment::engine::Engine;
use crate::error::Error;
use crate::output::{use_color, write_output};
use crate::plan::{Plan, Wanted};
use crate::report::{self, Report, Style};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub async fn run(
    args: &DiagnoseArgs,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
    engines: Vec<(String, Engine)>,
    color: Color,
) -> Result<u8, Error> {
    let wanted = Wanted::from(&args.selection);
    let mut report = if engines.len() > 1 {
        on_engines(&wanted, config, project, checks_dirs, engines).await?
    } else {
        let engine = engines
            .into_iter()
            .next()
            .map_or_else(Engine::chosen, |(_, e)| e);
        let plan = Plan::load_on(config, project, checks_dirs, &wanted, engine).await?;
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
        _ => report.status.exit_code(args.strict),
    })
}

/// One run on several engines at once: each engine's deployment discovered
/// and checked concurrently; an unreachable engine fails only its own part.
async fn on_engines(
    wanted: &Wanted,
    config: Option<&Path>,
    project: Option<&str>,
    checks_dirs: &[PathBuf],
    engines: Vec<(String, Engine)>,
) -> Result<Report, Error> {
    let started = Instant::now();
    let runs = engines.into_iter().map(|(name, engine)| async move {
        let endpoint = engine.endpoint();
        let plan = Plan::load_on(config, project, checks_dirs, wanted, engine).await?;
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
