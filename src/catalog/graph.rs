//! The graph of `needs` and `causes` between checks: every reference names a
//! check, no loop (Kahn's order, linear, no recursion), no chain too deep.

use super::Check;
use std::collections::HashMap;

/// The deepest chain of `needs` a catalog may have.
const MAX_NEEDS_DEPTH: usize = 64;

/// `needs` and `causes` must name existing checks, and `needs` must not loop.
pub(super) fn check_references(checks: &[Check]) -> Vec<String> {
    let ids: HashMap<&str, &Check> = checks.iter().map(|c| (c.def.id.as_str(), c)).collect();
    let mut errors = Vec::new();
    for check in checks {
        if check.def.causes.contains(&check.def.id) || check.def.needs.contains(&check.def.id) {
            errors.push(format!(
                "{}:{}: check {:?} names itself in its own needs or causes",
                check.source, check.line, check.def.id
            ));
        }
        for reference in check.def.needs.iter().chain(&check.def.causes) {
            if !ids.contains_key(reference.as_str()) {
                errors.push(format!(
                    "{}:{}: check {:?} refers to unknown check {:?}",
                    check.source, check.line, check.def.id, reference
                ));
            }
        }
    }
    if !errors.is_empty() {
        return errors;
    }
    match dependency_order(checks) {
        Err(cycle) => errors.push(format!(
            "checks depend on each other in a loop: {}",
            cycle.join(" -> ")
        )),
        Ok(order) => errors.extend(check_depth(checks, &order)),
    }
    errors
}

/// Checks in an order where each comes after the checks it needs (Kahn's
/// algorithm: linear, no recursion), or the first loop found.
fn dependency_order(checks: &[Check]) -> Result<Vec<usize>, Vec<String>> {
    let index: HashMap<&str, usize> = checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.def.id.as_str(), i))
        .collect();
    let mut waiting: Vec<usize> = vec![0; checks.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); checks.len()];
    for (i, check) in checks.iter().enumerate() {
        for need in &check.def.needs {
            if let Some(&n) = index.get(need.as_str()) {
                waiting[i] += 1;
                dependents[n].push(i);
            }
        }
    }
    let mut ready: std::collections::VecDeque<usize> =
        (0..checks.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(checks.len());
    while let Some(i) = ready.pop_front() {
        order.push(i);
        for &d in &dependents[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push_back(d);
            }
        }
    }
    if order.len() == checks.len() {
        return Ok(order);
    }
    // Every check left waits for another one left: walk `needs` until one repeats.
    let left = |i: usize| waiting[i] > 0;
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut path: Vec<usize> = Vec::new();
    let mut at = (0..checks.len())
        .find(|&i| left(i))
        .expect("a check is left");
    while !seen.contains_key(&at) {
        seen.insert(at, path.len());
        path.push(at);
        at = checks[at]
            .def
            .needs
            .iter()
            .filter_map(|n| index.get(n.as_str()).copied())
            .find(|&n| left(n))
            .expect("a check left waits for another");
    }
    let mut cycle: Vec<String> = path[seen[&at]..]
        .iter()
        .map(|&i| checks[i].def.id.clone())
        .collect();
    cycle.push(checks[at].def.id.clone());
    Err(cycle)
}

/// Errors for `needs` chains deeper than `MAX_NEEDS_DEPTH`, given a dependency order.
fn check_depth(checks: &[Check], order: &[usize]) -> Option<String> {
    let index: HashMap<&str, usize> = checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.def.id.as_str(), i))
        .collect();
    let mut depth = vec![0usize; checks.len()];
    for &i in order {
        depth[i] = checks[i]
            .def
            .needs
            .iter()
            .filter_map(|n| index.get(n.as_str()).map(|&n| depth[n] + 1))
            .max()
            .unwrap_or(0);
        if depth[i] > MAX_NEEDS_DEPTH {
            let check = &checks[i];
            return Some(format!(
                "{}:{}: check {:?} sits at the end of a chain of `needs` deeper than {MAX_NEEDS_DEPTH}",
                check.source, check.line, check.def.id
            ));
        }
    }
    None
}
