//! `serve`, the monitoring mode, as Prometheus and a browser see it: a real
//! Prometheus (Debian's, unpacked by tests/run.sh; `PROMETHEUS`) scrapes it
//! every second with docs/alerts.yml loaded, sees a stopped container and
//! fires the example alert; headless Chromium renders the status page, where a
//! `<script>` planted in a container's health output is text that never runs;
//! scrapes answer from the last run while runs go on, never start one and
//! never hang on a hung engine; SIGTERM and SIGINT end it with exit 0.

use crate::support::*;
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the test Prometheus scrapes and evaluates its rules.
const SCRAPE: Duration = Duration::from_secs(1);

/// A tool from `$VAR`, else unpacked under target/tools by tests/run.sh, else on PATH.
fn tool(var: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        return path.into();
    }
    let unpacked = repo().join("target/tools").join(name);
    if unpacked.exists() {
        unpacked
    } else {
        name.into()
    }
}

/// A running `helpdesk-doctor serve` on a free loopback port; killed when dropped.
struct Serve {
    child: Child,
    address: String,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        Serve::start_with(doctor(), args)
    }

    fn start_with(mut command: Command, args: &[&str]) -> Serve {
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (address, said) = std::sync::mpsc::channel();
        let lines = std::io::BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving http://").nth(1) {
                    let _ = address.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let address = said
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("serve never said where: {}", stderr.lock().unwrap()));
        Serve {
            child,
            address,
            stderr,
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        get(&self.address, path)
    }

    /// The first run's JSON report (waits for it).
    fn first_report(&self) -> serde_json::Value {
        let started = Instant::now();
        loop {
            let (status, body) = self.get("/report.json");
            if status == 200 {
                return serde_json::from_str(&body).expect("a JSON report");
            }
            assert_eq!(status, 503, "before the first run: {body}");
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "no run completed: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for a report that `accept`s (panics after `limit`).
    fn report_where(
        &self,
        limit: Duration,
        accept: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let started = Instant::now();
        loop {
            let report = self.first_report();
            if accept(&report) {
                return report;
            }
            assert!(
                started.elapsed() < limit,
                "no such report within {limit:?}: {report:#}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn metrics(&self) -> String {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200, "{body}");
        body
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS")
    }

    fn signal(&self, signal: i32) {
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }

    /// Its exit status, waiting at most `limit`.
    fn exit_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "serve still running after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One GET on a new connection (HTTP/1.0: a plain body, never chunked): its status and body.
fn get(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("an answer in time");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// The value of the sample `series` (name and labels as exposed) in `metrics`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a sample's value"))
}

fn runs_total(metrics: &str) -> f64 {
    ["pass", "warn", "fail", "error"]
        .iter()
        .map(|s| {
            sample(
                metrics,
                &format!("helpdesk_serve_runs_total{{status=\"{s}\"}}"),
            )
            .unwrap()
        })
        .sum()
}

/// A Prometheus server on loopback scraping `target` every second, with the
/// example alert rules; its folder (config, storage) goes when dropped.
struct Prometheus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "global:\n  scrape_interval: {s}s\n  evaluation_interval: {s}s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: helpdesk-doctor\n    static_configs:\n      - targets: ['{target}']\n",
            s = SCRAPE.as_secs(),
            rules = repo().join("docs/alerts.yml").display()
        );
        let config_file = temp_file(dir.path(), "prometheus.yml", &config);
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(tool("PROMETHEUS", "prometheus"))
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus (tests/run.sh unpacks it under target/tools)");
        let prometheus = Prometheus {
            child,
            address: format!("127.0.0.1:{port}"),
            _dir: dir,
        };
        let started = Instant::now();
        while TcpStream::connect(&prometheus.address).is_err()
            || prometheus.get("/-/ready").0 != 200
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "Prometheus never ready"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        prometheus
    }

    fn get(&self, path: &str) -> (u16, String) {
        get(&self.address, path)
    }

    /// An instant query's result vector.
    fn query(&self, promql: &str) -> Vec<serde_json::Value> {
        let encoded =
            percent_encoding::utf8_percent_encode(promql, percent_encoding::NON_ALPHANUMERIC);
        let (status, body) = self.get(&format!("/api/v1/query?query={encoded}"));
        assert_eq!(status, 200, "{promql}: {body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The value of the one series `promql` selects, if any.
    fn value(&self, promql: &str) -> Option<f64> {
        let result = self.query(promql);
        result.first()?["value"][1].as_str()?.parse().ok()
    }

    /// The alerts Prometheus holds, pending or firing.
    fn alerts(&self) -> Vec<serde_json::Value> {
        let (status, body) = self.get("/api/v1/alerts");
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        answer["data"]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `found` every 100 ms until it gives something (panics after `limit`).
fn poll<T>(limit: Duration, what: &str, mut found: impl FnMut() -> Option<T>) -> (T, Duration) {
    let started = Instant::now();
    loop {
        if let Some(value) = found() {
            return (value, started.elapsed());
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_example_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let promtool = tool("PROMTOOL", "promtool");
    let docs = repo().join("docs");
    for args in [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
    ] {
        let ran = run(Command::new(&promtool).args(args).current_dir(&docs));
        assert_eq!(
            ran.code, 0,
            "promtool {args:?}:\n{}{}",
            ran.stdout, ran.stderr
        );
        assert!(ran.stdout.contains("SUCCESS"), "{}", ran.stdout);
    }
}

#[test]
fn prometheus_sees_a_stopped_container_and_the_example_alert_fires() {
    let _stack = stack_exclusive();
    let interval = Duration::from_secs(2);
    let serve = Serve::start(&["--interval", "2s"]);
    serve.first_report();
    let prometheus = Prometheus::start(&serve.address);
    let redis = r#"helpdesk_check_status{id="container.user.redis"}"#;
    poll(
        Duration::from_secs(60),
        "Prometheus reads the doctor",
        || prometheus.value(redis).filter(|v| *v == 0.0),
    );
    let firing_for_redis = |prometheus: &Prometheus, state: &str| {
        prometheus.alerts().into_iter().find(|a| {
            a["labels"]["alertname"] == "HelpdeskCheckFailing"
                && a["labels"]["id"] == "container.user.redis"
                && a["state"] == state
        })
    };
    assert!(firing_for_redis(&prometheus, "pending").is_none());

    let _restore = Restore(|| {
        sh("docker start helpdesk-user-redis");
    });
    sh("docker stop helpdesk-user-redis");
    let (_, seen) = poll(
        Duration::from_secs(60),
        "the stopped container in Prometheus",
        || prometheus.value(&format!("{redis} == 2")),
    );
    let run = prometheus
        .value("helpdesk_run_duration_seconds")
        .expect("the run's duration");
    let bound = interval + Duration::from_secs_f64(run) + 3 * SCRAPE;
    eprintln!(
        "serve: a stopped container seen in Prometheus {} ms after docker stop \
         (bound: a {interval:?} interval + the run's {run:.2} s + 3 scrapes = {} ms)",
        seen.as_millis(),
        bound.as_millis()
    );
    assert!(seen <= bound, "seen after {seen:?}, more than {bound:?}");
    let labels = &prometheus.query(&format!("{redis} == 2"))[0]["metric"];
    assert_eq!(labels["service"], "user");
    assert_eq!(labels["kind"], "container");

    // The rule's `for: 1m`, then firing, with its fix's pointer.
    let (alert, fired) = poll(Duration::from_secs(150), "the alert firing", || {
        firing_for_redis(&prometheus, "firing")
    });
    eprintln!(
        "serve: HelpdeskCheckFailing fired {} s after it was seen",
        fired.as_secs()
    );
    assert_eq!(alert["labels"]["severity"], "critical");
    let description = alert["annotations"]["description"].as_str().unwrap();
    assert!(
        description.contains("helpdesk-doctor diagnose --only container.user.redis")
            && description.contains(&format!("http://{}/", serve.address)),
        "{description}"
    );
}

/// Escapes text as a DOM serializer writes a text node.
fn as_text_node(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}

/// Headless Chromium on `url`: `--dump-dom` (after scripts had their time) or a screenshot.
fn chromium(args: &[&str], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let ran = run_within(
        Command::new(tool("CHROMIUM", "chromium"))
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(["--virtual-time-budget=3000", "--window-size=1200,1600"])
            .args(args)
            .arg(url),
        Duration::from_secs(120),
    );
    assert_eq!(ran.code, 0, "chromium {args:?}: {}", ran.stderr);
    ran.stdout
}

#[test]
fn the_status_page_shows_the_failing_group_with_its_fix_and_hostile_output_as_inert_text() {
    let _stack = stack_exclusive();
    let hostile =
        r#"<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">"#;
    // A replica of ticket-service whose health check fails saying `hostile`.
    let planted = format!("helpdesk-test-hostile-{}", std::process::id());
    let _restore = Restore(|| {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &planted])
            .output();
        sh("docker start helpdesk-user-redis");
    });
    let started = run(Command::new("docker").args([
        "run",
        "-d",
        "--name",
        &planted,
        "--network",
        "none",
        "--label",
        "com.docker.compose.project=helpdesk-microservices",
        "--label",
        "com.docker.compose.service=ticket-service",
        "--label",
        "com.docker.compose.container-number=99",
        "--env",
        &format!("HOSTILE={hostile}"),
        "--health-cmd",
        "printf '%s' \"$HOSTILE\"; exit 1",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        "--entrypoint",
        "sleep",
        "helpdesk-service:local",
        "600",
    ]));
    assert_eq!(started.code, 0, "{}", started.stderr);
    sh("docker stop helpdesk-user-redis");

    let serve = Serve::start(&["--interval", "1s"]);
    let report = serve.report_where(Duration::from_secs(90), |report| {
        let planted_said = result(report, "container.ticket.service")["message"]
            .as_str()
            .is_some_and(|m| m.contains(hostile));
        status_of(report, "container.user.redis") == "fail" && planted_said
    });
    let hint = result(&report, "container.user.redis")["hint"]
        .as_str()
        .expect("a fix")
        .to_string();
    let url = format!("http://{}/", serve.address);
    let dom = chromium(&["--dump-dom"], &url);

    assert!(
        dom.contains(r#"<article class="group" data-group="user" data-status="fail">"#),
        "the user group failing:\n{dom}"
    );
    assert!(
        dom.contains(
            r#"<li class="problem" data-check="container.user.redis" data-status="fail">"#
        ),
        "{dom}"
    );
    assert!(
        dom.contains(&as_text_node(&hint)),
        "its fix {hint:?}:\n{dom}"
    );
    assert!(
        dom.contains(&as_text_node(hostile)),
        "the health output as text:\n{dom}"
    );
    assert!(!dom.contains("<script"), "no script element:\n{dom}");
    assert!(!dom.contains("<img"), "no image element:\n{dom}");
    assert!(
        dom.contains("<title>helpdesk-doctor · helpdesk-microservices</title>"),
        "the title as the page set it:\n{dom}"
    );

    let screenshot = repo().join("target/serve-status-page.png");
    let _ = std::fs::remove_file(&screenshot);
    chromium(&[&format!("--screenshot={}", screenshot.display())], &url);
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "a PNG of the page"
    );
}

#[test]
fn scrapes_answer_from_the_last_run_while_runs_go_on() {
    let _stack = stack_shared();
    let serve = Serve::start(&["--interval", "1s"]);
    serve.first_report();
    let before = serve.metrics();
    let rss_before = serve.rss_kib();
    let mut took = Vec::with_capacity(1000);
    let started = Instant::now();
    for i in 0..1000u32 {
        // 1,000 scrapes in 10 s, evenly.
        let due = started + Duration::from_millis(10) * i;
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let asked = Instant::now();
        let (status, body) = serve.get("/metrics");
        took.push(asked.elapsed());
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("helpdesk_check_status{"), "{body}");
    }
    let after = serve.metrics();
    let rss_after = serve.rss_kib();
    took.sort();
    eprintln!(
        "serve: 1,000 scrapes in {} ms: p50 {:?}, p99 {:?}, max {:?}; RSS {rss_before} → {rss_after} KiB",
        started.elapsed().as_millis(),
        took[499],
        took[989],
        took[999]
    );
    let ran = runs_total(&after) - runs_total(&before);
    assert!(ran >= 3.0, "runs went on meanwhile: {ran}");
    // Loosely: what a run keeps is bounded; the allocator may keep some more.
    assert!(
        rss_after < rss_before + 64 * 1024,
        "RSS {rss_before} → {rss_after} KiB"
    );
    let exposition = tempfile::tempdir().unwrap();
    let file = temp_file(exposition.path(), "metrics.prom", &after);
    let checked = run(Command::new(tool("PROMTOOL", "promtool"))
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(file).unwrap()));
    assert_eq!(checked.code, 0, "{}{}", checked.stdout, checked.stderr);
}

#[test]
fn a_scrape_never_starts_a_run() {
    let _stack = stack_shared();
    let serve = Serve::start(&["--interval", "1h"]);
    let first = serve.first_report();
    for path in ["/", "/metrics", "/report.json", "/healthz"].repeat(10) {
        assert_eq!(serve.get(path).0, 200, "{path}");
    }
    let metrics = serve.metrics();
    assert_eq!(runs_total(&metrics), 1.0, "{metrics}");
    let (_, report) = serve.get("/report.json");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["generated_at"], first["generated_at"]);
    assert_eq!(serve.get("/nowhere").0, 404);
}

#[test]
fn a_hung_engine_shows_in_the_metrics_and_no_scrape_hangs() {
    let _stack = stack_shared();
    // Accepts connections and never answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut command = doctor();
    command.env(
        "DOCKER_HOST",
        format!("tcp://{}", hung.local_addr().unwrap()),
    );
    let serve = Serve::start_with(command, &["--interval", "1s", "--deadline", "2s"]);
    let report = serve.first_report();
    assert_ne!(report["status"], "pass");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        // A scrape that hung would time out get() (10 s) and fail the test.
        let metrics = serve.metrics();
        let engine = metrics
            .lines()
            .find(|l| l.starts_with(r#"helpdesk_check_status{id="docker.engine""#))
            .expect("the engine's check");
        assert!(!engine.ends_with(" 0"), "{engine}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = serve.metrics();
    assert!(runs_total(&metrics) >= 2.0, "runs go on: {metrics}");
    assert_eq!(serve.get("/healthz").0, 200, "runs keep ending");
}

#[test]
fn sigterm_and_sigint_end_it_with_exit_0() {
    let _stack = stack_shared();
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let mut serve = Serve::start(&["--interval", "1s"]);
        serve.first_report();
        serve.signal(signal);
        let status = serve.exit_within(Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "{name}: {}", serve.stderr());
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            serve.stderr().contains(&format!("{name}: stopped serving")),
            "{}",
            serve.stderr()
        );
        assert!(
            TcpStream::connect(&serve.address).is_err(),
            "no longer listening"
        );
    }
}

#[test]
fn a_listen_address_in_use_is_a_clean_error() {
    let _stack = stack_shared();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let ran = run_within(
        doctor().args(["serve", "--listen", &address]),
        Duration::from_secs(60),
    );
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("listening on {address}")),
        "{}",
        ran.stderr
    );
}
