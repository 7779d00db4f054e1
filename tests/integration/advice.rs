//! Advice that is always right (issue 19): a running, healthy container that
//! restarted is never told to start again and `fix` plans nothing for it (a
//! restart older than the window is a detail, a fresh one warns with advice for
//! its cause); with the engine unreachable there is one failure, `docker.engine`,
//! everything that needed it is SKIP under it and no password is advised.

use crate::support::*;
use std::time::{Duration, Instant};

const RESTARTED: &str = "helpdesk-ticket-service";
const CHECK: &str = "container.ticket.service";

/// The doctor with no password of its own: whatever it knows comes from the engine.
fn doctor_without_passwords() -> std::process::Command {
    let mut command = doctor();
    for service in ["AUTH", "USER", "TICKET"] {
        command
            .env_remove(format!("HELPDESK_{service}_DB_PASSWORD"))
            .env_remove(format!("HELPDESK_{service}_REDIS_PASSWORD"));
    }
    command
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .env_remove("REDISCLI_AUTH");
    command
}

fn restart_count(container: &str) -> String {
    sh(&format!(
        "docker inspect -f '{{{{.RestartCount}}}}' {container}"
    ))
    .trim()
    .to_string()
}

/// Kills the container's process from the host: its restart policy
/// (`unless-stopped`) starts it again and counts one restart.
fn kill_and_wait_restarted(container: &str) {
    sh(&format!(
        "kill -9 $(docker inspect -f '{{{{.State.Pid}}}}' {container})"
    ));
    let deadline = Instant::now() + Duration::from_secs(90);
    while restart_count(container) != "1" || health_of(container) != "healthy" {
        assert!(Instant::now() < deadline, "{container} did not come back");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The read-only `docker logs …` command a hint ends with, run as printed.
fn run_printed_logs_command(hint: &str) -> String {
    let at = hint.find("docker logs ").expect(hint);
    let output = std::process::Command::new("bash")
        .args(["-c", &format!("{} 2>&1", &hint[at..])])
        .output()
        .unwrap();
    assert!(output.status.success(), "{hint}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_nothing_to_start(hint: &str) {
    assert!(
        !hint.contains("start it again") && !hint.contains("up -d"),
        "a running, healthy container is never told to start again: {hint}"
    );
}

#[test]
fn a_restarted_healthy_container_is_not_told_to_start_again() {
    let _stack = stack_exclusive();
    // `docker restart` puts the restart count back to 0, as the stack was.
    let _restore = Restore(|| {
        sh(&format!("docker restart -t 3 {RESTARTED} >/dev/null"));
    });
    kill_and_wait_restarted(RESTARTED);

    // Inside the window (the default hour): a warning, with advice for its cause.
    let (fresh, report) = diagnose_json(&["--only", CHECK]);
    let check = result(&report, CHECK);
    assert_eq!(check["status"], "warn", "{}", fresh.stdout);
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("restarted once") && message.contains("exit code 137"),
        "when and why: {message}"
    );
    assert_eq!(check["details"]["restart_cause"], "exited:137");
    let hint = check["hint"].as_str().unwrap();
    assert_nothing_to_start(hint);
    assert!(
        hint.contains("docker logs --tail 50 --until ") && hint.contains(RESTARTED),
        "the previous run's last lines: {hint}"
    );
    run_printed_logs_command(hint);
    let human = run(doctor().args(["diagnose", "--only", CHECK]));
    assert!(!human.stdout.contains("start it again"), "{}", human.stdout);
    let plan = run(doctor().args(["fix", "--dry-run", CHECK]));
    assert!(
        !plan.stdout.contains(CHECK) && plan.stdout.contains("no safe repair to run"),
        "fix plans nothing for a running, healthy container: {}",
        plan.stdout
    );

    // Older than the window (2 s here, an hour by default): a detail of a pass.
    let dir = tempfile::tempdir().unwrap();
    let config = temp_file(
        dir.path(),
        "config.toml",
        "[thresholds]\nrestart_window_seconds = \"2s\"\n",
    );
    std::thread::sleep(Duration::from_secs(3));
    let run_old = run(doctor()
        .arg("--config")
        .arg(&config)
        .args(["diagnose", "--format", "json", "--only", CHECK]));
    let report = run_old.json();
    let check = result(&report, CHECK);
    assert_eq!(check["status"], "pass", "{}", run_old.stdout);
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("restarted once, last"),
        "{check}"
    );
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("older than the 2s window")
    );
    assert_eq!(check["details"]["restart_count"], 1);
    assert!(check["hint"].is_null(), "{check}");
    assert_eq!(run_old.code, 0);
    let plan = run(doctor()
        .arg("--config")
        .arg(&config)
        .args(["fix", "--dry-run", "ticket"]));
    assert!(!plan.stdout.contains(CHECK), "{}", plan.stdout);
    assert_eq!(
        restart_count(RESTARTED),
        "1",
        "the dry runs changed nothing"
    );
}

#[test]
fn an_unreachable_engine_is_one_failure_with_no_password_advice() {
    let _stack = stack_shared();
    for endpoint in ["tcp://127.0.0.1:1", "unix:///nonexistent/docker.sock"] {
        // host.load is this busy machine's, not the engine's.
        // The backup checks need no engine; with no backup made here they warn.
        let args = ["diagnose", "--skip", "host.load,backup.*"];
        let json = run(doctor_without_passwords()
            .env("DOCKER_HOST", endpoint)
            .args(args)
            .args(["--format", "json"]));
        assert_eq!(json.code, 1, "{}", json.stderr);
        let report = json.json();
        let results = report["results"].as_array().unwrap();
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| r["status"] == "fail")
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(failed, ["docker.engine"], "{endpoint}: {}", json.stdout);
        for r in results.iter().filter(|r| r["id"] != "docker.engine") {
            match r["status"].as_str().unwrap() {
                "pass" => {}
                "skip" => assert_eq!(r["details"]["skipped_because"], "docker.engine", "{r}"),
                other => panic!("{endpoint}: {other} is neither PASS nor SKIP: {r}"),
            }
        }
        for kept in ["port.auth.db", "http.auth.health"] {
            assert_eq!(status_of(&report, kept), "pass", "needs no engine");
        }
        for skipped in [
            "postgres.auth.connect",
            "redis.auth.ping",
            "container.auth.db",
        ] {
            assert_eq!(status_of(&report, skipped), "skip", "{endpoint}");
        }
        let human = run(doctor_without_passwords()
            .env("DOCKER_HOST", endpoint)
            .args(args));
        let said: Vec<String> = results
            .iter()
            .flat_map(|r| [r["message"].to_string(), r["hint"].to_string()])
            .chain([human.stdout.clone()])
            .collect();
        for text in said {
            assert!(
                !text.to_lowercase().contains("password"),
                "{endpoint}: no password advice: {text}"
            );
        }
        assert_eq!(human.stdout.matches('✗').count(), 2, "{}", human.stdout);
    }

    // A password given in the environment needs no engine: that check runs.
    let password =
        std::env::var("HELPDESK_DB_PASSWORD").unwrap_or_else(|_| "helpdesk-db-pass".into());
    let (_, report) = {
        let run = run(doctor_without_passwords()
            .env("DOCKER_HOST", "tcp://127.0.0.1:1")
            .env("HELPDESK_AUTH_DB_PASSWORD", password)
            .args(["diagnose", "--format", "json", "--service", "auth"]));
        let json = run.json();
        (run, json)
    };
    assert_eq!(status_of(&report, "postgres.auth.connect"), "pass");
    assert_eq!(status_of(&report, "redis.auth.ping"), "skip");
}

/// Removes a throwaway container when dropped, even if the test panicked.
struct Throwaway(&'static str);

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", "-v", self.0])
            .output();
    }
}

#[test]
fn a_restart_at_start_up_for_a_dependency_not_ready_gets_the_compose_fix() {
    // A project of its own on the real engine (the stack is not touched): an
    // application whose first run cannot reach its database and exits; its
    // restart policy starts it again and it runs. Exclusive: a second compose
    // project, which no other test may find beside the stack meanwhile.
    let _stack = stack_exclusive();
    let name = "advice-dependency-app";
    let _gone = Throwaway(name);
    let image = sh("docker inspect -f '{{.Config.Image}}' helpdesk-auth-service");
    sh(&format!(
        "docker rm -f -v {name} >/dev/null 2>&1; docker run -d --name {name} \
         --label com.docker.compose.project=advice-dependency \
         --label com.docker.compose.service=auth-service --restart on-failure:3 \
         --entrypoint bash {} -c '[ -e /tmp/ran ] || {{ touch /tmp/ran; \
         echo \"Error: connect ECONNREFUSED 172.18.0.9:5432\"; exit 1; }}; exec sleep 600' >/dev/null",
        image.trim()
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    while restart_count(name) != "1" {
        assert!(Instant::now() < deadline, "{name} did not restart");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, report) = diagnose_json(&[
        "--project",
        "advice-dependency",
        "--only",
        "container.auth.service",
    ]);
    let check = result(&report, "container.auth.service");
    assert_eq!(check["status"], "warn", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("at start-up, because auth-db was not ready yet"),
        "{check}"
    );
    let hint = check["hint"].as_str().unwrap();
    assert!(
        hint.contains("depends_on: {auth-db: {condition: service_healthy}}"),
        "{hint}"
    );
    assert!(
        run_printed_logs_command(hint).contains("ECONNREFUSED"),
        "the printed command shows the previous run's refusal: {hint}"
    );
    assert_eq!(
        check["details"]["restart_cause"],
        "dependency_not_ready:auth-db"
    );
    assert_nothing_to_start(hint);
}

#[test]
fn a_paused_database_explains_its_timeout_its_apps_503_and_its_log_errors() {
    let _stack = stack_exclusive();
    let _unpause = Restore(|| {
        sh("docker unpause helpdesk-user-db 2>/dev/null || true");
    });
    sh("docker pause helpdesk-user-db");
    // The application notices on its next health check (every 2 s) and logs it.
    std::thread::sleep(Duration::from_secs(5));
    let (_, report) = diagnose_json(&["--service", "user", "--skip", "host.*,backup.*"]);
    let cause = "container.user.db";
    assert_eq!(status_of(&report, cause), "fail");
    for consequence in ["postgres.user.connect", "http.user.health"] {
        let r = result(&report, consequence);
        assert_eq!(r["status"], "fail", "{r}");
        assert_eq!(r["details"]["root_cause"], cause, "{r}");
        assert!(
            r["hint"]
                .as_str()
                .unwrap()
                .contains("docker unpause helpdesk-user-db"),
            "the cause's fix: {r}"
        );
    }
    let logs = result(&report, "logs.user.service");
    assert_eq!(logs["status"], "warn", "the app logged its 503s: {logs}");
    assert_eq!(logs["details"]["root_cause"], cause, "{logs}");
    // Told once: the only problem listed at the top of the user group is the cause.
    let human = run(doctor().args(["diagnose", "--service", "user", "--skip", "host.*,backup.*"]));
    let listed: Vec<&str> = human
        .stdout
        .lines()
        .filter(|l| l.starts_with("    ✗ ") || l.starts_with("    ! "))
        .collect();
    assert_eq!(listed.len(), 1, "{}", human.stdout);
    assert!(listed[0].contains(cause), "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains("warnings it explains: logs.user.service"),
        "{}",
        human.stdout
    );
}
