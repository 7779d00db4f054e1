//! Whether the engine looks after a container: a health check (else a hung
//! process counts as running) and a restart policy other than `no` (else a
//! crash or a reboot leaves it down). On a Swarm stack the orchestrator
//! restarts tasks itself, so only the health check is judged there.

use super::Context;
use crate::check::Outcome;
use crate::deployment::container::RestartPolicy;
use crate::deployment::containers::inspect;
use crate::deployment::runtime::Runtime;

pub async fn check(ctx: &Context, container: &str) -> Outcome {
    let c = match inspect(ctx, container).await {
        Ok(Some(c)) => c,
        Ok(None) => return Outcome::fail(format!("container {container} does not exist")),
        Err(e) => return Outcome::from(e),
    };
    judge(
        container,
        c.health_check,
        c.restart_policy,
        ctx.profile.runtime,
    )
}

/// What is missing of a health check and (on compose) a restart policy.
fn judge(
    container: &str,
    health_check: bool,
    restart: RestartPolicy,
    runtime: &dyn Runtime,
) -> Outcome {
    let mut missing = Vec::new();
    if !health_check {
        missing.push("no health check (a hung process still counts as running)".to_string());
    }
    if !runtime.orchestrated() && restart == RestartPolicy::No {
        missing.push("restart policy no (a crash or a reboot leaves it down)".to_string());
    }
    let outcome = if missing.is_empty() {
        Outcome::pass(format!("health check set, restart policy {restart}"))
    } else {
        Outcome::warn(format!("{container} has {}", missing.join(" and ")))
    };
    outcome
        .detail("health_check", health_check)
        .detail("restart_policy", restart.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::deployment::runtime::named;

    #[test]
    fn a_container_the_engine_looks_after_passes() {
        let o = judge(
            "c",
            true,
            RestartPolicy::UnlessStopped,
            named("compose").unwrap(),
        );
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.message, "health check set, restart policy unless-stopped");
    }

    #[test]
    fn each_missing_safeguard_is_named() {
        let o = judge("c", false, RestartPolicy::No, named("compose").unwrap());
        assert_eq!(o.status, Status::Warn);
        assert_eq!(
            o.message,
            "c has no health check (a hung process still counts as running) and restart \
             policy no (a crash or a reboot leaves it down)"
        );
    }

    #[test]
    fn on_a_stack_the_orchestrator_restarts_so_only_the_health_check_counts() {
        let o = judge("c", true, RestartPolicy::No, named("swarm").unwrap());
        assert_eq!(o.status, Status::Pass);
        let o = judge("c", false, RestartPolicy::No, named("swarm").unwrap());
        assert_eq!(
            o.message,
            "c has no health check (a hung process still counts as running)"
        );
    }
}
