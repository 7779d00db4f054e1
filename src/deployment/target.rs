//! Which engine the doctor talks to (its endpoint, TLS folder and context),
//! however it was chosen (`engine`) or read (`context`).

use std::path::PathBuf;

/// The engine's socket on this machine.
pub(super) const LOCAL_SOCKET: &str = "unix:///var/run/docker.sock";

/// The engine the doctor talks to, and how it was chosen.
#[derive(Clone, Debug)]
pub struct Target {
    /// `unix:///…`, `tcp://host:port`, `ssh://user@host`.
    pub endpoint: String,
    /// The folder holding `ca.pem`, `cert.pem`, `key.pem` when TLS is on.
    pub tls: Option<PathBuf>,
    /// The docker context it comes from, if any.
    pub context: Option<String>,
}

impl Target {
    pub(super) fn local() -> Target {
        Target {
            endpoint: LOCAL_SOCKET.into(),
            tls: None,
            context: None,
        }
    }

    /// `tcp://10.0.0.5:2376 (context prod)`.
    pub fn describe(&self) -> String {
        match &self.context {
            Some(name) => format!("{} (context {name})", self.endpoint),
            None => self.endpoint.clone(),
        }
    }

    /// The engine's host name or address when it is not this machine's socket.
    pub fn remote_host(&self) -> Option<String> {
        let rest = ["tcp://", "http://", "https://", "ssh://"]
            .iter()
            .find_map(|scheme| self.endpoint.strip_prefix(scheme))?;
        let authority = rest.split('/').next().unwrap_or(rest);
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match host_port.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
        };
        (!host.is_empty()).then(|| host.to_string())
    }
}
