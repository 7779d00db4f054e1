//! Log levels read from each line's shape on the real engine: a throwaway
//! container of a bundled image, labelled as a compose project's
//! auth-service, writes logfmt, plain text (Python logging, gunicorn,
//! PostgreSQL-style, Node's `Error:`) and JSON (pino) lines; the logs check
//! counts as errors exactly the lines whose level is error or worse (not an
//! info line that mentions an error), and `logs --level` keeps the same.

use crate::support::*;

/// What the container writes: (line, its level as its logger meant it, a
/// phrase `logs` shows of it).
const LINES: [(&str, &str, &str); 12] = [
    (
        r#"time="2026-01-01T12:00:00Z" level=info msg="error count reset to 0""#,
        "info",
        "error count reset",
    ),
    (
        r#"time="2026-01-01T12:00:01Z" level=error msg="query failed" err="connection refused""#,
        "error",
        "query failed",
    ),
    (
        r#"ts=2026-01-01T12:00:02Z caller=db.go:12 level=warn msg="pool exhausted""#,
        "warn",
        "pool exhausted",
    ),
    (
        "2026-01-01 12:00:03,123 - app - ERROR - payment gateway unreachable",
        "error",
        "payment gateway unreachable",
    ),
    (
        "ERROR:root:connection to db failed",
        "error",
        "connection to db failed",
    ),
    ("WARNING:werkzeug:slow request", "warn", "slow request"),
    (
        "[2026-01-01 12:00:04 +0000] [7] [INFO] Booting worker with an error handler",
        "info",
        "Booting worker",
    ),
    (
        "INFO:root:request timeout set to 30s",
        "info",
        "request timeout set",
    ),
    (
        "2026-01-01 12:00:05.000 UTC [7] FATAL:  the database system is shutting down",
        "fatal",
        "shutting down",
    ),
    (
        "Error: connect ECONNREFUSED 172.18.0.3:5432",
        "error",
        "connect ECONNREFUSED",
    ),
    (
        r#"{"level":30,"time":1767268800000,"msg":"no error here"}"#,
        "info",
        "no error here",
    ),
    (
        r#"{"level":50,"time":1767268800000,"msg":"unhandled rejection"}"#,
        "error",
        "unhandled rejection",
    ),
];

/// The writer: a container of the bundled service image, labelled as
/// `auth-service` of its own compose project; removed with its volumes.
struct Writer {
    project: String,
    name: String,
}

impl Writer {
    fn start() -> Writer {
        let project = format!("loglevels{}", std::process::id());
        let writer = Writer {
            name: format!("{project}-auth-service-1"),
            project,
        };
        let script: String = LINES
            .iter()
            .map(|(line, _, _)| format!("printf '%s\\n' {};", shlex::try_quote(line).unwrap()))
            .collect();
        let started = std::process::Command::new("docker")
            .args(["run", "-d", "--name", &writer.name])
            .args([
                "--label",
                &format!("com.docker.compose.project={}", writer.project),
            ])
            .args(["--label", "com.docker.compose.service=auth-service"])
            .args(["--label", "com.docker.compose.container-number=1"])
            .args(["--entrypoint", "bash", "helpdesk-service:local", "-c"])
            .arg(format!("{script} sleep 600"))
            .output()
            .unwrap();
        assert!(
            started.status.success(),
            "{}",
            String::from_utf8_lossy(&started.stderr)
        );
        writer.wait_written();
        writer
    }

    fn wait_written(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let logs = std::process::Command::new("docker")
                .args(["logs", &self.name])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&logs.stdout).lines().count() >= LINES.len() {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} wrote nothing",
                self.name
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", "-v", &self.name])
            .output();
    }
}

/// The phrases of the lines at one of `levels`.
fn lines_at(levels: &[&str]) -> Vec<&'static str> {
    LINES
        .iter()
        .filter(|(_, level, _)| levels.contains(level))
        .map(|(_, _, said)| *said)
        .collect()
}

#[test]
fn the_logs_check_and_logs_level_read_each_lines_level_from_its_shape() {
    // A second compose project: no other test may discover "the only one" meanwhile.
    let _stack = stack_exclusive();
    let writer = Writer::start();

    let run = run(doctor().args([
        "--project",
        &writer.project,
        "diagnose",
        "--format",
        "json",
        "--only",
        "logs.auth.service",
    ]));
    let check = result(&run.json(), "logs.auth.service").clone();
    assert_eq!(check["status"], "warn", "{check:#}");
    let counts = &check["details"]["counts"];
    assert_eq!(
        counts["error"].as_u64(),
        Some(lines_at(&["error", "fatal"]).len() as u64),
        "lines at error or worse, whatever their shape: {check:#}"
    );
    assert_eq!(
        counts["timeout"], 1,
        "patterns match lines of any level: {check:#}"
    );
    assert_eq!(counts["ECONNREFUSED"], 1, "{check:#}");

    for (level, kept) in [
        ("error", lines_at(&["error", "fatal"])),
        ("warn", lines_at(&["warn", "error", "fatal"])),
    ] {
        let logs = crate::support::run(doctor().args([
            "--project",
            &writer.project,
            "logs",
            "--level",
            level,
        ]));
        assert_eq!(logs.code, 0, "{}", logs.stderr);
        let shown: Vec<&str> = logs.stdout.lines().collect();
        assert_eq!(shown.len(), kept.len(), "--level {level}: {shown:#?}");
        for said in &kept {
            assert!(
                shown.iter().any(|s| s.contains(said)),
                "--level {level} keeps {said:?}: {shown:#?}"
            );
        }
    }
}
