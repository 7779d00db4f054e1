//! A Swarm seen from a manager: its nodes (hostname, address, availability,
//! state) and each slot's current task of every stack with the node it runs
//! on — whichever node, not only this engine's — so that a task is found,
//! reached and read where it runs (`Context::docker_for`).

use super::runtime::{STACK_LABEL, SWARM_SERVICE_LABEL, SWARM_TASK_LABEL};
use bollard::Docker;
use bollard::models::{
    ContainerConfig, ContainerInspectResponse, EndpointPortConfigPublishModeEnum, HostConfig,
    NodeSpecAvailabilityEnum, NodeSpecRoleEnum, NodeState, PortBinding, Service, Task, TaskState,
};
use bollard::query_parameters::{ListNodesOptions, ListServicesOptions, ListTasksOptions};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// The swarm as a manager sees it.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    pub nodes: Vec<Node>,
    /// The id of the node whose engine the doctor talks to.
    pub local: Option<String>,
    /// The current task of each slot of each stack's services.
    pub tasks: Vec<Placed>,
    /// The ports each service publishes on the swarm's ingress (reached on
    /// every node): service name → `(port inside, published port)`.
    pub ingress: BTreeMap<String, Vec<(u16, u16)>>,
}

/// A node of the swarm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    #[serde(skip)]
    pub id: String,
    pub hostname: String,
    /// Where the node is reached (its advertised address).
    pub address: String,
    pub availability: Availability,
    pub state: State,
    pub manager: bool,
}

/// A node's availability, as set by `docker node update --availability`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    Active,
    Pause,
    Drain,
}

/// A node's state, as its manager sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Ready,
    Down,
    Disconnected,
    Unknown,
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node {} at {}", self.hostname, self.address)
    }
}

/// One slot's current task, and the container that stands for it.
#[derive(Clone, Debug)]
pub struct Placed {
    /// The container of the slot's newest task that has one (the current
    /// task's once its node created it: until then, the one it replaces), as
    /// Swarm names it: `<service>.<slot>.<task id>`.
    pub container: String,
    /// Its container's id.
    pub container_id: Option<String>,
    /// The node that container is on.
    pub container_node: Option<String>,
    /// The current task's id.
    pub task: String,
    /// The stack's service: `<stack>_<name>`.
    pub service: String,
    pub slot: i64,
    /// The node it runs on — or, not placed yet, the node its slot's last
    /// task ran on (a task pending because its node went away).
    pub node: Option<String>,
    /// Whether it has a node of its own (else it waits for one).
    pub placed: bool,
    /// The node its slot's previous task ran on, when another one (it was
    /// rescheduled from there).
    pub moved_from: Option<String>,
    pub state: Option<TaskState>,
    pub desired: Option<TaskState>,
    /// The engine's error for it, if any (`no suitable node …`).
    pub error: Option<String>,
    /// The container as its task's spec describes it (labels, environment,
    /// host-mode ports), for what discovery reads of a container it cannot inspect.
    pub spec: ContainerInspectResponse,
}

/// The swarm as a report shows it: every node, and each task of the stack
/// with the node it runs on.
#[derive(Clone, Debug, Serialize)]
pub struct View {
    pub nodes: Vec<Node>,
    pub tasks: Vec<TaskView>,
}

/// One task of the stack in a report.
#[derive(Clone, Debug, Serialize)]
pub struct TaskView {
    /// `<service>.<slot>`.
    pub task: String,
    pub container: String,
    /// The deployment's service it belongs to (`auth`), when it is one of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The node it runs on (hostname) — for a task waiting for a node, the
    /// node its slot last ran on.
    pub node: Option<String>,
    pub placed: bool,
    pub state: Option<super::task_state::TaskState>,
    pub desired: Option<super::task_state::TaskState>,
}

impl Cluster {
    /// The report's view of `profile`'s stack on this swarm.
    pub fn view(&self, profile: &crate::profile::Profile) -> View {
        let stack = &profile.compose_project;
        let tasks = self
            .of_stack(stack)
            .map(|t| TaskView {
                task: t.slot_key(),
                container: t.container.clone(),
                service: profile
                    .services
                    .iter()
                    .find(|s| {
                        crate::profile::Role::ALL
                            .into_iter()
                            .any(|role| format!("{stack}_{}", s.compose_service(role)) == t.service)
                    })
                    .map(|s| s.name.clone()),
                node: t
                    .node
                    .as_deref()
                    .and_then(|id| self.node(id))
                    .map(|n| n.hostname.clone()),
                placed: t.placed,
                state: t.state.map(Into::into),
                desired: t.desired.map(Into::into),
            })
            .collect();
        View {
            nodes: self.nodes.clone(),
            tasks,
        }
    }
}

impl Placed {
    /// `<service>.<slot>`, as its container's task label begins.
    pub fn slot_key(&self) -> String {
        format!("{}.{}", self.service, self.slot)
    }
}

impl Cluster {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The task whose container is `container` (its name or its id).
    pub fn task(&self, container: &str) -> Option<&Placed> {
        self.tasks
            .iter()
            .find(|t| t.container == container || t.container_id.as_deref() == Some(container))
    }

    /// The node `container` is on.
    pub fn node_of(&self, container: &str) -> Option<&Node> {
        self.node(self.task(container)?.container_node.as_deref()?)
    }

    /// The node of the engine the doctor talks to.
    pub fn local_node(&self) -> Option<&Node> {
        self.node(self.local.as_deref()?)
    }

    /// Whether `node` is the node of the engine the doctor talks to.
    pub fn is_local(&self, node: &Node) -> bool {
        self.local.as_deref() == Some(node.id.as_str())
    }

    /// Whether `task` runs (or last ran, or waits for a node) elsewhere than
    /// on the node of the engine the doctor talks to.
    pub fn is_away(&self, task: &Placed) -> bool {
        task.container_node.is_none() || task.container_node != self.local
    }

    /// `this_engines` (the stack's containers on this engine, the newest of
    /// each slot), each slot whose current task is away replaced by that
    /// task: the containers that are the stack now, on every node.
    pub fn on_every_node<T>(
        &self,
        stack: &str,
        this_engines: Vec<T>,
        slot_of: impl Fn(&T) -> Option<String>,
        of_task: impl Fn(&Placed) -> T,
    ) -> Vec<T> {
        let away: Vec<&Placed> = self.of_stack(stack).filter(|t| self.is_away(t)).collect();
        let slots: std::collections::HashSet<String> = away.iter().map(|t| t.slot_key()).collect();
        let mut found: Vec<T> = this_engines
            .into_iter()
            .filter(|c| slot_of(c).is_none_or(|slot| !slots.contains(&slot)))
            .collect();
        found.extend(away.into_iter().map(of_task));
        found
    }

    /// The tasks of `stack`.
    pub fn of_stack<'a>(&'a self, stack: &'a str) -> impl Iterator<Item = &'a Placed> + 'a {
        self.tasks.iter().filter(move |t| {
            t.spec
                .config
                .as_ref()
                .and_then(|c| c.labels.as_ref()?.get(STACK_LABEL))
                .map(String::as_str)
                == Some(stack)
        })
    }
}

/// The swarm seen from the engine `docker`, if it is a manager's (else None:
/// no swarm, or a worker, which knows no other node).
pub async fn read(docker: &Docker, timeout: Duration) -> Option<Cluster> {
    let nodes = tokio::time::timeout(timeout, docker.list_nodes(None::<ListNodesOptions>))
        .await
        .ok()?
        .ok()?;
    let (info, tasks, services) = tokio::join!(
        tokio::time::timeout(timeout, docker.info()),
        tokio::time::timeout(timeout, docker.list_tasks(None::<ListTasksOptions>)),
        tokio::time::timeout(timeout, docker.list_services(None::<ListServicesOptions>)),
    );
    let tasks = tasks.ok()?.ok()?;
    let services = services.ok().and_then(Result::ok).unwrap_or_default();
    let local = info
        .ok()
        .and_then(Result::ok)
        .and_then(|i| i.swarm?.node_id)
        .filter(|id| !id.is_empty());
    Some(Cluster {
        nodes: nodes.iter().filter_map(node).collect(),
        local,
        tasks: current(&tasks, &services),
        ingress: ingress(&services),
    })
}

/// A node as the engine lists it.
pub fn node(n: &bollard::models::Node) -> Option<Node> {
    let id = n.id.clone()?;
    let hostname = n
        .description
        .as_ref()
        .and_then(|d| d.hostname.clone())
        .unwrap_or_else(|| id.clone());
    let spec = n.spec.clone().unwrap_or_default();
    let status = n.status.clone().unwrap_or_default();
    // A manager may report 0.0.0.0 (it listens everywhere): its manager
    // address says where it is advertised.
    let address = status
        .addr
        .filter(|a| !a.is_empty() && a != "0.0.0.0")
        .or_else(|| {
            let advertised = n.manager_status.as_ref()?.addr.clone()?;
            Some(match advertised.rsplit_once(':') {
                Some((host, _)) => host.trim_matches(['[', ']']).to_string(),
                None => advertised,
            })
        })
        .unwrap_or_default();
    Some(Node {
        id,
        hostname,
        address,
        availability: match spec.availability {
            Some(NodeSpecAvailabilityEnum::DRAIN) => Availability::Drain,
            Some(NodeSpecAvailabilityEnum::PAUSE) => Availability::Pause,
            _ => Availability::Active,
        },
        state: match status.state {
            Some(NodeState::READY) => State::Ready,
            Some(NodeState::DOWN) => State::Down,
            Some(NodeState::DISCONNECTED) => State::Disconnected,
            _ => State::Unknown,
        },
        manager: spec.role == Some(NodeSpecRoleEnum::MANAGER),
    })
}

/// The current task of each slot: the newest one meant to run (else the
/// newest), with the node its slot last ran on when it has none yet.
fn current(tasks: &[Task], services: &[Service]) -> Vec<Placed> {
    let names: HashMap<&str, &str> = services
        .iter()
        .filter_map(|s| Some((s.id.as_deref()?, s.spec.as_ref()?.name.as_deref()?)))
        .collect();
    let mut slots: BTreeMap<(String, i64), Vec<&Task>> = BTreeMap::new();
    for task in tasks {
        let (Some(service), Some(slot)) = (task.service_id.as_deref(), task.slot) else {
            continue;
        };
        let Some(name) = names.get(service) else {
            continue;
        };
        slots
            .entry((name.to_string(), slot))
            .or_default()
            .push(task);
    }
    slots
        .into_iter()
        .filter_map(|((service, slot), mut tasks)| {
            tasks.sort_by_key(|t| std::cmp::Reverse(t.created_at.clone().unwrap_or_default()));
            let meant = |t: &&&Task| t.desired_state == Some(TaskState::RUNNING);
            let task = tasks.iter().find(meant).or(tasks.first())?;
            let shown = match container_id(task) {
                Some(_) => task,
                None => tasks
                    .iter()
                    .find(|t| container_id(t).is_some())
                    .unwrap_or(task),
            };
            let ran_on = tasks.iter().find_map(|t| t.node_id.clone());
            // The task it replaced, when that ran on another node: where it
            // was moved from.
            let before = tasks
                .iter()
                .find(|t| t.id != task.id && has_node(t))
                .and_then(|t| t.node_id.clone())
                .filter(|n| task.node_id.as_ref() != Some(n));
            let mut placed = placed(shown, &service, slot)?;
            let status = task.status.clone().unwrap_or_default();
            placed.task = task.id.clone()?;
            placed.placed = has_node(task);
            placed.node = if placed.placed {
                task.node_id.clone()
            } else {
                ran_on
            };
            placed.state = status.state;
            placed.desired = task.desired_state;
            placed.error = status.err.filter(|e| !e.is_empty());
            placed.moved_from = before.filter(|b| placed.placed && placed.node.as_ref() != Some(b));
            Some(placed)
        })
        .collect()
}

fn has_node(task: &Task) -> bool {
    task.node_id.as_deref().is_some_and(|n| !n.is_empty())
}

fn container_id(task: &Task) -> Option<String> {
    task.status
        .as_ref()?
        .container_status
        .as_ref()?
        .container_id
        .clone()
        .filter(|id| !id.is_empty())
}

/// `task`'s container as a slot's, with `task`'s own state (the caller sets
/// the slot's current task's).
fn placed(task: &Task, service: &str, slot: i64) -> Option<Placed> {
    let id = task.id.clone()?;
    let status = task.status.clone().unwrap_or_default();
    let container = format!("{service}.{slot}.{id}");
    let spec = task
        .spec
        .as_ref()
        .and_then(|s| s.container_spec.clone())
        .unwrap_or_default();
    let mut labels = spec.labels.unwrap_or_default();
    labels.insert(SWARM_SERVICE_LABEL.into(), service.to_string());
    labels.insert(SWARM_TASK_LABEL.into(), container.clone());
    let ports: Vec<(u16, u16)> = status
        .port_status
        .as_ref()
        .and_then(|p| p.ports.clone())
        .unwrap_or_default()
        .iter()
        .filter(|p| p.publish_mode == Some(EndpointPortConfigPublishModeEnum::HOST))
        .filter_map(|p| Some((p.target_port? as u16, p.published_port? as u16)))
        .collect();
    let port_bindings = ports
        .iter()
        .map(|(inside, published)| {
            let binding = PortBinding {
                host_ip: Some(String::new()),
                host_port: Some(published.to_string()),
            };
            (format!("{inside}/tcp"), Some(vec![binding]))
        })
        .collect();
    let placed = has_node(task);
    // Its process as inspect shows it: the entrypoint (the spec's command)
    // first, then the arguments.
    let entrypoint = spec.command.clone().unwrap_or_default();
    let process_args: Vec<String> = entrypoint
        .iter()
        .skip(1)
        .chain(spec.args.iter().flatten())
        .cloned()
        .collect();
    Some(Placed {
        container: container.clone(),
        container_id: container_id(task),
        container_node: task.node_id.clone().filter(|_| placed),
        task: id,
        service: service.to_string(),
        slot,
        node: task.node_id.clone().filter(|_| placed),
        placed,
        moved_from: None,
        state: status.state,
        desired: task.desired_state,
        error: status.err.filter(|e| !e.is_empty()),
        spec: ContainerInspectResponse {
            name: Some(format!("/{container}")),
            path: entrypoint.first().cloned(),
            args: Some(process_args),
            config: Some(ContainerConfig {
                labels: Some(labels),
                env: spec.env,
                entrypoint: spec.command,
                cmd: spec.args,
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                port_bindings: Some(port_bindings),
                ..Default::default()
            }),
            ..Default::default()
        },
    })
}

/// The ports each service publishes in ingress mode.
fn ingress(services: &[Service]) -> BTreeMap<String, Vec<(u16, u16)>> {
    services
        .iter()
        .filter_map(|s| {
            let name = s.spec.as_ref()?.name.clone()?;
            let ports: Vec<(u16, u16)> = s
                .endpoint
                .as_ref()?
                .ports
                .clone()?
                .iter()
                .filter(|p| p.publish_mode != Some(EndpointPortConfigPublishModeEnum::HOST))
                .filter_map(|p| Some((p.target_port? as u16, p.published_port? as u16)))
                .collect();
            (!ports.is_empty()).then_some((name, ports))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ServiceSpec, TaskStatus};

    fn task(id: &str, slot: i64, node: Option<&str>, desired: TaskState, created: &str) -> Task {
        Task {
            id: Some(id.into()),
            service_id: Some("svc1".into()),
            slot: Some(slot),
            node_id: node.map(String::from),
            desired_state: Some(desired),
            created_at: Some(created.into()),
            status: Some(TaskStatus {
                state: Some(if node.is_some() {
                    TaskState::RUNNING
                } else {
                    TaskState::PENDING
                }),
                err: node.is_none().then(|| {
                    "no suitable node (scheduling constraints not satisfied on 2 nodes)".into()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn services() -> Vec<Service> {
        vec![Service {
            id: Some("svc1".into()),
            spec: Some(ServiceSpec {
                name: Some("helpdesk_user-db".into()),
                ..Default::default()
            }),
            ..Default::default()
        }]
    }

    #[test]
    fn a_slot_is_its_newest_task_meant_to_run_and_a_pending_one_keeps_its_last_node() {
        let tasks = vec![
            task(
                "old",
                1,
                Some("nodeB"),
                TaskState::SHUTDOWN,
                "2026-01-01T00:00:01Z",
            ),
            task("new", 1, None, TaskState::RUNNING, "2026-01-01T00:00:02Z"),
            task(
                "two",
                2,
                Some("nodeA"),
                TaskState::RUNNING,
                "2026-01-01T00:00:01Z",
            ),
        ];
        let current = current(&tasks, &services());
        assert_eq!(current.len(), 2);
        let pending = &current[0];
        assert_eq!(pending.container, "helpdesk_user-db.1.new");
        assert_eq!(
            pending.node.as_deref(),
            Some("nodeB"),
            "where its slot last ran"
        );
        assert!(!pending.placed);
        assert!(
            pending
                .error
                .as_deref()
                .unwrap()
                .starts_with("no suitable node")
        );
        let labels = pending
            .spec
            .config
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert_eq!(labels[SWARM_TASK_LABEL], "helpdesk_user-db.1.new");
        assert_eq!(current[1].node.as_deref(), Some("nodeA"));
        assert!(current[1].placed);
    }

    #[test]
    fn a_task_placed_on_another_node_than_the_one_it_replaced_was_moved_from_there() {
        let tasks = vec![
            task(
                "gone",
                1,
                Some("nodeB"),
                TaskState::SHUTDOWN,
                "2026-01-01T00:00:01Z",
            ),
            task(
                "here",
                1,
                Some("nodeA"),
                TaskState::RUNNING,
                "2026-01-01T00:00:02Z",
            ),
            task(
                "older",
                2,
                Some("nodeB"),
                TaskState::SHUTDOWN,
                "2026-01-01T00:00:01Z",
            ),
            task(
                "crashed",
                2,
                Some("nodeA"),
                TaskState::SHUTDOWN,
                "2026-01-01T00:00:02Z",
            ),
            task(
                "again",
                2,
                Some("nodeA"),
                TaskState::RUNNING,
                "2026-01-01T00:00:03Z",
            ),
        ];
        let current = current(&tasks, &services());
        assert_eq!(current[0].moved_from.as_deref(), Some("nodeB"));
        assert_eq!(
            current[1].moved_from, None,
            "it replaced a task of its own node: an old move is history"
        );
    }

    #[test]
    fn a_manager_listening_everywhere_is_reached_at_its_advertised_address() {
        let n = bollard::models::Node {
            id: Some("x".into()),
            status: Some(bollard::models::NodeStatus {
                state: Some(NodeState::DOWN),
                addr: Some("0.0.0.0".into()),
                ..Default::default()
            }),
            manager_status: Some(bollard::models::ManagerStatus {
                addr: Some("10.231.0.2:2377".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let n = node(&n).unwrap();
        assert_eq!(n.address, "10.231.0.2");
        assert_eq!(n.state, State::Down);
        assert_eq!(n.to_string(), "node x at 10.231.0.2");
    }
}
