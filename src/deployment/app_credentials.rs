//! The credentials an application uses for a server, taken from the
//! application whose configuration points at that server's container (its
//! name, compose service, network aliases, hostname or address) — the
//! service's own application first, then any container of the project.

use super::app_config::{self, Password, Server, ServerConfig};
use super::containers as docker;
use super::credentials::{self, Credential, Source, Unreadable};
use super::{Context, container_file};
use crate::profile::{Role, Service};
use bollard::models::ContainerInspectResponse;

/// An application's configuration of the server, and the container it is in.
pub struct AppServer {
    pub container: String,
    pub config: ServerConfig,
}

/// The first configuration, among the service's application containers then
/// every container of the project, whose host is `server_container`.
pub async fn find(
    ctx: &Context,
    service: &Service,
    server_container: &str,
    server: Server,
) -> Option<AppServer> {
    let target = docker::described(ctx, server_container).await.ok()??;
    let names = identities(&target.inspected);
    let mut candidates = service.replicas(Role::Service);
    if let Ok(members) = docker::of_project(ctx).await {
        candidates.extend(members.into_iter().map(|m| m.name));
    }
    candidates.retain(|c| c != server_container);
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|c| seen.insert(c.clone()));
    for container in candidates {
        let Ok(Some(env)) = docker::described_environment(ctx, &container).await else {
            continue;
        };
        let config = app_config::read(&env, server).into_iter().find(|config| {
            config
                .host
                .as_ref()
                .is_some_and(|host| names.contains(&host.to_ascii_lowercase()))
        });
        if let Some(config) = config {
            return Some(AppServer { container, config });
        }
    }
    None
}

/// The password an application's configuration gives, a file read where the
/// application reads it (a trailing newline is not part of it), with its user.
pub async fn credential(
    ctx: &Context,
    found: &AppServer,
) -> Result<Option<Credential>, Unreadable> {
    let container = found.container.clone();
    let (value, source) = match found.config.password.clone() {
        None => return Ok(None),
        Some(Password::Value { variable, value }) => {
            let source = match found.config.form {
                app_config::Form::Url(_) => Source::ContainerUrl {
                    container,
                    variable,
                },
                app_config::Form::Parts(_) => Source::ContainerVariable {
                    container,
                    variable,
                },
            };
            (value, source)
        }
        Some(Password::File { variable, path }) => {
            let source = Source::ContainerFile {
                container: container.clone(),
                variable,
                path: path.clone(),
            };
            let text = container_file::read(ctx, &container, &path)
                .await
                .map_err(|reason| Unreadable {
                    place: source.clone(),
                    reason: reason.to_string(),
                })?;
            (credentials::trim_newline(&text), source)
        }
    };
    Ok(Some(Credential {
        value: Some(value),
        user: found.config.user.clone(),
        source,
    }))
}

/// Every name by which an application may reach a container, lowercased.
pub(super) fn identities(c: &ContainerInspectResponse) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(name) = &c.name {
        names.push(name.trim_start_matches('/').to_string());
    }
    if let Some(id) = &c.id {
        names.push(id.chars().take(12).collect());
        names.push(id.clone());
    }
    if let Some(config) = &c.config {
        names.extend(config.hostname.clone());
        let labels = config.labels.clone().unwrap_or_default();
        names.extend(labels.get(super::runtime::SERVICE_LABEL).cloned());
        if let Some(swarm) = labels.get("com.docker.swarm.service.name") {
            names.push(swarm.clone());
            if let Some(stack) = labels.get("com.docker.stack.namespace")
                && let Some(short) = swarm.strip_prefix(&format!("{stack}_"))
            {
                names.push(short.to_string());
            }
        }
    }
    let networks = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref());
    for endpoint in networks.into_iter().flat_map(|n| n.values()) {
        names.extend(endpoint.aliases.clone().unwrap_or_default());
        names.extend(endpoint.dns_names.clone().unwrap_or_default());
        names.extend(endpoint.ip_address.clone().filter(|ip| !ip.is_empty()));
    }
    names.retain(|n| !n.is_empty());
    names.iter().map(|n| n.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_is_known_by_its_names_aliases_and_address() {
        let inspected: ContainerInspectResponse = serde_json::from_value(serde_json::json!({
            "Id": "0123456789abcdef0123",
            "Name": "/acme-db-1",
            "Config": {"Hostname": "0123456789ab", "Labels": {"com.docker.compose.service": "db"}},
            "NetworkSettings": {"Networks": {"acme_default": {
                "Aliases": ["Postgres.internal"], "DNSNames": ["acme-db-1", "db"], "IPAddress": "172.20.0.3"
            }}}
        }))
        .unwrap();
        let names = identities(&inspected);
        for name in [
            "acme-db-1",
            "db",
            "postgres.internal",
            "172.20.0.3",
            "0123456789ab",
        ] {
            assert!(names.contains(&name.to_string()), "{name}: {names:?}");
        }
        assert!(!names.contains(&"redis".to_string()));
    }
}
