//! `wait`: returns once a starting stack is healthy; times out with its own code
//! naming what never passed, grouped by root cause as `diagnose` shows it.

use crate::support::*;

#[test]
fn wait_returns_0_once_a_restarted_service_is_healthy_again() {
    let _stack = stack_exclusive();
    sh("docker restart -t 5 helpdesk-ticket-service >/dev/null");
    assert_ne!(
        health_of("helpdesk-ticket-service"),
        "healthy",
        "still starting right after a restart"
    );
    let run = run(doctor().args(["wait", "--timeout", "60s", "--interval", "500ms"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("waiting for") && run.stderr.contains("container.ticket.service"),
        "{}",
        run.stderr
    );
    assert_eq!(health_of("helpdesk-ticket-service"), "healthy");
}

#[test]
fn wait_times_out_with_code_4_naming_the_stopped_database() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-db >/dev/null");
    });
    sh("docker stop -t 5 helpdesk-user-db >/dev/null");
    let run = run(doctor().args([
        "wait",
        "--timeout",
        "3s",
        "--interval",
        "500ms",
        "--only",
        "container.user.*,postgres.user.*",
    ]));
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(
        run.stderr.contains("helpdesk-user-db is not running"),
        "{}",
        run.stderr
    );
}

#[test]
fn wait_times_out_grouped_by_root_cause_with_one_fix() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-db >/dev/null");
    });
    sh("docker stop -t 5 helpdesk-user-db >/dev/null");
    let run = run(doctor().args([
        "wait",
        "--timeout",
        "4s",
        "--interval",
        "500ms",
        "--service",
        "user",
    ]));
    assert_eq!(run.code, 4, "{}", run.stderr);
    let after: &str = run
        .stderr
        .split_once("timed out after")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{}", run.stderr));
    let fixes = after.matches("fix: ").count();
    assert_eq!(
        after.matches("helpdesk-user-db is not running").count(),
        1,
        "the root cause once: {after}"
    );
    assert!(
        after.contains("also failing because of it:") && after.contains("skipped because of it"),
        "its dependents under it: {after}"
    );
    assert!(
        fixes < 4,
        "one fix per root cause, not per dependent ({fixes}): {after}"
    );
    assert!(
        after.lines().any(|l| l.starts_with("✗ user ")),
        "the group's line: {after}"
    );
}
