//! The port a server listens on inside its container, for a server reached
//! where it lives (it publishes nothing): the port its applications connect to
//! (the configuration, in a container of the project, whose host names that
//! container), else its image's (PostgreSQL 5432, Redis 6379).

use super::app_config::{self, Server};
use super::app_credentials::identities;
use bollard::models::ContainerInspectResponse;
use std::collections::HashMap;

/// The port `server_container` listens on, from the configurations of `apps`
/// (in order: the first that names it and a port wins).
pub fn of<'a>(
    server_container: &ContainerInspectResponse,
    apps: impl IntoIterator<Item = &'a ContainerInspectResponse>,
    server: Server,
) -> Option<u16> {
    let names = identities(server_container);
    apps.into_iter().find_map(|app| {
        let env: HashMap<String, String> = app
            .config
            .as_ref()?
            .env
            .as_ref()?
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        app_config::read(&env, server)
            .into_iter()
            .find_map(|config| {
                let host = config.host?.to_ascii_lowercase();
                names.contains(&host).then_some(config.port).flatten()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::ContainerConfig;

    fn container(name: &str, env: &[&str]) -> ContainerInspectResponse {
        ContainerInspectResponse {
            name: Some(format!("/{name}")),
            config: Some(ContainerConfig {
                env: Some(env.iter().map(|e| e.to_string()).collect()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_port_is_the_one_the_application_pointing_at_the_server_uses() {
        let db = container("acme-db-1", &[]);
        let other = container("acme-web-1", &["PGHOST=elsewhere", "PGPORT=6000"]);
        let app = container("acme-api-1", &["PGHOST=acme-db-1", "PGPORT=5433"]);
        assert_eq!(of(&db, [&other, &app], Server::Postgres), Some(5433));
        let url = container("acme-api-1", &["REDIS_URL=redis://u:p@acme-db-1:6380/0"]);
        assert_eq!(of(&db, [&url], Server::Redis), Some(6380));
        let no_port = container("acme-api-1", &["PGHOST=acme-db-1"]);
        assert_eq!(of(&db, [&no_port], Server::Postgres), None);
    }
}
