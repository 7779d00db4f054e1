//! The manual: one page per command (clap_mangen renders NAME, SYNOPSIS,
//! DESCRIPTION, OPTIONS and SUBCOMMANDS from the clap types), each followed by
//! EXAMPLES (those of its `--help`), EXIT STATUS, ENVIRONMENT, FILES and SEE ALSO.

use crate::cli::Cli;
use crate::exit_code;
use clap::CommandFactory;
use roff::{Roff, bold, roman};
use std::path::Path;

/// One manual page: `helpdesk-doctor-backup-verify` and its roff text.
pub struct Page {
    pub name: String,
    pub roff: Vec<u8>,
}

/// Why a page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("no command {0:?} (see helpdesk-doctor --help)")]
    NoSuchCommand(String),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

const EXIT_STATUS: &[(u8, &str)] = &[
    (
        exit_code::OK,
        "Healthy (warnings allowed), or the runbook succeeded.",
    ),
    (
        exit_code::CHECK_FAILED,
        "A check failed (a warning too under --strict); backup verify found the backup invalid.",
    ),
    (
        exit_code::USAGE,
        "A wrong flag or value, or an invalid config or check file (named with its line).",
    ),
    (
        exit_code::CANNOT_RUN,
        "The doctor could not run (output not writable, the engine, PostgreSQL or Redis \
         unreachable for a runbook), or no check failed but one was cut off by --deadline \
         (UNKNOWN). With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    ),
    (
        exit_code::WAIT_TIMEOUT,
        "wait gave up before every check passed.",
    ),
    (
        exit_code::REFUSED,
        "A runbook refused before changing anything: not confirmed, no terminal without --yes, \
         the lock held, an invalid backup.",
    ),
    (
        exit_code::RUNBOOK_FAILED,
        "A runbook started and failed; what was and was not changed is printed.",
    ),
    (
        exit_code::INTERRUPTED,
        "A runbook got SIGINT or SIGTERM: its transactions were rolled back and what it had \
         stopped was started again.",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    ("HELPDESK_DOCTOR_CONFIG", "The config file, as --config."),
    (
        "COMPOSE_PROJECT_NAME",
        "The compose project of the deployment, when --project names none.",
    ),
    (
        "DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_CONTEXT",
        "Which Docker engine, as the docker CLI reads them (--context wins).",
    ),
    (
        "HELPDESK_<SERVICE>_DB_PASSWORD, HELPDESK_DB_PASSWORD (or …_FILE), PGPASSWORD, PGPASSFILE",
        "PostgreSQL passwords, before those the deployment keeps.",
    ),
    (
        "HELPDESK_<SERVICE>_REDIS_PASSWORD, HELPDESK_REDIS_PASSWORD (or …_FILE), REDISCLI_AUTH",
        "Redis passwords, before those the deployment keeps.",
    ),
    (
        "HELPDESK_DOCTOR_STATE_DIR",
        "The state folder (history, signing key, records of interrupted runbooks).",
    ),
    ("HELPDESK_DOCTOR_BACKUP_DIR", "The backup folder."),
    (
        "NO_COLOR, CLICOLOR_FORCE",
        "Colour off (NO_COLOR set and not empty), or on even when not a terminal \
         (CLICOLOR_FORCE set and not 0); --color always|never wins over both.",
    ),
    (
        "XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_RUNTIME_DIR",
        "Where the user's config, state and lock are when not root.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "~/.config/helpdesk-doctor/config.toml, /etc/helpdesk-doctor/config.toml",
        "The config, when neither --config nor HELPDESK_DOCTOR_CONFIG names one (the first \
         found); none: the built-in profile.",
    ),
    (
        "/var/lib/helpdesk-doctor/ (root), ~/.local/state/helpdesk-doctor/",
        "The state folder: history/ (the last 50 runs), the backup signing key, the records \
         of an interrupted restore or fix.",
    ),
    (
        "/var/backups/helpdesk-doctor/ (root), <state folder>/backups/",
        "The backup folder.",
    ),
    (
        "/run/helpdesk-doctor/lock (root), $XDG_RUNTIME_DIR/helpdesk-doctor/lock",
        "The runbook lock.",
    ),
];

/// Every page, helpdesk-doctor's first, then each command's, depth first.
pub fn pages() -> Vec<Page> {
    let mut top = root();
    top.build();
    let mut found = Vec::new();
    collect(&top, &mut found);
    found
}

/// The page of the command `path` names (`["backup", "verify"]`); empty: the top one.
pub fn page(path: &[String]) -> Result<Page, ManualError> {
    let mut top = root();
    top.build();
    let mut at = &top;
    for word in path {
        at = at
            .find_subcommand(word)
            .ok_or_else(|| ManualError::NoSuchCommand(path.join(" ")))?;
    }
    Ok(render(at))
}

/// Writes every page to `dir` as NAME.1.
pub fn write_all(dir: &Path) -> Result<usize, ManualError> {
    let failed = |path: &Path| {
        let path = path.display().to_string();
        move |source| ManualError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    let pages = pages();
    for page in &pages {
        let path = dir.join(format!("{}.1", page.name));
        std::fs::write(&path, &page.roff).map_err(failed(&path))?;
    }
    Ok(pages.len())
}

fn root() -> clap::Command {
    Cli::command().disable_help_subcommand(true)
}

fn collect(command: &clap::Command, found: &mut Vec<Page>) {
    found.push(render(command));
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, found);
    }
}

fn name(command: &clap::Command) -> String {
    command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_string()
}

fn render(command: &clap::Command) -> Page {
    let man = clap_mangen::Man::new(command.clone())
        .source(format!("helpdesk-doctor {}", env!("CARGO_PKG_VERSION")))
        .manual("helpdesk-doctor manual");
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        let _ = man.render_options_section(&mut out);
    }
    if command.get_subcommands().any(|s| !s.is_hide_set()) {
        let _ = man.render_subcommands_section(&mut out);
    }
    let mut roff = Roff::new();
    examples(&mut roff, command);
    definitions(
        &mut roff,
        "EXIT STATUS",
        EXIT_STATUS
            .iter()
            .map(|(code, what)| (code.to_string(), *what)),
    );
    definitions(
        &mut roff,
        "ENVIRONMENT",
        ENVIRONMENT
            .iter()
            .map(|(name, what)| (name.to_string(), *what)),
    );
    definitions(
        &mut roff,
        "FILES",
        FILES.iter().map(|(path, what)| (path.to_string(), *what)),
    );
    see_also(&mut roff, command);
    out.extend_from_slice(roff.render().as_bytes());
    Page {
        name: name(command),
        roff: out,
    }
}

fn examples(roff: &mut Roff, command: &clap::Command) {
    let Some(help) = command.get_after_help() else {
        return;
    };
    roff.control("SH", ["EXAMPLES"]);
    for (what, line) in crate::help::parse(&help.to_string()) {
        roff.control("TP", [])
            .text([bold(line)])
            .text([roman(what)]);
    }
}

fn definitions<'a>(roff: &mut Roff, section: &str, items: impl Iterator<Item = (String, &'a str)>) {
    roff.control("SH", [section]);
    for (term, what) in items {
        roff.control("TP", [])
            .text([bold(term)])
            .text([roman(what)]);
    }
}

/// The top page names every command's page; a command's names the top one and its own.
fn see_also(roff: &mut Roff, command: &clap::Command) {
    let mut names: Vec<String> = Vec::new();
    if command.get_name() != "helpdesk-doctor" {
        names.push("helpdesk-doctor(1)".into());
    }
    names.extend(
        command
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("{}(1)", name(s))),
    );
    names.extend(["docker(1)".to_string(), "docker-compose(1)".to_string()]);
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(names.join(", "))]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(page: &Page) -> String {
        String::from_utf8(page.roff.clone()).unwrap()
    }

    #[test]
    fn every_command_has_a_page_with_every_section() {
        let pages = pages();
        let names: Vec<&str> = pages.iter().map(|p| p.name.as_str()).collect();
        for expected in [
            "helpdesk-doctor",
            "helpdesk-doctor-diagnose",
            "helpdesk-doctor-backup-verify",
            "helpdesk-doctor-config-show",
        ] {
            assert!(names.contains(&expected), "{expected}: {names:?}");
        }
        for page in &pages {
            let text = text(page);
            for section in [
                "NAME",
                "SYNOPSIS",
                "EXAMPLES",
                "\"EXIT STATUS\"",
                "ENVIRONMENT",
                "FILES",
                "\"SEE ALSO\"",
            ] {
                assert!(
                    text.contains(&format!(".SH {section}")),
                    "{}: no {section}",
                    page.name
                );
            }
        }
    }

    #[test]
    fn a_page_shows_its_examples_and_exit_codes() {
        let diagnose = text(&page(&["diagnose".to_string()]).unwrap());
        assert!(
            diagnose.contains("\n.TH helpdesk-doctor-diagnose 1"),
            "{diagnose}"
        );
        assert!(
            diagnose.contains("helpdesk\\-doctor diagnose \\-v \\-\\-service auth"),
            "{diagnose}"
        );
        assert!(diagnose.contains("wait gave up"), "{diagnose}");
        assert!(page(&["nonsense".to_string()]).is_err());
    }
}
