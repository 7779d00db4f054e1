//! The deployment as a run knows it: its config (`Profile`, read through
//! `Deref`) and what discovery found on top of it — the runtime, the engine,
//! the swarm, the ports others publish — with the commands that reach it.

use super::cluster::Cluster;
use super::engine::Engine;
use super::reach::Binding;
use super::runtime::{self, Runtime};
use crate::profile::Profile;
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Deployment {
    config: Profile,
    /// Compose or a Swarm stack.
    pub runtime: &'static dyn Runtime,
    /// The engine the deployment runs on.
    pub engine: Engine,
    /// The swarm a stack runs on, as its manager sees it: every node and
    /// where each task runs.
    pub cluster: Option<Arc<Cluster>>,
    /// Host ports published by containers that are not the deployment's:
    /// never taken for one of its servers (`reach`).
    pub foreign_ports: Vec<Binding>,
}

impl Deployment {
    /// `config` before anything is discovered: compose, on the chosen engine.
    pub fn new(config: Profile) -> Deployment {
        Deployment {
            config,
            runtime: runtime::default(),
            engine: Engine::default(),
            cluster: None,
            foreign_ports: Vec::new(),
        }
    }

    /// The deployment with `--stall-timeout`, when given.
    pub fn with_stall(mut self, stall: Option<std::time::Duration>) -> Deployment {
        if let Some(stall) = stall {
            self.timeouts.stall_ms = stall.as_millis() as u64;
        }
        self
    }

    /// The compose command that reaches this deployment from any folder, as
    /// one argument per word: `docker compose` (v2) when its plugin is
    /// installed, else `docker-compose`, with the project and the files it was
    /// started with. Run as it is (never through a shell).
    pub fn compose_argv(&self) -> Vec<String> {
        let engine = self.engine.cli_flags();
        let mut argv: Vec<String> = if super::discovery::compose_v2_installed() {
            let mut argv = vec!["docker".to_string()];
            argv.extend(engine);
            argv.push("compose".into());
            argv
        } else {
            let mut argv = vec!["docker-compose".to_string()];
            argv.extend(engine);
            argv
        };
        argv.extend(["-p".into(), self.compose_project.clone()]);
        let files: Vec<&String> = if self.compose_files.is_empty() {
            vec![&self.compose_file]
        } else {
            self.compose_files.iter().collect()
        };
        for file in files {
            argv.extend(["-f".into(), file.clone()]);
        }
        argv
    }

    /// `compose_argv` as a command to copy into a shell (hints, bundles).
    pub fn compose_command(&self) -> String {
        quoted(&self.compose_argv())
    }

    /// `docker` with the flags that reach this deployment's engine from a
    /// shell (`docker --context prod`), as printed in hints.
    pub fn docker_command(&self) -> String {
        let mut argv = vec!["docker".to_string()];
        argv.extend(self.engine.cli_flags());
        quoted(&argv)
    }

    /// The doctor's command for this deployment from any folder, as printed
    /// in hints: its project, and its config unless found by default.
    pub fn doctor_command(&self) -> String {
        let mut words = vec!["helpdesk-doctor".to_string()];
        if let Some(name) = super::engine::context_flag() {
            words.extend(["--context".into(), name.to_string()]);
        }
        if !self.compose_project.is_empty() {
            words.extend(["--project".into(), self.compose_project.clone()]);
        }
        if let Some(path) = &self.config_path
            && crate::state::default_config().as_ref() != Some(path)
        {
            words.extend(["--config".into(), path.display().to_string()]);
        }
        quoted(&words)
    }

    /// Template variables shared by every check: the config's, and the
    /// commands that reach the deployment (`{compose}`, `{docker}`, `{doctor}`).
    pub fn vars(&self) -> BTreeMap<String, String> {
        let mut vars = self.config.vars();
        vars.insert("compose".into(), self.compose_command());
        vars.insert("docker".into(), self.docker_command());
        vars.insert("doctor".into(), self.doctor_command());
        vars
    }
}

impl Default for Deployment {
    fn default() -> Deployment {
        Deployment::new(Profile::default())
    }
}

impl Deref for Deployment {
    type Target = Profile;
    fn deref(&self) -> &Profile {
        &self.config
    }
}

impl DerefMut for Deployment {
    fn deref_mut(&mut self) -> &mut Profile {
        &mut self.config
    }
}

/// Words as one command to copy into a shell, each quoted where it must be.
fn quoted(words: &[String]) -> String {
    words
        .iter()
        .map(|w| crate::shell_word::quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}
