//! `diagnose` on the healthy stack: every check passes, in table, JSON and JUnit.

use crate::support::*;

/// Checks that may warn on a healthy stack because of the test data itself: the
/// seed plants expired refresh tokens, and fault tests leave error lines in logs.
/// Checks whose warning says nothing about the stack's health: recent log lines
/// (other tests cause errors on purpose), expired tokens, the host's load
/// (the test suite itself loads the 2 cores), and the backups (the tests'
/// backup folder holds whatever backups and drills other tests made, or none).
fn may_warn(id: &str) -> bool {
    id.starts_with("logs.")
        || id.starts_with("backup.")
        || id == "postgres.auth.expired_tokens"
        || id == "host.load"
}

#[test]
fn healthy_stack_passes_every_check_in_json() {
    let _stack = stack_shared();
    let (run, report) = diagnose_json(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report["version"], 1);
    assert_ne!(report["status"], "fail");
    let results = report["results"].as_array().unwrap();
    assert!(
        results.len() >= 80,
        "the whole catalog ran: {}",
        results.len()
    );
    for r in results {
        let id = r["id"].as_str().unwrap();
        let allowed: &[&str] = if may_warn(id) {
            &["pass", "warn"]
        } else {
            &["pass"]
        };
        assert!(
            allowed.contains(&r["status"].as_str().unwrap()),
            "{id}: {r:#}"
        );
        for key in [
            "kind",
            "target",
            "title",
            "message",
            "duration_ms",
            "details",
        ] {
            assert!(r.get(key).is_some(), "{id} has {key}");
        }
    }
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["summary"]["total"], results.len());
}

#[test]
fn healthy_stack_table_is_plain_when_piped_and_exits_0() {
    let _stack = stack_shared();
    let run = run(doctor().args(["diagnose", "--format", "table"]));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains('\u{1b}'), "no colour when not a TTY");
    for group in [
        "DOCKER",
        "CONTAINER",
        "PORT",
        "HOST",
        "HTTP",
        "POSTGRES",
        "REDIS",
        "ENV",
        "LOGS",
    ] {
        assert!(run.stdout.contains(group), "group {group} in the table");
    }
    assert!(
        run.stdout.contains("PASS   | http.ticket.health"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("FAIL "), "{}", run.stdout);
}

#[test]
fn junit_report_is_written_to_a_file() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xml");
    let run = run(doctor()
        .args(["diagnose", "--format", "junit", "--output"])
        .arg(&path));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "the report went to the file");
    let xml = std::fs::read_to_string(&path).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(
        xml.contains("<testcase name=\"postgres.ticket.connect\""),
        "{xml}"
    );
}

#[test]
fn only_and_skip_select_checks_and_keep_their_gates() {
    let _stack = stack_shared();
    let (_, report) = diagnose_json(&[
        "--only",
        "postgres.ticket.*",
        "--skip",
        "postgres.ticket.slow_queries",
    ]);
    let ids: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"postgres.ticket.connect"));
    assert!(
        ids.contains(&"port.ticket.db"),
        "the gate it needs runs too: {ids:?}"
    );
    assert!(!ids.contains(&"postgres.ticket.slow_queries"));
    assert!(!ids.iter().any(|id| id.starts_with("redis.")));
}

#[test]
fn checks_list_prints_the_catalog() {
    let run = run(doctor().args(["checks", "list"]));
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("postgres.ticket.slow_queries")
            && run.stdout.contains("checks/postgres.toml")
    );
    assert!(
        run.stdout.contains("needs port.ticket.db"),
        "{}",
        run.stdout
    );
}

#[test]
fn output_to_a_fifo_is_written_in_place_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let run = run(doctor()
        .args([
            "diagnose",
            "--format",
            "json",
            "--only",
            "host.load",
            "--output",
        ])
        .arg(&fifo));
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Checked before joining: a FIFO replaced by a file would leave the reader blocked.
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "still a FIFO, not a renamed file"
    );
    let received: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(received["results"][0]["id"], "host.load");
}
