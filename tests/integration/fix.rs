//! `fix` (issue 11): a stopped database and its application come back in
//! dependency order and diagnose then passes; `--dry-run` changes nothing;
//! without a terminal or `--yes` it refuses; a dropped index is rebuilt
//! concurrently while a writer keeps inserting; a port held by a foreign
//! process is reported, never killed.

use crate::support::*;
use std::time::Duration;

/// Checks that warn because of the test data or the suite itself.
const NOISY: &str = "postgres.*.expired_tokens,logs.*,host.load";

fn running(container: &str) -> bool {
    sh(&format!(
        "docker inspect -f '{{{{.State.Running}}}}' {container}"
    ))
    .trim()
        == "true"
}

#[test]
fn a_stopped_database_and_its_app_come_back_in_dependency_order() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-ticket-db helpdesk-ticket-service >/dev/null");
    });
    sh("docker stop -t 3 helpdesk-ticket-service helpdesk-ticket-db >/dev/null");

    let refused = run(doctor().args(["fix"]));
    assert_eq!(refused.code, 5, "no terminal, no --yes: {}", refused.stderr);
    let dry = run(doctor().args(["fix", "--dry-run"]));
    assert_eq!(dry.code, 0, "{}{}", dry.stdout, dry.stderr);
    assert!(
        !running("helpdesk-ticket-db"),
        "the dry run changed nothing"
    );
    let db = dry.stdout.find("container.ticket.db:").expect(&dry.stdout);
    let app = dry
        .stdout
        .find("container.ticket.service:")
        .expect(&dry.stdout);
    assert!(db < app, "the database first: {}", dry.stdout);

    let fixed = run(doctor().args(["fix", "--yes", "ticket"]));
    assert_eq!(fixed.code, 0, "{}{}", fixed.stdout, fixed.stderr);
    assert!(
        fixed.stdout.contains("container.ticket.db: FAIL → PASS"),
        "{}",
        fixed.stdout
    );
    assert!(running("helpdesk-ticket-db") && running("helpdesk-ticket-service"));
    let (after, _) = diagnose_json(&["--skip", NOISY]);
    assert_eq!(
        after.code, 0,
        "diagnose passes after the fix: {}",
        after.stdout
    );
}

#[test]
fn a_dropped_index_is_rebuilt_concurrently_while_a_writer_inserts() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        psql(
            "helpdesk-ticket-db",
            "ticket",
            "ticket_db",
            "CREATE INDEX IF NOT EXISTS tickets_status_idx ON tickets (status); \
             DELETE FROM tickets WHERE title = 'written during the fix'",
        );
    });
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "DROP INDEX tickets_status_idx",
    );
    let writer = std::thread::spawn(|| {
        std::process::Command::new("docker")
            .args([
                "exec",
                "helpdesk-ticket-db",
                "psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .args(["-U", "ticket", "-d", "ticket_db", "-c"])
            .arg(
                "DO $$ BEGIN FOR i IN 1..150 LOOP \
                 INSERT INTO tickets (user_id, title) VALUES (1, 'written during the fix'); \
                 COMMIT; PERFORM pg_sleep(0.02); END LOOP; END $$",
            )
            .output()
            .expect("docker exec psql")
    });
    std::thread::sleep(Duration::from_millis(300));
    let fixed = run(doctor().args(["fix", "--yes", "postgres.ticket.indexes"]));
    let written = writer.join().unwrap();
    assert_eq!(fixed.code, 0, "{}{}", fixed.stdout, fixed.stderr);
    assert!(
        written.status.success(),
        "the writer never failed: {}",
        String::from_utf8_lossy(&written.stderr)
    );
    let valid = psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname = 'tickets_status_idx'",
    );
    assert_eq!(valid, "t", "the index is back and valid");
    assert!(
        fixed
            .stdout
            .contains("postgres.ticket.indexes: WARN → PASS"),
        "{}",
        fixed.stdout
    );
}

#[test]
fn a_port_held_by_a_foreign_process_is_reported_never_killed() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-service >/dev/null");
    });
    sh("docker stop -t 3 helpdesk-user-service >/dev/null");
    let holder = std::net::TcpListener::bind("127.0.0.1:3002").expect("bind the freed port");
    let fixed = run(doctor().args(["fix", "--yes", "user"]));
    assert_eq!(
        fixed.code, 6,
        "the start fails, says so: {}{}",
        fixed.stdout, fixed.stderr
    );
    assert!(
        fixed
            .stdout
            .contains(&format!("held by pid {}", std::process::id())),
        "the holder is named: {}",
        fixed.stdout
    );
    std::net::TcpStream::connect("127.0.0.1:3002").expect("the holder still listens");
    drop(holder);
}

#[test]
fn a_missing_container_is_created_by_compose_and_expired_tokens_are_purged() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        compose("up -d user-redis");
        sh("tests/stack/seed.sh 2>&1");
    });
    sh("docker rm -f -v helpdesk-user-redis >/dev/null");
    let expired = "SELECT count(*) FROM refresh_tokens WHERE expires_at < now()";
    assert_ne!(psql("helpdesk-auth-db", "user", "auth_db", expired), "0");
    let fixed = run(doctor().args(["fix", "--yes", "user", "postgres.auth.expired_tokens"]));
    assert_eq!(fixed.code, 0, "{}{}", fixed.stdout, fixed.stderr);
    assert!(
        running("helpdesk-user-redis"),
        "up -d with the project's compose command"
    );
    assert!(
        fixed.stdout.contains("container.user.redis: FAIL → PASS")
            && fixed
                .stdout
                .contains("postgres.auth.expired_tokens: WARN → PASS"),
        "{}",
        fixed.stdout
    );
    assert_eq!(psql("helpdesk-auth-db", "user", "auth_db", expired), "0");
}

/// SIGINT once the first repair is done: the fix stops before the second
/// ends (exit 130), the next command names the repair left and how to
/// finish it, and the fix that finishes it forgets it.
#[test]
fn sigint_stops_a_fix_between_repairs_and_the_next_command_says_what_is_left() {
    use std::io::{BufRead, BufReader};
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        std::fs::remove_file(state_dir().join("interrupted-fix.json")).ok();
        sh("docker start helpdesk-ticket-db helpdesk-ticket-service >/dev/null");
    });
    sh("docker stop -t 3 helpdesk-ticket-service helpdesk-ticket-db >/dev/null");
    let mut child = doctor()
        .args(["fix", "--yes", "ticket"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    // The first repair's line appears twice: in the plan, then once done.
    let mut first_repair = 0;
    for line in stdout.lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("  1. container.ticket.db:") {
            first_repair += 1;
            if first_repair == 2 {
                break;
            }
        }
    }
    assert_eq!(first_repair, 2, "the database's repair ran: {seen}");
    // SAFETY: a plain kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{seen}{stderr}");
    assert!(
        stderr.contains("interrupted by SIGINT: 1 repairs not run or not finished"),
        "{seen}{stderr}"
    );
    let next = run(doctor().args(["fix", "--dry-run", "ticket"]));
    assert!(
        next.stderr
            .contains("was interrupted before it finished: container.ticket.service")
            && next
                .stderr
                .contains("Finish it with `helpdesk-doctor fix --yes container.ticket.service`"),
        "{}",
        next.stderr
    );
    let finished = run(doctor().args(["fix", "--yes", "ticket"]));
    assert_eq!(finished.code, 0, "{}{}", finished.stdout, finished.stderr);
    assert!(running("helpdesk-ticket-service"));
    let after = run(doctor().args(["checks", "list"]));
    assert!(
        !after.stderr.contains("was interrupted"),
        "the finished fix is no longer told: {}",
        after.stderr
    );
}
