//! The deployment's containers through the Engine API: found by their compose
//! labels (scaled replicas included), inspected once per run, their environment
//! and their last log lines.

use super::container::Container;
use super::engine_client::{LogQuery, LogStream};
use super::runtime;
use super::{Context, EngineError};
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::ListContainersOptionsBuilder;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;

/// Every container of `compose_service` in the profile's compose project, or the
/// one named `container` when no labelled one exists.
pub async fn find(
    ctx: &Context,
    container: &str,
    compose_service: &str,
) -> Result<Vec<Arc<Container>>, EngineError> {
    let docker = ctx.docker().await?;
    let labels = ctx
        .profile
        .runtime
        .service_filters(&ctx.profile.compose_project, compose_service);
    let filters = HashMap::from([("label", labels.iter().map(String::as_str).collect())]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let listed = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| EngineError::request("listing containers", e))?;
    let mut names: Vec<String> =
        on_every_node(ctx, compose_service, runtime::current_tasks(listed))
            .iter()
            .filter_map(|c| {
                c.names
                    .as_ref()?
                    .first()
                    .map(|n| n.trim_start_matches('/').to_string())
            })
            .collect();
    if names.is_empty() {
        names.push(container.to_string());
    }
    // A replica no engine here can read (a task on another node) is left out
    // while another one is read; alone, it says why it cannot be.
    let mut found = Vec::new();
    let mut elsewhere = None;
    for name in names {
        match inspect(ctx, &name).await {
            Ok(Some(inspected)) => found.push(inspected),
            Ok(None) => {}
            Err(e) if e.is_elsewhere() => elsewhere = elsewhere.or(Some(e)),
            Err(e) => return Err(e),
        }
    }
    match elsewhere {
        Some(e) if found.is_empty() => Err(e),
        _ => Ok(found),
    }
}

/// `listed` (this engine's containers of `compose_service`), with the tasks
/// of its stack's service that run on other nodes in place of their slots'.
fn on_every_node(
    ctx: &Context,
    compose_service: &str,
    listed: Vec<bollard::models::ContainerSummary>,
) -> Vec<bollard::models::ContainerSummary> {
    let Some(cluster) = ctx.profile.cluster.as_deref() else {
        return listed;
    };
    let stack = &ctx.profile.compose_project;
    let service = format!("{stack}_{compose_service}");
    let all = cluster.on_every_node(
        stack,
        listed,
        |c| runtime::slot_of(c.labels.as_ref()),
        |task| bollard::models::ContainerSummary {
            names: Some(vec![format!("/{}", task.container)]),
            labels: task.spec.config.as_ref().and_then(|c| c.labels.clone()),
            ..Default::default()
        },
    );
    all.into_iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .and_then(|l| l.get(runtime::SWARM_SERVICE_LABEL))
                .is_none_or(|s| *s == service)
        })
        .collect()
}

/// A container of the project, by name, with its compose service.
pub struct Member {
    pub name: String,
    pub compose_service: String,
}

/// Every container of the project (stopped ones too, the load balancer too),
/// sorted by name, within the probe timeout.
pub async fn of_project(ctx: &Context) -> Result<Vec<Member>, EngineError> {
    let docker = ctx.docker().await?;
    let label = format!(
        "{}={}",
        ctx.profile.runtime.project_label(),
        ctx.profile.compose_project
    );
    let filters = HashMap::from([("label", vec![label.as_str()])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let listed = tokio::time::timeout(ctx.timeout, docker.list_containers(Some(options)))
        .await
        .map_err(|_| EngineError::request("listing the project's containers", "no answer in time"))?
        .map_err(|e| EngineError::request("listing the project's containers", e))?;
    let mut members: Vec<Member> = runtime::current_tasks(listed)
        .into_iter()
        .filter_map(|c| {
            let name = c.names?.first()?.trim_start_matches('/').to_string();
            let mut labels = runtime::as_compose(c.labels.unwrap_or_default());
            let compose_service = labels.remove(runtime::SERVICE_LABEL).unwrap_or_default();
            Some(Member {
                name,
                compose_service,
            })
        })
        .collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(members)
}

/// The compose project (or Swarm stack) of `c` when it is not the deployment's.
fn another_projects(ctx: &Context, c: &ContainerInspectResponse) -> Option<String> {
    let labels = c.config.as_ref()?.labels.as_ref()?;
    [runtime::PROJECT_LABEL, runtime::STACK_LABEL]
        .iter()
        .find_map(|label| labels.get(*label))
        .filter(|project| **project != ctx.profile.compose_project)
        .cloned()
}

/// The project of the container named `name` when it exists and is another's
/// (to say whose it is; `inspect` never returns it).
pub async fn of_another_project(ctx: &Context, name: &str) -> Option<String> {
    let docker = ctx.docker().await.ok()?;
    let inspected = tokio::time::timeout(ctx.timeout, docker.inspect_container(name, None))
        .await
        .ok()?
        .ok()?;
    another_projects(ctx, &inspected)
}

/// Inspects one container by name, once per run, if it is the deployment's:
/// `Ok(None)` when it does not exist or belongs to another compose project.
pub async fn inspect(
    ctx: &Context,
    container: &str,
) -> Result<Option<Arc<Container>>, EngineError> {
    ctx.inspected
        .get_or_init(container, || async {
            let docker = ctx.docker_for(container).await?;
            match docker.inspect_container(container, None).await {
                // A container of another project is never taken for this one's.
                Ok(inspected) if another_projects(ctx, &inspected).is_some() => Ok(None),
                Ok(inspected) => Ok(Some(Arc::new(Container::from(inspected)))),
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => Ok(None),
                Err(e) => Err(EngineError::request(format!("inspecting {container}"), e)),
            }
        })
        .await
}

/// What is known of `container`'s configuration (environment, command,
/// labels): its inspection, else — a Swarm task no engine here can inspect —
/// its task's spec, as the manager describes its container (never its state).
pub async fn described(
    ctx: &Context,
    container: &str,
) -> Result<Option<Arc<Container>>, EngineError> {
    match inspect(ctx, container).await {
        Err(e) if e.is_elsewhere() => {
            let task = ctx
                .profile
                .cluster
                .as_deref()
                .and_then(|c| c.task(container));
            match task {
                Some(task) => Ok(Some(Arc::new(Container::from(task.spec.clone())))),
                None => Err(e),
            }
        }
        inspected => inspected,
    }
}

/// The size of a container's log file now, when the engine is this machine's
/// and its log driver writes one (json-file, local).
pub async fn log_file_bytes(ctx: &Context, c: &Container) -> Option<u64> {
    if !ctx.profile.engine.is_local() {
        return None;
    }
    let path = c.log_path.as_deref()?;
    tokio::fs::metadata(path).await.ok().map(|m| m.len())
}

/// The last `lines` log lines of a container (stdout and stderr), masked.
pub async fn tail(ctx: &Context, container: &str, lines: usize) -> Vec<String> {
    let query = LogQuery {
        tail: Some(lines as u64),
        ..Default::default()
    };
    let Ok(stream) = logs(ctx, container, query).await else {
        return vec![];
    };
    let chunks: Vec<_> = stream.collect().await;
    let text: String = chunks
        .into_iter()
        .filter_map(Result::ok)
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .collect();
    text.lines().map(|l| ctx.secrets.redact(l)).collect()
}

/// A container's log stream, from the engine it runs on; a Swarm task whose
/// node's engine is not configured, from the manager (its task's logs, as
/// `docker service logs` reads them).
pub async fn logs(
    ctx: &Context,
    container: &str,
    query: LogQuery,
) -> Result<LogStream, EngineError> {
    match ctx.engine_for(container).await {
        Ok(engine) => Ok(engine.logs(container, query)),
        Err(EngineError::NoNodeEngine { .. }) => {
            let cluster = ctx.profile.cluster.as_deref();
            let task = cluster
                .and_then(|c| c.task(container))
                .map(|t| t.task.clone());
            Ok(ctx
                .engine()
                .await?
                .task_logs(task.unwrap_or_default(), query))
        }
        Err(e) => Err(e),
    }
}

/// A container's environment as a map (values are secrets until proven otherwise).
pub async fn environment(
    ctx: &Context,
    container: &str,
) -> Result<Option<HashMap<String, String>>, EngineError> {
    environment_of(inspect(ctx, container).await?)
}

/// A container's environment as its configuration says it (`described`): a
/// task on another node's, from its spec.
pub async fn described_environment(
    ctx: &Context,
    container: &str,
) -> Result<Option<HashMap<String, String>>, EngineError> {
    environment_of(described(ctx, container).await?)
}

fn environment_of(
    inspected: Option<Arc<Container>>,
) -> Result<Option<HashMap<String, String>>, EngineError> {
    let Some(c) = inspected else {
        return Ok(None);
    };
    let env = c
        .inspected
        .config
        .clone()
        .and_then(|c| c.env)
        .unwrap_or_default();
    Ok(Some(
        env.into_iter()
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect(),
    ))
}
