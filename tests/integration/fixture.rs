//! The deployment the shared tests run on, described once: the bundled stack
//! (default) or the production-shaped one (`HELPDESK_TEST_FIXTURE=prod`,
//! tests/stack/prod: project named after its folder, no container_name,
//! ticket-service ×3 behind a load balancer, other users, passwords and ports).

use crate::support::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Fixture {
    pub prod: bool,
}

pub fn fixture() -> Fixture {
    Fixture {
        prod: std::env::var("HELPDESK_TEST_FIXTURE").as_deref() == Ok("prod"),
    }
}

impl Fixture {
    /// Where its operators run the doctor: the production fixture's own folder
    /// (the project is named after it), the repository for the bundled stack
    /// (no compose file there: the project is found on the engine).
    pub fn folder(&self) -> PathBuf {
        if self.prod {
            repo().join("tests/stack/prod")
        } else {
            repo()
        }
    }

    pub fn project(&self) -> &'static str {
        if self.prod {
            "prod"
        } else {
            "helpdesk-microservices"
        }
    }

    /// The doctor, run from the fixture's folder with no config and no `HELPDESK_*`.
    pub fn doctor(&self) -> Command {
        let mut command = doctor();
        command.current_dir(self.folder());
        command
    }

    /// `diagnose --format json` from the fixture's folder.
    pub fn diagnose(&self) -> (Run, serde_json::Value) {
        let run = run(self.doctor().args(["diagnose", "--format", "json"]));
        let json = run.json();
        (run, json)
    }

    /// The (first) container of a service's role, as compose named it.
    pub fn container(&self, service: &str, role: &str) -> String {
        if self.prod {
            self.replica(&format!("{service}-{role}"), 1)
        } else {
            format!("helpdesk-{service}-{role}")
        }
    }

    /// The `number`-th container of a compose service of the project, asked of
    /// the engine (compose v1 names it `prod_lb_1`, v2 `prod-lb-1`).
    pub fn replica(&self, compose_service: &str, number: u32) -> String {
        let name = sh(&format!(
            "docker ps -a --format '{{{{.Names}}}}' --filter label=com.docker.compose.project={} \
             --filter label=com.docker.compose.service={compose_service} \
             --filter label=com.docker.compose.container-number={number}",
            self.project()
        ));
        let name = name.trim();
        assert!(
            !name.is_empty(),
            "no container {number} of {compose_service}"
        );
        name.to_string()
    }

    /// The containers that are alone in their compose service (the scaled
    /// ticket-service of the production fixture is not).
    pub fn single_containers(&self) -> Vec<String> {
        let mut names = Vec::new();
        for service in ["auth", "user", "ticket"] {
            for role in ["service", "db", "redis"] {
                if !(self.prod && service == "ticket" && role == "service") {
                    names.push(self.container(service, role));
                }
            }
        }
        names
    }

    /// `(user, database)` of a service's PostgreSQL.
    pub fn database(&self, service: &str) -> (&'static str, &'static str) {
        match (self.prod, service) {
            (false, "auth") => ("user", "auth_db"),
            (false, "user") => ("user", "user_db"),
            (false, _) => ("ticket", "ticket_db"),
            (true, "auth") => ("auth", "auth"),
            (true, "user") => ("postgres", "postgres"),
            (true, _) => ("tickets", "tickets"),
        }
    }

    /// psql in a service's database container.
    pub fn psql(&self, service: &str, sql: &str) -> String {
        let (user, database) = self.database(service);
        psql(&self.container(service, "db"), user, database, sql)
    }

    pub fn redis_password(&self) -> &'static str {
        if self.prod {
            "prod-redis-pass"
        } else {
            REDIS_PASSWORD
        }
    }

    /// A Redis connection to a service's instance on its published port.
    pub fn redis(&self, service: &str) -> redis::Connection {
        let index = ["auth", "user", "ticket"]
            .iter()
            .position(|s| *s == service)
            .expect("a guide service") as u16;
        let port = if self.prod { 16301 } else { 6301 } + index;
        redis(port, self.redis_password())
    }

    /// Stops `container`; it is started again (and waited for) when the
    /// returned guard drops, even if the test panicked.
    pub fn stop(&self, container: &str) -> StartAgain<'_> {
        self.stop_all(&[container.to_string()])
    }

    /// Stops `containers` together; all are started again (and waited for)
    /// when the returned guard drops.
    pub fn stop_all(&self, containers: &[String]) -> StartAgain<'_> {
        sh(&format!(
            "docker stop -t 3 {} >/dev/null",
            containers.join(" ")
        ));
        StartAgain {
            fixture: self,
            containers: containers.to_vec(),
        }
    }

    pub fn seed(&self) {
        let which = if self.prod { "prod" } else { "bundled" };
        sh(&format!("tests/stack/seed.sh {which} 2>&1"));
    }

    /// Waits until every container of the project is healthy (running, for one
    /// without a health check); panics after 90 s.
    pub fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        let script = format!(
            "docker ps -aq --filter label=com.docker.compose.project={} | xargs docker inspect -f \
             '{{{{.Name}}}}={{{{if .State.Health}}}}{{{{.State.Health.Status}}}}{{{{else}}}}{{{{.State.Status}}}}{{{{end}}}}'",
            self.project()
        );
        loop {
            let states = sh(&script);
            let sick: Vec<&str> = states
                .lines()
                .filter(|l| !l.ends_with("=healthy") && !l.ends_with("=running"))
                .collect();
            if sick.is_empty() && !states.trim().is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "not healthy again: {sick:?}");
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// Starts the stopped containers again (and waits for health) when dropped.
pub struct StartAgain<'a> {
    fixture: &'a Fixture,
    containers: Vec<String>,
}

impl Drop for StartAgain<'_> {
    fn drop(&mut self) {
        if !self.containers.is_empty() {
            sh(&format!(
                "docker start {} >/dev/null",
                self.containers.join(" ")
            ));
        }
        self.fixture.wait_healthy();
    }
}
