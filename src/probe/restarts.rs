//! When and why a running container restarted, from the engine's state
//! (`RestartCount`, `StartedAt`, `FinishedAt`, `Created`, `OOMKilled`), its
//! recent `die`/`oom` events and the last lines its previous run logged: a
//! restart inside the window warns with advice that fits its cause; an older
//! one is a detail of a passing check. A container that runs is never told to
//! start again.

use crate::check::Outcome;
use crate::deployment::Context;
use crate::deployment::container::Container;
use crate::deployment::engine_client::LogQuery;
use futures::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// A restart this soon after the container was created happened at start-up.
const STARTUP: Duration = Duration::from_secs(120);
/// Lines of the previous run read for a dependency it could not reach.
const PREVIOUS_RUN_LINES: usize = 30;

/// Log words of a client that could not reach a server that was not ready.
const NOT_READY: [&str; 10] = [
    "econnrefused",
    "connection refused",
    "enotfound",
    "getaddrinfo",
    "could not connect",
    "could not translate host name",
    "name or service not known",
    "the database system is starting up",
    "loading redis is loading",
    "etimedout",
];

/// What the engine says of a running container's restarts.
#[derive(Clone, Debug, Default)]
pub struct Restarts {
    /// Restarts by its restart policy (`docker restart` resets it to 0).
    pub count: i64,
    /// When the current run started: the last restart when `count > 0`.
    pub last: Option<SystemTime>,
    pub created: Option<SystemTime>,
    /// When the previous run ended.
    pub previous_exit: Option<SystemTime>,
    /// The previous run's exit code (from the engine's `die` event, while it keeps it).
    pub exit_code: Option<i64>,
    pub oom: bool,
    /// The dependency the previous run's last lines say it could not reach.
    pub unreachable_dependency: Option<String>,
}

/// Why the last restart happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// At start-up, a dependency (its compose service) was not ready yet.
    DependencyNotReady(String),
    OutOfMemory,
    Exited(i64),
    /// The engine no longer says (its events are kept briefly).
    Unknown,
}

impl Cause {
    /// The cause as the JSON report's `restart_cause` says it.
    pub fn label(&self) -> String {
        match self {
            Cause::DependencyNotReady(dependency) => format!("dependency_not_ready:{dependency}"),
            Cause::OutOfMemory => "oom_killed".into(),
            Cause::Exited(code) => format!("exited:{code}"),
            Cause::Unknown => "unknown".into(),
        }
    }
}

/// A running container's restarts, judged against the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Never,
    /// Outside the window: a detail of a passing check.
    Old {
        ago: Duration,
    },
    Recent {
        ago: Duration,
        cause: Cause,
    },
}

impl Restarts {
    /// The state's part, before any event or log is read.
    pub fn of(c: &Container) -> Restarts {
        let count = c.restart_count;
        Restarts {
            count,
            last: time(c.state.started_at.as_deref()).filter(|_| count > 0),
            created: time(c.created.as_deref()),
            previous_exit: time(c.state.finished_at.as_deref()),
            exit_code: None,
            oom: c.state.oom_killed,
            unreachable_dependency: None,
        }
    }

    pub fn judge(&self, now: SystemTime, window: Duration) -> Verdict {
        let Some(last) = self.last else {
            return Verdict::Never;
        };
        let ago = now.duration_since(last).unwrap_or_default();
        if ago > window {
            return Verdict::Old { ago };
        }
        Verdict::Recent {
            ago,
            cause: self.cause(),
        }
    }

    fn cause(&self) -> Cause {
        if self.oom {
            return Cause::OutOfMemory;
        }
        if let (Some(dependency), true) = (&self.unreachable_dependency, self.at_startup()) {
            return Cause::DependencyNotReady(dependency.clone());
        }
        match self.exit_code {
            Some(code) => Cause::Exited(code),
            None => Cause::Unknown,
        }
    }

    /// Whether the previous run ended soon after the container was created.
    fn at_startup(&self) -> bool {
        match (self.created, self.previous_exit) {
            (Some(created), Some(exit)) => {
                self.count == 1 && exit.duration_since(created).unwrap_or_default() <= STARTUP
            }
            _ => false,
        }
    }
}

/// An engine timestamp (`0001-01-01T00:00:00Z` means never).
fn time(text: Option<&str>) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text?).ok()
}

/// `restarts` with what the engine's events and the previous run's last lines
/// add: its exit code, an OOM kill, a dependency it could not reach.
/// `dependencies` maps a word of a log line (a host name, `:5432`) to the
/// compose service it means.
pub async fn explain(
    ctx: &Context,
    container: &str,
    mut restarts: Restarts,
    dependencies: &HashMap<String, String>,
) -> Restarts {
    let (Some(last), Ok(engine)) = (restarts.last, ctx.engine_for(container).await) else {
        return restarts;
    };
    let since = restarts.created.unwrap_or(last);
    let ends = engine.ends(container, epoch(since), epoch(last) + 1).await;
    restarts.oom |= ends.oom;
    if ends.exit_code.is_some() {
        restarts.exit_code = ends.exit_code;
    }
    let query = LogQuery {
        until: Some(epoch(last) as i64 + 1),
        tail: Some(PREVIOUS_RUN_LINES as u64),
        ..Default::default()
    };
    let read = engine.logs(container, query).collect::<Vec<_>>();
    if let Ok(chunks) = tokio::time::timeout(ctx.timeout, read).await {
        let text: String = chunks
            .into_iter()
            .flatten()
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .collect();
        restarts.unreachable_dependency = unreachable_dependency(&text, dependencies);
    }
    restarts
}

fn epoch(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The dependency named by the last line that says a server could not be reached.
pub fn unreachable_dependency(
    logs: &str,
    dependencies: &HashMap<String, String>,
) -> Option<String> {
    logs.lines().rev().find_map(|line| {
        let lower = line.to_lowercase();
        if !NOT_READY.iter().any(|w| lower.contains(w)) {
            return None;
        }
        let mut named: Vec<(&String, &String)> = dependencies
            .iter()
            .filter(|(word, _)| lower.contains(&word.to_lowercase()))
            .collect();
        // The longest word wins (`helpdesk-auth-db` over `auth-db`).
        named.sort_by_key(|(word, _)| std::cmp::Reverse(word.len()));
        named.first().map(|(_, service)| (*service).clone())
    })
}

/// The outcome of a running container by its restarts: PASS with the old
/// restart as a detail, WARN with the advice its cause calls for, or `passing`
/// itself when it never restarted.
pub fn outcome(
    verdict: &Verdict,
    restarts: &Restarts,
    passing: Outcome,
    advice: &Advice,
) -> Outcome {
    let times = |n: i64| {
        if n == 1 {
            "once".into()
        } else {
            format!("{n} times")
        }
    };
    let count = times(restarts.count);
    match verdict {
        Verdict::Never => passing,
        Verdict::Old { ago } => {
            let mut outcome = passing;
            outcome.message = format!(
                "{} (restarted {count}, last {} ago: older than the {} window)",
                outcome.message,
                rounded(*ago),
                rounded(advice.window)
            );
            outcome.detail("last_restart_ago_s", ago.as_secs())
        }
        Verdict::Recent { ago, cause } => {
            let name = &advice.container;
            let (why, hint) = match cause {
                Cause::DependencyNotReady(dependency) => (
                    format!("at start-up, because {dependency} was not ready yet"),
                    format!(
                        "Make compose wait for it: in {}, under {}, set depends_on: {{{dependency}: \
                         {{condition: service_healthy}}}} (with a healthcheck on {dependency}); \
                         it runs now, nothing to start. Its previous run's last lines: {}",
                        advice.compose_file, advice.compose_service, advice.previous_logs
                    ),
                ),
                Cause::OutOfMemory => (
                    "OOM-killed".to_string(),
                    format!(
                        "It ran out of memory: raise its limit in {} (deploy.resources.limits.memory) \
                         or look for a leak: docker stats --no-stream {name}; it runs now, nothing to start",
                        advice.compose_file
                    ),
                ),
                Cause::Exited(code) => (
                    exit_words(*code),
                    format!(
                        "It runs again, nothing to start; read why it stopped: {}",
                        advice.previous_logs
                    ),
                ),
                Cause::Unknown => (
                    "the engine no longer says why".to_string(),
                    format!(
                        "It runs again, nothing to start; read why it stopped: {}",
                        advice.previous_logs
                    ),
                ),
            };
            let mut outcome = Outcome::warn(format!(
                "{name} runs ({}) but restarted {count}, last {} ago: {why}",
                advice.health,
                rounded(*ago)
            ));
            outcome.details = passing.details;
            outcome
                .with_hint(hint)
                .detail("last_restart_ago_s", ago.as_secs())
                .detail("restart_cause", cause.label())
        }
    }
}

/// What a restart's advice names.
pub struct Advice {
    pub container: String,
    pub compose_service: String,
    pub compose_file: String,
    pub health: String,
    pub window: Duration,
    /// The command that shows the previous run's last lines.
    pub previous_logs: String,
}

impl Advice {
    /// `docker logs --until` the restart: the previous run's last lines.
    pub fn previous_logs_command(
        docker: &str,
        container: &str,
        last: Option<SystemTime>,
    ) -> String {
        match last {
            // To the second after: `--until` takes whole seconds.
            Some(t) => format!(
                "{docker} logs --tail 50 --until {} {container}",
                humantime::format_rfc3339_seconds(t + Duration::from_secs(1))
            ),
            None => format!("{docker} logs --tail 50 {container}"),
        }
    }
}

fn exit_words(code: i64) -> String {
    match code {
        0 => "its process exited (exit code 0)".into(),
        137 => "killed (exit code 137, SIGKILL, not by the OOM killer)".into(),
        143 => "stopped by SIGTERM (exit code 143)".into(),
        code => format!("exited with code {code}"),
    }
}

/// A duration to the second (`2h 5m 3s`).
fn rounded(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs().max(1))).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
    }

    fn restarted_at(last: u64) -> Restarts {
        Restarts {
            count: 1,
            last: at(last),
            created: at(1_000),
            previous_exit: at(last - 1),
            ..Restarts::default()
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_restart_outside_the_window_is_old_and_inside_it_recent() {
        let now = at(100_000).unwrap();
        assert_eq!(Restarts::default().judge(now, HOUR), Verdict::Never);
        assert_eq!(
            restarted_at(100_000 - 3601).judge(now, HOUR),
            Verdict::Old {
                ago: Duration::from_secs(3601)
            }
        );
        assert!(matches!(
            restarted_at(100_000 - 60).judge(now, HOUR),
            Verdict::Recent {
                cause: Cause::Unknown,
                ..
            }
        ));
    }

    #[test]
    fn a_dependency_refused_at_start_up_is_the_cause_later_it_is_not() {
        let deps = HashMap::from([
            ("helpdesk-auth-db".to_string(), "auth-db".to_string()),
            (":5432".to_string(), "auth-db".to_string()),
            ("helpdesk-auth-redis".to_string(), "auth-redis".to_string()),
        ]);
        let logs =
            "listening\nError: connect ECONNREFUSED 172.18.0.4:5432\n    at TCPConnectWrap\n";
        let dependency = unreachable_dependency(logs, &deps);
        assert_eq!(dependency.as_deref(), Some("auth-db"));
        let now = at(1_100).unwrap();
        let mut early = restarted_at(1_010);
        early.unreachable_dependency = dependency.clone();
        early.exit_code = Some(1);
        assert_eq!(
            early.judge(now, HOUR),
            Verdict::Recent {
                ago: Duration::from_secs(90),
                cause: Cause::DependencyNotReady("auth-db".into())
            }
        );
        // A day after it was created, the same lines are not a start-up race.
        let mut later = restarted_at(90_000);
        later.unreachable_dependency = dependency;
        later.exit_code = Some(1);
        assert!(matches!(
            later.judge(at(90_100).unwrap(), HOUR),
            Verdict::Recent {
                cause: Cause::Exited(1),
                ..
            }
        ));
        assert_eq!(unreachable_dependency("all good\n", &deps), None);
    }

    #[test]
    fn advice_never_says_start_it_again() {
        let advice = Advice {
            container: "helpdesk-auth-service".into(),
            compose_service: "auth-service".into(),
            compose_file: "docker-compose.yml".into(),
            health: "healthy".into(),
            window: HOUR,
            previous_logs: Advice::previous_logs_command(
                "docker",
                "helpdesk-auth-service",
                at(1_010),
            ),
        };
        let passing = Outcome::pass("helpdesk-auth-service running, health healthy");
        let mut restarts = restarted_at(1_010);
        for cause in [
            Cause::DependencyNotReady("auth-db".into()),
            Cause::OutOfMemory,
            Cause::Exited(137),
            Cause::Unknown,
        ] {
            let verdict = Verdict::Recent {
                ago: Duration::from_secs(5),
                cause: cause.clone(),
            };
            restarts.oom = cause == Cause::OutOfMemory;
            let o = outcome(&verdict, &restarts, passing.clone(), &advice);
            assert_eq!(o.status, crate::check::Status::Warn);
            let hint = o.hint.unwrap();
            assert!(
                !hint.contains("start it again") && !hint.contains("up -d"),
                "{hint}"
            );
            assert!(hint.contains("nothing to start"), "{hint}");
        }
        let dependency = outcome(
            &Verdict::Recent {
                ago: Duration::from_secs(5),
                cause: Cause::DependencyNotReady("auth-db".into()),
            },
            &restarts,
            passing.clone(),
            &advice,
        );
        assert!(dependency.message.contains("because auth-db was not ready"));
        assert!(
            dependency
                .hint
                .unwrap()
                .contains("depends_on: {auth-db: {condition: service_healthy}}")
        );
        let old = outcome(
            &Verdict::Old {
                ago: Duration::from_secs(7200),
            },
            &restarts,
            passing,
            &advice,
        );
        assert_eq!(old.status, crate::check::Status::Pass);
        assert!(
            old.message.contains("restarted once, last 2h ago"),
            "{}",
            old.message
        );
        assert_eq!(old.hint, None);
    }
}
