//! A Swarm stack's own state, which no container shows: each service's
//! running tasks against its desired replicas, the error of its failing tasks
//! (`task: non-zero exit (1)`, `no suitable node`, a missing image), an update
//! stuck or rolled back; and the swarm's nodes, down or drained.

use super::Context;
use crate::check::Outcome;
use crate::deployment::cluster::{Availability, Node};
use crate::deployment::stack_service::{self, ServiceTask};
use crate::deployment::task_state::TaskState;

/// The stack's service `<stack>_<compose_service>`.
pub async fn service(ctx: &Context, compose_service: &str) -> Outcome {
    let name = format!("{}_{compose_service}", ctx.profile.compose_project);
    let service = match stack_service::inspect(ctx, &name).await {
        Ok(service) => service,
        Err(e) => return Outcome::from(e),
    };
    let tasks = &service.tasks;
    let running = tasks.iter().filter(|t| t.is_running()).count() as i64;
    let failed = failures(tasks, &|task| node_of(ctx, task));
    let want = service.desired.unwrap_or(running.max(1));
    let counted = format!("{running}/{want} tasks running");
    let outcome = if running < want {
        let why = failed
            .first()
            .map(|(task, error)| format!("; {task}: {error}"))
            .unwrap_or_default();
        Outcome::fail(format!("{name}: {counted}{why}"))
    } else if let Some(update) = service.update.as_ref().filter(|u| u.stuck) {
        Outcome::warn(format!(
            "{name}: {counted}, but its update is {}: {}",
            update.state, update.message
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
        .detail("desired", service.desired)
        .detail("running", running)
        .detail(
            "failed_tasks",
            failed.iter().map(|(t, e)| format!("{t}: {e}")).collect::<Vec<_>>(),
        )
}

/// ` on node-b`: the node a task ran on, on a swarm of several nodes.
fn node_of(ctx: &Context, task: &ServiceTask) -> String {
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
fn failures(
    tasks: &[ServiceTask],
    node_of: &dyn Fn(&ServiceTask) -> String,
) -> Vec<(String, String)> {
    let running: std::collections::BTreeSet<i64> = tasks
        .iter()
        .filter(|t| t.is_running())
        .filter_map(|t| t.slot)
        .collect();
    let mut by_slot: std::collections::BTreeMap<i64, Vec<&ServiceTask>> = Default::default();
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
            tasks.sort_by_key(|t| std::cmp::Reverse(t.updated_at.clone()));
            let crashed = tasks.iter().find(|t| {
                matches!(t.state, Some(TaskState::Failed | TaskState::Rejected))
                    && t.error.is_some()
            });
            if let Some(why) = crashed.or_else(|| tasks.iter().find(|t| t.error.is_some())) {
                return Some((format!("task.{slot}{}", node_of(why)), why.error.clone()?));
            }
            let ended = tasks.iter().find(|t| {
                matches!(
                    t.state,
                    Some(TaskState::Complete | TaskState::Shutdown | TaskState::Failed)
                )
            })?;
            let said = format!("{} (its container stopped)", ended.state?);
            Some((format!("task.{slot}{}", node_of(ended)), said))
        })
        .collect()
}

/// The swarm's nodes: every one ready, active and reachable from here, or
/// which is not — with the stack's tasks pending or rescheduled because of it.
pub async fn nodes(ctx: &Context) -> Outcome {
    let nodes: Vec<Node> = match stack_service::nodes(ctx).await {
        Ok(nodes) => nodes,
        Err(e) => return Outcome::from(e),
    };
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
