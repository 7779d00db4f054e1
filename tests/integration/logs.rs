//! `logs`: two writer containers of a throwaway compose project (labels as
//! compose sets them) on the real engine — merged in timestamp order,
//! filtered, masked; `--follow` across a restart, ended by SIGINT.

use crate::support::*;
use std::io::Read;
use std::time::{Duration, Instant};

const CANARY: &str = "canary-l0g-5ecr3t-41c2";

/// Containers of a throwaway project, removed when dropped.
struct Writers {
    project: String,
    names: Vec<String>,
}

impl Writers {
    /// One container per (service, script), labelled as compose labels them.
    fn start(project: &str, scripts: &[(&str, &str)]) -> Writers {
        let mut writers = Writers {
            project: format!("{project}{}", std::process::id()),
            names: Vec::new(),
        };
        for (service, script) in scripts {
            let project = &writers.project;
            let name = format!("{project}-{service}");
            // Removed on drop even if `docker run` fails (it may leave it created).
            writers.names.push(name.clone());
            sh(&format!(
                "docker run -d --name {name} --label com.docker.compose.project={project} \
                 --label com.docker.compose.service={service} -e API_TOKEN={CANARY} \
                 --entrypoint bash helpdesk-service:local -c '{script}' >/dev/null"
            ));
        }
        writers
    }

    fn wait_exited(&self) {
        sh(&format!("docker wait {} >/dev/null", self.names.join(" ")));
    }

    fn logs(&self, args: &[&str]) -> Run {
        run(doctor()
            .args(["--project", &self.project, "logs"])
            .args(args))
    }
}

impl Drop for Writers {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", "-v"])
            .args(&self.names)
            .output();
    }
}

/// Writes `name seq=N t=<ns>` on a shared clock — line N of `a` at start +
/// N × 40 ms, of `b` 20 ms later — so the two interleave however late either
/// container started. Line 5 of `a` is an error, line 7 echoes its secret.
fn interleaved_writers() -> Writers {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        + 3_000_000_000;
    let writer = |name: &str, offset_ns: u128| {
        format!(
            "for i in $(seq 0 19); do \
               at=$(({start} + {offset_ns} + i * 40000000)); \
               while [ $(date +%s%N) -lt $at ]; do sleep 0.005; done; \
               if [ $i = 5 ]; then echo \"ERROR: {name} failed seq=$i t=$(date +%s%N)\"; \
               elif [ $i = 7 ]; then echo \"{name} token $API_TOKEN seq=$i t=$(date +%s%N)\"; \
               else echo \"{name} seq=$i t=$(date +%s%N)\"; fi; done"
        )
    };
    Writers::start(
        "logtest",
        &[("a", &writer("a", 0)), ("b", &writer("b", 20_000_000))],
    )
}

fn writer_times(stdout: &str) -> Vec<(String, u128)> {
    stdout
        .lines()
        .filter_map(|line| {
            let (prefix, text) = line.split_once(" | ")?;
            let t = text.rsplit_once("t=")?.1.parse().ok()?;
            Some((prefix.trim().to_string(), t))
        })
        .collect()
}

#[test]
fn two_writers_merge_in_timestamp_order_masked_and_filtered() {
    let writers = interleaved_writers();
    writers.wait_exited();

    let all = writers.logs(&[]);
    assert_eq!(all.code, 0, "{}{}", all.stdout, all.stderr);
    let times = writer_times(&all.stdout);
    assert_eq!(times.len(), 40, "{}", all.stdout);
    // The order promised is the engine's timestamps' (`-t` shows them, RFC 3339
    // with nanoseconds, fixed width): the writers' own `date` values may invert
    // by a millisecond between two lines written at once.
    let stamped = writers.logs(&["-t"]);
    let engine_times: Vec<&str> = stamped
        .stdout
        .lines()
        .filter_map(|line| line.split_once(" | ")?.1.split(' ').next())
        .collect();
    assert_eq!(engine_times.len(), 40, "{}", stamped.stdout);
    assert!(
        engine_times.windows(2).all(|w| w[0] <= w[1]),
        "not in the engine's timestamp order:\n{}",
        stamped.stdout
    );
    // --since takes a UTC time too, as `docker logs` does (whole seconds): the
    // lines of the last line's second on, and none from a later time.
    let second = &engine_times[39][..19];
    let from_then = writers.logs(&["--since", &format!("{second}Z")]);
    assert_eq!(from_then.code, 0, "{}", from_then.stderr);
    assert_eq!(
        writer_times(&from_then.stdout).len(),
        engine_times.iter().filter(|t| &t[..19] >= second).count(),
        "{}",
        from_then.stdout
    );
    let later = writers.logs(&["--since", "2037-01-01T00:00:00Z"]);
    assert_eq!(writer_times(&later.stdout).len(), 0, "{}", later.stdout);
    let switches = times.windows(2).filter(|w| w[0].0 != w[1].0).count();
    assert!(
        switches >= 10,
        "the writers do not interleave:\n{}",
        all.stdout
    );
    assert!(
        !all.stdout.contains(CANARY),
        "the secret leaked:\n{}",
        all.stdout
    );
    assert!(all.stdout.contains("a token **** seq=7"), "{}", all.stdout);

    let grep = writers.logs(&["--grep", "seq=1[0-3] "]);
    let kept = writer_times(&grep.stdout);
    assert_eq!(kept.len(), 8, "{}", grep.stdout);
    let probe = writers.logs(&["--grep", CANARY]);
    assert_eq!(
        writer_times(&probe.stdout).len(),
        0,
        "grep matched a masked secret"
    );

    let errors = writers.logs(&["--level", "error"]);
    let lines: Vec<&str> = errors.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", errors.stdout);
    assert!(
        lines.iter().all(|l| l.contains("ERROR:")),
        "{}",
        errors.stdout
    );

    let only_b = writers.logs(&["b"]);
    assert!(
        writer_times(&only_b.stdout)
            .iter()
            .all(|(p, _)| p.ends_with("-b"))
    );
    assert_eq!(writer_times(&only_b.stdout).len(), 20);
}

#[test]
fn follow_reattaches_after_a_restart_and_stops_on_sigint() {
    let writers = Writers::start(
        "logfollow",
        &[(
            "ticker",
            "echo boot; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done",
        )],
    );
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut child = doctor()
        .args(["--project", &writers.project, "logs", "--follow"])
        .stdout(output.reopen().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let read = || {
        let mut text = String::new();
        output.reopen().unwrap().read_to_string(&mut text).unwrap();
        text
    };
    let until = |what: &str, done: &dyn Fn(&str) -> bool| {
        let started = Instant::now();
        while !done(&read()) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{what}: not seen in 20 s:\n{}",
                read()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    until("ticks", &|t| t.contains("tick 3"));
    sh(&format!(
        "docker restart -t 0 {} >/dev/null",
        writers.names[0]
    ));
    until("the second boot and its ticks", &|t| {
        t.matches("| boot").count() == 2 && t.rsplit("| boot").next().unwrap().contains("tick 3")
    });
    assert!(
        read().contains("(restarted: following its logs again)"),
        "{}",
        read()
    );

    let pid = child.id().to_string();
    sh(&format!("kill -INT {pid}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "logs --follow ignored SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "Ctrl-C is how --follow ends");
}

#[test]
fn unknown_selection_is_a_usage_error_naming_the_choices() {
    let _stack = stack_shared();
    let run = run(doctor().args(["logs", "nope"]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("\"nope\" names no container"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("helpdesk-auth-db"), "{}", run.stderr);
}

/// A JSON line whose time no clock can show (`1e15` ms: year 33658) once
/// panicked the container's reader: its lines vanished and `logs` exited 0.
#[test]
fn a_json_time_out_of_range_keeps_every_line_of_its_container() {
    let writers = Writers::start(
        "logtime",
        &[
            (
                "far",
                r#"echo "{\"time\": 1e15, \"level\": \"error\", \"msg\": \"far future\"}"; echo "plain after it""#,
            ),
            ("near", "echo near line"),
        ],
    );
    writers.wait_exited();
    let all = writers.logs(&[]);
    assert_eq!(all.code, 0, "{}{}", all.stdout, all.stderr);
    for line in ["ERROR far future", "plain after it", "near line"] {
        assert!(
            all.stdout.contains(line),
            "{line:?} missing:\n{}{}",
            all.stdout,
            all.stderr
        );
    }
    assert!(!all.stderr.contains("panicked"), "{}", all.stderr);
}
