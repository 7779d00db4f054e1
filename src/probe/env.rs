//! The environment of a service container: the variables the guide inspects,
//! present and well-formed, in the form this service uses (a database or
//! Redis URL the guide names may be given as its parts: `DB_HOST`, `DB_USER`,
//! …). Values are never printed; every one becomes a secret.

use super::Context;
use crate::check::Outcome;
use crate::deployment::app_config::{self, Form, Password, Server};
use crate::deployment::containers as docker;
use crate::deployment::{container_file, credentials};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The shape a variable must have.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A secret of at least 16 characters.
    Secret,
    /// `15m`, `7d`, `7 days`, `1w`, `3600` … (`super::duration`)
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
    let mut forms = Vec::new();
    for (name, format) in vars {
        match env.get(name) {
            None => match other_form(&env, *format) {
                Some(Found::WellFormed(form)) => forms.push(format!("{name} as {form}")),
                Some(Found::Problem(why)) => problems.push(format!("{name} {why}")),
                None => match as_file(ctx, container, &env, name, *format).await {
                    Some(Found::WellFormed(form)) => forms.push(form),
                    Some(Found::Problem(why)) => problems.push(why),
                    None => problems.push(format!("{name} is missing")),
                },
            },
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
        let how = if forms.is_empty() {
            String::new()
        } else {
            format!(" ({})", forms.join("; "))
        };
        Outcome::pass(format!(
            "{} variables present and well-formed{how}",
            vars.len()
        ))
        .detail("checked", checked)
        .detail("forms", forms)
    } else {
        Outcome::fail(problems.join("; "))
            .detail("checked", checked)
            .detail("problems", problems)
    }
}

/// How a variable the guide names was found in a form other than itself:
/// well-formed (the form, in words), or the problem (never quoting a value).
#[derive(Debug, PartialEq)]
enum Found {
    WellFormed(String),
    Problem(String),
}

/// A variable given as a file (`NAME_FILE`, the Docker secrets convention):
/// the file read in the container as its application reads it (a trailing
/// newline is not part of the value), then checked. `None` when there is no
/// `NAME_FILE` either.
async fn as_file(
    ctx: &Context,
    container: &str,
    env: &HashMap<String, String>,
    name: &str,
    format: Format,
) -> Option<Found> {
    let variable = format!("{name}_FILE");
    let path = env.get(&variable).filter(|p| !p.is_empty())?;
    let value = match container_file::read(ctx, container, path).await {
        Ok(text) => credentials::trim_newline(&text),
        Err(e) => {
            return Some(Found::Problem(format!(
                "{variable} names {path}, which cannot be read ({e})"
            )));
        }
    };
    if matches!(format, Format::Secret) {
        ctx.secrets.add(&value);
    }
    Some(match validate(format, &value) {
        Ok(()) => Found::WellFormed(format!("{name} as the file {variable} names")),
        Err(why) => Found::Problem(format!("{name} (the file {variable} names) {why}")),
    })
}

/// Why `value` does not have `format` (never quoting the value).
fn validate(format: Format, value: &str) -> Result<(), &'static str> {
    let ok = match format {
        Format::Secret => value.len() >= 16,
        Format::Duration => super::duration::parse(value).is_some(),
        Format::PostgresUrl => has_scheme(value, &["postgres", "postgresql"]),
        Format::RedisUrl => has_scheme(value, &["redis", "rediss"]),
        Format::HttpUrl => has_scheme(value, &["http", "https"]),
        Format::Origins => {
            value == "*"
                || value
                    .split(',')
                    .all(|o| has_scheme(o.trim(), &["http", "https"]))
        }
        // Node's loggers' names and Python's (`INFO`, `WARNING`, `CRITICAL`), in any case.
        Format::LogLevel => [
            "error", "warn", "warning", "info", "http", "verbose", "debug", "silly", "trace",
            "notice", "critical", "fatal",
        ]
        .contains(&value.to_ascii_lowercase().as_str()),
        Format::Any => true,
    };
    if ok {
        return Ok(());
    }
    Err(match format {
        Format::Secret => "is shorter than 16 characters",
        Format::Duration => "is not a duration like 15m, 7d, 7 days, 1w or 3600",
        Format::PostgresUrl => "is not a postgresql://user:password@host:port/db URL",
        Format::RedisUrl => "is not a redis:// URL",
        Format::HttpUrl => "is not an http(s):// URL",
        Format::Origins => "is not * or a comma-separated list of http(s) origins",
        Format::LogLevel => "is not a log level (error, warn, info, debug …)",
        Format::Any => "is empty",
    })
}

/// The server a URL format names, for its other forms.
fn server_of(format: Format) -> Option<Server> {
    match format {
        Format::PostgresUrl => Some(Server::Postgres),
        Format::RedisUrl => Some(Server::Redis),
        _ => None,
    }
}

/// A database or Redis URL the guide names, in the other form this service
/// uses: another URL variable, or the parts (host, user, password, database).
/// `None` when the service uses neither.
fn other_form(env: &HashMap<String, String>, format: Format) -> Option<Found> {
    let server = server_of(format)?;
    let config = app_config::read(env, server).into_iter().next()?;
    let form = match &config.form {
        Form::Url(variable) => {
            return Some(match validate(format, &env[variable]) {
                Ok(()) => Found::WellFormed(variable.clone()),
                Err(why) => Found::Problem(format!("is given as {variable}, which {why}")),
            });
        }
        Form::Parts(used) => used.join(", "),
    };
    let mut missing = Vec::new();
    if config.user.is_none() && server == Server::Postgres {
        missing.push("a user");
    }
    if config.database.is_none() && server == Server::Postgres {
        missing.push("a database name");
    }
    if config.password.is_none() && server == Server::Postgres {
        missing.push("a password");
    }
    let password = match &config.password {
        Some(Password::Value { variable, .. } | Password::File { variable, .. }) => {
            format!(", {variable}")
        }
        None => String::new(),
    };
    if missing.is_empty() {
        Some(Found::WellFormed(format!("its parts ({form}{password})")))
    } else {
        Some(Found::Problem(format!(
            "is given as its parts ({form}{password}) without {}",
            missing.join(", ")
        )))
    }
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
        for level in ["info", "INFO", "WARNING", "critical", "Debug"] {
            assert!(validate(Format::LogLevel, level).is_ok(), "{level}");
        }
        assert!(validate(Format::LogLevel, "loud").is_err());
        for duration in ["7 days", "1w", "3600", "1h30m"] {
            assert!(validate(Format::Duration, duration).is_ok(), "{duration}");
        }
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_url_the_guide_names_may_be_given_as_its_parts() {
        let parts = env(&[
            ("DB_HOST", "db"),
            ("DB_USER", "app"),
            ("DB_NAME", "helpdesk"),
            ("DB_PASSWORD_FILE", "/run/secrets/db"),
        ]);
        assert_eq!(
            other_form(&parts, Format::PostgresUrl),
            Some(Found::WellFormed(
                "its parts (DB_HOST, DB_USER, DB_NAME, DB_PASSWORD_FILE)".into()
            ))
        );
        let incomplete = env(&[("PGHOST", "db"), ("PGUSER", "app")]);
        assert_eq!(
            other_form(&incomplete, Format::PostgresUrl),
            Some(Found::Problem(
                "is given as its parts (PGHOST, PGUSER) without a database name, a password".into()
            ))
        );
        let redis = env(&[("REDIS_HOST", "cache"), ("REDIS_USERNAME", "app")]);
        assert!(matches!(
            other_form(&redis, Format::RedisUrl),
            Some(Found::WellFormed(_))
        ));
        let other_url = env(&[("POSTGRES_URL", "postgres://u:p@db/x")]);
        assert_eq!(
            other_form(&other_url, Format::PostgresUrl),
            Some(Found::WellFormed("POSTGRES_URL".into()))
        );
        // Neither form: missing. And a variable that is no server's has no other form.
        assert_eq!(other_form(&env(&[]), Format::PostgresUrl), None);
        assert_eq!(other_form(&parts, Format::HttpUrl), None);
    }
}
