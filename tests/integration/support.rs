//! What the tests share: running the doctor, the stack lock, and clients for the
//! stack's Docker engine, PostgreSQL and Redis.

#![allow(dead_code)]

use bollard::Docker;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

pub const CONTAINERS: [&str; 9] = [
    "helpdesk-auth-service",
    "helpdesk-auth-db",
    "helpdesk-auth-redis",
    "helpdesk-user-service",
    "helpdesk-user-db",
    "helpdesk-user-redis",
    "helpdesk-ticket-service",
    "helpdesk-ticket-db",
    "helpdesk-ticket-redis",
];

static STACK: RwLock<()> = RwLock::new(());

/// For tests that only read the stack: many at once, never during a fault.
pub fn stack_shared() -> RwLockReadGuard<'static, ()> {
    STACK.read().unwrap_or_else(|e| e.into_inner())
}

/// For tests that break the stack: alone. They restore it before releasing.
pub fn stack_exclusive() -> RwLockWriteGuard<'static, ()> {
    STACK.write().unwrap_or_else(|e| e.into_inner())
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The doctor binary with a quiet, reproducible environment.
pub fn doctor() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_helpdesk-doctor"));
    command
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .env_remove("HELPDESK_REDIS_PASSWORD")
        .env_remove("HELPDESK_DB_PASSWORD")
        .env("HELPDESK_DOCTOR_STATE_DIR", state_dir())
        .env("HELPDESK_DOCTOR_BACKUP_DIR", state_dir().join("backups"))
        .env("XDG_CONFIG_HOME", state_dir().join("config"))
        .env_remove("HELPDESK_DOCTOR_CONFIG")
        .stdin(Stdio::null());
    command
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

pub fn run(command: &mut Command) -> Run {
    let started = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run helpdesk-doctor");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// `diagnose --format json` with extra arguments.
pub fn diagnose_json(args: &[&str]) -> (Run, serde_json::Value) {
    let run = run(doctor().args(["diagnose", "--format", "json"]).args(args));
    let json = run.json();
    (run, json)
}

/// The result of check `id` in a JSON report.
pub fn result<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no result {id} in {report:#}"))
}

pub fn status_of(report: &serde_json::Value, id: &str) -> String {
    result(report, id)["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Asserts `report` is valid by the report's JSON Schema (python3's jsonschema).
pub fn valid_by_the_schema(report: &serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(dir.path(), "report.json", &report.to_string());
    let validated = sh(&format!(
        "python3 -c 'import json, sys, jsonschema; \
         jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); \
         print(\"valid\")' {} {}",
        path.display(),
        repo().join("schemas/report.schema.json").display()
    ));
    assert_eq!(validated.trim(), "valid");
}

/// An HTTP client for the tests (rustls needs its crypto provider first).
pub fn http() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

pub fn docker() -> Docker {
    Docker::connect_with_defaults().expect("docker client")
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs a shell command (for docker/compose plumbing in tests); panics with its output on failure.
pub fn sh(script: &str) -> String {
    let output = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(repo())
        .output()
        .expect("bash");
    assert!(
        output.status.success(),
        "`{script}` failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// docker-compose on the bundled stack.
pub fn compose(args: &str) -> String {
    sh(&format!(
        "docker-compose -p helpdesk-microservices -f tests/stack/docker-compose.services.yml {args} 2>&1"
    ))
}

pub fn health_of(container: &str) -> String {
    sh(&format!("docker inspect -f '{{{{if .State.Health}}}}{{{{.State.Health.Status}}}}{{{{else}}}}{{{{.State.Status}}}}{{{{end}}}}' {container} 2>/dev/null || echo missing"))
        .trim()
        .to_string()
}

/// Waits until every container of the stack is healthy (panics after 90 s).
pub fn wait_stack_healthy() {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let sick: Vec<String> = CONTAINERS
            .iter()
            .map(|c| (c, health_of(c)))
            .filter(|(_, h)| h != "healthy")
            .map(|(c, h)| format!("{c}={h}"))
            .collect();
        if sick.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "stack not healthy again: {sick:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Runs `restore` when dropped, even if the test panicked, then waits for health.
pub struct Restore<F: FnMut()>(pub F);

impl<F: FnMut()> Drop for Restore<F> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            (self.0)();
            wait_stack_healthy();
            return;
        }
        // The test failed already: a second panic here would abort the whole
        // run (and hide every other test's result); say it and go on.
        let restored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (self.0)();
            wait_stack_healthy();
        }));
        if restored.is_err() {
            eprintln!("(the failed test's restore failed too; the stack may be left changed)");
        }
    }
}

/// psql inside a database container (trusted local socket, no password in argv).
pub fn psql(container: &str, user: &str, db: &str, sql: &str) -> String {
    let output = Command::new("docker")
        .args([
            "exec",
            "-i",
            container,
            "psql",
            "-X",
            "-qAt",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            user,
            "-d",
            db,
            "-c",
            sql,
        ])
        .output()
        .expect("docker exec psql");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// An authenticated Redis connection to a service's instance on its published port.
pub fn redis(port: u16, password: &str) -> redis::Connection {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("redis url");
    let mut connection = client
        .get_connection_with_timeout(Duration::from_secs(3))
        .expect("redis connect");
    redis::cmd("AUTH")
        .arg(password)
        .query::<()>(&mut connection)
        .expect("redis auth");
    connection
}

pub const REDIS_PASSWORD: &str = "redispass";

/// An engine address nothing answers on.
pub const NO_ENGINE: &str = "tcp://127.0.0.1:1";

/// Writes into `dir` a catalog whose `hang.http` hangs until its probe timeout
/// (an endpoint that accepts and never answers) and whose `hang.after` needs
/// it; the endpoint hangs as long as the returned listener lives.
pub fn hanging_catalog(dir: &Path) -> std::net::TcpListener {
    // Connections complete in the backlog; nothing ever reads or answers them.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = silent.local_addr().expect("its port").port();
    let text = format!(
        "[[check]]\nid = \"hang.http\"\ntitle = \"hangs\"\nhint = \"never shown\"\n\
         probe = {{ kind = \"http_health\", url = \"http://127.0.0.1:{port}/\" }}\n\n\
         [[check]]\nid = \"hang.after\"\ntitle = \"needs the hanging one\"\nhint = \"h\"\n\
         needs = [\"hang.http\"]\nprobe = {{ kind = \"disk\", warn_gb = 0.0, fail_gb = 0.0 }}\n"
    );
    temp_file(dir, "hang.toml", &text);
    silent
}

/// A file in a fresh temporary directory.
pub fn temp_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

/// The doctor's state folder for this test process (signing key, interrupted-restore record).
pub fn state_dir() -> PathBuf {
    // Under target/ (cargo's test temp folder): nothing is left in /tmp.
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("helpdesk-doctor-state-{}", std::process::id()))
}

/// The doctor's fixed runbook lock (the tests run as root, as CI does).
pub fn runbook_lock_path() -> PathBuf {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the integration tests run as root (the lock is /run/helpdesk-doctor/lock)"
    );
    PathBuf::from("/run/helpdesk-doctor/lock")
}

/// Holds the doctor's runbook lock as another doctor would, with `pid` written
/// in it. Only under `stack_exclusive`: every runbook is refused meanwhile.
pub fn hold_runbook_lock(pid: &str) -> std::fs::File {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let path = runbook_lock_path();
    let dir = path.parent().unwrap();
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(dir)
        .unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let holder = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("lock file");
    holder.try_lock().expect("lock free");
    std::fs::write(&path, pid).expect("write pid");
    holder
}

/// The engine's events matching some `docker events --filter`s, from now on.
pub struct Events {
    watcher: std::process::Child,
    times: std::sync::mpsc::Receiver<String>,
}

impl Events {
    const PATIENCE: Duration = Duration::from_secs(120);

    pub fn watch(filters: &[&str]) -> Events {
        let mut command = Command::new("docker");
        command.args(["events", "--format", "{{.TimeNano}}"]);
        for filter in filters {
            command.args(["--filter", filter]);
        }
        let mut watcher = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker events");
        let lines = std::io::BufReader::new(watcher.stdout.take().unwrap());
        let (sender, times) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(lines).map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::sleep(Duration::from_millis(300)); // subscribed
        Events { watcher, times }
    }

    /// When the next one happened, by the engine's clock (waits for it).
    pub fn next(&mut self) -> std::time::SystemTime {
        let line = self
            .times
            .recv_timeout(Self::PATIENCE)
            .expect("the awaited engine event never came");
        let nanos: u64 = line.trim().parse().expect("an event's time");
        std::time::UNIX_EPOCH + Duration::from_nanos(nanos)
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let _ = self.watcher.kill();
        let _ = self.watcher.wait();
    }
}

/// How long after the start of `act` the engine's first event matching
/// `filters` happened.
pub fn time_to_first_event(filters: &[&str], act: impl FnOnce()) -> Duration {
    let mut events = Events::watch(filters);
    let started = std::time::SystemTime::now();
    act();
    events
        .next()
        .duration_since(started)
        .expect("after the start")
}

/// Ctrl-C to `child` (SIGINT), then its end.
pub fn interrupt(child: std::process::Child) -> Output {
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    child
        .wait_with_output()
        .expect("the interrupted child's end")
}

/// Runs the doctor, killing it if it takes longer than `limit` (a hang fails the test).
pub fn run_within(command: &mut Command, limit: Duration) -> Run {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().ok();
            panic!("{command:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: started.elapsed(),
    }
}
