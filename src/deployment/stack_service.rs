//! A Swarm stack's service as its manager knows it — desired replicas, every
//! task with its slot, node, state and error, an update's state — and the
//! swarm's nodes, in the deployment's own types.

use super::cluster::{self, Node};
use super::task_state::TaskState;
use super::{Context, EngineError};
use bollard::models::{ServiceUpdateStatusStateEnum, Task};
use bollard::query_parameters::{InspectServiceOptions, ListNodesOptions, ListTasksOptions};
use std::collections::HashMap;

/// One service of the stack.
#[derive(Clone, Debug, Default)]
pub struct StackService {
    /// The replicas it should run (None: a global service).
    pub desired: Option<i64>,
    pub tasks: Vec<ServiceTask>,
    pub update: Option<Update>,
}

/// One task of a service.
#[derive(Clone, Debug, Default)]
pub struct ServiceTask {
    pub slot: Option<i64>,
    pub node_id: Option<String>,
    pub desired: Option<TaskState>,
    pub state: Option<TaskState>,
    /// The engine's error for it, if any (`task: non-zero exit (1)`).
    pub error: Option<String>,
    /// When it last changed (RFC 3339, sorts as time).
    pub updated_at: String,
}

/// A service's update, as the manager reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// The engine's word for it (`paused`, `rollback_completed`…).
    pub state: String,
    /// Paused or rolled back: it will not finish by itself.
    pub stuck: bool,
    pub message: String,
}

impl ServiceTask {
    pub fn is_running(&self) -> bool {
        self.desired == Some(TaskState::Running) && self.state == Some(TaskState::Running)
    }
}

/// The service `name` (`<stack>_<service>`) and its tasks, each request within the probe timeout.
pub async fn inspect(ctx: &Context, name: &str) -> Result<StackService, EngineError> {
    let engine = ctx.engine().await?;
    let docker = engine.docker();
    let service = engine
        .within(
            format!("service {name}"),
            docker.inspect_service(name, None::<InspectServiceOptions>),
        )
        .await?;
    let filters = HashMap::from([("service".to_string(), vec![name.to_string()])]);
    let listed = docker.list_tasks(Some(ListTasksOptions {
        filters: Some(filters),
    }));
    let tasks = engine.within(format!("tasks of {name}"), listed).await?;
    Ok(StackService {
        desired: service
            .spec
            .as_ref()
            .and_then(|s| s.mode.as_ref())
            .and_then(|m| m.replicated.as_ref())
            .and_then(|r| r.replicas),
        tasks: tasks.iter().map(task).collect(),
        update: service.update_status.as_ref().and_then(|u| {
            let state = u.state?;
            Some(Update {
                state: state.to_string(),
                stuck: stuck(state),
                message: u.message.clone().unwrap_or_default(),
            })
        }),
    })
}

/// The swarm's nodes, as its manager lists them.
pub async fn nodes(ctx: &Context) -> Result<Vec<Node>, EngineError> {
    let engine = ctx.engine().await?;
    let listed = engine
        .within(
            "listing the swarm's nodes",
            engine.docker().list_nodes(None::<ListNodesOptions>),
        )
        .await?;
    Ok(listed.iter().filter_map(cluster::node).collect())
}

fn task(t: &Task) -> ServiceTask {
    let status = t.status.as_ref();
    ServiceTask {
        slot: t.slot,
        node_id: t.node_id.clone(),
        desired: t.desired_state.map(TaskState::from),
        state: status.and_then(|s| s.state).map(TaskState::from),
        error: status.and_then(|s| s.err.clone()).filter(|e| !e.is_empty()),
        updated_at: t.updated_at.clone().unwrap_or_default(),
    }
}

fn stuck(state: ServiceUpdateStatusStateEnum) -> bool {
    matches!(
        state,
        ServiceUpdateStatusStateEnum::PAUSED
            | ServiceUpdateStatusStateEnum::ROLLBACK_STARTED
            | ServiceUpdateStatusStateEnum::ROLLBACK_PAUSED
            | ServiceUpdateStatusStateEnum::ROLLBACK_COMPLETED
    )
}
