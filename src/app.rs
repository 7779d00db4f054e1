//! Dispatches a parsed command line to its command; returns the exit code.

use crate::cli::{BackupAction, CacheCommand, ChecksCommand, Cli, Command, TokensCommand};
use crate::deployment::discovery;
use crate::error::Error;
use crate::runbook::interrupted::Record;
use crate::runbook::manifest::Trust;
use crate::{catalog, diagnose, exit_code, profile::Profile, runbook, wait};

pub async fn run(cli: Cli) -> Result<u8, Error> {
    let config = cli.config.as_deref();
    let project = cli.project.as_deref();
    let deployment = || async { discovery::load(config, project).await.map(|(p, _)| p) };
    // A restore killed outright (kill -9) left applications stopped: say so first.
    if !matches!(cli.command, Command::Restore(_))
        && let Some(left) = Record::left_behind()
    {
        eprintln!("{}", left.warning());
    }
    match &cli.command {
        Command::Diagnose(args) => {
            diagnose::run(args, config, project, &cli.checks_dir, cli.color).await
        }
        Command::Wait(args) => wait::run(args, config, project, &cli.checks_dir).await,
        Command::Checks(ChecksCommand::List) => list_checks(deployment().await?, &cli.checks_dir),
        Command::Cache(CacheCommand::Flush(args)) => {
            runbook::cache::flush(&args.into(), &deployment().await?).await
        }
        Command::Tokens(TokensCommand::Purge(args)) => {
            runbook::tokens::purge(&args.into(), &deployment().await?).await
        }
        Command::Backup(backup) => match &backup.action {
            None => {
                let profile = deployment().await?.with_stall(backup.args.stall_timeout);
                runbook::backup::run(&(&backup.args).into(), &profile).await
            }
            Some(BackupAction::Verify {
                dir,
                trust_foreign_backup,
            }) => runbook::backup::verify(
                dir,
                if *trust_foreign_backup {
                    Trust::AlsoForeign
                } else {
                    Trust::OwnOnly
                },
            ),
            Some(BackupAction::List { dir }) => runbook::backup::list(dir),
            Some(BackupAction::Prune(args)) => runbook::backup::prune(&args.into()),
        },
        Command::Restore(args) => {
            let profile = deployment().await?.with_stall(args.stall_timeout);
            runbook::restore::run(&args.into(), &profile).await
        }
    }
}

fn list_checks(profile: Profile, dirs: &[std::path::PathBuf]) -> Result<u8, Error> {
    let mut text = String::new();
    for check in catalog::load(&profile, dirs)? {
        let needs = if check.def.needs.is_empty() {
            String::new()
        } else {
            format!("  needs {}", check.def.needs.join(", "))
        };
        text.push_str(&format!(
            "{:<36} {:<22} {}{needs}\n",
            check.def.id,
            check.def.probe.kind(),
            check.source
        ));
    }
    diagnose::write_output(std::path::Path::new("-"), &text)?;
    Ok(exit_code::OK)
}
