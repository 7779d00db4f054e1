//! What a hostile deployment sends cannot stop the doctor: a health server
//! answering 200k dependency names, a 100,000-deep answer, an endless body or a
//! 1 GB one leaves `diagnose --deadline 5s` ending within 6 s under 60 MB; a
//! queue of 10,000 port checks is no false FAIL; escape sequences planted in a
//! health check's output, a dependency's name and a JSON log field never reach
//! the terminal (the bytes the doctor wrote to a real pty, read by `script`).

use crate::support::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// OSC 0 (window title), OSC 52 (clipboard write), CSI 2J (clear screen).
const ESCAPES: &str = r"\u001b]0;pwned\u0007\u001b]52;c;cHduZWQ=\u0007\u001b[2J";

/// Starts a hostile HTTP server on a free loopback port; each path is one
/// attack. It lives as long as the test process.
fn hostile_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                let _ = answer(stream);
            });
        }
    });
    port
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let whole = |stream: &mut TcpStream, body: String| {
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
    };
    match path.as_str() {
        "/many" => {
            let names: Vec<String> = (0..200_000).map(|i| format!("\"dep{i}\":\"up\"")).collect();
            whole(
                &mut stream,
                format!("{{\"dependencies\":{{{}}}}}", names.join(",")),
            )
        }
        // Within the size limit: 100k names, each down.
        "/crowded" => {
            let names: Vec<String> = (0..100_000).map(|i| format!("\"{i:x}\":0")).collect();
            whole(
                &mut stream,
                format!("{{\"dependencies\":{{{}}}}}", names.join(",")),
            )
        }
        "/deep" => whole(&mut stream, "[".repeat(100_000) + &"]".repeat(100_000)),
        "/escape" => whole(
            &mut stream,
            format!("{{\"dependencies\":{{\"db{ESCAPES}\":\"down{ESCAPES}\"}}}}"),
        ),
        "/endless" => {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                  Transfer-Encoding: chunked\r\n\r\n",
            )?;
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "[".repeat(64 * 1024));
            loop {
                stream.write_all(chunk.as_bytes())?;
            }
        }
        "/huge" => {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                  Content-Length: 1000000000\r\n\r\n",
            )?;
            let block = vec![b' '; 1 << 20];
            for _ in 0..1000 {
                stream.write_all(&block)?;
            }
            Ok(())
        }
        _ => whole(&mut stream, "{\"status\":\"up\"}".into()),
    }
}

/// A checks file with one `http_health` check per path of the hostile server.
fn health_checks(dir: &Path, port: u16, paths: &[&str]) {
    let text: String = paths
        .iter()
        .map(|path| {
            format!(
                "[[check]]\nid = \"hostile.{path}\"\ntitle = \"hostile {path}\"\nhint = \"h\"\n\
                 probe = {{ kind = \"http_health\", url = \"http://127.0.0.1:{port}/{path}\" }}\n\n"
            )
        })
        .collect();
    temp_file(dir, "hostile.toml", &text);
}

/// Waits for `child` (killing it after `patience`): how long it ran and its
/// peak resident memory in bytes. The peak is the doctor's own `VmHWM`, read
/// every 5 ms while it runs: wait4's `ru_maxrss` also counts the test
/// process's memory the child saw between fork and exec (71 MB in the full
/// suite for a 30 MB doctor).
fn wait_measured(
    mut child: std::process::Child,
    started: Instant,
    patience: Duration,
) -> (Duration, u64, i32) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(hwm) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| high_water_mark(&status))
        {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait for the doctor") {
            return (started.elapsed(), peak, status.code().unwrap_or(-1));
        }
        if started.elapsed() > patience {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `VmHWM:   30123 kB` of a /proc status file, in bytes.
fn high_water_mark(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn a_hostile_health_server_cannot_outlive_the_deadline_or_fill_memory() {
    let _stack = stack_shared();
    let port = hostile_server();
    let dir = tempfile::tempdir().unwrap();
    let paths = ["many", "crowded", "deep", "endless", "huge"];
    health_checks(dir.path(), port, &paths);
    let report = dir.path().join("report.json");
    let started = Instant::now();
    let child = doctor()
        .args([
            "diagnose",
            "--deadline",
            "5s",
            "--format",
            "json",
            "--checks-dir",
        ])
        .arg(dir.path())
        .stdout(std::fs::File::create(&report).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run the doctor");
    let (took, rss, code) = wait_measured(child, started, Duration::from_secs(30));
    assert!(
        took < Duration::from_secs(6),
        "diagnose --deadline 5s took {took:?}"
    );
    assert!(rss <= 60 << 20, "peak RSS {} MB", rss >> 20);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(code, 1, "{report:#}");
    let message = |path: &str| {
        let result = result(&report, &format!("hostile.{path}"));
        assert_eq!(result["status"], "fail", "{path}: {result:#}");
        result["message"].as_str().unwrap().to_string()
    };
    for path in ["many", "endless", "huge"] {
        assert!(
            message(path).contains("answer larger than 1.00 MiB, cut"),
            "{path}: {}",
            message(path)
        );
    }
    assert!(
        message("deep").contains("nested deeper than 64 levels"),
        "{}",
        message("deep")
    );
    let crowded = message("crowded");
    assert!(
        crowded.contains("and 99990 more")
            || crowded.contains("only the first 256 dependencies read"),
        "{crowded}"
    );
    eprintln!(
        "diagnose against the hostile server: {took:?}, peak RSS {} MB",
        rss >> 20
    );
}

#[test]
fn ten_thousand_port_checks_on_an_open_port_are_no_false_fail() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    // The auth service's published port, through docker-proxy as in the report;
    // 1,000 checks a file (a catalog file is at most 1 MiB).
    for file in 0..10 {
        let text: String = (0..1_000)
            .map(|i| {
                format!(
                    "[[check]]\nid = \"flood.{file}.{i}\"\ntitle = \"port\"\nhint = \"h\"\n\
                     probe = {{ kind = \"tcp\", port = 3001, owner = \"helpdesk-auth-service\" }}\n\n"
                )
            })
            .collect();
        temp_file(dir.path(), &format!("flood{file}.toml"), &text);
    }
    let run = run(doctor()
        .args([
            "diagnose",
            "--no-history",
            "--format",
            "json",
            "--only",
            "flood.*",
            "--checks-dir",
        ])
        .arg(dir.path()));
    let report = run.json();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 10_000);
    let passed = results.iter().filter(|r| r["status"] == "pass").count();
    let not_run: Vec<&serde_json::Value> =
        results.iter().filter(|r| r["status"] != "pass").collect();
    for result in &not_run {
        assert_eq!(result["status"], "error", "{result:#}");
        let message = result["message"].as_str().unwrap();
        assert!(
            message.starts_with("not run: connection limit")
                || message.starts_with("cut off by --deadline"),
            "{result:#}"
        );
    }
    assert!(passed > 0, "{}", run.stderr);
    eprintln!(
        "10,000 port checks: {passed} passed, {} not run, in {:?}",
        not_run.len(),
        run.took
    );
}

/// What the doctor wrote to a real terminal: run in a tmux pane of its own
/// server (clipboard writes by applications allowed) under `script`, which
/// records every byte sent to the pty. Returns those bytes, the screen, the
/// pane's title and tmux's paste buffers.
struct Tty {
    bytes: String,
    screen: String,
    title: String,
    buffers: String,
}

fn in_tty(args: &str) -> Tty {
    let dir = tempfile::tempdir().unwrap();
    let socket = format!("hostile-{}-{}", std::process::id(), args.len());
    let config = temp_file(dir.path(), "tmux.conf", "set -g set-clipboard on\n");
    let typescript = dir.path().join("typescript");
    let doctor = env!("CARGO_BIN_EXE_helpdesk-doctor");
    let inner = format!(
        "env -u NO_COLOR TERM=xterm-256color HELPDESK_DOCTOR_STATE_DIR={} {doctor} {args}",
        state_dir().display()
    );
    let command = format!(
        "script -q -e -c {} {}; echo EXIT=$?; sleep 60",
        quote(&inner),
        typescript.display()
    );
    sh(&format!(
        "tmux -L {socket} -f {} new-session -d -x 200 -y 50 {}",
        config.display(),
        quote(&command)
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    let screen = loop {
        let screen = sh(&format!("tmux -L {socket} capture-pane -p -J -S - -E -"));
        if screen.contains("EXIT=") {
            break screen;
        }
        assert!(
            Instant::now() < deadline,
            "the doctor never ended: {screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let title = sh(&format!(
        "tmux -L {socket} display-message -p '#{{pane_title}}'"
    ));
    let buffers = sh(&format!(
        "tmux -L {socket} list-buffers 2>/dev/null || true"
    ));
    sh(&format!("tmux -L {socket} kill-server"));
    let bytes = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    Tty {
        bytes,
        screen,
        title,
        buffers,
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Nothing but the doctor's own colours (SGR: `ESC [ … m`) and text.
fn assert_no_escapes(tty: &Tty, shown: &str) {
    let colours = regex::Regex::new(r"\x1b\[[0-9;]*m").unwrap();
    let rest = colours.replace_all(&tty.bytes, "");
    assert!(
        !rest
            .chars()
            .any(|c| c == '\x1b' || c == '\x07' || ('\u{80}'..='\u{9f}').contains(&c)),
        "an escape reached the terminal: {rest:?}"
    );
    assert!(!tty.title.contains("pwned"), "title set: {}", tty.title);
    assert!(
        tty.buffers.trim().is_empty(),
        "clipboard written: {}",
        tty.buffers
    );
    assert!(
        tty.screen.contains(shown),
        "{shown:?} not on screen: {}",
        tty.screen
    );
}

/// A container outside the stack whose health check prints escape sequences
/// and fails; removed on drop.
struct UnhealthyContainer(String);

impl UnhealthyContainer {
    fn start() -> UnhealthyContainer {
        let name = format!("helpdesk-hostile-health-{}", std::process::id());
        let container = UnhealthyContainer(name.clone());
        let printed = ESCAPES
            .replace(r"\u001b", r"\033")
            .replace(r"\u0007", r"\007");
        let status = std::process::Command::new("docker")
            .args(["run", "-d", "--name", &name])
            .args([
                "--health-cmd",
                &format!("printf '{printed}failing'; exit 1"),
            ])
            .args(["--health-interval", "1s", "--health-retries", "1"])
            .args(["--entrypoint", "sleep", "helpdesk-redis:local", "600"])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        while health_of(&name).trim() != "unhealthy" {
            assert!(Instant::now() < deadline, "{name} never turned unhealthy");
            std::thread::sleep(Duration::from_millis(200));
        }
        container
    }
}

impl Drop for UnhealthyContainer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", "-v", &self.0])
            .output();
    }
}

#[test]
fn escapes_in_health_output_and_dependency_names_never_reach_the_terminal() {
    let _stack = stack_shared();
    let container = UnhealthyContainer::start();
    let port = hostile_server();
    let dir = tempfile::tempdir().unwrap();
    health_checks(dir.path(), port, &["escape"]);
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("hostile.toml"))
        .unwrap()
        .write_all(
            format!(
                "[[check]]\nid = \"hostile.health\"\ntitle = \"hostile health\"\nhint = \"h\"\n\
                 probe = {{ kind = \"container\", container = \"{}\", compose_service = \"hostile\" }}\n",
                container.0
            )
            .as_bytes(),
        )
        .unwrap();
    for verbose in ["", "-v"] {
        let tty = in_tty(&format!(
            "diagnose {verbose} --only 'hostile.*' --checks-dir {}",
            dir.path().display()
        ));
        assert_no_escapes(&tty, "failing");
        assert_no_escapes(&tty, "dependency down: db");
        assert!(tty.screen.contains("EXIT=1"), "{}", tty.screen);
    }
}

#[test]
fn escapes_in_json_log_fields_never_reach_the_terminal() {
    let _stack = stack_shared();
    let project = format!("hostilelog{}", std::process::id());
    let name = format!("{project}-a");
    let _cleanup = Restore(|| {
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", "-v", &name])
            .output();
    });
    let line =
        format!(r#"{{"level":"error","message":"{ESCAPES}planted log line","user":"{ESCAPES}x"}}"#);
    let status = std::process::Command::new("docker")
        .args(["run", "-d", "--name", &name])
        .args(["--label", &format!("com.docker.compose.project={project}")])
        .args(["--label", "com.docker.compose.service=a"])
        .args(["--entrypoint", "bash", "helpdesk-service:local", "-c"])
        .arg(format!("echo '{line}'"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    sh(&format!("docker wait {name} >/dev/null"));
    let tty = in_tty(&format!("--project {project} logs"));
    assert_no_escapes(&tty, "planted log line");
}

#[test]
fn the_body_limit_is_the_configs_and_bounded() {
    let port = hostile_server();
    let dir = tempfile::tempdir().unwrap();
    health_checks(dir.path(), port, &["small", "crowded"]);
    // Not in the checks folder: every *.toml there is a catalog.
    let configs = tempfile::tempdir().unwrap();
    let config = temp_file(
        configs.path(),
        "config.toml",
        "[limits]\nhttp_body_bytes = 1024\n",
    );
    let (run, report) = diagnose_json(&[
        "--config",
        &config.display().to_string(),
        "--only",
        "hostile.*",
        "--checks-dir",
        &dir.path().display().to_string(),
    ]);
    assert_eq!(
        status_of(&report, "hostile.small"),
        "pass",
        "{}",
        run.stderr
    );
    assert_eq!(
        result(&report, "hostile.crowded")["message"],
        "HTTP 200: answer larger than 1.00 KiB, cut"
    );
    for bad in ["0", "67108865", "-1"] {
        let config = temp_file(
            configs.path(),
            "bad.toml",
            &format!("[limits]\nhttp_body_bytes = {bad}\n"),
        );
        let refused = run_doctor_with_config(&config);
        assert_eq!(refused.code, 2, "{bad}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("http_body_bytes") || refused.stderr.contains("bad.toml:2:"),
            "{}",
            refused.stderr
        );
    }
}

fn run_doctor_with_config(config: &Path) -> Run {
    run(doctor()
        .arg("--config")
        .arg(config)
        .args(["diagnose", "--only", "host.*"]))
}
