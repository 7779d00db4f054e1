//! Never probe what is not the deployment's (issue 19): beside the bundled
//! stack, a second compose project whose auth database and Redis publish
//! nothing, whose user database publishes the bundled stack's port number on
//! another address (127.0.0.3:5402), and which has no application container.
//! Diagnosing it never connects to a port the bundled stack publishes
//! (asserted on the `target` and `reached` of every port, PostgreSQL, Redis and
//! HTTP result), its port results say whose those ports are, its unpublished
//! servers are reached at their address on its network, its published one is
//! reached at its own address, and the bundled stack's own diagnose still
//! passes.

use crate::support::*;
use std::collections::BTreeSet;

const PROJECT: &str = "otherproject";
const NETWORK: &str = "otherproject_default";
const DB: &str = "otherproject-auth-db-1";
const REDIS: &str = "otherproject-auth-redis-1";
const USER_DB: &str = "otherproject-user-db-1";
/// The bundled stack's user-db port number, on another loopback address.
const USER_DB_ADDRESS: &str = "127.0.0.3:5402";
const BUNDLED: &str = "helpdesk-microservices";

fn cleanup() {
    sh(&format!(
        "docker rm -f -v {DB} {REDIS} {USER_DB} >/dev/null 2>&1 || true; \
         docker network rm {NETWORK} >/dev/null 2>&1 || true"
    ));
}

/// Starts a container of the other project as compose would label it, on
/// its network, publishing nothing.
fn start(name: &str, service: &str, rest: &str) {
    sh(&format!(
        "docker run -d --name {name} --network {NETWORK} \
         --label com.docker.compose.project={PROJECT} --label com.docker.compose.service={service} \
         --label com.docker.compose.container-number=1 --label com.docker.compose.oneoff=False \
         {rest} >/dev/null"
    ));
}

/// `ip:port` of every host port the bundled stack's containers publish.
fn bundled_ports() -> BTreeSet<String> {
    let listed = sh(&format!(
        "docker ps --filter label=com.docker.compose.project={BUNDLED} --format '{{{{.Ports}}}}'"
    ));
    listed
        .split([',', '\n'])
        .filter_map(|binding| binding.trim().split_once("->"))
        .map(|(host, _)| host.replace("0.0.0.0", "127.0.0.1"))
        .collect()
}

/// The results that open connections: ports, PostgreSQL, Redis, HTTP.
fn connecting(report: &serde_json::Value) -> Vec<&serde_json::Value> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let kind = r["kind"].as_str().unwrap_or_default();
            kind == "tcp"
                || kind.starts_with("postgres_")
                || kind.starts_with("redis_")
                || kind.starts_with("http_")
        })
        .collect()
}

#[test]
fn another_project_beside_the_bundled_stack_is_never_probed_at_the_bundled_ports() {
    let _stack = stack_exclusive();
    let _cleanup = Restore(cleanup);
    cleanup();
    let bundled = bundled_ports();
    assert_eq!(bundled.len(), 9, "the bundled stack publishes: {bundled:?}");
    sh(&format!(
        "docker network create --label com.docker.compose.project={PROJECT} \
         --label com.docker.compose.network=default {NETWORK} >/dev/null"
    ));
    start(
        DB,
        "auth-db",
        "-e POSTGRES_PASSWORD=other-7c1e helpdesk-postgres:local",
    );
    start(
        REDIS,
        "auth-redis",
        "helpdesk-redis:local redis-server --requirepass other-7c1e",
    );
    start(
        USER_DB,
        "user-db",
        &format!(
            "-p {USER_DB_ADDRESS}:5432 -e POSTGRES_PASSWORD=other-7c1e helpdesk-postgres:local"
        ),
    );
    let started = std::time::Instant::now();
    // Over TCP: during its first start the image runs a socket-only server.
    while !sh(&format!(
        "docker exec {USER_DB} pg_isready -h 127.0.0.1 2>&1 || true"
    ))
    .contains("accepting connections")
    {
        assert!(started.elapsed().as_secs() < 60, "{USER_DB} never answered");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let (diagnosed, report) = diagnose_json(&["--project", PROJECT]);
    assert_eq!(report["project"]["name"], PROJECT, "{}", diagnosed.stderr);
    valid_by_the_schema(&report);
    let address_of = |container: &str| {
        sh(&format!(
            "docker inspect -f '{{{{(index .NetworkSettings.Networks \"{NETWORK}\").IPAddress}}}}' {container}"
        ))
        .trim()
        .to_string()
    };
    let (db_ip, redis_ip) = (address_of(DB), address_of(REDIS));
    for r in connecting(&report) {
        let target = r["target"].as_str().unwrap();
        let reached = r["reached"]["address"].as_str().unwrap_or_default();
        for port in &bundled {
            assert!(
                !target.contains(port.as_str()) && reached != port,
                "{} reached the bundled stack's {port}: {r:#}",
                r["id"]
            );
        }
        assert!(
            reached.is_empty()
                || reached == USER_DB_ADDRESS
                || reached == format!("{db_ip}:5432")
                || reached == format!("{redis_ip}:6379"),
            "only its own servers are reached: {r:#}"
        );
    }
    // Published on the bundled stack's port number, at its own address: reached there.
    for id in [
        "port.user.db",
        "postgres.user.connect",
        "postgres.user.tables",
    ] {
        let check = result(&report, id);
        // Its database holds no table at all: a failure, of its own server.
        let expected = if id.ends_with("tables") {
            "fail"
        } else {
            "pass"
        };
        assert_eq!(check["status"], expected, "{check:#}");
        assert_eq!(check["reached"]["address"], USER_DB_ADDRESS, "{check:#}");
        assert_eq!(check["reached"]["via"], "host");
        assert!(check["target"].as_str().unwrap().ends_with(USER_DB_ADDRESS));
    }

    // Its database and Redis publish nothing: reached where they live, at
    // their address on its network (never at the guide's ports, which are
    // the bundled stack's), with the passwords their containers hold.
    for (id, address) in [
        ("port.auth.db", format!("{db_ip}:5432")),
        ("postgres.auth.connect", format!("{db_ip}:5432")),
        ("port.auth.redis", format!("{redis_ip}:6379")),
        ("redis.auth.ping", format!("{redis_ip}:6379")),
        ("redis.auth.info", format!("{redis_ip}:6379")),
    ] {
        let check = result(&report, id);
        assert_eq!(check["status"], "pass", "{check:#}");
        assert_eq!(check["reached"]["address"], address.as_str(), "{check:#}");
        assert_eq!(check["reached"]["via"], "network", "{check:#}");
        assert_eq!(check["reached"]["network"], NETWORK, "{check:#}");
        assert!(
            check["target"]
                .as_str()
                .unwrap()
                .contains(&format!("{address} on {NETWORK} (not published)")),
            "{check:#}"
        );
    }
    let tables = result(&report, "postgres.auth.tables");
    assert!(
        tables["status"] == "fail"
            && tables["message"]
                .as_str()
                .unwrap()
                .starts_with("missing tables: users, refresh_tokens"),
        "its own empty database: {tables:#}"
    );
    let human = run(doctor().args(["--project", PROJECT, "diagnose"]));
    let auth = human
        .stdout
        .lines()
        .find(|l| l.contains(" auth "))
        .unwrap_or_default();
    assert!(
        auth.contains("PostgreSQL 15") && auth.contains("Redis "),
        "{}",
        human.stdout
    );

    // No container of the role at all: the guide's port is the bundled
    // stack's, so it is not taken for this deployment's, and says whose.
    let app = result(&report, "port.auth.service");
    assert_eq!(app["status"], "fail", "{app:#}");
    assert!(
        app["message"].as_str().unwrap().starts_with(&format!(
            "127.0.0.1:3001 is published by helpdesk-auth-service of project {BUNDLED}, \
             not by this deployment"
        )),
        "{app:#}"
    );
    let redis = result(&report, "port.user.redis");
    assert!(
        redis["status"] == "fail"
            && redis["message"].as_str().unwrap().starts_with(&format!(
                "127.0.0.1:6302 is published by helpdesk-user-redis of project {BUNDLED}"
            )),
        "{redis:#}"
    );
    assert_eq!(status_of(&report, "redis.user.ping"), "skip");
    assert_eq!(status_of(&report, "http.auth.health"), "skip");
    // A container bearing the guide's name is the bundled stack's, not this one's.
    let container = result(&report, "container.user.redis");
    assert!(
        container["message"]
            .as_str()
            .unwrap()
            .contains(&format!("helpdesk-user-redis is project {BUNDLED}'s")),
        "{container:#}"
    );
    assert_eq!(
        status_of(&report, "logs.user.redis"),
        "skip",
        "no logs of another's"
    );

    // The bundled stack, named, is still itself: every connection is to its own ports.
    let (own_run, own) = diagnose_json(&["--project", BUNDLED]);
    assert_eq!(own_run.code, 0, "{}", own_run.stdout);
    valid_by_the_schema(&own);
    for r in connecting(&own) {
        let reached = r["reached"]["address"].as_str().unwrap_or_default();
        assert!(bundled.contains(reached), "{r:#}");
        assert!(r["target"].as_str().unwrap().contains(reached), "{r:#}");
    }
}
