//! `backup` and `restore` against the real databases: a round trip that restores
//! exactly, by the tool and by hand, and the faults that must change nothing.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const DATABASES: [(&str, &str, &str); 3] = [
    ("helpdesk-auth-db", "user", "auth_db"),
    ("helpdesk-user-db", "user", "user_db"),
    ("helpdesk-ticket-db", "ticket", "ticket_db"),
];

/// Every public table's name and an md5 of its whole content, per database.
fn digests() -> Vec<String> {
    DATABASES
        .iter()
        .map(|(container, user, db)| {
            let tables = psql(container, user, db, "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'");
            let parts: Vec<String> = tables
                .split_whitespace()
                .map(|t| {
                    let sql = format!("SELECT '{t}:' || count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x");
                    psql(container, user, db, &sql)
                })
                .collect();
            format!("{db} {}", parts.join(" "))
        })
        .collect()
}

fn change_every_database() {
    psql(
        "helpdesk-auth-db",
        "user",
        "auth_db",
        "DELETE FROM refresh_tokens WHERE id % 3 = 0; UPDATE users SET email = email || '.changed' WHERE id IN (SELECT id FROM users ORDER BY id LIMIT 9)",
    );
    psql(
        "helpdesk-user-db",
        "user",
        "user_db",
        "DELETE FROM profiles WHERE user_id % 2 = 0; UPDATE users SET name = 'renamed'",
    );
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "DELETE FROM tickets WHERE id % 5 = 0; UPDATE tickets SET status = 'closed'",
    );
}

fn backup(out: &Path, args: &[&str]) -> (Run, PathBuf) {
    let run = run(doctor().arg("backup").arg("--out").arg(out).args(args));
    let dir = std::fs::read_dir(out)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("emergency-backup-")
        })
        .max()
        .expect("a backup directory");
    (run, dir)
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// The application containers run again and become healthy (restore waited for
/// their health endpoints; Docker's own healthcheck follows at its interval).
fn all_services_healthy() {
    for container in [
        "helpdesk-auth-service",
        "helpdesk-user-service",
        "helpdesk-ticket-service",
    ] {
        assert_ne!(health_of(container), "exited", "{container} runs");
    }
    wait_stack_healthy();
}

#[test]
fn a_backup_restores_every_table_exactly() {
    let _stack = stack_exclusive();
    sh("tests/stack/seed.sh 2>&1");
    let out = tempfile::tempdir().unwrap();
    let before = digests();
    let (made, dir) = backup(out.path(), &[]);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let manifest = manifest(&dir);
    assert_eq!(manifest["status"], "complete");
    // As many as the table holds (the seed tops it up to 3000; a test may have left more).
    let tickets: i64 = psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT count(*) FROM tickets",
    )
    .trim()
    .parse()
    .unwrap();
    assert!(tickets >= 3000, "seeded: {tickets}");
    assert_eq!(manifest["databases"][2]["tables"]["tickets"], tickets);
    assert!(
        manifest["databases"][0]["server_version_num"]
            .as_i64()
            .unwrap()
            >= 150000
    );
    assert_eq!(run_verify(&dir).code, 0);

    change_every_database();
    assert_ne!(digests(), before);
    let safety = tempfile::tempdir().unwrap();
    let restored = run(doctor()
        .arg("restore")
        .arg(&dir)
        .arg("--yes")
        .arg("--safety-dir")
        .arg(safety.path()));
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert_eq!(
        digests(),
        before,
        "every table identical to the moment of the backup"
    );
    all_services_healthy();
    assert!(
        restored.stdout.contains("safety backup:"),
        "{}",
        restored.stdout
    );
    let listed = run(doctor().args(["backup", "list"]).arg(safety.path()));
    assert!(
        listed.stdout.starts_with("complete"),
        "the safety backup is complete: {}",
        listed.stdout
    );
}

#[test]
fn a_backup_restores_by_hand_with_the_guides_psql_commands() {
    let _stack = stack_exclusive();
    sh("tests/stack/seed.sh 2>&1");
    let out = tempfile::tempdir().unwrap();
    let before = digests();
    let (made, dir) = backup(out.path(), &[]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    change_every_database();
    // docs/runbooks.md's commands: decompress, then the guide's restore-emergency.sh lines.
    let d = dir.display();
    sh(&format!(
        "set -e; docker-compose -p helpdesk-microservices -f tests/stack/docker-compose.services.yml stop auth-service user-service ticket-service 2>/dev/null
         gunzip -k {d}/auth_db.sql.gz {d}/user_db.sql.gz {d}/ticket_db.sql.gz
         docker exec -i helpdesk-auth-db psql -U user auth_db < {d}/auth_db.sql >/dev/null
         docker exec -i helpdesk-user-db psql -U user user_db < {d}/user_db.sql >/dev/null
         docker exec -i helpdesk-ticket-db psql -U ticket ticket_db < {d}/ticket_db.sql >/dev/null
         docker-compose -p helpdesk-microservices -f tests/stack/docker-compose.services.yml start auth-service user-service ticket-service 2>/dev/null"
    ));
    assert_eq!(digests(), before);
    wait_stack_healthy();
}

fn run_verify(dir: &Path) -> Run {
    run(doctor().args(["backup", "verify"]).arg(dir))
}

/// A change made to a backup file.
type Damage = Box<dyn Fn(&mut Vec<u8>)>;

/// A copy of `dir` whose file `name` has been changed by `damage`.
/// Breaks ticket_db's dump after its data, before its indexes (a statement
/// on a table that does not exist), and keeps the manifest consistent with it:
/// sizes and sha256 match, only the signature no longer does.
fn break_the_dump_keeping_the_manifest(dir: &Path) {
    let d = dir.display();
    sh(&format!(
        "set -e; cd {d}; gunzip -c ticket_db.sql.gz | awk '/^CREATE INDEX/ && !done {{print \"CREATE INDEX no_such_index ON public.no_such_table (id);\"; done=1}} {{print}}' | gzip > t && mv t ticket_db.sql.gz"
    ));
    let (size, sha) = {
        let bytes = std::fs::read(dir.join("ticket_db.sql.gz")).unwrap();
        let sha = sh(&format!("sha256sum {d}/ticket_db.sql.gz | cut -d' ' -f1"));
        (bytes.len(), sha.trim().to_string())
    };
    let raw: u64 = sh(&format!("gunzip -c {d}/ticket_db.sql.gz | wc -c"))
        .trim()
        .parse()
        .unwrap();
    let mut manifest = manifest(dir);
    manifest["databases"][0]["file"]["size"] = size.into();
    manifest["databases"][0]["file"]["sha256"] = sha.into();
    manifest["databases"][0]["file"]["raw_size"] = raw.into();
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
}

/// `backup verify --restore-test DIR`, its stderr kept.
fn spawn_drill(dir: &Path) -> std::process::Child {
    doctor()
        .args(["backup", "verify", "--restore-test"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `diagnose`'s view of the last restore drill (`backup.drill`).
fn drill_check() -> serde_json::Value {
    let (_, report) = diagnose_json(&["--only", "backup.drill"]);
    result(&report, "backup.drill").clone()
}

fn drill_containers() -> String {
    sh("docker ps -aq --filter name=helpdesk-doctor-drill-")
}

#[test]
fn a_restore_drill_passes_on_a_good_backup_and_names_the_error_of_a_broken_one() {
    // Exclusive: a backup takes the runbook lock.
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let (made, dir) = backup(out.path(), &["--only", "ticket"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let good = run(doctor()
        .args(["backup", "verify", "--restore-test"])
        .arg(&dir));
    assert_eq!(good.code, 0, "{}{}", good.stdout, good.stderr);
    assert!(
        good.stdout
            .contains("ticket_db: restored in a throwaway container")
            && good.stdout.contains("as in the manifest"),
        "{}",
        good.stdout
    );
    assert_eq!(
        drill_containers(),
        "",
        "no drill container left after a pass"
    );
    let drill = drill_check();
    assert_eq!(drill["status"], "pass", "{drill:#}");
    // The drill just ran: its age is the seconds the check took to come, a
    // few at most on a busy machine (its record is not from an older drill).
    let age = drill["message"]
        .as_str()
        .unwrap()
        .strip_prefix("the last restore drill passed ")
        .and_then(|rest| rest.split_once(" s ago"))
        .and_then(|(seconds, _)| seconds.parse::<u64>().ok());
    assert!(matches!(age, Some(0..=5)), "{drill:#}");

    break_the_dump_keeping_the_manifest(&dir);
    let broken = run(doctor()
        .args([
            "backup",
            "verify",
            "--restore-test",
            "--trust-foreign-backup",
        ])
        .arg(&dir));
    assert_eq!(broken.code, 1, "{}{}", broken.stdout, broken.stderr);
    assert!(
        broken.stdout.contains("ticket_db: DRILL FAILED")
            && broken.stdout.contains("ERROR:")
            && broken.stdout.contains("no_such_table"),
        "{}",
        broken.stdout
    );
    assert_eq!(
        drill_containers(),
        "",
        "no drill container left after a failure"
    );
    let drill = drill_check();
    assert_eq!(drill["status"], "warn", "{drill:#}");
    let message = drill["message"].as_str().unwrap();
    assert!(
        message.starts_with("the last restore drill failed (")
            && message.contains("ticket_db: ")
            && message.contains("no_such_table"),
        "{drill:#}"
    );
    assert!(
        drill["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("backup verify --restore-test {}", dir.display())),
        "{drill:#}"
    );

    let verified = run(doctor()
        .args(["backup", "--only", "user", "--verify", "--out"])
        .arg(out.path()));
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    assert!(
        verified
            .stdout
            .contains("user_db: restored in a throwaway container"),
        "{}",
        verified.stdout
    );
}

#[test]
fn an_interrupted_drill_leaves_no_container() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let (made, dir) = backup(out.path(), &["--only", "ticket"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let child = spawn_drill(&dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    while drill_containers().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the drill never started a container"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = interrupt(child);
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        drill_containers(),
        "",
        "no drill container left after SIGINT: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Ctrl-C at moments spread 10 ms apart around the engine's creation of the
/// drill container (measured on a first, uninterrupted drill): whatever it
/// interrupted, no container is left — not even one whose creation was still
/// on its way to the engine when the drill gave up.
#[test]
fn a_drill_interrupted_around_its_container_creation_leaves_no_container() {
    use std::os::unix::process::ExitStatusExt;
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let (made, dir) = backup(out.path(), &["--only", "ticket"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let created = time_to_first_event(&["event=create", "label=helpdesk-doctor.drill"], || {
        let drill = run(doctor()
            .args(["backup", "verify", "--restore-test"])
            .arg(&dir));
        assert_eq!(drill.code, 0, "{}{}", drill.stdout, drill.stderr);
    });
    for step in -10i64..=10 {
        let moment = created.as_millis() as i64 + step * 10;
        let child = spawn_drill(&dir);
        std::thread::sleep(Duration::from_millis(moment.max(0) as u64));
        let output = interrupt(child);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let ended = (output.status.code(), output.status.signal());
        assert!(
            matches!(ended, (Some(0 | 130), _) | (None, Some(libc::SIGINT))),
            "SIGINT after {moment} ms: {ended:?} {stderr}"
        );
        // A creation dropped on its way lands within moments.
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            drill_containers(),
            "",
            "a drill container left after SIGINT at {moment} ms ({ended:?}): {stderr}"
        );
    }
}

fn damaged_copy(dir: &Path, into: &Path, name: &str, damage: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let copy = into.join(dir.file_name().unwrap());
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let mut bytes = std::fs::read(copy.join(name)).unwrap();
    damage(&mut bytes);
    std::fs::write(copy.join(name), bytes).unwrap();
    copy
}

#[test]
fn a_damaged_backup_is_refused_by_verify_and_restore_and_nothing_changes() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let (made, dir) = backup(out.path(), &["--only", "ticket"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "UPDATE tickets SET title = 'after the backup' WHERE id IN (SELECT id FROM tickets ORDER BY id LIMIT 4)",
    );
    let before = digests();
    let cases: Vec<(&str, &str, Damage)> = vec![
        (
            "flipped",
            "does not match its sha256",
            Box::new(|b: &mut Vec<u8>| {
                let i = b.len() / 2;
                b[i] ^= 0x01;
            }),
        ),
        (
            "truncated",
            "truncated",
            Box::new(|b: &mut Vec<u8>| b.truncate(b.len() - 10)),
        ),
    ];
    for (what, error, damage) in cases {
        let place = tempfile::tempdir().unwrap();
        let copy = damaged_copy(&dir, place.path(), "ticket_db.sql.gz", damage);
        let verify = run_verify(&copy);
        assert_eq!(verify.code, 1, "{what}: {}", verify.stderr);
        assert!(
            verify.stderr.contains(error) && verify.stderr.contains("ticket_db.sql.gz"),
            "{what}: {}",
            verify.stderr
        );
        let restore = run(doctor()
            .arg("restore")
            .arg(&copy)
            .args(["--yes", "--no-safety-backup"]));
        assert_eq!(restore.code, 5, "{what}: refused ({})", restore.stderr);
        assert!(
            restore.stderr.contains("nothing was changed"),
            "{}",
            restore.stderr
        );
    }
    let place = tempfile::tempdir().unwrap();
    let broken = damaged_copy(&dir, place.path(), "manifest.json", |b| {
        b.truncate(b.len() / 2)
    });
    let verify = run_verify(&broken);
    assert_eq!(verify.code, 1);
    assert!(
        verify.stderr.contains("broken manifest"),
        "{}",
        verify.stderr
    );
    std::fs::remove_file(broken.join("manifest.json")).unwrap();
    assert!(run_verify(&broken).stderr.contains("no manifest.json"));
    assert_eq!(digests(), before, "nothing changed");
}

#[test]
fn a_broken_statement_in_the_middle_of_a_dump_leaves_the_database_unchanged() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let (made, dir) = backup(out.path(), &["--only", "ticket"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    break_the_dump_keeping_the_manifest(&dir);
    let foreign = run_verify(&dir);
    assert_eq!(foreign.code, 1, "an edited backup is no longer ours");
    assert!(foreign.stderr.contains("not signed"), "{}", foreign.stderr);
    assert_eq!(
        run(doctor()
            .args(["backup", "verify", "--trust-foreign-backup"])
            .arg(&dir))
        .code,
        0,
        "the manifest matches the broken dump"
    );

    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "DELETE FROM tickets WHERE id IN (SELECT id FROM tickets ORDER BY id DESC LIMIT 500)",
    );
    let before = digests();
    let restore = run(doctor().arg("restore").arg(&dir).args([
        "--yes",
        "--no-safety-backup",
        "--trust-foreign-backup",
    ]));
    assert_eq!(restore.code, 6, "{}{}", restore.stdout, restore.stderr);
    assert!(
        restore
            .stdout
            .contains("ticket_db  FAILED, rolled back, left unchanged")
            && restore.stdout.contains("no_such_table"),
        "{}",
        restore.stdout
    );
    assert_eq!(digests(), before, "the failed restore changed nothing");
    all_services_healthy();
    sh("tests/stack/seed.sh 2>&1");
}

#[test]
fn restore_without_a_terminal_or_yes_is_refused_and_dry_run_changes_nothing() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let (_, dir) = backup(out.path(), &["--only", "user"]);
    psql(
        "helpdesk-user-db",
        "user",
        "user_db",
        "UPDATE users SET name = 'changed after backup' WHERE id = (SELECT min(id) FROM users)",
    );
    let before = digests();
    let refused = run(doctor().arg("restore").arg(&dir));
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"));
    let dry = run(doctor().arg("restore").arg(&dir).arg("--dry-run"));
    assert_eq!(dry.code, 0);
    assert!(
        dry.stdout
            .contains("stop the application containers: helpdesk-user-service"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("restore user_db in helpdesk-user-db"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("ago):"),
        "the backup's age: {}",
        dry.stdout
    );
    let users_now = psql(
        "helpdesk-user-db",
        "user",
        "user_db",
        "SELECT count(*) FROM users",
    );
    let users_line = dry
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("users "))
        .unwrap_or_else(|| panic!("a line for the users table: {}", dry.stdout));
    assert!(
        users_line.contains(&format!("rows now {users_now:>10}"))
            && users_line.contains("in the backup"),
        "{users_line}"
    );
    let steps: Vec<&str> = dry
        .stdout
        .lines()
        .filter_map(|l| l.trim_start().split_once(". ").map(|(n, _)| n))
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(
        steps,
        ["1", "2", "3", "4"],
        "steps numbered in order: {}",
        dry.stdout
    );
    assert_eq!(digests(), before);
    all_services_healthy();
}

#[test]
fn files_are_private_even_under_umask_000() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" backup --only user --out \"$1\"")
        .arg(env!("CARGO_BIN_EXE_helpdesk-doctor"))
        .arg(out.path())
        .env("HELPDESK_DOCTOR_STATE_DIR", state_dir())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let dir = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap();
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for file in std::fs::read_dir(&dir).unwrap() {
        let file = file.unwrap();
        assert_eq!(
            file.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{:?}",
            file.path()
        );
    }
}

/// The argv of every exec running in `container`, from exec inspect.
fn exec_argv(container: &str) -> String {
    runtime().block_on(async {
        let docker = docker().negotiate_version().await.unwrap();
        let inspected = docker.inspect_container(container, None).await.unwrap();
        let mut argv = String::new();
        for id in inspected.exec_ids.unwrap_or_default() {
            if let Ok(exec) = docker.inspect_exec(&id).await {
                let process = exec.process_config.unwrap_or_default();
                argv.push_str(&format!(
                    "{} {:?}\n",
                    process.entrypoint.unwrap_or_default(),
                    process.arguments.unwrap_or_default()
                ));
            }
        }
        argv
    })
}

/// Kills the child process if the test ends early.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.kill().ok();
    }
}

#[test]
fn a_killed_dump_marks_the_backup_failed_and_no_password_reaches_argv() {
    let _stack = stack_exclusive();
    const CANARY: &str = "canary-pgpass-93b1";
    // A session holding an exclusive lock makes pg_dump wait, so it can be killed mid-way.
    let locker = KillOnDrop(
        std::process::Command::new("docker")
            .args([
                "exec",
                "helpdesk-ticket-db",
                "psql",
                "-U",
                "ticket",
                "-d",
                "ticket_db",
                "-c",
                "BEGIN; LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30);",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let lock_held = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                     WHERE c.relname = 'tickets' AND l.mode = 'AccessExclusiveLock' AND l.granted";
    while psql("helpdesk-ticket-db", "ticket", "ticket_db", lock_held) != "1" {
        assert!(Instant::now() < deadline, "the lock was never taken");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = tempfile::tempdir().unwrap();
    let mut child = KillOnDrop(
        doctor()
            .env("HELPDESK_TICKET_DB_PASSWORD", CANARY)
            .arg("backup")
            .arg("--out")
            .arg(out.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'";
    while psql("helpdesk-ticket-db", "ticket", "ticket_db", waiting) != "1" {
        assert!(
            Instant::now() < deadline,
            "pg_dump never waited on the lock"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let argv = exec_argv("helpdesk-ticket-db");
    assert!(
        argv.contains("pg_dump"),
        "the running dump exec is visible: {argv}"
    );
    assert!(
        !argv.contains(CANARY),
        "no password in any exec's argv: {argv}"
    );
    sh("docker exec helpdesk-ticket-db pkill -x pg_dump");
    let (mut stdout, mut stderr) = (String::new(), String::new());
    use std::io::Read;
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.0.wait().unwrap();
    drop(locker);
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'BEGIN; LOCK TABLE%'",
    );
    // The 30 s pg_sleep of the locking session is not a slow query of the stack.
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT pg_stat_statements_reset()",
    );
    assert_eq!(status.code(), Some(6), "{stdout}{stderr}");
    let dir = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap();
    let manifest = manifest(&dir);
    assert_eq!(manifest["status"], "failed");
    let ticket = manifest["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["database"] == "ticket_db")
        .unwrap();
    assert_eq!(ticket["status"], "failed");
    assert!(
        ticket["error"].as_str().unwrap().contains("pg_dump exited"),
        "{ticket}"
    );
    assert_eq!(
        manifest["databases"][0]["status"], "complete",
        "the other databases were still dumped"
    );
    assert!(
        !dir.join("ticket_db.sql.gz").exists() && !dir.join("ticket_db.sql.gz.partial").exists()
    );
    let listed = run(doctor().args(["backup", "list"]).arg(out.path()));
    assert!(listed.stdout.starts_with("failed"), "{}", listed.stdout);
    assert_eq!(run_verify(&dir).code, 1);
    for file in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(CANARY));
    }
    assert!(!stdout.contains(CANARY) && !stderr.contains(CANARY));
    wait_stack_healthy();
}

#[test]
fn a_second_runbook_is_refused_and_prune_keeps_the_newest_complete_backups() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let holder = hold_runbook_lock("4343");
    let refused = run(doctor()
        .env("TMPDIR", out.path())
        .env("XDG_RUNTIME_DIR", out.path())
        .args(["backup", "--only", "user", "--out"])
        .arg(out.path()));
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("another helpdesk-doctor runbook is running")
    );
    drop(holder);

    let backups = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        assert_eq!(backup(backups.path(), &["--only", "user"]).0.code, 0);
    }
    std::fs::create_dir(backups.path().join("emergency-backup-20000101_000000")).unwrap();
    let count = || std::fs::read_dir(backups.path()).unwrap().count();
    let dry = run(doctor()
        .args(["backup", "prune", "--keep", "1", "--dir"])
        .arg(backups.path()));
    assert_eq!(dry.code, 0);
    assert_eq!(count(), 4, "a dry run deletes nothing: {}", dry.stdout);
    let zero = run(doctor()
        .args(["backup", "prune", "--keep", "0", "--yes", "--dir"])
        .arg(backups.path()));
    assert_eq!(zero.code, 0, "{}", zero.stderr);
    assert_eq!(count(), 1, "{}", zero.stdout);
    let listed = run(doctor().args(["backup", "list"]).arg(backups.path()));
    assert!(
        listed.stdout.starts_with("complete"),
        "the last complete backup is never deleted: {}",
        listed.stdout
    );
}

/// Ctrl-C the moment the engine starts stopping the database for its volume
/// archive: once that stop has ended, the database is started again.
#[test]
fn a_volume_backup_interrupted_while_the_database_stops_starts_it_again() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let mut stopping = Events::watch(&["event=kill", "container=helpdesk-user-db"]);
    let child = doctor()
        .args(["backup", "--only", "user", "--volumes", "--out"])
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    stopping.next();
    let output = interrupt(child);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert_eq!(
        sh("docker inspect -f '{{.State.Running}}' helpdesk-user-db").trim(),
        "true",
        "started again: {stderr}"
    );
    wait_stack_healthy();
}

#[test]
fn volumes_are_archived_from_a_stopped_database_that_comes_back_healthy() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let started_before = sh("docker inspect -f '{{.State.StartedAt}}' helpdesk-user-db");
    let (made, dir) = backup(out.path(), &["--only", "user", "--volumes"]);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let manifest = manifest(&dir);
    assert_eq!(manifest["volumes"][0]["name"], "user-db-data.tar.gz");
    assert_eq!(run_verify(&dir).code, 0);
    let listing = sh(&format!("tar -tzf {}/user-db-data.tar.gz", dir.display()));
    assert!(
        listing.contains("data/PG_VERSION"),
        "the data directory is archived: {}",
        &listing[..listing.len().min(300)]
    );
    assert_ne!(
        sh("docker inspect -f '{{.State.StartedAt}}' helpdesk-user-db"),
        started_before,
        "it was stopped and started"
    );
    assert_eq!(health_of("helpdesk-user-db"), "healthy");
    wait_stack_healthy();
}

#[test]
fn via_direct_uses_the_hosts_pg_dump_and_psql_over_the_published_port() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let (made, dir) = backup(out.path(), &["--only", "user", "--via", "direct"]);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    assert_eq!(manifest(&dir)["via"], "direct");
    let before = digests();
    psql(
        "helpdesk-user-db",
        "user",
        "user_db",
        "DELETE FROM profiles; UPDATE users SET name = 'direct'",
    );
    let restored = run(doctor().arg("restore").arg(&dir).args([
        "--via",
        "direct",
        "--yes",
        "--no-safety-backup",
    ]));
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert_eq!(digests(), before);
    all_services_healthy();
}
