//! Dispatches a parsed command line to its command; returns the exit code.

use crate::cli::{
    BackupAction, CacheCommand, ChecksCommand, Cli, Command, ConfigCommand, ListFormat, ManArgs,
    TokensCommand,
};
use crate::deployment::engine::Engine;
use crate::deployment::{Deployment, discovery};
use crate::error::Error;
use crate::runbook::interrupted::Record;
use crate::runbook::manifest::Trust;
use crate::{
    bundle, checks_list, completions, diagnose, exit_code, fix, history_command, logs, manual,
    profile::Profile, runbook, serve, settings, state, wait, watch,
};

pub async fn run(cli: Cli) -> Result<u8, Error> {
    let config = cli.config.clone().or_else(state::default_config);
    let config = config.as_deref();
    match cli.context.as_slice() {
        [one] => crate::deployment::engine::use_context(one),
        [_, _, ..] if !matches!(cli.command, Command::Diagnose(_)) => {
            return Err(Error::Usage(
                "several --context: only diagnose runs on several engines at once".into(),
            ));
        }
        _ => {}
    }
    let project = cli.project.as_deref();
    let deployment = || async { discovery::load(config, project).await.map(|(p, _)| p) };
    // A restore killed outright (kill -9) left applications stopped: say so first.
    if !matches!(cli.command, Command::Restore(_))
        && let Some(left) = Record::left_behind()
    {
        eprintln!("{}", left.warning());
    }
    // So did a fix: its unfinished repairs, and how to finish them.
    if let Some(left) = crate::fix_record::Record::left_behind() {
        eprintln!("{}", left.warning());
    }
    match &cli.command {
        Command::Diagnose(args) => {
            let engines = engines(&cli.context, config)?;
            diagnose::run(args, config, project, &cli.checks_dir, engines, cli.color).await
        }
        Command::Wait(args) => wait::run(args, config, project, &cli.checks_dir).await,
        Command::Watch(args) => watch::run(args, config, project, &cli.checks_dir, cli.color).await,
        Command::Serve(args) => serve::run(args, config, project, &cli.checks_dir).await,
        Command::Checks(ChecksCommand::List { format }) => {
            // The catalog as the config's services expand it: no engine touched.
            checks_list::run(
                Deployment::new(Profile::load(config)?),
                &cli.checks_dir,
                *format,
            )
        }
        Command::History(args) => history_command::list(args.format),
        Command::Diff { from, to } => {
            history_command::diff(
                from.as_deref(),
                to.as_deref(),
                config,
                project,
                &cli.checks_dir,
            )
            .await
        }
        Command::Fix(args) => {
            let options = fix::FixOptions {
                targets: args.targets.clone(),
                confirmation: (&args.confirmation).into(),
            };
            fix::run(&options, config, project, &cli.checks_dir).await
        }
        Command::Bundle(args) => {
            let options = bundle::BundleOptions {
                out: args.out.clone().unwrap_or_else(bundle::default_name),
                since: args.since,
                max_log_lines: args.max_log_lines as usize,
            };
            bundle::run(&options, config, project, &cli.checks_dir).await
        }
        Command::Logs(args) => {
            let options = logs::LogsOptions {
                selected: args.selected.clone(),
                filter: logs::Filter {
                    since: args.since,
                    tail: args.tail,
                    follow: args.follow,
                    level: args.level,
                    grep: args.grep().map_err(|e| Error::Usage(e.to_string()))?,
                    timestamps: args.timestamps,
                },
                color: crate::output::use_color(cli.color, true),
            };
            logs::run(options, config, project).await
        }
        Command::Completions { shell } => {
            crate::output::write_output(std::path::Path::new("-"), &completions::script(*shell))?;
            Ok(exit_code::OK)
        }
        Command::Man(args) => man(args),
        Command::Config(ConfigCommand::Show { format }) => {
            let file = settings::ConfigFile::of(cli.config.as_deref());
            settings::show(&file, project, *format == ListFormat::Json).await
        }
        Command::Config(ConfigCommand::Init { defaults }) => {
            let file = settings::ConfigFile::of(cli.config.as_deref());
            settings::init(&file, project, *defaults).await
        }
        Command::Cache(CacheCommand::Flush(args)) => {
            runbook::cache::flush(&args.into(), &deployment().await?).await
        }
        Command::Tokens(TokensCommand::Purge(args)) => {
            runbook::tokens::purge(&args.into(), &deployment().await?).await
        }
        Command::Backup(backup) => match &backup.action {
            None => {
                let profile = deployment().await?.with_stall(backup.args.stall_timeout);
                let backups = state::backup_dir(&profile.backup_dir);
                let options = (&backup.args, backups).into();
                let code = runbook::backup::run(&options, &profile).await?;
                if code != exit_code::OK || !backup.args.verify {
                    return Ok(code);
                }
                let newest = runbook::backup::newest(&options.out)?;
                runbook::backup::drill(&newest, Trust::OwnOnly, &profile).await
            }
            Some(BackupAction::Verify {
                dir,
                trust_foreign_backup,
                restore_test,
            }) => {
                let trust = if *trust_foreign_backup {
                    Trust::AlsoForeign
                } else {
                    Trust::OwnOnly
                };
                match runbook::backup::verify(dir, trust)? {
                    exit_code::OK if *restore_test => {
                        runbook::backup::drill(dir, trust, &deployment().await?).await
                    }
                    code => Ok(code),
                }
            }
            Some(BackupAction::List { dir }) => {
                let backups = configured_backup_dir(config)?;
                runbook::backup::list(dir.as_deref().unwrap_or(&backups))
            }
            Some(BackupAction::Prune(args)) => {
                runbook::prune::prune(&(args, configured_backup_dir(config)?).into()).await
            }
        },
        Command::Restore(args) => {
            let profile = deployment().await?.with_stall(args.stall_timeout);
            let backups = state::backup_dir(&profile.backup_dir);
            runbook::restore::run(&(args, backups).into(), &profile).await
        }
    }
}

/// The engines of one diagnose: each `--context`, else the config's `[[engines]]`
/// that are not a Swarm node's (empty: the one engine chosen as the docker CLI would).
fn engines(
    contexts: &[String],
    config: Option<&std::path::Path>,
) -> Result<Vec<(String, Engine)>, Error> {
    if !contexts.is_empty() {
        return Ok(contexts
            .iter()
            .map(|name| (name.clone(), Engine::of_context(name)))
            .collect());
    }
    let entries = Profile::load(config)?.engines;
    Ok(entries
        .iter()
        .filter(|entry| entry.node.is_none())
        .map(|entry| (entry.name.clone(), Engine::of_entry(entry)))
        .collect())
}

/// `man`: one page on stdout, or every page in a folder.
fn man(args: &ManArgs) -> Result<u8, Error> {
    if let Some(dir) = &args.out_dir {
        let written = manual::write_all(dir).map_err(|e| Error::CannotRun(e.to_string()))?;
        eprintln!("{written} manual pages written to {}", dir.display());
        return Ok(exit_code::OK);
    }
    let page = manual::page(&args.command).map_err(|e| Error::Usage(e.to_string()))?;
    crate::output::write_output(
        std::path::Path::new("-"),
        &String::from_utf8_lossy(&page.roff),
    )?;
    Ok(exit_code::OK)
}

/// The backup folder for commands that need no deployment (list, prune).
fn configured_backup_dir(config: Option<&std::path::Path>) -> Result<std::path::PathBuf, Error> {
    Ok(state::backup_dir(&Profile::load(config)?.backup_dir))
}
