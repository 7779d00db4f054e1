//! Credentials found where a deployment keeps them (issue 9): a database that
//! reads its password from POSTGRES_PASSWORD_FILE, a Redis with `--requirepass`
//! on its command line, a Redis with no password, libpq's password file, and a
//! password file that cannot be read. A throwaway service `cred` (its own
//! containers and ports, the bundled images) beside the stack.

use crate::support::*;
use std::path::Path;
use std::time::{Duration, Instant};

const DB_CANARY: &str = "canary-db-file-4c1e";
const REDIS_CANARY: &str = "canary-requirepass-77d2";

fn profile(dir: &Path) -> std::path::PathBuf {
    temp_file(
        dir,
        "cred.toml",
        "[[services]]\nname = \"cred\"\napp_port = 3999\ndb_port = 5499\nredis_port = 6399\n\
         database = \"cred_db\"\ndb_user = \"cred\"\n",
    )
}

fn remove_containers() {
    sh("docker rm -f -v helpdesk-cred-db helpdesk-cred-redis >/dev/null 2>&1 || true");
}

fn start_redis(args: &str) {
    sh(&format!(
        "docker rm -f -v helpdesk-cred-redis >/dev/null 2>&1 || true; \
         docker run -d --name helpdesk-cred-redis -p 127.0.0.1:6399:6379 helpdesk-redis:local {args} >/dev/null"
    ));
    // Until it answers (PONG, or NOAUTH with a password): a fresh server resets early connections.
    let started = Instant::now();
    let answers = || {
        let reply = sh("docker exec helpdesk-cred-redis redis-cli ping 2>&1 || true");
        reply.contains("PONG") || reply.contains("NOAUTH")
    };
    while !answers() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "helpdesk-cred-redis never answered"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Until the final server accepts TCP connections (during its first start the
/// image runs a temporary server on the socket only, then restarts it).
fn wait_for_database() {
    let started = Instant::now();
    while std::process::Command::new("docker")
        .args([
            "exec",
            "helpdesk-cred-db",
            "pg_isready",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "cred",
            "-d",
            "cred_db",
        ])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "helpdesk-cred-db never started"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn diagnose_cred(config: &Path, env: &[(&str, &str)]) -> (Run, serde_json::Value) {
    let mut command = doctor();
    command.arg("--config").arg(config).args([
        "diagnose",
        "--only",
        "postgres.cred.connect,postgres.cred.slow_queries,redis.cred.ping",
        "--format",
        "json",
        "--verbose",
    ]);
    for (name, value) in env {
        command.env(name, value);
    }
    let run = run(&mut command);
    let json = run.json();
    assert!(!run.stdout.contains(DB_CANARY) && !run.stderr.contains(DB_CANARY));
    assert!(!run.stdout.contains(REDIS_CANARY) && !run.stderr.contains(REDIS_CANARY));
    (run, json)
}

#[test]
fn credentials_are_read_where_the_deployment_keeps_them() {
    let _stack = stack_shared();
    let _cleanup = Restore(remove_containers);
    let dir = tempfile::tempdir().unwrap();
    let config = profile(dir.path());
    // A password file with a trailing newline, as `echo pw > file` writes it.
    let secret = temp_file(dir.path(), "db-password", &format!("{DB_CANARY}\n"));
    remove_containers();
    // Copied into the container, not bind-mounted: the doctor reads it through
    // the engine (the production-shaped fixture covers the bind-mounted secret).
    sh(&format!(
        "docker create --name helpdesk-cred-db -e POSTGRES_USER=cred -e POSTGRES_DB=cred_db \
         -e POSTGRES_PASSWORD_FILE=/tmp/db-password \
         -p 127.0.0.1:5499:5432 helpdesk-postgres:local >/dev/null && \
         docker cp {} helpdesk-cred-db:/tmp/db-password && docker start helpdesk-cred-db >/dev/null",
        secret.display()
    ));
    start_redis(&format!("redis-server --requirepass {REDIS_CANARY}"));
    wait_for_database();

    let (run, report) = diagnose_cred(&config, &[]);
    let connect = result(&report, "postgres.cred.connect");
    assert_eq!(connect["status"], "pass", "{connect:#}\n{}", run.stderr);
    assert_eq!(
        connect["details"]["password_source"],
        "POSTGRES_PASSWORD_FILE (/tmp/db-password) in helpdesk-cred-db"
    );
    let ping = result(&report, "redis.cred.ping");
    assert_eq!(ping["status"], "pass", "{ping:#}");
    assert_eq!(
        ping["details"]["password_source"],
        "--requirepass on helpdesk-cred-redis's command line"
    );
    // Like the official image, this database does not preload pg_stat_statements.
    let slow = result(&report, "postgres.cred.slow_queries");
    assert_eq!(slow["status"], "warn", "{slow:#}");
    assert!(
        slow["hint"]
            .as_str()
            .unwrap()
            .contains("\"shared_preload_libraries=pg_stat_statements\""),
        "{slow:#}"
    );

    // libpq's own password file comes before the container's.
    let pgpass = temp_file(
        dir.path(),
        "pgpass",
        &format!("# comment\n127.0.0.1:5499:cred_db:cred:{DB_CANARY}\n"),
    );
    let pgpass_path = pgpass.display().to_string();
    let (_, report) = diagnose_cred(&config, &[("PGPASSFILE", &pgpass_path)]);
    let connect = result(&report, "postgres.cred.connect");
    assert_eq!(connect["status"], "pass", "{connect:#}");
    assert_eq!(connect["details"]["password_source"], pgpass_path.as_str());

    // A wrong one is named by its source; a file that cannot be read is named, not skipped.
    let (_, report) = diagnose_cred(&config, &[("PGPASSWORD", "wrong")]);
    let connect = result(&report, "postgres.cred.connect");
    assert_eq!(connect["status"], "fail");
    assert!(
        connect["message"].as_str().unwrap().contains(
            "password authentication failed for user \"cred\" (password from $PGPASSWORD)"
        ),
        "{connect:#}"
    );
    let (_, report) = diagnose_cred(&config, &[("HELPDESK_DB_PASSWORD_FILE", "/nonexistent/pw")]);
    let connect = result(&report, "postgres.cred.connect");
    assert_eq!(connect["status"], "fail");
    assert!(
        connect["message"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/pw"),
        "{connect:#}"
    );

    // A Redis without a password is not "WRONGPASS": nothing to authenticate.
    start_redis("");
    let (_, report) = diagnose_cred(&config, &[]);
    let ping = result(&report, "redis.cred.ping");
    assert_eq!(ping["status"], "pass", "{ping:#}");
    assert!(
        ping["message"]
            .as_str()
            .unwrap()
            .contains("no password required"),
        "{ping:#}"
    );
    // And one given a password it does not need still answers.
    let (_, report) = diagnose_cred(&config, &[("REDISCLI_AUTH", "unneeded")]);
    assert_eq!(result(&report, "redis.cred.ping")["status"], "pass");
}
