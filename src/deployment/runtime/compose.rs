//! Compose on one engine: containers labelled with their project and
//! service, fixes said as the compose commands they are written as.

use super::{Command, Names, PROJECT_LABEL, Runtime, SERVICE_LABEL};

#[derive(Debug)]
pub struct Compose;

impl Runtime for Compose {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn project_label(&self) -> &'static str {
        PROJECT_LABEL
    }

    fn service_filters(&self, project: &str, compose_service: &str) -> Vec<String> {
        vec![
            format!("{PROJECT_LABEL}={project}"),
            format!("{SERVICE_LABEL}={compose_service}"),
        ]
    }

    fn orchestrated(&self) -> bool {
        false
    }

    /// As written: the catalog's fixes are written in compose's words.
    fn say(&self, command: &Command, names: &Names) -> String {
        format!("{}{}", names.compose, command.words)
    }
}
