//! The same tests on both fixtures (`crate::fixture`): from the deployment's own
//! folder, with no config and no `HELPDESK_*` variable, the healthy deployment
//! passes, each stopped container is named in a failing result, and every
//! runbook works with the credentials the doctor discovered; the submodules:
//! every read-only hint runs as printed (`hints`), each migration
//! framework's failed history is named with its fix (`migrations`).

use crate::fixture::{Kind, fixture};
use crate::support::*;

#[test]
fn the_healthy_deployment_exits_0_with_no_failing_check() {
    let _stack = stack_shared();
    let fixture = fixture();
    let (run, report) = fixture.diagnose();
    let failing: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| format!("{}: {}", r["id"], r["message"]))
        .collect();
    assert!(failing.is_empty(), "{failing:#?}");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report["project"]["name"], fixture.project());
    let expected_source = match fixture.kind {
        Kind::Bundled => "engine",
        Kind::Prod | Kind::Foreign => "folder",
    };
    assert!(
        report["project"]["found_by"]
            .as_str()
            .unwrap()
            .contains(expected_source),
        "{}",
        report["project"]
    );
    for service in ["auth", "user", "ticket"] {
        assert_eq!(
            status_of(&report, &format!("postgres.{service}.connect")),
            "pass"
        );
        assert_eq!(status_of(&report, &format!("redis.{service}.ping")), "pass");
        assert_eq!(
            status_of(&report, &format!("http.{service}.health")),
            "pass"
        );
    }
}

#[test]
fn each_stopped_container_is_named_in_a_failing_result() {
    let _stack = stack_exclusive();
    let fixture = fixture();
    for container in fixture.single_containers() {
        let started = fixture.stop(&container);
        let (run, report) = fixture.diagnose();
        assert_eq!(run.code, 1, "{container} stopped: {}", run.stderr);
        let named =
            report["results"].as_array().unwrap().iter().any(|r| {
                r["status"] == "fail" && r["message"].as_str().unwrap().contains(&container)
            });
        assert!(named, "{container} named in a failure: {report:#}");
        drop(started);
    }
}

#[test]
fn every_runbook_works_with_the_discovered_credentials() {
    let _stack = stack_exclusive();
    let fixture = fixture();
    fixture.seed();
    let out = tempfile::tempdir().unwrap();

    let backup = run(fixture
        .doctor()
        .args(["backup", "--only", "ticket", "--out"])
        .arg(out.path()));
    assert_eq!(backup.code, 0, "{}{}", backup.stdout, backup.stderr);
    let dir = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .max()
        .expect("a backup folder");
    let verified = run(fixture.doctor().args(["backup", "verify"]).arg(&dir));
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);

    let before = fixture.psql("ticket", "SELECT count(*) FROM tickets");
    fixture.psql("ticket", "DELETE FROM tickets WHERE id % 2 = 0");
    let restored = run(fixture
        .doctor()
        .arg("restore")
        .arg(&dir)
        .args(["--yes", "--no-safety-backup"]));
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert_eq!(
        fixture.psql("ticket", "SELECT count(*) FROM tickets"),
        before
    );
    fixture.wait_healthy();

    let mut redis = fixture.redis("user");
    redis::cmd("SET")
        .arg("x:doomed")
        .arg("1")
        .query::<()>(&mut redis)
        .unwrap();
    redis::cmd("SET")
        .arg("kept:1")
        .arg("1")
        .query::<()>(&mut redis)
        .unwrap();
    let flushed =
        run(fixture
            .doctor()
            .args(["cache", "flush", "user", "--pattern", "x:*", "--yes"]));
    assert_eq!(flushed.code, 0, "{}{}", flushed.stdout, flushed.stderr);
    let exists = |redis: &mut redis::Connection, key: &str| -> bool {
        redis::cmd("EXISTS").arg(key).query(redis).unwrap()
    };
    assert!(!exists(&mut redis, "x:doomed") && exists(&mut redis, "kept:1"));

    let expired = "SELECT count(*) FROM refresh_tokens WHERE expires_at < now()";
    assert_ne!(
        fixture.psql("auth", expired),
        "0",
        "the seed planted expired tokens"
    );
    let purged = run(fixture.doctor().args(["tokens", "purge", "--yes"]));
    assert_eq!(purged.code, 0, "{}{}", purged.stdout, purged.stderr);
    assert_eq!(fixture.psql("auth", expired), "0");

    let waited = run(fixture.doctor().args(["wait", "--timeout", "60s"]));
    assert_eq!(waited.code, 0, "{}{}", waited.stdout, waited.stderr);
    fixture.seed();
}

mod hints;
mod migrations;
