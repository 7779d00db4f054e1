//! The deployment as configured: services, containers, ports, thresholds.
//! What discovery adds on top (runtime, engine, swarm) is `deployment::Deployment`.
//! The default is the troubleshooting guide's; a TOML file (`--config`) overrides any of it.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A config larger than this is not one (hostile input is bounded).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    #[serde(deserialize_with = "crate::compose_name::deserialize_or_empty")]
    pub compose_project: String,
    pub compose_file: String,
    pub network: String,
    /// Where the published ports are reached from the doctor (default: the
    /// engine's host, 127.0.0.1 for a local engine).
    pub host: String,
    /// Where backups go by default (empty: `state::backup_dir`'s default).
    pub backup_dir: String,
    pub services: Vec<Service>,
    pub thresholds: Thresholds,
    pub timeouts: Timeouts,
    pub limits: Limits,
    /// The compose files the project was started with (from its containers' labels).
    #[serde(skip)]
    pub compose_files: Vec<String>,
    /// The folder compose ran in (the `…project.working_dir` label), if known.
    #[serde(skip)]
    pub compose_working_dir: Option<String>,
    /// Several engines for one `diagnose` (`[[engines]]`); empty: the one chosen.
    pub engines: Vec<EngineEntry>,
    /// Whether the config lists the services itself (then their database users
    /// and names are the config's, not discovered).
    #[serde(skip)]
    pub services_configured: bool,
    /// The config file it was read from, absolute (hints name it when it is
    /// not the one found by default).
    #[serde(skip)]
    pub config_path: Option<std::path::PathBuf>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// A compose name: it reaches `docker compose` as `{name}-{role}`.
    #[serde(deserialize_with = "crate::compose_name::deserialize")]
    pub name: String,
    /// Containers found on the engine per role (replicas in order); empty until
    /// discovery, and for a role with none.
    #[serde(skip)]
    pub containers: BTreeMap<Role, Vec<String>>,
    /// Whether the engine was asked (then a role without containers has none).
    #[serde(skip)]
    pub discovered: bool,
    /// The container that publishes `app_port` when the application's own
    /// containers publish nothing (a load balancer in front of replicas).
    #[serde(skip)]
    pub app_front: Option<Front>,
    /// The roles whose containers exist and publish no port on the host (found
    /// at discovery): not reached at their port (`deployment::reach`).
    #[serde(skip)]
    pub unpublished: BTreeSet<Role>,
    /// The port a role's server listens on inside its container, when
    /// discovery found it (the published binding's, or the one its
    /// applications connect to); else the image's (`port_inside`).
    #[serde(skip)]
    pub inside_ports: BTreeMap<Role, u16>,
    /// The host address a role's port is published on, when the engine is this
    /// machine's and the binding names one (`127.0.0.2:5401`, not `0.0.0.0`).
    #[serde(skip)]
    pub bind_hosts: BTreeMap<Role, String>,
    pub app_port: u16,
    pub db_port: u16,
    pub redis_port: u16,
    /// Omitted in a config: the database container's `POSTGRES_DB`.
    #[serde(default)]
    pub database: String,
    /// Omitted in a config: the database container's `POSTGRES_USER`.
    #[serde(default)]
    pub db_user: String,
    /// Tables its database must have besides the guide's (`schema.table` or
    /// a name found in any schema): the deployment's own, named in a config.
    #[serde(default)]
    pub tables: Vec<String>,
}

/// A container of the project in front of a service, publishing its port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Front {
    pub container: String,
    pub compose_service: String,
}

/// One engine of `[[engines]]`: a docker context, or an endpoint (with the
/// folder of its TLS files, as DOCKER_CERT_PATH). With `node`, the engine of
/// that Swarm node (its hostname), through which the doctor reads the tasks
/// that run there: not a deployment of its own.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineEntry {
    pub name: String,
    pub context: Option<String>,
    pub host: Option<String>,
    pub cert_path: Option<String>,
    pub node: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub disk_warn_gb: f64,
    pub disk_fail_gb: f64,
    pub memory_warn_percent: f64,
    pub slow_query_ms: f64,
    pub expired_tokens_warn: i64,
    #[serde(deserialize_with = "minutes")]
    pub log_window_minutes: i64,
    /// A container restart older than this is a detail of a passing check,
    /// not a warning: a duration (`"1h"`, `"30s"`) or seconds.
    #[serde(deserialize_with = "seconds")]
    pub restart_window_seconds: u64,
    /// A session waiting on another's lock this long fails `postgres.*.locks`.
    #[serde(deserialize_with = "seconds")]
    pub lock_wait_seconds: u64,
    /// A transaction open this long (idle in transaction or running) warns.
    #[serde(deserialize_with = "seconds")]
    pub long_transaction_seconds: u64,
    /// The newest backup that verifies may be this old before `backup.latest` warns.
    #[serde(deserialize_with = "seconds")]
    pub backup_max_age_seconds: u64,
    /// Docker's data root with fewer free inodes than this share warns, or fails.
    pub inodes_warn_percent: f64,
    pub inodes_fail_percent: f64,
    /// A health endpoint answering slower than this warns (its timing breakdown shown).
    #[serde(deserialize_with = "milliseconds")]
    pub http_slow_ms: u64,
    /// An HTTPS endpoint's certificate with fewer days left than this warns, or fails.
    pub cert_warn_days: u64,
    pub cert_fail_days: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Every probe's own timeout.
    #[serde(deserialize_with = "milliseconds")]
    pub probe_ms: u64,
    /// The whole run's deadline.
    #[serde(deserialize_with = "milliseconds")]
    pub deadline_ms: u64,
    /// A runbook step (pg_dump, psql) that moves no byte for this long fails.
    #[serde(deserialize_with = "milliseconds")]
    pub stall_ms: u64,
}

/// How much of what the deployment sends is read.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// An HTTP answer's body is read up to this many bytes, then cut.
    pub http_body_bytes: usize,
}

/// The most `limits.http_body_bytes` may be.
const MAX_HTTP_BODY_BYTES: usize = 64 << 20;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            http_body_bytes: 1 << 20,
        }
    }
}

impl Limits {
    fn check(&self) -> Result<(), LimitOutOfRange> {
        if (1..=MAX_HTTP_BODY_BYTES).contains(&self.http_body_bytes) {
            Ok(())
        } else {
            Err(LimitOutOfRange(self.http_body_bytes))
        }
    }
}

/// A `[limits]` value the doctor does not accept.
#[derive(Debug, thiserror::Error)]
#[error("limits.http_body_bytes: {0} is not between 1 and {MAX_HTTP_BODY_BYTES} (64 MiB)")]
pub struct LimitOutOfRange(usize);

/// A timeout in a config: milliseconds (`2000`) or a duration (`"2s"`,
/// `"1m30s"`), more than zero and at most `duration_rule::MAX_DURATION` (the error
/// points at the value).
fn milliseconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    number_or_duration(deserializer, std::time::Duration::from_millis).map(|d| d.as_millis() as u64)
}

/// A number in `unit`, or a humantime duration, checked by `duration_rule::check`.
fn number_or_duration<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    unit: fn(u64) -> std::time::Duration,
) -> Result<std::time::Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Number(u64),
        Duration(String),
    }
    let duration = match Given::deserialize(deserializer)? {
        Given::Number(n) => unit(n),
        Given::Duration(text) => humantime::parse_duration(&text).map_err(|source| {
            serde::de::Error::custom(crate::duration_rule::DurationError::NotADuration {
                text,
                source,
            })
        })?,
    };
    crate::duration_rule::check(duration).map_err(serde::de::Error::custom)
}

/// A window: seconds (`3600`) or a duration (`"1h"`, `"30s"`), bounded as
/// every duration (`duration_rule::MAX_DURATION`).
fn seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    number_or_duration(deserializer, std::time::Duration::from_secs).map(|d| d.as_secs().max(1))
}

/// A window in minutes, bounded as every duration (`duration_rule::MAX_DURATION`).
fn minutes<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let minutes = i64::deserialize(deserializer)?;
    crate::duration_rule::check_minutes(minutes).map_err(serde::de::Error::custom)
}

impl Default for Profile {
    fn default() -> Profile {
        let service = |name: &str, n: u16, user: &str| Service {
            name: name.into(),
            app_port: 3000 + n,
            db_port: 5400 + n,
            redis_port: 6300 + n,
            database: format!("{name}_db"),
            db_user: user.into(),
            tables: Vec::new(),
            containers: BTreeMap::new(),
            discovered: false,
            app_front: None,
            unpublished: BTreeSet::new(),
            inside_ports: BTreeMap::new(),
            bind_hosts: BTreeMap::new(),
        };
        Profile {
            // Empty: found by discovery (see `crate::discovery`).
            compose_project: String::new(),
            compose_file: "docker-compose.services.yml".into(),
            // Empty: found by discovery (the network the project's containers share).
            network: String::new(),
            // Empty: the engine's host when it is remote, else 127.0.0.1 (see `crate::discovery`).
            host: String::new(),
            backup_dir: String::new(),
            services: vec![
                service("auth", 1, "user"),
                service("user", 2, "user"),
                service("ticket", 3, "ticket"),
            ],
            thresholds: Thresholds::default(),
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            compose_files: Vec::new(),
            compose_working_dir: None,
            engines: Vec::new(),
            services_configured: false,
            config_path: None,
        }
    }
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            disk_warn_gb: 5.0,
            disk_fail_gb: 1.0,
            memory_warn_percent: 90.0,
            slow_query_ms: 100.0,
            expired_tokens_warn: 100,
            log_window_minutes: 15,
            restart_window_seconds: 3600,
            lock_wait_seconds: 5,
            long_transaction_seconds: 300,
            backup_max_age_seconds: 26 * 3600,
            inodes_warn_percent: 10.0,
            inodes_fail_percent: 2.0,
            http_slow_ms: 1000,
            cert_warn_days: 21,
            cert_fail_days: 3,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            probe_ms: 2000,
            deadline_ms: 10_000,
            stall_ms: 60_000,
        }
    }
}

impl Profile {
    /// The default profile, overridden by `path` when given.
    pub fn load(path: Option<&Path>) -> Result<Profile, Error> {
        let Some(path) = path else {
            return Ok(Profile::default());
        };
        let text = crate::files::read_named(path, MAX_CONFIG_BYTES)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        let mut profile: Profile = toml::from_str(&text)
            .map_err(|e| Error::Config(crate::toml_error::describe(path, &text, &e)))?;
        profile.services_configured = text
            .parse::<toml::Table>()
            .is_ok_and(|t| t.contains_key("services"));
        profile.config_path = std::path::absolute(path).ok();
        profile
            .limits
            .check()
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Ok(profile)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The service named on the command line, or a usage error listing the known ones.
    pub fn named_service(&self, name: &str) -> Result<&Service, Error> {
        self.service(name).ok_or_else(|| {
            let known: Vec<&str> = self.services.iter().map(|s| s.name.as_str()).collect();
            Error::Usage(format!(
                "unknown service {name:?} (one of: {})",
                known.join(", ")
            ))
        })
    }

    /// Template variables of the config shared by every check (the
    /// deployment adds its commands: `Deployment::vars`).
    pub fn vars(&self) -> BTreeMap<String, String> {
        let t = &self.thresholds;
        BTreeMap::from([
            ("compose_project".into(), self.compose_project.clone()),
            ("compose_file".into(), self.compose_file.clone()),
            ("network".into(), self.network.clone()),
            ("host".into(), self.host.clone()),
            ("disk_warn_gb".into(), t.disk_warn_gb.to_string()),
            ("disk_fail_gb".into(), t.disk_fail_gb.to_string()),
            (
                "memory_warn_percent".into(),
                t.memory_warn_percent.to_string(),
            ),
            ("slow_query_ms".into(), t.slow_query_ms.to_string()),
            (
                "expired_tokens_warn".into(),
                t.expired_tokens_warn.to_string(),
            ),
            (
                "log_window_minutes".into(),
                t.log_window_minutes.to_string(),
            ),
            (
                "restart_window_seconds".into(),
                t.restart_window_seconds.to_string(),
            ),
            ("lock_wait_seconds".into(), t.lock_wait_seconds.to_string()),
            (
                "long_transaction_seconds".into(),
                t.long_transaction_seconds.to_string(),
            ),
            (
                "backup_max_age_seconds".into(),
                t.backup_max_age_seconds.to_string(),
            ),
            (
                "inodes_warn_percent".into(),
                t.inodes_warn_percent.to_string(),
            ),
            (
                "inodes_fail_percent".into(),
                t.inodes_fail_percent.to_string(),
            ),
            ("http_slow_ms".into(), t.http_slow_ms.to_string()),
            ("cert_warn_days".into(), t.cert_warn_days.to_string()),
            ("cert_fail_days".into(), t.cert_fail_days.to_string()),
        ])
    }
}

/// A container's role in a service: its application, its PostgreSQL, its Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Service,
    Db,
    Redis,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Service, Role::Db, Role::Redis];

    /// Its name in container names, compose services, check ids and files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Service => "service",
            Role::Db => "db",
            Role::Redis => "redis",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Service {
    /// The container of `role`: the first found on the engine, else the guide's name.
    pub fn container(&self, role: Role) -> String {
        self.containers
            .get(&role)
            .and_then(|found| found.first().cloned())
            .unwrap_or_else(|| format!("helpdesk-{}-{role}", self.name))
    }

    /// The container of `role` known to exist: the first found on the engine;
    /// `None` when the engine was asked and has none; the guide's name when it
    /// could not be asked.
    pub fn existing_container(&self, role: Role) -> Option<String> {
        match self.containers.get(&role).and_then(|found| found.first()) {
            Some(name) => Some(name.clone()),
            None if self.discovered => None,
            None => Some(self.container(role)),
        }
    }

    /// Every container of `role`, replicas in order: those found on the
    /// engine, else the guide's name (its checks then say it does not exist).
    pub fn replicas(&self, role: Role) -> Vec<String> {
        match self.containers.get(&role) {
            Some(found) if !found.is_empty() => found.clone(),
            _ => vec![self.container(role)],
        }
    }

    /// The host port of `role`'s server (see `deployment::reach` for whether
    /// it is the deployment's).
    pub fn port(&self, role: Role) -> u16 {
        match role {
            Role::Db => self.db_port,
            Role::Redis => self.redis_port,
            Role::Service => self.app_port,
        }
    }

    /// The port `role`'s server (`db`, `redis`) listens on inside its
    /// container: as discovered, else its official image's (5432, 6379).
    pub fn port_inside(&self, role: Role) -> u16 {
        let image = if role == Role::Db { 5432 } else { 6379 };
        self.inside_ports.get(&role).copied().unwrap_or(image)
    }

    /// Sets the host port of `role`'s server (found at discovery).
    pub fn set_port(&mut self, role: Role, port: u16) {
        match role {
            Role::Db => self.db_port = port,
            Role::Redis => self.redis_port = port,
            Role::Service => self.app_port = port,
        }
    }

    pub fn compose_service(&self, role: Role) -> String {
        format!("{}-{role}", self.name)
    }

    /// The container that publishes the application's port: its front (a load
    /// balancer) when it has one, else its first container.
    fn app_publisher(&self) -> (String, String) {
        match &self.app_front {
            Some(front) => (front.container.clone(), front.compose_service.clone()),
            None => (
                self.container(Role::Service),
                self.compose_service(Role::Service),
            ),
        }
    }

    /// Template variables of one service (`for_each = "service"`).
    pub fn vars(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("service".into(), self.name.clone()),
            ("app_container".into(), self.container(Role::Service)),
            (
                "app_compose_service".into(),
                self.compose_service(Role::Service),
            ),
            ("app_port".into(), self.app_port.to_string()),
            // Where its port is published when the binding names an address;
            // else the profile's `host` (see `catalog::instances`).
            (
                "app_host".into(),
                self.bind_hosts
                    .get(&Role::Service)
                    .cloned()
                    .unwrap_or_default(),
            ),
            ("app_publisher".into(), self.app_publisher().0),
            (
                "app_publisher_compose_service".into(),
                self.app_publisher().1,
            ),
            ("db_container".into(), self.container(Role::Db)),
            ("db_compose_service".into(), self.compose_service(Role::Db)),
            ("db_port".into(), self.db_port.to_string()),
            ("database".into(), self.database.clone()),
            ("db_user".into(), self.db_user.clone()),
            ("redis_container".into(), self.container(Role::Redis)),
            (
                "redis_compose_service".into(),
                self.compose_service(Role::Redis),
            ),
            ("redis_port".into(), self.redis_port.to_string()),
        ])
    }

    /// Template variables of each container of `role` (`for_each = "container"`):
    /// `replica` is empty for a single container and `-N` for the N-th of several,
    /// `instance` is the role with it (`service-2`), so every replica's check has its id.
    pub fn container_vars(&self, role: Role) -> Vec<BTreeMap<String, String>> {
        let replicas = self.replicas(role);
        let scaled = replicas.len() > 1;
        replicas
            .into_iter()
            .enumerate()
            .map(|(index, container)| {
                let replica = if scaled {
                    format!("-{}", index + 1)
                } else {
                    String::new()
                };
                let mut vars = self.vars();
                vars.insert("role".into(), role.to_string());
                vars.insert("instance".into(), format!("{role}{replica}"));
                vars.insert("replica".into(), replica);
                vars.insert("container".into(), container);
                vars.insert("compose_service".into(), self.compose_service(role));
                vars
            })
            .collect()
    }
}
