//! A Swarm stack: task containers labelled with their stack, service and
//! slot (read as compose's project, service and number), scheduled and
//! restarted by the orchestrator, fixes said as `docker service`/`docker
//! stack` commands (a compose command would start a second deployment).

use super::{
    Command, NUMBER_LABEL, Names, PROJECT_LABEL, Runtime, SERVICE_LABEL, STACK_LABEL,
    SWARM_SERVICE_LABEL, SWARM_TASK_LABEL, Verb,
};
use std::collections::HashMap;

#[derive(Debug)]
pub struct Swarm;

impl Runtime for Swarm {
    fn name(&self) -> &'static str {
        "swarm"
    }

    fn project_label(&self) -> &'static str {
        STACK_LABEL
    }

    fn service_filters(&self, project: &str, compose_service: &str) -> Vec<String> {
        vec![
            format!("{STACK_LABEL}={project}"),
            format!("{SWARM_SERVICE_LABEL}={project}_{compose_service}"),
        ]
    }

    /// The stack as the project, the stack's service without the stack's
    /// prefix, the task's slot as the container number.
    fn as_compose(&self, mut labels: HashMap<String, String>) -> HashMap<String, String> {
        if labels.contains_key(PROJECT_LABEL) {
            return labels;
        }
        let (Some(stack), Some(service)) =
            (labels.get(STACK_LABEL), labels.get(SWARM_SERVICE_LABEL))
        else {
            return labels;
        };
        let short = service
            .strip_prefix(&format!("{stack}_"))
            .unwrap_or(service)
            .to_string();
        let slot = labels
            .get(SWARM_TASK_LABEL)
            .and_then(|task| task.split('.').nth(1))
            .unwrap_or("1")
            .to_string();
        let stack = stack.clone();
        labels.insert(PROJECT_LABEL.into(), stack);
        labels.insert(SERVICE_LABEL.into(), short);
        labels.insert(NUMBER_LABEL.into(), slot);
        labels
    }

    fn orchestrated(&self) -> bool {
        true
    }

    fn say(&self, command: &Command, names: &Names) -> String {
        let stack = names.stack;
        match (command.verb, command.service.as_deref()) {
            (Verb::Logs, Some(service)) => match &command.tail {
                Some(lines) => format!("docker service logs --tail {lines} {stack}_{service}"),
                None => format!("docker service logs {stack}_{service}"),
            },
            (Verb::Start, Some(service)) => {
                format!("docker service update --force {stack}_{service}")
            }
            (Verb::Start, None) => format!("docker stack deploy -c <the stack's file> {stack}"),
            (Verb::Down, None) => format!("docker stack rm {stack}"),
            (_, Some(service)) => format!("docker service ps --no-trunc {stack}_{service}"),
            (_, None) => format!("docker stack ps --no-trunc {stack}"),
        }
    }
}
