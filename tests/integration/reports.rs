//! Several reports from one run (issue 10): `--report FORMAT=PATH` writes each
//! machine report, valid by its own tools (the JSON Schema in schemas/, a JUnit
//! parse, `promtool check metrics`, the TAP plan), while the human summary goes
//! to stdout; bad `--report` values are one-line usage errors.

use crate::support::*;

#[test]
fn one_run_writes_four_valid_reports_and_prints_the_summary() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let report = |format: &str, name: &str| format!("{format}={}", path(name).display());
    let run = run(doctor().args([
        "diagnose",
        "--report",
        &report("json", "a.json"),
        "--report",
        &report("junit", "b.xml"),
        "--report",
        &report("prometheus", "c.prom"),
        "--report",
        &report("tap", "d.tap"),
    ]));
    assert_eq!(run.code, 0, "the healthy stack exits 0: {}", run.stderr);
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(
        last == "No issues found." || last.ends_with("details: -v, --format json"),
        "the human verdict on stdout: {}",
        run.stdout
    );

    let validated = sh(&format!(
        "python3 -c 'import json, sys, jsonschema; \
         jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); \
         print(\"valid\")' {} {}",
        path("a.json").display(),
        repo().join("schemas/report.schema.json").display()
    ));
    assert_eq!(validated.trim(), "valid");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("a.json")).unwrap()).unwrap();
    let total = json["summary"]["total"].as_u64().unwrap();
    assert_eq!(json["engine"]["endpoint"], "unix:///var/run/docker.sock");

    let cases = sh(&format!(
        "python3 -c 'import sys, xml.etree.ElementTree as ET; \
         print(len(ET.parse(sys.argv[1]).getroot().findall(\".//testcase\")))' {}",
        path("b.xml").display()
    ));
    assert_eq!(cases.trim().parse::<u64>().unwrap(), total);

    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let checked = sh(&format!(
        "{promtool} check metrics < {} 2>&1 && echo ok",
        path("c.prom").display()
    ));
    assert!(checked.trim_end().ends_with("ok"), "{checked}");

    let tap = std::fs::read_to_string(path("d.tap")).unwrap();
    let mut lines = tap.lines();
    assert_eq!(lines.next(), Some("TAP version 14"));
    assert_eq!(lines.next(), Some(format!("1..{total}").as_str()));
    let points = tap
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("not ok "))
        .count() as u64;
    assert_eq!(points, total);
}

#[test]
fn nagios_format_exits_with_the_plugin_codes() {
    let _stack = stack_shared();
    let ok = run(doctor().args([
        "diagnose",
        "--format",
        "nagios",
        "--only",
        "docker.engine,host.disk",
    ]));
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(
        ok.stdout
            .starts_with("HELPDESK OK - 2 checks passed | checks=2 "),
        "{}",
        ok.stdout
    );
    let critical = run(doctor()
        .env("DOCKER_HOST", NO_ENGINE)
        .args(["diagnose", "--format", "nagios", "--only", "docker.*"]));
    assert_eq!(critical.code, 2, "{}", critical.stdout);
    assert!(
        critical.stdout.starts_with("HELPDESK CRITICAL - "),
        "{}",
        critical.stdout
    );
}

#[test]
fn bad_report_values_are_one_line_usage_errors() {
    for value in ["json", "yaml=x.yaml", "json="] {
        let run = run(doctor().args(["diagnose", "--report", value]));
        assert_eq!(run.code, 2, "--report {value}: {}", run.stderr);
        let error_lines = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("helpdesk-doctor: "))
            .count();
        assert_eq!(error_lines, 1, "{}", run.stderr);
    }
}
