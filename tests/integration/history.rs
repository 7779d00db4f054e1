//! History and `diff` (issue 12): each diagnose is saved; `diff` compares the
//! last passing run with a run made now (the same checks) and lists exactly
//! what changed — statuses and the figures that moved.

use crate::support::*;

#[test]
fn diff_lists_exactly_what_changed_since_the_last_healthy_run() {
    let _stack = stack_exclusive();
    let state = tempfile::tempdir().unwrap();
    let doctor_here = || {
        let mut command = doctor();
        command.env("HELPDESK_DOCTOR_STATE_DIR", state.path());
        command
    };
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-redis >/dev/null");
        sh("tests/stack/seed.sh 2>&1");
    });
    let none = run(doctor_here().arg("diff"));
    assert_eq!(none.code, 2, "no passing run saved yet: {}", none.stderr);

    let purged = run(doctor_here().args(["tokens", "purge", "--yes"]));
    assert_eq!(purged.code, 0, "{}", purged.stderr);
    // The checks this test changes, and only those: what other tests left
    // (a recent restart, a slow command, log lines) cannot make it warn.
    let healthy = run(doctor_here().args([
        "diagnose",
        "--only",
        "container.user.redis,redis.user.ping,postgres.auth.expired_tokens",
    ]));
    assert!(
        healthy.code == 0 && healthy.stdout.contains("No issues found."),
        "{}",
        healthy.stdout
    );

    sh("docker stop -t 3 helpdesk-user-redis >/dev/null");
    psql(
        "helpdesk-auth-db",
        "user",
        "auth_db",
        "INSERT INTO refresh_tokens (user_id, token, expires_at) \
         SELECT 1, 'diff-' || i, now() - interval '1 day' FROM generate_series(1, 150) i",
    );
    let diff = run(doctor_here().arg("diff"));
    assert_eq!(diff.code, 0, "{}{}", diff.stdout, diff.stderr);
    let changes: Vec<&str> = diff.stdout.lines().skip(1).map(str::trim).collect();
    assert!(
        changes.contains(&"postgres.auth.expired_tokens: value 0 → 150"),
        "{}",
        diff.stdout
    );
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("container.user.redis: pass → fail")),
        "{}",
        diff.stdout
    );
    for change in &changes {
        let id = change.split(':').next().unwrap_or_default();
        assert!(
            id.split('.').nth(1) == Some("user") || id == "postgres.auth.expired_tokens",
            "only what changed: {change}\n{}",
            diff.stdout
        );
    }
    let history = run(doctor_here().arg("history"));
    let saved: Vec<&str> = history.stdout.lines().collect();
    assert_eq!(
        saved.len(),
        2,
        "the healthy run and diff's own: {}",
        history.stdout
    );
    assert!(
        saved[0].ends_with("-pass.json") && saved[1].ends_with("-fail.json"),
        "{}",
        history.stdout
    );

    let failing = run(doctor_here().args(["diagnose", "--skip", "logs.*,host.load"]));
    assert_eq!(failing.code, 1, "{}", failing.stdout);
    let story: Vec<&str> = failing
        .stdout
        .lines()
        .filter(|l| l.starts_with("last healthy: "))
        .collect();
    assert_eq!(story.len(), 1, "one line: {}", failing.stdout);
    assert!(
        story[0].contains(" ago; since then: ")
            && story[0].contains("container.user.redis pass → fail"),
        "{}",
        story[0]
    );
    assert!(
        story[0].contains("(all: helpdesk-doctor diff)"),
        "{}",
        story[0]
    );
}

/// Runs are kept by the doctor's own index: 10,000 files dropped in the
/// history folder (named like runs, sorting after them) neither push the real
/// runs out nor are listed, and none of them is deleted.
#[test]
fn junk_in_the_history_folder_pushes_no_run_out_and_is_left_alone() {
    let _stack = stack_shared();
    let state = tempfile::tempdir().unwrap();
    let history = state.path().join("history");
    std::fs::create_dir(&history).unwrap();
    for i in 0..10_000 {
        std::fs::write(
            history.join(format!("99991231T235959Z-{i}-pass.json")),
            "{}",
        )
        .unwrap();
    }
    let diagnose = || {
        run(doctor()
            .env("HELPDESK_DOCTOR_STATE_DIR", state.path())
            .args(["diagnose", "--only", "docker.engine"]))
    };
    for _ in 0..2 {
        let made = diagnose();
        assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    }
    let listed = run(doctor()
        .env("HELPDESK_DOCTOR_STATE_DIR", state.path())
        .arg("history"));
    let runs: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(runs.len(), 2, "the two real runs only:\n{}", listed.stdout);
    assert!(
        runs.iter().all(|r| !r.contains("99991231T235959Z")),
        "{}",
        listed.stdout
    );
    assert_eq!(
        std::fs::read_dir(&history)
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("99991231T235959Z"))
            .count(),
        10_000,
        "no junk deleted"
    );
}
