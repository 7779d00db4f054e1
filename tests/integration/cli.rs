//! CLI conventions (issue 10): one-line usage errors (exit 2), completions and
//! a man page, the config found in the user's and system's folders, backups in
//! the backup folder (never the current one), `--service`, `--skip` and
//! `--only` that say what they did, `checks list --format json`.

use crate::support::*;

#[test]
fn bad_flags_and_values_are_one_line_errors_with_exit_2() {
    for args in [
        vec!["diagnose", "--bogus"],
        vec!["diagnose", "--probe-timeout", "0"],
        vec!["diagnose", "--deadline", "soon"],
        vec!["diagnose", "--format", "xml"],
        vec!["wait", "--timeout", "-3s"],
        vec!["backup", "prune"],
        vec!["nonsense"],
    ] {
        let run = run(doctor().args(&args));
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.trim_end().lines().count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.starts_with("error:"), "{args:?}: {}", run.stderr);
    }
    let help = run(doctor().arg("--help"));
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Usage:"));
}

#[test]
fn completions_and_the_man_page_are_generated() {
    let bash = run(doctor().args(["completions", "bash"]));
    assert_eq!(bash.code, 0);
    assert!(
        bash.stdout.contains("complete -F _helpdesk-doctor")
            || bash.stdout.contains("_helpdesk__doctor")
    );
    let syntax = sh(&format!(
        "bash -n <(printf '%s' {}) && echo ok",
        shell_quote(&bash.stdout)
    ));
    assert_eq!(syntax.trim(), "ok");
    let man = run(doctor().arg("man"));
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH helpdesk-doctor 1"),
        "{}",
        &man.stdout[..200]
    );
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[test]
fn the_user_config_is_found_and_the_flag_wins() {
    let _stack = stack_shared();
    let home = tempfile::tempdir().unwrap();
    let folder = home.path().join("helpdesk-doctor");
    std::fs::create_dir_all(&folder).unwrap();
    // A user config that only renames the project: proof it was read.
    temp_file(
        &folder,
        "config.toml",
        "compose_project = \"from-user-config\"\n",
    );
    let from_user = run(doctor()
        .env("XDG_CONFIG_HOME", home.path())
        .args(["diagnose", "--format", "json", "--only", "docker.*"]));
    assert_eq!(from_user.json()["project"]["name"], "from-user-config");
    let other = tempfile::tempdir().unwrap();
    let flag = temp_file(
        other.path(),
        "flag.toml",
        "compose_project = \"from-flag\"\n",
    );
    let from_flag = run(doctor()
        .env("XDG_CONFIG_HOME", home.path())
        .arg("--config")
        .arg(&flag)
        .args(["diagnose", "--format", "json", "--only", "docker.*"]));
    assert_eq!(from_flag.json()["project"]["name"], "from-flag");
}

#[test]
fn backups_go_to_the_backup_folder_not_the_current_one() {
    let _stack = stack_exclusive();
    let cwd = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let made = run(doctor()
        .current_dir(cwd.path())
        .env("HELPDESK_DOCTOR_BACKUP_DIR", backups.path())
        .args(["backup", "--only", "user"]));
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "nothing in the current folder"
    );
    let listed = run(doctor()
        .env("HELPDESK_DOCTOR_BACKUP_DIR", backups.path())
        .args(["backup", "list"]));
    assert!(listed.stdout.starts_with("complete"), "{}", listed.stdout);
    let pruned = run(doctor()
        .args(["backup", "prune", "--keep", "1"])
        .arg(backups.path()));
    assert_eq!(
        pruned.code, 0,
        "prune takes the folder like list: {}",
        pruned.stderr
    );
    let missing = run(doctor().args(["backup", "verify", "/nonexistent/backup"]));
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("/nonexistent/backup: no such folder"),
        "{}",
        missing.stderr
    );
}

#[test]
fn selection_flags_say_what_they_did() {
    let _stack = stack_shared();
    let (run_service, report) = diagnose_json(&["--service", "ticket"]);
    assert_eq!(run_service.code, 0, "{}", run_service.stderr);
    let results = report["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .filter(|r| r["id"].as_str().unwrap().contains("ticket"))
            .count()
            >= 10,
        "the ticket service's checks ran: {report}"
    );
    for result in results {
        let id = result["id"].as_str().unwrap();
        assert!(id.contains("ticket") || id == "docker.engine", "{id}");
    }
    let (skipped, _) = diagnose_json(&["--only", "postgres.user.connect", "--skip", "port.*"]);
    assert!(
        skipped
            .stderr
            .contains("port.user.db still runs: postgres.user.connect needs it"),
        "{}",
        skipped.stderr
    );
    let none = run(doctor().args(["diagnose", "--only", "postgress.*"]));
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("did you mean postgres.*"),
        "{}",
        none.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let trap = run(doctor()
        .current_dir(dir.path())
        .args(["diagnose", "--only", "docker.*", "-o", "json"]));
    assert!(trap.stderr.contains("--format json"), "{}", trap.stderr);
}

#[test]
fn checks_list_has_titles_and_a_json_form() {
    let _stack = stack_shared();
    let text = run(doctor().args(["checks", "list"]));
    assert!(
        text.stdout.contains("Docker engine reachable"),
        "{}",
        text.stdout
    );
    let json = run(doctor().args(["checks", "list", "--format", "json"]));
    let listed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let first = &listed.as_array().unwrap()[0];
    for key in ["id", "title", "kind", "needs", "source"] {
        assert!(first.get(key).is_some(), "{key}: {first}");
    }
}

#[test]
fn checks_list_needs_no_engine() {
    let reachable = run(doctor().args(["checks", "list"]));
    // An "engine" that only counts who calls it.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let engine = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    engine.set_nonblocking(true).unwrap();
    let listed = run(doctor()
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args(["checks", "list"]));
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        matches!(engine.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "checks list connected to the engine"
    );
    assert_eq!(
        listed.stdout, reachable.stdout,
        "the catalog is the same with or without the engine"
    );
    assert!(listed.stdout.lines().count() > 50, "{}", listed.stdout);
}
