//! Discovery like compose (issue 9): the project from `--project`,
//! `COMPOSE_PROJECT_NAME`, a compose file's folder or the engine; containers by
//! their compose labels whatever their names; two candidate projects refused.

use crate::support::*;

const CANARY: &str = "canary-discovered-3b9e";

fn cleanup() {
    sh(
        "docker rm -f -v other-auth-db-1 renamed-auth-redis-1 renamed-auth-db-1 >/dev/null 2>&1 || true",
    );
}

fn labelled(name: &str, project: &str, service: &str, rest: &str) {
    sh(&format!(
        "docker run -d --name {name} --label com.docker.compose.project={project} \
         --label com.docker.compose.service={service} --label com.docker.compose.container-number=1 \
         {rest} >/dev/null"
    ));
}

#[test]
fn the_project_and_its_containers_are_found_as_compose_names_them() {
    let _stack = stack_exclusive();
    let _cleanup = Restore(cleanup);
    cleanup();

    // Another project running one of the guide's services: two candidates.
    labelled(
        "other-auth-db-1",
        "otherproj",
        "auth-db",
        "helpdesk-redis:local sleep 300",
    );
    let refused = run(doctor().args(["diagnose", "--format", "json"]));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("helpdesk-microservices, otherproj")
            && refused.stderr.contains("--project"),
        "{}",
        refused.stderr
    );
    let named = run(doctor().args([
        "--project",
        "helpdesk-microservices",
        "diagnose",
        "--format",
        "json",
    ]));
    assert_eq!(named.code, 0, "{}", named.stderr);
    assert_eq!(named.json()["project"]["found_by"], "--project");
    let from_env = run(doctor()
        .env("COMPOSE_PROJECT_NAME", "helpdesk-microservices")
        .args(["diagnose", "--format", "json", "--only", "container.*"]));
    assert_eq!(from_env.code, 0, "{}", from_env.stderr);
    assert_eq!(
        from_env.json()["project"]["found_by"],
        "$COMPOSE_PROJECT_NAME"
    );
    sh("docker rm -f -v other-auth-db-1 >/dev/null");

    // A project whose containers have compose's own names, not the guide's, and
    // a Redis whose password is only on its command line.
    labelled(
        "renamed-auth-redis-1",
        "renamed",
        "auth-redis",
        &format!("-p 127.0.0.1:6399:6379 helpdesk-redis:local redis-server --requirepass {CANARY}"),
    );
    // Its database: the official image's variables name the user and database.
    labelled(
        "renamed-auth-db-1",
        "renamed",
        "auth-db",
        &format!(
            "-e POSTGRES_USER=helpdesk -e POSTGRES_DB=authdata -e POSTGRES_PASSWORD={CANARY} \
             -p 127.0.0.1:5498:5432 helpdesk-postgres:local"
        ),
    );
    let started = std::time::Instant::now();
    // Over TCP: during its first start the image runs a socket-only server.
    while !sh("docker exec renamed-auth-redis-1 redis-cli ping 2>&1 || true").contains("NOAUTH")
        || !sh("docker exec renamed-auth-db-1 pg_isready -h 127.0.0.1 2>&1 || true")
            .contains("accepting connections")
    {
        assert!(
            started.elapsed().as_secs() < 60,
            "the renamed project never answered"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = temp_file(
        dir.path(),
        "auth-only.toml",
        // No database nor user: discovered from the container.
        "[[services]]\nname = \"auth\"\napp_port = 3001\ndb_port = 5498\nredis_port = 6399\n",
    );
    // From a folder holding a compose file: the project is the folder's name.
    let folder = dir.path().join("Renamed");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("compose.yaml"), "services: {}\n").unwrap();
    let found = run(doctor()
        .current_dir(&folder)
        .arg("--config")
        .arg(&config)
        .args([
            "diagnose",
            "--format",
            "json",
            "--only",
            "container.auth.redis,redis.auth.ping,postgres.auth.connect",
        ]));
    let report = found.json();
    assert_eq!(report["project"]["name"], "renamed", "{report:#}");
    assert!(
        report["project"]["found_by"]
            .as_str()
            .unwrap()
            .contains("compose.yaml"),
        "{report:#}"
    );
    let container = result(&report, "container.auth.redis");
    assert_eq!(container["status"], "pass", "{container:#}");
    assert_eq!(container["target"], "renamed-auth-redis-1");
    let ping = result(&report, "redis.auth.ping");
    assert_eq!(ping["status"], "pass", "{ping:#}");
    assert_eq!(
        ping["details"]["password_source"],
        "--requirepass on renamed-auth-redis-1's command line"
    );
    let connect = result(&report, "postgres.auth.connect");
    assert_eq!(connect["status"], "pass", "{connect:#}");
    assert_eq!(connect["target"], "authdata@127.0.0.1:5498");
    assert_eq!(
        connect["details"]["password_source"],
        "POSTGRES_PASSWORD of renamed-auth-db-1"
    );
    assert!(!found.stdout.contains(CANARY) && !found.stderr.contains(CANARY));
}

#[test]
fn one_replica_down_is_a_warning_naming_it_and_all_down_a_failure() {
    let _stack = stack_exclusive();
    let _cleanup = Restore(|| {
        sh(
            "docker rm -f -v helpdesk-ticket-service-2 >/dev/null 2>&1 || true; docker start helpdesk-ticket-service >/dev/null",
        );
    });
    // A second replica of ticket-service (as `--scale` makes it) that exited.
    labelled(
        "helpdesk-ticket-service-2",
        "helpdesk-microservices",
        "ticket-service",
        "--entrypoint false helpdesk-service:local",
    );
    sh("docker wait helpdesk-ticket-service-2 >/dev/null");
    let (_, report) = diagnose_json(&["--only", "container.ticket.service"]);
    let degraded = result(&report, "container.ticket.service");
    assert_eq!(degraded["status"], "warn", "{degraded:#}");
    let message = degraded["message"].as_str().unwrap();
    assert!(
        message.starts_with("1 of 2 replicas down")
            && message.contains("helpdesk-ticket-service-2"),
        "{message}"
    );
    sh("docker stop -t 5 helpdesk-ticket-service >/dev/null");
    let (_, report) = diagnose_json(&["--only", "container.ticket.service"]);
    assert_eq!(
        status_of(&report, "container.ticket.service"),
        "fail",
        "all replicas down"
    );
}

#[test]
fn a_container_without_compose_labels_is_found_by_its_name_and_none_is_explained() {
    let _stack = stack_shared();
    let _cleanup = Restore(|| {
        sh("docker rm -f -v helpdesk-solo-redis >/dev/null 2>&1 || true");
    });
    sh("docker run -d --name helpdesk-solo-redis helpdesk-redis:local >/dev/null");
    let dir = tempfile::tempdir().unwrap();
    let config = temp_file(
        dir.path(),
        "solo.toml",
        "[[services]]\nname = \"solo\"\napp_port = 3901\ndb_port = 3902\nredis_port = 3903\n",
    );
    let (run, report) = diagnose_json(&[
        "--config",
        config.to_str().unwrap(),
        "--project",
        "nosuchproject",
        "--only",
        "container.solo.*",
    ]);
    assert_eq!(run.code, 1, "the db and app are missing: {}", run.stderr);
    let redis = result(&report, "container.solo.redis");
    assert_eq!(redis["details"]["found_by"], "its name (no compose labels)");
    assert!(
        redis["message"]
            .as_str()
            .unwrap()
            .contains("found by its name"),
        "{redis:#}"
    );
    let db = result(&report, "container.solo.db");
    assert_eq!(db["status"], "fail");
    let message = db["message"].as_str().unwrap();
    assert!(
        message.contains("compose service solo-db in project nosuchproject")
            && message.contains("helpdesk-solo-db"),
        "{message}"
    );
    assert!(db["hint"].as_str().unwrap().contains("--project"), "{db:#}");
}
