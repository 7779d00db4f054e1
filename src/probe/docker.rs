//! Docker probes through the Engine API: engine, containers (every replica,
//! found by `deployment::containers`), network, resources, DNS.

use super::restarts::{self, Advice, Restarts, Verdict};
use super::{Context, cgroup};
use crate::check::{Outcome, Status};
use crate::deployment::EngineError;
use crate::deployment::container::{Container, Health};
use crate::deployment::containers::{self, find, inspect, tail};
use crate::deployment::engine_client::EngineClient;
use crate::profile::Role;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

const LOG_LINES_WHEN_DOWN: usize = 10;
const RESTART_LOOP_COUNT: i64 = 3;
/// What `getent hosts` may answer (a few lines per host): more is not read.
const MAX_GETENT_OUTPUT: usize = 64 * 1024;
/// What a container's memory cgroup files may hold: more is not read.
const MAX_CGROUP_OUTPUT: usize = 64 * 1024;

pub async fn engine(ctx: &Context) -> Outcome {
    let engine = match ctx.engine().await {
        Ok(engine) => engine,
        Err(e) => return Outcome::from(e),
    };
    match engine.version().await {
        Ok(v) => Outcome::pass(format!("Docker {} (API {})", v.version, v.api))
            .detail("version", v.version)
            .detail("api_version", v.api),
        Err(e) => Outcome::fail(format!("Docker engine did not answer: {e}")),
    }
}

pub async fn container(
    ctx: &Context,
    container: &str,
    compose_service: &str,
    restart_window: Duration,
) -> Outcome {
    let replicas = match find(ctx, container, compose_service).await {
        Ok(replicas) => replicas,
        Err(e) => return Outcome::from(e),
    };
    if replicas.is_empty() {
        let project = &ctx.profile.compose_project;
        let named = match containers::of_another_project(ctx, container).await {
            Some(other) => format!("{container} is project {other}'s, not this deployment's"),
            None => format!("nor one named {container}"),
        };
        return Outcome::fail(format!(
            "no container of compose service {compose_service} in project {project}, {named}"
        ))
        .with_hint(format!(
            "If the deployment runs under another compose project, name it: --project NAME \
             (or COMPOSE_PROJECT_NAME); else create it: {} up -d {compose_service}",
            ctx.profile.compose_command()
        ));
    }
    let labelled = replicas.iter().any(|c| c.has_project_labels());
    let mut outcomes = Vec::with_capacity(replicas.len());
    for replica in &replicas {
        outcomes.push((
            replica.name.clone(),
            replica_state(ctx, replica, restart_window).await,
        ));
    }
    let total = outcomes.len();
    let failing: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| o.status == Status::Fail)
        .map(|(name, o)| format!("{name}: {}", o.message))
        .collect();
    let worst = outcomes
        .into_iter()
        .map(|(_, o)| o)
        .max_by_key(|o| o.status)
        .expect("at least one replica");
    let down = failing.len();
    let outcome = if !failing.is_empty() && failing.len() < total {
        // The service still has running replicas: degraded, not down.
        let message = format!(
            "{} of {total} replicas down ({}); the others run",
            failing.len(),
            failing.join("; ")
        );
        let mut degraded = Outcome::warn(message);
        degraded.hint = worst.hint.clone();
        degraded.details = worst.details;
        degraded
    } else if total > 1 && worst.status == Status::Pass {
        let mut all = worst;
        all.message = format!("{total} replicas, all {}", all.message);
        all
    } else {
        worst
    };
    let found_by = if labelled {
        "compose labels"
    } else {
        "its name (no compose labels)"
    };
    let mut outcome = outcome;
    if !labelled {
        outcome.message = format!("{} (found by {found_by})", outcome.message);
    }
    outcome
        .detail("replicas", total)
        .detail("replicas_down", down)
        .detail("found_by", found_by)
}

async fn replica_state(ctx: &Context, c: &Container, restart_window: Duration) -> Outcome {
    let name = c.name.clone();
    let compose_service = c.compose_service().unwrap_or_default().to_string();
    let state = &c.state;
    let restarts = c.restart_count;
    let (exit_code, oom, running) = (state.exit_code, state.oom_killed, state.running);
    let health_status = c.health.as_str();
    let streak = c.health.failing_streak();
    let base = |o: Outcome| {
        o.detail("container", &name)
            .detail("compose_service", compose_service.clone())
            .detail("running", running)
            .detail("restart_count", restarts)
            .detail("exit_code", exit_code)
            .detail("oom_killed", oom)
            .detail("health", health_status)
            .detail("failing_streak", streak)
    };
    let looping = restarts >= RESTART_LOOP_COUNT && c.health != Health::Healthy;
    if state.restarting || looping {
        let logs = tail(ctx, &name, LOG_LINES_WHEN_DOWN).await;
        let message = format!(
            "{name} is in a restart loop: restarted {restarts} times, last exit code {exit_code}{}",
            oom_note(oom)
        );
        return base(Outcome::fail(message)).detail("last_logs", logs);
    }
    if !running {
        let logs = tail(ctx, &name, LOG_LINES_WHEN_DOWN).await;
        let status = state.status;
        let message = format!(
            "{name} is not running ({status}, exit code {exit_code}{})",
            oom_note(oom)
        );
        return base(Outcome::fail(message)).detail("last_logs", logs);
    }
    let docker = ctx.profile.docker_command();
    if state.paused {
        return base(Outcome::fail(format!(
            "{name} is paused: its processes are frozen (docker pause)"
        )))
        .detail("paused", true)
        .with_hint(format!(
            "Resume it: {docker} unpause {name} (it keeps its state; nothing restarts)"
        ));
    }
    match &c.health {
        Health::Unhealthy { last, .. } => {
            let message = format!(
                "{name} is unhealthy (failing streak {streak}): {}",
                last.trim()
            );
            base(Outcome::fail(message)).with_hint(format!(
                "Read its health checks: {docker} inspect --format '{{{{json .State.Health}}}}' {name}; \
                 its logs: {docker} logs --tail 50 {name}; once the cause is fixed, restart it: \
                 {docker} restart {name}"
            ))
        }
        Health::Starting => base(Outcome::warn(format!(
            "{name} is running, health check still starting"
        )))
        .with_hint(format!(
            "Nothing to start: wait for its first health check ({docker} inspect --format \
             '{{{{.State.Health.Status}}}}' {name}), or read its logs: {docker} logs --tail 50 {name}"
        )),
        _ => {
            let passing = base(Outcome::pass(format!(
                "{name} running, health {health_status}"
            )));
            judge_restarts(
                ctx,
                c,
                &compose_service,
                &c.health,
                restart_window,
                passing,
            )
            .await
        }
    }
}

/// A running replica's restarts: inside the window a WARN with the advice
/// its cause calls for (never "start it again"), else a detail of `passing`.
async fn judge_restarts(
    ctx: &Context,
    c: &Container,
    compose_service: &str,
    health: &Health,
    window: Duration,
    passing: Outcome,
) -> Outcome {
    let name = c.name.clone();
    let now = SystemTime::now();
    let mut found = Restarts::of(c);
    if let Verdict::Recent { .. } = found.judge(now, window) {
        let dependencies = dependencies(ctx, &name).await;
        found = restarts::explain(ctx, c.reference(), found, &dependencies).await;
    }
    let verdict = found.judge(now, window);
    let profile = &ctx.profile;
    let advice = Advice {
        container: name.clone(),
        compose_service: compose_service.to_string(),
        compose_file: profile
            .compose_files
            .first()
            .unwrap_or(&profile.compose_file)
            .clone(),
        health: match health {
            Health::None => "no health check".to_string(),
            health => health.to_string(),
        },
        window,
        previous_logs: Advice::previous_logs_command(&profile.docker_command(), &name, found.last),
    };
    restarts::outcome(&verdict, &found, passing, &advice)
}

/// The words of a log line that name a data container of the deployment (its
/// name, its compose service; its port for `container`'s own service), each
/// with that container's compose service (from its labels when it exists).
async fn dependencies(ctx: &Context, container: &str) -> HashMap<String, String> {
    let mut words = HashMap::new();
    for service in &ctx.profile.services {
        let own = service
            .containers
            .values()
            .flatten()
            .any(|c| c == container)
            || service.container(Role::Service) == container;
        for (role, port) in [(Role::Db, ":5432"), (Role::Redis, ":6379")] {
            let name = service.container(role);
            let labelled = match inspect(ctx, &name).await {
                Ok(Some(c)) => c.compose_service().map(str::to_string),
                _ => None,
            };
            let compose_service = labelled.unwrap_or_else(|| service.compose_service(role));
            words.insert(name, compose_service.clone());
            words.insert(compose_service.clone(), compose_service.clone());
            if own {
                words.insert(port.to_string(), compose_service);
            }
        }
    }
    words
}

/// A replica that is not running has no resources or name resolution to judge:
/// its service's container check already names it (WARN or FAIL).
fn skip_unless_running(c: &Container) -> Option<Outcome> {
    (!c.state.running).then(|| {
        Outcome::new(
            Status::Skip,
            format!("{} is not running (see its container check)", c.name),
        )
    })
}

fn oom_note(oom: bool) -> &'static str {
    if oom { ", OOM-killed" } else { "" }
}

pub async fn network(ctx: &Context, container: &str, network: &str) -> Outcome {
    let c = match inspect(ctx, container).await {
        Ok(Some(c)) => c,
        Ok(None) => return Outcome::fail(format!("container {container} does not exist")),
        Err(e) => return Outcome::from(e),
    };
    let networks: Vec<String> = c.networks.iter().map(|n| n.name.clone()).collect();
    if c.on_network(network) {
        Outcome::pass(format!("attached to {network}")).detail("networks", networks)
    } else {
        Outcome::fail(format!(
            "{container} is not attached to {network} (attached to: {})",
            networks.join(", ")
        ))
        .detail("networks", networks)
    }
}

/// Memory (and CPU) against the container's limit: from its cgroup when the
/// doctor runs on the Docker host, else from the engine's one-shot stats.
pub async fn resources(ctx: &Context, container: &str, warn_percent: f64) -> Outcome {
    let inspected = match inspect(ctx, container).await {
        Ok(Some(c)) => c,
        Ok(None) => return Outcome::fail(format!("container {container} does not exist")),
        Err(e) => return Outcome::from(e),
    };
    if let Some(skipped) = skip_unless_running(&inspected) {
        return skipped;
    }
    let pid = inspected.state.pid;
    // A remote engine's pid is not this machine's: its stats come from the API.
    let local = if ctx.is_local_for(container) {
        cgroup::usage(pid).await
    } else {
        None
    };
    let (used, limit, cpu) = match local {
        Some(u) => (u.memory_bytes, u.memory_limit_bytes, Some(u.cpu_percent)),
        None => match engine_memory(ctx, container).await {
            Ok((used, limit)) => (used, limit, None),
            Err(e) => return Outcome::from(e),
        },
    };
    let cpu_limit = inspected.limits.cpu_cores;
    let cpu_text = match (cpu, cpu_limit) {
        (Some(c), Some(cores)) => format!(", CPU {c:.0}% of a {cores:.2}-CPU limit"),
        (Some(c), None) => format!(", CPU {c:.0}% (no CPU limit)"),
        (None, _) => String::new(),
    };
    let memory_limit = limit.filter(|l| *l > 0);
    let memory_percent = memory_limit.map(|l| used as f64 * 100.0 / l as f64);
    let memory_text = match (memory_limit, memory_percent) {
        (Some(l), Some(p)) => format!("memory {} of {} ({p:.1}%)", mib(used), mib(l)),
        _ => format!("memory {} (no limit)", mib(used)),
    };
    // CPU is a 50 ms sample: shown against its limit, too noisy to judge on.
    let near_limit = memory_percent.is_some_and(|p| p >= warn_percent);
    let message = format!("{memory_text}{cpu_text}");
    let outcome = if near_limit {
        Outcome::warn(message)
    } else {
        Outcome::pass(message)
    };
    outcome
        .detail("memory_bytes", used)
        .detail("memory_limit_bytes", memory_limit)
        .detail("memory_percent", memory_percent)
        .detail("cpu_percent", cpu)
        .detail("cpu_limit_cores", cpu_limit)
}

/// Memory use and limit through the engine: read from the container's own
/// cgroup files by an exec in it (a few milliseconds), else from the engine's
/// stats (up to a second: the engine samples once a second).
async fn engine_memory(ctx: &Context, container: &str) -> Result<(u64, Option<u64>), EngineError> {
    let engine = ctx.engine_for(container).await?;
    for (files, v2) in [
        (cgroup::IN_CONTAINER_V1, false),
        (cgroup::IN_CONTAINER_V2, true),
    ] {
        if let Some(read) = read_in_container(&engine, container, &files).await
            && let Some(memory) = cgroup::in_container(&read, v2)
        {
            return Ok(memory);
        }
    }
    engine.memory(container).await
}

/// `cat FILES` in `container`, if it ran and read them all.
async fn read_in_container(
    engine: &EngineClient,
    container: &str,
    files: &[&str],
) -> Option<String> {
    let mut cmd = vec!["cat", "--"];
    cmd.extend_from_slice(files);
    let mut output = Vec::new();
    let ran = engine
        .exec(container, &cmd, &[], None, |chunk| {
            if output.len() + chunk.len() > MAX_CGROUP_OUTPUT {
                return Err(std::io::Error::other("more than a cgroup's files"));
            }
            output.extend_from_slice(chunk);
            Ok(())
        })
        .await
        .ok()?;
    (ran.exit_code == 0).then(|| String::from_utf8_lossy(&output).into_owned())
}

fn mib(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

/// Whether `container` can resolve each of `hosts`: by Docker's embedded DNS rules
/// (the target runs and shares a user-defined network on which its name or an
/// alias is `host`), and with `exec` also by `getent hosts` inside the container.
pub async fn dns(ctx: &Context, container: &str, hosts: &[String], exec_too: bool) -> Outcome {
    let from = match inspect(ctx, container).await {
        Ok(Some(c)) => c,
        Ok(None) => return Outcome::fail(format!("container {container} does not exist")),
        Err(e) => return Outcome::from(e),
    };
    if let Some(skipped) = skip_unless_running(&from) {
        return skipped;
    }
    let mut unresolved = Vec::new();
    for host in hosts {
        match inspect(ctx, host).await {
            Ok(Some(target)) if resolvable(&from, &target, host) => {}
            Ok(_) => unresolved.push(host.as_str()),
            Err(e) => return Outcome::from(e),
        }
    }
    if unresolved.is_empty() && exec_too {
        let mut cmd = vec!["getent", "hosts"];
        cmd.extend(hosts.iter().map(String::as_str));
        let mut output = Vec::new();
        let ran = match ctx.engine_for(container).await {
            Ok(engine) => {
                engine
                    .exec(container, &cmd, &[], None, |chunk| {
                        if output.len() + chunk.len() > MAX_GETENT_OUTPUT {
                            return Err(std::io::Error::other("getent answered more than 64 KiB"));
                        }
                        output.extend_from_slice(chunk);
                        Ok(())
                    })
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = ran {
            return Outcome::from(e);
        }
        let output = String::from_utf8_lossy(&output);
        unresolved = hosts
            .iter()
            .map(String::as_str)
            .filter(|h| !output.split_whitespace().any(|w| w == *h))
            .collect();
    }
    if unresolved.is_empty() {
        Outcome::pass(format!("resolves {}", hosts.join(", "))).detail("exec", exec_too)
    } else {
        Outcome::fail(format!(
            "{container} cannot resolve {} (ENOTFOUND)",
            unresolved.join(", ")
        ))
    }
}

/// Docker's embedded DNS answers `host` to `from` when `target` is running and both
/// are on a user-defined network where `host` is the target's name or an alias.
fn resolvable(from: &Container, target: &Container, host: &str) -> bool {
    target.state.running
        && target.networks.iter().any(|network| {
            let user_defined = !matches!(network.name.as_str(), "bridge" | "host" | "none");
            let named = target.name == host || network.aliases.iter().any(|x| x == host);
            user_defined && named && from.on_network(&network.name)
        })
}
