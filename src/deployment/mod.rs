//! The deployment layer under probes and runbooks: the engine client, the
//! containers found on it, commands run in them, the PostgreSQL and Redis
//! clients and the credentials they use. `Context` holds one run's view of it.

pub mod app_config;
pub mod app_credentials;
pub mod body;
pub mod bridge;
pub mod certificate;
pub mod cluster;
pub mod connect_error;
pub mod container;
pub mod container_file;
pub mod container_secrets;
pub mod containers;
pub mod context;
pub mod credentials;
pub mod discovered;
pub mod discovery;
pub mod disk_usage;
pub mod engine;
pub mod engine_client;
pub mod error;
pub mod exec;
pub mod exec_stream;
pub mod health_json;
pub mod http;
pub mod listen_port;
pub mod memo;
mod mounted_file;
pub mod nodes;
pub mod pg_activity;
pub mod placement;
pub mod postgres;
pub mod published;
pub mod reach;
pub mod redis;
pub mod redis_acl;
pub mod route;
pub mod runtime;
pub mod ssh;
pub mod stack_service;
mod target;
pub mod task_state;
pub mod tls;

use crate::profile::Service;
use crate::secrets::Secrets;
use credentials::{Credential, Unreadable};
pub use discovered::Deployment;
pub use error::EngineError;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a client could not connect, classified for the diagnosis, with the fix.
#[derive(Clone, Debug)]
pub struct Failure {
    pub message: String,
    pub hint: String,
}

/// Which credential of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    Postgres,
    Redis,
}

/// What every probe shares: the profile, clients, the redactor and the probe timeout.
pub struct Context {
    pub profile: Deployment,
    pub secrets: Secrets,
    pub timeout: Duration,
    pub postgres: memo::Memo<Result<Arc<tokio_postgres::Client>, Failure>>,
    /// Each database server's sessions, read once per run (`pg_activity`).
    pub pg_activity: memo::Memo<Result<Arc<pg_activity::Activity>, pg_activity::ActivityError>>,
    /// One Redis connection per service and run, shared by its checks.
    pub redis: memo::Memo<Result<::redis::aio::MultiplexedConnection, Failure>>,
    /// The way to each server that publishes nothing (`route`).
    pub routes: memo::Memo<Result<reach::Address, route::NoRoute>>,
    credentials: memo::Memo<Result<Credential, Unreadable>>,
    pub inspected: memo::Memo<Result<Option<Arc<container::Container>>, EngineError>>,
    docker: tokio::sync::OnceCell<Result<bollard::Docker, EngineError>>,
    /// Each swarm node's engine, connected once (by hostname); None: none configured.
    node_engines: memo::Memo<Option<Result<bollard::Docker, EngineError>>>,
    /// Why each swarm node cannot be reached, asked once (by hostname).
    node_reach: memo::Memo<Option<String>>,
    http: reqwest::Client,
    /// For checks that opt out of certificate verification (`insecure = true`).
    http_insecure: std::sync::OnceLock<reqwest::Client>,
    connection_slots: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// At most this many of the doctor's connections to one address at a time, so
/// that no catalog, however large, can exhaust a proxy's file descriptors.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 32;

/// A URL's `host:port`, as its connection slots are keyed.
pub fn url_address(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or(0)
            )
        })
        .unwrap_or_else(|_| url.to_string())
}

impl Context {
    pub fn new(profile: Deployment) -> Context {
        let timeout = Duration::from_millis(profile.timeouts.probe_ms);
        let http = http::client(timeout, false);
        Context {
            profile,
            secrets: Secrets::default(),
            timeout,
            postgres: Default::default(),
            pg_activity: Default::default(),
            redis: Default::default(),
            routes: Default::default(),
            inspected: Default::default(),
            credentials: Default::default(),
            docker: Default::default(),
            node_engines: Default::default(),
            node_reach: Default::default(),
            http,
            http_insecure: Default::default(),
            connection_slots: Default::default(),
        }
    }

    /// Looks up every credential of the deployment, and learns the secrets of
    /// every container of the project (every replica, the load balancer, a
    /// container no service names), so the redactor knows them all before any
    /// check runs, whichever checks are selected.
    pub async fn register_secrets(&self) {
        let lookups = self.profile.services.iter().map(|service| async move {
            let _ = self.credential(service, CredentialKind::Postgres).await;
            let _ = self.credential(service, CredentialKind::Redis).await;
        });
        tokio::join!(
            futures::future::join_all(lookups),
            self.learn_project_secrets()
        );
    }

    /// Every container of the project and every replica the profile names,
    /// inspected once (the checks share the inspection), its secrets learned.
    async fn learn_project_secrets(&self) {
        let mut names: Vec<String> = containers::of_project(self)
            .await
            .map(|members| members.into_iter().map(|m| m.name).collect())
            .unwrap_or_default();
        names.extend(
            self.profile
                .services
                .iter()
                .flat_map(|s| s.containers.values().flatten().cloned()),
        );
        names.sort();
        names.dedup();
        let learned = names.iter().map(|name| async move {
            if let Ok(Some(inspected)) = containers::described(self, name).await {
                container_secrets::learn(&self.secrets, &inspected.inspected);
            }
        });
        futures::future::join_all(learned).await;
    }

    /// Waits for one of the `MAX_CONNECTIONS_PER_ADDRESS` slots of `address`
    /// (`host:port`); the slot is free again when the permit is dropped.
    pub async fn connection_slot(&self, address: &str) -> OwnedSemaphorePermit {
        let slots = self
            .connection_slots
            .lock()
            .expect("connection slots lock")
            .entry(address.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(MAX_CONNECTIONS_PER_ADDRESS)))
            .clone();
        slots
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// The slot for a URL's host and port.
    pub async fn url_slot(&self, url: &str) -> OwnedSemaphorePermit {
        self.connection_slot(&url_address(url)).await
    }

    /// The deployment's engine, connected and version-negotiated once.
    pub async fn engine(&self) -> Result<engine_client::EngineClient, EngineError> {
        let docker = self.docker().await?.clone();
        Ok(engine_client::EngineClient::new(docker, self.timeout))
    }

    /// The engine `container` runs on (`docker_for`).
    pub async fn engine_for(
        &self,
        container: &str,
    ) -> Result<engine_client::EngineClient, EngineError> {
        let docker = self.docker_for(container).await?;
        Ok(engine_client::EngineClient::new(docker, self.timeout))
    }

    /// The deployment's engine's client, connected and version-negotiated once.
    pub(in crate::deployment) async fn docker(&self) -> Result<&bollard::Docker, EngineError> {
        let connected = self
            .docker
            .get_or_init(|| self.profile.engine.connect(self.timeout));
        connected.await.as_ref().map_err(Clone::clone)
    }

    /// The client of the engine `container` runs on (its name or id): this
    /// engine, or — a Swarm task on another node — that node's engine when one
    /// is configured (`nodes::configured`); else why it cannot be read.
    pub(in crate::deployment) async fn docker_for(
        &self,
        container: &str,
    ) -> Result<bollard::Docker, EngineError> {
        match nodes::home(self.profile.cluster.as_deref(), container) {
            nodes::Home::Here => self.docker().await.cloned(),
            nodes::Home::Nowhere(task) => Err(EngineError::Unplaced {
                container: task.container.clone(),
                reason: task
                    .error
                    .clone()
                    .unwrap_or_else(|| "its task waits for one".into()),
            }),
            nodes::Home::Node(node) => {
                if let Some(reason) = self.node_unreachable(node).await {
                    return Err(EngineError::NodeUnreachable {
                        node: node.to_string(),
                        reason,
                    });
                }
                match self.node_docker(node).await {
                    Some(connected) => connected,
                    None => Err(nodes::no_engine(container, node)),
                }
            }
        }
    }

    /// Whether `container`'s engine runs on this machine (its processes and
    /// cgroups are this machine's).
    pub fn is_local_for(&self, container: &str) -> bool {
        match nodes::home(self.profile.cluster.as_deref(), container) {
            nodes::Home::Here => self.profile.engine.is_local(),
            nodes::Home::Node(node) => {
                nodes::configured(&self.profile, node).is_some_and(|e| e.is_local())
            }
            nodes::Home::Nowhere(_) => false,
        }
    }

    /// The engine configured for `node`, connected once; None: none is.
    async fn node_docker(
        &self,
        node: &cluster::Node,
    ) -> Option<Result<bollard::Docker, EngineError>> {
        self.node_engines
            .get_or_init(&node.hostname, || async {
                let engine = nodes::configured(&self.profile, node)?;
                Some(engine.connect(self.timeout).await)
            })
            .await
    }

    /// Why `node` cannot be reached from here, asked once per run: down for
    /// its manager, its engine not answering, or its published ports silent.
    pub async fn node_unreachable(&self, node: &cluster::Node) -> Option<String> {
        self.node_reach
            .get_or_init(&node.hostname, || async {
                if let Some(down) = nodes::down(node) {
                    return Some(down);
                }
                let cluster = self.profile.cluster.as_deref()?;
                if cluster.is_local(node) {
                    return None;
                }
                match self.node_docker(node).await {
                    Some(connected) => connected.err().map(|e| e.to_string()),
                    None => nodes::silent(&self.profile, cluster, node, self.timeout).await,
                }
            })
            .await
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The HTTP client, or the one that does not verify certificates.
    pub fn http_client(&self, insecure: bool) -> &reqwest::Client {
        if insecure {
            self.http_insecure
                .get_or_init(|| http::client(self.timeout, true))
        } else {
            &self.http
        }
    }

    /// `service`'s PostgreSQL or Redis credential, looked up once per run
    /// (`crate::credentials`) and registered with the redactor.
    pub async fn credential(
        &self,
        service: &Service,
        kind: CredentialKind,
    ) -> Result<Credential, Unreadable> {
        let key = format!("{kind:?}/{}", service.name);
        let found = self
            .credentials
            .get_or_init(&key, || async {
                match kind {
                    CredentialKind::Postgres => credentials::postgres(self, service).await,
                    CredentialKind::Redis => credentials::redis(self, service).await,
                }
            })
            .await;
        if let Ok(Credential {
            value: Some(value), ..
        }) = &found
        {
            self.secrets.add(value);
        }
        found
    }

    /// `text` with every secret this run knows, and every secret-shaped part, masked.
    pub fn mask(&self, text: &str) -> String {
        crate::secrets::mask_shapes(&self.secrets.redact(text))
    }
}
