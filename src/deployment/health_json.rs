//! Reads a health endpoint's JSON tolerantly, whatever framework wrote it: a
//! `dependencies` map (strings, booleans or objects with a `status`), NestJS
//! terminus' `info`/`error`/`details`, Spring's `components`, a `checks` list,
//! and a top-level `status`; states in any case (up/ok/healthy/connected/pass
//! are up, anything else is down).

use serde_json::Value;

/// Maps whose entries are named dependencies.
const DEPENDENCY_MAPS: [&str; 5] = ["dependencies", "components", "info", "error", "details"];

/// Every dependency the body names, with its state as written (`"down"`, `"false"`).
pub fn dependencies(body: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for key in DEPENDENCY_MAPS {
        if let Some(map) = body.get(key).and_then(Value::as_object) {
            for (name, state) in map {
                if !found.iter().any(|(n, _)| n == name) {
                    found.push((name.clone(), state_of(state)));
                }
            }
        }
    }
    if let Some(list) = body.get("checks").and_then(Value::as_array) {
        for check in list {
            if let Some(name) = check.get("name").and_then(Value::as_str) {
                found.push((name.to_string(), state_of(check)));
            }
        }
    }
    found
}

/// The dependencies that are not up, and the top-level status if it says down.
pub fn down(body: &Value) -> Vec<(String, String)> {
    let mut down: Vec<(String, String)> = dependencies(body)
        .into_iter()
        .filter(|(_, state)| !is_up(state))
        .collect();
    if let Some(status) = body.get("status").map(state_of)
        && !is_up(&status)
        && down.is_empty()
    {
        down.push(("status".into(), status));
    }
    down
}

fn state_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Object(map) => map
            .get("status")
            .or_else(|| map.get("state"))
            .map(state_of)
            .unwrap_or_else(|| "unknown".into()),
        other => other.to_string(),
    }
}

fn is_up(state: &str) -> bool {
    matches!(
        state.to_ascii_lowercase().as_str(),
        "up" | "ok" | "healthy" | "connected" | "pass" | "passing" | "true"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(v: Vec<(String, String)>) -> Vec<String> {
        v.into_iter().map(|(n, s)| format!("{n} {s}")).collect()
    }

    #[test]
    fn every_common_shape_is_read() {
        let stand_in = json!({"status": "ok", "dependencies": {"database": "down", "redis": "up"}});
        assert_eq!(names(down(&stand_in)), ["database down"]);
        let terminus = json!({"status": "error", "info": {"redis": {"status": "up"}},
            "error": {"database": {"status": "down", "message": "ECONNREFUSED"}}});
        assert_eq!(names(down(&terminus)), ["database down"]);
        let spring = json!({"status": "UP", "components": {"db": {"status": "UP"}, "redis": {"status": "UP"}}});
        assert!(down(&spring).is_empty());
        let booleans = json!({"dependencies": {"db": true, "cache": false}});
        assert_eq!(names(down(&booleans)), ["cache false"]);
        let list = json!({"checks": [{"name": "pg", "status": "pass"}, {"name": "redis", "status": "FAIL"}]});
        assert_eq!(names(down(&list)), ["redis FAIL"]);
        assert_eq!(
            names(down(&json!({"status": "Unhealthy"}))),
            ["status Unhealthy"]
        );
        assert!(down(&json!({"status": "Healthy"})).is_empty());
        assert!(down(&json!("not an object")).is_empty());
    }
}
