//! The one handle above the deployment layer to an engine that runs the
//! deployment's containers: what probes and runbooks ask of it (its version,
//! exec, a relay to a server, logs, memory, stop/start/create/remove, an
//! archive of a path), in the deployment's own types. No engine type leaves.

use super::EngineError;
use super::bridge::{self, BridgeError, Inside};
use super::exec::{self, Finished};
use super::exec_stream::{ExecStream, Stderr};
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, EventsOptionsBuilder,
    ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StatsOptionsBuilder, StopContainerOptionsBuilder,
};
use futures::StreamExt;
use futures::stream::BoxStream;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// A connected engine; cheap to clone, `'static` (a change run to its end
/// after an interruption holds one of its own).
#[derive(Clone)]
pub struct EngineClient {
    docker: Docker,
    /// How long one request may take.
    timeout: Duration,
}

/// What the engine says of itself.
#[derive(Clone, Debug, Default)]
pub struct EngineVersion {
    pub version: String,
    pub api: String,
}

/// What the engine says of its host.
#[derive(Clone, Debug, Default)]
pub struct EngineHost {
    /// Where it keeps images, containers and volumes.
    pub root_dir: String,
    pub cpus: i64,
    pub memory_bytes: i64,
    pub images: i64,
    pub containers: i64,
}

/// Which log lines to read, as `docker logs` takes them.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogQuery {
    /// Only lines after this Unix time (seconds).
    pub since: Option<i64>,
    /// Only lines before this Unix time (seconds).
    pub until: Option<i64>,
    /// Only the last this many lines.
    pub tail: Option<u64>,
    /// Each line prefixed with the engine's RFC 3339 timestamp.
    pub timestamps: bool,
    /// Keep the stream open for new lines.
    pub follow: bool,
}

/// A stream of log bytes (stdout and stderr as they came).
pub type LogStream = BoxStream<'static, Result<bytes::Bytes, EngineError>>;

/// A container the doctor creates for itself (a restore drill's database).
#[derive(Clone, Debug)]
pub struct NewContainer {
    pub name: String,
    pub image: String,
    pub env: Vec<String>,
    pub labels: HashMap<String, String>,
    /// No network at all (`--network none`).
    pub isolated: bool,
}

/// What the engine recorded of a container's ends between two times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ends {
    /// The exit code of the last `die`, if one was recorded.
    pub exit_code: Option<i64>,
    pub oom: bool,
}

/// At most this many events are read for one container's ends.
const MAX_EVENTS: usize = 256;

impl EngineClient {
    pub(in crate::deployment) fn new(docker: Docker, timeout: Duration) -> EngineClient {
        EngineClient { docker, timeout }
    }

    /// The engine's own client, for the deployment layer's readers.
    pub(in crate::deployment) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// `call` within the client's timeout, its error saying `what` failed.
    pub(in crate::deployment) async fn within<T, E: std::fmt::Display>(
        &self,
        what: impl Into<String>,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, EngineError> {
        let what = what.into();
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(EngineError::request(what, e)),
            Err(_) => Err(EngineError::request(
                what,
                format!("no answer within {:?}", self.timeout),
            )),
        }
    }

    pub async fn version(&self) -> Result<EngineVersion, EngineError> {
        let v = self
            .within("the engine's version", self.docker.version())
            .await?;
        Ok(EngineVersion {
            version: v.version.unwrap_or_default(),
            api: v.api_version.unwrap_or_default(),
        })
    }

    /// `docker info`, as much as the doctor reads of it.
    pub async fn host(&self, what: &str) -> Result<EngineHost, EngineError> {
        let info = self.within(what, self.docker.info()).await?;
        Ok(EngineHost {
            root_dir: info.docker_root_dir.unwrap_or_default(),
            cpus: info.ncpu.unwrap_or_default(),
            memory_bytes: info.mem_total.unwrap_or_default(),
            images: info.images.unwrap_or_default(),
            containers: info.containers.unwrap_or_default(),
        })
    }

    /// `cmd` run in `container` (`exec::run`): stdout to `on_stdout`.
    pub async fn exec(
        &self,
        container: &str,
        cmd: &[&str],
        env: &[String],
        stdin: Option<mpsc::Receiver<Vec<u8>>>,
        on_stdout: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<Finished, EngineError> {
        exec::run(&self.docker, container, cmd, env, stdin, on_stdout).await
    }

    /// A relay to the server `inside` `container` (`bridge::open`).
    pub async fn bridge(
        &self,
        container: &str,
        inside: &Inside,
    ) -> Result<(ExecStream, Stderr), EngineError> {
        bridge::open(&self.docker, container, inside).await
    }

    /// Whether the server `inside` `container` accepts a connection (`bridge::probe`).
    pub async fn probe_inside(
        &self,
        container: &str,
        inside: &Inside,
        timeout: Duration,
    ) -> Result<(), BridgeError> {
        bridge::probe(&self.docker, container, inside, timeout).await
    }

    /// `container`'s logs as `query` says, from this engine.
    pub fn logs(&self, container: &str, query: LogQuery) -> LogStream {
        let what = format!("reading the logs of {container}");
        log_bytes(self.docker.logs(container, Some(options(query))), what)
    }

    /// A Swarm task's logs, as its manager reads them (`docker service logs`).
    pub(in crate::deployment) fn task_logs(&self, task: String, query: LogQuery) -> LogStream {
        let docker = self.docker.clone();
        let what = format!("reading the logs of task {task}");
        let stream =
            futures::stream::once(async move { docker.task_logs(&task, Some(options(query))) })
                .flatten();
        log_bytes(stream, what)
    }

    /// `container` inspected now (never the run's memo).
    async fn inspect_now(
        &self,
        container: &str,
    ) -> Result<bollard::models::ContainerInspectResponse, EngineError> {
        self.docker
            .inspect_container(container, None)
            .await
            .map_err(|e| EngineError::request(format!("inspecting {container}"), e))
    }

    /// Memory use (without the page cache) and limit from the engine's
    /// one-shot stats (up to a second: the engine samples once a second).
    pub async fn memory(&self, container: &str) -> Result<(u64, Option<u64>), EngineError> {
        let options = StatsOptionsBuilder::new()
            .stream(false)
            .one_shot(true)
            .build();
        let what = format!("stats of {container}");
        let stats = match self.docker.stats(container, Some(options)).next().await {
            Some(Ok(stats)) => stats,
            Some(Err(e)) => return Err(EngineError::request(what, e)),
            None => return Err(EngineError::request(what, "no answer")),
        };
        let memory = stats.memory_stats.unwrap_or_default();
        let cache = memory
            .stats
            .as_ref()
            .and_then(|s| s.get("inactive_file").or(s.get("cache")).copied())
            .unwrap_or(0);
        Ok((
            memory.usage.unwrap_or(0).saturating_sub(cache),
            memory.limit,
        ))
    }

    /// The engine's `die` and `oom` events of `container` between two Unix
    /// times (seconds), read within the timeout: its last exit code, an OOM kill.
    pub async fn ends(&self, container: &str, since: u64, until: u64) -> Ends {
        let events = EventsOptionsBuilder::new()
            .since(&since.to_string())
            .until(&until.to_string())
            .filters(&HashMap::from([
                ("container", vec![container]),
                ("type", vec!["container"]),
                ("event", vec!["die", "oom"]),
            ]))
            .build();
        let read = self
            .docker
            .events(Some(events))
            .take(MAX_EVENTS)
            .collect::<Vec<_>>();
        let mut ends = Ends::default();
        if let Ok(events) = tokio::time::timeout(self.timeout, read).await {
            for event in events.into_iter().flatten() {
                let attributes = event.actor.and_then(|a| a.attributes).unwrap_or_default();
                match event.action.as_deref() {
                    Some("oom") => ends.oom = true,
                    Some("die") => {
                        ends.exit_code = attributes.get("exitCode").and_then(|c| c.parse().ok())
                    }
                    _ => {}
                }
            }
        }
        ends
    }

    /// Whether `container` runs now (a fresh inspection, never the run's memo);
    /// None when the engine cannot say.
    pub async fn running_now(&self, container: &str) -> Option<bool> {
        let inspected = self.inspect_now(container).await.ok()?;
        Some(inspected.state?.running.unwrap_or(false))
    }

    /// `container`'s health now: `Some(true)` once healthy (or running, with no
    /// health check); the engine's word for what it is otherwise.
    async fn ready_now(&self, container: &str) -> Result<(bool, String), EngineError> {
        let state = self.inspect_now(container).await?.state.unwrap_or_default();
        let health = state.health.and_then(|h| h.status).map(|s| s.to_string());
        Ok(match health {
            Some(status) => (status == "healthy", status),
            None => (state.running == Some(true), "not running".into()),
        })
    }

    /// Until `container` is healthy (or running, when it has no health check);
    /// an error naming its state after `timeout`.
    pub async fn wait_healthy(
        &self,
        container: &str,
        timeout: Duration,
    ) -> Result<(), HealthError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let (ready, state) = self.ready_now(container).await?;
            if ready {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(HealthError::NotHealthy {
                    container: container.to_string(),
                    timeout,
                    state,
                });
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub async fn start(&self, container: &str) -> Result<(), EngineError> {
        self.docker
            .start_container(container, None)
            .await
            .map_err(|e| EngineError::request(format!("starting {container}"), e))
    }

    /// Stops `container`, killing it after `grace` seconds.
    pub async fn stop(&self, container: &str, grace: i32) -> Result<(), EngineError> {
        let options = StopContainerOptionsBuilder::new().t(grace).build();
        self.docker
            .stop_container(container, Some(options))
            .await
            .map_err(|e| EngineError::request(format!("stopping {container}"), e))
    }

    pub async fn restart(&self, container: &str) -> Result<(), EngineError> {
        self.docker
            .restart_container(container, None)
            .await
            .map_err(|e| EngineError::request(format!("restarting {container}"), e))
    }

    pub async fn unpause(&self, container: &str) -> Result<(), EngineError> {
        self.docker
            .unpause_container(container)
            .await
            .map_err(|e| EngineError::request(format!("unpausing {container}"), e))
    }

    /// Where `container`'s first volume is mounted, if it has one (a fresh inspection).
    pub async fn volume_destination(&self, container: &str) -> Result<Option<String>, EngineError> {
        Ok(self
            .inspect_now(container)
            .await?
            .mounts
            .unwrap_or_default()
            .into_iter()
            .find(|m| m.typ.as_ref().map(|t| t.to_string()) == Some("volume".into()))
            .and_then(|m| m.destination))
    }

    /// A tar archive of `path` in `container`, as the engine streams it.
    pub fn download(&self, container: &str, path: &str) -> LogStream {
        let options = DownloadFromContainerOptionsBuilder::new()
            .path(path)
            .build();
        let what = format!("archiving {container}:{path}");
        self.docker
            .download_from_container(container, Some(options))
            .map(move |chunk| chunk.map_err(|e| EngineError::request(what.clone(), e)))
            .boxed()
    }

    /// Creates and starts `new`.
    pub async fn create_and_start(&self, new: NewContainer) -> Result<(), EngineError> {
        let body = ContainerCreateBody {
            image: Some(new.image.clone()),
            env: Some(new.env),
            labels: Some(new.labels),
            host_config: Some(HostConfig {
                network_mode: new.isolated.then(|| "none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::new().name(&new.name).build();
        self.docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| {
                EngineError::request(format!("creating a container from {}", new.image), e)
            })?;
        self.start(&new.name).await
    }

    /// Removes every container labelled `label` (`key=value`) and its
    /// anonymous volumes, whatever state it is in; the ids it could not remove,
    /// with why.
    pub async fn remove_labelled(
        &self,
        label: &str,
    ) -> Result<Vec<(String, EngineError)>, EngineError> {
        let filters = HashMap::from([("label", vec![label])]);
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let found = self
            .within(
                format!("listing containers labelled {label}"),
                self.docker.list_containers(Some(options)),
            )
            .await?;
        let mut failed = Vec::new();
        for id in found.into_iter().filter_map(|c| c.id) {
            let remove = RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(true)
                .build();
            if let Err(e) = self.docker.remove_container(&id, Some(remove)).await {
                let error = EngineError::request(format!("removing {id}"), e);
                failed.push((id, error));
            }
        }
        Ok(failed)
    }
}

/// The engine's log chunks as bytes, an error saying `what` failed.
fn log_bytes(
    chunks: impl futures::Stream<Item = Result<bollard::container::LogOutput, bollard::errors::Error>>
    + Send
    + 'static,
    what: String,
) -> LogStream {
    chunks
        .map(move |chunk| {
            chunk
                .map(|c| c.into_bytes())
                .map_err(|e| EngineError::request(what.clone(), e))
        })
        .boxed()
}

fn options(query: LogQuery) -> bollard::query_parameters::LogsOptions {
    let mut options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .timestamps(query.timestamps)
        .follow(query.follow);
    if let Some(since) = query.since {
        options = options.since(since.clamp(0, i32::MAX as i64) as i32);
    }
    if let Some(until) = query.until {
        options = options.until(until.clamp(0, i32::MAX as i64) as i32);
    }
    if let Some(tail) = query.tail {
        options = options.tail(&tail.to_string());
    }
    options.build()
}

/// Why a container did not become healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The engine failed inspecting it.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Still not healthy (or not running) at the deadline; `state` is its health.
    #[error("{container} not healthy within {timeout:?} ({state})")]
    NotHealthy {
        container: String,
        timeout: Duration,
        state: String,
    },
}
