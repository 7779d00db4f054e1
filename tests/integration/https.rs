//! HTTPS endpoints (issue 10): certificates are verified by default (a
//! self-signed one is a TLS failure that says why), a check may opt out with
//! `insecure = true`, and plain HTTP to a TLS port is a reset, not "refused".
//! Issue 21: a certificate's days left and a slow answer's phases are judged.

use crate::support::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const SERVER: &str = r#"
import http.server, ssl, sys, json, time
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(sys.argv[3]))
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Health)
if sys.argv[1] != "-":
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// A self-signed HTTPS health endpoint; killed when dropped.
struct Endpoint {
    child: Child,
    port: u16,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn self_signed_endpoint(dir: &std::path::Path) -> Endpoint {
    sh(&format!(
        "cd {} && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \
         -days 30 -subj /CN=127.0.0.1 2>/dev/null",
        dir.display()
    ));
    serve(&[dir.join("cert.pem"), dir.join("key.pem")], 0.0)
}

/// A health endpoint answering after `delay` seconds: over HTTPS with
/// `[certificate, key]`, plain HTTP with none.
fn serve(tls: &[std::path::PathBuf], delay: f64) -> Endpoint {
    let mut command = Command::new("python3");
    command.args(["-c", SERVER]);
    match tls {
        [certificate, key] => command.arg(certificate).arg(key),
        _ => command.args(["-", "-"]),
    };
    let mut child = command
        .arg(delay.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().expect("the server's port");
    Endpoint { child, port }
}

/// A check `id` of the health endpoint at `url`, in a catalog file of `dir`.
fn health_check(id: &str, url: &str, extra: &str) -> String {
    format!(
        "[[check]]\nid = \"{id}\"\ntitle = \"t\"\nhint = \"h\"\n\
         probe = {{ kind = \"http_health\", url = \"{url}\"{extra} }}\n\n"
    )
}

#[test]
fn https_is_verified_by_default_and_a_check_may_opt_out() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = self_signed_endpoint(dir.path());
    let port = endpoint.port;
    let checks = tempfile::tempdir().unwrap();
    let check = health_check;
    let https = format!("https://127.0.0.1:{port}/health");
    let catalog = [
        check("tls.verified", &https, ""),
        check("tls.insecure", &https, ", insecure = true"),
        check("tls.plain", &format!("http://127.0.0.1:{port}/health"), ""),
    ]
    .concat();
    temp_file(checks.path(), "tls.toml", &catalog);
    let run = run(doctor()
        .arg("--checks-dir")
        .arg(checks.path())
        .args(["diagnose", "--only", "tls.*", "--format", "json"]));
    let report = run.json();
    let verified = result(&report, "tls.verified");
    assert_eq!(verified["status"], "fail");
    let message = verified["message"].as_str().unwrap();
    assert!(
        message.contains("TLS handshake failed") && message.to_lowercase().contains("certificate"),
        "{message}"
    );
    assert_eq!(status_of(&report, "tls.insecure"), "pass");
    let plain = result(&report, "tls.plain")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!plain.contains("ECONNREFUSED"), "the port is open: {plain}");
    drop(endpoint);
}

/// A CA of the test's own (`ca.pem`, trusted through `SSL_CERT_FILE`) and a
/// certificate for 127.0.0.1 signed by it valid `days` days (`{name}.pem`, `{name}.key`).
fn ca_signed(dir: &std::path::Path, name: &str, days: u32) -> Vec<std::path::PathBuf> {
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    if !dir.join("ca.pem").exists() {
        sh(&format!(
            "cd {} && openssl req -x509 {ec} -keyout ca.key -out ca.pem -days 30 -subj /CN=test-ca 2>/dev/null",
            dir.display()
        ));
    }
    sh(&format!(
        "cd {dir} && openssl req {ec} -keyout {name}.key -out {name}.csr -subj /CN=127.0.0.1 2>/dev/null \
         && printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > {name}.ext \
         && openssl x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days {days} \
            -extfile {name}.ext -out {name}.pem 2>/dev/null",
        dir = dir.display()
    ));
    vec![
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    ]
}

#[test]
fn certificates_close_to_their_end_warn_then_fail_with_their_days_left() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let endpoints: Vec<(&str, Endpoint)> = [("two", 2), ("ten", 10), ("sixty", 60)]
        .into_iter()
        .map(|(name, days)| (name, serve(&ca_signed(dir.path(), name, days), 0.0)))
        .collect();
    let checks = tempfile::tempdir().unwrap();
    let catalog: String = endpoints
        .iter()
        .map(|(name, e)| {
            health_check(
                &format!("cert.{name}"),
                &format!("https://127.0.0.1:{}/health", e.port),
                "",
            )
        })
        .collect();
    temp_file(checks.path(), "certs.toml", &catalog);
    let run = run(doctor()
        .env("SSL_CERT_FILE", dir.path().join("ca.pem"))
        .arg("--checks-dir")
        .arg(checks.path())
        .args(["diagnose", "--only", "cert.*", "--format", "json"]));
    let report = run.json();
    // Verified through the test's CA: any failure is the certificate's age.
    let two = result(&report, "cert.two");
    assert_eq!(two["status"], "fail", "{two:#}");
    let days = two["details"]["cert_days_left"].as_i64().unwrap();
    assert!((1..=2).contains(&days), "{two:#}");
    let port = endpoints[0].1.port;
    let message = two["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "the certificate of 127.0.0.1:{port} expires in {days} day"
        )),
        "{message}"
    );
    assert!(
        message.contains(", TLS "),
        "the TLS phase is timed: {message}"
    );
    assert!(
        two["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("openssl s_client -connect 127.0.0.1:{port}")),
        "{two:#}"
    );
    let ten = result(&report, "cert.ten");
    assert_eq!(ten["status"], "warn", "{ten:#}");
    assert!((9..=10).contains(&ten["details"]["cert_days_left"].as_i64().unwrap()));
    let sixty = result(&report, "cert.sixty");
    assert_eq!(sixty["status"], "pass", "{sixty:#}");
    assert!(
        sixty["details"]["time_appconnect_ms"].as_f64().is_some(),
        "{sixty:#}"
    );
    drop(endpoints);
}

#[test]
fn a_health_endpoint_slower_than_a_second_warns_with_its_phases() {
    let _stack = stack_shared();
    let slow = serve(&[], 1.3);
    let checks = tempfile::tempdir().unwrap();
    temp_file(
        checks.path(),
        "slow.toml",
        &health_check(
            "slow.health",
            &format!("http://127.0.0.1:{}/health", slow.port),
            "",
        ),
    );
    let run = run(doctor().arg("--checks-dir").arg(checks.path()).args([
        "diagnose",
        "--only",
        "slow.health",
        "--probe-timeout",
        "5s",
        "--format",
        "json",
    ]));
    let slow_result = result(&run.json(), "slow.health").clone();
    assert_eq!(slow_result["status"], "warn", "{slow_result:#}");
    let total = slow_result["details"]["time_total_ms"].as_f64().unwrap();
    assert!(total >= 1300.0, "{slow_result:#}");
    let message = slow_result["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "slow: answered in {total:.0} ms, over 1000 ms (connect "
        )) && message.contains(", first byte ")
            && !message.contains("TLS"),
        "{message}"
    );
    assert!(
        slow_result["hint"]
            .as_str()
            .unwrap()
            .contains("time_starttransfer"),
        "{slow_result:#}"
    );
    drop(slow);
}

#[test]
fn the_stack_s_health_endpoints_are_judged_by_the_configured_latency() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let config = temp_file(
        dir.path(),
        "config.toml",
        "[thresholds]\nhttp_slow_ms = 1\n",
    );
    let run = run(doctor().arg("--config").arg(&config).args([
        "diagnose",
        "--only",
        "http.*.health",
        "--format",
        "json",
    ]));
    assert_eq!(run.code, 0, "a warning: {}", run.stderr);
    let health = result(&run.json(), "http.auth.health").clone();
    assert_eq!(health["status"], "warn", "{health:#}");
    assert_eq!(health["details"]["slow_ms"], 1);
    assert!(
        health["message"]
            .as_str()
            .unwrap()
            .contains("over 1 ms (connect "),
        "{health:#}"
    );
}
