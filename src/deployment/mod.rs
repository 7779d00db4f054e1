//! The deployment layer under probes and runbooks: the engine client, the
//! containers found on it, commands run in them, the PostgreSQL and Redis
//! clients and the credentials they use. `Context` holds one run's view of it.

pub mod app_config;
pub mod app_credentials;
pub mod body;
pub mod certificate;
pub mod connect_error;
pub mod container_file;
pub mod container_secrets;
pub mod containers;
pub mod context;
pub mod credentials;
pub mod discovery;
pub mod disk_usage;
pub mod engine;
pub mod error;
pub mod exec;
pub mod exec_stream;
pub mod health_json;
pub mod http;
pub mod memo;
pub mod pg_activity;
pub mod postgres;
pub mod published;
pub mod reach;
pub mod redis;
pub mod redis_acl;
pub mod runtime;
pub mod tls;

use crate::profile::{Profile, Service};
use crate::secrets::Secrets;
use credentials::{Credential, Unreadable};
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
    pub profile: Profile,
    pub secrets: Secrets,
    pub timeout: Duration,
    pub postgres: memo::Memo<Result<Arc<tokio_postgres::Client>, Failure>>,
    /// Each database server's sessions, read once per run (`pg_activity`).
    pub pg_activity: memo::Memo<Result<Arc<pg_activity::Activity>, pg_activity::ActivityError>>,
    /// One Redis connection per service and run, shared by its checks.
    pub redis: memo::Memo<Result<::redis::aio::MultiplexedConnection, Failure>>,
    credentials: memo::Memo<Result<Credential, Unreadable>>,
    pub inspected:
        memo::Memo<Result<Option<Arc<bollard::models::ContainerInspectResponse>>, EngineError>>,
    docker: tokio::sync::OnceCell<Result<bollard::Docker, EngineError>>,
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
    pub fn new(profile: Profile) -> Context {
        let timeout = Duration::from_millis(profile.timeouts.probe_ms);
        let http = http::client(timeout, false);
        Context {
            profile,
            secrets: Secrets::default(),
            timeout,
            postgres: Default::default(),
            pg_activity: Default::default(),
            redis: Default::default(),
            inspected: Default::default(),
            credentials: Default::default(),
            docker: Default::default(),
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
            if let Ok(Some(inspected)) = containers::inspect(self, name).await {
                container_secrets::learn(&self.secrets, &inspected);
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

    /// The deployment's engine's client, connected and version-negotiated once.
    pub async fn docker(&self) -> Result<&bollard::Docker, EngineError> {
        let connected = self
            .docker
            .get_or_init(|| self.profile.engine.connect(self.timeout));
        connected.await.as_ref().map_err(Clone::clone)
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
