//! `helpdesk-doctor`: parse → run → exit code; nothing else.

mod app;
mod catalog;
mod check;
mod cli;
mod deployment;
mod diagnose;
mod error;
mod exit_code;
mod files;
mod probe;
mod profile;
mod report;

mod runbook;
mod runner;
mod secrets;
mod state;
mod toml_error;
mod wait;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("helpdesk-doctor: cannot start: {e}");
            return ExitCode::from(exit_code::CANNOT_RUN);
        }
    };
    match runtime.block_on(app::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("helpdesk-doctor: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
