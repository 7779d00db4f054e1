//! `helpdesk-doctor`: parse → run → exit code; nothing else.

mod app;
mod bundle;
mod catalog;
mod check;
mod cli;
mod compose_file;
mod compose_name;
mod deployment;
mod diagnose;
mod error;
mod exit_code;
mod files;
mod fix;
mod fix_blocker;
mod fix_record;
mod history;
mod logs;
mod probe;
mod profile;
mod repair;
mod report;

mod runbook;
mod runner;
mod secrets;
mod serve;
mod state;
mod terminal_text;
mod toml_error;
mod wait;
mod watch;

use clap::Parser;
use clap::error::ErrorKind;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("helpdesk-doctor: cannot start: {e}");
            return ExitCode::from(exit_code::CANNOT_RUN);
        }
    };
    let ran = runtime.block_on(app::run(cli));
    // What is still running (a task cut by --deadline, a blocking name lookup)
    // gets a moment, never the power to keep the process past its deadline.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    // No ssh connection of the run outlives it.
    deployment::ssh::close_all();
    match ran {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!(
                "helpdesk-doctor: {}",
                terminal_text::clean(&error.to_string())
            );
            ExitCode::from(error.exit_code())
        }
    }
}

/// `--help` and `--version` as clap prints them; any other parse error in one
/// line (clap's first), exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(match e.kind() {
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => exit_code::USAGE,
            _ => exit_code::OK,
        });
    }
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid command line");
    eprintln!("{first} (see --help)");
    ExitCode::from(exit_code::USAGE)
}
