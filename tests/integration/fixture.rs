//! The deployment the shared tests run on, described once: the bundled stack
//! (default), the production-shaped one (`HELPDESK_TEST_FIXTURE=prod`,
//! tests/stack/prod: project named after its folder, no container_name,
//! ticket-service ×3 behind a load balancer, other users, passwords and ports)
//! or the foreign one (`HELPDESK_TEST_FIXTURE=foreign`, tests/stack/foreign:
//! Python services of another team beside the bundled stack, databases and
//! Redis published nowhere, secret files, Redis ACL users, its own schema).

use crate::support::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bundled,
    Prod,
    Foreign,
}

pub struct Fixture {
    pub kind: Kind,
}

pub fn fixture() -> Fixture {
    let kind = match std::env::var("HELPDESK_TEST_FIXTURE").as_deref() {
        Ok("prod") => Kind::Prod,
        Ok("foreign") => Kind::Foreign,
        _ => Kind::Bundled,
    };
    Fixture { kind }
}

impl Fixture {
    /// Where its operators run the doctor: the fixture's own folder (the
    /// project is named after it), the repository for the bundled stack (no
    /// compose file there: the project is found on the engine).
    pub fn folder(&self) -> PathBuf {
        match self.kind {
            Kind::Bundled => repo(),
            Kind::Prod => repo().join("tests/stack/prod"),
            Kind::Foreign => repo().join("tests/stack/foreign"),
        }
    }

    pub fn project(&self) -> &'static str {
        match self.kind {
            Kind::Bundled => "helpdesk-microservices",
            Kind::Prod => "prod",
            Kind::Foreign => "foreign",
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
        match self.kind {
            Kind::Bundled => format!("helpdesk-{service}-{role}"),
            _ => self.replica(&format!("{service}-{role}"), 1),
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
                if !(self.kind == Kind::Prod && service == "ticket" && role == "service") {
                    names.push(self.container(service, role));
                }
            }
        }
        names
    }

    /// `(user, database)` of a service's PostgreSQL.
    pub fn database(&self, service: &str) -> (&'static str, &'static str) {
        match (self.kind, service) {
            (Kind::Bundled, "auth") => ("user", "auth_db"),
            (Kind::Bundled, "user") => ("user", "user_db"),
            (Kind::Bundled, _) => ("ticket", "ticket_db"),
            (Kind::Prod, "auth") => ("auth", "auth"),
            (Kind::Prod, "user") => ("postgres", "postgres"),
            (Kind::Prod, _) => ("tickets", "tickets"),
            (Kind::Foreign, "auth") => ("authsvc", "authsvc"),
            (Kind::Foreign, "user") => ("usersvc", "directory"),
            (Kind::Foreign, _) => ("ops", "tickets"),
        }
    }

    /// psql in a service's database container.
    pub fn psql(&self, service: &str, sql: &str) -> String {
        let (user, database) = self.database(service);
        psql(&self.container(service, "db"), user, database, sql)
    }

    pub fn redis_password(&self) -> &'static str {
        match self.kind {
            Kind::Bundled => REDIS_PASSWORD,
            Kind::Prod => "prod-redis-pass",
            Kind::Foreign => "user-cache-92bd0f",
        }
    }

    /// A Redis connection to a service's instance: on its published port, or
    /// (the foreign fixture publishes none) at its container's address, as
    /// its application's user.
    pub fn redis(&self, service: &str) -> redis::Connection {
        let index = ["auth", "user", "ticket"]
            .iter()
            .position(|s| *s == service)
            .expect("a guide service") as u16;
        match self.kind {
            Kind::Bundled => redis(6301 + index, self.redis_password()),
            Kind::Prod => redis(16301 + index, self.redis_password()),
            Kind::Foreign => {
                let (user, password, db) = match service {
                    "auth" => ("auth-app", "auth-cache-4e7a1c", 0),
                    "user" => ("default", "user-cache-92bd0f", 0),
                    _ => ("ticket-app", "ticket-cache-0d55e2", 1),
                };
                let ip = self.address(&self.container(service, "redis"));
                let url = format!("redis://{user}:{password}@{ip}:6379/{db}");
                redis::Client::open(url).unwrap().get_connection().unwrap()
            }
        }
    }

    /// A container's address on the project's network (compose's default one).
    pub fn address(&self, container: &str) -> String {
        let network = format!("{}_default", self.project());
        let ip = sh(&format!(
            "docker inspect -f '{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}' {container}"
        ));
        ip.trim().to_string()
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
        let which = match self.kind {
            Kind::Bundled => "bundled",
            Kind::Prod => "prod",
            Kind::Foreign => "foreign",
        };
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
