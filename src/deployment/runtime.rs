//! What runs the deployment, behind one trait: compose on one engine, a
//! Swarm stack (`compose`, `swarm`), each one module registered in `REGISTRY`.
//! A runtime names its containers (labels and filters), reads them as compose
//! containers so that one set of discovery rules finds them all, says each
//! typed command of a fix in its own words, and says whether an orchestrator
//! schedules and restarts them.

mod compose;
#[cfg(test)]
mod conformance;
#[cfg(test)]
mod fake;
mod swarm;

use bollard::models::ContainerSummary;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// What compose labels a container with: its project, its service, its number.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
pub const NUMBER_LABEL: &str = "com.docker.compose.container-number";
/// What `docker stack deploy` labels a task's container with.
pub const STACK_LABEL: &str = "com.docker.stack.namespace";
pub const SWARM_SERVICE_LABEL: &str = "com.docker.swarm.service.name";
/// `<stack>_<service>.<slot>.<task id>`.
pub const SWARM_TASK_LABEL: &str = "com.docker.swarm.task.name";

/// Every runtime the doctor knows, the more specific first: a deployment is
/// run by the first one that owns one of its containers.
pub static REGISTRY: &[&dyn Runtime] = &[
    &swarm::Swarm,
    &compose::Compose,
    #[cfg(test)]
    &fake::Fake,
];

/// One way of running the deployment's containers.
pub trait Runtime: Send + Sync + fmt::Debug + 'static {
    /// Its name in check files (`runtime = "swarm"`) and reports.
    fn name(&self) -> &'static str;
    /// The label that names a container's project (or stack).
    fn project_label(&self) -> &'static str;
    /// The engine's label filters for the containers of `compose_service`.
    fn service_filters(&self, project: &str, compose_service: &str) -> Vec<String>;
    /// A container's labels with compose's project, service and number added
    /// (a compose container's are left as they are).
    fn as_compose(&self, labels: HashMap<String, String>) -> HashMap<String, String> {
        labels
    }
    /// Whether an orchestrator schedules the containers, restarts them itself
    /// (a restart policy is not theirs to have), may publish their ports
    /// through an ingress and may run them on other nodes.
    fn orchestrated(&self) -> bool;
    /// `command` said as the command that does it on this runtime.
    fn say(&self, command: &Command, names: &Names) -> String;

    /// Whether `labels` are one of `project`'s containers, as this runtime runs them.
    fn owns(&self, project: &str, labels: &HashMap<String, String>) -> bool {
        labels.get(self.project_label()).map(String::as_str) == Some(project)
    }
}

/// The runtime of `project`: the first registered one owning one of its
/// containers (`labels`), else compose (a project none of whose containers exist yet).
pub fn of<'a>(
    project: &str,
    labels: impl Iterator<Item = &'a HashMap<String, String>> + Clone,
) -> &'static dyn Runtime {
    REGISTRY
        .iter()
        .copied()
        .find(|runtime| labels.clone().any(|l| runtime.owns(project, l)))
        .unwrap_or_else(default)
}

/// Compose: what a deployment is until its containers say otherwise.
pub fn default() -> &'static dyn Runtime {
    &compose::Compose
}

/// The registered runtime called `name`; else the names there are.
pub fn named(name: &str) -> Result<&'static dyn Runtime, UnknownRuntime> {
    REGISTRY
        .iter()
        .copied()
        .find(|runtime| runtime.name() == name)
        .ok_or_else(|| UnknownRuntime {
            name: name.to_string(),
            known: REGISTRY.iter().map(|r| r.name()).collect(),
        })
}

/// A runtime's name that no registered runtime has.
#[derive(Debug, thiserror::Error)]
#[error("unknown runtime {name:?} (known: {})", known.join(", "))]
pub struct UnknownRuntime {
    pub name: String,
    pub known: Vec<&'static str>,
}

/// A runtime as a check file names it (`runtime = "swarm"`), found in the registry.
#[derive(Clone, Copy, Debug)]
pub struct Named(pub &'static dyn Runtime);

impl<'de> serde::Deserialize<'de> for Named {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Named, D::Error> {
        let name = String::deserialize(deserializer)?;
        named(&name).map(Named).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Named {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

/// Whether two runtimes are the same one.
pub fn same(a: &dyn Runtime, b: &dyn Runtime) -> bool {
    a.name() == b.name()
}

/// How the deployment's commands name it: its compose program (with its
/// project and files) and its project's (or stack's) name.
#[derive(Clone, Copy, Debug)]
pub struct Names<'a> {
    pub compose: &'a str,
    pub stack: &'a str,
}

/// One compose command of a fix (`compose VERB [ARGS] [SERVICE]`), typed:
/// what it does, on which service; `words` are the words as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub verb: Verb,
    pub service: Option<String>,
    /// `logs --tail N`: N.
    pub tail: Option<String>,
    /// The command's words after the compose program, as written.
    pub words: String,
}

/// What a compose command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Logs,
    /// `up`, `restart`, `start`: the service (or everything) running again.
    Start,
    Down,
    /// Anything else: shown as the state of the service (or everything).
    Other,
}

impl Command {
    /// The command in `words` (what follows the compose program).
    pub fn parse(words: &str) -> Command {
        let mut split = words.split_whitespace();
        let verb = match split.next().unwrap_or("") {
            "logs" => Verb::Logs,
            "up" | "restart" | "start" => Verb::Start,
            "down" => Verb::Down,
            _ => Verb::Other,
        };
        let (mut tail, mut service) = (None, None);
        while let Some(word) = split.next() {
            match word.strip_prefix("--tail") {
                Some("") => tail = split.next().map(str::to_string),
                Some(value) => tail = value.strip_prefix('=').map(str::to_string),
                None if word.starts_with('-') => {}
                None => service = Some(word.to_string()),
            }
        }
        Command {
            verb,
            service,
            tail,
            words: words.to_string(),
        }
    }
}

/// `text` (a fix) with each compose command (`compose` and its words up to a
/// `;`, `)`, `|`, `&` or the line's end) said as `runtime` says it. On a
/// Swarm stack a compose command would start a second deployment beside it.
pub fn say_commands(runtime: &dyn Runtime, text: &str, compose: &str, stack: &str) -> String {
    if compose.is_empty() {
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
        let spoken = runtime.say(&Command::parse(words), &Names { compose, stack });
        said.push_str(&spoken);
        if words.ends_with(' ') && !spoken.ends_with(' ') {
            said.push(' ');
        }
        rest = tail;
    }
    said.push_str(rest);
    said
}

/// `labels` as compose labels, whichever registered runtime ran the container.
pub fn as_compose(labels: HashMap<String, String>) -> HashMap<String, String> {
    REGISTRY
        .iter()
        .fold(labels, |labels, runtime| runtime.as_compose(labels))
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
            say_commands(&swarm::Swarm, &fix, COMPOSE, "helpdesk"),
            "Read why it stopped: docker service logs --tail 50 helpdesk_user-redis; inspect \
             its health: docker inspect x; then start it again: docker service update --force \
             helpdesk_user-redis"
        );
        let network = format!("recreate it with {COMPOSE} down && {COMPOSE} up -d");
        assert_eq!(
            say_commands(&swarm::Swarm, &network, COMPOSE, "helpdesk"),
            "recreate it with docker stack rm helpdesk && docker stack deploy -c <the stack's \
             file> helpdesk"
        );
        let piped = format!("({COMPOSE} restart ticket-service); {COMPOSE} logs auth | grep x");
        assert_eq!(
            say_commands(&swarm::Swarm, &piped, COMPOSE, "hd"),
            "(docker service update --force hd_ticket-service); docker service logs hd_auth | grep x"
        );
    }

    #[test]
    fn a_fix_on_compose_is_left_as_it_is() {
        let fix = format!("{COMPOSE} logs --tail=50 user-redis; {COMPOSE} up -d user-redis");
        assert_eq!(
            say_commands(&compose::Compose, &fix, COMPOSE, "helpdesk"),
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
        assert_eq!(of("helpdesk", std::iter::once(&labels)).name(), "swarm");
        assert_eq!(of("other", std::iter::once(&labels)).name(), "compose");
        let compose = HashMap::from([(PROJECT_LABEL.to_string(), "helpdesk".to_string())]);
        assert_eq!(of("helpdesk", std::iter::once(&compose)).name(), "compose");
    }
}
