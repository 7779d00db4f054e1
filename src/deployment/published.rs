//! The ports the deployment publishes, read from its containers' port bindings
//! on the engine (kept for stopped containers too), and the container in front
//! of a service whose own containers publish nothing (a load balancer).

use super::Deployment;
use super::app_config::Server;
use super::listen_port;
use crate::profile::{Front, Role, Service};
use bollard::models::ContainerInspectResponse;
use std::collections::HashMap;

/// The port PostgreSQL and Redis listen on inside their official images: the
/// binding preferred when a container publishes several.
const POSTGRES_PORT: u16 = 5432;
const REDIS_PORT: u16 = 6379;

/// Sets each service's ports from what its containers publish, then the
/// front of each application that publishes nothing itself. A role whose
/// containers exist and publish nothing (and are not on the host's network)
/// is marked unpublished: the guide's port is only for a role with no
/// container at all. A config that lists the services keeps its ports.
/// `others` are the project's containers that belong to none of the guide's services.
/// `bind_hosts`: whether a binding's own address (when it names one) is where
/// the port is reached (a local engine, and no `host` configured).
pub fn assign(
    profile: &mut Deployment,
    inspected: &HashMap<String, ContainerInspectResponse>,
    others: &[String],
    bind_hosts: bool,
) {
    let keep_configured = profile.services_configured;
    let swarm = profile.runtime.orchestrated();
    for service in &mut profile.services {
        let app = found(service, inspected, Role::Service, service.app_port);
        let db = found(service, inspected, Role::Db, POSTGRES_PORT);
        let redis = found(service, inspected, Role::Redis, REDIS_PORT);
        if !matches!(app, Found::Published(..)) {
            service.app_front = front(service, inspected, others);
        }
        if keep_configured {
            continue;
        }
        let app_port = service.app_port;
        for (role, found, own_port) in [
            (Role::Service, app, app_port),
            (Role::Db, db, POSTGRES_PORT),
            (Role::Redis, redis, REDIS_PORT),
        ] {
            let unpublished = match found {
                Found::Published(ip, port, inside) => {
                    service.set_port(role, port);
                    service.inside_ports.insert(role, inside);
                    if bind_hosts && !super::reach::is_wildcard(&ip) {
                        service.bind_hosts.insert(role, ip);
                    }
                    false
                }
                // The container's own port is the host's.
                Found::HostNetwork => {
                    service.set_port(role, own_port);
                    false
                }
                Found::NoContainer => false,
                // A task's port may be published by the swarm's ingress, not
                // by its container: the configured one stays.
                Found::Nothing if swarm => false,
                Found::Nothing if role == Role::Service => service.app_front.is_none(),
                // Reached where it lives (`route`), at the port it listens on there.
                Found::Nothing => {
                    let port = listening(service, role, inspected).unwrap_or(own_port);
                    service.set_port(role, port);
                    service.inside_ports.insert(role, port);
                    true
                }
            };
            if unpublished {
                service.unpublished.insert(role);
            }
        }
    }
}

/// The port `service`'s server of `role` listens on inside its container, as
/// the applications pointing at it say (the service's own first).
fn listening(
    service: &Service,
    role: Role,
    inspected: &HashMap<String, ContainerInspectResponse>,
) -> Option<u16> {
    let server = match role {
        Role::Db => Server::Postgres,
        _ => Server::Redis,
    };
    let name = service.containers.get(&role)?.first()?;
    let server_container = inspected.get(name)?;
    let own = service.replicas(Role::Service);
    let mut apps: Vec<(&String, &ContainerInspectResponse)> = inspected
        .iter()
        .filter(|(other, _)| *other != name)
        .collect();
    apps.sort_by_key(|(other, _)| (!own.contains(other), other.as_str()));
    listen_port::of(server_container, apps.into_iter().map(|(_, c)| c), server)
}

/// What the containers of `service`'s `role` publish, preferring the binding
/// of `preferred` (the port inside).
fn found(
    service: &Service,
    inspected: &HashMap<String, ContainerInspectResponse>,
    role: Role,
    preferred: u16,
) -> Found {
    let containers: Vec<&ContainerInspectResponse> = service
        .containers
        .get(&role)
        .into_iter()
        .flatten()
        .filter_map(|name| inspected.get(name))
        .collect();
    match containers.iter().find_map(|c| host_port(c, preferred)) {
        Some((inside, ip, port)) => Found::Published(ip, port, inside),
        None if containers.iter().any(|c| on_host_network(c)) => Found::HostNetwork,
        None if containers.is_empty() => Found::NoContainer,
        None => Found::Nothing,
    }
}

/// What a role's containers publish on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Found {
    /// On this host address (as the engine says it) and port, from this port inside.
    Published(String, u16, u16),
    /// On the host's network: its own port is the host's.
    HostNetwork,
    /// No container of the role: the guide's (or the config's) port.
    NoContainer,
    /// Containers that publish nothing.
    Nothing,
}

/// Whether a container shares the host's network (`network_mode: host`).
fn on_host_network(c: &ContainerInspectResponse) -> bool {
    c.host_config
        .as_ref()
        .and_then(|h| h.network_mode.as_deref())
        == Some("host")
}

/// The project container (not one of the guide's services) that binds the
/// service's application port on the host.
fn front(
    service: &Service,
    inspected: &HashMap<String, ContainerInspectResponse>,
    others: &[String],
) -> Option<Front> {
    others.iter().find_map(|name| {
        let c = inspected.get(name)?;
        let binds = bindings(c)
            .iter()
            .any(|(_, _, host)| *host == service.app_port);
        let compose_service = c
            .config
            .as_ref()?
            .labels
            .as_ref()?
            .get(super::runtime::SERVICE_LABEL)?
            .clone();
        binds.then(|| Front {
            container: name.clone(),
            compose_service,
        })
    })
}

/// `(port inside, host address, host port)` of what a container publishes,
/// preferring the binding of `preferred` (its service's own port inside the
/// container) when it has several.
fn host_port(c: &ContainerInspectResponse, preferred: u16) -> Option<(u16, String, u16)> {
    let bound = bindings(c);
    bound
        .iter()
        .find(|(inside, _, _)| *inside == preferred)
        .or(bound.first())
        .cloned()
}

/// `(container port, host address, host port)` of every TCP binding: the live
/// ones of a running container (an ephemeral port is only known then), else
/// the configured ones.
fn bindings(c: &ContainerInspectResponse) -> Vec<(u16, String, u16)> {
    let live = c.network_settings.as_ref().and_then(|n| n.ports.clone());
    let configured = c.host_config.as_ref().and_then(|h| h.port_bindings.clone());
    let mut found: Vec<(u16, String, u16)> = [live, configured]
        .into_iter()
        .flatten()
        .flat_map(|map| map.into_iter())
        .filter_map(|(key, bound)| {
            let inside: u16 = key.strip_suffix("/tcp")?.parse().ok()?;
            Some(bound?.into_iter().filter_map(move |b| {
                let port = b.host_port?.parse().ok()?;
                Some((inside, b.host_ip.unwrap_or_default(), port))
            }))
        })
        .flatten()
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use bollard::models::{ContainerConfig, HostConfig, PortBinding};

    fn publishing(service: &str, bound: &[(&str, &str)]) -> ContainerInspectResponse {
        let port_bindings = bound
            .iter()
            .map(|(inside, host)| {
                let binding = PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(host.to_string()),
                };
                (inside.to_string(), Some(vec![binding]))
            })
            .collect();
        ContainerInspectResponse {
            host_config: Some(HostConfig {
                port_bindings: Some(port_bindings),
                ..Default::default()
            }),
            config: Some(ContainerConfig {
                labels: Some(HashMap::from([(
                    super::super::runtime::SERVICE_LABEL.to_string(),
                    service.to_string(),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn ports_come_from_the_bindings_and_a_front_publishes_for_replicas() {
        let mut profile = Deployment::default();
        let ticket = profile.services.iter_mut().find(|s| s.name == "ticket");
        let ticket = ticket.unwrap();
        ticket.containers.insert(
            Role::Service,
            vec!["p-ticket-service-1".into(), "p-ticket-service-2".into()],
        );
        ticket
            .containers
            .insert(Role::Db, vec!["p-ticket-db-1".into()]);
        let inspected = HashMap::from([
            (
                "p-ticket-service-1".to_string(),
                publishing("ticket-service", &[]),
            ),
            (
                "p-ticket-service-2".to_string(),
                publishing("ticket-service", &[]),
            ),
            (
                "p-ticket-db-1".to_string(),
                publishing("ticket-db", &[("9187/tcp", "19187"), ("5432/tcp", "15403")]),
            ),
            (
                "p-lb-1".to_string(),
                publishing("lb", &[("80/tcp", "3003")]),
            ),
        ]);
        assign(&mut profile, &inspected, &["p-lb-1".to_string()], true);
        let ticket = profile.service("ticket").unwrap();
        assert_eq!(
            ticket.db_port, 15403,
            "PostgreSQL's own binding is preferred"
        );
        assert_eq!(
            ticket.bind_hosts.get(&Role::Db).map(String::as_str),
            Some("127.0.0.1"),
            "the address its binding names"
        );
        assert_eq!(
            ticket.redis_port, 6303,
            "nothing found: the guide's port stays"
        );
        assert_eq!(
            ticket.app_front,
            Some(Front {
                container: "p-lb-1".into(),
                compose_service: "lb".into()
            })
        );
        assert_eq!(ticket.vars()["app_publisher"], "p-lb-1");
        assert_eq!(profile.service("auth").unwrap().app_front, None);
        assert!(
            ticket.unpublished.is_empty(),
            "the replicas publish through their front; redis has no container: the guide's port"
        );
    }

    #[test]
    fn a_container_that_publishes_nothing_keeps_no_port_of_the_guide() {
        let mut profile = Deployment::default();
        let auth = profile.services.iter_mut().find(|s| s.name == "auth");
        let auth = auth.unwrap();
        auth.containers
            .insert(Role::Db, vec!["acme-auth-db-1".into()]);
        auth.containers
            .insert(Role::Redis, vec!["acme-auth-redis-1".into()]);
        let mut on_host = publishing("auth-redis", &[]);
        on_host.host_config.as_mut().unwrap().network_mode = Some("host".into());
        let inspected = HashMap::from([
            ("acme-auth-db-1".to_string(), publishing("auth-db", &[])),
            ("acme-auth-redis-1".to_string(), on_host),
        ]);
        assign(&mut profile, &inspected, &[], true);
        let auth = profile.service("auth").unwrap();
        assert_eq!(
            auth.unpublished.iter().collect::<Vec<_>>(),
            [&Role::Db],
            "the app has no container: the guide's port, checked for another's"
        );
        assert_eq!(auth.redis_port, 6379, "on the host's network: its own port");
    }
}
