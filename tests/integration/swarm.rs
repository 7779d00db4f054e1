//! The bundled deployment as a Swarm stack (tests/stack/swarm/up.sh, stack
//! `helpdesk`, run by tests/run.sh in a pass of its own): found by
//! `com.docker.stack.namespace` with the same discovery rules; a service's
//! failing tasks and short replicas named with the engine's own error;
//! backups and cache flushes through the tasks' containers; `fix` stays out.

use crate::support::*;
use std::time::{Duration, Instant};

const STACK: &str = "helpdesk";

fn service(name: &str) -> String {
    format!("{STACK}_{name}")
}

/// Puts a service back as the stack file has it — removed and deployed again
/// (updating it back can leave Swarm's host-mode port accounting stuck) — and
/// waits for the stack to be healthy.
struct Reset(&'static str);

impl Drop for Reset {
    fn drop(&mut self) {
        let name = service(self.0);
        sh(&format!("docker service rm {name} >/dev/null"));
        wait_until("its tasks gone", Duration::from_secs(60), || {
            sh(&format!(
                "docker ps -aq --filter label=com.docker.swarm.service.name={name}"
            ))
            .trim()
            .is_empty()
        });
        sh(&format!(
            "docker stack deploy --resolve-image never -c tests/stack/swarm/stack.yml {STACK} >/dev/null 2>&1"
        ));
        wait_until("the stack healthy again", Duration::from_secs(120), || {
            sh(&format!(
                "docker ps -q --filter label=com.docker.stack.namespace={STACK} --filter health=healthy | wc -l"
            ))
            .trim()
                == "9"
        });
    }
}

fn wait_until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_stack_is_found_by_its_namespace_and_healthy() {
    let _stack = stack_shared();
    let (run, report) = diagnose_json(&["--skip", "logs.*,host.*"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(report["project"]["name"], STACK);
    for id in [
        "docker.swarm.nodes",
        "swarm.auth.db",
        "swarm.user.redis",
        "swarm.ticket.service",
    ] {
        assert_eq!(
            status_of(&report, id),
            "pass",
            "{id}: {}",
            result(&report, id)
        );
    }
    assert_eq!(
        result(&report, "swarm.auth.db")["message"],
        "helpdesk_auth-db: 1/1 tasks running"
    );
    let target = result(&report, "container.auth.db")["target"]
        .as_str()
        .unwrap();
    assert!(
        target.starts_with("helpdesk_auth-db.1."),
        "a task's container: {target}"
    );
}

#[test]
fn a_service_whose_tasks_fail_is_named_with_the_task_error() {
    let _stack = stack_exclusive();
    let _reset = Reset("user-service");
    sh(&format!(
        "docker service update -d --env-add DATABASE_URL=postgresql://user:x@nowhere-db:5432/user_db {} >/dev/null",
        service("user-service")
    ));
    wait_until("a failed task", Duration::from_secs(60), || {
        sh(&format!(
            "docker service ps --no-trunc --format '{{{{.Error}}}}' {}",
            service("user-service")
        ))
        .contains("non-zero exit")
    });
    let (run, report) = diagnose_json(&["--service", "user", "--skip", "logs.*"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let swarm = result(&report, "swarm.user.service");
    assert_eq!(swarm["status"], "fail", "{swarm}");
    let message = swarm["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "helpdesk_user-service: 0/1 tasks running; task.1: task: non-zero exit (1)"
        ),
        "{message}"
    );
    // Every fix says the stack's commands: a compose one would start a second
    // deployment beside the stack. The app's container is seen stopped between
    // two of Swarm's restarts (it may be starting when the run above looked).
    let started = Instant::now();
    let stopped = loop {
        let (_, report) = diagnose_json(&["--only", "container.user.service"]);
        let container = result(&report, "container.user.service").clone();
        if container["status"] == "fail" {
            break container;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "never seen stopped: {container}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let fix = stopped["hint"].as_str().unwrap();
    assert!(
        fix.starts_with(
            "Read why it stopped: docker service logs --tail 50 helpdesk_user-service;"
        ) && fix
            .ends_with("then start it again: docker service update --force helpdesk_user-service")
            && !fix.contains("compose -p"),
        "{fix}"
    );
    let hints = report["results"].as_array().unwrap().iter();
    for hint in hints.filter_map(|r| r["hint"].as_str()) {
        assert!(!hint.contains("compose -p"), "{hint}");
    }
}

#[test]
fn replicas_that_cannot_be_placed_are_named() {
    let _stack = stack_exclusive();
    let _reset = Reset("ticket-service");
    // Host-mode port 3003 is taken by the first task: a second has no node.
    sh(&format!(
        "docker service scale -d {}=2 >/dev/null",
        service("ticket-service")
    ));
    wait_until("the pending task's error", Duration::from_secs(30), || {
        sh(&format!(
            "docker service ps --no-trunc --format '{{{{.Error}}}}' {}",
            service("ticket-service")
        ))
        .contains("no suitable node")
    });
    let (run, report) = diagnose_json(&["--service", "ticket", "--skip", "logs.*"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let message = result(&report, "swarm.ticket.service")["message"]
        .as_str()
        .unwrap();
    assert!(
        message.starts_with("helpdesk_ticket-service: 1/2 tasks running; task.2: no suitable node"),
        "{message}"
    );
}

#[test]
fn backup_and_cache_flush_run_through_the_tasks_and_fix_stays_out() {
    let _stack = stack_exclusive();
    let out = tempfile::tempdir().unwrap();
    let backup = run(doctor()
        .args(["backup", "--only", "auth", "--out"])
        .arg(out.path()));
    assert_eq!(backup.code, 0, "{}{}", backup.stdout, backup.stderr);
    let made = std::fs::read_dir(out.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let verified = run(doctor().args(["backup", "verify"]).arg(&made));
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);

    let mut redis = redis(6302, REDIS_PASSWORD);
    redis::cmd("SET")
        .arg("swarm:flush:me")
        .arg("1")
        .query::<()>(&mut redis)
        .unwrap();
    let flushed = run(doctor().args([
        "cache",
        "flush",
        "user",
        "--pattern",
        "swarm:flush:*",
        "--yes",
    ]));
    assert_eq!(flushed.code, 0, "{}{}", flushed.stdout, flushed.stderr);
    let left: bool = redis::cmd("EXISTS")
        .arg("swarm:flush:me")
        .query(&mut redis)
        .unwrap();
    assert!(!left, "the key was flushed through the stack's Redis");

    let fix = run(doctor().args(["fix", "--yes"]));
    assert_eq!(fix.code, 5, "{}{}", fix.stdout, fix.stderr);
    assert!(
        fix.stderr.contains("fix does not act on Swarm stacks yet"),
        "{}",
        fix.stderr
    );
}

#[test]
fn logs_read_every_task_of_the_stack() {
    let _stack = stack_shared();
    let run = run(doctor().args(["logs", "db", "-n", "1"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut containers: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_once(" | ").map(|(c, _)| c.trim()))
        .map(|c| c.split('.').next().unwrap())
        .collect();
    containers.sort();
    assert_eq!(
        containers,
        ["helpdesk_auth-db", "helpdesk_ticket-db", "helpdesk_user-db"],
        "one line of each database task: {}",
        run.stdout
    );
}

/// Makes the swarm's node active again when dropped.
struct Active(String);

impl Drop for Active {
    fn drop(&mut self) {
        sh(&format!(
            "docker node update --availability active {} >/dev/null",
            self.0
        ));
    }
}

#[test]
fn a_paused_node_is_named_by_the_nodes_check() {
    let _stack = stack_exclusive();
    // Paused: no new task is placed on it; the running ones stay.
    let node = sh("docker info -f '{{.Swarm.NodeID}}'").trim().to_string();
    let _active = Active(node.clone());
    sh(&format!(
        "docker node update --availability pause {node} >/dev/null"
    ));
    let hostname = sh(&format!(
        "docker node inspect -f '{{{{.Description.Hostname}}}}' {node}"
    ));
    let (run, report) = diagnose_json(&["--only", "docker.swarm.nodes"]);
    // Its only node paused: no task can be placed anywhere (a crash is not
    // replaced), so a failure, not a warning.
    assert_eq!(run.code, 1, "{}", run.stdout);
    let nodes = result(&report, "docker.swarm.nodes");
    assert_eq!(nodes["status"], "fail", "{nodes:#}");
    let message = nodes["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "1 of 1 nodes not usable: node {} at ",
            hostname.trim()
        )) && message.ends_with(" paused"),
        "{message}"
    );
    assert!(
        nodes["hint"]
            .as_str()
            .unwrap()
            .contains("docker node update --availability active NODE"),
        "{nodes:#}"
    );
}
