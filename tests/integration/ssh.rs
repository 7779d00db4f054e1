//! The engine reached over ssh as the docker CLI reaches it
//! (`DOCKER_HOST=ssh://root@127.0.0.1:PORT`): an sshd of the test's own on
//! loopback (Debian's openssh-server, its own host key, config, port and
//! authorized key; stopped and removed after) in front of this machine's
//! engine, the user's ssh config (a private `~/.ssh` bound over the real one
//! in a mount namespace of the doctor's own) — the bundled stack diagnosed
//! healthy through it, nothing of ssh left running after.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";
/// sshd's privilege separation folder, made (and removed after) if missing.
const PRIVSEP: &str = "/run/sshd";

/// An sshd on 127.0.0.1, and a `~/.ssh` that reaches it by key.
struct Sshd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    made_privsep: bool,
}

impl Sshd {
    fn start() -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} missing: apt-get install openssh-server (tests/run.sh does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let home = d.join("home");
        std::fs::create_dir(&home).unwrap();
        let keygen = |path: &Path| {
            sh(&format!(
                "ssh-keygen -q -t ed25519 -N '' -f {}",
                path.display()
            ));
        };
        keygen(&d.join("host_key"));
        keygen(&home.join("id_ed25519"));
        std::fs::copy(home.join("id_ed25519.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        std::fs::write(
            home.join("known_hosts"),
            format!("[127.0.0.1]:{port} {}\n", host_key.join(" ")),
        )
        .unwrap();
        std::fs::write(
            home.join("config"),
            format!(
                "Host 127.0.0.1\n  IdentityFile {h}/id_ed25519\n  IdentitiesOnly yes\n  \
                 UserKnownHostsFile {h}/known_hosts\n  StrictHostKeyChecking yes\n",
                h = home.display()
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 StrictModes no\nAllowUsers root\n",
                d = d.display()
            ),
        )
        .unwrap();
        let made_privsep = !Path::new(PRIVSEP).exists();
        if made_privsep {
            std::fs::create_dir(PRIVSEP).unwrap();
        }
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("sshd.log")).unwrap())
            .spawn()
            .expect("start sshd");
        let sshd = Sshd {
            child,
            port,
            dir,
            made_privsep,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not listen: {}",
                sshd.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        sshd
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// The doctor with `DOCKER_HOST=endpoint`, its `~/.ssh` this sshd's
    /// client side (bound in a mount namespace of its own: nothing of the
    /// machine's changes).
    fn doctor(&self, endpoint: &str) -> Command {
        let ssh_dir = PathBuf::from(std::env::var("HOME").unwrap()).join(".ssh");
        assert!(
            ssh_dir.is_dir(),
            "{} is needed to bind over",
            ssh_dir.display()
        );
        let template = doctor();
        let mut command = Command::new("unshare");
        command
            .args(["--mount", "--propagation", "private", "--", "bash", "-c"])
            .arg(r#"mount --bind "$1" "$2" && shift 2 && exec "$@""#)
            .arg("_")
            .arg(self.home())
            .arg(&ssh_dir)
            .arg(template.get_program());
        for (key, value) in template.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command.env("DOCKER_HOST", endpoint).stdin(Stdio::null());
        command
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.made_privsep {
            let _ = std::fs::remove_dir(PRIVSEP);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// ssh processes of this test's (their command line names its port), and
/// any persistent master anyone left.
fn ssh_left(port: u16) -> Vec<String> {
    let listed = Command::new("ps")
        .args(["-eo", "pid,args"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| {
            let ssh = l
                .split_whitespace()
                .nth(1)
                .is_some_and(|p| p.ends_with("ssh"));
            (ssh && l.contains(&format!("-p {port}"))) || l.contains("ControlPersist")
        })
        .map(String::from)
        .collect()
}

#[test]
fn the_bundled_stack_diagnosed_over_ssh_is_healthy_and_leaves_no_ssh_behind() {
    let _stack = stack_shared();
    wait_stack_healthy();
    let sshd = Sshd::start();
    let endpoint = format!("ssh://root@127.0.0.1:{}", sshd.port);
    let ran = run(sshd.doctor(&endpoint).args([
        "--project",
        "helpdesk-microservices",
        "diagnose",
        "--format",
        "json",
        "--no-history",
    ]));
    let report = ran.json();
    assert_eq!(
        ran.code,
        0,
        "{}\n{}\n{}",
        ran.stdout,
        ran.stderr,
        sshd.log()
    );
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["engine"]["endpoint"], endpoint.as_str());
    assert_eq!(status_of(&report, "docker.engine"), "pass");
    // The containers were read through the engine at the far end: every one.
    for container in CONTAINERS {
        let role = container.trim_start_matches("helpdesk-");
        let (service, role) = role.split_once('-').unwrap();
        let id = format!("container.{service}.{role}.resources");
        assert_eq!(status_of(&report, &id), "pass", "{}", result(&report, &id));
    }
    // One ssh connection for the whole run, however many requests it made.
    let logins = sshd.log().matches("Accepted publickey for root").count();
    assert_eq!(logins, 1, "{}", sshd.log());
    assert_eq!(ssh_left(sshd.port), Vec::<String>::new());
}

#[test]
fn an_ssh_engine_that_cannot_be_reached_is_the_engine_checks_failure_saying_why() {
    let _stack = stack_shared();
    let sshd = Sshd::start();
    // Nobody listens on this port: ssh's own words, the port taken as a port.
    let closed = free_port();
    let ran = run(sshd
        .doctor(&format!("ssh://root@127.0.0.1:{closed}"))
        .args([
            "--project",
            "helpdesk-microservices",
            "diagnose",
            "--only",
            "docker.engine",
            "--format",
            "json",
            "--no-history",
        ]));
    assert_eq!(ran.code, 1, "{}{}", ran.stdout, ran.stderr);
    let engine = ran.json()["results"][0].clone();
    let message = engine["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "Docker engine not reachable at ssh://root@127.0.0.1:{closed}: ssh ended"
        )) && message.contains(&format!("port {closed}: Connection refused")),
        "{message}"
    );
    // A user the sshd does not let in: refused by key.
    let ran = run(sshd
        .doctor(&format!("ssh://nobody@127.0.0.1:{}", sshd.port))
        .args([
            "--project",
            "helpdesk-microservices",
            "diagnose",
            "--only",
            "docker.engine",
            "--format",
            "json",
            "--no-history",
        ]));
    assert_eq!(ran.code, 1);
    let message = ran.json()["results"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("Permission denied"), "{message}");
    // An address ssh would read as an option is refused before ssh runs.
    let ran = run(sshd.doctor("ssh://-oProxyCommand=touch@127.0.0.1").args([
        "--project",
        "helpdesk-microservices",
        "diagnose",
        "--only",
        "docker.engine",
        "--format",
        "json",
        "--no-history",
    ]));
    let message = ran.json()["results"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("is not a user name"), "{message}");
    assert_eq!(ssh_left(sshd.port), Vec::<String>::new());
    assert_eq!(ssh_left(closed), Vec::<String>::new());
}
