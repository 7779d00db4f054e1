//! The EXAMPLES every command's `--help` ends with (and its man page shows):
//! one table per command, rendered under a heading styled as clap's own.

use clap::builder::StyledStr;
use std::fmt::Write;

/// `(what it does, the command line)`, the command line without the program name.
pub type Example = (&'static str, &'static str);

/// The "Examples:" block of a `--help`.
pub fn examples(examples: &[Example]) -> StyledStr {
    let header = clap::builder::Styles::default().get_header().to_owned();
    let mut text = StyledStr::new();
    let _ = write!(text, "{header}Examples:{header:#}");
    for (what, line) in examples {
        let _ = write!(text, "\n  # {what}\n  helpdesk-doctor {line}");
    }
    text
}

/// The examples back from a command's `after_help`, for its man page.
pub fn parse(after_help: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut what = String::new();
    for line in after_help.lines().skip(1).map(str::trim) {
        match line.strip_prefix("# ") {
            Some(comment) => what = comment.to_string(),
            None if !line.is_empty() => found.push((std::mem::take(&mut what), line.to_string())),
            None => {}
        }
    }
    found
}

pub const TOP: &[Example] = &[
    ("Every check, the fix under each failure", "diagnose"),
    (
        "In CI after `docker-compose up -d`: until all pass",
        "wait --timeout 180s",
    ),
    ("What the safe repairs would do", "fix --dry-run"),
];
pub const DIAGNOSE: &[Example] = &[
    ("The grouped verdict, each problem with its fix", "diagnose"),
    (
        "Every check of one service, with its details",
        "diagnose -v --service auth",
    ),
    (
        "Reports for CI in the same run",
        "diagnose --report junit=report.xml --report json=report.json",
    ),
];
pub const WAIT: &[Example] = &[
    (
        "After `up -d`, give the stack 3 minutes",
        "wait --timeout 180s",
    ),
    (
        "Only the health endpoints",
        "wait --only 'http.*' --interval 2s",
    ),
    (
        "A one-shot `migrate` container may have exited 0",
        "wait --allow-exited migrate",
    ),
];
pub const WATCH: &[Example] = &[
    (
        "A live screen, a run every 10 seconds",
        "watch --interval 10s",
    ),
    (
        "Ten minutes of JSON lines, warnings fail",
        "watch --duration 10m --strict > watch.jsonl",
    ),
];
pub const SERVE: &[Example] = &[
    (
        "For Prometheus on this host: a run every 30 s, scraped at :9464/metrics",
        "serve",
    ),
    (
        "Reachable from the monitoring network, a run a minute",
        "serve --listen 0.0.0.0:9464 --interval 1m",
    ),
    (
        "Only the data services' checks",
        "serve --only 'postgres.*,redis.*'",
    ),
];
pub const CHECKS: &[Example] = &[
    ("Every check: id, title, kind, file", "checks list"),
    (
        "The ids, for a script",
        "checks list --format json | jq -r '.[].id'",
    ),
    (
        "With your own checks added",
        "--checks-dir ./my-checks checks list",
    ),
];
pub const CACHE: &[Example] = &[
    (
        "How many auth tokens a flush would delete",
        "cache flush auth --pattern 'auth-service:tokens:*' --dry-run",
    ),
    (
        "Empty ticket's Redis without asking",
        "cache flush ticket --all --yes",
    ),
];
pub const TOKENS: &[Example] = &[
    (
        "How many expired refresh tokens there are",
        "tokens purge --dry-run",
    ),
    (
        "Delete them in batches of 500",
        "tokens purge --yes --batch 500",
    ),
];
pub const BACKUP: &[Example] = &[
    ("Dump every database to the backup folder", "backup"),
    (
        "Only auth's, to a folder of your own",
        "backup --only auth --out /srv/backups",
    ),
    (
        "Then restore it into throwaway containers",
        "backup --verify",
    ),
];
pub const BACKUP_VERIFY: &[Example] = &[
    (
        "Check a backup as a restore would",
        "backup verify /srv/backups/emergency-backup-20261128_061000",
    ),
    (
        "And restore it into throwaway containers",
        "backup verify --restore-test DIR",
    ),
];
pub const BACKUP_LIST: &[Example] = &[
    (
        "The backups of the backup folder, newest first",
        "backup list",
    ),
    ("Those of another folder", "backup list /srv/backups"),
];
pub const BACKUP_PRUNE: &[Example] = &[
    (
        "What keeping the 7 newest would delete",
        "backup prune --keep 7",
    ),
    ("Delete them", "backup prune --keep 7 --yes"),
];
pub const RESTORE: &[Example] = &[
    (
        "The plan: tables, rows now and in the backup",
        "restore DIR --dry-run",
    ),
    ("Only ticket's database", "restore DIR --only ticket"),
    (
        "Start what an interrupted restore left stopped",
        "restore --finish",
    ),
];
pub const FIX: &[Example] = &[
    ("The repair plan, nothing changed", "fix --dry-run"),
    ("Repair what failed in ticket", "fix ticket"),
    (
        "One check, without asking (CI)",
        "fix --yes container.user.redis",
    ),
];
pub const HISTORY: &[Example] = &[
    ("The saved runs, oldest first", "history"),
    (
        "The newest run's status, for a script",
        "history --format json | jq '.[-1].status'",
    ),
];
pub const DIFF: &[Example] = &[
    ("What changed since the last healthy run", "diff"),
    (
        "Between two saved runs (numbers from `history`)",
        "diff 3 5",
    ),
];
pub const LOGS: &[Example] = &[
    (
        "auth's warnings and errors of the last 10 minutes",
        "logs auth --since 10m --level warn",
    ),
    (
        "The last 20 lines of the databases matching a word",
        "logs db -i --grep 'deadlock|timeout' -n 20",
    ),
    ("Follow every container, with timestamps", "logs -f -t"),
];
pub const BUNDLE: &[Example] = &[
    ("A bundle of the last hour, here", "bundle"),
    (
        "Six hours of logs, to a file of your own",
        "bundle --since 6h --out /tmp/incident.tar.gz",
    ),
];
pub const COMPLETIONS: &[Example] = &[
    (
        "Bash, for every user",
        "completions bash > /etc/bash_completion.d/helpdesk-doctor",
    ),
    (
        "Zsh, in a folder of your fpath",
        "completions zsh > ~/.zfunc/_helpdesk-doctor",
    ),
    (
        "Fish",
        "completions fish > ~/.config/fish/completions/helpdesk-doctor.fish",
    ),
];
pub const MAN: &[Example] = &[
    ("Read the manual without installing it", "man | man -l -"),
    ("One command's page", "man diagnose | man -l -"),
    (
        "Every page, for a package",
        "man --out-dir /usr/local/share/man/man1",
    ),
];
pub const CONFIG: &[Example] = &[
    (
        "The settings in effect and where each came from",
        "config show",
    ),
    (
        "A commented config for the deployment found",
        "config init > /etc/helpdesk-doctor/config.toml",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_come_back_from_the_help_text() {
        let text = examples(DIFF).to_string();
        assert!(text.starts_with("Examples:"), "{text}");
        assert_eq!(
            parse(&text),
            vec![
                (
                    "What changed since the last healthy run".to_string(),
                    "helpdesk-doctor diff".to_string()
                ),
                (
                    "Between two saved runs (numbers from `history`)".to_string(),
                    "helpdesk-doctor diff 3 5".to_string()
                ),
            ]
        );
    }
}
