//! Bad input gets a clear error naming the file and line, and exit code 2.

use crate::support::*;

/// (file content, expected fragment of the error, line it must name)
const BROKEN: &[(&str, &str, usize)] = &[
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\nprobe = { kind = \"tcp\", port = 1, owner = \"o\" \n",
        "",
        5,
    ),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\nprobe = { kind = \"teleport\" }\n",
        "unknown variant `teleport`",
        2,
    ),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\ncolour = \"red\"\nprobe = { kind = \"host_load\" }\n",
        "unknown field `colour`",
        5,
    ),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nprobe = { kind = \"host_load\" }\n",
        "missing field `hint`",
        2,
    ),
    (
        "[[check]]\nid = \"x.{service}\"\nfor_each = \"service\"\ntitle = \"{sevrice}\"\nhint = \"h\"\nprobe = { kind = \"host_load\" }\n",
        "unknown variable {sevrice}",
        4,
    ),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\nneeds = [\"no.such.check\"]\nprobe = { kind = \"host_load\" }\n",
        "unknown check \"no.such.check\"",
        2,
    ),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\nprobe = { kind = \"host_load\" }\n\n[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\nprobe = { kind = \"host_load\" }\n",
        "duplicate check id \"x\"",
        8,
    ),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\nprobe = { kind = \"tcp\", port = \"many\", owner = \"o\" }\n",
        "invalid type",
        2,
    ),
    ("checks = 1\n", "unknown top-level key `checks`", 1),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\ntimeout_ms = 9223372036854775807\nprobe = { kind = \"host_load\" }\n",
        "`timeout_ms`: must be at most 7days",
        5,
    ),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\n\nprobe = { kind = \"container_logs\", container = \"c\", patterns = [], window_minutes = 0 }\n",
        "`window_minutes`: must be more than zero",
        6,
    ),
    (
        "[[check]]\nid = \"x\"\ntitle = \"t\"\nhint = \"h\"\nprobe = { kind = \"swarm_service\", compose_service = \"-d;id\" }\n",
        "`compose_service`: \"-d;id\" is not a compose name",
        5,
    ),
];

#[test]
fn each_broken_check_file_is_named_with_its_line() {
    for (text, fragment, line) in BROKEN {
        let dir = tempfile::tempdir().unwrap();
        let path = temp_file(dir.path(), "broken.toml", text);
        let run = run(doctor()
            .args(["checks", "list", "--checks-dir"])
            .arg(dir.path()));
        assert_eq!(run.code, 2, "exit 2 for {text:?}: {}", run.stderr);
        let expected = format!("{}:{line}:", path.display());
        assert!(
            run.stderr.contains(&expected),
            "{expected} in {:?} for {text:?}",
            run.stderr
        );
        assert!(
            run.stderr.contains(fragment),
            "{fragment:?} in {:?}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn a_loop_of_needs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[check]]\nid = \"a\"\ntitle = \"t\"\nhint = \"h\"\nneeds = [\"b\"]\nprobe = { kind = \"host_load\" }\n\n\
                [[check]]\nid = \"b\"\ntitle = \"t\"\nhint = \"h\"\nneeds = [\"a\"]\nprobe = { kind = \"host_load\" }\n";
    temp_file(dir.path(), "loop.toml", text);
    let run = run(doctor()
        .args(["checks", "list", "--checks-dir"])
        .arg(dir.path()));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("loop: a -> b -> a") || run.stderr.contains("loop: b -> a -> b"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_user_check_runs_and_can_replace_a_builtin() {
    let dir = tempfile::tempdir().unwrap();
    temp_file(
        dir.path(),
        "mine.toml",
        "[[check]]\nid = \"host.load\"\ntitle = \"mine\"\nhint = \"h\"\nprobe = { kind = \"host_memory\", warn_percent = 100.0 }\n",
    );
    let run = run(doctor()
        .args([
            "diagnose",
            "--format",
            "json",
            "--only",
            "host.load",
            "--checks-dir",
        ])
        .arg(dir.path()));
    let report = run.json();
    assert_eq!(result(&report, "host.load")["kind"], "host_memory");
    assert_eq!(result(&report, "host.load")["title"], "mine");
}

#[test]
fn wrong_flags_and_configs_exit_2_with_a_clear_message() {
    let run_flag = run(doctor().args(["diagnose", "--frobnicate"]));
    assert_eq!(run_flag.code, 2);
    assert!(run_flag.stderr.contains("--frobnicate"));
    let run_format = run(doctor().args(["diagnose", "--format", "yaml"]));
    assert_eq!(run_format.code, 2);
    let dir = tempfile::tempdir().unwrap();
    let config = temp_file(
        dir.path(),
        "profile.toml",
        "[timeouts]\nprobe_ms = \"soon\"\n",
    );
    let run_config = run(doctor().arg("--config").arg(&config).arg("diagnose"));
    assert_eq!(run_config.code, 2);
    assert!(
        run_config
            .stderr
            .contains(&format!("{}:2:", config.display())),
        "{}",
        run_config.stderr
    );
    let run_only = run(doctor().args(["diagnose", "--only", "nothing.matches.*"]));
    assert_eq!(run_only.code, 2);
    assert!(run_only.stderr.contains("no check matches"));
}

#[test]
fn an_unreachable_engine_fails_the_gate_and_skips_its_dependents() {
    // Its backup and cache flush take the doctor's runbook lock: no other
    // runbook test may hold it meanwhile (seen in a shuffled run: exit 5).
    let _stack = stack_exclusive();
    let run = run(doctor().env("DOCKER_HOST", NO_ENGINE).args([
        "diagnose",
        "--format",
        "json",
        "--only",
        "container.auth.*",
    ]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let engine = result(&report, "docker.engine");
    assert_eq!(engine["status"], "fail");
    assert!(
        engine["message"]
            .as_str()
            .unwrap()
            .contains("tcp://127.0.0.1:1"),
        "{engine}"
    );
    assert!(
        engine["hint"]
            .as_str()
            .unwrap()
            .contains("point DOCKER_HOST at it"),
        "the engine's own fix, not the check's: {engine}"
    );
    assert_eq!(status_of(&report, "container.auth.db"), "skip");
    let backup = crate::support::run(
        doctor()
            .env("DOCKER_HOST", NO_ENGINE)
            .args(["backup", "--only", "auth", "--out"])
            .arg(std::env::temp_dir()),
    );
    assert_eq!(backup.code, 3, "{}", backup.stderr);
    assert!(
        backup.stderr.contains("tcp://127.0.0.1:1"),
        "{}",
        backup.stderr
    );
    let cache = run_cache_flush_unreachable();
    assert_eq!(
        cache.code, 3,
        "a runbook that cannot reach Redis: {}",
        cache.stderr
    );
}

fn run_cache_flush_unreachable() -> Run {
    let dir = tempfile::tempdir().unwrap();
    let profile = "[[services]]\nname = \"auth\"\napp_port = 3001\ndb_port = 5401\nredis_port = 1\ndatabase = \"auth_db\"\ndb_user = \"user\"\n";
    let config = temp_file(dir.path(), "profile.toml", profile);
    run(doctor().arg("--config").arg(&config).args([
        "cache",
        "flush",
        "auth",
        "--all",
        "--dry-run",
    ]))
}
