//! A command-line error in one line, as every error of the doctor: its prefix,
//! clap's first line, then what would have been valid (the values of a value
//! enum, the commands at that level) and clap's suggestion.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The start of every error line the doctor prints.
pub const PREFIX: &str = "helpdesk-doctor: ";

/// `error` as one line; `command` and `argv` tell which command's subcommands
/// an unknown one was looked for among.
pub fn line(error: &clap::Error, command: &clap::Command, argv: &[String]) -> String {
    let rendered = error.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid command line");
    let mut line = format!("{PREFIX}{}", first.strip_prefix("error: ").unwrap_or(first));
    // "the following required arguments were not provided:" lists them below.
    if line.ends_with(':') {
        line += &format!(
            " {}",
            strings(error.get(ContextKind::InvalidArg)).join(", ")
        );
    }
    let valid = match error.kind() {
        ErrorKind::InvalidSubcommand => subcommands(reached(command, argv)),
        _ => strings(error.get(ContextKind::ValidValue)),
    };
    if !valid.is_empty() {
        line += &format!("; valid: {}", valid.join(", "));
    }
    let suggested = [
        ContextKind::SuggestedValue,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
    ]
    .into_iter()
    .flat_map(|kind| strings(error.get(kind)))
    .collect::<Vec<_>>();
    if let Some(first) = suggested.first() {
        line += &format!("; did you mean {first}?");
    }
    line + " (see --help)"
}

/// The deepest subcommand `argv` names, from the top command down.
fn reached<'a>(command: &'a clap::Command, argv: &[String]) -> &'a clap::Command {
    let mut at = command;
    for word in argv.iter().skip(1) {
        match at.find_subcommand(word) {
            Some(sub) => at = sub,
            None if word.starts_with('-') => {}
            None => break,
        }
    }
    at
}

fn subcommands(command: &clap::Command) -> Vec<String> {
    command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect()
}

fn strings(value: Option<&ContextValue>) -> Vec<String> {
    match value {
        Some(ContextValue::Strings(values)) => values.clone(),
        Some(ContextValue::String(value)) => vec![value.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::{CommandFactory, Parser};

    fn error_of(args: &[&str]) -> String {
        let argv: Vec<String> = std::iter::once("helpdesk-doctor")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        let error = Cli::try_parse_from(&argv).expect_err("a usage error");
        line(&error, &Cli::command(), &argv)
    }

    #[test]
    fn a_bad_value_lists_the_valid_ones() {
        let line = error_of(&["diagnose", "--format", "xml"]);
        assert!(line.starts_with(PREFIX), "{line}");
        assert!(
            line.contains("valid: human, table, json, junit, tap, nagios, prometheus"),
            "{line}"
        );
        let missing = error_of(&["diagnose", "--format"]);
        assert!(missing.contains("valid: human"), "{missing}");
        let color = error_of(&["--color", "sometimes", "history"]);
        assert!(color.contains("valid: auto, always, never"), "{color}");
    }

    #[test]
    fn an_unknown_command_lists_those_of_its_level() {
        let top = error_of(&["nonsense"]);
        assert!(top.contains("valid: diagnose, wait"), "{top}");
        let checks = error_of(&["checks", "nonsense"]);
        assert!(checks.ends_with("valid: list (see --help)"), "{checks}");
    }

    #[test]
    fn a_misspelt_flag_gets_the_suggestion() {
        let line = error_of(&["diagnose", "--formt", "json"]);
        assert!(line.contains("did you mean --format?"), "{line}");
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn a_missing_argument_is_named() {
        let line = error_of(&["backup", "prune"]);
        assert!(line.contains("not provided: --keep <KEEP>"), "{line}");
    }
}
