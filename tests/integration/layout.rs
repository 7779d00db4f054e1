//! Issue 20's layout rules, read from the source: no import cycle between
//! modules but the one left (the config and the discovered deployment are
//! still one `Profile`), found by `tests/module_cycles.py`, itself shown to
//! find a cycle.

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
