//! A compose file masked structurally: parsed, the values of secret-named keys
//! and `KEY=value` items masked whole, the passwords of command lines masked,
//! every other string through the free-text redactor — and written back as
//! YAML of the same structure (comments dropped, anchors expanded, tags left).

use super::is_secret_name;
use super::values::{mask_argv, mask_assignment, mask_value};
use yaml_rust2::parser::Parser;
use yaml_rust2::{EmitError, Event, ScanError, Yaml, YamlEmitter, YamlLoader};

/// At most this many nodes once aliases are expanded (a compose file has a few thousand).
const MAX_NODES: usize = 100_000;
/// At most this deep (a compose file is rarely deeper than 8).
const MAX_DEPTH: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ComposeMaskError {
    #[error("it is not valid YAML: {0}")]
    Invalid(#[from] ScanError),
    #[error("it has more than {MAX_NODES} nodes once its aliases are expanded")]
    TooLarge,
    #[error("it is nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("it cannot be written back as YAML: {0}")]
    Emit(#[from] EmitError),
}

/// `text` (a compose file) masked, as YAML; `mask_text` masks free text
/// (known secrets, secret shapes).
pub fn mask(text: &str, mask_text: &dyn Fn(&str) -> String) -> Result<String, ComposeMaskError> {
    check_size(text)?;
    let mut documents = YamlLoader::load_from_str(text)?;
    let mut out = String::new();
    for document in &mut documents {
        mask_node(document, mask_text);
        YamlEmitter::new(&mut out).dump(document)?;
        out.push('\n');
    }
    Ok(out)
}

/// Bounds the document before it is loaded (the loader recurses into each
/// level and copies each alias): pulls the parser's events one by one,
/// counting the nodes each anchor stands for.
fn check_size(text: &str) -> Result<(), ComposeMaskError> {
    let mut parser = Parser::new_from_str(text);
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut anchors = std::collections::HashMap::new();
    let mut total = 0usize;
    loop {
        let (event, _) = parser.next_token()?;
        let mut closed = |open: &mut Vec<(usize, usize)>, count: usize| match open.last_mut() {
            Some((_, nodes)) => *nodes = nodes.saturating_add(count),
            None => total = total.saturating_add(count),
        };
        match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, 1));
                if open.len() > MAX_DEPTH {
                    return Err(ComposeMaskError::TooDeep);
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (anchor, nodes) = open.pop().unwrap_or_default();
                if anchor > 0 {
                    anchors.insert(anchor, nodes);
                }
                closed(&mut open, nodes);
            }
            Event::Scalar(_, _, anchor, _) => {
                if anchor > 0 {
                    anchors.insert(anchor, 1);
                }
                closed(&mut open, 1);
            }
            Event::Alias(anchor) => closed(&mut open, anchors.get(&anchor).copied().unwrap_or(1)),
            _ => {}
        }
        let nodes = open
            .iter()
            .map(|(_, n)| *n)
            .fold(total, usize::saturating_add);
        if nodes > MAX_NODES {
            return Err(ComposeMaskError::TooLarge);
        }
    }
}

fn mask_node(node: &mut Yaml, mask_text: &dyn Fn(&str) -> String) {
    match node {
        Yaml::Hash(map) => {
            for (key, value) in map.iter_mut() {
                if key.as_str().is_some_and(is_secret_name) && is_scalar(value) {
                    *value = Yaml::String(mask_value(&scalar_text(value)));
                } else {
                    mask_node(value, mask_text);
                }
            }
        }
        Yaml::Array(items) => mask_sequence(items, mask_text),
        Yaml::String(text) => *text = mask_string(text, mask_text),
        _ => {}
    }
}

/// A sequence: a command line's passwords (its strings read as argv), then each item.
fn mask_sequence(items: &mut [Yaml], mask_text: &dyn Fn(&str) -> String) {
    let argv: Vec<String> = items.iter().map(scalar_text).collect();
    let keep = |t: &str| t.to_string();
    for (item, masked) in items.iter_mut().zip(mask_argv(&argv, &keep)) {
        match item {
            Yaml::String(text) => *text = mask_string(&masked, mask_text),
            other if is_scalar(other) && masked != scalar_text(other) => {
                *other = Yaml::String(masked)
            }
            other => mask_node(other, mask_text),
        }
    }
}

/// A string: `KEY=value` with a secret-named key masked whole, the passwords
/// of a command line written as one string, then free text.
fn mask_string(text: &str, mask_text: &dyn Fn(&str) -> String) -> String {
    let argv = mask_argv(&[text.to_string()], &|t| t.to_string());
    mask_assignment(&argv[0], mask_text)
}

fn is_scalar(node: &Yaml) -> bool {
    matches!(
        node,
        Yaml::String(_) | Yaml::Integer(_) | Yaml::Real(_) | Yaml::Boolean(_)
    )
}

fn scalar_text(node: &Yaml) -> String {
    match node {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{Secrets, mask_shapes};

    const COMPOSE: &str = r#"# a comment with pass
x-env: &env
  DB_PASSWORD: pass
  TOKEN_TTL: 3600
services:
  auth:
    image: acme/auth:1.2
    environment:
      <<: *env
      AUTH_SERVICE_URL: http://auth:3001
      DATABASE_URL: postgres://app:pass@db:5432/app
      JWT_SECRET: ${JWT_SECRET:-dev-s3cret-value}
      REDIS_PASSWORD: ${REDIS_PASSWORD}
      API_KEY: 12345
    depends_on:
      db: {condition: service_healthy}
  redis:
    image: redis:7
    command: ["redis-server", "--requirepass", "user", "--user", "app", "on", ">k3y-9", "+@all"]
    healthcheck:
      test: redis-cli -a user ping
  worker:
    image: acme/worker
    environment:
      - METHOD=POST
      - REDIS_AUTH=user
volumes:
  auth-db-data:
"#;

    fn masked(text: &str) -> String {
        let secrets = Secrets::default();
        secrets.add("dev-s3cret-value");
        mask(text, &|t| mask_shapes(&secrets.redact(t))).unwrap()
    }

    /// The document with every string that holds a `****` replaced by `****`.
    fn shape(node: &Yaml) -> Yaml {
        match node {
            Yaml::Hash(map) => Yaml::Hash(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
            Yaml::Array(items) => Yaml::Array(items.iter().map(shape).collect()),
            Yaml::String(s) if s.contains("****") => Yaml::String("****".into()),
            other if is_scalar(other) => other.clone(),
            other => other.clone(),
        }
    }

    #[test]
    fn a_masked_compose_file_is_the_same_yaml_with_its_secrets_masked() {
        let out = masked(COMPOSE);
        let before = YamlLoader::load_from_str(COMPOSE).unwrap();
        let after = YamlLoader::load_from_str(&out).expect("still YAML");
        assert_eq!(before.len(), after.len());
        let (before, after) = (&before[0], &after[0]);
        // Same keys everywhere, same values but those masked.
        let mut expected = before.clone();
        for (path, value) in [
            (&["x-env", "DB_PASSWORD"][..], "****"),
            (
                &["services", "auth", "environment", "<<", "DB_PASSWORD"],
                "****",
            ),
            (&["services", "auth", "environment", "DATABASE_URL"], "****"),
            (&["services", "auth", "environment", "JWT_SECRET"], "****"),
            (&["services", "auth", "environment", "API_KEY"], "****"),
            (&["services", "redis", "command", "2"], "****"),
            (&["services", "redis", "command", "6"], "****"),
            (&["services", "redis", "healthcheck", "test"], "****"),
            (&["services", "worker", "environment", "1"], "****"),
        ] {
            let mut node = &mut expected;
            for key in path {
                node = match node {
                    Yaml::Hash(map) => map.get_mut(&Yaml::String(key.to_string())).unwrap(),
                    Yaml::Array(items) => &mut items[key.parse::<usize>().unwrap()],
                    _ => unreachable!(),
                };
            }
            *node = Yaml::String(value.into());
        }
        assert_eq!(shape(after), shape(&expected), "{out}");
        let environment = &after["services"]["auth"]["environment"];
        assert_eq!(
            environment["JWT_SECRET"].as_str(),
            Some("${JWT_SECRET:-****}")
        );
        assert_eq!(
            environment["REDIS_PASSWORD"].as_str(),
            Some("${REDIS_PASSWORD}")
        );
        assert_eq!(
            environment["AUTH_SERVICE_URL"].as_str(),
            Some("http://auth:3001")
        );
        assert_eq!(
            environment["DATABASE_URL"].as_str(),
            Some("postgres://app:****@db:5432/app")
        );
        assert_eq!(environment["<<"]["TOKEN_TTL"].as_i64(), Some(3600));
        let redis = &after["services"]["redis"];
        assert_eq!(
            redis["command"],
            YamlLoader::load_from_str(
                r#"["redis-server", "--requirepass", "****", "--user", "app", "on", ">****", "+@all"]"#
            )
            .unwrap()[0]
        );
        assert_eq!(
            redis["healthcheck"]["test"].as_str(),
            Some("redis-cli -a **** ping")
        );
        assert_eq!(
            after["services"]["worker"]["environment"],
            YamlLoader::load_from_str("[METHOD=POST, REDIS_AUTH=****]").unwrap()[0]
        );
        for kept in [
            "acme/auth:1.2",
            "service_healthy",
            "auth-db-data",
            "AUTH_SERVICE_URL",
        ] {
            assert!(out.contains(kept), "{kept} kept in {out}");
        }
        for secret in [
            "pass@",
            "dev-s3cret-value",
            "k3y-9",
            ": pass",
            "# a comment",
        ] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
    }

    #[test]
    fn the_bundled_stack_compose_file_masks_its_passwords_and_keeps_its_structure() {
        let text = include_str!("../../tests/stack/docker-compose.services.yml");
        let out = masked(text);
        let after = &YamlLoader::load_from_str(&out).expect("still YAML")[0];
        assert!(
            !out.contains("helpdesk-db-pass") && !out.contains("redispass"),
            "{out}"
        );
        let service = &after["services"]["user-service"];
        assert_eq!(service["image"].as_str(), Some("helpdesk-service:local"));
        assert_eq!(
            service["environment"]["AUTH_SERVICE_URL"].as_str(),
            Some("http://helpdesk-auth-service:3001")
        );
        assert_eq!(
            service["depends_on"]["user-db"]["condition"].as_str(),
            Some("service_healthy")
        );
        assert_eq!(
            after["services"]["auth-db"]["environment"]["POSTGRES_PASSWORD"].as_str(),
            Some("${HELPDESK_DB_PASSWORD:-****}")
        );
    }

    #[test]
    fn hostile_documents_are_refused_before_they_are_loaded() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let previous = format!("*a{}", level - 1);
            bomb += &format!("a{level}: &a{level} [{}]\n", vec![previous; 10].join(", "));
        }
        assert!(matches!(masked_err(&bomb), ComposeMaskError::TooLarge));
        let deep: String = (0..100)
            .map(|level| format!("{}a:\n", " ".repeat(level)))
            .collect();
        let too_deep = masked_err(&deep);
        assert!(matches!(too_deep, ComposeMaskError::TooDeep), "{too_deep}");
        assert!(matches!(masked_err("a: [b"), ComposeMaskError::Invalid(_)));
    }

    fn masked_err(text: &str) -> ComposeMaskError {
        mask(text, &|t| t.to_string()).unwrap_err()
    }
}
