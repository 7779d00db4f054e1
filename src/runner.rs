//! Runs checks concurrently: each waits only for the gates it needs, has its own
//! timeout, and the whole run has a deadline. Failed gates turn dependents into SKIP;
//! a failure explained by another (`causes`) names it as the root cause.

use crate::catalog::Check;
use crate::check::{CheckResult, Outcome, Status};
use crate::probe::Context;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Pending = Shared<BoxFuture<'static, CheckResult>>;

/// Runs `checks` (in catalog order, dependencies first) within `deadline`.
pub async fn run(checks: &[Check], ctx: Arc<Context>, deadline: Duration) -> Vec<CheckResult> {
    let mut pending: HashMap<String, Pending> = HashMap::new();
    for check in dependencies_first(checks) {
        let gates: Vec<(String, Pending)> = check
            .def
            .needs
            .iter()
            .filter_map(|id| pending.get(id).map(|p| (id.clone(), p.clone())))
            .collect();
        let future = run_one(check.clone(), ctx.clone(), gates).boxed().shared();
        pending.insert(check.def.id.clone(), future);
    }
    let handles: Vec<_> = checks
        .iter()
        .map(|c| tokio::spawn(pending[&c.def.id].clone()))
        .collect();
    let _ = tokio::time::timeout(deadline, futures::future::join_all(handles)).await;
    let mut results: Vec<CheckResult> = checks
        .iter()
        .map(|c| {
            pending[&c.def.id]
                .peek()
                .cloned()
                .unwrap_or_else(|| deadline_exceeded(c, &ctx, deadline))
        })
        .collect();
    name_root_causes(checks, &mut results);
    for result in &mut results {
        redact(result, &ctx);
    }
    results
}

async fn run_one(check: Check, ctx: Arc<Context>, gates: Vec<(String, Pending)>) -> CheckResult {
    for (id, gate) in gates {
        let gate = gate.await;
        if !gate.status.opens_gate() {
            let outcome = Outcome::new(
                Status::Skip,
                format!("skipped: {id} did not pass ({})", gate.message),
            );
            return finish(&check, &ctx, outcome, Duration::ZERO);
        }
    }
    let timeout = check
        .def
        .timeout_ms
        .map(Duration::from_millis)
        .unwrap_or(ctx.timeout);
    let started = Instant::now();
    let outcome = match tokio::time::timeout(timeout, check.def.probe.run(&ctx)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::fail(format!("no answer within {timeout:?}")),
    };
    finish(&check, &ctx, outcome, started.elapsed())
}

fn finish(check: &Check, ctx: &Context, outcome: Outcome, took: Duration) -> CheckResult {
    let hint = match outcome.status {
        Status::Warn | Status::Fail => Some(outcome.hint.unwrap_or_else(|| check.def.hint.clone())),
        Status::Pass | Status::Skip => None,
    };
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
    }
}

fn deadline_exceeded(check: &Check, ctx: &Context, deadline: Duration) -> CheckResult {
    let outcome = Outcome::fail(format!(
        "not finished when the run's deadline ({deadline:?}) expired"
    ));
    finish(check, ctx, outcome, deadline)
}

/// Orders checks so that every check comes after the ones it needs (the catalog has no loops).
fn dependencies_first(checks: &[Check]) -> Vec<&Check> {
    let mut ordered: Vec<&Check> = Vec::with_capacity(checks.len());
    let mut placed: std::collections::HashSet<&str> = Default::default();
    while ordered.len() < checks.len() {
        let before = ordered.len();
        for check in checks {
            let ready = check
                .def
                .needs
                .iter()
                .all(|n| placed.contains(n.as_str()) || !checks.iter().any(|c| &c.def.id == n));
            if !placed.contains(check.def.id.as_str()) && ready {
                placed.insert(&check.def.id);
                ordered.push(check);
            }
        }
        assert!(
            ordered.len() > before,
            "the catalog's dependencies loop (validated at load)"
        );
    }
    ordered
}

/// A failed check whose `causes` include another failed check names it as its root cause.
fn name_root_causes(checks: &[Check], results: &mut [CheckResult]) {
    let failed: HashMap<String, (String, Option<String>)> = results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .map(|r| (r.id.clone(), (r.message.clone(), r.hint.clone())))
        .collect();
    for (check, result) in checks.iter().zip(results.iter_mut()) {
        if result.status != Status::Fail {
            continue;
        }
        if let Some((id, (message, hint))) = check
            .def
            .causes
            .iter()
            .find_map(|id| failed.get(id).map(|f| (id, f)))
        {
            result.message = format!("{}; root cause: {message}", result.message);
            result
                .details
                .insert("root_cause".into(), serde_json::Value::String(id.clone()));
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
