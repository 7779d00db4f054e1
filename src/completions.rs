//! Shell completion scripts (`helpdesk-doctor completions SHELL`), clap's,
//! with clap_complete's bash naming of a hyphenated binary made consistent.

use clap::CommandFactory;
use clap_complete::Shell;

const BIN: &str = "helpdesk-doctor";

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut command = crate::cli::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        // clap_complete 4.6 names a subcommand's state `helpdesk__doctor__subcmd__backup`
        // where it walks the words but `helpdesk__subcmd__doctor__subcmd__backup`
        // where it completes them (the bin name's `-` mapped two ways), so no
        // subcommand ever completed: one name for both.
        Shell::Bash => script.replace("helpdesk__subcmd__doctor", "helpdesk__doctor"),
        _ => script,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state the bash script walks into (`cmd="…"`) has its completion case.
    #[test]
    fn every_bash_subcommand_state_has_its_case() {
        let bash = script(Shell::Bash);
        let states: Vec<&str> = bash
            .lines()
            .filter_map(|l| l.trim().strip_prefix("cmd=\""))
            .filter_map(|l| l.strip_suffix('"'))
            .filter(|state| !state.is_empty())
            .collect();
        assert!(states.contains(&"helpdesk__doctor__subcmd__backup__subcmd__verify"));
        for state in states {
            assert!(
                bash.lines().any(|l| l.trim() == format!("{state})")),
                "no completion case for {state}"
            );
        }
    }
}
