//! The way to a server of the deployment (PostgreSQL, Redis): its published
//! port (`reach::address`); else — its container publishes nothing — the
//! container's own address on the project's network, when the engine is this
//! machine's and that address answers from here; else through the engine (an
//! exec bridge in the container, `bridge`). Found once per server and run.

use super::reach::{self, Address, NotReached, Via};
use super::{Context, EngineError, Failure, containers};
use crate::profile::{Role, Service};
use bollard::models::ContainerInspectResponse;
use std::time::Duration;

/// Why no way to a server was taken.
#[derive(Clone, Debug, thiserror::Error)]
pub enum NoRoute {
    /// Not the deployment's to reach (`reach`): another's port, or nothing
    /// was found to reach it by.
    #[error("{0}")]
    NotReached(#[from] NotReached),
    /// Its container is not running: it has no address, and nothing to exec in.
    #[error("{container} is not running ({state}), and it publishes no port: not reached")]
    Down { container: String, state: String },
    /// The engine, through which an unpublished server is found, failed.
    #[error("{0}")]
    Engine(#[from] EngineError),
}

impl NoRoute {
    /// As a client's failure (`name`: the database, or the Redis container).
    pub fn failure(&self, ctx: &Context, service: &Service, role: Role, name: &str) -> Failure {
        let hint = match self {
            NoRoute::NotReached(not) => not.hint(&ctx.profile),
            NoRoute::Engine(e) => e.hint(),
            NoRoute::Down { .. } => format!(
                "Start it: {0} up -d {1}; then read why it stopped: {0} logs --tail=50 {1}",
                ctx.profile.compose_command(),
                service.compose_service(role)
            ),
        };
        Failure {
            message: format!("{name}: {self}"),
            hint,
        }
    }
}

/// The way to `service`'s server of `role` (`db`, `redis`), found once per run.
pub async fn to(ctx: &Context, service: &Service, role: Role) -> Result<Address, NoRoute> {
    match reach::address(&ctx.profile, service, role) {
        Ok(address) => Ok(address),
        Err(NotReached::Unpublished { .. }) => {
            let key = format!("{}/{role}", service.name);
            ctx.routes
                .get_or_init(&key, || unpublished(ctx, service, role))
                .await
        }
        Err(not) => Err(NoRoute::NotReached(not)),
    }
}

/// The way already found to `service`'s server of `role`, if one was looked
/// for in this run (for a report's target, written once the checks ran).
pub fn found(ctx: &Context, service: &Service, role: Role) -> Option<Result<Address, NoRoute>> {
    match reach::address(&ctx.profile, service, role) {
        Ok(address) => Some(Ok(address)),
        Err(NotReached::Unpublished { .. }) => ctx.routes.get(&format!("{}/{role}", service.name)),
        Err(not) => Some(Err(NoRoute::NotReached(not))),
    }
}

/// The way to a server whose container publishes nothing.
async fn unpublished(ctx: &Context, service: &Service, role: Role) -> Result<Address, NoRoute> {
    let container = service.container(role);
    let port = service.port_inside(role);
    let not_reached = || {
        NoRoute::NotReached(
            reach::address(&ctx.profile, service, role).expect_err("an unpublished role"),
        )
    };
    let Some(inspected) = containers::inspect(ctx, &container).await? else {
        return Err(not_reached());
    };
    if !inspected.state.running {
        let state = match inspected.state.status {
            super::container::Status::Unknown => "unknown".to_string(),
            status => status.to_string(),
        };
        return Err(NoRoute::Down { container, state });
    }
    if ctx.profile.engine.is_local()
        && let Some((network, ip)) = on_network(&inspected.inspected, &ctx.profile.network)
    {
        let address = Address {
            host: ip,
            port,
            via: Via::Network(network),
        };
        if answers(&address, ctx.timeout / 2).await {
            return Ok(address);
        }
    }
    Ok(Address {
        host: container.clone(),
        port,
        via: Via::Engine(container),
    })
}

/// The container's address on `preferred` (the project's network) when it is
/// attached to it, else on its first network by name: `(network, ip)`.
fn on_network(c: &ContainerInspectResponse, preferred: &str) -> Option<(String, String)> {
    let networks = c.network_settings.as_ref()?.networks.as_ref()?;
    let address = |name: &String| {
        let endpoint = networks.get(name)?;
        let ip = [&endpoint.ip_address, &endpoint.global_ipv6_address]
            .into_iter()
            .flatten()
            .find(|ip| !ip.is_empty())?;
        Some((name.clone(), ip.clone()))
    };
    let mut names: Vec<&String> = networks.keys().collect();
    names.sort_by_key(|name| (name.as_str() != preferred, name.as_str()));
    names.into_iter().find_map(address)
}

/// Whether this machine reaches `address`: it accepts, or it refuses (the
/// host is there, its server is not: the port check will say so).
async fn answers(address: &Address, within: Duration) -> bool {
    let connecting = tokio::net::TcpStream::connect(address.host_port());
    match tokio::time::timeout(within, connecting).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{EndpointSettings, NetworkSettings};
    use std::collections::HashMap;

    fn attached(networks: &[(&str, &str)]) -> ContainerInspectResponse {
        let networks = networks
            .iter()
            .map(|(name, ip)| {
                let endpoint = EndpointSettings {
                    ip_address: Some(ip.to_string()),
                    ..Default::default()
                };
                (name.to_string(), endpoint)
            })
            .collect::<HashMap<_, _>>();
        ContainerInspectResponse {
            network_settings: Some(NetworkSettings {
                networks: Some(networks),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_projects_network_is_preferred_and_an_empty_address_is_none() {
        let c = attached(&[("a_net", "10.0.0.2"), ("acme_default", "172.20.0.3")]);
        assert_eq!(
            on_network(&c, "acme_default"),
            Some(("acme_default".into(), "172.20.0.3".into()))
        );
        assert_eq!(
            on_network(&c, "elsewhere"),
            Some(("a_net".into(), "10.0.0.2".into())),
            "not on the project's network: its first by name"
        );
        let none = attached(&[("acme_default", "")]);
        assert_eq!(on_network(&none, "acme_default"), None);
    }

    #[tokio::test]
    async fn an_address_that_refuses_is_reached_there() {
        // The host is there, its server is not: the port check will say so.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let refused = Address {
            host: "127.0.0.1".into(),
            port,
            via: Via::Network("n".into()),
        };
        assert!(answers(&refused, Duration::from_secs(1)).await);
    }
}
