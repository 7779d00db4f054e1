//! A Swarm stack's own state, which no container shows: each service's
//! running tasks against its desired replicas, the error of its failing tasks
//! (`task: non-zero exit (1)`, `no suitable node`, a missing image), an update
//! stuck or rolled back; and the swarm's nodes, down or drained.

use super::{Context, within};
use crate::check::Outcome;
use crate::deployment::cluster::{self, Availability, Node};
use bollard::models::{ServiceUpdateStatusStateEnum, Task, TaskState};
use bollard::query_parameters::{InspectServiceOptions, ListNodesOptions, ListTasksOptions};
use std::collections::HashMap;

/// The stack's service `<stack>_<compose_service>`.
pub async fn service(ctx: &Context, compose_service: &str) -> Outcome {
    let name = format!("{}_{compose_service}", ctx.profile.compose_project);
    let docker = match ctx.docker().await {
        Ok(docker) => docker,
        Err(e) => return Outcome::from(e),
    };
    let what = format!("service {name}");
    let inspected = docker.inspect_service(&name, None::<InspectServiceOptions>);
    let service = match within(ctx, &what, inspected).await {
        Ok(service) => service,
        Err(e) => return Outcome::from(e),
    };
    let filters = HashMap::from([("service".to_string(), vec![name.clone()])]);
    let what = format!("tasks of {name}");
    let listed = docker.list_tasks(Some(ListTasksOptions {
        filters: Some(filters),
    }));
    let tasks = match within(ctx, &what, listed).await {
        Ok(tasks) => tasks,
        Err(e) => return Outcome::from(e),
    };
    let desired = service
        .spec
        .as_ref()
        .and_then(|s| s.mode.as_ref())
        .and_then(|m| m.replicated.as_ref())
        .and_then(|r| r.replicas);
    let running = tasks.iter().filter(|t| is_running(t)).count() as i64;
    let failed = failures(&tasks, &|task| node_of(ctx, task));
    let update = service
        .update_status
        .as_ref()
        .and_then(|u| Some((u.state?, u.message.clone().unwrap_or_default())));
    let want = desired.unwrap_or(running.max(1));
    let counted = format!("{running}/{want} tasks running");
    let outcome = if running < want {
        let why = failed
            .first()
            .map(|(task, error)| format!("; {task}: {error}"))
            .unwrap_or_default();
        Outcome::fail(format!("{name}: {counted}{why}"))
    } else if let Some((state, message)) = update.as_ref().filter(|(s, _)| stuck(*s)) {
        Outcome::warn(format!(
            "{name}: {counted}, but its update is {state}: {message}"
        ))
    } else {
        Outcome::pass(format!("{name}: {counted}"))
    };
    let docker = ctx.profile.docker_command();
    outcome
        .with_hint(format!(
            "See every task and its error: {docker} service ps --no-trunc {name}; its logs: {docker} service logs --tail 50 {name}"
        ))
        .detail("service", &name)
        .detail("desired", desired)
        .detail("running", running)
        .detail(
            "failed_tasks",
            failed.iter().map(|(t, e)| format!("{t}: {e}")).collect::<Vec<_>>(),
        )
}

fn is_running(task: &Task) -> bool {
    task.desired_state == Some(TaskState::RUNNING)
        && task.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING)
}

/// ` on node-b`: the node a task ran on, on a swarm of several nodes.
fn node_of(ctx: &Context, task: &Task) -> String {
    let Some(cluster) = ctx.profile.cluster.as_deref().filter(|c| c.nodes.len() > 1) else {
        return String::new();
    };
    task.node_id
        .as_deref()
        .and_then(|id| cluster.node(id))
        .map(|n| format!(" on {}", n.hostname))
        .unwrap_or_default()
}

/// Why each slot short of a running task is so: the newest task of that slot
/// that failed or was rejected (it ran and crashed, its image is missing),
/// else the newest one's scheduling error (`no suitable node`), else the state
/// the newest task that ran ended in (`complete`: its container exited 0).
fn failures(tasks: &[Task], node_of: &dyn Fn(&Task) -> String) -> Vec<(String, String)> {
    let running: std::collections::BTreeSet<i64> = tasks
        .iter()
        .filter(|t| is_running(t))
        .filter_map(|t| t.slot)
        .collect();
    let mut by_slot: std::collections::BTreeMap<i64, Vec<&Task>> = Default::default();
    for task in tasks
        .iter()
        .filter(|t| t.slot.is_some_and(|s| !running.contains(&s)))
    {
        by_slot
            .entry(task.slot.unwrap_or_default())
            .or_default()
            .push(task);
    }
    by_slot
        .into_iter()
        .filter_map(|(slot, mut tasks)| {
            tasks.sort_by_key(|t| std::cmp::Reverse(t.updated_at.clone().unwrap_or_default()));
            let crashed = tasks.iter().find(|t| {
                matches!(state(t), Some(TaskState::FAILED | TaskState::REJECTED))
                    && error(t).is_some()
            });
            if let Some(why) = crashed.or_else(|| tasks.iter().find(|t| error(t).is_some())) {
                return Some((format!("task.{slot}{}", node_of(why)), error(why)?));
            }
            let ended = tasks.iter().find(|t| {
                matches!(
                    state(t),
                    Some(TaskState::COMPLETE | TaskState::SHUTDOWN | TaskState::FAILED)
                )
            })?;
            let said = format!("{} (its container stopped)", state(ended)?);
            Some((format!("task.{slot}{}", node_of(ended)), said))
        })
        .collect()
}

fn state(task: &Task) -> Option<TaskState> {
    task.status.as_ref().and_then(|s| s.state)
}

fn error(task: &Task) -> Option<String> {
    task.status.as_ref()?.err.clone().filter(|e| !e.is_empty())
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

/// The swarm's nodes: every one ready, active and reachable from here, or
/// which is not — with the stack's tasks pending or rescheduled because of it.
pub async fn nodes(ctx: &Context) -> Outcome {
    let docker = match ctx.docker().await {
        Ok(docker) => docker,
        Err(e) => return Outcome::from(e),
    };
    let listed = match within(
        ctx,
        "listing the swarm's nodes",
        docker.list_nodes(None::<ListNodesOptions>),
    )
    .await
    {
        Ok(nodes) => nodes,
        Err(e) => return Outcome::from(e),
    };
    let nodes: Vec<Node> = listed.iter().filter_map(cluster::node).collect();
    let mut problems = Vec::new();
    let mut down = Vec::new();
    let mut drained = Vec::new();
    for node in &nodes {
        let why = match ctx.node_unreachable(node).await {
            Some(reason) => {
                down.push(node.hostname.clone());
                format!("{node} unreachable: {reason}")
            }
            None if node.availability != Availability::Active => {
                drained.push(node.hostname.clone());
                let word = match node.availability {
                    Availability::Drain => "drained",
                    _ => "paused",
                };
                format!("{node} {word}")
            }
            None => continue,
        };
        problems.push(format!("{why}{}", affected(ctx, node)));
    }
    let outcome = if problems.is_empty() {
        Outcome::pass(format!("{} nodes ready and active", nodes.len()))
    } else {
        Outcome::fail(format!(
            "{} of {} nodes not usable: {}",
            problems.len(),
            nodes.len(),
            problems.join("; ")
        ))
    };
    outcome
        .with_hint(format!(
            "See them: {docker} node ls; bring one back: {docker} node update --availability active \
             NODE; one down: systemctl status docker on it",
            docker = ctx.profile.docker_command()
        ))
        .detail("nodes", &nodes)
        .detail("down", down)
        .detail("drained", drained)
}

/// `; pending: helpdesk_user-db.1; rescheduled: helpdesk_ticket-service.1 to
/// node-a` — the stack's tasks waiting for `node` or moved away from it.
fn affected(ctx: &Context, node: &Node) -> String {
    let Some(cluster) = ctx.profile.cluster.as_deref() else {
        return String::new();
    };
    let stack = &ctx.profile.compose_project;
    let mut pending = Vec::new();
    let mut moved = Vec::new();
    for task in cluster.of_stack(stack) {
        if !task.placed && task.node.as_deref() == Some(node.id.as_str()) {
            pending.push(task.slot_key());
        } else if task.moved_from.as_deref() == Some(node.id.as_str()) {
            let to = task
                .node
                .as_deref()
                .and_then(|id| cluster.node(id))
                .map(|n| n.hostname.clone())
                .unwrap_or_default();
            moved.push(format!("{} to {to}", task.slot_key()));
        }
    }
    let mut said = String::new();
    if !pending.is_empty() {
        said.push_str(&format!("; pending because of it: {}", pending.join(", ")));
    }
    if !moved.is_empty() {
        said.push_str(&format!("; rescheduled: {}", moved.join(", ")));
    }
    said
}
