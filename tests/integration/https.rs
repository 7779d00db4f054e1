//! HTTPS endpoints (issue 10): certificates are verified by default (a
//! self-signed one is a TLS failure that says why), a check may opt out with
//! `insecure = true`, and plain HTTP to a TLS port is a reset, not "refused".

use crate::support::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const SERVER: &str = r#"
import http.server, ssl, sys, json
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Health)
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
         -days 1 -subj /CN=127.0.0.1 2>/dev/null",
        dir.display()
    ));
    let mut child = Command::new("python3")
        .args(["-c", SERVER])
        .arg(dir.join("cert.pem"))
        .arg(dir.join("key.pem"))
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

#[test]
fn https_is_verified_by_default_and_a_check_may_opt_out() {
    let _stack = stack_shared();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = self_signed_endpoint(dir.path());
    let port = endpoint.port;
    let checks = tempfile::tempdir().unwrap();
    let check = |id: &str, url: &str, extra: &str| {
        format!(
            "[[check]]\nid = \"{id}\"\ntitle = \"t\"\nhint = \"h\"\n\
             probe = {{ kind = \"http_health\", url = \"{url}\"{extra} }}\n\n"
        )
    };
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
