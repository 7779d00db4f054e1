//! The check catalog: `checks/*.toml` embedded at build time plus the user's
//! `--checks-dir`, parsed, expanded per service or container, and validated.

use crate::deployment::Deployment;
use crate::duration_rule::{self, DurationError};
use crate::error::Error;
use crate::probe::Probe;
use crate::profile::Role;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod graph;
mod selection;

pub use selection::{
    Choice, glob_match, group_of, select, service_of, skipped_but_needed, suggest,
};

/// Limits on what a user's catalog may ask (hostile input is bounded).
const MAX_FILES: usize = 1000;
const MAX_FILE_BYTES: u64 = 1 << 20;
const MAX_CHECKS: usize = 20_000;

/// The built-in catalog, compiled into the binary so it runs anywhere.
const BUILTIN: &[(&str, &str)] = &[
    ("checks/docker.toml", include_str!("../checks/docker.toml")),
    (
        "checks/containers.toml",
        include_str!("../checks/containers.toml"),
    ),
    ("checks/env.toml", include_str!("../checks/env.toml")),
    ("checks/ports.toml", include_str!("../checks/ports.toml")),
    ("checks/host.toml", include_str!("../checks/host.toml")),
    ("checks/http.toml", include_str!("../checks/http.toml")),
    (
        "checks/postgres.toml",
        include_str!("../checks/postgres.toml"),
    ),
    ("checks/redis.toml", include_str!("../checks/redis.toml")),
    ("checks/logs.toml", include_str!("../checks/logs.toml")),
    (
        "checks/backups.toml",
        include_str!("../checks/backups.toml"),
    ),
    ("checks/swarm.toml", include_str!("../checks/swarm.toml")),
];

/// One check as written in a catalog file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    pub id: String,
    pub title: String,
    /// Repeat this definition for every `service` or every `container` of the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<ForEach>,
    /// With `for_each`: only these services (default: all of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// With `for_each = "container"`: only the containers of these roles
    /// (`service`, `db`, `redis`; default: all of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    /// Only on this runtime (`swarm`: a Swarm stack's own checks); default: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<crate::deployment::runtime::Named>,
    /// Gates: when one of these does not pass, this check is skipped.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Checks whose failure explains this one's (named as its root cause).
    #[serde(default)]
    pub causes: Vec<String>,
    /// The fix shown next to a warning or failure.
    pub hint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    pub probe: Probe,
    /// The safe repair `helpdesk-doctor fix` may run when this check fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<crate::repair::Repair>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForEach {
    Service,
    Container,
}

/// A check ready to run: expanded, with the file it came from.
#[derive(Clone, Debug)]
pub struct Check {
    pub def: CheckDef,
    pub source: String,
    /// The line of its definition's `id`.
    pub line: usize,
}

/// Loads the built-in catalog and every `*.toml` of `dirs` (a user check with a
/// built-in's id replaces it), expanded for `profile`. All errors are reported at once.
pub fn load(profile: &Deployment, dirs: &[PathBuf]) -> Result<Vec<Check>, Error> {
    let mut sources: Vec<(String, String)> = BUILTIN
        .iter()
        .map(|(path, text)| (path.to_string(), text.to_string()))
        .collect();
    for dir in dirs {
        sources.extend(read_dir(dir)?);
    }
    let mut errors = Vec::new();
    let mut checks: Vec<Check> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (path, text) in &sources {
        match parse_file(profile, path, text) {
            Ok(expanded) => {
                for check in expanded {
                    match index.get(&check.def.id) {
                        Some(&i) if checks[i].source == check.source => errors.push(format!(
                            "{path}:{}: duplicate check id {:?} (also at line {})",
                            check.line, check.def.id, checks[i].line
                        )),
                        Some(&i) => checks[i] = check,
                        None => {
                            index.insert(check.def.id.clone(), checks.len());
                            checks.push(check);
                        }
                    }
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    let checks = drop_absent_services(profile, checks);
    if checks.len() > MAX_CHECKS {
        return Err(Error::Catalog(format!(
            "{} checks: at most {MAX_CHECKS} are accepted",
            checks.len()
        )));
    }
    errors.extend(graph::check_references(&checks));
    if errors.is_empty() {
        Ok(checks)
    } else {
        Err(Error::Catalog(errors.join("\n")))
    }
}

/// The `*.toml` files of `dir`: regular files only (a FIFO or a device never
/// blocks the load), each at most `MAX_FILE_BYTES`, at most `MAX_FILES` of them.
fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, Error> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::Catalog(format!("{}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    if paths.len() > MAX_FILES {
        return Err(Error::Catalog(format!(
            "{}: more than {MAX_FILES} check files",
            dir.display()
        )));
    }
    paths.sort();
    paths.into_iter().map(|p| read_check_file(&p)).collect()
}

fn read_check_file(path: &Path) -> Result<(String, String), Error> {
    crate::files::read_named(path, MAX_FILE_BYTES)
        .map(|text| (path.display().to_string(), text))
        .map_err(|e| Error::Catalog(format!("{}: {e}", path.display())))
}

/// Parses one file and expands its checks; every error names the file and line.
/// Values are templates until expanded, so each check is typed after expansion.
pub fn parse_file(profile: &Deployment, path: &str, text: &str) -> Result<Vec<Check>, Vec<String>> {
    let mut document: toml::Table = toml::from_str(text)
        .map_err(|e| vec![crate::toml_error::describe(Path::new(path), text, &e)])?;
    let raw_checks = match document.remove("check") {
        None => vec![],
        Some(toml::Value::Array(items)) => items,
        Some(_) => {
            return Err(vec![format!(
                "{path}:{}: `check` must be an array of tables ([[check]])",
                line_of(text, "check")
            )]);
        }
    };
    if let Some(key) = document.keys().next() {
        return Err(vec![format!(
            "{path}:{}: unknown top-level key `{key}` (expected [[check]] tables)",
            line_of(text, key)
        )]);
    }
    let mut checks = Vec::new();
    let mut errors = Vec::new();
    // Checks appear in file order: each one's id is searched after the previous one's.
    // Lines are counted from the previous check on: linear in the file's size.
    let mut cursor = 0;
    let (mut counted_to, mut line) = (0, 1);
    for raw in raw_checks {
        let id = raw
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let found = text[cursor..]
            .find(&format!("\"{id}\""))
            .filter(|_| !id.is_empty());
        let offset = found.map(|at| cursor + at).unwrap_or(cursor);
        line += text[counted_to..offset].matches('\n').count();
        counted_to = offset;
        cursor = offset + id.len();
        match expand_all(profile, &raw) {
            Ok(defs) => checks.extend(defs.into_iter().map(|def| Check {
                def,
                source: path.to_string(),
                line,
            })),
            Err(Problem::UnknownVariable(name, known)) => errors.push(format!(
                "{path}:{}: unknown variable {{{name}}} in check {id:?} (known: {known})",
                line_of(&text[offset..], &format!("{{{name}}}")) + line - 1
            )),
            Err(Problem::Shape(message)) => {
                let at = field_named_in(&message)
                    .map(|f| line_of(&text[offset..], &format!("{f} =")) + line - 1);
                errors.push(format!(
                    "{path}:{}: check {id:?}: {message}",
                    at.unwrap_or(line)
                ))
            }
        }
    }
    if errors.is_empty() {
        Ok(checks)
    } else {
        Err(errors)
    }
}

enum Problem {
    UnknownVariable(String, String),
    Shape(String),
}

/// Expands one raw `[[check]]` table for each instance of its `for_each`, then types it.
fn expand_all(profile: &Deployment, raw: &toml::Value) -> Result<Vec<CheckDef>, Problem> {
    let for_each: Option<ForEach> =
        match raw.get("for_each") {
            None => None,
            Some(v) => Some(v.clone().try_into().map_err(|e: toml::de::Error| {
                Problem::Shape(format!("for_each: {}", e.message()))
            })?),
        };
    let runtime: Option<crate::deployment::runtime::Named> =
        match raw.get("runtime") {
            None => None,
            Some(v) => Some(v.clone().try_into().map_err(|e: toml::de::Error| {
                Problem::Shape(format!("runtime: {}", e.message()))
            })?),
        };
    if runtime.is_some_and(|r| !crate::deployment::runtime::same(r.0, profile.runtime)) {
        return Ok(Vec::new());
    }
    let services = string_list(raw, "services");
    let roles: Vec<Role> = match raw.get("roles") {
        None => Vec::new(),
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| Problem::Shape(format!("roles: {}", e.message())))?,
    };
    let of_role = |vars: &BTreeMap<String, String>| {
        roles.is_empty()
            || vars
                .get("role")
                .is_some_and(|v| roles.iter().any(|r| r.as_str() == v))
    };
    let wanted = |vars: &BTreeMap<String, String>| {
        (services.is_empty() || vars.get("service").is_some_and(|v| services.contains(v)))
            && of_role(vars)
    };
    let mut defs = Vec::new();
    for vars in instances(profile, for_each).into_iter().filter(wanted) {
        let mut value = raw.clone();
        substitute(&mut value, &vars).map_err(|UnknownVariable(name)| {
            Problem::UnknownVariable(name, vars.keys().cloned().collect::<Vec<_>>().join(", "))
        })?;
        let def: CheckDef = value
            .try_into()
            .map_err(|e: toml::de::Error| Problem::Shape(e.message().trim().to_string()))?;
        check_values(&def).map_err(|e| Problem::Shape(e.to_string()))?;
        defs.push(def);
    }
    Ok(defs)
}

/// A value a check file's types accept but the doctor does not.
#[derive(Debug, thiserror::Error)]
enum ValueError {
    #[error("`compose_service`: {0}")]
    ComposeName(#[from] crate::compose_name::InvalidName),
    #[error("`{field}`: {source}")]
    Duration {
        field: &'static str,
        #[source]
        source: DurationError,
    },
    #[error("`warn_percent` ({warn}) must be more than 0 and at most `fail_percent` ({fail})")]
    Percents { warn: f64, fail: f64 },
}

/// What the types cannot say: a compose service reaches `docker compose`, so
/// it must be a compose name; every duration is bounded as the flags' are.
fn check_values(def: &CheckDef) -> Result<(), ValueError> {
    let within = |field: &'static str, duration: Duration| {
        duration_rule::check(duration).map_err(|source| ValueError::Duration { field, source })
    };
    match &def.probe {
        Probe::Container {
            compose_service,
            restart_window_seconds,
            ..
        } => {
            crate::compose_name::check(compose_service)?;
            within(
                "restart_window_seconds",
                Duration::from_secs(*restart_window_seconds),
            )?;
        }
        Probe::SwarmService { compose_service } => {
            crate::compose_name::check(compose_service)?;
        }
        Probe::ContainerLogs { window_minutes, .. }
        | Probe::RedisSlowlog { window_minutes, .. } => {
            duration_rule::check_minutes(*window_minutes).map_err(|source| {
                ValueError::Duration {
                    field: "window_minutes",
                    source,
                }
            })?;
        }
        Probe::PostgresLockWaits { wait_seconds, .. } => {
            within("wait_seconds", Duration::from_secs(*wait_seconds))?;
        }
        Probe::PostgresTransactions { max_seconds, .. } => {
            within("max_seconds", Duration::from_secs(*max_seconds))?;
        }
        Probe::BackupAge { max_age_seconds } => {
            within("max_age_seconds", Duration::from_secs(*max_age_seconds))?;
        }
        Probe::PostgresConnections {
            warn_percent,
            fail_percent,
            ..
        } if !(0.0 < *warn_percent && warn_percent <= fail_percent) => {
            return Err(ValueError::Percents {
                warn: *warn_percent,
                fail: *fail_percent,
            });
        }
        _ => {}
    }
    if let Some(ms) = def.timeout_ms {
        within("timeout_ms", Duration::from_millis(ms))?;
    }
    Ok(())
}

/// A raw table's list of strings under `key` (empty when absent).
fn string_list(raw: &toml::Value, key: &str) -> Vec<String> {
    raw.get(key)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The field a serde message is about (`unknown field `x``, `missing field `x``).
fn field_named_in(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(&message[start..end])
}

/// The variable sets a definition is expanded with.
fn instances(profile: &Deployment, for_each: Option<ForEach>) -> Vec<BTreeMap<String, String>> {
    let with_profile = |mut vars: BTreeMap<String, String>| {
        vars.extend(profile.vars());
        if vars.get("app_host").is_some_and(String::is_empty) {
            vars.insert("app_host".into(), profile.host.clone());
        }
        vars
    };
    match for_each {
        None => vec![profile.vars()],
        Some(ForEach::Service) => profile
            .services
            .iter()
            .map(|s| with_profile(s.vars()))
            .collect(),
        Some(ForEach::Container) => profile
            .services
            .iter()
            .flat_map(|s| {
                Role::ALL
                    .into_iter()
                    .flat_map(move |role| s.container_vars(role))
            })
            .map(with_profile)
            .collect(),
    }
}

/// A `{name}` that no variable of the check's instance names.
#[derive(Debug, PartialEq)]
struct UnknownVariable(String);

/// Substitutes `{var}` in every string. A string that is exactly one variable
/// takes the variable's type (`port = "{db_port}"` becomes a number).
fn substitute(
    value: &mut toml::Value,
    vars: &BTreeMap<String, String>,
) -> Result<(), UnknownVariable> {
    match value {
        toml::Value::String(s) => {
            let replaced = substitute_str(s, vars)?;
            let whole_variable =
                s.starts_with('{') && s.ends_with('}') && s.matches('{').count() == 1;
            *value = match (
                whole_variable,
                replaced.parse::<i64>(),
                replaced.parse::<f64>(),
            ) {
                (true, Ok(n), _) => toml::Value::Integer(n),
                (true, _, Ok(x)) => toml::Value::Float(x),
                _ => toml::Value::String(replaced),
            };
        }
        toml::Value::Array(items) => items.iter_mut().try_for_each(|v| substitute(v, vars))?,
        toml::Value::Table(table) => table
            .iter_mut()
            .try_for_each(|(_, v)| substitute(v, vars))?,
        _ => {}
    }
    Ok(())
}

/// Replaces `{name}` (lowercase letters and `_`) by its value; other braces are kept.
fn substitute_str(text: &str, vars: &BTreeMap<String, String>) -> Result<String, UnknownVariable> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            let name = &after[..name_len];
            out.push_str(
                vars.get(name)
                    .ok_or_else(|| UnknownVariable(name.to_string()))?,
            );
            rest = &after[name_len + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Without the checks about services the profile does not have (a deployment
/// listing only some services): those whose probe names an absent service, then
/// every check that needs one of them; `causes` naming them are dropped too.
fn drop_absent_services(profile: &Deployment, checks: Vec<Check>) -> Vec<Check> {
    let mut dropped: std::collections::HashSet<String> = checks
        .iter()
        .filter(|c| {
            c.def
                .probe
                .service()
                .is_some_and(|s| profile.service(s).is_none())
        })
        .map(|c| c.def.id.clone())
        .collect();
    if dropped.is_empty() {
        return checks;
    }
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for check in &checks {
        for need in &check.def.needs {
            dependents.entry(need).or_default().push(&check.def.id);
        }
    }
    let mut to_visit: Vec<String> = dropped.iter().cloned().collect();
    while let Some(id) = to_visit.pop() {
        for dependent in dependents.get(id.as_str()).into_iter().flatten() {
            if dropped.insert(dependent.to_string()) {
                to_visit.push(dependent.to_string());
            }
        }
    }
    checks
        .into_iter()
        .filter(|c| !dropped.contains(&c.def.id))
        .map(|mut c| {
            c.def.causes.retain(|cause| !dropped.contains(cause));
            c
        })
        .collect()
}

/// The 1-based line of the first occurrence of `needle` in `text` (1 if absent).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map(|at| text[..at].matches('\n').count() + 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("service".to_string(), "ticket".to_string()),
            ("db_port".to_string(), "5403".to_string()),
        ])
    }

    #[test]
    fn substitutes_known_variables_and_keeps_other_braces() {
        assert_eq!(
            substitute_str("port.{service}.db:{db_port}", &vars()).unwrap(),
            "port.ticket.db:5403"
        );
        assert_eq!(
            substitute_str("json {} and {\"a\": 1}", &vars()).unwrap(),
            "json {} and {\"a\": 1}"
        );
        assert_eq!(
            substitute_str("{nope}", &vars()),
            Err(UnknownVariable("nope".to_string()))
        );
    }

    #[test]
    fn a_whole_variable_takes_its_type() {
        let mut value = toml::Value::String("{db_port}".into());
        substitute(&mut value, &vars()).unwrap();
        assert_eq!(value, toml::Value::Integer(5403));
        let mut value = toml::Value::String("port {db_port}".into());
        substitute(&mut value, &vars()).unwrap();
        assert_eq!(value, toml::Value::String("port 5403".into()));
    }

    #[test]
    fn the_builtin_catalog_loads_for_the_default_profile() {
        let checks = load(&Deployment::default(), &[]).unwrap();
        let ids: Vec<&str> = checks.iter().map(|c| c.def.id.as_str()).collect();
        for id in [
            "docker.engine",
            "container.ticket.db",
            "port.auth.redis",
            "postgres.ticket.slow_queries",
            "env.auth",
        ] {
            assert!(ids.contains(&id), "{id}");
        }
        assert_eq!(ids.iter().filter(|id| id.starts_with("port.")).count(), 9);
    }

    #[test]
    fn a_roles_filter_is_typed_once_and_a_wrong_role_is_named() {
        let file = |roles: &str| {
            format!(
                "[[check]]\nid = \"rotated.{{service}}.{{instance}}\"\ntitle = \"t\"\n\
                 for_each = \"container\"\nroles = {roles}\nhint = \"h\"\n\
                 probe = {{ kind = \"container_logging\", container = \"{{container}}\" }}\n"
            )
        };
        let profile = Deployment::default();
        let checks = parse_file(&profile, "mine.toml", &file("[\"db\"]")).unwrap();
        let ids: Vec<&str> = checks.iter().map(|c| c.def.id.as_str()).collect();
        assert_eq!(
            ids,
            ["rotated.auth.db", "rotated.user.db", "rotated.ticket.db"]
        );
        let wrong = parse_file(&profile, "mine.toml", &file("[\"dbx\"]")).unwrap_err();
        let said = wrong.join("\n");
        assert!(said.contains("mine.toml"), "{said}");
        assert!(said.contains("roles"), "{said}");
        assert!(said.contains("dbx") && said.contains("`redis`"), "{said}");
    }
}
