//! A container as everything above the deployment layer sees it: its typed
//! state, health, restarts, supervision, limits, networks and logging, read
//! once from the engine's inspection — no engine type crosses this seam.

use super::runtime::{PROJECT_LABEL, SERVICE_LABEL, STACK_LABEL};
use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum, RestartPolicyNameEnum,
};
use std::collections::HashMap;
use std::fmt;

/// One container's facts (a Swarm task no engine here can read: its spec's).
#[derive(Clone, Debug)]
pub struct Container {
    /// Its name, without the engine's leading `/`.
    pub name: String,
    /// Its id; empty for a task's spec.
    pub id: String,
    /// Its labels, read as compose's whichever runtime ran it (a Swarm
    /// task's stack, service and slot as compose's project, service, number).
    pub labels: HashMap<String, String>,
    pub image: Option<String>,
    /// When it was created (RFC 3339), as the engine says it.
    pub created: Option<String>,
    pub state: State,
    pub restart_count: i64,
    pub health: Health,
    /// Whether a health check is set (by the image or the container) and not disabled.
    pub health_check: bool,
    pub restart_policy: RestartPolicy,
    pub limits: Limits,
    pub networks: Vec<Network>,
    /// The log driver (`json-file`, `local`, `journald`…) and its options.
    pub log_driver: Option<String>,
    pub log_options: HashMap<String, String>,
    /// Where a file-writing log driver keeps the log, on the engine's host.
    pub log_path: Option<String>,
    /// The engine's own answer, for the deployment layer's readers (mounts,
    /// environment, published ports); never read above it.
    pub(in crate::deployment) inspected: ContainerInspectResponse,
}

/// What the engine says the container is doing.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub status: Status,
    pub running: bool,
    pub restarting: bool,
    pub paused: bool,
    pub oom_killed: bool,
    pub exit_code: i64,
    /// Its main process on the engine's host (0 when not running).
    pub pid: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// The engine's word for a container's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    #[default]
    Unknown,
}

/// A container's health, as its health check last said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Health {
    /// No health check (or the engine has not said).
    #[default]
    None,
    Starting,
    Healthy,
    /// Failing `streak` checks in a row; `last` is the last check's output.
    Unhealthy {
        streak: i64,
        last: String,
    },
}

/// The engine's restart policy for a container.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Unset or `no`: a crash or a reboot leaves it down.
    #[default]
    No,
    Always,
    UnlessStopped,
    OnFailure,
}

/// The container's CPU and memory limits.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// CPU limit in cores (`cpus:` / `--cpus`, or a CFS quota), if any.
    pub cpu_cores: Option<f64>,
    /// Memory limit in bytes, if any.
    pub memory_bytes: Option<i64>,
}

/// A network the container is attached to, with its aliases there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Network {
    pub name: String,
    pub aliases: Vec<String>,
}

impl Container {
    /// The container's compose service (or a stack's service, without the stack).
    pub fn compose_service(&self) -> Option<&str> {
        self.labels.get(SERVICE_LABEL).map(String::as_str)
    }

    /// Its id, or its name when it has none (a task's spec): what names this
    /// very container to the engine, not another of the same name since.
    pub fn reference(&self) -> &str {
        if self.id.is_empty() {
            &self.name
        } else {
            &self.id
        }
    }

    /// Whether a compose project or a Swarm stack labelled it.
    pub fn has_project_labels(&self) -> bool {
        self.labels.contains_key(PROJECT_LABEL) || self.labels.contains_key(STACK_LABEL)
    }

    /// The engine's whole answer as JSON (`docker inspect`), for a support
    /// bundle to mask and keep.
    pub fn engine_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.inspected).unwrap_or_default()
    }

    /// Whether the container is attached to `network`.
    pub fn on_network(&self, network: &str) -> bool {
        self.networks.iter().any(|n| n.name == network)
    }
}

impl From<ContainerInspectResponse> for Container {
    fn from(inspected: ContainerInspectResponse) -> Container {
        let config = inspected.config.clone().unwrap_or_default();
        let host = inspected.host_config.clone().unwrap_or_default();
        let state = inspected.state.clone().unwrap_or_default();
        let log = host.log_config.clone().unwrap_or_default();
        Container {
            name: inspected
                .name
                .as_deref()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            id: inspected.id.clone().unwrap_or_default(),
            labels: super::runtime::as_compose(config.labels.clone().unwrap_or_default()),
            image: config.image.clone(),
            created: inspected.created.clone(),
            health: health_of(state.health.as_ref()),
            state: State {
                status: state.status.map(Status::from).unwrap_or_default(),
                running: state.running.unwrap_or(false),
                restarting: state.restarting.unwrap_or(false),
                paused: state.paused.unwrap_or(false),
                oom_killed: state.oom_killed.unwrap_or(false),
                exit_code: state.exit_code.unwrap_or(0),
                pid: state.pid.unwrap_or(0),
                started_at: state.started_at.clone(),
                finished_at: state.finished_at.clone(),
            },
            restart_count: inspected.restart_count.unwrap_or(0),
            health_check: config
                .healthcheck
                .as_ref()
                .and_then(|h| h.test.as_ref())
                .is_some_and(|test| test.first().is_some_and(|first| first != "NONE")),
            restart_policy: host
                .restart_policy
                .as_ref()
                .and_then(|p| p.name)
                .map(RestartPolicy::from)
                .unwrap_or_default(),
            limits: Limits {
                cpu_cores: cpu_cores(host.nano_cpus, host.cpu_quota, host.cpu_period),
                memory_bytes: host.memory.filter(|m| *m > 0),
            },
            networks: networks_of(&inspected),
            log_driver: log.typ.filter(|t| !t.is_empty()),
            log_options: log.config.unwrap_or_default(),
            log_path: inspected.log_path.clone().filter(|p| !p.is_empty()),
            inspected,
        }
    }
}

fn health_of(health: Option<&bollard::models::Health>) -> Health {
    let Some(health) = health else {
        return Health::None;
    };
    match health.status {
        Some(HealthStatusEnum::STARTING) => Health::Starting,
        Some(HealthStatusEnum::HEALTHY) => Health::Healthy,
        Some(HealthStatusEnum::UNHEALTHY) => Health::Unhealthy {
            streak: health.failing_streak.unwrap_or(0),
            last: health
                .log
                .as_ref()
                .and_then(|log| log.last())
                .and_then(|l| l.output.clone())
                .unwrap_or_default(),
        },
        _ => Health::None,
    }
}

fn cpu_cores(nano: Option<i64>, quota: Option<i64>, period: Option<i64>) -> Option<f64> {
    match (nano, quota, period) {
        (Some(nano), _, _) if nano > 0 => Some(nano as f64 / 1e9),
        (_, Some(quota), Some(period)) if quota > 0 && period > 0 => {
            Some(quota as f64 / period as f64)
        }
        _ => None,
    }
}

fn networks_of(inspected: &ContainerInspectResponse) -> Vec<Network> {
    let mut networks: Vec<Network> = inspected
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| {
            n.iter()
                .map(|(name, endpoint)| Network {
                    name: name.clone(),
                    aliases: endpoint.aliases.clone().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    networks
}

impl From<ContainerStateStatusEnum> for Status {
    fn from(status: ContainerStateStatusEnum) -> Status {
        match status {
            ContainerStateStatusEnum::CREATED => Status::Created,
            ContainerStateStatusEnum::RUNNING => Status::Running,
            ContainerStateStatusEnum::PAUSED => Status::Paused,
            ContainerStateStatusEnum::RESTARTING => Status::Restarting,
            ContainerStateStatusEnum::REMOVING => Status::Removing,
            ContainerStateStatusEnum::EXITED => Status::Exited,
            ContainerStateStatusEnum::DEAD => Status::Dead,
            _ => Status::Unknown,
        }
    }
}

impl From<RestartPolicyNameEnum> for RestartPolicy {
    fn from(name: RestartPolicyNameEnum) -> RestartPolicy {
        match name {
            RestartPolicyNameEnum::ALWAYS => RestartPolicy::Always,
            RestartPolicyNameEnum::UNLESS_STOPPED => RestartPolicy::UnlessStopped,
            RestartPolicyNameEnum::ON_FAILURE => RestartPolicy::OnFailure,
            _ => RestartPolicy::No,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
            Status::Unknown => "",
        })
    }
}

impl Health {
    /// The engine's word for it (`none` when there is no health check).
    pub fn as_str(&self) -> &'static str {
        match self {
            Health::None => "none",
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy { .. } => "unhealthy",
        }
    }

    pub fn failing_streak(&self) -> i64 {
        match self {
            Health::Unhealthy { streak, .. } => *streak,
            _ => 0,
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            RestartPolicy::No => "no",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
            RestartPolicy::OnFailure => "on-failure",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspected(json: serde_json::Value) -> Container {
        Container::from(serde_json::from_value::<ContainerInspectResponse>(json).unwrap())
    }

    #[test]
    fn the_engines_answer_is_read_into_typed_facts() {
        let c = inspected(serde_json::json!({
            "Id": "abc", "Name": "/hd-auth-db-1", "RestartCount": 2,
            "Config": {"Labels": {"com.docker.compose.service": "auth-db"},
                       "Healthcheck": {"Test": ["CMD", "pg_isready"]}},
            "HostConfig": {"NanoCpus": 500000000, "Memory": 268435456,
                           "RestartPolicy": {"Name": "unless-stopped"},
                           "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}}},
            "State": {"Status": "running", "Running": true, "Pid": 42, "ExitCode": 0,
                      "Health": {"Status": "unhealthy", "FailingStreak": 3,
                                 "Log": [{"Output": "old"}, {"Output": "refused"}]}},
            "NetworkSettings": {"Networks": {"net": {"Aliases": ["db"]}}}
        }));
        assert_eq!(c.name, "hd-auth-db-1");
        assert_eq!(c.compose_service(), Some("auth-db"));
        assert_eq!(c.state.status, Status::Running);
        assert_eq!(c.state.pid, 42);
        assert_eq!(
            c.health,
            Health::Unhealthy {
                streak: 3,
                last: "refused".into()
            }
        );
        assert!(c.health_check);
        assert_eq!(c.restart_policy, RestartPolicy::UnlessStopped);
        assert_eq!(c.limits.cpu_cores, Some(0.5));
        assert_eq!(c.limits.memory_bytes, Some(268435456));
        assert_eq!(c.log_driver.as_deref(), Some("json-file"));
        assert_eq!(c.log_options["max-size"], "10m");
        assert!(c.on_network("net") && !c.on_network("bridge"));
        assert_eq!(c.networks[0].aliases, ["db"]);
    }

    #[test]
    fn a_swarm_tasks_container_names_its_compose_service() {
        let c = inspected(serde_json::json!({
            "Name": "/helpdesk_auth-service.1.x",
            "Config": {"Labels": {
                "com.docker.stack.namespace": "helpdesk",
                "com.docker.swarm.service.name": "helpdesk_auth-service",
                "com.docker.swarm.task.name": "helpdesk_auth-service.1.x"}}
        }));
        assert_eq!(c.compose_service(), Some("auth-service"));
        assert!(c.has_project_labels());
    }

    #[test]
    fn absent_or_disabled_facts_are_their_safe_defaults() {
        let c = inspected(serde_json::json!({
            "Config": {"Healthcheck": {"Test": ["NONE"]}},
            "HostConfig": {"CpuQuota": 150000, "CpuPeriod": 100000,
                           "RestartPolicy": {"Name": ""}}
        }));
        assert!(!c.health_check);
        assert_eq!(c.health, Health::None);
        assert_eq!(c.restart_policy, RestartPolicy::No);
        assert_eq!(c.limits.cpu_cores, Some(1.5));
        assert_eq!(c.limits.memory_bytes, None);
        assert_eq!(c.state.status, Status::Unknown);
        assert!(!c.has_project_labels());
        let empty = inspected(serde_json::json!({"Config": {"Healthcheck": {"Test": []}}}));
        assert!(!empty.health_check);
    }
}
