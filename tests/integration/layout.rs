//! Issue 20's layout rules, read from the source: no import cycle between
//! modules but the one left (the config and the discovered deployment are
//! still one `Profile`), found by `tests/module_cycles.py`, itself shown to
//! find a cycle; and the commands that need no deployment never reach the
//! engine.

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
fn no_import_cycle_but_the_config_and_the_discovered_deployment() {
    let (cycles, code) = cycles_in(&repo().join("src"));
    assert_eq!(cycles, ["cycle in src: deployment profile"]);
    assert_eq!(code, Some(1));
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
