//! Whether the engine looks after a container: a health check (else a hung
//! process counts as running) and a restart policy other than `no` (else a
//! crash or a reboot leaves it down). On a Swarm stack the orchestrator
//! restarts tasks itself, so only the health check is judged there.

use super::Context;
use crate::check::Outcome;
use crate::deployment::containers::inspect;
use crate::deployment::runtime::Runtime;
use bollard::models::{ContainerInspectResponse, RestartPolicyNameEnum};

pub async fn check(ctx: &Context, container: &str) -> Outcome {
    let c = match inspect(ctx, container).await {
        Ok(Some(c)) => c,
        Ok(None) => return Outcome::fail(format!("container {container} does not exist")),
        Err(e) => return Outcome::from(e),
    };
    let health_check = has_health_check(&c);
    let restart = restart_policy(&c);
    let mut missing = Vec::new();
    if !health_check {
        missing.push("no health check (a hung process still counts as running)".to_string());
    }
    let restarted = restart.as_ref().is_some_and(|policy| policy != "no");
    if ctx.profile.runtime == Runtime::Compose && !restarted {
        missing.push("restart policy no (a crash or a reboot leaves it down)".to_string());
    }
    let said_policy = restart.clone().unwrap_or_else(|| "no".into());
    let outcome = if missing.is_empty() {
        Outcome::pass(format!("health check set, restart policy {said_policy}"))
    } else {
        Outcome::warn(format!("{container} has {}", missing.join(" and ")))
    };
    outcome
        .detail("health_check", health_check)
        .detail("restart_policy", said_policy)
}

/// A health check from the image or the container, not disabled (`NONE`).
fn has_health_check(c: &ContainerInspectResponse) -> bool {
    let test = c
        .config
        .as_ref()
        .and_then(|config| config.healthcheck.as_ref())
        .and_then(|health| health.test.as_ref());
    test.is_some_and(|test| test.first().is_some_and(|first| first != "NONE"))
}

/// The restart policy's name, `None` when unset (which means `no`).
fn restart_policy(c: &ContainerInspectResponse) -> Option<String> {
    let name = c
        .host_config
        .as_ref()?
        .restart_policy
        .as_ref()?
        .name
        .as_ref()?;
    match name {
        RestartPolicyNameEnum::EMPTY => None,
        policy => Some(policy.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig, HealthConfig, HostConfig, RestartPolicy};

    fn container(
        test: Option<Vec<&str>>,
        policy: Option<RestartPolicyNameEnum>,
    ) -> ContainerInspectResponse {
        ContainerInspectResponse {
            config: Some(ContainerConfig {
                healthcheck: test.map(|t| HealthConfig {
                    test: Some(t.into_iter().map(String::from).collect()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                restart_policy: policy.map(|name| RestartPolicy {
                    name: Some(name),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_disabled_or_absent_health_check_is_none() {
        assert!(has_health_check(&container(
            Some(vec!["CMD", "true"]),
            None
        )));
        assert!(!has_health_check(&container(Some(vec!["NONE"]), None)));
        assert!(!has_health_check(&container(Some(vec![]), None)));
        assert!(!has_health_check(&container(None, None)));
    }

    #[test]
    fn an_empty_restart_policy_is_no() {
        let policy = |p| restart_policy(&container(None, p));
        assert_eq!(policy(Some(RestartPolicyNameEnum::EMPTY)), None);
        assert_eq!(policy(None), None);
        assert_eq!(
            policy(Some(RestartPolicyNameEnum::NO)).as_deref(),
            Some("no")
        );
        assert_eq!(
            policy(Some(RestartPolicyNameEnum::UNLESS_STOPPED)).as_deref(),
            Some("unless-stopped")
        );
    }
}
