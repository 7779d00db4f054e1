//! Probes: one file per protocol, one entry point per kind, all with the same
//! signature `(params, &Context) -> Outcome`; they judge what the deployment
//! layer (`crate::deployment`) reaches. The runner owns the timeouts.

pub mod cgroup;
pub mod docker;
pub mod duration;
pub mod env;
pub mod host;
pub mod http;
pub mod listener;
pub mod logs;
pub mod migrations;
pub mod postgres;
pub mod redis;
pub mod restarts;
pub mod swarm;
pub mod tcp;

use crate::check::Outcome;
pub use crate::deployment::Context;
use crate::deployment::credentials::{Credential, Source};
use crate::deployment::reach::{self, NotReached};
use crate::deployment::{CredentialKind, Failure};
use crate::profile::Service;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `call` within the probe timeout; its error said as `what: error`.
pub async fn within<T, E: std::fmt::Display>(
    ctx: &Context,
    what: &str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(ctx.timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {:?}", ctx.timeout)),
    }
}

/// What a check probes, as written in the catalog (`probe = { kind = "...", ... }`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Probe {
    DockerEngine,
    Container {
        container: String,
        compose_service: String,
        /// A restart older than this is a detail, not a warning.
        #[serde(default = "default_restart_window")]
        restart_window_seconds: u64,
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
    /// Lines at `level` or above (read from each line's shape: JSON, logfmt,
    /// plain text) and lines holding one of `patterns` (any case).
    ContainerLogs {
        container: String,
        #[serde(default)]
        level: Option<crate::logs::Level>,
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
        /// HTTPS without verifying the server's certificate (a self-signed
        /// internal endpoint). Off by default.
        #[serde(default)]
        insecure: bool,
    },
    HttpVerify {
        url: String,
        #[serde(default)]
        insecure: bool,
    },
    PostgresConnect {
        service: String,
    },
    PostgresTables {
        service: String,
        tables: Vec<String>,
    },
    /// The migration history of the framework that keeps one (knex, TypeORM,
    /// Prisma, Sequelize, node-pg-migrate, Flyway, Alembic).
    PostgresMigrations {
        service: String,
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
    /// A Swarm stack's service (`<stack>_<compose_service>`): tasks running
    /// against the desired replicas, failing tasks' errors, a stuck update.
    SwarmService {
        compose_service: String,
    },
    /// The swarm's nodes: down, drained or paused.
    SwarmNodes,
}

fn default_restart_window() -> u64 {
    crate::profile::Thresholds::default().restart_window_seconds
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
            | PostgresMigrations { service }
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
            Tcp { port, .. } => match reach::host_port(&ctx.profile, &ctx.profile.host, *port) {
                Ok(address) => address.to_string(),
                Err(not) => not.target(),
            },
            Disk { .. } | HostMemory { .. } | HostLoad => "host".into(),
            HttpHealth { url, .. } | HttpVerify { url, .. } => {
                match reach::url(&ctx.profile, url) {
                    Ok(()) => url.clone(),
                    Err(not) => not.target(),
                }
            }
            PostgresConnect { service }
            | PostgresTables { service, .. }
            | PostgresMigrations { service }
            | PostgresIndexes { service, .. }
            | PostgresSlowQueries { service, .. }
            | PostgresScalar { service, .. } => server_target(ctx, service, "db"),
            RedisPing { service } | RedisInfo { service } => server_target(ctx, service, "redis"),
            SwarmService { compose_service } => {
                format!("{}_{compose_service}", ctx.profile.compose_project)
            }
            SwarmNodes => "swarm".into(),
        }
    }

    /// The `host:port` whose connection slot (`Context::connection_slot`) the
    /// caller holds while the probe runs, for probes that open connections to
    /// an address many checks may share.
    pub fn slot_address(&self, ctx: &Context) -> Option<String> {
        match self {
            Probe::Tcp { port, .. } => Some(format!("{}:{port}", ctx.profile.host)),
            Probe::HttpHealth { url, .. } | Probe::HttpVerify { url, .. } => {
                Some(crate::deployment::url_address(url))
            }
            _ => None,
        }
    }

    pub async fn run(&self, ctx: &Context) -> Outcome {
        use Probe::*;
        match self {
            DockerEngine => docker::engine(ctx).await,
            Container {
                container,
                compose_service,
                restart_window_seconds,
            } => {
                let window = std::time::Duration::from_secs(*restart_window_seconds);
                docker::container(ctx, container, compose_service, window).await
            }
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
                level,
                patterns,
                window_minutes,
            } => {
                let wanted = logs::Wanted {
                    level: *level,
                    patterns,
                };
                logs::scan(ctx, container, &wanted, *window_minutes).await
            }
            Tcp { port, owner } => tcp::check(ctx, *port, owner).await,
            SwarmService { compose_service } => swarm::service(ctx, compose_service).await,
            SwarmNodes => swarm::nodes(ctx).await,
            Disk { .. } | HostMemory { .. } | HostLoad if !ctx.profile.engine.is_local() => {
                host::of_remote_engine(ctx).await
            }
            Disk { warn_gb, fail_gb } => host::disk(ctx, *warn_gb, *fail_gb).await,
            HostMemory { warn_percent } => host::memory(*warn_percent),
            HostLoad => host::load(),
            HttpHealth { url, insecure } => http::health(ctx, url, *insecure).await,
            HttpVerify { url, insecure } => http::verify(ctx, url, *insecure).await,
            PostgresConnect { service } => {
                with_service(ctx, service, |s| postgres::connect(ctx, s)).await
            }
            PostgresTables { service, tables } => {
                with_service(ctx, service, |s| postgres::tables(ctx, s, tables)).await
            }
            PostgresMigrations { service } => {
                with_service(ctx, service, |s| migrations::check(ctx, s)).await
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

/// A PostgreSQL or Redis client's failure as an outcome. When no password was
/// found and the engine — through which the deployment's own are read — cannot
/// be reached, no password is missing: the engine is (`Outcome::wanting_engine`).
pub async fn client_failure(
    ctx: &Context,
    service: &Service,
    kind: CredentialKind,
    failure: Failure,
) -> Outcome {
    let outcome = Outcome::fail(failure.message).with_hint(failure.hint);
    let found_nowhere = matches!(
        ctx.credential(service, kind).await,
        Ok(Credential {
            source: Source::Nowhere,
            ..
        })
    );
    if found_nowhere && ctx.docker().await.is_err() {
        outcome.wanting_engine()
    } else {
        outcome
    }
}

/// A PostgreSQL or Redis check's target: `name@host:port` where it is
/// reached (the database's name, or `redis`), else why it is not.
fn server_target(ctx: &Context, service: &str, role: &str) -> String {
    let Some(s) = ctx.profile.service(service) else {
        return service.to_string();
    };
    let name = if role == "db" {
        s.database.as_str()
    } else {
        "redis"
    };
    match reach::address(&ctx.profile, s, role) {
        Ok(address) => format!("{name}@{address}"),
        Err(not) => not.target(),
    }
}

/// A server that is not the deployment's to reach: SKIP when it publishes
/// nothing (not a fault), FAIL when its port is another deployment's, naming whose.
pub fn not_reached(ctx: &Context, not: NotReached) -> Outcome {
    let outcome = if not.is_failure() {
        Outcome::fail(not.to_string()).with_hint(not.hint(&ctx.profile))
    } else {
        Outcome::new(crate::check::Status::Skip, not.to_string())
    };
    match not.holder() {
        Some(holder) => outcome.detail("published_by", holder),
        None => outcome,
    }
}

async fn with_service<'a, F, Fut>(ctx: &'a Context, name: &str, probe: F) -> Outcome
where
    F: FnOnce(&'a Service) -> Fut,
    Fut: Future<Output = Outcome>,
{
    match ctx.profile.service(name) {
        Some(service) => probe(service).await,
        None => Outcome::fail(format!("service {name:?} is not in the profile")),
    }
}
