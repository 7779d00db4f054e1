//! How an application's environment names the PostgreSQL or Redis server it
//! uses, in every common form: a URL (`DATABASE_URL`, `REDIS_URL`) or its parts
//! (`DB_*`, `PG*`, `POSTGRES_*`, `REDIS_*`), the password as a value or as a
//! file (`…_PASSWORD_FILE`). Parsing only: nothing here reads a file.

use std::collections::HashMap;

/// Which kind of server a configuration names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Postgres,
    Redis,
}

/// Where the password of a configuration is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    /// In a variable, or inside the URL variable `variable`.
    Value { variable: String, value: String },
    /// In the file the variable `variable` names.
    File { variable: String, path: String },
}

/// The form a configuration is written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// One URL variable (`DATABASE_URL`).
    Url(String),
    /// Separate variables, named by their host variable (`DB_HOST`).
    Parts(Vec<String>),
}

/// A server as an application's environment names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    pub form: Form,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub database: Option<String>,
    pub password: Option<Password>,
}

/// One family of part variables; each field lists the names in use for it.
struct Parts {
    host: &'static [&'static str],
    port: &'static [&'static str],
    user: &'static [&'static str],
    database: &'static [&'static str],
    password: &'static [&'static str],
}

const POSTGRES_URLS: [&str; 4] = ["DATABASE_URL", "POSTGRES_URL", "POSTGRESQL_URL", "PG_URL"];
const REDIS_URLS: [&str; 3] = ["REDIS_URL", "REDIS_URI", "CACHE_URL"];

const POSTGRES_PARTS: [Parts; 3] = [
    Parts {
        host: &["DB_HOST"],
        port: &["DB_PORT"],
        user: &["DB_USER", "DB_USERNAME"],
        database: &["DB_NAME", "DB_DATABASE"],
        password: &["DB_PASSWORD", "DB_PASS"],
    },
    Parts {
        host: &["PGHOST"],
        port: &["PGPORT"],
        user: &["PGUSER"],
        database: &["PGDATABASE"],
        password: &["PGPASSWORD"],
    },
    Parts {
        host: &["POSTGRES_HOST"],
        port: &["POSTGRES_PORT"],
        user: &["POSTGRES_USER"],
        database: &["POSTGRES_DB", "POSTGRES_DATABASE"],
        password: &["POSTGRES_PASSWORD"],
    },
];

const REDIS_PARTS: [Parts; 1] = [Parts {
    host: &["REDIS_HOST"],
    port: &["REDIS_PORT"],
    user: &["REDIS_USERNAME", "REDIS_USER"],
    database: &["REDIS_DB"],
    password: &["REDIS_PASSWORD", "REDIS_PASS"],
}];

/// The URL variables a server may be named by.
pub fn url_variables(server: Server) -> &'static [&'static str] {
    match server {
        Server::Postgres => &POSTGRES_URLS,
        Server::Redis => &REDIS_URLS,
    }
}

fn parts_of(server: Server) -> &'static [Parts] {
    match server {
        Server::Postgres => &POSTGRES_PARTS,
        Server::Redis => &REDIS_PARTS,
    }
}

/// Every configuration of `server` in `env`, the URLs first, then the parts
/// forms that name a host (a database's own `POSTGRES_*` names none).
pub fn read(env: &HashMap<String, String>, server: Server) -> Vec<ServerConfig> {
    let set = |name: &str| env.get(name).filter(|v| !v.is_empty());
    let mut found: Vec<ServerConfig> = url_variables(server)
        .iter()
        .filter_map(|variable| from_url(variable, set(variable)?, server))
        .collect();
    for parts in parts_of(server) {
        let first = |names: &[&str]| names.iter().find_map(|n| set(n).cloned());
        let Some(host) = first(parts.host) else {
            continue;
        };
        let password = parts.password.iter().find_map(|name| {
            if let Some(value) = set(name) {
                return Some(Password::Value {
                    variable: name.to_string(),
                    value: value.clone(),
                });
            }
            let variable = format!("{name}_FILE");
            set(&variable).map(|path| Password::File {
                variable: variable.clone(),
                path: path.clone(),
            })
        });
        let used: Vec<String> = [parts.host, parts.port, parts.user, parts.database]
            .iter()
            .flat_map(|names| names.iter())
            .filter(|name| set(name).is_some())
            .map(|name| name.to_string())
            .collect();
        found.push(ServerConfig {
            form: Form::Parts(used),
            host: Some(host),
            port: first(parts.port).and_then(|p| p.trim().parse().ok()),
            user: first(parts.user),
            database: first(parts.database),
            password,
        });
    }
    found
}

/// A URL of the server's scheme: host, port, user, password (percent-decoded,
/// or the `password=` of its query) and database.
fn from_url(variable: &str, value: &str, server: Server) -> Option<ServerConfig> {
    let url = reqwest::Url::parse(value.trim()).ok()?;
    let schemes: &[&str] = match server {
        Server::Postgres => &["postgres", "postgresql"],
        Server::Redis => &["redis", "rediss"],
    };
    if !schemes.contains(&url.scheme()) {
        return None;
    }
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    };
    let query = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    let password = url
        .password()
        .map(decode)
        .filter(|p| !p.is_empty())
        .or_else(|| query("password"))
        .map(|value| Password::Value {
            variable: variable.to_string(),
            value,
        });
    let user = Some(decode(url.username()))
        .filter(|u| !u.is_empty())
        .or_else(|| query("user"));
    let path = url.path().trim_start_matches('/');
    Some(ServerConfig {
        form: Form::Url(variable.to_string()),
        host: url
            .host_str()
            .filter(|h| !h.is_empty())
            .map(|h| h.trim_matches(['[', ']']).to_string()),
        port: url.port(),
        user,
        database: (!path.is_empty()).then(|| decode(path)),
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_database_url_gives_every_part_percent_decoded() {
        let found = read(
            &env(&[(
                "DATABASE_URL",
                "postgresql://app%40x:p%3Ass@acme-db:5433/tickets?sslmode=disable",
            )]),
            Server::Postgres,
        );
        assert_eq!(
            found,
            [ServerConfig {
                form: Form::Url("DATABASE_URL".into()),
                host: Some("acme-db".into()),
                port: Some(5433),
                user: Some("app@x".into()),
                database: Some("tickets".into()),
                password: Some(Password::Value {
                    variable: "DATABASE_URL".into(),
                    value: "p:ss".into()
                }),
            }]
        );
        let query = read(
            &env(&[("DATABASE_URL", "postgres://db/x?user=u&password=q")]),
            Server::Postgres,
        );
        assert_eq!(query[0].user.as_deref(), Some("u"));
        assert!(matches!(&query[0].password, Some(Password::Value { value, .. }) if value == "q"));
        let at = read(
            &env(&[("DATABASE_URL", "postgresql://user:s3cr@t@db:5432/x")]),
            Server::Postgres,
        );
        assert_eq!(at[0].host.as_deref(), Some("db"));
        assert!(
            matches!(&at[0].password, Some(Password::Value { value, .. }) if value == "s3cr@t")
        );
        // Another scheme is not a database URL.
        assert!(
            read(
                &env(&[("DATABASE_URL", "mysql://u:p@h/d")]),
                Server::Postgres
            )
            .is_empty()
        );
    }

    #[test]
    fn parts_in_each_convention_with_a_password_file() {
        let found = read(
            &env(&[
                ("DB_HOST", "db"),
                ("DB_PORT", "5432"),
                ("DB_USER", "app"),
                ("DB_NAME", "helpdesk"),
                ("DB_PASSWORD_FILE", "/run/secrets/db_password"),
            ]),
            Server::Postgres,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].host.as_deref(), Some("db"));
        assert_eq!(found[0].port, Some(5432));
        assert_eq!(found[0].user.as_deref(), Some("app"));
        assert_eq!(found[0].database.as_deref(), Some("helpdesk"));
        assert_eq!(
            found[0].password,
            Some(Password::File {
                variable: "DB_PASSWORD_FILE".into(),
                path: "/run/secrets/db_password".into()
            })
        );
        let libpq = read(
            &env(&[("PGHOST", "pg"), ("PGUSER", "u"), ("PGPASSWORD", "pw")]),
            Server::Postgres,
        );
        assert_eq!(
            libpq[0].form,
            Form::Parts(vec!["PGHOST".into(), "PGUSER".into()])
        );
        assert!(
            matches!(&libpq[0].password, Some(Password::Value { variable, .. }) if variable == "PGPASSWORD")
        );
        // A database container's own POSTGRES_* name no host: not an app's config.
        assert!(
            read(
                &env(&[("POSTGRES_USER", "u"), ("POSTGRES_PASSWORD", "pw")]),
                Server::Postgres
            )
            .is_empty()
        );
        let postgres = read(
            &env(&[("POSTGRES_HOST", "pg"), ("POSTGRES_PASSWORD", "pw")]),
            Server::Postgres,
        );
        assert_eq!(postgres[0].host.as_deref(), Some("pg"));
    }

    #[test]
    fn redis_as_a_url_with_a_user_or_as_parts() {
        let url = read(
            &env(&[("REDIS_URL", "redis://app:s3cr%2Ft@cache:6380/2")]),
            Server::Redis,
        );
        assert_eq!(url[0].user.as_deref(), Some("app"));
        assert_eq!(url[0].port, Some(6380));
        assert!(
            matches!(&url[0].password, Some(Password::Value { value, .. }) if value == "s3cr/t")
        );
        let no_user = read(&env(&[("REDIS_URL", "redis://:pw@cache")]), Server::Redis);
        assert_eq!(no_user[0].user, None);
        let parts = read(
            &env(&[
                ("REDIS_HOST", "cache"),
                ("REDIS_USERNAME", "app"),
                ("REDIS_PASSWORD_FILE", "/run/secrets/redis"),
            ]),
            Server::Redis,
        );
        assert_eq!(parts[0].user.as_deref(), Some("app"));
        assert_eq!(
            parts[0].password,
            Some(Password::File {
                variable: "REDIS_PASSWORD_FILE".into(),
                path: "/run/secrets/redis".into()
            })
        );
    }
}
