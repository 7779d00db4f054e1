//! A runtime that exists only in tests, to show what adding one takes: this
//! module and its line in `REGISTRY`. Its containers carry labels of its own;
//! its commands are `fakectl` ones.

use super::{Command, NUMBER_LABEL, Names, PROJECT_LABEL, Runtime, SERVICE_LABEL, Verb};
use std::collections::HashMap;

pub const FAKE_PROJECT_LABEL: &str = "org.example.fake.project";
pub const FAKE_SERVICE_LABEL: &str = "org.example.fake.service";

#[derive(Debug)]
pub struct Fake;

impl Runtime for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn project_label(&self) -> &'static str {
        FAKE_PROJECT_LABEL
    }

    fn service_filters(&self, project: &str, compose_service: &str) -> Vec<String> {
        vec![
            format!("{FAKE_PROJECT_LABEL}={project}"),
            format!("{FAKE_SERVICE_LABEL}={compose_service}"),
        ]
    }

    fn as_compose(&self, mut labels: HashMap<String, String>) -> HashMap<String, String> {
        if labels.contains_key(PROJECT_LABEL) {
            return labels;
        }
        let (Some(project), Some(service)) = (
            labels.get(FAKE_PROJECT_LABEL).cloned(),
            labels.get(FAKE_SERVICE_LABEL).cloned(),
        ) else {
            return labels;
        };
        labels.insert(PROJECT_LABEL.into(), project);
        labels.insert(SERVICE_LABEL.into(), service);
        labels.insert(NUMBER_LABEL.into(), "1".into());
        labels
    }

    fn orchestrated(&self) -> bool {
        true
    }

    fn say(&self, command: &Command, names: &Names) -> String {
        let target = match &command.service {
            Some(service) => format!("{}/{service}", names.stack),
            None => names.stack.to_string(),
        };
        match command.verb {
            Verb::Logs => format!("fakectl logs {target}"),
            Verb::Start => format!("fakectl restart {target}"),
            Verb::Down => format!("fakectl delete {target}"),
            Verb::Other => format!("fakectl status {target}"),
        }
    }
}
