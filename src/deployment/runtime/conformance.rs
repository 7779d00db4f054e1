//! The assertions every runtime must pass, run against each registered one
//! (compose, Swarm, and the test-only fake) — and, as the suite's own test,
//! against runtimes broken on purpose, which it must catch.

use super::{
    Command, Names, PROJECT_LABEL, REGISTRY, Runtime, SERVICE_LABEL, as_compose, named, of,
    say_commands,
};
use std::collections::HashMap;

const PROJECT: &str = "helpdesk";
const SERVICE: &str = "auth-db";
const COMPOSE: &str = "docker compose -p helpdesk -f compose.yml";
const VERBS: [&str; 6] = ["logs --tail=50", "up -d", "restart", "start", "down", "ps"];

/// What `runtime` gets wrong; empty when it conforms.
fn violations(runtime: &dyn Runtime) -> Vec<String> {
    let mut wrong = Vec::new();
    let name = runtime.name();
    if named(name).map(|r| r.name()).ok() != Some(name) {
        wrong.push(format!("{name}: not found by its name in the registry"));
    }
    // A container labelled as the runtime's own filters select it.
    let labels: HashMap<String, String> = runtime
        .service_filters(PROJECT, SERVICE)
        .iter()
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !runtime.owns(PROJECT, &labels) || runtime.owns("another", &labels) {
        wrong.push(format!(
            "{name}: does not own exactly its project's containers"
        ));
    }
    if of(PROJECT, std::iter::once(&labels)).name() != name {
        wrong.push(format!(
            "{name}: its containers are not detected as its own"
        ));
    }
    let read = as_compose(labels);
    if read.get(PROJECT_LABEL).map(String::as_str) != Some(PROJECT)
        || read.get(SERVICE_LABEL).map(String::as_str) != Some(SERVICE)
    {
        wrong.push(format!(
            "{name}: its containers do not read as compose's ({read:?})"
        ));
    }
    for verb in VERBS {
        for service in ["", SERVICE] {
            let words = format!(" {verb} {service}");
            let command = Command::parse(&words);
            let names = Names {
                compose: COMPOSE,
                stack: PROJECT,
            };
            let said = runtime.say(&command, &names);
            if said.is_empty() || said.contains([';', '|', '&', '\n', '`', '$']) {
                wrong.push(format!("{name}: {words:?} said as {said:?}"));
            }
            if !service.is_empty() && !said.contains(service) {
                wrong.push(format!(
                    "{name}: {words:?} does not name its service: {said:?}"
                ));
            }
            if runtime.orchestrated() && said.contains(COMPOSE) {
                wrong.push(format!("{name}: {words:?} is a compose command: {said:?}"));
            }
            // Said in a fix, the command is the runtime's; the rest is as written.
            let fix = format!("Read it: {COMPOSE}{words}; then go on");
            let spoken = say_commands(runtime, &fix, COMPOSE, PROJECT);
            if !spoken.starts_with("Read it: ") || !spoken.ends_with("; then go on") {
                wrong.push(format!(
                    "{name}: a fix around {words:?} was changed: {spoken:?}"
                ));
            }
        }
    }
    wrong
}

#[test]
fn every_registered_runtime_conforms() {
    assert!(REGISTRY.len() >= 3, "compose, swarm and the fake");
    for runtime in REGISTRY {
        assert_eq!(violations(*runtime), Vec::<String>::new());
    }
}

#[test]
fn a_runtime_is_the_same_as_itself_and_no_other() {
    for a in REGISTRY {
        for b in REGISTRY {
            assert_eq!(super::same(*a, *b), a.name() == b.name(), "{a:?} {b:?}");
        }
    }
    assert!(super::same(&super::swarm::Swarm, named("swarm").unwrap()));
}

#[test]
fn the_test_only_fake_is_one_module_and_one_registry_line_away() {
    let fake = named("fake").expect("registered");
    let labels = HashMap::from([
        (
            super::fake::FAKE_PROJECT_LABEL.to_string(),
            PROJECT.to_string(),
        ),
        (
            super::fake::FAKE_SERVICE_LABEL.to_string(),
            SERVICE.to_string(),
        ),
    ]);
    assert_eq!(of(PROJECT, std::iter::once(&labels)).name(), "fake");
    let fix = format!("{COMPOSE} up -d {SERVICE}");
    assert_eq!(
        say_commands(fake, &fix, COMPOSE, PROJECT),
        "fakectl restart helpdesk/auth-db"
    );
}

/// Runtimes each wrong in one way the suite must name.
mod broken {
    use super::super::{Command, Names, Runtime, compose::Compose};

    /// Says every command with a shell separator in it.
    #[derive(Debug)]
    pub struct Chatty;
    impl Runtime for Chatty {
        fn name(&self) -> &'static str {
            "chatty"
        }
        fn project_label(&self) -> &'static str {
            Compose.project_label()
        }
        fn service_filters(&self, project: &str, service: &str) -> Vec<String> {
            Compose.service_filters(project, service)
        }
        fn orchestrated(&self) -> bool {
            false
        }
        fn say(&self, command: &Command, _: &Names) -> String {
            format!("echo start; run {}", command.words)
        }
    }

    /// Filters on labels nothing translates to compose's, orchestrated yet
    /// says compose commands.
    #[derive(Debug)]
    pub struct Unread;
    impl Runtime for Unread {
        fn name(&self) -> &'static str {
            "unread"
        }
        fn project_label(&self) -> &'static str {
            "org.example.unread.project"
        }
        fn service_filters(&self, project: &str, service: &str) -> Vec<String> {
            vec![
                format!("org.example.unread.project={project}"),
                format!("org.example.unread.service={service}"),
            ]
        }
        fn orchestrated(&self) -> bool {
            true
        }
        fn say(&self, command: &Command, names: &Names) -> String {
            Compose.say(command, names)
        }
    }
}

#[test]
fn the_suite_catches_a_runtime_that_does_not_conform() {
    let chatty = violations(&broken::Chatty);
    assert!(
        chatty.iter().any(|v| v.contains("not found by its name")),
        "{chatty:?}"
    );
    assert!(chatty.iter().any(|v| v.contains("said as")), "{chatty:?}");
    let unread = violations(&broken::Unread);
    assert!(
        unread
            .iter()
            .any(|v| v.contains("do not read as compose's")),
        "{unread:?}"
    );
    assert!(
        unread.iter().any(|v| v.contains("is a compose command")),
        "{unread:?}"
    );
    assert!(
        unread.iter().any(|v| v.contains("not detected as its own")),
        "{unread:?}"
    );
}
