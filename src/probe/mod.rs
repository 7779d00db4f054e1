//! Probes: one file per protocol, one entry point per kind, all with the same
//! signature `(params, &Context) -> Outcome`. The runner owns the timeouts.

pub mod cgroup;
pub mod docker;
pub mod engine;
pub mod env;
pub mod exec;
pub mod health_json;
pub mod host;
pub mod http;
pub mod listener;
pub mod logs;
pub mod memo;
pub mod postgres;
pub mod redis;
pub mod tcp;

use crate::check::Outcome;
use crate::credentials::{self, Credential, Unreadable};
use crate::profile::{Profile, Service};
use crate::secrets::Secrets;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a check probes, as written in the catalog (`probe = { kind = "...", ... }`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Probe {
    DockerEngine,
    Container {
        container: String,
        compose_service: String,
    },
    ContainerLogging {
        container: String,
    },
    ContainerNetwork {
        container: String,
        network: String,
    },
    ContainerResources {
        container: String,
        memory_warn_percent: f64,
    },
    /// Static: Docker's DNS rules from inspect data (fast); `exec = true` also runs
    /// `getent hosts` inside the container, as the guide's nslookup does.
    ContainerDns {
        container: String,
        hosts: Vec<String>,
        #[serde(default)]
        exec: bool,
    },
    ContainerEnv {
        container: String,
        vars: BTreeMap<String, env::Format>,
    },
    ContainerLogs {
        container: String,
        patterns: Vec<String>,
        window_minutes: i64,
    },
    Tcp {
        port: u16,
        owner: String,
    },
    Disk {
        warn_gb: f64,
        fail_gb: f64,
    },
    HostMemory {
        warn_percent: f64,
    },
    HostLoad,
    HttpHealth {
        url: String,
    },
    HttpVerify {
        url: String,
    },
    PostgresConnect {
        service: String,
    },
    PostgresTables {
        service: String,
        tables: Vec<String>,
    },
    PostgresIndexes {
        service: String,
        table: String,
        columns: Vec<String>,
    },
    PostgresSlowQueries {
        service: String,
        threshold_ms: f64,
        min_calls: i64,
    },
    PostgresScalar {
        service: String,
        sql: String,
        warn_above: i64,
        label: String,
    },
    RedisPing {
        service: String,
    },
    RedisInfo {
        service: String,
    },
}

impl Probe {
    /// The kind's name, as in the catalog.
    pub fn kind(&self) -> String {
        let value = toml::Value::try_from(self).expect("a probe serialises");
        value
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string()
    }

    /// The profile service a probe is about, if it names one.
    pub fn service(&self) -> Option<&str> {
        use Probe::*;
        match self {
            PostgresConnect { service }
            | PostgresTables { service, .. }
            | PostgresIndexes { service, .. }
            | PostgresSlowQueries { service, .. }
            | PostgresScalar { service, .. }
            | RedisPing { service }
            | RedisInfo { service } => Some(service),
            _ => None,
        }
    }

    /// What the probe looks at, for reports.
    pub fn target(&self, ctx: &Context) -> String {
        use Probe::*;
        match self {
            DockerEngine => "docker".into(),
            Container { container, .. }
            | ContainerLogging { container }
            | ContainerNetwork { container, .. }
            | ContainerResources { container, .. }
            | ContainerDns { container, .. }
            | ContainerEnv { container, .. }
            | ContainerLogs { container, .. } => container.clone(),
            Tcp { port, .. } => format!("{}:{port}", ctx.profile.host),
            Disk { .. } | HostMemory { .. } | HostLoad => "host".into(),
            HttpHealth { url } | HttpVerify { url } => url.clone(),
            PostgresConnect { service }
            | PostgresTables { service, .. }
            | PostgresIndexes { service, .. }
            | PostgresSlowQueries { service, .. }
            | PostgresScalar { service, .. } => match ctx.profile.service(service) {
                Some(s) => format!("{}@{}:{}", s.database, ctx.profile.host, s.db_port),
                None => service.clone(),
            },
            RedisPing { service } | RedisInfo { service } => match ctx.profile.service(service) {
                Some(s) => format!("redis@{}:{}", ctx.profile.host, s.redis_port),
                None => service.clone(),
            },
        }
    }

    pub async fn run(&self, ctx: &Context) -> Outcome {
        use Probe::*;
        match self {
            DockerEngine => docker::engine(ctx).await,
            Container {
                container,
                compose_service,
            } => docker::container(ctx, container, compose_service).await,
            ContainerLogging { container } => docker::logging(ctx, container).await,
            ContainerNetwork { container, network } => {
                docker::network(ctx, container, network).await
            }
            ContainerResources {
                container,
                memory_warn_percent,
            } => docker::resources(ctx, container, *memory_warn_percent).await,
            ContainerDns {
                container,
                hosts,
                exec,
            } => docker::dns(ctx, container, hosts, *exec).await,
            ContainerEnv { container, vars } => env::check(ctx, container, vars).await,
            ContainerLogs {
                container,
                patterns,
                window_minutes,
            } => logs::scan(ctx, container, patterns, *window_minutes).await,
            Tcp { port, owner } => tcp::check(ctx, *port, owner).await,
            Disk { warn_gb, fail_gb } => host::disk(ctx, *warn_gb, *fail_gb).await,
            HostMemory { warn_percent } => host::memory(*warn_percent),
            HostLoad => host::load(),
            HttpHealth { url } => http::health(ctx, url).await,
            HttpVerify { url } => http::verify(ctx, url).await,
            PostgresConnect { service } => {
                with_service(ctx, service, |s| postgres::connect(ctx, s)).await
            }
            PostgresTables { service, tables } => {
                with_service(ctx, service, |s| postgres::tables(ctx, s, tables)).await
            }
            PostgresIndexes {
                service,
                table,
                columns,
            } => with_service(ctx, service, |s| postgres::indexes(ctx, s, table, columns)).await,
            PostgresSlowQueries {
                service,
                threshold_ms,
                min_calls,
            } => {
                with_service(ctx, service, |s| {
                    postgres::slow_queries(ctx, s, *threshold_ms, *min_calls)
                })
                .await
            }
            PostgresScalar {
                service,
                sql,
                warn_above,
                label,
            } => {
                with_service(ctx, service, |s| {
                    postgres::scalar(ctx, s, sql, *warn_above, label)
                })
                .await
            }
            RedisPing { service } => with_service(ctx, service, |s| redis::ping(ctx, s)).await,
            RedisInfo { service } => with_service(ctx, service, |s| redis::info(ctx, s)).await,
        }
    }
}

async fn with_service<'a, F, Fut>(ctx: &'a Context, name: &str, probe: F) -> Outcome
where
    F: FnOnce(&'a Service) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    match ctx.profile.service(name) {
        Some(service) => probe(service).await,
        None => Outcome::fail(format!("service {name:?} is not in the profile")),
    }
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
    pub postgres: memo::Memo<Result<std::sync::Arc<tokio_postgres::Client>, postgres::Failure>>,
    credentials: memo::Memo<Result<Credential, Unreadable>>,
    pub inspected: memo::Memo<
        Result<Option<std::sync::Arc<bollard::models::ContainerInspectResponse>>, String>,
    >,
    docker: tokio::sync::OnceCell<Result<bollard::Docker, String>>,
    http: reqwest::Client,
    connection_slots: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// At most this many of the doctor's connections to one address at a time, so
/// that no catalog, however large, can exhaust a proxy's file descriptors.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 32;

impl Context {
    pub fn new(profile: Profile) -> Context {
        let timeout = Duration::from_millis(profile.timeouts.probe_ms);
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds with static settings");
        Context {
            profile,
            secrets: Secrets::default(),
            timeout,
            postgres: Default::default(),
            inspected: Default::default(),
            credentials: Default::default(),
            docker: Default::default(),
            http,
            connection_slots: Default::default(),
        }
    }

    /// Looks up every credential of the deployment so the redactor knows them all
    /// before any check runs, whichever checks are selected.
    pub async fn register_secrets(&self) {
        let lookups = self.profile.services.iter().map(|service| async move {
            let _ = self.credential(service, CredentialKind::Postgres).await;
            let _ = self.credential(service, CredentialKind::Redis).await;
        });
        futures::future::join_all(lookups).await;
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
        let address = reqwest::Url::parse(url)
            .map(|u| {
                format!(
                    "{}:{}",
                    u.host_str().unwrap_or_default(),
                    u.port_or_known_default().unwrap_or(0)
                )
            })
            .unwrap_or_else(|_| url.to_string());
        self.connection_slot(&address).await
    }

    /// The Docker client, connected and version-negotiated once (honours `DOCKER_HOST`).
    pub async fn docker(&self) -> Result<&bollard::Docker, String> {
        let connected = self.docker.get_or_init(|| engine::connect(self.timeout));
        connected.await.as_ref().map_err(Clone::clone)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
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
}
