//! Statuses that tell the truth (issue 10): a check cut off by the deadline is
//! UNKNOWN (`error`, exit 3 unless something failed), never a FAIL with a fix;
//! a skipped check names the check that really did not pass, never nested.

use crate::support::*;

#[test]
fn a_check_cut_off_by_the_deadline_is_unknown_and_exits_3() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let silent = hanging_catalog(dir.path());
    let diagnose = |format: &str| {
        run(doctor()
            .arg("--checks-dir")
            .arg(dir.path())
            .args(["diagnose", "--only", "hang.*,host.disk", "--format", format])
            .args(["--deadline", "500ms", "--probe-timeout", "10s"]))
    };
    let cut = diagnose("json");
    assert_eq!(cut.code, 3, "UNKNOWN, like Nagios: {}", cut.stderr);
    let report = cut.json();
    assert_eq!(report["status"], "error");
    assert_eq!(report["summary"]["error"], 1);
    let hung = result(&report, "hang.http");
    assert_eq!(hung["status"], "error");
    assert!(
        hung["message"]
            .as_str()
            .unwrap()
            .starts_with("cut off by --deadline after"),
        "{hung:#}"
    );
    assert!(hung["hint"].is_null(), "no fix for an unknown: {hung:#}");
    let after = result(&report, "hang.after");
    assert_eq!(after["status"], "skip");
    assert_eq!(after["details"]["skipped_because"], "hang.http");
    assert_eq!(status_of(&report, "host.disk"), "pass");

    let table = diagnose("table");
    assert_eq!(table.code, 3);
    assert!(table.stdout.contains("UNKNOWN"), "{}", table.stdout);
    drop(silent);
}

#[test]
fn a_skip_names_the_check_that_failed_without_nesting() {
    let _stack = stack_shared();
    let run = run(doctor().env("DOCKER_HOST", NO_ENGINE).args([
        "diagnose",
        "--format",
        "json",
        "--only",
        "container.auth.*",
    ]));
    let report = run.json();
    let logging = result(&report, "container.auth.db.logging");
    assert_eq!(logging["status"], "skip");
    assert_eq!(logging["details"]["skipped_because"], "docker.engine");
    let message = logging["message"].as_str().unwrap();
    assert_eq!(message.matches("skipped").count(), 1, "{message}");
    assert!(message.contains("docker.engine is FAIL"), "{message}");
}
