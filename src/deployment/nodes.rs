//! The engines of a swarm's nodes, for what only a task's own engine can do
//! (inspect, exec, stats, container logs): the engine an `[[engines]]` entry
//! names for the node (`node = "node-b"`), else a docker context named after
//! it; and whether a node can be reached from here at all.

use super::Deployment;
use super::EngineError;
use super::cluster::{Cluster, Node, Placed, State};
use super::engine::Engine;
use std::time::Duration;

/// Where a container's own engine is.
pub enum Home<'a> {
    /// On the engine the doctor talks to (or not a task of the swarm).
    Here,
    /// A task on another node.
    Node(&'a Node),
    /// A task that has no node (it waits for one).
    Nowhere(&'a Placed),
}

/// Where `container`'s engine is.
pub fn home<'a>(cluster: Option<&'a Cluster>, container: &str) -> Home<'a> {
    let Some(cluster) = cluster else {
        return Home::Here;
    };
    let Some(task) = cluster.task(container) else {
        return Home::Here;
    };
    match cluster.node_of(container) {
        Some(node) if !cluster.is_local(node) => Home::Node(node),
        Some(_) => Home::Here,
        None => Home::Nowhere(task),
    }
}

/// The engine configured for `node`: an `[[engines]]` entry naming it, else
/// a docker context bearing its hostname.
pub fn configured(profile: &Deployment, node: &Node) -> Option<Engine> {
    match profile
        .engines
        .iter()
        .find(|e| e.node.as_deref() == Some(node.hostname.as_str()))
    {
        Some(entry) => Some(Engine::of_entry(entry)),
        None => super::context::load(&node.hostname)
            .ok()
            .map(|_| Engine::of_context(&node.hostname)),
    }
}

/// The error for a task on `node`, whose engine nothing configures.
pub fn no_engine(container: &str, node: &Node) -> EngineError {
    EngineError::NoNodeEngine {
        container: container.to_string(),
        node: node.to_string(),
        hostname: node.hostname.clone(),
    }
}

/// Why the manager sees `node` as unusable, if it does.
pub fn down(node: &Node) -> Option<String> {
    (node.state != State::Ready).then(|| format!("the manager sees it {}", word(node.state)))
}

/// Why `node`, which has no engine configured, cannot be reached from here:
/// the first port its tasks publish neither accepts nor refuses a connection.
pub async fn silent(
    profile: &Deployment,
    cluster: &Cluster,
    node: &Node,
    timeout: Duration,
) -> Option<String> {
    let port = cluster
        .of_stack(&profile.compose_project)
        .filter(|t| t.node.as_deref() == Some(node.id.as_str()))
        .find_map(|t| {
            let bindings = t.spec.host_config.as_ref()?.port_bindings.as_ref()?;
            bindings
                .values()
                .flatten()
                .flatten()
                .find_map(|b| b.host_port.as_ref()?.parse::<u16>().ok())
        })?;
    let address = format!("{}:{port}", node.address);
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => None,
        // Refused: the host is there.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => None,
        Ok(Err(e)) => Some(format!("{address}: {e}")),
        Err(_) => Some(format!("{address}: no answer within {timeout:?}")),
    }
}

fn word(state: State) -> &'static str {
    match state {
        State::Ready => "ready",
        State::Down => "down",
        State::Disconnected => "disconnected",
        State::Unknown => "in an unknown state",
    }
}
