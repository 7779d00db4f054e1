//! Faults of the Docker host and of the check families no other test makes
//! fail (issue 21): each injected on the real stack under `stack_exclusive`,
//! its check's message and fix asserted, the fault undone after.

use crate::support::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `diagnose --format json` with a config of `[thresholds]` lines.
fn diagnose_with_thresholds(thresholds: &str, args: &[&str]) -> (Run, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let config = temp_file(
        dir.path(),
        "config.toml",
        &format!("[thresholds]\n{thresholds}\n"),
    );
    let run = run(doctor()
        .arg("--config")
        .arg(&config)
        .args(["diagnose", "--format", "json"])
        .args(args));
    let report = run.json();
    (run, report)
}

fn text<'a>(result: &'a serde_json::Value, key: &str) -> &'a str {
    result[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key}: {result:#}"))
}

#[test]
fn thresholds_above_what_the_host_has_fail_the_disks_and_warn_of_memory() {
    let _stack = stack_shared();
    let (run, report) = diagnose_with_thresholds(
        "disk_warn_gb = 1000000.0\ndisk_fail_gb = 999999.0\nmemory_warn_percent = 0.01\n\
         inodes_warn_percent = 100.0",
        &[
            "--only",
            "host.*,docker.*",
            "--probe-timeout",
            "10s",
            "--deadline",
            "30s",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let host = result(&report, "host.disk");
    assert_eq!(host["status"], "fail", "{host:#}");
    assert!(
        text(host, "message").starts_with("lowest free space"),
        "{host:#}"
    );
    assert!(
        text(host, "hint").contains("docker system prune"),
        "{host:#}"
    );

    let root = sh("docker info -f '{{.DockerRootDir}}'").trim().to_string();
    let disk = result(&report, "docker.disk");
    assert_eq!(disk["status"], "fail", "{disk:#}");
    let message = text(disk, "message");
    assert!(
        message.starts_with(&format!("few inodes left: {root}: ")) && message.contains("GB free"),
        "{message}"
    );
    // The free space told is the filesystem's, as df measures it (helpers
    // writing meanwhile move it a little).
    let df: f64 = sh(&format!("df -B1 --output=avail {root} | tail -n 1"))
        .trim()
        .parse()
        .unwrap();
    let told = disk["details"]["free_bytes"].as_f64().unwrap();
    assert!((told - df).abs() < 2e9, "told {told}, df {df}");
    // Space is short, so what the engine holds was asked of /system/df within
    // the probe's time: told, or why not.
    match disk["details"].get("engine_usage") {
        Some(usage) => {
            assert!(usage["images"]["bytes"].as_u64().unwrap() > 0, "{usage:#}");
            assert!(message.contains("the engine holds images"), "{message}");
        }
        None => {
            let why = disk["details"]["engine_usage_error"].as_str().unwrap();
            assert!(why.contains("/system/df"), "{why}");
            assert!(message.contains("see docker system df"), "{message}");
        }
    }
    let hint = text(disk, "hint");
    assert!(
        hint.contains("docker builder prune") && hint.contains("du --inodes"),
        "{hint}"
    );
    let memory = result(&report, "host.memory");
    assert_eq!(memory["status"], "warn", "{memory:#}");
    assert!(text(memory, "hint").contains("docker stats"), "{memory:#}");
}

#[test]
fn a_load_over_its_budget_warns() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    // The built-in host.load, replaced by the same check with no load allowed.
    temp_file(
        dir.path(),
        "load.toml",
        "[[check]]\nid = \"host.load\"\ntitle = \"load\"\nhint = \"Find what uses the CPU: top\"\n\
         probe = { kind = \"host_load\", warn_per_core = 0.0 }\n",
    );
    let run = run(doctor().arg("--checks-dir").arg(dir.path()).args([
        "diagnose",
        "--format",
        "json",
        "--only",
        "host.load",
    ]));
    let load = result(&run.json(), "host.load").clone();
    assert_eq!(load["status"], "warn", "{load:#}");
    assert!(text(&load, "message").starts_with("load "), "{load:#}");
    assert_eq!(text(&load, "hint"), "Find what uses the CPU: top");
}

/// The stack's compose file with `service`'s health check, restart policy and
/// logging taken out and `lines` added to it, written beside the original (so
/// the project's folder is the same); removed when dropped.
struct Variant(PathBuf);

impl Variant {
    fn of(service: &str, lines: &[&str]) -> Variant {
        let original = repo().join("tests/stack/docker-compose.services.yml");
        let text = std::fs::read_to_string(&original).unwrap();
        let start = text.find(&format!("\n  {service}:\n")).unwrap() + 1;
        let end = start + text[start..].find("\n\n").unwrap();
        let mut block: Vec<String> = Vec::new();
        let mut in_health_check = false;
        for line in text[start..end].lines() {
            in_health_check =
                line == "    healthcheck:" || in_health_check && line.starts_with("      ");
            let dropped = ["    restart:", "    logging:"]
                .iter()
                .any(|p| line.starts_with(p));
            if !in_health_check && !dropped {
                block.push(line.to_string());
            }
        }
        block.extend(lines.iter().map(|l| format!("    {l}")));
        let variant = format!("{}{}{}", &text[..start], block.join("\n"), &text[end..]);
        let path = repo().join(format!("tests/stack/.variant-{service}.yml"));
        std::fs::write(&path, variant).unwrap();
        Variant(path)
    }

    /// `service` recreated from the variant.
    fn up(&self, service: &str) {
        sh(&format!(
            "docker-compose -p helpdesk-microservices -f {} up -d --no-deps {service} 2>&1",
            self.0.display()
        ));
    }
}

impl Drop for Variant {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn wait_for(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_container_without_rotation_health_check_or_restart_policy_is_named_with_the_compose_lines() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        compose("up -d --no-deps user-redis");
    });
    let variant = Variant::of(
        "user-redis",
        &[
            // This machine's daemon.json gives every json-file log a max-size
            // (Docker merges it in): a cap larger than the disk is no rotation.
            "logging: {driver: json-file, options: {max-size: \"100000g\", max-file: \"1\"}}",
            "healthcheck: {disable: true}",
            "restart: \"no\"",
            "mem_limit: 256m",
        ],
    );
    variant.up("user-redis");
    wait_for("user-redis running", Duration::from_secs(30), || {
        health_of("helpdesk-user-redis") == "running"
    });
    let (run, report) =
        diagnose_with_thresholds("memory_warn_percent = 0.5", &["--only", "container.user.*"]);
    assert_eq!(run.code, 0, "warnings only: {}", run.stderr);

    let logging = result(&report, "container.user.redis.logging");
    assert_eq!(logging["status"], "warn", "{logging:#}");
    let message = text(logging, "message");
    assert!(
        message.starts_with(
            "helpdesk-user-redis logs are not rotated in effect (driver json-file, \
             max-size 100000g, max-file 1): they may take 100000.0 GB, more than the "
        ) && message.contains(" GB free where they are written; its log file is ")
            && message.ends_with(" now"),
        "{message}"
    );
    let size = logging["details"]["log_bytes"].as_u64().unwrap();
    let on_disk = sh("stat -c %s $(docker inspect -f '{{.LogPath}}' helpdesk-user-redis)");
    assert!(
        size > 0 && size <= on_disk.trim().parse::<u64>().unwrap(),
        "{size} vs {on_disk}"
    );
    let hint = text(logging, "hint");
    assert!(
        hint.contains(r#"logging: {driver: json-file, options: {max-size: "10m", max-file: "3"}}"#)
            && hint.contains("up -d user-redis"),
        "{hint}"
    );

    let policy = result(&report, "container.user.redis.policy");
    assert_eq!(policy["status"], "warn", "{policy:#}");
    assert_eq!(
        text(policy, "message"),
        "helpdesk-user-redis has no health check (a hung process still counts as running) \
         and restart policy no (a crash or a reboot leaves it down)"
    );
    let hint = text(policy, "hint");
    assert!(
        hint.contains("healthcheck: {test: [\"CMD-SHELL\", \"redis-cli")
            && hint.contains("restart: unless-stopped")
            && hint.contains("up -d user-redis"),
        "{hint}"
    );
    for untouched in ["container.user.db.policy", "container.user.db.logging"] {
        assert_eq!(status_of(&report, untouched), "pass", "{untouched}");
    }

    let resources = result(&report, "container.user.redis.resources");
    assert_eq!(resources["status"], "warn", "{resources:#}");
    assert!(
        text(resources, "message").contains(" of 256.00 MiB ("),
        "{resources:#}"
    );
    assert!(
        text(resources, "hint").contains("deploy.resources.limits.memory"),
        "{resources:#}"
    );
}

#[test]
fn a_container_running_with_a_failing_health_check_is_unhealthy_with_its_output() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        compose("up -d --no-deps ticket-redis");
    });
    let variant = Variant::of(
        "ticket-redis",
        &[
            "healthcheck: {test: [\"CMD-SHELL\", \"echo 'replication link down'; exit 1\"], interval: 1s, timeout: 2s, retries: 2}",
            "restart: unless-stopped",
        ],
    );
    variant.up("ticket-redis");
    wait_for("ticket-redis unhealthy", Duration::from_secs(60), || {
        health_of("helpdesk-ticket-redis") == "unhealthy"
    });
    let (run, report) = diagnose_json(&["--only", "container.ticket.redis"]);
    assert_eq!(run.code, 1);
    let redis = result(&report, "container.ticket.redis");
    assert_eq!(redis["status"], "fail", "{redis:#}");
    let message = text(redis, "message");
    assert!(
        message.starts_with("helpdesk-ticket-redis is unhealthy (failing streak ")
            && message.ends_with("replication link down"),
        "{message}"
    );
    assert!(
        text(redis, "hint")
            .contains("docker inspect --format '{{json .State.Health}}' helpdesk-ticket-redis"),
        "{redis:#}"
    );
    assert_eq!(redis["details"]["running"], true);
}

#[test]
fn a_database_taken_off_the_network_fails_its_network_and_the_app_s_name_resolution() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker network connect --alias user-db helpdesk-network helpdesk-user-db");
    });
    sh("docker network disconnect helpdesk-network helpdesk-user-db");
    let (run, report) = diagnose_json(&["--only", "container.user.*"]);
    assert_eq!(run.code, 1);
    let network = result(&report, "container.user.db.network");
    assert_eq!(network["status"], "fail", "{network:#}");
    assert!(
        text(network, "message")
            .starts_with("helpdesk-user-db is not attached to helpdesk-network"),
        "{network:#}"
    );
    // The printed fix is what puts it back (the restore runs it too).
    let fix = "docker network connect --alias user-db helpdesk-network helpdesk-user-db";
    assert!(text(network, "hint").contains(fix), "{network:#}");
    let dns = result(&report, "container.user.dns");
    assert_eq!(dns["status"], "fail", "{dns:#}");
    assert_eq!(
        text(dns, "message"),
        "helpdesk-user-service cannot resolve helpdesk-user-db (ENOTFOUND)"
    );
    assert!(
        text(dns, "hint").contains("docker network inspect helpdesk-network"),
        "{dns:#}"
    );
    assert_eq!(status_of(&report, "container.user.service.network"), "pass");
}

#[test]
fn a_missing_table_fails_the_migrations_check_naming_it() {
    let _stack = stack_exclusive();
    // A table the guide names (auth: users, refresh_tokens); the user service's
    // tables are its own, which the guide does not list.
    let rename = |from: &str, to: &str| {
        psql(
            "helpdesk-auth-db",
            "user",
            "auth_db",
            &format!("ALTER TABLE {from} RENAME TO {to}"),
        );
    };
    rename("refresh_tokens", "refresh_tokens_hidden_by_test");
    let _restore = Restore(|| rename("refresh_tokens_hidden_by_test", "refresh_tokens"));
    let (run, report) = diagnose_json(&["--only", "postgres.auth.tables"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let tables = result(&report, "postgres.auth.tables");
    assert_eq!(tables["status"], "fail", "{tables:#}");
    let message = text(tables, "message");
    assert!(
        message.contains("refresh_tokens") && !message.contains("users"),
        "{message}"
    );
    let hint = text(tables, "hint");
    assert!(
        hint.contains("restart auth-service") && hint.contains("\\dt"),
        "{hint}"
    );
}

/// The auth service's fault switch: its verify endpoint answers 500 while on.
fn break_verify(broken: bool) {
    let answer = sh(&format!(
        "curl -sS -X POST 'http://127.0.0.1:3001/api/v1/debug/verify?broken={}'",
        u8::from(broken)
    ));
    assert!(
        answer.contains(&format!("\"verify_broken\":{broken}")),
        "the service image predates the verify fault switch (rebuild: tests/stack/up.sh): {answer}"
    );
}

#[test]
fn a_verify_endpoint_answering_500_to_a_bad_token_fails() {
    let _stack = stack_exclusive();
    break_verify(true);
    let _restore = Restore(|| break_verify(false));
    let (run, report) = diagnose_json(&["--only", "http.auth.verify"]);
    assert_eq!(run.code, 1);
    let verify = result(&report, "http.auth.verify");
    assert_eq!(verify["status"], "fail", "{verify:#}");
    assert_eq!(
        text(verify, "message"),
        "a bad token got HTTP 500 instead of 401"
    );
    assert!(
        text(verify, "hint").contains("docker exec helpdesk-auth-service env | grep JWT"),
        "{verify:#}"
    );
}

#[test]
fn redis_at_its_maxmemory_under_noeviction_is_flagged_by_info() {
    let _stack = stack_exclusive();
    let mut redis = redis(6302, REDIS_PASSWORD);
    let config = |connection: &mut redis::Connection, key: &str, value: &str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg(key)
            .arg(value)
            .query::<()>(connection)
            .unwrap();
    };
    let _restore = Restore(|| {
        let mut again = crate::support::redis(6302, REDIS_PASSWORD);
        config(&mut again, "maxmemory", "512mb");
        config(&mut again, "maxmemory-policy", "allkeys-lru");
    });
    let info: String = redis::cmd("INFO").arg("memory").query(&mut redis).unwrap();
    let used: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    config(&mut redis, "maxmemory-policy", "noeviction");
    config(&mut redis, "maxmemory", &used.to_string());
    let (_, report) = diagnose_json(&["--only", "redis.user.info"]);
    let info = result(&report, "redis.user.info");
    assert_ne!(info["status"], "pass", "{info:#}");
    assert!(text(info, "message").contains("of maxmemory"), "{info:#}");
    assert!(text(info, "hint").contains("maxmemory"), "{info:#}");
    assert_eq!(info["details"]["maxmemory"].as_u64(), Some(used));
}

#[test]
fn stopped_data_containers_fail_their_container_and_port_checks_with_the_start_command() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-db helpdesk-user-redis >/dev/null");
    });
    sh("docker stop -t 5 helpdesk-user-db helpdesk-user-redis >/dev/null");
    let (run, report) = diagnose_json(&["--only", "container.user.*,port.user.*"]);
    assert_eq!(run.code, 1);
    for (role, port) in [("db", 5402), ("redis", 6302)] {
        let container = format!("helpdesk-user-{role}");
        let start = format!("up -d user-{role}");
        let check = result(&report, &format!("container.user.{role}"));
        assert_eq!(check["status"], "fail", "{check:#}");
        assert!(
            text(check, "message").starts_with(&format!("{container} is not running (exited")),
            "{check:#}"
        );
        assert!(text(check, "hint").ends_with(&start), "{check:#}");
        let port_check = result(&report, &format!("port.user.{role}"));
        assert_eq!(port_check["status"], "fail", "{port_check:#}");
        let message = text(port_check, "message");
        assert!(
            message.contains(&port.to_string()) && message.contains(&container),
            "{message}"
        );
        assert!(text(port_check, "hint").contains(&start), "{port_check:#}");
    }
}
