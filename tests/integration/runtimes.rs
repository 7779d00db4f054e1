//! The same assertions on whichever runtime runs the stack: compose (the
//! bundled stack, the first pass) or a Swarm stack (`HELPDESK_TEST_FIXTURE=swarm`,
//! the swarm pass of tests/run.sh). Through the runtime seam, every container
//! is found with its typed facts, its logs are read, and a fix is said in the
//! runtime's own words — and runs as printed.

use crate::support::*;

/// The runtime under test: its project (stack) and how its fixes read a service's logs.
struct Runtime {
    project: &'static str,
    swarm: bool,
}

fn runtime_under_test() -> Runtime {
    match std::env::var("HELPDESK_TEST_FIXTURE").as_deref() {
        Ok("swarm") => Runtime {
            project: "helpdesk",
            swarm: true,
        },
        _ => Runtime {
            project: "helpdesk-microservices",
            swarm: false,
        },
    }
}

#[test]
fn every_container_is_found_with_its_typed_facts() {
    let _stack = stack_shared();
    let runtime = runtime_under_test();
    let (run, report) = diagnose_json(&["--only", "container.*"]);
    assert_eq!(report["project"]["name"], runtime.project, "{}", run.stderr);
    for service in ["auth", "user", "ticket"] {
        for role in ["service", "db", "redis"] {
            let found = result(&report, &format!("container.{service}.{role}"));
            let details = &found["details"];
            assert_eq!(found["status"], "pass", "{found}");
            assert_eq!(details["health"], "healthy", "{found}");
            assert_eq!(details["running"], true, "{found}");
            assert_eq!(
                details["compose_service"],
                format!("{service}-{role}"),
                "{found}"
            );
            assert_eq!(details["found_by"], "compose labels", "{found}");
            assert_eq!(details["replicas"], 1, "{found}");
        }
    }
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn each_containers_logs_are_read_through_the_runtime() {
    let _stack = stack_shared();
    let run = run(doctor().args(["logs", "--tail", "1", "db"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sources: std::collections::BTreeSet<&str> = run
        .stdout
        .lines()
        .filter_map(|line| line.split_once(" | ").map(|(name, _)| name.trim()))
        .collect();
    assert_eq!(
        sources.len(),
        3,
        "one line per database container: {}",
        run.stdout
    );
    for service in ["auth", "user", "ticket"] {
        assert!(
            sources.iter().any(|s| s.contains(&format!("{service}-db"))),
            "{service}: {}",
            run.stdout
        );
    }
}

/// Unpauses a container when the test ends, however it ends, and waits
/// until its health check passes again (the next tests see it healthy).
struct Unpause(String);

impl Drop for Unpause {
    fn drop(&mut self) {
        sh(&format!(
            "docker unpause {} >/dev/null 2>&1 || true",
            self.0
        ));
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(90) {
            let health = sh(&format!(
                "docker inspect -f '{{{{.State.Health.Status}}}}' {} 2>/dev/null || true",
                self.0
            ));
            if health.trim() == "healthy" {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    }
}

#[test]
fn a_fix_is_said_in_the_runtimes_words_and_runs_as_printed() {
    let _stack = stack_exclusive();
    let runtime = runtime_under_test();
    let container = sh(&format!(
        "docker ps -q --filter label=com.docker.compose.service=auth-service \
         --filter label=com.docker.compose.project={0}; \
         docker ps -q --filter label=com.docker.swarm.service.name={0}_auth-service",
        runtime.project
    ));
    let container = container
        .split_whitespace()
        .next()
        .expect("the auth app runs")
        .to_string();
    let paused = Unpause(container.clone());
    sh(&format!("docker pause {container} >/dev/null"));
    let (run, report) = diagnose_json(&["--only", "http.auth.health", "--probe-timeout", "1s"]);
    drop(paused);
    let check = result(&report, "http.auth.health");
    assert_eq!(check["status"], "fail", "{}", run.stdout);
    let hint = check["hint"].as_str().expect("a fix");
    let read_logs = hint
        .split("Read its logs: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no logs command in {hint:?}"))
        .trim()
        .to_string();
    if runtime.swarm {
        assert_eq!(
            read_logs,
            format!(
                "docker service logs --tail 50 {}_auth-service",
                runtime.project
            )
        );
    } else {
        assert!(read_logs.contains("compose"), "{read_logs}");
        assert!(
            read_logs.ends_with(" logs --tail=50 auth-service"),
            "{read_logs}"
        );
        assert!(!read_logs.contains("docker service"), "{read_logs}");
    }
    // Run as printed, from a folder of its own: it reads the service's logs.
    let printed = std::process::Command::new("bash")
        .args(["-c", &read_logs])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("bash runs");
    assert!(printed.status.success(), "{read_logs}: {printed:?}");
    assert!(
        !printed.stdout.is_empty() || !printed.stderr.is_empty(),
        "{read_logs} printed nothing"
    );
}
