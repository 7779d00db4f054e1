//! The Docker engine client: which engine (`--context`, `DOCKER_HOST` with
//! `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`, `DOCKER_CONTEXT`, the current
//! context of `~/.docker/config.json`, else the local socket — the docker
//! CLI's order), connected over unix, tcp, tcp+TLS or ssh, its API version
//! negotiated within a timeout.

use super::EngineError;
use super::context;
use super::target::LOCAL_SOCKET;
use super::target::Target;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// bollard's per-request timeout (seconds); every call is also bounded by the probe timeout.
const REQUEST_TIMEOUT_S: u64 = 120;

/// `--context NAME`, set once at start (it wins over the environment, as for the docker CLI).
static CONTEXT_FLAG: OnceLock<String> = OnceLock::new();

pub fn use_context(name: &str) {
    let _ = CONTEXT_FLAG.set(name.to_string());
}

/// The `--context` the doctor was given, if any.
pub fn context_flag() -> Option<&'static str> {
    CONTEXT_FLAG.get().map(String::as_str)
}

/// Which engine: `--context`, `DOCKER_HOST`, `DOCKER_CONTEXT`, the current context, the local socket.
fn target() -> Result<Target, EngineError> {
    if let Some(name) = CONTEXT_FLAG.get() {
        return context::load(name);
    }
    if let Some(host) = non_empty("DOCKER_HOST") {
        let tls = non_empty("DOCKER_TLS_VERIFY").map(|_| {
            non_empty("DOCKER_CERT_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(context::config_dir)
        });
        return Ok(Target {
            endpoint: host,
            tls,
            context: None,
        });
    }
    if let Some(name) = non_empty("DOCKER_CONTEXT").or_else(context::current)
        && name != "default"
    {
        return context::load(&name);
    }
    Ok(Target::local())
}

/// How `target` chooses the engine, in its order (for `config show`).
pub fn chosen_by() -> &'static str {
    if CONTEXT_FLAG.get().is_some() {
        "--context"
    } else if non_empty("DOCKER_HOST").is_some() {
        "DOCKER_HOST"
    } else if non_empty("DOCKER_CONTEXT").is_some_and(|c| c != "default") {
        "DOCKER_CONTEXT"
    } else if context::current().is_some_and(|c| c != "default") {
        "the docker CLI's current context"
    } else {
        "default: this machine's socket"
    }
}

fn non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The engine a deployment runs on, as chosen — or why it cannot be used (a
/// context that does not exist): that error is the engine check's failure.
#[derive(Clone, Debug)]
pub struct Engine(Result<Target, EngineError>);

impl Default for Engine {
    fn default() -> Engine {
        Engine(Ok(Target::local()))
    }
}

impl Engine {
    /// `--context`, else the environment and the docker CLI's config (see `target`).
    pub fn chosen() -> Engine {
        Engine(target())
    }

    /// The engine of docker context `name`.
    pub fn of_context(name: &str) -> Engine {
        Engine(context::load(name))
    }

    /// The engine an `[[engines]]` entry names.
    pub fn of_entry(entry: &crate::profile::EngineEntry) -> Engine {
        match (&entry.context, &entry.host) {
            (Some(context), _) => Engine::of_context(context),
            (None, Some(host)) => Engine(Ok(Target {
                endpoint: host.clone(),
                tls: entry.cert_path.as_ref().map(PathBuf::from),
                context: None,
            })),
            (None, None) => Engine(Err(EngineError::Context {
                name: entry.name.clone(),
                reason: "the [[engines]] entry names neither a context nor a host".into(),
            })),
        }
    }

    /// `tcp://10.0.0.5:2376 (context prod)`, for headers and messages.
    pub fn describe(&self) -> String {
        match &self.0 {
            Ok(target) => target.describe(),
            Err(EngineError::Context { name, .. }) => format!("context {name}"),
            Err(_) => LOCAL_SOCKET.into(),
        }
    }

    /// The docker CLI's flags that reach this engine from a shell where plain
    /// `docker` would reach another (printed hints, compose runs): `--context
    /// NAME` for a context's, `-H` (and the TLS files) for a host that is
    /// neither the local socket nor the shell's `DOCKER_HOST`; none otherwise.
    pub fn cli_flags(&self) -> Vec<String> {
        let Ok(target) = &self.0 else {
            return Vec::new();
        };
        if let Some(name) = &target.context {
            return vec!["--context".into(), name.clone()];
        }
        let shells = non_empty("DOCKER_HOST").unwrap_or_else(|| LOCAL_SOCKET.into());
        if target.endpoint == shells {
            return Vec::new();
        }
        let mut flags = vec!["-H".to_string(), target.endpoint.clone()];
        if let Some(dir) = &target.tls {
            flags.push("--tlsverify".into());
            for (flag, file) in [
                ("--tlscacert", "ca.pem"),
                ("--tlscert", "cert.pem"),
                ("--tlskey", "key.pem"),
            ] {
                flags.extend([flag.to_string(), dir.join(file).display().to_string()]);
            }
        }
        flags
    }

    /// The endpoint alone (`tcp://10.0.0.5:2376`), or the context that cannot be used.
    pub fn endpoint(&self) -> String {
        match &self.0 {
            Ok(target) => target.endpoint.clone(),
            Err(_) => self.describe(),
        }
    }

    /// Whether the engine runs on this machine (its unix socket): then paths it
    /// reports on the host (a bind mount's source), its processes and its
    /// containers' cgroups are this machine's.
    pub fn is_local(&self) -> bool {
        self.0
            .as_ref()
            .is_ok_and(|t| t.endpoint.starts_with("unix://"))
    }

    /// The engine's host, when it is not this machine's socket.
    pub fn remote_host(&self) -> Option<String> {
        self.0.as_ref().ok()?.remote_host()
    }

    /// The path of the engine's unix socket, when it is this machine's.
    pub fn unix_socket(&self) -> Option<PathBuf> {
        let target = self.0.as_ref().ok()?;
        target.endpoint.strip_prefix("unix://").map(PathBuf::from)
    }

    /// A client of the engine, its API version negotiated within `timeout`.
    pub async fn connect(&self, timeout: Duration) -> Result<bollard::Docker, EngineError> {
        let target = self.0.as_ref().map_err(Clone::clone)?;
        connect(target, timeout).await
    }
}

async fn connect(target: &Target, timeout: Duration) -> Result<bollard::Docker, EngineError> {
    let unreachable = |reason: &dyn std::fmt::Display| EngineError::Unreachable {
        endpoint: target.describe(),
        reason: reason.to_string(),
    };
    // An ssh engine: its one connection, set up within its own time limit
    // (never the probe timeout's), then the engine through its local socket.
    let through_ssh = match target.endpoint.starts_with("ssh://") {
        true => Some(
            super::ssh::socket(&target.endpoint)
                .await
                .map_err(|e| match e {
                    EngineError::Unreachable { reason, .. } => unreachable(&reason),
                    e => e,
                })?,
        ),
        false => None,
    };
    let docker = match (&target.tls, through_ssh) {
        (_, Some(socket)) => bollard::Docker::connect_with_unix(
            &socket.to_string_lossy(),
            REQUEST_TIMEOUT_S,
            bollard::API_DEFAULT_VERSION,
        ),
        (Some(dir), None) => bollard::Docker::connect_with_ssl(
            &target.endpoint,
            &dir.join("key.pem"),
            &dir.join("cert.pem"),
            &dir.join("ca.pem"),
            REQUEST_TIMEOUT_S,
            bollard::API_DEFAULT_VERSION,
        ),
        (None, None) => bollard::Docker::connect_with_host(&target.endpoint),
    }
    .map_err(|e| unreachable(&e))?;
    match tokio::time::timeout(timeout, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(e)) => Err(connect_error(&e, target)),
        Err(_) => Err(EngineError::Silent {
            endpoint: target.describe(),
            timeout,
        }),
    }
}

/// The whole chain of causes (hyper's top message buries the TLS one).
fn reason(error: &bollard::errors::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// A failed handshake as a TLS error naming the files used, else unreachable.
fn connect_error(error: &bollard::errors::Error, target: &Target) -> EngineError {
    let reason = reason(error);
    match &target.tls {
        Some(dir) if reason.contains("certificate") || reason.contains("TLS") => EngineError::Tls {
            endpoint: target.describe(),
            reason: reason.rsplit(": ").next().unwrap_or(&reason).to_string(),
            certificates: dir.display().to_string(),
        },
        _ => EngineError::Unreachable {
            endpoint: target.describe(),
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(endpoint: &str) -> Option<String> {
        Target {
            endpoint: endpoint.into(),
            tls: None,
            context: None,
        }
        .remote_host()
    }

    #[test]
    fn the_remote_host_comes_from_the_endpoint() {
        assert_eq!(at("tcp://10.0.0.5:2376").as_deref(), Some("10.0.0.5"));
        assert_eq!(
            at("ssh://deploy@prod-1.example:22").as_deref(),
            Some("prod-1.example")
        );
        assert_eq!(at("ssh://prod-1").as_deref(), Some("prod-1"));
        assert_eq!(at("tcp://[fd00::5]:2376").as_deref(), Some("fd00::5"));
        assert_eq!(at("unix:///var/run/docker.sock"), None);
    }

    #[test]
    fn a_printed_command_names_the_engine_the_shell_would_not_reach() {
        let flags = |endpoint: &str, tls: Option<&str>, context: Option<&str>| {
            Engine(Ok(Target {
                endpoint: endpoint.into(),
                tls: tls.map(PathBuf::from),
                context: context.map(String::from),
            }))
            .cli_flags()
        };
        assert_eq!(
            flags("tcp://10.0.0.5:2376", None, Some("prod")),
            ["--context", "prod"]
        );
        assert_eq!(
            flags("tcp://10.0.0.5:2376", Some("/certs"), None),
            [
                "-H",
                "tcp://10.0.0.5:2376",
                "--tlsverify",
                "--tlscacert",
                "/certs/ca.pem",
                "--tlscert",
                "/certs/cert.pem",
                "--tlskey",
                "/certs/key.pem"
            ]
        );
        if std::env::var_os("DOCKER_HOST").is_none() {
            assert!(flags(LOCAL_SOCKET, None, None).is_empty());
        }
        assert!(
            Engine(Err(EngineError::Context {
                name: "gone".into(),
                reason: "no such context".into()
            }))
            .cli_flags()
            .is_empty()
        );
    }
}
