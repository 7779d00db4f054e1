//! The bundled deployment as a Swarm stack over two nodes
//! (tests/stack/twonode: two engines in network namespaces of their own;
//! user-db, user-redis and ticket-db on node-b, the rest on node-a), run by
//! tests/run.sh in a last pass of its own (`HELPDESK_TEST_FIXTURE=twonode`).
//! The doctor talks to the manager (node-a); node-b's engine is named in the
//! config (`[[engines]]` with `node = "node-b"`) or not at all.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MANAGER: &str = "unix:///run/helpdesk-twonode/a.sock";
const NODE_B: &str = "unix:///run/helpdesk-twonode/b.sock";
const STACK: &str = "helpdesk";

/// A config naming node-b's engine, in `dir`.
fn config(dir: &Path) -> PathBuf {
    temp_file(
        dir,
        "twonode.toml",
        &format!("[[engines]]\nname = \"node-b\"\nnode = \"node-b\"\nhost = \"{NODE_B}\"\n"),
    )
}

/// The doctor on the manager; with `config`, node-b's engine too.
fn doctor_on_manager(config: Option<&Path>) -> Command {
    let mut command = doctor();
    command.env("DOCKER_HOST", MANAGER);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command
}

fn diagnose(config: Option<&Path>, args: &[&str]) -> (Run, serde_json::Value) {
    let ran = run(doctor_on_manager(config)
        .args(["diagnose", "--format", "json", "--no-history"])
        .args(args));
    let json = ran.json();
    (ran, json)
}

/// The docker CLI on `engine`.
fn docker_on(engine: &str, args: &str) -> String {
    sh(&format!("DOCKER_HOST={engine} docker {args}"))
}

/// Where the manager says each running task of the stack is: `(task, node)`.
fn placements() -> Vec<(String, String)> {
    docker_on(
        MANAGER,
        &format!(
            "stack ps --filter desired-state=running --format '{{{{.Name}}}} {{{{.Node}}}}' {STACK}"
        ),
    )
    .lines()
    .filter_map(|l| l.split_once(' '))
    .map(|(task, node)| (task.to_string(), node.to_string()))
    .collect()
}

fn node_address(node: &str) -> String {
    docker_on(
        MANAGER,
        &format!("node inspect --format '{{{{.Status.Addr}}}}' {node}"),
    )
    .trim()
    .to_string()
}

fn wait_until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Every task of the stack running and healthy, on both nodes.
fn wait_stack_healthy_on_both() {
    wait_until(
        "the stack healthy on both nodes",
        Duration::from_secs(180),
        || {
            let healthy: usize = [MANAGER, NODE_B]
                .iter()
                .map(|engine| {
                    let found = Command::new("docker")
                        .env("DOCKER_HOST", engine)
                        .args(["ps", "-q", "--filter", "health=healthy", "--filter"])
                        .arg(format!("label=com.docker.stack.namespace={STACK}"))
                        .output();
                    found
                        .map(|o| String::from_utf8_lossy(&o.stdout).lines().count())
                        .unwrap_or(0)
                })
                .sum();
            healthy == 9
        },
    );
}

/// The result of `id`'s node, as the JSON names it.
fn node_of<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    result(report, id)["node"].as_str().unwrap_or_default()
}

#[test]
fn the_healthy_stack_over_two_nodes_passes_and_each_task_is_named_with_its_node() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (ran, report) = diagnose(Some(&config), &["--skip", "host.*"]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    assert_eq!(report["summary"]["fail"], 0, "{}", ran.stdout);
    assert_eq!(report["project"]["name"], STACK);
    let nodes: Vec<(&str, &str, &str)> = report["cluster"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["hostname"].as_str().unwrap(),
                n["state"].as_str().unwrap(),
                n["address"].as_str().unwrap(),
            )
        })
        .collect();
    let node_b = node_address("node-b");
    assert!(
        nodes.contains(&("node-b", "ready", node_b.as_str())),
        "{nodes:?}"
    );
    assert!(nodes.iter().any(|n| n.0 == "node-a"), "{nodes:?}");
    // Each task of the report on the node the manager says, every one of them.
    let placed = placements();
    assert_eq!(placed.len(), 9, "{placed:?}");
    for (task, node) in &placed {
        let named = report["cluster"]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["task"] == task.as_str())
            .unwrap_or_else(|| panic!("{task} not in the report"));
        assert_eq!(named["node"], node.as_str(), "{named}");
    }
    // Every check of a task passes, named with its node, wherever it runs
    // (node-b's read through its own engine, reached at its own address).
    for (service, role) in [
        ("user", "db"),
        ("user", "redis"),
        ("auth", "db"),
        ("ticket", "db"),
    ] {
        let task = format!("{STACK}_{service}-{role}.1");
        let node = &placed.iter().find(|(t, _)| *t == task).unwrap().1;
        for id in [
            format!("container.{service}.{role}"),
            format!("container.{service}.{role}.resources"),
            format!("port.{service}.{role}"),
            format!("swarm.{service}.{role}"),
        ] {
            assert_eq!(status_of(&report, &id), "pass", "{}", result(&report, &id));
            assert_eq!(node_of(&report, &id), node, "{id}");
        }
    }
    let connect = result(&report, "postgres.user.connect");
    assert_eq!(connect["status"], "pass", "{connect}");
    assert_eq!(connect["reached"]["address"], format!("{node_b}:5402"));
    // The human grouping counts the tasks per node.
    let human = run(doctor_on_manager(Some(&config)).args([
        "diagnose",
        "--no-history",
        "--skip",
        "host.*",
    ]));
    let count = |service: &str| {
        let mut per_node = std::collections::BTreeMap::<&str, usize>::new();
        for (task, node) in &placed {
            if task.starts_with(&format!("{STACK}_{service}-")) {
                *per_node.entry(node.as_str()).or_default() += 1;
            }
        }
        per_node
            .into_iter()
            .map(|(node, n)| format!("{node} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let line = format!("ticket   tasks 3/3 · {}", count("ticket"));
    assert!(
        human.stdout.contains(&line),
        "no {line:?} in\n{}",
        human.stdout
    );
}

#[test]
fn without_node_b_engine_its_logs_come_from_the_manager_and_the_rest_is_skipped_naming_it() {
    let _stack = stack_shared();
    let (ran, report) = diagnose(None, &["--service", "user", "--skip", "host.*"]);
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    let container = result(&report, "container.user.db");
    assert_eq!(container["status"], "skip", "{container}");
    let message = container["message"].as_str().unwrap();
    assert!(
        message.contains("runs on node node-b at ")
            && message.contains("node node-b's engine would answer"),
        "{message}"
    );
    // What needs no engine of node-b's still runs there: its logs through the
    // manager, its servers at node-b's address with the password its task's
    // spec gives.
    for id in [
        "logs.user.db",
        "logs.user.redis",
        "postgres.user.connect",
        "redis.user.ping",
    ] {
        assert_eq!(status_of(&report, id), "pass", "{}", result(&report, id));
        assert_eq!(node_of(&report, id), "node-b", "{id}");
    }
    assert_eq!(status_of(&report, "container.user.service"), "pass");
    // A docker context named after the node is its engine.
    let docker_config = tempfile::tempdir().unwrap();
    sh(&format!(
        "DOCKER_CONFIG={} docker context create node-b --docker host={NODE_B} >/dev/null",
        docker_config.path().display()
    ));
    let ran = run(doctor_on_manager(None)
        .env("DOCKER_CONFIG", docker_config.path())
        .args([
            "diagnose",
            "--format",
            "json",
            "--no-history",
            "--service",
            "user",
        ])
        .args(["--skip", "host.*"]));
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    let report = ran.json();
    for id in [
        "container.user.db",
        "container.user.redis.resources",
        "container.user.db.network",
    ] {
        assert_eq!(status_of(&report, id), "pass", "{}", result(&report, id));
        assert_eq!(node_of(&report, id), "node-b", "{id}");
    }
}

/// Puts node-b back to active when dropped.
struct Paused;

impl Drop for Paused {
    fn drop(&mut self) {
        docker_on(
            MANAGER,
            "node update --availability active node-b >/dev/null",
        );
    }
}

#[test]
fn a_paused_node_fails_the_nodes_check_naming_it_while_its_tasks_still_run() {
    let _stack = stack_exclusive();
    docker_on(
        MANAGER,
        "node update --availability pause node-b >/dev/null",
    );
    let paused = Paused;
    let (ran, report) = diagnose(
        None,
        &[
            "--only",
            "docker.swarm.nodes,postgres.user.connect,swarm.user.db",
        ],
    );
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    let nodes = result(&report, "docker.swarm.nodes");
    assert_eq!(nodes["status"], "fail", "{nodes}");
    assert_eq!(
        nodes["message"],
        format!(
            "1 of 2 nodes not usable: node node-b at {} paused",
            node_address("node-b")
        )
    );
    assert_eq!(nodes["details"]["drained"], serde_json::json!(["node-b"]));
    // Paused, not gone: its tasks still run and are checked.
    assert_eq!(status_of(&report, "postgres.user.connect"), "pass");
    assert_eq!(status_of(&report, "swarm.user.db"), "pass");
    drop(paused);
    let (_, report) = diagnose(None, &["--only", "docker.swarm.nodes"]);
    assert_eq!(status_of(&report, "docker.swarm.nodes"), "pass");
}

/// Stops user-redis's container on node-b (its restart delay is 20 s) and
/// waits, when dropped, for the stack to be healthy again.
struct StoppedOnNodeB;

impl StoppedOnNodeB {
    fn stop() -> StoppedOnNodeB {
        let container = docker_on(
            NODE_B,
            &format!("ps -q --filter label=com.docker.swarm.service.name={STACK}_user-redis"),
        );
        assert!(
            !container.trim().is_empty(),
            "no user-redis container on node-b"
        );
        let task = docker_on(
            MANAGER,
            &format!("service ps -q --filter desired-state=running {STACK}_user-redis"),
        );
        docker_on(NODE_B, &format!("stop -t 2 {}", container.trim()));
        wait_until(
            "the manager sees its task complete",
            Duration::from_secs(15),
            || {
                docker_on(
                    MANAGER,
                    &format!("inspect --format '{{{{.Status.State}}}}' {}", task.trim()),
                )
                .trim()
                    == "complete"
            },
        );
        StoppedOnNodeB
    }
}

impl Drop for StoppedOnNodeB {
    fn drop(&mut self) {
        wait_stack_healthy_on_both();
    }
}

#[test]
fn a_task_stopped_on_node_b_is_named_with_its_node_and_a_backup_goes_through_node_b() {
    let _stack = stack_exclusive();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let stopped = StoppedOnNodeB::stop();
    let (ran, report) = diagnose(Some(&config), &["--service", "user", "--skip", "host.*"]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    let container = result(&report, "container.user.redis");
    assert_eq!(container["status"], "fail", "{container}");
    assert_eq!(container["node"], "node-b");
    assert!(
        container["message"]
            .as_str()
            .unwrap()
            .contains("is not running (exited"),
        "{container}"
    );
    let swarm = result(&report, "swarm.user.redis");
    assert_eq!(swarm["status"], "fail", "{swarm}");
    assert_eq!(
        swarm["message"],
        format!(
            "{STACK}_user-redis: 0/1 tasks running; task.1 on node-b: complete (its container stopped)"
        )
    );
    // The human output names the node with the failure.
    let human = run(doctor_on_manager(Some(&config)).args([
        "diagnose",
        "--no-history",
        "--service",
        "user",
    ]));
    assert!(
        human.stdout.contains("✗ container.user.redis on node-b: "),
        "{}",
        human.stdout
    );
    // user-db runs on node-b: its dump is made there, through node-b's engine.
    let backups = dir.path().join("backups");
    let backup = run(doctor_on_manager(Some(&config))
        .args(["backup", "--only", "user", "--out"])
        .arg(&backups));
    assert_eq!(backup.code, 0, "{}{}", backup.stdout, backup.stderr);
    let made: Vec<PathBuf> = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("user_db.sql.gz"))
        .collect();
    assert_eq!(made.len(), 1);
    assert!(std::fs::metadata(&made[0]).unwrap().len() > 0);
    let verify = run(doctor()
        .args(["backup", "verify"])
        .arg(made[0].parent().unwrap()));
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    // Without node-b's engine, the same backup says which engine would answer.
    let refused = run(doctor_on_manager(None)
        .args(["backup", "--only", "user", "--out"])
        .arg(dir.path().join("refused")));
    assert_ne!(refused.code, 0);
    assert!(
        refused.stdout.contains("node node-b's engine would answer")
            || refused.stderr.contains("node node-b's engine would answer"),
        "{}{}",
        refused.stdout,
        refused.stderr
    );
    drop(stopped);
}

/// Takes node-b's engine down, and back up when dropped (then waits for the
/// stack to be healthy again).
struct NodeBDown;

impl NodeBDown {
    fn stop() -> NodeBDown {
        sh("tests/stack/twonode/node.sh stop b");
        NodeBDown
    }
}

impl Drop for NodeBDown {
    fn drop(&mut self) {
        sh("tests/stack/twonode/node.sh start b");
        wait_until("node-b ready again", Duration::from_secs(60), || {
            docker_on(MANAGER, "node inspect --format '{{.Status.State}}' node-b").trim() == "ready"
        });
        wait_stack_healthy_on_both();
    }
}

#[test]
fn node_b_down_is_named_and_its_tasks_checks_are_skipped_under_it_within_the_deadline() {
    let _stack = stack_exclusive();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let node_b = node_address("node-b");
    let down = NodeBDown::stop();
    // Its engine named in the config: unreachable at once.
    let check = |report: &serde_json::Value, reason: &str| {
        let nodes = result(report, "docker.swarm.nodes");
        assert_eq!(nodes["status"], "fail", "{nodes}");
        let message = nodes["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("node node-b at {node_b} unreachable: {reason}")),
            "{message}"
        );
        for id in [
            "container.user.db",
            "postgres.user.connect",
            "redis.user.ping",
            "port.ticket.db",
        ] {
            let skipped = result(report, id);
            assert_eq!(skipped["status"], "skip", "{skipped}");
            assert_eq!(
                skipped["details"]["skipped_because"], "docker.swarm.nodes",
                "{skipped}"
            );
            assert_eq!(skipped["node"], "node-b", "{skipped}");
        }
        assert_eq!(status_of(report, "container.auth.db"), "pass");
    };
    let started = Instant::now();
    let (ran, report) = diagnose(Some(&config), &["--deadline", "10s"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    check(
        &report,
        "Docker engine not reachable at unix:///run/helpdesk-twonode/b.sock",
    );
    // With no engine named for it: down once its manager sees it so, with
    // the tasks that wait for it.
    wait_until(
        "the manager sees node-b down",
        Duration::from_secs(60),
        || docker_on(MANAGER, "node inspect --format '{{.Status.State}}' node-b").trim() == "down",
    );
    wait_until(
        "user-db waiting for a node",
        Duration::from_secs(60),
        || {
            let (_, report) = diagnose(None, &["--only", "docker.swarm.nodes"]);
            result(&report, "docker.swarm.nodes")["message"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("{STACK}_user-db.1"))
        },
    );
    let (ran, report) = diagnose(None, &["--deadline", "10s"]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    check(&report, "the manager sees it down");
    let message = result(&report, "docker.swarm.nodes")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains(&format!(
            "pending because of it: {STACK}_ticket-db.1, {STACK}_user-db.1, {STACK}_user-redis.1"
        )),
        "{message}"
    );
    let human = run(doctor_on_manager(None).args(["diagnose", "--no-history"]));
    assert!(
        human.stdout.contains("✗ docker.swarm.nodes: ")
            && human.stdout.contains("checks skipped because of it"),
        "{}",
        human.stdout
    );
    drop(down);
}
