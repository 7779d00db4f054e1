//! Safety under attack and accident (issue 8): crafted and lying backups are
//! refused before anything changes, an interrupted restore changes nothing,
//! backup counts come from the dump's own snapshot, hostile inputs are bounded.

use crate::support::*;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn make_backup(out: &Path, only: &str) -> PathBuf {
    let made = run(doctor().args(["backup", "--only", only, "--out"]).arg(out));
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    std::fs::read_dir(out)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .max()
        .expect("a backup directory")
}

pub(crate) fn read_manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut text).unwrap();
    text
}

/// A copy of backup `dir` in `into` whose first dump is `edit`ed (decompressed),
/// with the manifest's size, sha256 and raw size made to match: a backup that is
/// intact but no longer signed by the doctor.
pub(crate) fn edited_copy(dir: &Path, into: &Path, edit: impl Fn(Vec<u8>) -> Vec<u8>) -> PathBuf {
    let copy = into.join(dir.file_name().unwrap());
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let mut manifest = read_manifest(&copy);
    let name = manifest["databases"][0]["file"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = edit(gunzip(&std::fs::read(copy.join(&name)).unwrap()));
    let compressed = gzip(&raw);
    std::fs::write(copy.join(&name), &compressed).unwrap();
    let file = &mut manifest["databases"][0]["file"];
    file["size"] = compressed.len().into();
    file["sha256"] = hex::encode(Sha256::digest(&compressed)).into();
    file["raw_size"] = raw.len().into();
    std::fs::write(copy.join("manifest.json"), manifest.to_string()).unwrap();
    copy
}

/// `line` inserted after the dump's first `SET` statement.
pub(crate) fn inject(line: &str) -> impl Fn(Vec<u8>) -> Vec<u8> + '_ {
    move |dump| {
        let text = String::from_utf8(dump).unwrap();
        let at = text.find("\nSET ").unwrap() + 1;
        format!("{}{line}\n{}", &text[..at], &text[at..]).into_bytes()
    }
}

fn started_at(container: &str) -> String {
    sh(&format!(
        "docker inspect -f '{{{{.State.StartedAt}}}}' {container}"
    ))
    .trim()
    .to_string()
}

pub(crate) fn verify(dir: &Path, trust_foreign: bool) -> Run {
    let mut command = doctor();
    command.args(["backup", "verify"]).arg(dir);
    if trust_foreign {
        command.arg("--trust-foreign-backup");
    }
    run(&mut command)
}

pub(crate) fn restore(dir: &Path, extra: &[&str]) -> Run {
    run(doctor()
        .arg("restore")
        .arg(dir)
        .args(["--yes", "--no-safety-backup", "--trust-foreign-backup"])
        .args(extra))
}

#[test]
fn crafted_dumps_are_refused_with_their_line_and_run_nothing() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "user");
    let app_started = started_at("helpdesk-user-service");
    let marker = format!("/tmp/helpdesk-pwned-{}", std::process::id());
    let attacks = [
        format!("\\! touch {marker}-bang"),
        format!("\\copy (select 1) to program 'touch {marker}-copy'"),
        format!("COPY (SELECT 1) TO PROGRAM 'touch {marker}-program';"),
        format!("\\o |touch {marker}-pipe"),
        "COMMIT;".to_string(),
    ];
    for attack in &attacks {
        let place = tempfile::tempdir().unwrap();
        let copy = edited_copy(&dir, place.path(), inject(attack));
        let foreign = verify(&copy, false);
        assert_eq!(foreign.code, 1, "{attack}: {}", foreign.stderr);
        assert!(foreign.stderr.contains("not signed"), "{}", foreign.stderr);
        let checked = verify(&copy, true);
        assert_eq!(checked.code, 1, "{attack}: {}", checked.stderr);
        assert!(
            checked.stderr.contains("line ") && checked.stderr.contains("user_db.sql.gz"),
            "{attack}: the refusal names the file and line: {}",
            checked.stderr
        );
        let restored = restore(&copy, &["--via", "direct"]);
        assert_eq!(restored.code, 5, "{attack}: {}", restored.stderr);
        assert!(restored.stderr.contains("line "), "{}", restored.stderr);
        let restored = restore(&copy, &[]);
        assert_eq!(restored.code, 5, "{attack}: {}", restored.stderr);
    }
    let on_host = sh(&format!("ls {marker}* 2>/dev/null | wc -l"));
    assert_eq!(on_host.trim(), "0", "nothing ran on the host");
    let in_container = sh(&format!(
        "docker exec helpdesk-user-db sh -c 'ls {marker}* 2>/dev/null | wc -l'"
    ));
    assert_eq!(in_container.trim(), "0", "nothing ran in the container");
    assert_eq!(
        started_at("helpdesk-user-service"),
        app_started,
        "nothing was stopped"
    );
    // The same backup, untouched but moved elsewhere, is still ours.
    let place = tempfile::tempdir().unwrap();
    sh(&format!(
        "cp -r {} {}",
        dir.display(),
        place.path().display()
    ));
    let moved = place.path().join(dir.file_name().unwrap());
    assert_eq!(verify(&moved, false).code, 0);
}

#[test]
fn lying_backups_are_refused_by_verify_and_restore_before_anything_stops() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "user");
    let app_started = started_at("helpdesk-user-service");
    let outside = tempfile::tempdir().unwrap();
    let outside_dump = outside.path().join("user_db.sql.gz");
    std::fs::copy(dir.join("user_db.sql.gz"), &outside_dump).unwrap();
    type Lie = Box<dyn Fn(&Path)>;
    let set_manifest = |dir: &Path, change: &dyn Fn(&mut serde_json::Value)| {
        let mut manifest = read_manifest(dir);
        change(&mut manifest);
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    };
    let replace_dump = |dir: &Path, bytes: &[u8]| {
        std::fs::write(dir.join("user_db.sql.gz"), bytes).unwrap();
        let mut manifest = read_manifest(dir);
        manifest["databases"][0]["file"]["size"] = bytes.len().into();
        manifest["databases"][0]["file"]["sha256"] = hex::encode(Sha256::digest(bytes)).into();
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    };
    let lies: Vec<(&str, Lie)> = vec![
        (
            "a database without a file",
            Box::new(move |d: &Path| {
                set_manifest(d, &|m| {
                    m["databases"][0].as_object_mut().unwrap().remove("file");
                })
            }),
        ),
        (
            "no database",
            Box::new(move |d: &Path| set_manifest(d, &|m| m["databases"] = serde_json::json!([]))),
        ),
        (
            "an empty dump",
            Box::new(move |d: &Path| replace_dump(d, &gzip(b""))),
        ),
        (
            "an all-NUL dump",
            Box::new(move |d: &Path| replace_dump(d, &gzip(&[0u8; 65536]))),
        ),
        (
            "a symlink to /dev/zero",
            Box::new(|d: &Path| {
                std::fs::remove_file(d.join("user_db.sql.gz")).unwrap();
                std::os::unix::fs::symlink("/dev/zero", d.join("user_db.sql.gz")).unwrap();
            }),
        ),
        (
            "a FIFO",
            Box::new(|d: &Path| {
                std::fs::remove_file(d.join("user_db.sql.gz")).unwrap();
                sh(&format!("mkfifo {}", d.join("user_db.sql.gz").display()));
            }),
        ),
        (
            "a symlink to a file outside the backup",
            Box::new(move |d: &Path| {
                std::fs::remove_file(d.join("user_db.sql.gz")).unwrap();
                std::os::unix::fs::symlink(&outside_dump, d.join("user_db.sql.gz")).unwrap();
            }),
        ),
    ];
    for (what, lie) in lies {
        let place = tempfile::tempdir().unwrap();
        let copy = edited_copy(&dir, place.path(), |dump| dump);
        lie(&copy);
        let limit = Duration::from_secs(10);
        let checked = run_within(
            doctor()
                .args(["backup", "verify", "--trust-foreign-backup"])
                .arg(&copy),
            limit,
        );
        assert_eq!(
            checked.code, 1,
            "{what}: {}{}",
            checked.stdout, checked.stderr
        );
        assert!(
            checked.stderr.contains("backup invalid"),
            "{what}: {}",
            checked.stderr
        );
        let restored = run_within(
            doctor().arg("restore").arg(&copy).args([
                "--yes",
                "--trust-foreign-backup",
                "--no-safety-backup",
            ]),
            limit,
        );
        assert_eq!(
            restored.code, 5,
            "{what}: {}{}",
            restored.stdout, restored.stderr
        );
    }
    assert_eq!(
        started_at("helpdesk-user-service"),
        app_started,
        "nothing was stopped"
    );
}

#[test]
fn prune_keeps_the_newest_backup_that_verifies() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let intact = make_backup(out.path(), "user");
    std::thread::sleep(Duration::from_millis(1100));
    let newest = make_backup(out.path(), "user");
    assert_ne!(intact, newest);
    let dump = newest.join("user_db.sql.gz");
    let bytes = std::fs::read(&dump).unwrap();
    std::fs::write(&dump, &bytes[..bytes.len() / 2]).unwrap();
    let pruned = run(doctor()
        .args(["backup", "prune", "--keep", "1", "--yes", "--dir"])
        .arg(out.path()));
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(
        intact.exists(),
        "the intact backup is kept: {}",
        pruned.stdout
    );
    assert!(!newest.exists(), "{}", pruned.stdout);
    assert!(
        pruned.stdout.contains("does not verify") && pruned.stdout.contains("verified intact"),
        "says why: {}",
        pruned.stdout
    );
}

/// The ticket database's big table and tickets, as one digest.
fn ticket_digest() -> String {
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT (SELECT count(*) || ':' || md5(string_agg(md5(body), '' ORDER BY id)) FROM big) || ' ' || \
         (SELECT count(*) || ':' || md5(string_agg(title || status, '' ORDER BY id)) FROM tickets)",
    )
}

fn copy_of_big_running() -> bool {
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY public.big %' AND pid <> pg_backend_pid()",
    ) != "0"
}

/// Any session of the restore still alive in ticket_db (its transaction not yet rolled back).
fn restore_sessions() -> String {
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'ticket_db' AND backend_type = 'client backend' \
         AND pid <> pg_backend_pid() AND state <> 'idle'",
    )
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what} after {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn running(container: &str) -> String {
    sh(&format!(
        "docker inspect -f '{{{{.State.Running}}}}' {container}"
    ))
    .trim()
    .to_string()
}

fn spawn_restore(dir: &Path, via: &str) -> Child {
    doctor()
        .arg("restore")
        .arg(dir)
        .args([
            "--only",
            "ticket",
            "--yes",
            "--no-safety-backup",
            "--via",
            via,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Ctrl-C while the engine is still stopping the application (a request
/// held half-sent keeps it from closing until the engine kills it, 10 s later):
/// the restore waits for that stop to end before starting the application
/// again — a start sent earlier is a no-op, and the stop would then win.
#[test]
fn a_restore_interrupted_while_the_application_stops_starts_it_again() {
    let _stack = stack_exclusive();
    let _finish = Restore(|| {
        run(doctor().args(["restore", "--finish"]));
        sh("docker start helpdesk-ticket-service >/dev/null");
    });
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "ticket");
    let mut held = std::net::TcpStream::connect("127.0.0.1:3003").unwrap();
    held.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut stopping = Events::watch(&["event=kill", "container=helpdesk-ticket-service"]);
    let child = spawn_restore(&dir, "docker");
    stopping.next();
    let output = interrupt(child);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("application containers started again"),
        "{stderr}"
    );
    assert_eq!(
        running("helpdesk-ticket-service"),
        "true",
        "started again after its stop ended: {stderr}"
    );
    drop(held);
    wait_stack_healthy();
}

#[test]
fn an_interrupted_restore_changes_nothing_and_the_apps_come_back() {
    let _stack = stack_exclusive();
    let _reseed = Restore(|| {
        psql(
            "helpdesk-ticket-db",
            "ticket",
            "ticket_db",
            // The digests' own slow queries must not stay behind for other tests.
            "DROP TABLE IF EXISTS big; SELECT pg_stat_statements_reset()",
        );
        run(doctor().args(["restore", "--finish"]));
        sh("docker start helpdesk-ticket-service >/dev/null; tests/stack/seed.sh 2>&1");
    });
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "DROP TABLE IF EXISTS big; CREATE TABLE big (id integer PRIMARY KEY, body text NOT NULL); \
         INSERT INTO big SELECT i, repeat(md5(i::text), 30) FROM generate_series(1, 150000) i",
    );
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "ticket");
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "DELETE FROM big WHERE id % 2 = 0; UPDATE tickets SET title = 'after the backup' WHERE id IN (SELECT id FROM tickets ORDER BY id LIMIT 49)",
    );
    let before = ticket_digest();
    for via in ["docker", "direct"] {
        for signal in ["INT", "KILL"] {
            let case = format!("SIG{signal} via {via}");
            let child = spawn_restore(&dir, via);
            wait_until(
                &format!("{case}: no COPY started"),
                Duration::from_secs(60),
                copy_of_big_running,
            );
            sh(&format!("kill -{signal} {}", child.id()));
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            wait_until(
                &format!("{case}: the restore's session still runs"),
                Duration::from_secs(30),
                || restore_sessions() == "0",
            );
            assert_eq!(ticket_digest(), before, "{case}: the database is unchanged");
            if signal == "INT" {
                assert_eq!(output.status.code(), Some(130), "{case}: {stderr}");
                assert!(stderr.contains("interrupted by SIGINT"), "{case}: {stderr}");
                assert_eq!(
                    running("helpdesk-ticket-service"),
                    "true",
                    "{case}: started again"
                );
            } else {
                assert_eq!(
                    running("helpdesk-ticket-service"),
                    "false",
                    "{case}: left stopped"
                );
                let next = run(doctor().args(["checks", "list"]));
                assert!(
                    next.stderr.contains("was interrupted")
                        && next.stderr.contains("helpdesk-ticket-service")
                        && next.stderr.contains("restore --finish"),
                    "{case}: the next command says so: {}",
                    next.stderr
                );
                let refused = restore(&dir, &[]);
                assert_eq!(refused.code, 5, "{case}: {}", refused.stderr);
                let finished = run(doctor().args(["restore", "--finish"]));
                assert_eq!(
                    finished.code, 0,
                    "{case}: {}{}",
                    finished.stdout, finished.stderr
                );
                let after = run(doctor().args(["checks", "list"]));
                assert!(
                    !after.stderr.contains("was interrupted"),
                    "{}",
                    after.stderr
                );
            }
            wait_stack_healthy();
        }
    }
    // Ctrl-C during a backup: exit 130 and no unfinished file left behind.
    let out = tempfile::tempdir().unwrap();
    let child = doctor()
        .args(["backup", "--only", "ticket", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let files = || sh(&format!("find {} -type f", out.path().display()));
    wait_until(
        "no dump file being written",
        Duration::from_secs(30),
        || files().contains(".tmp"),
    );
    sh(&format!("kill -INT {}", child.id()));
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(files(), "", "no partial file is left");
}

#[test]
fn row_counts_in_the_manifest_are_the_dumps_under_concurrent_writes() {
    let _stack = stack_exclusive();
    // A ticket that exists now, whatever earlier tests re-seeded (ids move).
    let ticket = psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT min(id) FROM tickets",
    );
    let ticket: i64 = ticket.trim().parse().expect("a ticket to comment on");
    let mut writer = std::process::Command::new("docker")
        .args([
            "exec",
            "helpdesk-ticket-db",
            "sh",
            "-c",
            // Stops when the flag file goes (killing `docker exec` would not stop it), or after 2 minutes.
            &format!("touch /tmp/writer-on; end=$(($(date +%s) + 120)); \
             while [ -e /tmp/writer-on ] && [ $(date +%s) -lt $end ]; do \
             psql -qX -U ticket -d ticket_db -c \"INSERT INTO comments (ticket_id, body) VALUES ({ticket}, 'concurrent')\"; done"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut counts = Vec::new();
    for attempt in 0..3 {
        let place = out.path().join(attempt.to_string());
        std::fs::create_dir(&place).unwrap();
        let dir = make_backup(&place, "ticket");
        let manifest = read_manifest(&dir);
        let recorded = manifest["databases"][0]["tables"]["comments"]
            .as_i64()
            .unwrap();
        let dump = String::from_utf8(gunzip(
            &std::fs::read(dir.join("ticket_db.sql.gz")).unwrap(),
        ))
        .unwrap();
        let start = dump.find("COPY public.comments ").expect("comments data");
        let block = &dump[start..];
        let rows = block[..block.find("\n\\.\n").unwrap()].lines().count() as i64 - 1;
        assert_eq!(
            recorded, rows,
            "attempt {attempt}: the manifest counts the dump's rows"
        );
        counts.push(rows);
    }
    sh("docker exec helpdesk-ticket-db rm -f /tmp/writer-on");
    writer.wait().ok();
    assert!(
        counts.windows(2).any(|w| w[0] != w[1]),
        "rows were written while backing up: {counts:?}"
    );
    psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "DELETE FROM comments WHERE body = 'concurrent'",
    );
}

#[test]
fn a_password_in_a_log_line_is_masked_whichever_checks_run() {
    let _stack = stack_exclusive();
    let canary = format!("canary-l0g-hidden-{}", std::process::id());
    let canary = canary.as_str();
    let output = std::process::Command::new("docker")
        .args([
            "exec",
            "helpdesk-auth-db",
            "psql",
            "-X",
            "-U",
            "user",
            "-d",
            "auth_db",
            "-c",
            &format!("SELECT '{canary}'::integer"),
        ])
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "the statement fails and is logged"
    );
    let report = run(doctor().env("HELPDESK_AUTH_DB_PASSWORD", canary).args([
        "diagnose",
        "--only",
        "logs.auth.db",
        "--format",
        "json",
        "--verbose",
    ]));
    assert!(
        report.stdout.contains("****"),
        "the line is reported, masked: {}",
        report.stdout
    );
    assert!(!report.stdout.contains(canary) && !report.stderr.contains(canary));
}

#[test]
fn hostile_inputs_get_a_usage_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let chain = |n: usize, reverse: bool| {
        let mut text = String::new();
        for i in 0..n {
            let next = if reverse { i + 1 } else { i.wrapping_sub(1) };
            let needs = if (reverse && i + 1 < n) || (!reverse && i > 0) {
                format!("needs = [\"c{next}\"]\n")
            } else {
                String::new()
            };
            text.push_str(&format!(
                "[[check]]\nid = \"c{i}\"\ntitle = \"t\"\nhint = \"h\"\n{needs}probe = {{ kind = \"host_load\" }}\n\n"
            ));
        }
        text
    };
    let case = |name: &str, file: &str, text: &str| {
        let checks = dir.path().join(name);
        std::fs::create_dir_all(&checks).unwrap();
        std::fs::write(checks.join(file), text).unwrap();
        checks
    };
    let fifo_dir = dir.path().join("fifo");
    std::fs::create_dir(&fifo_dir).unwrap();
    sh(&format!("mkfifo {}/a.toml", fifo_dir.display()));
    let selfish = "[[check]]\nid = \"me\"\ntitle = \"t\"\nhint = \"h\"\ncauses = [\"me\"]\nprobe = { kind = \"host_load\" }\n";
    let config = temp_file(dir.path(), "config.toml", "[timeouts]\nprobe_ms = 0\n");
    let checks_dir = |d: PathBuf| vec!["--checks-dir".to_string(), d.display().to_string()];
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "huge probe timeout",
            vec![
                "diagnose".into(),
                "--probe-timeout".into(),
                "99999999999999999999999h".into(),
            ],
        ),
        (
            "zero deadline",
            vec!["diagnose".into(), "--deadline".into(), "0".into()],
        ),
        (
            "huge wait timeout",
            vec![
                "wait".into(),
                "--timeout".into(),
                "99999999999999999999s".into(),
            ],
        ),
        (
            "batch 0",
            vec![
                "cache".into(),
                "flush".into(),
                "user".into(),
                "--pattern".into(),
                "x:*".into(),
                "--batch".into(),
                "0".into(),
                "--dry-run".into(),
            ],
        ),
        (
            "a zero timeout in the config",
            vec![
                "--config".into(),
                config.display().to_string(),
                "checks".into(),
                "list".into(),
            ],
        ),
        (
            "500 checks needing the next",
            [
                checks_dir(case("chain", "chain.toml", &chain(500, false))),
                vec!["diagnose".into()],
            ]
            .concat(),
        ),
        (
            "10,000 in a reverse chain",
            [
                checks_dir(case("reverse", "reverse.toml", &chain(10_000, true))),
                vec!["diagnose".into()],
            ]
            .concat(),
        ),
        (
            "a FIFO named a.toml",
            [checks_dir(fifo_dir.clone()), vec!["diagnose".into()]].concat(),
        ),
        (
            "a check causing itself",
            [
                checks_dir(case("self", "self.toml", selfish)),
                vec!["checks".into(), "list".into()],
            ]
            .concat(),
        ),
    ];
    for (what, args) in cases {
        let result = run_within(doctor().args(&args), Duration::from_secs(10));
        assert_eq!(result.code, 2, "{what}: {}{}", result.stdout, result.stderr);
        assert!(
            result.took < Duration::from_secs(2),
            "{what}: answered in {:?}",
            result.took
        );
        assert!(
            result
                .stderr
                .lines()
                .any(|l| l.starts_with("error: ") || l.starts_with("helpdesk-doctor: ")),
            "{what}: a clear error line: {}",
            result.stderr
        );
    }
}

#[test]
fn ten_thousand_checks_on_one_port_leave_its_proxy_alive() {
    let _stack = stack_exclusive();
    let dir = tempfile::tempdir().unwrap();
    for file in 0..10 {
        let mut text = String::new();
        for i in file * 1000..(file + 1) * 1000 {
            text.push_str(&format!(
                "[[check]]\nid = \"flood.{i}\"\ntitle = \"t\"\nhint = \"h\"\nprobe = {{ kind = \"tcp\", port = 6302, owner = \"helpdesk-user-redis\" }}\n\n"
            ));
        }
        temp_file(dir.path(), &format!("flood{file}.toml"), &text);
    }
    let flood = run(doctor().arg("--checks-dir").arg(dir.path()).args([
        "diagnose",
        "--only",
        "flood.*",
        "--format",
        "json",
        "--deadline",
        "120s",
        "--probe-timeout",
        "30s",
    ]));
    let report = flood.json();
    let passed = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "pass")
        .count();
    assert_eq!(
        passed, 10_000,
        "every connection got through: {}",
        flood.stderr
    );
    let mut redis = redis(6302, REDIS_PASSWORD);
    let pong: String = redis::cmd("PING").query(&mut redis).unwrap();
    assert_eq!(pong, "PONG", "the port's proxy still serves");
}

#[test]
fn a_paused_database_is_named_and_ends_a_backup_within_its_stall_timeout() {
    let _stack = stack_exclusive();
    let _unpause = Restore(|| {
        sh("docker unpause helpdesk-user-db 2>/dev/null || true");
    });
    sh("docker pause helpdesk-user-db");
    // A round of checks hangs on the paused database until its probe timeout (2 s):
    // `wait` cuts it at its own timeout.
    let waited = run_within(
        doctor().args(["wait", "--timeout", "1s"]),
        Duration::from_secs(10),
    );
    assert_eq!(waited.code, 4, "{}", waited.stderr);
    assert!(
        waited.took < Duration::from_millis(1800),
        "gave up after {:?}",
        waited.took
    );
    let (_, report) = diagnose_json(&["--only", "container.user.db"]);
    let paused = result(&report, "container.user.db");
    assert_eq!(paused["status"], "fail");
    assert!(
        paused["message"].as_str().unwrap().contains("paused"),
        "{paused}"
    );
    assert!(
        paused["hint"]
            .as_str()
            .unwrap()
            .contains("docker unpause helpdesk-user-db"),
        "{paused}"
    );

    let out = tempfile::tempdir().unwrap();
    let backup = run_within(
        doctor()
            .args([
                "backup",
                "--only",
                "user",
                "--via",
                "direct",
                "--stall-timeout",
                "3s",
                "--out",
            ])
            .arg(out.path()),
        Duration::from_secs(30),
    );
    assert_eq!(backup.code, 6, "{}{}", backup.stdout, backup.stderr);
    assert!(
        backup.took < Duration::from_secs(20),
        "ended in {:?}",
        backup.took
    );
    let left: Vec<String> = sh(&format!("find {} -type f", out.path().display()))
        .lines()
        .map(|l| l.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        left,
        vec!["manifest.json".to_string()],
        "no partial file is left"
    );
    drop(hold_runbook_lock("1"));
}

#[test]
fn planted_symlinks_are_never_followed_and_parallel_outputs_never_mix() {
    let _stack = stack_exclusive();
    let dir = tempfile::tempdir().unwrap();
    let precious = temp_file(dir.path(), "precious", "keep me");
    let report = dir.path().join("report.json");
    std::os::unix::fs::symlink(&precious, &report).unwrap();
    let written = run(doctor()
        .args([
            "diagnose",
            "--only",
            "host.load",
            "--format",
            "json",
            "--output",
        ])
        .arg(&report));
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    assert!(std::fs::read_to_string(&report).unwrap().starts_with('{'));

    let lock = runbook_lock_path();
    drop(hold_runbook_lock("1"));
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&precious, &lock).unwrap();
    let refused = run(doctor().args(["cache", "flush", "user", "--pattern", "nothing:*", "--yes"]));
    std::fs::remove_file(&lock).unwrap();
    assert_eq!(refused.code, 3, "cannot run: {}", refused.stderr);
    assert!(
        refused.stderr.contains("/run/helpdesk-doctor/lock"),
        "the refusal names the lock: {}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "keep me",
        "the lock's target is untouched"
    );

    for i in 0..300 {
        let json = dir.path().join(format!("r{i}.json"));
        let xml = dir.path().join(format!("r{i}.xml"));
        let spawn = |format: &str, path: &Path| {
            doctor()
                .args([
                    "diagnose",
                    "--only",
                    "host.load",
                    "--format",
                    format,
                    "--output",
                ])
                .arg(path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let (mut a, mut b) = (spawn("json", &json), spawn("junit", &xml));
        assert!(a.wait().unwrap().code().is_some_and(|c| c <= 1));
        assert!(b.wait().unwrap().code().is_some_and(|c| c <= 1));
        assert!(
            std::fs::read_to_string(&json).unwrap().starts_with('{'),
            "run {i}"
        );
        assert!(
            std::fs::read_to_string(&xml).unwrap().starts_with("<?xml"),
            "run {i}"
        );
    }
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(leftovers, 0, "no temporary file is left behind");
}

#[test]
fn a_restore_whose_row_counts_differ_from_the_backup_fails() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let dir = make_backup(out.path(), "user");
    let mut manifest = read_manifest(&dir);
    let users = manifest["databases"][0]["tables"]["users"]
        .as_i64()
        .unwrap();
    manifest["databases"][0]["tables"]["users"] = (users + 1).into();
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    let restored = restore(&dir, &[]);
    assert_eq!(restored.code, 6, "{}{}", restored.stdout, restored.stderr);
    assert!(
        restored
            .stdout
            .contains(&format!("users has {users} rows, the backup {}", users + 1)),
        "{}",
        restored.stdout
    );
    wait_stack_healthy();
}
