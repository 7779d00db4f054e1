//! Issue 20's layout rules, read from the source: no import cycle between
//! modules, as `tests/module_cycles.py` finds them (itself shown to find a
//! cycle); no engine type above the deployment layer; and the commands that
//! need no deployment never reach the engine.

use crate::support::*;
use std::process::Command;

/// The cycles `tests/module_cycles.py` finds under `src`, and its exit code.
fn cycles_in(src: &std::path::Path) -> (Vec<String>, Option<i32>) {
    let run = Command::new("python3")
        .arg(repo().join("tests/module_cycles.py"))
        .arg(src)
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&run.stdout).into_owned();
    let lines = text.lines().map(String::from).collect();
    (lines, run.status.code())
}

#[test]
fn no_import_cycle_between_modules() {
    let (cycles, code) = cycles_in(&repo().join("src"));
    assert_eq!(cycles, ["no import cycle"]);
    assert_eq!(code, Some(0));
}

/// Every file under `src/` that names the engine's client crate, outside `src/deployment/`.
fn engine_types_above_the_deployment_layer(src: &std::path::Path) -> Vec<String> {
    let mut named = Vec::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path == src.join("deployment") {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else if std::fs::read_to_string(&path)
                .unwrap_or_default()
                .contains("bollard")
            {
                named.push(path.strip_prefix(src).unwrap().display().to_string());
            }
        }
    }
    named
}

#[test]
fn no_engine_type_above_the_deployment_layer() {
    let src = repo().join("src");
    assert_eq!(
        engine_types_above_the_deployment_layer(&src),
        Vec::<String>::new()
    );
    // The walk finds one where there is one (and reads nested folders).
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("probe/deep")).unwrap();
    std::fs::create_dir_all(tree.path().join("deployment")).unwrap();
    std::fs::write(tree.path().join("probe/deep/x.rs"), "use bollard::Docker;").unwrap();
    std::fs::write(tree.path().join("deployment/y.rs"), "use bollard::Docker;").unwrap();
    assert_eq!(
        engine_types_above_the_deployment_layer(tree.path()),
        ["probe/deep/x.rs"]
    );
}

#[test]
fn the_cycle_finder_finds_a_cycle_through_a_folder_and_none_in_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir(src.join("store")).unwrap();
    std::fs::write(src.join("main.rs"), "mod store;\nmod report;\n").unwrap();
    std::fs::write(src.join("store.rs"), "pub mod disk;\n").unwrap();
    std::fs::write(
        src.join("store/disk.rs"),
        "use super::super::report::Line;\n",
    )
    .unwrap();
    std::fs::write(src.join("report.rs"), "use crate::store::{disk, Other};\n").unwrap();
    let (cycles, code) = cycles_in(src);
    assert_eq!(cycles, ["cycle in src: report store"]);
    assert_eq!(code, Some(1));
    std::fs::write(src.join("store/disk.rs"), "// use crate::report::Line;\n").unwrap();
    let (cycles, code) = cycles_in(src);
    assert_eq!(cycles, ["no import cycle"]);
    assert_eq!(code, Some(0));
}

/// Connections made to a unix socket that is not an engine, counted after
/// `args` ran with it as `DOCKER_HOST`.
fn engine_connections(args: &[&str]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("engine.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    let run = doctor()
        .args(args)
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .env_remove("DOCKER_CONTEXT")
        .output()
        .unwrap();
    assert!(
        run.status.code().is_some(),
        "{args:?} ended by a signal: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    listener.incoming().take_while(Result::is_ok).count()
}

#[test]
fn commands_that_need_no_deployment_never_reach_the_engine() {
    for args in [
        &["checks", "list"][..],
        &["checks", "list", "--format", "json"],
        &["completions", "bash"],
        &["man"],
        &["--help"],
        &["diagnose", "--help"],
        &["--version"],
    ] {
        assert_eq!(engine_connections(args), 0, "{args:?} reached the engine");
    }
    // The same socket does see a command that needs the engine.
    let diagnose = [
        "diagnose",
        "--only",
        "docker.engine",
        "--probe-timeout",
        "1s",
        "--deadline",
        "3s",
    ];
    assert!(
        engine_connections(&diagnose) > 0,
        "the socket counts connections"
    );
}
