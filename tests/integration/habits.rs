//! CLI habits (issue 22): a closed pipe ends every printing command quietly
//! with its own exit code; one error prefix, valid values listed; help with
//! examples that fits an 80-column terminal; CLICOLOR_FORCE; `history --format
//! json`; `config show` and `config init`; `logs --grep` before `-n`, with `-i`.

use crate::support::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Every command that prints, as it is typed.
const PRINTING: &[&[&str]] = &[
    &["history"],
    &["history", "--format", "json"],
    &["diff"],
    &["diagnose"],
    &["diagnose", "-v"],
    &["diagnose", "--format", "json"],
    &["logs"],
    &["checks", "list"],
    &["config", "show"],
    &["config", "init"],
    &["backup", "list"],
    &["man"],
    &["completions", "bash"],
    &["--help"],
    &["diagnose", "--help"],
];

/// A state folder with two saved runs (one passing), for `history` and `diff`.
fn with_history() -> tempfile::TempDir {
    let state = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let saved = run(doctor()
            .env("HELPDESK_DOCTOR_STATE_DIR", state.path())
            .args(["diagnose", "--only", "docker.engine"]));
        assert_eq!(saved.code, 0, "{}", saved.stderr);
    }
    state
}

/// The exit code and stderr of `args` whose stdout's reader is gone before it
/// writes a byte (a pipe whose read end is closed: every write is EPIPE).
fn into_closed_pipe(state: &std::path::Path, args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = doctor()
        .env("HELPDESK_DOCTOR_STATE_DIR", state)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The exit code the command has with its output read whole.
fn read_whole(state: &std::path::Path, args: &[&str]) -> i32 {
    run(doctor().env("HELPDESK_DOCTOR_STATE_DIR", state).args(args)).code
}

#[test]
fn a_closed_pipe_ends_every_printing_command_quietly() {
    let _stack = stack_shared();
    let state = with_history();
    for args in PRINTING {
        let (code, stderr) = into_closed_pipe(state.path(), args);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        let whole = read_whole(state.path(), args);
        assert_eq!(
            code, whole,
            "{args:?}: a closed pipe changes nothing of the exit code: {stderr}"
        );
        // On the healthy stack every one of them succeeds.
        if !args.starts_with(&["diagnose"]) {
            assert_eq!(code, 0, "{args:?}: {stderr}");
        }
    }
}

#[test]
fn piped_into_head_every_printing_command_exits_0() {
    let _stack = stack_shared();
    let state = with_history();
    let doctor = env!("CARGO_BIN_EXE_helpdesk-doctor");
    for args in PRINTING {
        if args.starts_with(&["diagnose"]) {
            continue; // its exit code is the verdict (see the closed-pipe test)
        }
        let line = args.join(" ");
        let out = sh(&format!(
            "export HELPDESK_DOCTOR_STATE_DIR={} NO_COLOR=1 RUST_BACKTRACE=0; \
             {doctor} {line} 2>/tmp/habits-$$.err | head -1 >/dev/null; \
             echo \"${{PIPESTATUS[0]}}\"; cat /tmp/habits-$$.err; rm -f /tmp/habits-$$.err",
            state.path().display()
        ));
        let (code, stderr) = out.split_once('\n').unwrap_or((&out, ""));
        assert_eq!(code.trim(), "0", "{line} | head -1: {stderr}");
        assert!(!stderr.contains("panicked"), "{line}: {stderr}");
    }
}

#[test]
fn errors_have_one_prefix_and_list_the_valid_values() {
    for (args, valid) in [
        (
            vec!["diagnose", "--format", "xml"],
            "valid: human, table, json, junit, tap, nagios, prometheus",
        ),
        (
            vec!["--color", "pink", "history"],
            "valid: auto, always, never",
        ),
        (vec!["history", "--format", "yaml"], "valid: text, json"),
        (
            vec!["logs", "--level", "loud"],
            "valid: debug, info, warn, error, fatal",
        ),
        (vec!["backup", "--via", "ftp"], "valid: docker, direct"),
        (vec!["checks", "lst"], "valid: list"),
        (
            vec!["diagnose", "--report", "yaml=r.yaml"],
            "json, junit, tap",
        ),
    ] {
        let run = run(doctor().args(&args));
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("helpdesk-doctor: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(valid), "{args:?}: {}", run.stderr);
    }
    // The doctor's own errors start the same way.
    let missing = run(doctor().args(["backup", "verify", "/nonexistent/backup"]));
    assert!(
        missing.stderr.starts_with("helpdesk-doctor: "),
        "{}",
        missing.stderr
    );
}

/// Every command, as `man --out-dir` names its page: `["backup", "verify"]`.
fn every_command() -> Vec<Vec<String>> {
    let pages = tempfile::tempdir().unwrap();
    let written = run(doctor().arg("man").arg("--out-dir").arg(pages.path()));
    assert_eq!(written.code, 0, "{}", written.stderr);
    let mut commands: Vec<Vec<String>> = std::fs::read_dir(pages.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .map(|name| {
            name.trim_end_matches(".1")
                .split('-')
                .skip(2)
                .map(String::from)
                .collect()
        })
        .collect();
    commands.sort();
    commands
}

#[test]
fn every_help_has_examples_and_fits_80_columns_in_a_terminal() {
    let commands = every_command();
    assert!(commands.len() >= 20, "{commands:?}");
    let doctor = env!("CARGO_BIN_EXE_helpdesk-doctor");
    let script: String = commands
        .iter()
        .flat_map(|command| {
            let words = command.join(" ");
            ["-h", "--help"]
                .map(|flag| format!("echo '=== {words} {flag}'; {doctor} {words} {flag}; "))
        })
        .collect();
    let screen = in_tmux_80(&(script + "echo EXIT=$?"));
    let mut widest = (0, String::new());
    for line in screen.lines() {
        let width = line.chars().count();
        if width > widest.0 {
            widest = (width, line.to_string());
        }
    }
    assert!(
        widest.0 <= 80,
        "a help line of {} columns: {}",
        widest.0,
        widest.1
    );
    // Each command's help ends with its examples.
    for help in screen.split("=== ").skip(1) {
        let title = help.lines().next().unwrap_or_default();
        assert!(
            help.contains("Examples:") && help.contains("  helpdesk-doctor "),
            "no examples in {title}: {help}"
        );
        if title.split_whitespace().count() > 1 {
            let global = help.find("Global options:");
            let own = help.find("Options:");
            assert!(
                global.is_some() && own.is_some(),
                "{title}: global options apart: {help}"
            );
        }
    }
}

/// Runs `script` in a tmux terminal 80 columns wide and returns every line it
/// showed, lines the terminal wrapped joined again (so a line wider than 80
/// shows as such).
fn in_tmux_80(script: &str) -> String {
    let socket = format!("habits-{}", std::process::id());
    let conf = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(conf.path(), "set -g history-limit 200000\n").unwrap();
    let tmux = format!("tmux -L {socket} -f {}", conf.path().display());
    let command = format!("{script}; sleep 60");
    sh(&format!(
        "{tmux} new-session -d -s help -x 80 -y 50 {}",
        shell_quote(&command)
    ));
    let deadline = Instant::now() + Duration::from_secs(120);
    let screen = loop {
        let screen = sh(&format!("{tmux} capture-pane -p -J -S - -E - -t help"));
        if screen.contains("EXIT=") {
            break screen;
        }
        assert!(Instant::now() < deadline, "never ended: {screen}");
        std::thread::sleep(Duration::from_millis(200));
    };
    sh(&format!("{tmux} kill-server"));
    screen
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[test]
fn clicolor_force_colours_a_pipe_and_no_color_wins() {
    let _stack = stack_shared();
    let args = ["diagnose", "--only", "docker.*"];
    let forced = run(doctor()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(args));
    assert!(forced.stdout.contains("\x1b["), "{}", forced.stdout);
    let plain = run(doctor()
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .args(args));
    assert!(!plain.stdout.contains("\x1b["), "{}", plain.stdout);
    let both = run(doctor().env("CLICOLOR_FORCE", "1").args(args));
    assert!(!both.stdout.contains("\x1b["), "{}", both.stdout);
}

#[test]
fn history_lists_its_runs_as_json() {
    let _stack = stack_shared();
    let state = with_history();
    let listed = run(doctor()
        .env("HELPDESK_DOCTOR_STATE_DIR", state.path())
        .args(["history", "--format", "json"]));
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let runs = listed.json();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for (i, saved) in runs.iter().enumerate() {
        assert_eq!(saved["number"], i + 1);
        assert_eq!(saved["status"], "pass");
        assert_eq!(saved["summary"]["total"], 1, "{saved}");
        let time = saved["time"].as_str().unwrap();
        assert!(time.ends_with('Z') && time.len() == 20, "{time}");
        assert!(
            saved["file"].as_str().unwrap().ends_with("-pass.json"),
            "{saved}"
        );
    }
}

#[test]
fn config_show_says_where_each_setting_came_from() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let config = temp_file(
        dir.path(),
        "config.toml",
        "[thresholds]\ndisk_warn_gb = 7.5\n",
    );
    let shown = run(doctor()
        .arg("--config")
        .arg(&config)
        .args(["config", "show", "--format", "json"]));
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let settings = shown.json();
    let setting = |name: &str| {
        settings
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["setting"] == name)
            .unwrap_or_else(|| panic!("no {name}: {settings:#}"))
            .clone()
    };
    assert_eq!(setting("config")["source"], "--config");
    assert_eq!(setting("thresholds.disk_warn_gb")["value"], "7.5");
    assert_eq!(
        setting("thresholds.disk_warn_gb")["source"],
        format!("config {}", config.display())
    );
    assert_eq!(setting("thresholds.disk_fail_gb")["source"], "default");
    assert_eq!(
        setting("compose_project")["value"],
        "helpdesk-microservices"
    );
    let port = setting("services.user.db_port");
    assert_eq!(port["value"], "5402");
    assert_eq!(
        port["source"], "engine: helpdesk-user-db's port binding",
        "{port}"
    );
    assert_eq!(
        setting("services.ticket.db_user")["source"],
        "engine: POSTGRES_USER of helpdesk-ticket-db"
    );
    let text = run(doctor().args(["config", "show"]));
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("engine ") && l.contains("unix:///var/run/docker.sock")),
        "{}",
        text.stdout
    );
}

#[test]
fn config_init_writes_a_config_for_the_deployment_found() {
    let _stack = stack_shared();
    let empty = tempfile::tempdir().unwrap();
    let init = run(doctor().current_dir(empty.path()).args(["config", "init"]));
    assert_eq!(init.code, 0, "{}", init.stderr);
    let text = &init.stdout;
    assert!(
        text.contains("\ncompose_project = \"helpdesk-microservices\"\n"),
        "the project found is pinned: {text}"
    );
    assert!(text.contains("# database = \"ticket_db\""), "{text}");
    assert!(
        text.contains("# db_port = 5403  # helpdesk-ticket-db"),
        "{text}"
    );
    assert!(!text.contains("redispass"), "no secret: {text}");
    // It is a config the doctor takes as it is.
    let config = temp_file(empty.path(), "config.toml", text);
    let (used, report) =
        diagnose_json(&["--config", config.to_str().unwrap(), "--only", "docker.*"]);
    assert_eq!(used.code, 0, "{}", used.stderr);
    assert_eq!(
        report["project"]["found_by"],
        "the config's compose_project"
    );
}

/// Writes `lines` into `container`'s log, as its main process would (a
/// container whose main process may be written to as root: not redis, not postgres).
fn log_lines(container: &str, lines: &[String]) {
    let printed = lines.join("\\n");
    sh(&format!(
        "docker exec {container} sh -c 'printf \"{printed}\\n\" > /proc/1/fd/1'"
    ));
}

#[test]
fn logs_grep_filters_before_tail_and_i_ignores_case() {
    let _stack = stack_shared();
    let marker = format!("Install-Marker-{}", std::process::id());
    let mut lines = vec![format!("{marker} one"), format!("{marker} two")];
    lines.extend((0..20).map(|i| format!("filler line {i}")));
    log_lines("helpdesk-user-service", &lines);
    let found = |args: &[&str]| {
        let run = run(doctor()
            .args(["logs", "helpdesk-user-service", "-n", "1"])
            .args(args));
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let last = found(&["--grep", &marker]);
    assert_eq!(last.lines().count(), 1, "{last}");
    assert!(
        last.contains(&format!("{marker} two")),
        "the last match: {last}"
    );
    let lower = marker.to_lowercase();
    assert_eq!(found(&["--grep", &lower]), "", "case matters without -i");
    let any_case = found(&["-i", "--grep", &lower]);
    assert!(any_case.contains(&format!("{marker} two")), "{any_case}");
    let none = run(doctor().args(["logs", "-i"]));
    assert_eq!(none.code, 2, "-i needs --grep: {}", none.stderr);
}
