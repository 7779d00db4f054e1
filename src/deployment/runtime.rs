//! What runs the deployment — compose on one engine, or a Swarm stack — and
//! how a Swarm task's container is read as a compose container, so that one
//! set of discovery rules (and one label filter) finds both.

use bollard::models::ContainerSummary;
use std::collections::{HashMap, HashSet};

/// What compose labels a container with: its project, its service, its number.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
pub const NUMBER_LABEL: &str = "com.docker.compose.container-number";
/// What `docker stack deploy` labels a task's container with.
pub const STACK_LABEL: &str = "com.docker.stack.namespace";
pub const SWARM_SERVICE_LABEL: &str = "com.docker.swarm.service.name";
/// `<stack>_<service>.<slot>.<task id>`.
pub const SWARM_TASK_LABEL: &str = "com.docker.swarm.task.name";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    #[default]
    Compose,
    Swarm,
}

impl Runtime {
    /// Swarm when any of `labels` (the project's containers') is a stack's task.
    pub fn of<'a>(
        project: &str,
        mut labels: impl Iterator<Item = &'a HashMap<String, String>>,
    ) -> Runtime {
        if labels.any(|l| l.get(STACK_LABEL).map(String::as_str) == Some(project)) {
            Runtime::Swarm
        } else {
            Runtime::Compose
        }
    }

    /// The label that names a container's project (or stack).
    pub fn project_label(self) -> &'static str {
        match self {
            Runtime::Compose => PROJECT_LABEL,
            Runtime::Swarm => STACK_LABEL,
        }
    }

    /// The engine's label filters for the containers of `compose_service`.
    pub fn service_filters(self, project: &str, compose_service: &str) -> Vec<String> {
        match self {
            Runtime::Compose => vec![
                format!("{PROJECT_LABEL}={project}"),
                format!("{SERVICE_LABEL}={compose_service}"),
            ],
            Runtime::Swarm => vec![
                format!("{STACK_LABEL}={project}"),
                format!("{SWARM_SERVICE_LABEL}={project}_{compose_service}"),
            ],
        }
    }
}

/// `text` (a fix) with each `compose VERB [ARGS] [SERVICE]` command, as the
/// compose runtime says it, said for this runtime: unchanged on compose; on a
/// Swarm stack, the `docker service` or `docker stack` command that does it
/// (a compose command there would start a second deployment beside the stack).
pub fn say_commands(runtime: Runtime, text: &str, compose: &str, stack: &str) -> String {
    if runtime == Runtime::Compose || compose.is_empty() {
        return text.to_string();
    }
    let mut said = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(compose) {
        said.push_str(&rest[..at]);
        let command = &rest[at + compose.len()..];
        let end = command
            .find([';', ')', '|', '&', '\n'])
            .unwrap_or(command.len());
        let (words, tail) = command.split_at(end);
        said.push_str(&swarm_command(words, stack));
        if words.ends_with(' ') {
            said.push(' ');
        }
        rest = tail;
    }
    said.push_str(rest);
    said
}

/// One compose command's words (after `compose`) as the Swarm command that does it.
fn swarm_command(words: &str, stack: &str) -> String {
    let mut words = words.split_whitespace();
    let verb = words.next().unwrap_or("");
    let (mut tail, mut service) = (None, None);
    while let Some(word) = words.next() {
        match word.strip_prefix("--tail") {
            Some("") => tail = words.next(),
            Some(value) => tail = value.strip_prefix('='),
            None if word.starts_with('-') => {}
            None => service = Some(word),
        }
    }
    match (verb, service) {
        ("logs", Some(service)) => match tail {
            Some(lines) => format!("docker service logs --tail {lines} {stack}_{service}"),
            None => format!("docker service logs {stack}_{service}"),
        },
        ("up" | "restart" | "start", Some(service)) => {
            format!("docker service update --force {stack}_{service}")
        }
        ("up", None) => format!("docker stack deploy -c <the stack's file> {stack}"),
        ("down", None) => format!("docker stack rm {stack}"),
        (_, Some(service)) => format!("docker service ps --no-trunc {stack}_{service}"),
        (_, None) => format!("docker stack ps --no-trunc {stack}"),
    }
}

/// A Swarm task's container labelled as compose labels its containers — the
/// stack as the project, the stack's service without the stack's prefix, the
/// task's slot as the container number. Other labels are left as they are.
pub fn as_compose(mut labels: HashMap<String, String>) -> HashMap<String, String> {
    if labels.contains_key(PROJECT_LABEL) {
        return labels;
    }
    let (Some(stack), Some(service)) = (labels.get(STACK_LABEL), labels.get(SWARM_SERVICE_LABEL))
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

/// The containers that are the deployment now: of each Swarm task slot
/// (service and slot), only the newest container — Swarm keeps the failed
/// tasks' containers beside the one that replaced them. Others are kept.
pub fn current_tasks(mut listed: Vec<ContainerSummary>) -> Vec<ContainerSummary> {
    listed.sort_by_key(|c| std::cmp::Reverse(c.created.unwrap_or_default()));
    let mut slots = HashSet::new();
    listed.retain(|c| slot_of(c.labels.as_ref()).is_none_or(|slot| slots.insert(slot)));
    listed
}

/// A Swarm task's container's slot, `<service>.<slot>`, from its labels.
pub fn slot_of(labels: Option<&HashMap<String, String>>) -> Option<String> {
    labels?
        .get(SWARM_TASK_LABEL)?
        .rsplit_once('.')
        .map(|(slot, _)| slot.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPOSE: &str = "docker-compose -p helpdesk -f docker-compose.services.yml";

    #[test]
    fn a_fix_on_a_stack_says_the_swarm_commands_and_no_compose_one() {
        let fix = format!(
            "Read why it stopped: {COMPOSE} logs --tail=50 user-redis; inspect its health: \
             docker inspect x; then start it again: {COMPOSE} up -d user-redis"
        );
        assert_eq!(
            say_commands(Runtime::Swarm, &fix, COMPOSE, "helpdesk"),
            "Read why it stopped: docker service logs --tail 50 helpdesk_user-redis; inspect \
             its health: docker inspect x; then start it again: docker service update --force \
             helpdesk_user-redis"
        );
        let network = format!("recreate it with {COMPOSE} down && {COMPOSE} up -d");
        assert_eq!(
            say_commands(Runtime::Swarm, &network, COMPOSE, "helpdesk"),
            "recreate it with docker stack rm helpdesk && docker stack deploy -c <the stack's \
             file> helpdesk"
        );
        let piped = format!("({COMPOSE} restart ticket-service); {COMPOSE} logs auth | grep x");
        assert_eq!(
            say_commands(Runtime::Swarm, &piped, COMPOSE, "hd"),
            "(docker service update --force hd_ticket-service); docker service logs hd_auth | grep x"
        );
    }

    #[test]
    fn a_fix_on_compose_is_left_as_it_is() {
        let fix = format!("{COMPOSE} logs --tail=50 user-redis; {COMPOSE} up -d user-redis");
        assert_eq!(
            say_commands(Runtime::Compose, &fix, COMPOSE, "helpdesk"),
            fix
        );
    }

    fn task(name: &str, created: i64) -> ContainerSummary {
        let service = name.split('.').next().unwrap();
        ContainerSummary {
            names: Some(vec![format!("/{name}")]),
            created: Some(created),
            labels: Some(HashMap::from([
                (STACK_LABEL.into(), "helpdesk".into()),
                (SWARM_SERVICE_LABEL.into(), service.into()),
                (SWARM_TASK_LABEL.into(), name.into()),
            ])),
            ..Default::default()
        }
    }

    #[test]
    fn only_the_newest_task_of_each_service_and_slot_counts() {
        let current = current_tasks(vec![
            task("helpdesk_auth-db.1.old", 10),
            task("helpdesk_auth-db.1.new", 20),
            task("helpdesk_auth-redis.1.only", 5),
            task("helpdesk_auth-db.2.other", 1),
        ]);
        let names: Vec<&str> = current
            .iter()
            .map(|c| c.names.as_ref().unwrap()[0].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "/helpdesk_auth-db.1.new",
                "/helpdesk_auth-redis.1.only",
                "/helpdesk_auth-db.2.other"
            ]
        );
    }

    #[test]
    fn a_swarm_task_reads_as_a_compose_container() {
        let labels = as_compose(task("helpdesk_auth-db.1.new", 20).labels.unwrap());
        assert_eq!(labels[PROJECT_LABEL], "helpdesk");
        assert_eq!(labels[SERVICE_LABEL], "auth-db");
        assert_eq!(labels[NUMBER_LABEL], "1");
        assert_eq!(
            Runtime::of("helpdesk", std::iter::once(&labels)),
            Runtime::Swarm
        );
        assert_eq!(
            Runtime::of("other", std::iter::once(&labels)),
            Runtime::Compose
        );
    }
}
