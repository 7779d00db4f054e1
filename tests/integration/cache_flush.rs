//! `cache flush`: SCAN + UNLINK by pattern while a writer keeps writing, never KEYS;
//! dry runs and refusals change nothing.

use crate::support::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PORT: u16 = 6302;

fn fill(prefix: &str, count: usize) {
    let mut redis = redis(PORT, REDIS_PASSWORD);
    for chunk in (0..count).collect::<Vec<_>>().chunks(10_000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("SET")
                .arg(format!("{prefix}{i}"))
                .arg("v")
                .ignore();
        }
        pipe.query::<()>(&mut redis).unwrap();
    }
}

fn count(pattern: &str) -> usize {
    let mut redis = redis(PORT, REDIS_PASSWORD);
    let mut total = 0;
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(10_000)
            .query(&mut redis)
            .unwrap();
        total += keys.len();
        if next == 0 {
            return total;
        }
        cursor = next;
    }
}

/// Records every command Redis receives (MONITOR) until dropped.
struct Monitor {
    commands: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Monitor {
    fn start() -> Monitor {
        let mut stream = TcpStream::connect(("127.0.0.1", PORT)).unwrap();
        stream
            .write_all(format!("AUTH {REDIS_PASSWORD}\r\nMONITOR\r\n").as_bytes())
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (commands.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while !stopped.load(Ordering::Relaxed) {
                line.clear();
                if reader.read_line(&mut line).is_ok() && !line.is_empty() {
                    seen.lock().unwrap().push(line.trim().to_string());
                }
            }
        });
        std::thread::sleep(Duration::from_millis(200));
        Monitor { commands, stop }
    }

    fn commands(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(300));
        self.stop.store(true, Ordering::Relaxed);
        self.commands.lock().unwrap().clone()
    }
}

#[test]
fn flush_by_pattern_deletes_every_old_match_keeps_the_rest_and_never_uses_keys() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        let mut redis = redis(PORT, REDIS_PASSWORD);
        redis::cmd("FLUSHDB").query::<()>(&mut redis).unwrap();
        sh("tests/stack/seed.sh 2>&1");
    });
    fill("user-service:tokens:", 100_000);
    fill("user-service:other:", 10_000);
    let monitor = Monitor::start();
    let stop_writer = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop_writer.clone();
        std::thread::spawn(move || {
            let mut redis = redis(PORT, REDIS_PASSWORD);
            let mut written = 0;
            while !stop.load(Ordering::Relaxed) {
                redis::cmd("SET")
                    .arg(format!("user-service:new:{written}"))
                    .arg("v")
                    .query::<()>(&mut redis)
                    .unwrap();
                written += 1;
            }
            written
        })
    };
    let run = run(doctor().args([
        "cache",
        "flush",
        "user",
        "--pattern",
        "user-service:tokens:*",
        "--yes",
    ]));
    stop_writer.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    let commands = monitor.commands();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("deleted 100000"), "{}", run.stdout);
    assert_eq!(
        count("user-service:tokens:*"),
        0,
        "no old matching key survives"
    );
    assert_eq!(
        count("user-service:other:*"),
        10_000,
        "non-matching keys are intact"
    );
    assert_eq!(
        count("user-service:new:*"),
        written,
        "keys written during the flush are intact"
    );
    assert!(written > 0, "the writer ran during the flush");
    assert!(
        commands.iter().any(|c| c.contains("\"UNLINK\"")),
        "deleted with UNLINK"
    );
    assert!(
        commands.iter().any(|c| c.contains("\"SCAN\"")),
        "iterated with SCAN"
    );
    assert!(
        !commands
            .iter()
            .any(|c| c.contains("\"KEYS\"") || c.contains("\"keys\"")),
        "KEYS never sent"
    );
}

#[test]
fn dry_run_and_refused_confirmation_change_nothing() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        let mut redis = redis(PORT, REDIS_PASSWORD);
        redis::cmd("FLUSHDB").query::<()>(&mut redis).unwrap();
        sh("tests/stack/seed.sh 2>&1");
    });
    fill("user-service:tokens:", 500);
    let before = count("*");
    let dry = run(doctor().args([
        "cache",
        "flush",
        "user",
        "--pattern",
        "user-service:tokens:*",
        "--dry-run",
    ]));
    assert_eq!(dry.code, 0);
    assert!(
        dry.stdout.contains("would delete 500 keys"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("e.g. user-service:tokens:"),
        "examples shown: {}",
        dry.stdout
    );
    let refused = run(doctor().args(["cache", "flush", "user", "--all"]));
    assert_eq!(
        refused.code, 5,
        "no TTY and no --yes: refused ({})",
        refused.stderr
    );
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(count("*"), before, "key count identical");
    let all = run(doctor().args(["cache", "flush", "user", "--all", "--yes"]));
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert!(
        all.stdout.contains(&format!("keys before {before}")),
        "{}",
        all.stdout
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count("*"), 0, "FLUSHDB ASYNC emptied it");
}

#[test]
fn a_second_runbook_is_refused_while_one_holds_the_lock() {
    let _stack = stack_exclusive();
    let holder = hold_runbook_lock("4242");
    let run = run(doctor().args(["tokens", "purge", "--yes"]));
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("another helpdesk-doctor runbook is running (pid 4242)"),
        "{}",
        run.stderr
    );
    drop(holder);
}

/// Runs the doctor on a pseudo-terminal (util-linux `script`), typing `answer`.
fn on_a_terminal(args: &str, answer: &str) -> Run {
    let doctor = env!("CARGO_BIN_EXE_helpdesk-doctor");
    let mut command = std::process::Command::new("script");
    command
        .args(["-qec", &format!("{doctor} {args}"), "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped());
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: Duration::ZERO,
    }
}

#[test]
fn on_a_terminal_the_flush_asks_and_only_yes_deletes() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("tests/stack/seed.sh 2>&1");
    });
    fill("user-service:asked:", 50);
    let question = "Delete 50 keys matching \"user-service:asked:*\"";
    let declined = on_a_terminal("cache flush user --pattern 'user-service:asked:*'", "n\n");
    assert_eq!(declined.code, 5, "{}", declined.stdout);
    assert!(
        declined.stdout.contains(question) && declined.stdout.contains("[y/N]"),
        "{}",
        declined.stdout
    );
    assert_eq!(
        count("user-service:asked:*"),
        50,
        "declined: nothing deleted"
    );
    let accepted = on_a_terminal("cache flush user --pattern 'user-service:asked:*'", "y\n");
    assert_eq!(accepted.code, 0, "{}", accepted.stdout);
    assert!(
        accepted.stdout.contains("deleted 50"),
        "{}",
        accepted.stdout
    );
    assert_eq!(count("user-service:asked:*"), 0);
}

fn dbsize() -> usize {
    let mut redis = redis(PORT, REDIS_PASSWORD);
    redis::cmd("DBSIZE").query(&mut redis).unwrap()
}

/// A flush of `KEYS` keys in batches of 10, stopped by `signal` once it has
/// deleted some: exit 130 and what was deleted and what is left, both true.
/// `ignored`: the doctor starts with SIGINT ignored (as under `nohup` or
/// `trap '' INT`), and is still stopped by it.
fn interrupted_flush(signal: i32, ignored: bool) {
    const KEYS: usize = 200_000;
    let prefix = "user-service:stoppable:";
    fill(prefix, KEYS);
    let before = dbsize();
    let mut command = doctor();
    command
        .args([
            "cache",
            "flush",
            "user",
            "--yes",
            "--batch",
            "10",
            "--pattern",
        ])
        .arg(format!("{prefix}*"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if ignored {
        use std::os::unix::process::CommandExt;
        // SAFETY: only async-signal-safe libc calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                Ok(())
            });
        }
    }
    let child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while dbsize() + 1_000 > before {
        assert!(
            std::time::Instant::now() < deadline,
            "the flush never began"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    unsafe { libc::kill(child.id() as i32, signal) };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}{stderr}");
    let figure = |word: &str| -> usize {
        stdout
            .split(&format!("{word} "))
            .nth(1)
            .and_then(|rest| rest.split([' ', ',']).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {word:?} in {stdout}"))
    };
    let (deleted, remaining) = (figure("deleted"), figure("remaining"));
    let left = count(&format!("{prefix}*"));
    assert!(
        deleted > 0 && remaining > 0,
        "stopped midway: {stdout}{stderr}"
    );
    assert_eq!(remaining, left, "the keys left are counted: {stdout}");
    assert_eq!(deleted + left, KEYS, "deleted and left add up: {stdout}");
    assert!(stderr.contains("interrupted by SIG"), "{stderr}");
}

#[test]
fn sigint_or_sigterm_stops_a_flush_between_batches_with_what_was_deleted_and_is_left() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        let mut redis = redis(PORT, REDIS_PASSWORD);
        redis::cmd("FLUSHDB").query::<()>(&mut redis).unwrap();
        sh("tests/stack/seed.sh 2>&1");
    });
    interrupted_flush(libc::SIGINT, false);
    interrupted_flush(libc::SIGTERM, false);
    interrupted_flush(libc::SIGINT, true);
}
