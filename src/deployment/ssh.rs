//! Engines reached over ssh, as the docker CLI reaches them
//! (`ssh://[user@]host[:port]`): through the system `ssh`, so the user's ssh
//! config, keys, known hosts and agent apply. One ssh connection per engine
//! and run, which forwards a private local socket to the engine's socket on
//! the far side: every request of the run is a new channel of that one
//! connection (no handshake and no remote process per request). Its setup
//! has a time limit of its own, never a probe's. The ssh process is the
//! doctor's child: never a persistent master (`ControlMaster=no`, whatever
//! the user's config says), ended when the run ends (`close_all`), and by the
//! kernel if the doctor dies first.

use super::EngineError;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;

/// How long the ssh connection may take to be set up (resolve, connect,
/// authenticate, forward).
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(20);
/// The engine's socket on the far side.
const REMOTE_SOCKET: &str = "/var/run/docker.sock";
/// The end of ssh's stderr kept for the error.
const STDERR_KEPT: usize = 2048;

/// Where an `ssh://` endpoint points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// `ssh://[user@]host[:port]` (an IPv6 host in brackets), as the docker CLI
/// accepts it: no path, no query; nothing ssh could read as an option.
pub fn parse(endpoint: &str) -> Result<Destination, String> {
    let rest = endpoint
        .strip_prefix("ssh://")
        .ok_or_else(|| format!("{endpoint:?} is not an ssh:// address"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(format!(
            "{endpoint:?}: an ssh address has no path or query (ssh://[user@]host[:port])"
        ));
    }
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, host_port)) => (Some(user.to_string()), host_port),
        None => (None, authority),
    };
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{endpoint:?}: an unclosed [ in the host"))?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port = port
        .map(|p| {
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{endpoint:?}: {p:?} is not a port"))
        })
        .transpose()?;
    let plain = |text: &str| {
        !text.is_empty()
            && !text.starts_with('-')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%'))
    };
    if !plain(host) {
        return Err(format!(
            "{endpoint:?}: {host:?} is not a host name or address"
        ));
    }
    if let Some(user) = &user
        && !plain(user)
    {
        return Err(format!("{endpoint:?}: {user:?} is not a user name"));
    }
    Ok(Destination {
        user,
        host: host.to_string(),
        port,
    })
}

/// One ssh connection forwarding a local socket to the engine's.
struct Tunnel {
    child: tokio::process::Child,
    /// The private folder holding the local socket (removed when dropped).
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

type Slot = Arc<OnceCell<Result<PathBuf, String>>>;

/// The tunnels of this run, by endpoint (set up once each).
static TUNNELS: Mutex<Option<HashMap<String, Slot>>> = Mutex::new(None);
/// Their processes, ended by `close_all`.
static RUNNING: Mutex<Vec<Tunnel>> = Mutex::new(Vec::new());

/// The local socket that reaches `endpoint`'s engine, set up once per run.
pub async fn socket(endpoint: &str) -> Result<PathBuf, EngineError> {
    let slot = TUNNELS
        .lock()
        .expect("tunnels lock")
        .get_or_insert_with(HashMap::new)
        .entry(endpoint.to_string())
        .or_default()
        .clone();
    let opened = slot
        .get_or_init(|| async {
            let destination = parse(endpoint)?;
            let tunnel = open(&destination).await?;
            let socket = tunnel.socket.clone();
            RUNNING.lock().expect("tunnels lock").push(tunnel);
            Ok(socket)
        })
        .await;
    opened.clone().map_err(|reason| EngineError::Unreachable {
        endpoint: endpoint.to_string(),
        reason,
    })
}

/// Ends every ssh connection of this run and removes its socket.
pub fn close_all() {
    let tunnels: Vec<Tunnel> = std::mem::take(&mut *RUNNING.lock().expect("tunnels lock"));
    for mut tunnel in tunnels {
        let _ = tunnel.child.start_kill();
        if let Some(pid) = tunnel.child.id() {
            reap(pid);
        }
    }
}

/// Waits a moment for a killed child, so that no zombie outlives the run.
fn reap(pid: u32) {
    for _ in 0..50 {
        let mut status = 0;
        // SAFETY: waitpid on our own child's pid, with a valid status pointer.
        let done = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
        if done != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `ssh -N -L <private socket>:/var/run/docker.sock [-l user] [-p port] -- host`,
/// waited for until the socket is there (or ssh gives up, saying why).
async fn open(destination: &Destination) -> Result<Tunnel, String> {
    let dir = tempfile::Builder::new()
        .prefix("helpdesk-doctor-ssh-")
        .tempdir()
        .map_err(|e| format!("a folder for the ssh socket: {e}"))?;
    let socket = dir.path().join("docker.sock");
    let mut command = tokio::process::Command::new("ssh");
    command
        .args(["-N", "-T", "-x", "-a"])
        .args(["-o", "BatchMode=yes"])
        .args(["-o", "ExitOnForwardFailure=yes"])
        .args(["-o", "ControlMaster=no", "-o", "ControlPath=none"])
        .args(["-o", "ServerAliveInterval=10"])
        .args([
            "-o".to_string(),
            format!("ConnectTimeout={}", SETUP_TIMEOUT.as_secs()),
        ])
        .arg("-L")
        .arg(format!("{}:{REMOTE_SOCKET}", socket.display()));
    if let Some(user) = &destination.user {
        command.args(["-l", user]);
    }
    if let Some(port) = destination.port {
        command.args(["-p", &port.to_string()]);
    }
    command
        .arg("--")
        .arg(&destination.host)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: prctl only sets this process's parent-death signal, which is
    // async-signal-safe between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    let mut stderr = child.stderr.take().expect("piped stderr");
    let said = Arc::new(Mutex::new(Vec::new()));
    let kept = said.clone();
    tokio::spawn(async move {
        let mut buffer = [0u8; 512];
        while let Ok(n) = stderr.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            let mut kept = kept.lock().expect("stderr lock");
            kept.extend_from_slice(&buffer[..n]);
            let excess = kept.len().saturating_sub(STDERR_KEPT);
            kept.drain(..excess);
        }
    });
    let ready = async {
        loop {
            if tokio::net::UnixStream::connect(&socket).await.is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                // Let the reader take ssh's last words.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let text = String::from_utf8_lossy(&said.lock().expect("stderr lock")).into_owned();
                let why = text
                    .lines()
                    .map(str::trim)
                    .rfind(|l| !l.is_empty())
                    .unwrap_or("no message")
                    .to_string();
                return Err(format!("ssh ended ({status}): {why}"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    match tokio::time::timeout(SETUP_TIMEOUT, ready).await {
        Ok(Ok(())) => Ok(Tunnel {
            child,
            _dir: dir,
            socket,
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "ssh did not connect within {}s",
            SETUP_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(user: Option<&str>, host: &str, port: Option<u16>) -> Destination {
        Destination {
            user: user.map(String::from),
            host: host.into(),
            port,
        }
    }

    #[test]
    fn addresses_are_read_as_the_docker_cli_reads_them() {
        assert_eq!(
            parse("ssh://root@127.0.0.1:2222").unwrap(),
            at(Some("root"), "127.0.0.1", Some(2222)),
            "the port is ssh's -p, never part of the host"
        );
        assert_eq!(parse("ssh://prod-1").unwrap(), at(None, "prod-1", None));
        assert_eq!(
            parse("ssh://deploy@[fd00::5]:22/").unwrap(),
            at(Some("deploy"), "fd00::5", Some(22))
        );
        assert_eq!(parse("ssh://[::1]").unwrap(), at(None, "::1", None));
    }

    #[test]
    fn what_ssh_could_read_as_an_option_or_a_command_is_refused() {
        for bad in [
            "ssh://-oProxyCommand=touch@x",
            "ssh://-oProxyCommand=x",
            "ssh://host:22/path",
            "ssh://host?x=1",
            "ssh://host:0",
            "ssh://host:99999",
            "ssh://us er@host",
            "ssh://host;reboot",
            "ssh://",
            "tcp://host",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }
}
