//! Probes: one file per protocol, one entry point per kind, all with the same
//! signature `(params, &Context) -> Outcome`; they judge what the deployment
//! layer (`crate::deployment`) reaches. The runner owns the timeouts.

pub mod backups;
pub mod cgroup;
pub mod docker;
pub mod docker_disk;
pub mod duration;
pub mod env;
pub mod filesystem;
pub mod host;
pub mod http;
pub mod http_budget;
pub mod listener;
pub mod log_rotation;
pub mod logs;
pub mod migrations;
pub mod pg_sessions;
pub mod pg_vacuum;
pub mod postgres;
pub mod redis;
pub mod redis_pressure;
pub mod restarts;
pub mod supervision;
pub mod swarm;
pub mod tcp;

use crate::check::Outcome;
pub use crate::deployment::Context;
use crate::deployment::credentials::{Credential, Source};
use crate::deployment::reach::{self, Address, NotReached, Via};
use crate::deployment::route::{self, NoRoute};
use crate::deployment::{CredentialKind, Failure};
use crate::profile::{Role, Service};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// A health check, and a restart policy other than `no`.
    ContainerPolicy {
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
    HostLoad {
        /// The 5-minute load average above this many times the cores warns.
        #[serde(default = "default_load_per_core")]
        warn_per_core: f64,
    },
    /// Docker's data root: free space, inodes, and what the engine holds there.
    DockerDisk {
        warn_gb: f64,
        fail_gb: f64,
        inodes_warn_percent: f64,
        inodes_fail_percent: f64,
    },
    HttpHealth {
        url: String,
        /// HTTPS without verifying the server's certificate (a self-signed
        /// internal endpoint). Off by default.
        #[serde(default)]
        insecure: bool,
        /// Answering slower than this warns, with the timing of each phase.
        #[serde(default = "http_budget::default_slow_ms")]
        slow_ms: u64,
        /// An HTTPS certificate with fewer days left warns, or fails.
        #[serde(default = "http_budget::default_cert_warn_days")]
        cert_warn_days: u64,
        #[serde(default = "http_budget::default_cert_fail_days")]
        cert_fail_days: u64,
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
    /// Connections against `max_connections` less the reserved slots, the
    /// holders named (`pg_stat_activity`, one query per database and run).
    PostgresConnections {
        service: String,
        warn_percent: f64,
        fail_percent: f64,
    },
    /// Sessions waiting on another's lock for `wait_seconds` or more.
    PostgresLockWaits {
        service: String,
        wait_seconds: u64,
    },
    /// Transactions (idle in transaction or running) open `max_seconds` or more.
    PostgresTransactions {
        service: String,
        max_seconds: u64,
    },
    /// Dead tuples, last (auto)vacuum, transaction-ID age against wraparound.
    PostgresVacuum {
        service: String,
    },
    RedisPing {
        service: String,
    },
    /// Memory against maxmemory and its policy, evictions, the container's limit.
    RedisInfo {
        service: String,
    },
    /// The last RDB save and AOF writes (MISCONF).
    RedisPersistence {
        service: String,
    },
    /// Connections rejected at maxclients, blocked clients.
    RedisClients {
        service: String,
    },
    /// Slow-log entries of the last `window_minutes` over `threshold_ms`.
    RedisSlowlog {
        service: String,
        threshold_ms: f64,
        window_minutes: i64,
    },
    /// The newest backup of the backup folder that verifies, against `max_age_seconds`.
    BackupAge {
        max_age_seconds: u64,
    },
    /// The last restore drill's result.
    BackupDrill,
    /// A Swarm stack's service (`<stack>_<compose_service>`): tasks running
    /// against the desired replicas, failing tasks' errors, a stuck update.
    SwarmService {
        compose_service: String,
    },
    /// The swarm's nodes: down, drained or paused.
    SwarmNodes,
}

fn default_load_per_core() -> f64 {
    2.0
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
            | PostgresConnections { service, .. }
            | PostgresLockWaits { service, .. }
            | PostgresTransactions { service, .. }
            | PostgresVacuum { service }
            | RedisPing { service }
            | RedisInfo { service }
            | RedisPersistence { service }
            | RedisClients { service }
            | RedisSlowlog { service, .. } => Some(service),
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
            | ContainerPolicy { container }
            | ContainerNetwork { container, .. }
            | ContainerResources { container, .. }
            | ContainerDns { container, .. }
            | ContainerEnv { container, .. }
            | ContainerLogs { container, .. } => container.clone(),
            Tcp { port, owner } => match reach::unpublished_role(&ctx.profile, owner) {
                Some((s, role)) => match route::found(ctx, s, role) {
                    Some(found) => route_target(found, ""),
                    None => format!("port {port} of {owner}"),
                },
                None => match reach::host_port(&ctx.profile, &ctx.profile.host, *port) {
                    Ok(address) => address.to_string(),
                    Err(not) => not.target(),
                },
            },
            Disk { .. } | HostMemory { .. } | HostLoad { .. } => "host".into(),
            DockerDisk { .. } => "docker".into(),
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
            | PostgresScalar { service, .. }
            | PostgresConnections { service, .. }
            | PostgresLockWaits { service, .. }
            | PostgresTransactions { service, .. }
            | PostgresVacuum { service } => server_target(ctx, service, Role::Db),
            RedisPing { service }
            | RedisInfo { service }
            | RedisPersistence { service }
            | RedisClients { service }
            | RedisSlowlog { service, .. } => server_target(ctx, service, Role::Redis),
            BackupAge { .. } | BackupDrill => crate::state::backup_dir(&ctx.profile.backup_dir)
                .display()
                .to_string(),
            SwarmService { compose_service } => {
                format!("{}_{compose_service}", ctx.profile.compose_project)
            }
            SwarmNodes => "swarm".into(),
        }
    }

    /// The container of the task this probe reads or reaches (a role's
    /// first), if it is about one: on a swarm, where the check runs.
    pub fn task_container(&self, ctx: &Context) -> Option<String> {
        use Probe::*;
        let of_role = |service: &str, role: Role| {
            let service = ctx.profile.service(service)?;
            service.existing_container(role)
        };
        match self {
            Container { container, .. }
            | ContainerLogging { container }
            | ContainerPolicy { container, .. }
            | ContainerNetwork { container, .. }
            | ContainerResources { container, .. }
            | ContainerDns { container, .. }
            | ContainerEnv { container, .. }
            | ContainerLogs { container, .. } => Some(container.clone()),
            Tcp { owner, .. } => Some(owner.clone()),
            PostgresConnect { service }
            | PostgresTables { service, .. }
            | PostgresIndexes { service, .. }
            | PostgresSlowQueries { service, .. }
            | PostgresScalar { service, .. }
            | PostgresConnections { service, .. }
            | PostgresLockWaits { service, .. }
            | PostgresTransactions { service, .. }
            | PostgresVacuum { service, .. }
            | PostgresMigrations { service, .. } => of_role(service, Role::Db),
            RedisPing { service }
            | RedisInfo { service, .. }
            | RedisPersistence { service, .. }
            | RedisClients { service, .. }
            | RedisSlowlog { service, .. } => of_role(service, Role::Redis),
            HttpHealth { url, .. } | HttpVerify { url, .. } => {
                let port = reqwest::Url::parse(url).ok()?.port_or_known_default()?;
                let service = ctx.profile.services.iter().find(|s| s.app_port == port)?;
                service.existing_container(Role::Service)
            }
            DockerEngine
            | Disk { .. }
            | HostMemory { .. }
            | HostLoad { .. }
            | DockerDisk { .. }
            | BackupAge { .. }
            | BackupDrill
            | SwarmNodes => None,
            SwarmService { .. } => None,
        }
    }

    /// The swarm node the check is about: its task's, or — a stack service's
    /// check — the node all its tasks run on.
    pub fn node<'a>(&self, ctx: &'a Context) -> Option<&'a crate::deployment::cluster::Node> {
        let cluster = ctx.profile.cluster.as_deref()?;
        match self {
            Probe::SwarmService { compose_service } => {
                let name = format!("{}_{compose_service}", ctx.profile.compose_project);
                let mut nodes = cluster
                    .tasks
                    .iter()
                    .filter(|t| t.service == name)
                    .map(|t| t.node.as_deref());
                let first = nodes.next()??;
                nodes
                    .all(|n| n == Some(first))
                    .then(|| cluster.node(first))?
            }
            _ => cluster.node_of(&self.task_container(ctx)?),
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
            ContainerLogging { container } => log_rotation::check(ctx, container).await,
            ContainerPolicy { container } => supervision::check(ctx, container).await,
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
            Disk { .. } | HostMemory { .. } | HostLoad { .. } if !ctx.profile.engine.is_local() => {
                host::of_remote_engine(ctx).await
            }
            Disk { warn_gb, fail_gb } => host::disk(ctx, *warn_gb, *fail_gb).await,
            HostMemory { warn_percent } => host::memory(*warn_percent),
            HostLoad { warn_per_core } => host::load(*warn_per_core),
            DockerDisk {
                warn_gb,
                fail_gb,
                inodes_warn_percent,
                inodes_fail_percent,
            } => {
                let limits = docker_disk::Limits {
                    warn_gb: *warn_gb,
                    fail_gb: *fail_gb,
                    inodes_warn_percent: *inodes_warn_percent,
                    inodes_fail_percent: *inodes_fail_percent,
                };
                docker_disk::check(ctx, &limits).await
            }
            HttpHealth {
                url,
                insecure,
                slow_ms,
                cert_warn_days,
                cert_fail_days,
            } => {
                let budget = http_budget::Budget {
                    slow_ms: *slow_ms,
                    cert_warn_days: *cert_warn_days,
                    cert_fail_days: *cert_fail_days,
                };
                http::health(ctx, url, *insecure, &budget).await
            }
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
            PostgresConnections {
                service,
                warn_percent,
                fail_percent,
            } => {
                with_service(ctx, service, |s| {
                    pg_sessions::connections(ctx, s, *warn_percent, *fail_percent)
                })
                .await
            }
            PostgresLockWaits {
                service,
                wait_seconds,
            } => {
                with_service(ctx, service, |s| {
                    pg_sessions::lock_waits(ctx, s, *wait_seconds)
                })
                .await
            }
            PostgresTransactions {
                service,
                max_seconds,
            } => {
                with_service(ctx, service, |s| {
                    pg_sessions::transactions(ctx, s, *max_seconds)
                })
                .await
            }
            PostgresVacuum { service } => {
                with_service(ctx, service, |s| pg_vacuum::vacuum(ctx, s)).await
            }
            RedisPing { service } => with_service(ctx, service, |s| redis::ping(ctx, s)).await,
            RedisInfo { service } => {
                with_service(ctx, service, |s| redis_pressure::memory(ctx, s)).await
            }
            RedisPersistence { service } => {
                with_service(ctx, service, |s| redis_pressure::persistence(ctx, s)).await
            }
            RedisClients { service } => {
                with_service(ctx, service, |s| redis_pressure::clients(ctx, s)).await
            }
            RedisSlowlog {
                service,
                threshold_ms,
                window_minutes,
            } => {
                with_service(ctx, service, |s| {
                    redis_pressure::slowlog(ctx, s, *threshold_ms, *window_minutes)
                })
                .await
            }
            BackupAge { max_age_seconds } => backups::latest(ctx, *max_age_seconds).await,
            BackupDrill => backups::drill(ctx),
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
    if found_nowhere && ctx.engine().await.is_err() {
        outcome.wanting_engine()
    } else {
        outcome
    }
}

/// A PostgreSQL or Redis check's target: `name@host:port` where it is
/// reached (the database's name, or `redis`), else why it is not.
fn server_target(ctx: &Context, service: &str, role: Role) -> String {
    let Some(s) = ctx.profile.service(service) else {
        return service.to_string();
    };
    let name = if role == Role::Db {
        s.database.as_str()
    } else {
        "redis"
    };
    match route::found(ctx, s, role) {
        Some(found) => route_target(found, name),
        // Not looked for in this run (its checks were skipped first).
        None => format!("{name} in {}", s.container(role)),
    }
}

/// A target where a way was found (`name@address`, `name through the
/// engine (…)`), or why none was.
fn route_target(found: Result<Address, NoRoute>, name: &str) -> String {
    match found {
        Ok(address) if name.is_empty() => address.to_string(),
        Ok(
            address @ Address {
                via: Via::Engine(_),
                ..
            },
        ) => format!("{name} {address}"),
        Ok(address) => format!("{name}@{address}"),
        Err(NoRoute::NotReached(not)) => not.target(),
        Err(no) => format!("not reached: {no}"),
    }
}

/// No way to a server: not the deployment's to reach (`not_reached`), its
/// container down (a failure), or the engine failing on the way.
pub fn no_route(ctx: &Context, service: &Service, role: Role, no: NoRoute) -> Outcome {
    match no {
        NoRoute::NotReached(not) => not_reached(ctx, not),
        NoRoute::Engine(e) => Outcome::from(e),
        down @ NoRoute::Down { .. } => {
            let failure = down.failure(ctx, service, role, &service.container(role));
            Outcome::fail(down.to_string()).with_hint(failure.hint)
        }
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
