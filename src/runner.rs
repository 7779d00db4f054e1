//! Runs checks concurrently: each waits only for the gates it needs and for a
//! connection slot, then has its own timeout; the whole run has a deadline.
//! Failed gates turn dependents into SKIP; so does a failed engine check for
//! any check that found it needed the engine (`Outcome::wants_engine`); a
//! failure explained by another (`causes`) names it as the root cause.

use crate::catalog::Check;
use crate::check::{CheckResult, Outcome, Status};
use crate::deployment::runtime;
use crate::deployment::{Context, MAX_CONNECTIONS_PER_ADDRESS};
use crate::probe::Probe;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

type Gate = (String, watch::Receiver<Option<CheckResult>>);

/// Runs every check of `checks` at once (each waits for the gates it needs)
/// within `deadline`; what is still running then is stopped and reported.
/// The results are not redacted yet (`redact_all`).
/// No future waits inside another: a chain of `needs` of any length costs no stack.
pub async fn run(checks: &[Check], ctx: Arc<Context>, deadline: Duration) -> Vec<CheckResult> {
    let (senders, receivers): (Vec<_>, Vec<_>) =
        checks.iter().map(|_| watch::channel(None)).unzip();
    let by_id: HashMap<&str, &watch::Receiver<Option<CheckResult>>> = checks
        .iter()
        .zip(&receivers)
        .map(|(c, r)| (c.def.id.as_str(), r))
        .collect();
    let queued: Vec<Arc<AtomicBool>> = checks.iter().map(|_| Default::default()).collect();
    let engine_check = checks
        .iter()
        .zip(&receivers)
        .find(|(c, _)| matches!(c.def.probe, Probe::DockerEngine))
        .map(|(c, r)| (c.def.id.clone(), r.clone()));
    let mut running = tokio::task::JoinSet::new();
    for ((check, sender), queued) in checks.iter().zip(senders).zip(queued.clone()) {
        let gates: Vec<Gate> = check
            .def
            .needs
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).map(|r| (id.clone(), (*r).clone())))
            .collect();
        let engine = engine_check.clone().filter(|(id, _)| *id != check.def.id);
        let (check, ctx) = (check.clone(), ctx.clone());
        running.spawn(async move {
            let result = run_one(check, ctx, gates, engine, &queued).await;
            sender.send_replace(Some(result));
        });
    }
    let _ = tokio::time::timeout(deadline, async {
        while running.join_next().await.is_some() {}
    })
    .await;
    running.abort_all();
    let unfinished = |id: &String| by_id.get(id.as_str()).is_some_and(|r| r.borrow().is_none());
    let mut results: Vec<CheckResult> = checks
        .iter()
        .zip(&receivers)
        .zip(&queued)
        .map(|((c, r), queued)| {
            r.borrow().clone().unwrap_or_else(|| {
                match c.def.needs.iter().find(|id| unfinished(id)) {
                    Some(gate) => waited_for_a_cut_gate(c, &ctx, gate),
                    None if queued.load(Ordering::Relaxed) => waited_for_a_slot(c, &ctx),
                    None => deadline_exceeded(c, &ctx, deadline),
                }
            })
        })
        .collect();
    name_root_causes(checks, &mut results);
    results
}

/// Masks every secret the context knows in the results: after the run, once
/// every credential of the deployment was looked up.
pub fn redact_all(results: &mut [CheckResult], ctx: &Context) {
    for result in results {
        redact(result, ctx);
    }
}

/// `queued` is set while the check waits for a connection slot: its timeout
/// starts once it has one, so a queue of checks is never a false FAIL.
async fn run_one(
    check: Check,
    ctx: Arc<Context>,
    gates: Vec<Gate>,
    engine: Option<Gate>,
    queued: &AtomicBool,
) -> CheckResult {
    for (id, mut gate) in gates {
        let Ok(gate) = gate.wait_for(Option::is_some).await.map(|g| g.clone()) else {
            continue;
        };
        let gate = gate.expect("waited for a result");
        if !gate.status.opens_gate() {
            return finish(&check, &ctx, skipped_because(&id, &gate), Duration::ZERO);
        }
    }
    if let Some(skipped) = on_unreachable_node(&check, &ctx).await {
        return finish(&check, &ctx, skipped, Duration::ZERO);
    }
    let timeout = check
        .def
        .timeout_ms
        .map(Duration::from_millis)
        .unwrap_or(ctx.timeout);
    let _slot = match check.def.probe.slot_address(&ctx) {
        Some(address) => {
            queued.store(true, Ordering::Relaxed);
            let slot = ctx.connection_slot(&address).await;
            queued.store(false, Ordering::Relaxed);
            Some(slot)
        }
        None => None,
    };
    let started = Instant::now();
    let outcome = match tokio::time::timeout(timeout, check.def.probe.run(&ctx)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::fail(format!("no answer within {timeout:?}")),
    };
    let outcome = match engine {
        Some(engine) if outcome.wants_engine => for_want_of(engine, outcome).await,
        _ => outcome,
    };
    finish(&check, &ctx, outcome, started.elapsed())
}

/// A check of a task on a swarm node that cannot be reached from here: SKIP
/// under the nodes' check, which names the node and why (one cause, told once).
async fn on_unreachable_node(check: &Check, ctx: &Context) -> Option<Outcome> {
    let container = check.def.probe.task_container(ctx)?;
    let node = ctx.profile.cluster.as_deref()?.node_of(&container)?;
    let reason = ctx.node_unreachable(node).await?;
    Some(
        Outcome::new(
            Status::Skip,
            format!("skipped: {node} unreachable: {reason}"),
        )
        .skipped_for(crate::check::NODES_CHECK),
    )
}

/// An outcome that needed the engine: SKIP under the engine's check when that
/// failed too (its one failure explains it), else the outcome as it is.
async fn for_want_of((id, mut engine): Gate, outcome: Outcome) -> Outcome {
    let verdict = engine
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|r| r.clone());
    match verdict {
        Some(gate) if !gate.status.opens_gate() => skipped_because(&id, &gate),
        _ => outcome,
    }
}

/// A check still waiting for its gate when the deadline struck never ran: SKIP.
fn waited_for_a_cut_gate(check: &Check, ctx: &Context, gate: &str) -> CheckResult {
    let outcome = Outcome::new(
        Status::Skip,
        format!("skipped: {gate} had no verdict when --deadline struck"),
    )
    .skipped_for(gate);
    finish(check, ctx, outcome, Duration::ZERO)
}

/// A check still queued for a connection slot when the deadline struck never
/// ran: UNKNOWN, saying why (nothing is known to be wrong with the target).
fn waited_for_a_slot(check: &Check, ctx: &Context) -> CheckResult {
    let address = check.def.probe.slot_address(ctx).unwrap_or_default();
    let outcome = Outcome::new(
        Status::Error,
        format!(
            "not run: connection limit ({MAX_CONNECTIONS_PER_ADDRESS} connections to {address} \
             were busy until --deadline struck)"
        ),
    );
    finish(check, ctx, outcome, Duration::ZERO)
}

/// A check skipped because `gate` did not pass, naming the check that really
/// did not (the gate itself, or the one the gate was skipped for: never nested).
fn skipped_because(id: &str, gate: &CheckResult) -> Outcome {
    match gate.skipped_because() {
        Some(root) if gate.status == Status::Skip => {
            Outcome::new(Status::Skip, gate.message.clone()).skipped_for(root)
        }
        _ => Outcome::new(
            Status::Skip,
            format!(
                "skipped: {id} is {} ({})",
                gate.status.label(),
                gate.message
            ),
        )
        .skipped_for(id),
    }
}

fn finish(check: &Check, ctx: &Context, outcome: Outcome, took: Duration) -> CheckResult {
    let hint = match outcome.status {
        Status::Warn | Status::Fail => Some(outcome.hint.unwrap_or_else(|| check.def.hint.clone())),
        Status::Pass | Status::Skip | Status::Error => None,
    }
    .map(|hint| {
        // A fix's compose commands, as the deployment's runtime says them.
        let profile = &ctx.profile;
        let compose = profile.compose_command();
        runtime::say_commands(profile.runtime, &hint, &compose, &profile.compose_project)
    });
    CheckResult {
        id: check.def.id.clone(),
        kind: check.def.probe.kind(),
        target: check.def.probe.target(ctx),
        title: check.def.title.clone(),
        status: outcome.status,
        message: outcome.message,
        hint,
        duration_ms: took.as_millis() as u64,
        details: outcome.details,
        reached: outcome.reached,
        engine: None,
        node: check.def.probe.node(ctx).map(|n| n.hostname.clone()),
    }
}

/// A check still running when the deadline struck has no verdict: UNKNOWN,
/// with no fix (nothing is known to be wrong with the deployment).
fn deadline_exceeded(check: &Check, ctx: &Context, deadline: Duration) -> CheckResult {
    let outcome = Outcome::new(
        Status::Error,
        format!("cut off by --deadline after {} ms", deadline.as_millis()),
    );
    finish(check, ctx, outcome, deadline)
}

/// A failed or warning check whose `causes` include a failed check names it
/// as its root cause (a database paused: its connect timeout, its app's 503,
/// its app's log errors), and takes its fix.
fn name_root_causes(checks: &[Check], results: &mut [CheckResult]) {
    let failed: HashMap<String, (String, Option<String>)> = results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .map(|r| (r.id.clone(), (r.message.clone(), r.hint.clone())))
        .collect();
    for (check, result) in checks.iter().zip(results.iter_mut()) {
        if !matches!(result.status, Status::Fail | Status::Warn) {
            continue;
        }
        if let Some((id, (message, hint))) = check
            .def
            .causes
            .iter()
            .find_map(|id| failed.get(id).map(|f| (id, f)))
        {
            result.message = format!("{}; root cause: {message}", result.message);
            result.set_root_cause(id);
            if hint.is_some() {
                result.hint = hint.clone();
            }
        }
    }
}

fn redact(result: &mut CheckResult, ctx: &Context) {
    result.message = ctx.secrets.redact(&result.message);
    result.hint = result.hint.as_deref().map(|h| ctx.secrets.redact(h));
    let mut details = serde_json::Value::Object(std::mem::take(&mut result.details));
    ctx.secrets.redact_json(&mut details);
    if let serde_json::Value::Object(map) = details {
        result.details = map;
    }
}
