//! The human output in a real terminal (tmux): a healthy stack fits a screen
//! and ends "No issues found."; a stopped database is expanded under its group
//! with its fix and the checks it skipped collapsed; a deadline cut is UNKNOWN
//! (exit 3); with colour on, every line of the `-v` table has the same width.

use crate::support::*;
use std::time::{Duration, Instant};

/// Checks that warn on a healthy stack because of the test data or the suite
/// itself (seeded expired tokens, error lines other tests cause, the load).
const NOISY: &str = "postgres.*.expired_tokens,logs.*,host.load";

/// Runs the doctor with `args` in a fresh tmux terminal (colour allowed) and
/// returns what the screen shows (scrollback included) and the exit code.
fn in_terminal(args: &str) -> (String, i32) {
    in_terminal_answering(args, None)
}

/// `in_terminal`, typing `answer` and Enter once `prompt` shows on the screen.
fn in_terminal_answering(args: &str, answer: Option<(&str, &str)>) -> (String, i32) {
    let session = format!("doctor-{}-{}", std::process::id(), rand_suffix());
    let doctor = env!("CARGO_BIN_EXE_helpdesk-doctor");
    let command = format!(
        "env -u NO_COLOR TERM=xterm-256color HELPDESK_DOCTOR_STATE_DIR={} {doctor} {args}; \
         echo EXIT=$?; sleep 60",
        state_dir().display()
    );
    sh(&format!(
        "tmux new-session -d -s {session} -x 250 -y 50 -c {} {}",
        repo().display(),
        shell_quote(&command)
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut answered = answer.is_none();
    let screen = loop {
        let screen = sh(&format!("tmux capture-pane -p -J -S - -E - -t {session}"));
        if screen.contains("EXIT=") {
            break screen;
        }
        if let Some((prompt, keys)) = answer
            && !answered
            && screen.contains(prompt)
        {
            sh(&format!("tmux send-keys -t {session} {keys} Enter"));
            answered = true;
        }
        assert!(
            Instant::now() < deadline,
            "the doctor never ended: {screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    sh(&format!("tmux kill-session -t {session}"));
    let code = screen
        .lines()
        .find_map(|l| l.strip_prefix("EXIT="))
        .and_then(|c| c.trim().parse().ok())
        .expect("an exit code");
    let shown: Vec<&str> = screen
        .lines()
        .take_while(|l| !l.starts_with("EXIT="))
        .collect();
    (shown.join("\n").trim_end().to_string(), code)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[test]
fn the_healthy_stack_fits_a_screen_and_says_no_issues_found() {
    let _stack = stack_shared();
    let (screen, code) = in_terminal(&format!("diagnose --skip '{NOISY}'"));
    assert_eq!(code, 0, "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines.len() <= 12, "{} lines:\n{screen}", lines.len());
    assert_eq!(lines.last().copied(), Some("No issues found."), "{screen}");
    for group in ["docker", "host", "auth", "user", "ticket"] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("✓ {group}"))),
            "{group}: {screen}"
        );
    }
}

#[test]
fn a_stopped_database_is_expanded_under_its_group_with_its_fix() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-db >/dev/null");
    });
    sh("docker stop -t 3 helpdesk-user-db >/dev/null");
    let (screen, code) = in_terminal(&format!("diagnose --skip '{NOISY}'"));
    assert_eq!(code, 1, "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    let user = lines
        .iter()
        .position(|l| l.starts_with("✗ user"))
        .unwrap_or_else(|| panic!("the user group is marked ✗: {screen}"));
    let under: Vec<&str> = lines[user + 1..]
        .iter()
        .copied()
        .take_while(|l| l.starts_with("  "))
        .collect();
    let under = under.join("\n");
    assert!(
        under.contains("✗ container.user.db: helpdesk-user-db is not running"),
        "{under}"
    );
    assert!(under.contains("fix: Read why it stopped"), "{under}");
    assert!(under.contains("skipped because of it"), "{under}");
    assert!(under.contains("also failing because of it"), "{under}");
    assert!(
        lines.iter().any(|l| l.starts_with("✓ auth")),
        "the other services stay one line: {screen}"
    );
    assert!(
        lines.last().unwrap().contains("details: -v, --format json"),
        "{screen}"
    );
}

#[test]
fn a_deadline_cut_is_unknown_and_exits_3_in_a_terminal() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let silent = hanging_catalog(dir.path());
    let (screen, code) = in_terminal(&format!(
        "--checks-dir {} diagnose --only 'hang.*,docker.*' --deadline 500ms --probe-timeout 10s",
        dir.path().display()
    ));
    assert_eq!(code, 3, "{screen}");
    assert!(
        screen.contains("? hang.http: cut off by --deadline"),
        "{screen}"
    );
    assert!(
        !screen.contains("never shown"),
        "no fix for an unknown: {screen}"
    );
    assert!(
        screen.lines().last().unwrap().starts_with("1 unknown"),
        "{screen}"
    );
    drop(silent);
}

#[test]
fn every_line_of_the_coloured_table_has_the_same_width() {
    let _stack = stack_shared();
    let (screen, code) =
        in_terminal("diagnose -v --color always --only 'docker.*,container.auth.*,port.*'");
    assert_eq!(code, 0, "{screen}");
    let table: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '├', '╞', '└', '+', '|']))
        .collect();
    assert!(table.len() > 10, "{screen}");
    let widths: std::collections::BTreeSet<usize> =
        table.iter().map(|l| l.chars().count()).collect();
    assert_eq!(widths.len(), 1, "widths {widths:?}:\n{screen}");
    assert!(
        screen.contains("driver: json-file"),
        "details as key: value lines: {screen}"
    );
}

#[test]
fn wait_keeps_one_live_line_saying_why_and_honours_its_timeout() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-db >/dev/null");
    });
    sh("docker stop -t 3 helpdesk-user-db >/dev/null");
    let started = Instant::now();
    let (screen, code) = in_terminal("wait --timeout 3s --interval 300ms");
    assert_eq!(code, 4, "{screen}");
    assert!(started.elapsed() >= Duration::from_secs(3), "gave up early");
    let waiting: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("waiting for"))
        .collect();
    assert_eq!(waiting.len(), 1, "one line rewritten in place: {screen}");
    assert!(
        waiting[0].contains("helpdesk-user-db"),
        "says why: {screen}"
    );
    let timed_out = screen
        .lines()
        .find(|l| l.starts_with("timed out after"))
        .unwrap_or_else(|| panic!("{screen}"));
    let seconds: f64 = timed_out
        .trim_start_matches("timed out after ")
        .split('s')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seconds >= 3.0, "the whole timeout: {timed_out}");
}

#[test]
fn fix_asks_on_a_terminal_and_repairs_when_answered_yes() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-redis >/dev/null");
    });
    sh("docker stop -t 3 helpdesk-user-redis >/dev/null");
    let (screen, code) = in_terminal_answering("fix user", Some(("[y/N]", "y")));
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("Run these repairs now? [y/N] y"),
        "{screen}"
    );
    assert!(
        screen.contains("container.user.redis: FAIL → PASS"),
        "{screen}"
    );
}

#[test]
fn watch_shows_a_live_screen_with_memory_arrows_in_a_terminal() {
    let _stack = stack_shared();
    let (screen, code) =
        in_terminal("watch --interval 1s --duration 6s --only 'container.*.service.resources'");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("watch · run "), "{screen}");
    assert!(screen.contains("No issues found."), "{screen}");
    // The last screen (earlier ones may remain in the scrollback).
    let memory = screen
        .lines()
        .rev()
        .find(|l| l.starts_with("memory: "))
        .unwrap_or_else(|| panic!("no memory line: {screen}"));
    assert!(memory.contains("helpdesk-auth-service "), "{memory}");
    assert!(
        ["↑", "↓", "→"].iter().any(|arrow| memory.contains(arrow)),
        "a trend arrow after three samples: {memory}"
    );
}
