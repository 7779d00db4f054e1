//! Every hint runs as printed on this deployment (issue 19): under each fault
//! the shared tests inject — containers stopped, wrong passwords, a paused
//! database — and when healthy, every read-only command a hint prints
//! (`docker logs/ps/inspect/exec …`, compose `logs`, `psql -c SELECT`,
//! `redis-cli PING/INFO`, `curl`, the doctor's read-only commands) is run as
//! printed, from another folder, while the fault holds, and must succeed.

use crate::fixture::{Fixture, fixture};
use crate::hints::{read_only_commands, run_printed};
use crate::support::*;

/// Runs every read-only command of `report`'s hints from another folder, as
/// someone who set what they ask for (`REDISCLI_AUTH`); returns those that failed.
fn run_all(
    fixture: &Fixture,
    scenario: &str,
    report: &serde_json::Value,
    ran: &mut Vec<String>,
) -> Vec<String> {
    let elsewhere = tempfile::tempdir().unwrap();
    let env = [("REDISCLI_AUTH", fixture.redis_password())];
    let mut failed = Vec::new();
    for (command, stages) in read_only_commands(report) {
        let outcome = run_printed(&stages, elsewhere.path(), &env);
        if !outcome.ok(&stages) {
            failed.push(format!(
                "{scenario}: `{command}` exited {:?}: {}{}",
                outcome.codes, outcome.stdout, outcome.stderr
            ));
        }
        ran.push(command);
    }
    failed
}

/// `diagnose --format json` from the fixture's folder with extra environment.
fn diagnose_with(fixture: &Fixture, env: &[(&str, &str)]) -> serde_json::Value {
    let mut doctor = fixture.doctor();
    doctor.args(["diagnose", "--format", "json"]);
    for (key, value) in env {
        doctor.env(key, value);
    }
    run(&mut doctor).json()
}

#[test]
fn every_read_only_hint_runs_as_printed_under_each_fault() {
    let _stack = stack_exclusive();
    let fixture = fixture();
    let mut failed = Vec::new();
    let mut ran = Vec::new();

    let healthy = diagnose_with(&fixture, &[]);
    failed.extend(run_all(&fixture, "healthy", &healthy, &mut ran));

    let wrong = diagnose_with(
        &fixture,
        &[
            ("HELPDESK_AUTH_DB_PASSWORD", "not-the-password"),
            ("HELPDESK_USER_REDIS_PASSWORD", "not-the-password"),
        ],
    );
    failed.extend(run_all(&fixture, "wrong passwords", &wrong, &mut ran));

    let stopped = [
        fixture.container("auth", "service"),
        fixture.container("user", "redis"),
        fixture.container("ticket", "db"),
    ];
    {
        let _started = fixture.stop_all(&stopped);
        let report = diagnose_with(&fixture, &[]);
        failed.extend(run_all(&fixture, "stopped containers", &report, &mut ran));
    }

    // Last: the bundled ticket-service stayed unhealthy (503, its database
    // "down") after its database was paused, resumed, then stopped and started.
    {
        let _paused = Paused::new(&fixture, fixture.container("user", "db"));
        let paused = diagnose_with(&fixture, &[]);
        failed.extend(run_all(&fixture, "paused database", &paused, &mut ran));
    }

    assert!(
        failed.is_empty(),
        "hints that do not run as printed:\n{}",
        failed.join("\n")
    );
    for kind in [" logs ", "docker inspect ", "docker exec "] {
        assert!(
            ran.iter().any(|c| c.contains(kind)),
            "a printed `{kind}` command was run: {ran:#?}"
        );
    }
    eprintln!("{} printed commands ran: {ran:#?}", ran.len());
}

/// A paused container, resumed (and the fixture waited for) when dropped.
struct Paused<'a> {
    fixture: &'a Fixture,
    container: String,
}

impl<'a> Paused<'a> {
    fn new(fixture: &'a Fixture, container: String) -> Paused<'a> {
        sh(&format!("docker pause {container}"));
        Paused { fixture, container }
    }
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["unpause", &self.container])
            .output();
        self.fixture.wait_healthy();
    }
}
