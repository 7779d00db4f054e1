//! `helpdesk-doctor`: parse → run → exit code; nothing else.

mod app;
mod bundle;
mod catalog;
mod check;
mod checks_list;
mod cli;
mod completions;
mod compose_file;
mod compose_name;
mod deployment;
mod diagnose;
mod duration_rule;
mod error;
mod exit_code;
mod files;
mod fix;
mod fix_blocker;
mod fix_record;
mod help;
mod history;
mod history_command;
mod logs;
mod manual;
mod output;
mod plan;
mod probe;
mod profile;
mod repair;
mod report;

mod runbook;
mod runner;
mod secrets;
mod serve;
mod settings;
mod shell_word;
mod state;
mod stdout;
mod terminal_text;
mod toml_error;
mod usage_error;
mod wait;
mod watch;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use std::process::ExitCode;
use usage_error::PREFIX;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let cli = match cli::Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, &argv),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{PREFIX}cannot start: {e}");
            return ExitCode::from(exit_code::CANNOT_RUN);
        }
    };
    let ran = runtime.block_on(app::run(cli));
    // What is still running (a task cut by --deadline, a blocking name lookup)
    // gets a moment, never the power to keep the process past its deadline.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    // No ssh connection of the run outlives it.
    deployment::ssh::close_all();
    let code = match ran {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{PREFIX}{}", terminal_text::clean(&error.to_string()));
            error.exit_code()
        }
    };
    // A closed pipe is not an error (`history | head -1`); a failed write is.
    match stdout::failure() {
        Some(e) if code == exit_code::OK => {
            eprintln!("{PREFIX}cannot run: writing to standard output: {e}");
            ExitCode::from(exit_code::CANNOT_RUN)
        }
        _ => ExitCode::from(code),
    }
}

/// `--help` and `--version` as clap prints them; any other parse error in one
/// line with what would have been valid, exit 2.
fn usage_error(e: clap::Error, argv: &[String]) -> ExitCode {
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
    eprintln!("{}", usage_error::line(&e, &cli::Cli::command(), argv));
    ExitCode::from(exit_code::USAGE)
}
