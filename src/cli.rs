//! Command-line types (clap derive), and their conversion into the runbooks' options.

use crate::help::{self, examples};
use crate::report::Format;
use crate::runbook::{self, pg_tool::Via};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// Diagnoses and repairs a helpdesk microservices deployment (docker-compose,
/// PostgreSQL, Redis): every check of the troubleshooting guide at once, its
/// runbooks done safely, and a CI smoke gate.
///
/// Exit codes: 0 healthy (warnings allowed), 1 a check failed, 2 usage or invalid
/// config/check file, 3 the doctor could not run, 4 `wait` timed out, 5 a runbook
/// was refused before changing anything, 6 a runbook failed.
#[derive(Debug, Parser)]
#[command(name = "helpdesk-doctor", version, about, long_about, after_help = examples(help::TOP))]
pub struct Cli {
    /// Deployment profile (TOML) overriding the built-in default (the guide's layout).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "HELPDESK_DOCTOR_CONFIG",
        help_heading = GLOBAL
    )]
    pub config: Option<PathBuf>,
    /// The compose project of the deployment. Default: $COMPOSE_PROJECT_NAME, the
    /// config's compose_project, the folder of a compose file here, else the one
    /// project on the engine running the guide's services.
    #[arg(long, global = true, value_name = "NAME", help_heading = GLOBAL)]
    pub project: Option<String>,
    /// The docker context whose engine to use (as `docker --context`; wins over
    /// DOCKER_HOST). Default: DOCKER_HOST, DOCKER_CONTEXT, the current context.
    /// Repeated (diagnose only): one run over several engines.
    #[arg(long, global = true, value_name = "NAME", help_heading = GLOBAL)]
    pub context: Vec<String>,
    /// Extra check files (*.toml); a check with a built-in's id replaces it.
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub checks_dir: Vec<PathBuf>,
    /// Colour: auto (on a terminal; NO_COLOR turns it off, CLICOLOR_FORCE on), always, never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, help_heading = GLOBAL)]
    pub color: Color,
    #[command(subcommand)]
    pub command: Command,
}

/// The heading of the options every command takes, apart from its own.
const GLOBAL: &str = "Global options";

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every check at once and print the fix next to each failure.
    #[command(after_help = examples(help::DIAGNOSE))]
    Diagnose(DiagnoseArgs),
    /// Re-run the checks until all pass or the timeout expires (for CI after `up`).
    #[command(after_help = examples(help::WAIT))]
    Wait(WaitArgs),
    /// Re-run the checks every interval: a live screen on a terminal, one JSON
    /// line per run when piped; warns of trends one run cannot see (memory that
    /// keeps growing — a leak —, slowing responses, restarts).
    #[command(after_help = examples(help::WATCH))]
    Watch(WatchArgs),
    /// Monitoring mode: run the checks every interval and serve the last run
    /// over HTTP — /metrics for Prometheus, /report.json, /healthz, and a status
    /// page at / (the grouped verdict, the last runs as a timeline).
    #[command(after_help = examples(help::SERVE))]
    Serve(ServeArgs),
    /// The check catalog.
    #[command(subcommand, after_help = examples(help::CHECKS))]
    Checks(ChecksCommand),
    /// Redis cache runbooks.
    #[command(subcommand, after_help = examples(help::CACHE))]
    Cache(CacheCommand),
    /// Refresh-token runbooks.
    #[command(subcommand, after_help = examples(help::TOKENS))]
    Tokens(TokensCommand),
    /// Back up the databases (the guide's emergency-backup.sh, done safely), or
    /// verify, list and prune backups.
    #[command(after_help = examples(help::BACKUP))]
    Backup(BackupCommand),
    /// Restore databases from a backup: verified, planned, confirmed, all-or-nothing.
    #[command(after_help = examples(help::RESTORE))]
    Restore(RestoreArgs),
    /// Repair what failed, safely: the repairs the catalog declares (start a
    /// container, purge expired tokens, create a missing index), in root-cause
    /// order, planned, confirmed, then checked again.
    #[command(after_help = examples(help::FIX))]
    Fix(FixArgs),
    /// The runs diagnose saved (the last 50), oldest first.
    #[command(after_help = examples(help::HISTORY))]
    History(HistoryArgs),
    /// What changed between two saved runs: by default the last that passed and
    /// a run made now.
    #[command(after_help = examples(help::DIFF))]
    Diff {
        /// The earlier run (its number in `history`, or its file name).
        from: Option<String>,
        /// The later run (default: run the checks now).
        to: Option<String>,
    },
    /// The containers' logs merged in time order, masked: `logs auth --since 10m
    /// --level warn`, `logs db --grep 'deadlock|timeout'`, `logs --follow`.
    #[command(after_help = examples(help::LOGS))]
    Logs(LogsArgs),
    /// Write a support bundle for escalation: the report, each container's recent
    /// logs and inspect, the compose files, versions and host facts, masked.
    #[command(after_help = examples(help::BUNDLE))]
    Bundle(BundleArgs),
    /// The settings in effect and where each came from (`show`), or a commented
    /// config for the deployment found (`init`).
    #[command(subcommand, after_help = examples(help::CONFIG))]
    Config(ConfigCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = examples(help::COMPLETIONS))]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): `helpdesk-doctor man | man -l -`, or write
    /// every page to a folder.
    #[command(after_help = examples(help::MAN))]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// text: one line per run; json: each run's number, file, time, status and summary.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (e.g. `diagnose`, `backup verify`).
    /// Default: helpdesk-doctor's own.
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Vec<String>,
    /// Write every page (helpdesk-doctor.1, helpdesk-doctor-diagnose.1, …) to this folder.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every setting in effect and where it came from: the built-in default, the
    /// config file (which one), a flag, the environment or the engine.
    #[command(after_help = examples(help::CONFIG))]
    Show {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print a commented config for the deployment found on the engine (its
    /// project, services, ports, databases): uncomment what to pin.
    #[command(after_help = examples(help::CONFIG))]
    Init {
        /// The built-in defaults, without asking the engine (the packaged
        /// /etc/helpdesk-doctor/config.toml).
        #[arg(long)]
        defaults: bool,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupCommand {
    #[command(subcommand)]
    pub action: Option<BackupAction>,
    #[command(flatten)]
    pub args: BackupArgs,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to create emergency-backup-YYYYmmdd_HHMMSS/ (UTC). Default: the
    /// backup folder (/var/backups/helpdesk-doctor as root, see docs/runbooks.md).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only these services' databases (comma-separated: auth,user,ticket).
    #[arg(long, value_delimiter = ',', value_name = "SERVICE")]
    pub only: Vec<String>,
    /// Also archive each database volume. This STOPS each database container for
    /// the time of the archive (a running data directory is not a consistent
    /// backup), then starts it again and waits until it is healthy.
    #[arg(long)]
    pub volumes: bool,
    /// Run pg_dump inside the database containers (docker) or on this host over
    /// the published ports (direct, for databases that are not containers).
    #[arg(long, value_enum, default_value_t = Via::Docker)]
    pub via: Via,
    /// Stop pg_dump when it moves no byte for this long (a paused or hung database).
    /// Default: the profile's timeouts.stall_ms (60s).
    #[arg(long, value_parser = crate::duration_rule::parse, value_name = "DUR")]
    pub stall_timeout: Option<Duration>,
    /// Then drill the new backup: restore it into throwaway containers (see
    /// `backup verify --restore-test`).
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Subcommand)]
pub enum BackupAction {
    /// Check a backup as a restore would: signed by this doctor, complete, every
    /// file regular with its size and sha256, every dump pg_dump output.
    #[command(after_help = examples(help::BACKUP_VERIFY))]
    Verify {
        dir: PathBuf,
        /// Accept a backup not signed by this doctor's key (it is still checked).
        #[arg(long)]
        trust_foreign_backup: bool,
        /// Also restore each dump into a throwaway container of its database's
        /// image and compare every table's row count with the manifest.
        #[arg(long)]
        restore_test: bool,
    },
    /// Backups found in DIR (default: the backup folder), newest first: status
    /// (complete, failed, incomplete), size, age.
    #[command(after_help = examples(help::BACKUP_LIST))]
    List { dir: Option<PathBuf> },
    /// Keep the newest N complete backups and delete the rest (a dry run unless --yes).
    #[command(after_help = examples(help::BACKUP_PRUNE))]
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// How many complete backups to keep (the last complete one is always kept).
    #[arg(long)]
    pub keep: usize,
    /// Where the backups are (default: the backup folder).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The same as DIR (the older spelling).
    #[arg(long = "dir", value_name = "DIR", hide = true, conflicts_with = "dir")]
    pub dir_flag: Option<PathBuf>,
    /// Delete (without it, only show what would be deleted).
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory (emergency-backup-…).
    #[arg(required_unless_present = "finish")]
    pub dir: Option<PathBuf>,
    /// Finish a restore that was interrupted: start the application containers
    /// it left stopped and wait until they are healthy.
    #[arg(long, conflicts_with_all = ["dir", "only", "no_safety_backup"])]
    pub finish: bool,
    /// Accept a backup not signed by this doctor's key (made on another host, or
    /// by hand). It is still fully checked before anything changes.
    #[arg(long)]
    pub trust_foreign_backup: bool,
    /// Only these services' databases (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "SERVICE")]
    pub only: Vec<String>,
    #[arg(long, value_enum, default_value_t = Via::Docker)]
    pub via: Via,
    /// Stop psql or pg_dump when it moves no byte for this long (a paused or hung
    /// database): the transaction is rolled back. Default: timeouts.stall_ms (60s).
    #[arg(long, value_parser = crate::duration_rule::parse, value_name = "DUR")]
    pub stall_timeout: Option<Duration>,
    /// Skip the backup of the current databases taken before restoring.
    #[arg(long)]
    pub no_safety_backup: bool,
    /// Where the safety backup goes (default: the backup folder).
    #[arg(long, value_name = "DIR")]
    pub safety_dir: Option<PathBuf>,
    #[command(flatten)]
    pub confirmation: Confirmation,
}

#[derive(Debug, Default, Args)]
pub struct Selection {
    /// Run only checks whose id matches one of these globs (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "GLOB")]
    pub only: Vec<String>,
    /// Skip checks whose id matches one of these globs (a check that a chosen one
    /// needs still runs, and the doctor says so).
    #[arg(long, value_delimiter = ',', value_name = "GLOB")]
    pub skip: Vec<String>,
    /// Only the checks of these services (comma-separated: auth,user,ticket), with
    /// the docker and host checks they need.
    #[arg(long, value_delimiter = ',', value_name = "SERVICE")]
    pub service: Vec<String>,
    /// Each probe's timeout (e.g. 2s, 500ms). Default: the profile's (2s).
    #[arg(long, value_parser = crate::duration_rule::parse, value_name = "DUR")]
    pub probe_timeout: Option<Duration>,
    /// The whole run's deadline. Default: the profile's (10s).
    #[arg(long, value_parser = crate::duration_rule::parse, value_name = "DUR")]
    pub deadline: Option<Duration>,
}

impl From<&Selection> for crate::plan::Wanted {
    fn from(s: &Selection) -> crate::plan::Wanted {
        crate::plan::Wanted {
            only: s.only.clone(),
            skip: s.skip.clone(),
            services: s.service.clone(),
            probe_timeout: s.probe_timeout,
            deadline: s.deadline,
        }
    }
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report here ("-" = stdout).
    #[arg(long, short, value_name = "FILE", default_value = "-")]
    pub output: PathBuf,
    /// Warnings fail the run too (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Every check with its details (the table), not the summary.
    #[arg(long, short, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only the failures and the verdict.
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not save this run in the history (`history`, `diff`).
    #[arg(long)]
    pub no_history: bool,
    /// Also write a machine report, e.g. `--report junit=report.xml` (repeatable;
    /// formats: json, junit, tap, nagios, prometheus, table, human).
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report)]
    pub reports: Vec<ReportTarget>,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// Only these checks (id globs) or services (auth, user, ticket).
    #[arg(value_name = "CHECK-ID|SERVICE")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub confirmation: Confirmation,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The archive to write (mode 0600). Default: helpdesk-doctor-bundle-<UTC time>.tar.gz here.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Logs since this long ago.
    #[arg(long, value_parser = crate::duration_rule::parse, default_value = "1h", value_name = "DUR")]
    pub since: Duration,
    /// At most this many log lines per container (the last ones).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub max_log_lines: u64,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// A service (auth, user, ticket: all its containers), a role (service, db,
    /// redis), a compose service or a container. Default: every container of the project.
    #[arg(value_name = "SERVICE|ROLE")]
    pub selected: Vec<String>,
    /// Only lines since this long ago (10m, 2h) or this UTC time
    /// (2026-11-28T10:00:00Z), as `docker logs --since`.
    #[arg(long, value_parser = crate::duration_rule::parse_since, value_name = "DUR|TIME")]
    pub since: Option<std::time::SystemTime>,
    /// At most this many lines per container: the last ones that --grep and
    /// --level kept.
    #[arg(long, short = 'n', value_name = "N")]
    pub tail: Option<u64>,
    /// Only lines matching this regular expression (matched after masking, before
    /// -n takes the last N).
    #[arg(long, value_parser = parse_grep, value_name = "REGEX")]
    pub grep: Option<String>,
    /// --grep ignores case.
    #[arg(long, short = 'i', requires = "grep")]
    pub ignore_case: bool,
    /// Only lines of this level or more severe (JSON `level`, or the words and
    /// markers PostgreSQL, Node and Redis write).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub level: Option<crate::logs::Level>,
    /// Keep streaming new lines (across container restarts) until Ctrl-C.
    #[arg(long, short)]
    pub follow: bool,
    /// Prefix each line with the engine's timestamp.
    #[arg(long, short)]
    pub timestamps: bool,
}

/// A `--grep` that does not compile (or would be too large).
#[derive(Debug, thiserror::Error)]
#[error("{pattern:?} is not a regular expression: {source}")]
pub struct InvalidPattern {
    pattern: String,
    #[source]
    source: regex::Error,
}

/// A `--grep` pattern, bounded in size (a hostile pattern cannot exhaust memory).
pub fn grep(pattern: &str, ignore_case: bool) -> Result<regex::Regex, InvalidPattern> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .case_insensitive(ignore_case)
        .build()
        .map_err(|source| InvalidPattern {
            pattern: pattern.to_string(),
            source,
        })
}

/// A `--grep` that compiles (it is compiled again with `-i` once all flags are read).
fn parse_grep(text: &str) -> Result<String, InvalidPattern> {
    grep(text, false).map(|_| text.to_string())
}

impl LogsArgs {
    /// `--grep` with `-i` (which may make a pattern too large).
    pub fn grep(&self) -> Result<Option<regex::Regex>, InvalidPattern> {
        self.grep
            .as_deref()
            .map(|pattern| grep(pattern, self.ignore_case))
            .transpose()
    }
}

/// One `--report FORMAT=PATH`.
#[derive(Clone, Debug)]
pub struct ReportTarget {
    pub format: Format,
    pub path: PathBuf,
}

/// A `--report` that is not `FORMAT=PATH`.
#[derive(Debug, thiserror::Error)]
pub enum InvalidReport {
    #[error("{0:?}: expected FORMAT=PATH, e.g. junit=report.xml")]
    NotFormatEqualsPath(String),
    #[error("{0:?} is not a format (json, junit, tap, nagios, prometheus, table, human)")]
    UnknownFormat(String),
    #[error("{0:?}: the path is empty")]
    EmptyPath(String),
}

fn parse_report(text: &str) -> Result<ReportTarget, InvalidReport> {
    let (format, path) = text
        .split_once('=')
        .ok_or_else(|| InvalidReport::NotFormatEqualsPath(text.to_string()))?;
    let format = <Format as clap::ValueEnum>::from_str(format, true)
        .map_err(|_| InvalidReport::UnknownFormat(format.to_string()))?;
    if path.is_empty() {
        return Err(InvalidReport::EmptyPath(text.to_string()));
    }
    Ok(ReportTarget {
        format,
        path: PathBuf::from(path),
    })
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Give up after this long (exit 4).
    #[arg(long, value_parser = crate::duration_rule::parse, default_value = "120s", value_name = "DUR")]
    pub timeout: Duration,
    /// Pause between two rounds of checks.
    #[arg(long, value_parser = crate::duration_rule::parse, default_value = "1s", value_name = "DUR")]
    pub interval: Duration,
    /// Containers (compose service names, e.g. `migrate`) that may have exited 0 on purpose.
    #[arg(long, value_delimiter = ',', value_name = "SERVICE")]
    pub allow_exited: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Pause between two runs.
    #[arg(long, value_parser = crate::duration_rule::parse, default_value = "5s", value_name = "DUR")]
    pub interval: Duration,
    /// Stop after this long (default: until Ctrl-C).
    #[arg(long, value_parser = crate::duration_rule::parse, value_name = "DUR")]
    pub duration: Option<Duration>,
    /// Warnings (trends included) fail the watch too (exit 1).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Run the checks every this long (a run never overlaps the next; a scrape never starts one).
    #[arg(long, value_parser = crate::duration_rule::parse, default_value = "30s", value_name = "DUR")]
    pub interval: Duration,
    /// Address and port to serve on: loopback by default; 0.0.0.0:9464 (or
    /// [::]:9464) serves on every interface.
    #[arg(long, default_value = "127.0.0.1:9464", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Runs the status page's timeline keeps (the oldest go first).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u16).range(1..=1000), value_name = "N")]
    pub keep_runs: u16,
}

#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// Print the catalog: id, title, kind, needs, source file.
    #[command(after_help = examples(help::CHECKS))]
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Delete keys of a service's Redis by pattern (SCAN + UNLINK), or all of them (FLUSHDB ASYNC).
    #[command(after_help = examples(help::CACHE))]
    Flush(FlushArgs),
}

#[derive(Debug, Args)]
pub struct Confirmation {
    /// Show what would change and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do it without asking (required without a TTY).
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct FlushArgs {
    /// auth, user or ticket: whose Redis.
    pub service: String,
    /// Delete keys matching this glob (e.g. 'auth-service:tokens:*').
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    pub pattern: Option<String>,
    /// Flush the whole database (FLUSHDB ASYNC).
    #[arg(long)]
    pub all: bool,
    /// Keys per SCAN/UNLINK batch (300 keeps other clients' p99 latency under 5 ms here).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch: u32,
    #[command(flatten)]
    pub confirmation: Confirmation,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Delete expired refresh tokens from auth_db, in batches.
    #[command(after_help = examples(help::TOKENS))]
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Rows deleted per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub batch: i64,
    #[command(flatten)]
    pub confirmation: Confirmation,
}

/// The runbooks' own options, from the command line (runbooks never see clap's types).
impl From<&Confirmation> for runbook::Confirmation {
    fn from(c: &Confirmation) -> Self {
        runbook::Confirmation {
            dry_run: c.dry_run,
            yes: c.yes,
        }
    }
}

/// The runbooks' options, with the backup folder used where none was named.
impl From<(&BackupArgs, PathBuf)> for runbook::backup::BackupOptions {
    fn from((a, backups): (&BackupArgs, PathBuf)) -> Self {
        runbook::backup::BackupOptions {
            out: a.out.clone().unwrap_or(backups),
            only: a.only.clone(),
            volumes: a.volumes,
            via: a.via,
        }
    }
}

impl From<(&PruneArgs, PathBuf)> for runbook::prune::PruneOptions {
    fn from((a, backups): (&PruneArgs, PathBuf)) -> Self {
        runbook::prune::PruneOptions {
            keep: a.keep,
            dir: a
                .dir
                .clone()
                .or_else(|| a.dir_flag.clone())
                .unwrap_or(backups),
            yes: a.yes,
        }
    }
}

impl From<(&RestoreArgs, PathBuf)> for runbook::restore::RestoreOptions {
    fn from((a, backups): (&RestoreArgs, PathBuf)) -> Self {
        runbook::restore::RestoreOptions {
            dir: a.dir.clone(),
            finish: a.finish,
            trust_foreign_backup: a.trust_foreign_backup,
            only: a.only.clone(),
            via: a.via,
            no_safety_backup: a.no_safety_backup,
            safety_dir: a.safety_dir.clone().unwrap_or(backups),
            confirmation: (&a.confirmation).into(),
        }
    }
}

impl From<&FlushArgs> for runbook::cache::FlushOptions {
    fn from(a: &FlushArgs) -> Self {
        runbook::cache::FlushOptions {
            service: a.service.clone(),
            pattern: a.pattern.clone(),
            batch: a.batch,
            confirmation: (&a.confirmation).into(),
        }
    }
}

impl From<&PurgeArgs> for runbook::tokens::PurgeOptions {
    fn from(a: &PurgeArgs) -> Self {
        runbook::tokens::PurgeOptions {
            batch: a.batch,
            confirmation: (&a.confirmation).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
