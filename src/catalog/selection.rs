//! Which checks a run takes (`--only`, `--skip`, `--service`, with every
//! check they need), and the groups and services checks fall into by id.

use super::Check;
use std::collections::HashMap;

/// Whether `id` matches a glob of `*` (any run) and `?` (one character), in linear time.
pub fn glob_match(pattern: &str, id: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(id)
}

/// What `--only`, `--skip` and `--service` ask for.
pub struct Choice<'a> {
    pub only: &'a [String],
    pub skip: &'a [String],
    pub services: &'a [String],
}

impl Choice<'_> {
    fn wants(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|p| glob_match(p, id)))
            && !self.skip.iter().any(|p| glob_match(p, id))
            && (self.services.is_empty()
                || service_of(id).is_some_and(|s| self.services.contains(&s)))
    }
}

/// The checks chosen, with every check they need (even a skipped one).
pub fn select(checks: &[Check], choice: &Choice) -> Vec<Check> {
    let chosen = |id: &str| choice.wants(id);
    let by_id: HashMap<&str, &Check> = checks.iter().map(|c| (c.def.id.as_str(), c)).collect();
    let mut keep: std::collections::HashSet<String> = Default::default();
    let mut to_visit: Vec<String> = checks
        .iter()
        .filter(|c| chosen(&c.def.id))
        .map(|c| c.def.id.clone())
        .collect();
    while let Some(id) = to_visit.pop() {
        if let Some(check) = by_id.get(id.as_str()) {
            to_visit.extend(
                check
                    .def
                    .needs
                    .iter()
                    .filter(|n| !keep.contains(*n))
                    .cloned(),
            );
        }
        keep.insert(id);
    }
    checks
        .iter()
        .filter(|c| keep.contains(&c.def.id))
        .cloned()
        .collect()
}

/// Checks matching `--skip` that run anyway because a chosen check needs them:
/// `(skipped, the check that needs it)`.
pub fn skipped_but_needed(checks: &[Check], skip: &[String]) -> Vec<(String, String)> {
    let skipped = |id: &str| skip.iter().any(|p| glob_match(p, id));
    let mut found = Vec::new();
    for check in checks.iter().filter(|c| !skipped(&c.def.id)) {
        for need in check.def.needs.iter().filter(|n| skipped(n)) {
            if !found.iter().any(|(s, _): &(String, String)| s == need) {
                found.push((need.clone(), check.def.id.clone()));
            }
        }
    }
    found
}

/// "; did you mean …?" with the ids and groups nearest to the `--only`
/// patterns, or nothing when none is near.
pub fn suggest(checks: &[Check], only: &[String]) -> String {
    let mut names: Vec<String> = checks.iter().map(|c| c.def.id.clone()).collect();
    names.extend(
        checks
            .iter()
            .map(|c| format!("{}.*", c.def.id.split('.').next().unwrap_or(""))),
    );
    names.sort();
    names.dedup();
    let mut scored: Vec<(f64, &String)> = only
        .iter()
        .flat_map(|pattern| {
            let wanted = pattern.trim_end_matches('*').trim_end_matches('.');
            names.iter().map(move |name| {
                (
                    strsim::jaro_winkler(wanted, name.trim_end_matches(".*")),
                    name,
                )
            })
        })
        .filter(|(score, _)| *score > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut nearest: Vec<&str> = Vec::new();
    for (_, name) in scored {
        if !nearest.contains(&name.as_str()) && nearest.len() < 3 {
            nearest.push(name);
        }
    }
    if nearest.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", nearest.join(", "))
    }
}

/// `docker.engine` → docker, `host.disk` → host, `backup.latest` → backup, `postgres.auth.connect` →
/// auth, `env.ticket-2` → ticket: the service is the id's second segment
/// without a replica suffix; a one-segment id is its own group.
pub fn group_of(id: &str) -> String {
    let mut segments = id.split('.');
    let first = segments.next().unwrap_or(id);
    match (first, segments.next()) {
        ("docker" | "host" | "backup", _) | (_, None) => first.to_string(),
        (_, Some(second)) => second
            .split_once('-')
            .filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()))
            .map_or(second, |(service, _)| service)
            .to_string(),
    }
}

/// The service a check is about (`None` for docker, host and custom checks).
pub fn service_of(id: &str) -> Option<String> {
    let group = group_of(id);
    let first = id.split('.').next().unwrap_or(id);
    (group != first && id.contains('.')).then_some(group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::load;
    use crate::deployment::Deployment;

    #[test]
    fn globs() {
        assert!(glob_match("postgres.*", "postgres.ticket.connect"));
        assert!(glob_match("*.ticket.?b", "port.ticket.db"));
        assert!(!glob_match("redis.*", "postgres.ticket.connect"));
    }

    #[test]
    fn selection_keeps_the_gates_a_check_needs() {
        let checks = load(&Deployment::default(), &[]).unwrap();
        let only = ["postgres.user.tables".to_string()];
        let skip = ["port.*".to_string()];
        let choice = Choice {
            only: &only,
            skip: &skip,
            services: &[],
        };
        let selected = select(&checks, &choice);
        let ids: Vec<&str> = selected.iter().map(|c| c.def.id.as_str()).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert!(ids.contains(&"postgres.user.connect") && ids.contains(&"port.user.db"));
        assert_eq!(
            skipped_but_needed(&selected, &skip),
            [(
                "port.user.db".to_string(),
                "postgres.user.connect".to_string()
            )]
        );
        let services = ["ticket".to_string()];
        let ticket_only = select(
            &checks,
            &Choice {
                only: &[],
                skip: &[],
                services: &services,
            },
        );
        assert!(ticket_only.iter().all(|c| {
            let service = service_of(&c.def.id);
            service.as_deref() == Some("ticket") || c.def.id == "docker.engine"
        }));
        assert!(suggest(&checks, &["postgress.*".to_string()]).contains("postgres.*"));
    }

    #[test]
    fn ids_fall_into_their_service_docker_host_or_own_group() {
        assert_eq!(group_of("docker.engine"), "docker");
        assert_eq!(group_of("host.disk"), "host");
        assert_eq!(group_of("postgres.auth.connect"), "auth");
        assert_eq!(group_of("container.ticket.service-2.logging"), "ticket");
        assert_eq!(group_of("env.ticket-2"), "ticket");
        assert_eq!(group_of("container.ticket-2.dns"), "ticket");
        assert_eq!(group_of("custom"), "custom");
        assert_eq!(group_of("billing.api-v2"), "api-v2");
    }

    #[test]
    fn the_service_of_a_check_is_named_by_its_id() {
        assert_eq!(service_of("postgres.auth.connect").as_deref(), Some("auth"));
        assert_eq!(service_of("docker.engine"), None);
        assert_eq!(service_of("custom"), None);
    }
}
