//! The environment of a service container: the variables the guide inspects,
//! present and well-formed. Values are never printed; every one becomes a secret.

use super::Context;
use crate::check::Outcome;
use crate::deployment::containers as docker;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The shape a variable must have.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A secret of at least 16 characters.
    Secret,
    /// `15m`, `7d`, `3600` …
    Duration,
    PostgresUrl,
    RedisUrl,
    HttpUrl,
    /// `*` or comma-separated http(s) origins.
    Origins,
    LogLevel,
    /// Present and not empty.
    Any,
}

pub async fn check(ctx: &Context, container: &str, vars: &BTreeMap<String, Format>) -> Outcome {
    let env = match docker::environment(ctx, container).await {
        Ok(Some(env)) => env,
        Ok(None) => return Outcome::fail(format!("container {container} does not exist")),
        Err(e) => return Outcome::from(e),
    };
    ctx.secrets.add_from_environment(&env);
    let mut problems = Vec::new();
    for (name, format) in vars {
        match env.get(name) {
            None => problems.push(format!("{name} is missing")),
            Some(value) if value.is_empty() => problems.push(format!("{name} is empty")),
            Some(value) => {
                if let Err(why) = validate(*format, value) {
                    problems.push(format!("{name} {why}"));
                }
            }
        }
    }
    let checked: Vec<&String> = vars.keys().collect();
    if problems.is_empty() {
        Outcome::pass(format!("{} variables present and well-formed", vars.len()))
            .detail("checked", checked)
    } else {
        Outcome::fail(problems.join("; "))
            .detail("checked", checked)
            .detail("problems", problems)
    }
}

/// Why `value` does not have `format` (never quoting the value).
fn validate(format: Format, value: &str) -> Result<(), &'static str> {
    let ok = match format {
        Format::Secret => value.len() >= 16,
        Format::Duration => {
            let digits = value.trim_end_matches(['s', 'm', 'h', 'd']);
            !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
                && value.len() - digits.len() <= 1
        }
        Format::PostgresUrl => has_scheme(value, &["postgres", "postgresql"]),
        Format::RedisUrl => has_scheme(value, &["redis", "rediss"]),
        Format::HttpUrl => has_scheme(value, &["http", "https"]),
        Format::Origins => {
            value == "*"
                || value
                    .split(',')
                    .all(|o| has_scheme(o.trim(), &["http", "https"]))
        }
        Format::LogLevel => [
            "error", "warn", "info", "http", "verbose", "debug", "silly", "trace",
        ]
        .contains(&value),
        Format::Any => true,
    };
    if ok {
        return Ok(());
    }
    Err(match format {
        Format::Secret => "is shorter than 16 characters",
        Format::Duration => "is not a duration like 15m or 7d",
        Format::PostgresUrl => "is not a postgresql://user:password@host:port/db URL",
        Format::RedisUrl => "is not a redis:// URL",
        Format::HttpUrl => "is not an http(s):// URL",
        Format::Origins => "is not * or a comma-separated list of http(s) origins",
        Format::LogLevel => "is not a log level (error, warn, info, debug …)",
        Format::Any => "is empty",
    })
}

fn has_scheme(value: &str, schemes: &[&str]) -> bool {
    value
        .split_once("://")
        .is_some_and(|(scheme, rest)| schemes.contains(&scheme) && !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(validate(Format::Duration, "15m").is_ok());
        assert!(validate(Format::Duration, "7d").is_ok());
        assert!(validate(Format::Duration, "soon").is_err());
        assert!(validate(Format::PostgresUrl, "postgresql://u:p@h:5432/d").is_ok());
        assert!(validate(Format::PostgresUrl, "mysql://u@h/d").is_err());
        assert!(validate(Format::Origins, "http://a:3000, https://b").is_ok());
        assert!(validate(Format::Secret, "short").is_err());
    }
}
