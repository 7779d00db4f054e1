//! Where a Swarm stack's servers are reached from the doctor: a task's
//! host-mode port on the address of the node it runs on, a port the swarm
//! publishes on its ingress on the node of the engine the doctor talks to
//! (every node publishes it). A config's `host` wins over both.

use super::Deployment;
use super::cluster::Cluster;
use crate::profile::Role;

/// Sets each role's address from its first task's node. `configured_host`:
/// the config names the host; then nothing is changed.
pub fn assign(profile: &mut Deployment, cluster: &Cluster, configured_host: bool) {
    if configured_host {
        return;
    }
    // This machine's socket: the published ports are the local node's, at
    // its address (its loopback may be another deployment's).
    if profile.engine.is_local()
        && let Some(local) = cluster.local_node().filter(|n| !n.address.is_empty())
    {
        profile.host = local.address.clone();
    }
    let stack = profile.compose_project.clone();
    for service in &mut profile.services {
        for role in Role::ALL {
            let Some(first) = service.containers.get(&role).and_then(|c| c.first()) else {
                continue;
            };
            let Some(task) = cluster.task(first) else {
                continue;
            };
            let host_ports = task
                .spec
                .host_config
                .as_ref()
                .and_then(|h| h.port_bindings.as_ref())
                .is_some_and(|p| !p.is_empty());
            let swarm_service = format!("{stack}_{}", service.compose_service(role));
            if host_ports {
                match cluster.node_of(first) {
                    Some(node) if !cluster.is_local(node) && !node.address.is_empty() => {
                        service.bind_hosts.insert(role, node.address.clone());
                    }
                    _ => {}
                }
            } else if let Some(ports) = cluster.ingress.get(&swarm_service) {
                let own = service.port(role);
                let published = ports
                    .iter()
                    .find(|(inside, _)| *inside == own)
                    .or(ports.first())
                    .map(|(_, published)| *published);
                if let Some(port) = published {
                    service.set_port(role, port);
                    service.bind_hosts.remove(&role);
                    service.unpublished.remove(&role);
                }
            }
        }
    }
}
