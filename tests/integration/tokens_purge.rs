//! `tokens purge`: exactly the expired refresh tokens go, in batches.

use crate::support::*;

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
