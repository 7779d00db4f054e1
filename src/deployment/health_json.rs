//! Reads a health endpoint's JSON tolerantly, whatever framework wrote it: a
//! `dependencies` map (strings, booleans or objects with a `status`), NestJS
//! terminus' `info`/`error`/`details`, Spring's `components`, a `checks` list,
//! and a top-level `status`; states in any case (up/ok/healthy/connected/pass
//! are up, anything else is down). The answer is untrusted: parsed only when
//! nested no deeper than `MAX_DEPTH`, streamed in one linear pass that keeps
//! at most `MAX_DEPENDENCIES` names of at most `MAX_NAME_CHARS` per map (the
//! rest is counted and skipped, never built), so memory stays that of the body.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;

/// Maps whose entries are named dependencies, in the order they are read.
const DEPENDENCY_MAPS: [&str; 5] = ["dependencies", "components", "info", "error", "details"];

/// Deeper than this, an answer is not a health answer (Spring's nest a few levels).
pub const MAX_DEPTH: usize = 64;

/// More dependencies than this are not read (a health answer names a handful).
pub const MAX_DEPENDENCIES: usize = 256;

/// A dependency's name or state is kept cut to this many characters.
const MAX_NAME_CHARS: usize = 128;

/// Why a body that looks like JSON was not read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("answer nested deeper than {MAX_DEPTH} levels, not read")]
    TooDeep,
}

/// A health answer as far as it was read.
#[derive(Debug, Default, PartialEq)]
pub struct Answer {
    /// The top-level `status`, as written.
    status: Option<String>,
    /// The first `MAX_DEPENDENCIES` entries of each of `DEPENDENCY_MAPS`, then
    /// of `checks`, with their states.
    lists: [Vec<(String, String)>; 6],
    /// How many entries the maps and the list hold in all.
    named: usize,
}

/// The body as a health answer; `Ok(None)` when it is not JSON at all (a plain
/// `OK`), an error when it nests deeper than `MAX_DEPTH` (checked first, in one
/// pass, so no recursion and no quadratic work whatever the body).
pub fn parse(body: &[u8]) -> Result<Option<Answer>, Unreadable> {
    if depth(body) > MAX_DEPTH {
        return Err(Unreadable::TooDeep);
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    Ok(AnswerSeed
        .deserialize(&mut reader)
        .ok()
        .filter(|_| reader.end().is_ok()))
}

impl Answer {
    /// Every dependency the answer names (the first `MAX_DEPENDENCIES`, each
    /// once), with its state as written (`"down"`, `"false"`).
    pub fn dependencies(&self) -> Vec<(String, String)> {
        let (maps, checks) = self.lists.split_at(DEPENDENCY_MAPS.len());
        let mut seen: HashSet<&str> = HashSet::new();
        let named = maps
            .iter()
            .flatten()
            .filter(|(name, _)| seen.insert(name.as_str()));
        named
            .chain(checks.iter().flatten())
            .take(MAX_DEPENDENCIES)
            .cloned()
            .collect()
    }

    /// The dependencies that are not up, and the top-level status if it says down.
    pub fn down(&self) -> Vec<(String, String)> {
        let mut down: Vec<(String, String)> = self
            .dependencies()
            .into_iter()
            .filter(|(_, state)| !is_up(state))
            .collect();
        if let Some(status) = &self.status
            && !is_up(status)
            && down.is_empty()
        {
            down.push(("status".into(), status.clone()));
        }
        down
    }

    /// Whether the answer names more dependencies than `dependencies` reads.
    pub fn more_than_read(&self) -> bool {
        self.named > MAX_DEPENDENCIES
    }
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

/// The top level: an object is read, anything else is an answer naming nothing.
struct AnswerSeed;

impl<'de> DeserializeSeed<'de> for AnswerSeed {
    type Value = Answer;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Answer, D::Error> {
        deserializer.deserialize_any(AnswerSeed)
    }
}

impl<'de> Visitor<'de> for AnswerSeed {
    type Value = Answer;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a health answer")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let mut answer = Answer::default();
        while let Some(key) = map.next_key::<String>()? {
            let list = DEPENDENCY_MAPS.iter().position(|k| *k == key);
            match (key.as_str(), list) {
                ("status", _) => {
                    answer.status = Some(state_of(&map.next_value::<Value>()?));
                }
                ("checks", _) => {
                    let into = &mut answer.lists[DEPENDENCY_MAPS.len()];
                    answer.named += map.next_value_seed(Entries { into, list: true })?;
                }
                (_, Some(i)) => {
                    let into = &mut answer.lists[i];
                    answer.named += map.next_value_seed(Entries { into, list: false })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(answer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Answer, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Answer::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<Answer, E> {
        Ok(Answer::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Answer, E> {
        Ok(Answer::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Answer, E> {
        Ok(Answer::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Answer, E> {
        Ok(Answer::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Answer, E> {
        Ok(Answer::default())
    }
    fn visit_unit<E>(self) -> Result<Answer, E> {
        Ok(Answer::default())
    }
}

/// A dependency map (`name: state`), or the `checks` list (`{name, status}`)
/// when `list`: its first `MAX_DEPENDENCIES` entries kept in `into`, the rest
/// skipped; how many it holds. Anything else names none.
struct Entries<'a> {
    into: &'a mut Vec<(String, String)>,
    list: bool,
}

impl<'de> DeserializeSeed<'de> for Entries<'_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("dependencies")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        if self.list {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(0);
        }
        let mut count = 0;
        while let Some(name) = map.next_key::<String>()? {
            count += 1;
            if self.into.len() < MAX_DEPENDENCIES {
                let state = state_of(&map.next_value::<Value>()?);
                self.into.push((shown(&name), state));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(count)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        if !self.list {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(0);
        }
        let mut count = 0;
        loop {
            let more = if self.into.len() < MAX_DEPENDENCIES {
                let Some(check) = seq.next_element::<Value>()? else {
                    break;
                };
                if let Some(name) = check.get("name").and_then(Value::as_str) {
                    self.into.push((shown(name), state_of(&check)));
                }
                true
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                break;
            }
            count += 1;
        }
        Ok(count)
    }

    fn visit_str<E>(self, _: &str) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_bool<E>(self, _: bool) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_i64<E>(self, _: i64) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_u64<E>(self, _: u64) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_f64<E>(self, _: f64) -> Result<usize, E> {
        Ok(0)
    }
    fn visit_unit<E>(self) -> Result<usize, E> {
        Ok(0)
    }
}

/// A name or state cut to `MAX_NAME_CHARS`.
fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_NAME_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
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

    fn answer(body: Value) -> Answer {
        parse(body.to_string().as_bytes()).unwrap().expect("JSON")
    }

    fn down(body: Value) -> Vec<String> {
        answer(body)
            .down()
            .into_iter()
            .map(|(n, s)| format!("{n} {s}"))
            .collect()
    }

    #[test]
    fn every_common_shape_is_read() {
        let stand_in = json!({"status": "ok", "dependencies": {"database": "down", "redis": "up"}});
        assert_eq!(down(stand_in), ["database down"]);
        let terminus = json!({"status": "error", "info": {"redis": {"status": "up"}},
            "error": {"database": {"status": "down", "message": "ECONNREFUSED"}}});
        assert_eq!(down(terminus), ["database down"]);
        let spring = json!({"status": "UP", "components": {"db": {"status": "UP"}, "redis": {"status": "UP"}}});
        assert!(down(spring).is_empty());
        let booleans = json!({"dependencies": {"db": true, "cache": false}});
        assert_eq!(down(booleans), ["cache false"]);
        let list = json!({"checks": [{"name": "pg", "status": "pass"}, {"name": "redis", "status": "FAIL"}]});
        assert_eq!(down(list), ["redis FAIL"]);
        assert_eq!(down(json!({"status": "Unhealthy"})), ["status Unhealthy"]);
        assert!(down(json!({"status": "Healthy"})).is_empty());
        assert!(down(json!("not an object")).is_empty());
        assert!(down(json!({"dependencies": [1, 2], "checks": {"a": 1}})).is_empty());
    }

    #[test]
    fn the_first_map_naming_a_dependency_gives_its_state() {
        let both = json!({"details": {"redis": "down"}, "info": {"redis": "up"}});
        assert!(down(both).is_empty(), "info is read before details");
    }

    #[test]
    fn a_deep_answer_is_refused_before_parsing_and_strings_do_not_count() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(parse(deep.as_bytes()), Err(Unreadable::TooDeep));
        let fine = format!(r#"{{"status": "up", "note": "{}"}}"#, "[{".repeat(1000));
        assert!(parse(fine.as_bytes()).unwrap().is_some());
        assert_eq!(parse(b"OK").unwrap(), None);
        assert_eq!(parse(br#"{"status": "up"} trailing"#).unwrap(), None);
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
        let read = answer(body);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(read.down().len(), MAX_DEPENDENCIES);
        assert!(read.more_than_read());
        assert!(read.lists.iter().all(|l| l.len() <= MAX_DEPENDENCIES));
        let long = answer(json!({ "dependencies": { "x".repeat(10_000): "down" } }));
        assert_eq!(long.dependencies()[0].0.chars().count(), MAX_NAME_CHARS + 1);
    }
}
