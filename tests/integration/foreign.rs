//! A deployment another team wrote (tests/stack/foreign, run by tests/run.sh
//! beside the bundled stack, `HELPDESK_TEST_FIXTURE=foreign`): Python
//! services, its databases and Redis published nowhere, secret files, Redis ACL
//! users, its own variables, tables and health answers. The doctor, pointed at
//! it as its operators would (from its folder), reaches every server where it
//! lives — at its container's address on the project's network, or through the
//! engine when that address is not reached from here — never at a port the
//! bundled stack publishes, finds it healthy, and names its faults.

use crate::fixture::{Kind, fixture};
use crate::support::*;
use std::collections::BTreeSet;
use std::process::Command;

const SERVICES: [&str; 3] = ["auth", "user", "ticket"];

fn foreign() -> crate::fixture::Fixture {
    let fixture = fixture();
    assert_eq!(
        fixture.kind,
        Kind::Foreign,
        "run with HELPDESK_TEST_FIXTURE=foreign (tests/stack/foreign/up.sh beside the bundled stack)"
    );
    fixture
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

/// `host:port` of every port the bundled stack publishes on this host.
fn bundled_ports() -> BTreeSet<String> {
    let listed = sh(
        "docker ps --filter label=com.docker.compose.project=helpdesk-microservices \
         --format '{{.Ports}}'",
    );
    listed
        .split([',', '\n'])
        .filter_map(|binding| binding.trim().split_once("->"))
        .map(|(host, _)| host.replace("0.0.0.0", "127.0.0.1"))
        .collect()
}

/// The server a check of `id` talks to: (service, role) for port, PostgreSQL
/// and Redis checks of a database or Redis.
fn server_of(id: &str) -> Option<(&str, &'static str)> {
    let mut parts = id.split('.');
    let (kind, service, what) = (parts.next()?, parts.next()?, parts.next()?);
    match (kind, what) {
        ("port", "db") | ("postgres", _) => Some((service, "db")),
        ("port", "redis") | ("redis", _) => Some((service, "redis")),
        _ => None,
    }
}

#[test]
fn the_healthy_foreign_deployment_is_reached_where_it_lives() {
    let _stack = stack_shared();
    let fixture = foreign();
    let (run, report) = fixture.diagnose();
    valid_by_the_schema(&report);
    let problems: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        // The host's own figures (this machine's load, its disks) and its
        // backup folder (no test fills it here) are true of it; the fault
        // tests leave their outages in the apps' recent logs.
        .filter(|r| {
            let id = r["id"].as_str().unwrap();
            r["status"] != "pass" && !id.starts_with("host.") && !id.starts_with("backup.")
        })
        .filter(|r| !logs_of_an_earlier_fault(r))
        .map(|r| format!("{} {}: {}", r["id"], r["status"], r["message"]))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report["project"]["name"], "foreign");

    let bundled = bundled_ports();
    assert_eq!(
        bundled.len(),
        9,
        "the bundled stack is up beside it: {bundled:?}"
    );
    for r in connecting(&report) {
        let reached = r["reached"]["address"].as_str().unwrap_or_default();
        let target = r["target"].as_str().unwrap();
        assert!(
            !bundled.contains(reached) && !bundled.iter().any(|p| target.contains(p.as_str())),
            "{} reached the bundled stack: {r:#}",
            r["id"]
        );
    }
    // Every PostgreSQL and Redis check, and their ports, at the fixture's own
    // container's address on its network.
    let mut servers = 0;
    for r in connecting(&report) {
        let id = r["id"].as_str().unwrap();
        let Some((service, role)) = server_of(id) else {
            continue;
        };
        servers += 1;
        let container = fixture.container(service, role);
        let port = if role == "db" { 5432 } else { 6379 };
        let own = format!("{}:{port}", fixture.address(&container));
        assert_eq!(r["status"], "pass", "{r:#}");
        assert_eq!(r["reached"]["address"], own.as_str(), "{r:#}");
        assert_eq!(r["reached"]["via"], "network", "{r:#}");
        assert_eq!(r["reached"]["network"], "foreign_default", "{r:#}");
        assert!(
            r["target"]
                .as_str()
                .unwrap()
                .contains(&format!("{own} on foreign_default (not published)")),
            "{r:#}"
        );
    }
    assert!(servers >= 18, "{servers} database and Redis results");
    let port = result(&report, "port.auth.db");
    assert!(
        port["message"]
            .as_str()
            .unwrap()
            .contains("on foreign_default (not published) open"),
        "{port:#}"
    );

    // Its conventions, read where it keeps them.
    let ping = result(&report, "redis.auth.ping");
    assert!(
        ping["message"]
            .as_str()
            .unwrap()
            .contains("authenticated as \"auth-app\""),
        "the ACL user of its REDIS_URL: {ping:#}"
    );
    assert_eq!(
        result(&report, "redis.user.ping")["details"]["user"],
        "default"
    );
    let password = result(&report, "postgres.auth.connect")["details"]["password_source"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        password.contains("PGPASSWORD_FILE") && password.contains("auth-service"),
        "the application's secret file: {password}"
    );
    let env = result(&report, "env.auth");
    let forms = env["details"]["forms"].to_string();
    assert!(
        forms.contains("JWT_SECRET as the file JWT_SECRET_FILE names")
            && forms.contains("DATABASE_URL as its parts (PGHOST"),
        "{env:#}"
    );
    assert!(
        result(&report, "postgres.user.tables")["message"]
            .as_str()
            .unwrap()
            .contains("accounts"),
        "its own tables, none of the bundled app's"
    );

    let human = run_in(&fixture, &["diagnose"]);
    for service in SERVICES {
        let line = human
            .stdout
            .lines()
            .find(|l| l.contains(&format!(" {service} ")))
            .unwrap_or_else(|| panic!("no {service} line: {}", human.stdout));
        assert!(
            line.contains("PostgreSQL 15") && line.contains("Redis "),
            "{line}"
        );
    }
}

/// A log warning whose every example is an application saying a dependency
/// was down, or a server's FATAL line (what this file's fault tests leave
/// behind for 15 minutes).
fn logs_of_an_earlier_fault(r: &serde_json::Value) -> bool {
    let examples = r["details"]["examples"].as_array();
    r["id"].as_str().unwrap().starts_with("logs.")
        && r["status"] == "warn"
        && examples.is_some_and(|lines| {
            lines.iter().all(|line| {
                let line = line.as_str().unwrap_or_default();
                // The apps' side of a stopped server, and the servers' side
                // (FATAL: shutting down, terminating, authentication failed
                // or timed out) of the stop and rotated-password tests.
                [
                    "health: postgres is down",
                    "health: redis is down",
                    " FATAL:  ",
                ]
                .iter()
                .any(|fault| line.contains(fault))
            })
        })
}

/// The doctor in the fixture's folder with `args`.
fn run_in(fixture: &crate::fixture::Fixture, args: &[&str]) -> Run {
    run(fixture.doctor().args(args))
}

/// `command` in a network namespace of its own: no address of this machine's
/// networks is reached from there, while the engine's unix socket still is
/// (as on a machine whose container networks are not routed to the doctor).
fn in_own_network(command: &Command) -> Command {
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["--net", "--"])
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped.stdin(std::process::Stdio::null());
    wrapped
}

#[test]
fn through_the_engine_when_its_addresses_are_not_reached_from_here() {
    let _stack = stack_shared();
    let fixture = foreign();
    let mut doctor = fixture.doctor();
    doctor.args([
        "diagnose",
        "--format",
        "json",
        "--only",
        "port.*.db,port.*.redis,postgres.*,redis.*",
    ]);
    let diagnosed = run(&mut in_own_network(&doctor));
    let report = diagnosed.json();
    valid_by_the_schema(&report);
    assert_eq!(
        diagnosed.code, 0,
        "{}{}",
        diagnosed.stdout, diagnosed.stderr
    );
    let results = report["results"].as_array().unwrap();
    assert!(results.len() >= 18, "{report:#}");
    for r in results {
        let Some((service, role)) = server_of(r["id"].as_str().unwrap()) else {
            continue;
        };
        let container = fixture.container(service, role);
        assert_eq!(r["status"], "pass", "{r:#}");
        assert_eq!(r["reached"]["via"], "engine", "{r:#}");
        assert_eq!(r["reached"]["container"], container.as_str(), "{r:#}");
        assert!(
            r["target"]
                .as_str()
                .unwrap()
                .ends_with(&format!("through the engine (exec in {container})")),
            "{r:#}"
        );
    }
    // The cache runbook goes the same way, to the database its application
    // selects (ticket's REDIS_URL ends in /1, where the seed put its keys).
    for service in ["user", "ticket"] {
        let mut dry = fixture.doctor();
        let pattern = format!("{service}:cache:*");
        dry.args([
            "cache",
            "flush",
            service,
            "--pattern",
            &pattern,
            "--dry-run",
        ]);
        let counted = run(&mut in_own_network(&dry));
        assert_eq!(counted.code, 0, "{}{}", counted.stdout, counted.stderr);
        // Other tests may leave keys of their own beside the seed's.
        let first = counted.stdout.lines().next().unwrap_or_default();
        let container = fixture.container(service, "redis");
        assert!(
            first.starts_with(&format!(
                "dry run: would delete 100 keys matching \"{pattern}\" of "
            )) && first.ends_with(&format!(" in {container}; nothing changed")),
            "{}",
            counted.stdout
        );
    }
}

#[test]
fn a_stopped_database_or_redis_is_named_not_a_password() {
    let _stack = stack_exclusive();
    let fixture = foreign();
    for (role, checks) in [
        ("db", ["port.auth.db", "postgres.auth.connect"]),
        ("redis", ["port.auth.redis", "redis.auth.ping"]),
    ] {
        let container = fixture.container("auth", role);
        let started = fixture.stop(&container);
        let (run, report) = fixture.diagnose();
        assert_eq!(run.code, 1, "{}", run.stderr);
        let port = result(&report, checks[0]);
        assert_eq!(port["status"], "fail", "{port:#}");
        let message = port["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{container} is not running (exited)")),
            "{port:#}"
        );
        assert!(
            port["hint"]
                .as_str()
                .unwrap()
                .contains(&format!("up -d auth-{role}")),
            "{port:#}"
        );
        let client = result(&report, checks[1]);
        assert_eq!(client["status"], "skip", "{client:#}");
        assert_eq!(client["details"]["skipped_because"], checks[0]);
        assert_eq!(
            result(&report, &format!("container.auth.{role}"))["status"],
            "fail"
        );
        for r in report["results"].as_array().unwrap() {
            let said = format!("{} {}", r["message"], r["hint"]).to_lowercase();
            assert!(
                r["status"] == "pass" || !said.contains("password"),
                "no password advice for a stopped server: {r:#}"
            );
        }
        drop(started);
    }
}

#[test]
fn a_wrong_password_names_the_user_and_where_it_came_from() {
    let _stack = stack_exclusive();
    let fixture = foreign();
    let db = fixture.container("auth", "db");
    let redis = fixture.container("auth", "redis");
    // Put back: the role's password as its secret file says, the ACL file
    // read again by a restart.
    let restore = Restore(|| {
        fixture.psql("auth", "ALTER ROLE authsvc PASSWORD 'acme-auth-db-51f3'");
        sh(&format!("docker restart -t 3 {redis} >/dev/null"));
        fixture.wait_healthy();
    });
    // The servers' passwords rotated, the application's secrets not.
    fixture.psql(
        "auth",
        "ALTER ROLE authsvc PASSWORD 'rotated-on-the-server'",
    );
    let mut admin = fixture.redis("auth");
    redis::cmd("ACL")
        .arg(&["SETUSER", "auth-app", "resetpass", ">rotated-on-the-server"][..])
        .query::<()>(&mut admin)
        .unwrap();
    let (run, report) = fixture.diagnose();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let connect = result(&report, "postgres.auth.connect");
    let message = connect["message"].as_str().unwrap();
    assert!(
        message.starts_with("authsvc: password authentication failed for user \"authsvc\"")
            && message.contains("PGPASSWORD_FILE")
            && message.contains(&fixture.container("auth", "service")),
        "{connect:#}"
    );
    assert_eq!(
        connect["target"].as_str().unwrap(),
        format!(
            "authsvc@{}:5432 on foreign_default (not published)",
            fixture.address(&db)
        )
    );
    let ping = result(&report, "redis.auth.ping");
    assert!(
        ping["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{redis}: WRONGPASS, user \"auth-app\"")),
        "{ping:#}"
    );
    drop(restore);
}

#[test]
fn the_bundled_stack_beside_it_is_still_itself() {
    let _stack = stack_shared();
    let _fixture = foreign();
    // Two deployments of the guide's services: which one is for the user to say.
    let ambiguous = run(doctor().args(["diagnose", "--format", "json"]));
    assert_eq!(ambiguous.code, 2, "{}", ambiguous.stderr);
    assert!(
        ambiguous.stderr.contains("foreign") && ambiguous.stderr.contains("helpdesk-microservices"),
        "{}",
        ambiguous.stderr
    );
    let bundled = bundled_ports();
    let (own_run, own) = diagnose_json(&["--project", "helpdesk-microservices"]);
    assert_eq!(own_run.code, 0, "{}", own_run.stdout);
    valid_by_the_schema(&own);
    for r in connecting(&own) {
        let reached = r["reached"]["address"].as_str().unwrap_or_default();
        assert!(bundled.contains(reached), "{r:#}");
        assert_eq!(r["reached"]["via"], "host", "{r:#}");
    }
}
