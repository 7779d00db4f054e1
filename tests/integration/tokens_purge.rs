//! `tokens purge`: exactly the expired refresh tokens go, in batches.

use crate::support::*;
use std::time::Duration;

fn count(condition: &str) -> i64 {
    psql(
        "helpdesk-auth-db",
        "user",
        "auth_db",
        &format!("SELECT count(*) FROM refresh_tokens WHERE {condition}"),
    )
    .parse()
    .unwrap()
}

#[test]
fn purge_deletes_exactly_the_expired_rows() {
    let _stack = stack_exclusive();
    sh("tests/stack/seed.sh 2>&1");
    let expired = count("expires_at < now()");
    let valid = count("expires_at >= now()");
    assert!(
        expired >= 200 && valid >= 300,
        "seeded: {expired} expired, {valid} valid"
    );

    let dry = run(doctor().args(["tokens", "purge", "--dry-run"]));
    assert_eq!(dry.code, 0);
    assert!(
        dry.stdout
            .contains(&format!("would delete {expired} expired")),
        "{}",
        dry.stdout
    );
    let refused = run(doctor().args(["tokens", "purge"]));
    assert_eq!(refused.code, 5, "no TTY, no --yes");
    assert_eq!(count("expires_at < now()"), expired, "nothing changed");

    let purge = run(doctor().args(["tokens", "purge", "--yes", "--batch", "37"]));
    assert_eq!(purge.code, 0, "{}", purge.stderr);
    assert!(
        purge.stdout.contains(&format!("deleted {expired} expired")),
        "{}",
        purge.stdout
    );
    assert_eq!(count("expires_at < now()"), 0);
    assert_eq!(
        count("expires_at >= now()"),
        valid,
        "no valid token touched"
    );
    sh("tests/stack/seed.sh 2>&1");
}

/// A purge of many expired tokens one per batch, stopped by SIGINT once it
/// has deleted some: exit 130, and the deleted and remaining counts it says
/// are the database's; no valid token touched.
#[test]
fn sigint_stops_a_purge_between_batches_with_what_was_deleted_and_remains() {
    const MANY: i64 = 50_000;
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        psql(
            "helpdesk-auth-db",
            "user",
            "auth_db",
            "DELETE FROM refresh_tokens WHERE token LIKE 'stoppable-%'",
        );
        sh("tests/stack/seed.sh 2>&1");
    });
    sh("tests/stack/seed.sh 2>&1");
    psql(
        "helpdesk-auth-db",
        "user",
        "auth_db",
        &format!(
            "INSERT INTO refresh_tokens (user_id, token, expires_at) \
             SELECT i % 50 + 1, 'stoppable-' || i, now() - interval '1 hour' \
             FROM generate_series(1, {MANY}) i ON CONFLICT (token) DO NOTHING"
        ),
    );
    let expired = count("expires_at < now()");
    let valid = count("expires_at >= now()");
    assert!(expired >= MANY, "inserted: {expired} expired");
    let child = doctor()
        .args(["tokens", "purge", "--yes", "--batch", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count("expires_at < now()") + 100 > expired {
        assert!(
            std::time::Instant::now() < deadline,
            "the purge never began"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}{stderr}");
    let figure = |before: &str| -> i64 {
        stdout
            .split(before)
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no figure after {before:?} in {stdout}"))
    };
    let (deleted, remain) = (figure("deleted "), figure("tokens; "));
    let expired_left = count("expires_at < now()");
    assert!(
        deleted > 0 && expired_left > 0,
        "stopped midway: {stdout}{stderr}"
    );
    assert_eq!(
        deleted + expired_left,
        expired,
        "deleted and left add up: {stdout}"
    );
    assert_eq!(remain, count("true"), "what remains is counted: {stdout}");
    assert_eq!(
        count("expires_at >= now()"),
        valid,
        "no valid token touched"
    );
    assert!(
        stderr.contains("interrupted by SIGINT: stopped between two batches"),
        "{stderr}"
    );
}
