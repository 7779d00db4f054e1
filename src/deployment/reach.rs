//! Where the doctor reaches a service's server (PostgreSQL, Redis, the
//! application) from its host: only ever the deployment's own. A port comes
//! from the bindings of the deployment's container (`published`); the guide's
//! (or the config's) port is used only when no container of that role exists,
//! and never when another project's container publishes it. A container that
//! publishes nothing is not reached at any host port: `route` finds the way
//! to it (its address on the project's network, or through the engine).

use crate::deployment::Deployment;
use crate::profile::Role;
use crate::profile::{Profile, Service};
use serde::Serialize;
use std::fmt;

/// A container that is not the deployment's, publishing a port on the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub container: String,
    /// Its compose project (or Swarm stack), if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.project {
            Some(project) => write!(f, "{} of project {project}", self.container),
            None => write!(f, "{} (a container of no compose project)", self.container),
        }
    }
}

/// A host port a container that is not the deployment's publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The host address, as the engine says it (`0.0.0.0`, `::` or empty: all).
    pub ip: String,
    pub port: u16,
    pub holder: Holder,
}

/// How an address was reached (`reached.via` in the JSON report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A port on the engine's host: published by the deployment's container,
    /// named by the config, or — no container of the role exists — the guide's.
    Host,
    /// The container's own address on this network (it publishes nothing).
    Network(String),
    /// An exec in this container, bridging to the server inside it (it
    /// publishes nothing, and its address is not reached from here).
    Engine(String),
}

/// Where a check really connected (`reached` in the JSON report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reached {
    /// `host:port`; through the engine, the container and its port inside.
    pub address: String,
    pub via: ViaKind,
    /// The network whose address was reached (`via: network`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// The container exec'd in (`via: engine`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// `Via` without its place, as the JSON report's `reached.via` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViaKind {
    Host,
    Network,
    Engine,
}

/// An address the doctor may connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
    pub via: Via,
}

impl Address {
    pub fn reached(&self) -> Reached {
        let (via, network, container) = match &self.via {
            Via::Host => (ViaKind::Host, None, None),
            Via::Network(network) => (ViaKind::Network, Some(network.clone()), None),
            Via::Engine(container) => (ViaKind::Engine, None, Some(container.clone())),
        };
        Reached {
            address: self.host_port(),
            via,
            network,
            container,
        }
    }

    /// `host:port` (`[v6]:port`).
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `127.0.0.1:5401`; `172.20.0.3:5432 on acme_default (not published)`;
/// `through the engine (exec in acme-db-1)`.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.via {
            Via::Host => write!(f, "{}", self.host_port()),
            Via::Network(network) => {
                write!(f, "{} on {network} (not published)", self.host_port())
            }
            Via::Engine(container) => write!(f, "through the engine (exec in {container})"),
        }
    }
}

/// Why a server of the deployment is not reached: never a connection failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotReached {
    /// The role's container exists and publishes no port on the host.
    #[error("not published: not reached ({container} publishes no port on the host{})", guide_note(.guide_port, .guide_holder))]
    Unpublished {
        container: String,
        /// The port the guide (or the config) gives the role, and who holds it.
        guide_port: String,
        guide_holder: Option<Holder>,
    },
    /// The port the doctor would fall back to belongs to another deployment.
    #[error("{address} is published by {holder}, not by this deployment")]
    Foreign { address: String, holder: Holder },
}

fn guide_note(port: &str, holder: &Option<Holder>) -> String {
    match holder {
        Some(holder) => format!("; {port}, the guide's port, is published by {holder}"),
        None => String::new(),
    }
}

impl NotReached {
    /// Not a fault of the deployment (SKIP) or a port taken by another (FAIL).
    pub fn is_failure(&self) -> bool {
        matches!(self, NotReached::Foreign { .. })
    }

    /// The container publishing the port, for a report's details.
    pub fn holder(&self) -> Option<&Holder> {
        match self {
            NotReached::Unpublished { guide_holder, .. } => guide_holder.as_ref(),
            NotReached::Foreign { holder, .. } => Some(holder),
        }
    }

    /// What a report names as the target when nothing was reached: no address.
    pub fn target(&self) -> String {
        match self {
            NotReached::Unpublished { container, .. } => {
                format!("not reached: {container} publishes no port")
            }
            NotReached::Foreign { holder, .. } => {
                format!("not reached: the port is {}'s", holder.container)
            }
        }
    }

    /// The fix: a port taken by another deployment means this one's container
    /// is missing; an unpublished server is reached once it publishes a port.
    pub fn hint(&self, profile: &Deployment) -> String {
        match self {
            NotReached::Unpublished { container, .. } => format!(
                "{container} publishes no port, its address is not reached from here and the \
                 engine's way in (perl, exec'd in it) is missing: publish its port (compose \
                 `ports:`), or run the doctor where its network is reachable"
            ),
            NotReached::Foreign { .. } => format!(
                "This deployment (project {}) has no container publishing it: start it \
                 ({} up -d), or name the right project with --project",
                profile.compose_project,
                profile.compose_command()
            ),
        }
    }
}

/// Where `service`'s server of `role` (`service`, `db`, `redis`) is reached.
pub fn address(profile: &Deployment, service: &Service, role: Role) -> Result<Address, NotReached> {
    let port = service.port(role);
    let host = service.bind_hosts.get(&role).unwrap_or(&profile.host);
    let on_host = Address {
        host: host.clone(),
        port,
        via: Via::Host,
    };
    if service.unpublished.contains(&role) {
        // Its port is the one inside its container; the guide's is named
        // with whoever publishes it, so nobody takes that one for this one.
        let guide_port = Profile::default()
            .service(&service.name)
            .map_or(port, |guide| guide.port(role));
        return Err(NotReached::Unpublished {
            container: service.container(role),
            guide_port: format!("{}:{guide_port}", profile.host),
            guide_holder: foreign_holder(profile, &profile.host, guide_port).cloned(),
        });
    }
    match foreign_holder(profile, host, port) {
        Some(holder) => Err(NotReached::Foreign {
            address: on_host.host_port(),
            holder: holder.clone(),
        }),
        None => Ok(on_host),
    }
}

/// The service and role of `container` when that role publishes nothing (its
/// port check reaches it where it lives: `route`).
pub fn unpublished_role<'a>(
    profile: &'a Deployment,
    container: &str,
) -> Option<(&'a Service, Role)> {
    profile.services.iter().find_map(|service| {
        Role::ALL
            .into_iter()
            .find(|role| {
                service.unpublished.contains(role)
                    && service.replicas(*role).iter().any(|c| c == container)
            })
            .map(|role| (service, role))
    })
}

/// Whether `host:port` (a port probe's, an HTTP check's URL) may be connected
/// to: the server of a service's role when it is one's (at the profile's host
/// or its binding's address: where that role is published), else any address
/// no other deployment's container publishes.
pub fn host_port(profile: &Deployment, host: &str, port: u16) -> Result<Address, NotReached> {
    let role = profile.services.iter().find_map(|service| {
        Role::ALL
            .into_iter()
            .find(|role| {
                let bound = service.bind_hosts.get(role).unwrap_or(&profile.host);
                service.port(*role) == port
                    && (same_host(host, bound) || same_host(host, &profile.host))
            })
            .map(|role| (service, role))
    });
    if let Some((service, role)) = role {
        return address(profile, service, role);
    }
    if let Some(holder) = foreign_holder(profile, host, port) {
        return Err(NotReached::Foreign {
            address: format!("{host}:{port}"),
            holder: holder.clone(),
        });
    }
    Ok(Address {
        host: host.to_string(),
        port,
        via: Via::Host,
    })
}

/// `url`'s host and port, checked as `host_port` does (an unparsable URL is
/// left to its client, which says what is wrong with it).
pub fn url(profile: &Deployment, url: &str) -> Result<(), NotReached> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Ok(());
    };
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return Ok(());
    };
    host_port(profile, host.trim_matches(['[', ']']), port).map(|_| ())
}

/// The container of another deployment publishing `port` at `host`.
fn foreign_holder<'a>(profile: &'a Deployment, host: &str, port: u16) -> Option<&'a Holder> {
    profile
        .foreign_ports
        .iter()
        .find(|b| b.port == port && binding_reached_at(&b.ip, host))
        .map(|b| &b.holder)
}

/// Whether two names of a host are the same place (`localhost` is the loopback).
fn same_host(a: &str, b: &str) -> bool {
    let loopback = |h: &str| matches!(h, "localhost" | "127.0.0.1" | "::1");
    a == b || (loopback(a) && loopback(b))
}

/// Whether a binding on `ip` (as the engine reports it) is reached at `host`:
/// a wildcard binding is reached at every address of the host.
fn binding_reached_at(ip: &str, host: &str) -> bool {
    is_wildcard(ip) || same_host(ip, host)
}

/// A binding on every address of the host.
pub fn is_wildcard(ip: &str) -> bool {
    matches!(ip, "" | "0.0.0.0" | "::")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use crate::profile::Profile;

    fn profile() -> Deployment {
        let mut profile = Deployment::new(Profile {
            host: "127.0.0.1".into(),
            compose_project: "acme".into(),
            ..Profile::default()
        });
        profile.foreign_ports.push(Binding {
            ip: "127.0.0.1".into(),
            port: 5401,
            holder: Holder {
                container: "helpdesk-auth-db".into(),
                project: Some("helpdesk-microservices".into()),
            },
        });
        profile
    }

    #[test]
    fn an_unpublished_server_is_not_reached_and_the_guide_port_is_named_with_its_holder() {
        let mut profile = profile();
        let auth = &mut profile.services[0];
        auth.containers
            .insert(Role::Db, vec!["acme-auth-db-1".into()]);
        auth.unpublished.insert(Role::Db);
        let auth = &profile.services[0];
        let not = address(&profile, auth, Role::Db).unwrap_err();
        assert!(!not.is_failure());
        assert_eq!(
            not.to_string(),
            "not published: not reached (acme-auth-db-1 publishes no port on the host; \
             127.0.0.1:5401, the guide's port, is published by helpdesk-auth-db of project \
             helpdesk-microservices)"
        );
        assert_eq!(
            not.target(),
            "not reached: acme-auth-db-1 publishes no port"
        );
        assert_eq!(
            host_port(&profile, "localhost", 5401).unwrap_err(),
            not,
            "a port probe of the same server says the same"
        );
    }

    #[test]
    fn a_fallback_port_published_by_another_project_is_never_taken() {
        let profile = profile();
        let auth = &profile.services[0];
        let not = address(&profile, auth, Role::Db).unwrap_err();
        assert!(not.is_failure());
        assert_eq!(
            not.to_string(),
            "127.0.0.1:5401 is published by helpdesk-auth-db of project helpdesk-microservices, \
             not by this deployment"
        );
        assert_eq!(
            address(&profile, auth, Role::Redis).unwrap().to_string(),
            "127.0.0.1:6301",
            "nobody else's: the guide's port"
        );
        assert!(url(&profile, "http://127.0.0.1:5401/x").is_err());
        assert!(
            url(&profile, "http://10.1.2.3:5401/x").is_ok(),
            "another host"
        );
    }

    #[test]
    fn a_port_published_on_its_own_address_is_reached_there_beside_another_projects() {
        let mut profile = profile();
        let auth = &mut profile.services[0];
        auth.containers
            .insert(Role::Db, vec!["acme-auth-db-1".into()]);
        auth.bind_hosts.insert(Role::Db, "127.0.0.2".into());
        let auth = &profile.services[0];
        let own = address(&profile, auth, Role::Db).unwrap();
        assert_eq!(own.to_string(), "127.0.0.2:5401");
        assert_eq!(
            host_port(&profile, "127.0.0.1", 5401).unwrap(),
            own,
            "a port probe at the profile's host goes where the role is published"
        );
        assert_eq!(host_port(&profile, "127.0.0.2", 5401).unwrap(), own);
    }

    #[test]
    fn wildcard_bindings_are_reached_at_every_address() {
        assert!(binding_reached_at("0.0.0.0", "127.0.0.1"));
        assert!(binding_reached_at("127.0.0.1", "localhost"));
        assert!(!binding_reached_at("127.0.0.2", "127.0.0.1"));
    }
}
