//! Reads a health endpoint's JSON tolerantly, whatever framework wrote it: a
//! `dependencies` map (strings, booleans or objects with a `status`), NestJS
//! terminus' `info`/`error`/`details`, Spring's `components`, a `checks` list,
//! and a top-level `status`; states in any case (up/ok/healthy/connected/pass
//! are up, anything else is down). The answer is untrusted: parsed only when
//! nested no deeper than `MAX_DEPTH`, read in linear time, and at most
//! `MAX_DEPENDENCIES` names of at most `MAX_NAME_CHARS` are kept.

use serde_json::Value;
use std::collections::HashSet;

/// Maps whose entries are named dependencies.
const DEPENDENCY_MAPS: [&str; 5] = ["dependencies", "components", "info", "error", "details"];

/// Deeper than this, an answer is not a health answer (Spring's nest a few levels).
pub const MAX_DEPTH: usize = 64;

/// More dependencies than this are not read (a health answer names a handful).
pub const MAX_DEPENDENCIES: usize = 256;

/// A dependency's name is shown cut to this many characters.
const MAX_NAME_CHARS: usize = 128;

/// Why a body that looks like JSON was not read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("answer nested deeper than {MAX_DEPTH} levels, not read")]
    TooDeep,
}

/// The body as JSON; `Ok(None)` when it is not JSON at all (a plain `OK`), an
/// error when it nests deeper than `MAX_DEPTH` (checked before parsing, in one
/// pass, so no recursion and no quadratic work whatever the body).
pub fn parse(body: &[u8]) -> Result<Option<Value>, Unreadable> {
    if depth(body) > MAX_DEPTH {
        return Err(Unreadable::TooDeep);
    }
    Ok(serde_json::from_slice(body).ok())
}

/// How deep `[`/`{` nest in a JSON text, strings skipped.
fn depth(body: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Every dependency the body names (the first `MAX_DEPENDENCIES`), with its
/// state as written (`"down"`, `"false"`).
pub fn dependencies(body: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let named = DEPENDENCY_MAPS
        .iter()
        .filter_map(|key| body.get(key).and_then(Value::as_object))
        .flatten()
        .filter(|(name, _)| seen.insert(name.as_str()))
        .map(|(name, state)| (name.as_str(), state_of(state)));
    let listed = body
        .get("checks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|check| Some((check.get("name")?.as_str()?, state_of(check))));
    for (name, state) in named.chain(listed).take(MAX_DEPENDENCIES) {
        found.push((shown(name), shown(&state)));
    }
    found
}

/// Whether the body names more dependencies than `dependencies` reads.
pub fn more_than_read(body: &Value) -> bool {
    let mapped: usize = DEPENDENCY_MAPS
        .iter()
        .filter_map(|key| body.get(key).and_then(Value::as_object))
        .map(serde_json::Map::len)
        .sum();
    let listed = body
        .get("checks")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    mapped + listed > MAX_DEPENDENCIES
}

/// A name or state cut to `MAX_NAME_CHARS`.
fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_NAME_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
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

/// A state as written: a string, a boolean, an object's `status`/`state`
/// (one level: a nested object is `unknown`), a number.
fn state_of(value: &Value) -> String {
    let value = match value {
        Value::Object(map) => match map.get("status").or_else(|| map.get("state")) {
            Some(inner) => inner,
            None => return "unknown".into(),
        },
        other => other,
    };
    match value {
        Value::String(s) => shown(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => "unknown".into(),
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

    #[test]
    fn a_deep_answer_is_refused_before_parsing_and_strings_do_not_count() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(parse(deep.as_bytes()), Err(Unreadable::TooDeep));
        let fine = format!(r#"{{"status": "up", "note": "{}"}}"#, "[{".repeat(1000));
        assert!(parse(fine.as_bytes()).unwrap().is_some());
        assert_eq!(parse(b"OK").unwrap(), None);
        let escaped = r#"{"a": "\"[[[[", "b": {"c": 1}}"#;
        assert_eq!(depth(escaped.as_bytes()), 2);
        let backslash = r#"{"a": "x\\", "b": [[1]]}"#;
        assert_eq!(depth(backslash.as_bytes()), 3);
    }

    #[test]
    fn many_dependencies_are_read_in_linear_time_and_capped() {
        let many: serde_json::Map<String, Value> = (0..200_000)
            .map(|i| (format!("dep{i}"), json!("down")))
            .collect();
        let body = json!({ "dependencies": many.clone(), "components": many });
        let started = std::time::Instant::now();
        let found = down(&body);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(found.len(), MAX_DEPENDENCIES);
        assert!(more_than_read(&body));
        let long = json!({ "dependencies": { "x".repeat(10_000): "down" } });
        assert_eq!(dependencies(&long)[0].0.chars().count(), MAX_NAME_CHARS + 1);
    }
}
