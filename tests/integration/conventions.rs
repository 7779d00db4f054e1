//! Credentials in a deployment's own conventions (issue 19): a throwaway
//! compose project whose application names its database and Redis by parts
//! (`DB_HOST`/`DB_USER`/`DB_NAME`/`DB_PASSWORD_FILE`,
//! `REDIS_HOST`/`REDIS_USERNAME`/`REDIS_PASSWORD_FILE`) with compose secrets
//! ending in a newline, and a Redis whose only user is an ACL user
//! (`--user app on >… --user default off`). The bundled images, ports
//! published on 127.0.0.1 ports of their own; removed afterwards.

use crate::support::*;
use std::path::Path;
use std::time::{Duration, Instant};

const PROJECT: &str = "hdconv";
const DB_CANARY: &str = "canary-conv-db-91fa";
const REDIS_CANARY: &str = "canary-conv-acl-3b07";

const COMPOSE: &str = r#"
services:
  conv-db:
    image: helpdesk-postgres:local
    environment:
      POSTGRES_USER: conv
      POSTGRES_DB: conv_db
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
    secrets: [db_password]
    ports: ["127.0.0.1:5496:5432"]
  conv-redis:
    image: helpdesk-redis:local
    command: ["redis-server", "--user", "app", "on", ">REDIS_CANARY", "~*", "+@all", "--user", "default", "off"]
    ports: ["127.0.0.1:6396:6379"]
  conv-service:
    image: helpdesk-service:local
    entrypoint: ["sleep", "infinity"]
    environment:
      DB_HOST: conv-db
      DB_PORT: "5432"
      DB_USER: conv
      DB_NAME: conv_db
      DB_PASSWORD_FILE: /run/secrets/db_password
      REDIS_HOST: conv-redis
      REDIS_USERNAME: app
      REDIS_PASSWORD_FILE: /run/secrets/redis_password
    secrets: [db_password, redis_password]
secrets:
  db_password:
    file: ./db_password
  redis_password:
    file: ./redis_password
"#;

fn down(dir: &Path) {
    sh(&format!(
        "docker-compose -p {PROJECT} -f {0}/compose.yaml down -v --remove-orphans >/dev/null 2>&1 || true",
        dir.display()
    ));
}

/// The container of a compose service of the project (compose v1 and v2 name them differently).
fn container_of(service: &str) -> String {
    sh(&format!(
        "docker ps -a --filter label=com.docker.compose.project={PROJECT} \
         --filter label=com.docker.compose.service={service} --format '{{{{.Names}}}}'"
    ))
    .trim()
    .to_string()
}

fn wait_for_database() {
    let started = Instant::now();
    let container = container_of("conv-db");
    while std::process::Command::new("docker")
        .args(["exec", &container, "pg_isready", "-q", "-h", "127.0.0.1"])
        .args(["-U", "conv", "-d", "conv_db"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{container} never started"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn diagnose_conv(dir: &Path) -> serde_json::Value {
    let config = temp_file(
        dir,
        "conv.toml",
        "[[services]]\nname = \"conv\"\napp_port = 3996\ndb_port = 5496\nredis_port = 6396\n",
    );
    let mut command = doctor();
    command
        .arg("--config")
        .arg(&config)
        .args(["--project", PROJECT, "diagnose", "--only"])
        .args(["postgres.conv.connect,redis.conv.ping,redis.conv.info"])
        .args(["--format", "json", "--verbose"]);
    let run = run(&mut command);
    for canary in [DB_CANARY, REDIS_CANARY] {
        assert!(
            !run.stdout.contains(canary) && !run.stderr.contains(canary),
            "{canary} printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run.json()
}

fn message(report: &serde_json::Value, id: &str) -> String {
    result(report, id)["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_application_s_own_conventions_give_the_credentials_and_the_acl_user() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().to_path_buf();
    let _cleanup = Restore(move || down(&dir_path));
    // Secret files as `echo pw > file` writes them: the newline is not the password.
    temp_file(dir.path(), "db_password", &format!("{DB_CANARY}\n"));
    let redis_password = temp_file(dir.path(), "redis_password", &format!("{REDIS_CANARY}\n"));
    temp_file(
        dir.path(),
        "compose.yaml",
        &COMPOSE.replace("REDIS_CANARY", REDIS_CANARY),
    );
    down(dir.path());
    sh(&format!(
        "docker-compose -p {PROJECT} -f {0}/compose.yaml up -d >/dev/null 2>&1",
        dir.path().display()
    ));
    wait_for_database();
    let app = container_of("conv-service");

    let report = diagnose_conv(dir.path());
    let connect = result(&report, "postgres.conv.connect");
    assert_eq!(connect["status"], "pass", "{connect:#}");
    assert_eq!(
        connect["details"]["password_source"],
        format!("DB_PASSWORD_FILE (/run/secrets/db_password) in {app}")
    );
    let ping = result(&report, "redis.conv.ping");
    assert_eq!(ping["status"], "pass", "{ping:#}");
    assert_eq!(ping["details"]["user"], "app", "{ping:#}");
    assert_eq!(
        ping["details"]["password_source"],
        format!("REDIS_PASSWORD_FILE (/run/secrets/redis_password) in {app}")
    );
    assert_eq!(status_of(&report, "redis.conv.info"), "pass");

    // A wrong password: WRONGPASS, the user named (not "requires a password").
    std::fs::write(&redis_password, "not-the-password\n").unwrap();
    let report = diagnose_conv(dir.path());
    let ping = message(&report, "redis.conv.ping");
    assert_eq!(status_of(&report, "redis.conv.ping"), "fail");
    assert!(
        ping.contains("WRONGPASS") && ping.contains("user \"app\""),
        "{ping}"
    );

    // A right password but no right to PING: NOPERM, the user named.
    std::fs::write(&redis_password, format!("{REDIS_CANARY}\n")).unwrap();
    let redis = container_of("conv-redis");
    sh(&format!(
        "docker exec -e REDISCLI_AUTH={REDIS_CANARY} {redis} redis-cli --user app ACL SETUSER app -ping >/dev/null"
    ));
    let report = diagnose_conv(dir.path());
    let ping = message(&report, "redis.conv.ping");
    assert!(
        ping.contains("NOPERM") && ping.contains("user \"app\""),
        "{ping}"
    );
}
