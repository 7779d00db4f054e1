//! Where a deployment keeps its credentials, looked up in a fixed order: the
//! doctor's own variables and files, libpq's and redis-cli's conventions, the
//! configuration of the application that points at the server (a URL or its
//! parts, a password file), the database container's variables and secret
//! files, the Redis command line (`--requirepass`, `--user` ACL rules) and
//! config file (read through the engine). The value is registered with the
//! redactor and never printed; its source is.

use super::app_config::Server;
use super::containers as docker;
use super::{Context, app_credentials, container_file, redis_acl};
use crate::profile::{Role, Service};
use std::fmt;
use std::path::PathBuf;

/// Secret files are small; anything larger is not one.
const MAX_SECRET_FILE: usize = container_file::MAX_FILE;

/// Where a credential was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `HELPDESK_…`, `PGPASSWORD`, `REDISCLI_AUTH`.
    Variable(String),
    /// The file a `…_FILE` variable names, or a `.pgpass` file.
    File(PathBuf),
    /// A password inside a URL variable of a container (`DATABASE_URL`, `REDIS_URL`).
    ContainerUrl { container: String, variable: String },
    /// A container's own variable (`POSTGRES_PASSWORD`).
    ContainerVariable { container: String, variable: String },
    /// A file inside a container, named by a variable (`POSTGRES_PASSWORD_FILE`).
    ContainerFile {
        container: String,
        variable: String,
        path: String,
    },
    /// `--requirepass` on a container's command line.
    CommandLine { container: String },
    /// A `--user NAME … >password` ACL rule on a container's command line.
    AclRule { container: String, user: String },
    /// `requirepass` in the config file a container's command line names.
    ConfigFile { container: String, path: String },
    /// Looked everywhere: none.
    Nowhere,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Variable(name) => write!(f, "${name}"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::ContainerUrl {
                container,
                variable,
            } => write!(f, "{variable} of {container}"),
            Source::ContainerVariable {
                container,
                variable,
            } => write!(f, "{variable} of {container}"),
            Source::ContainerFile {
                container,
                variable,
                path,
            } => write!(f, "{variable} ({path}) in {container}"),
            Source::CommandLine { container } => {
                write!(f, "--requirepass on {container}'s command line")
            }
            Source::AclRule { container, user } => {
                write!(f, "the --user {user} rule on {container}'s command line")
            }
            Source::ConfigFile { container, path } => {
                write!(f, "requirepass in {path} in {container}")
            }
            Source::Nowhere => write!(f, "nowhere"),
        }
    }
}

/// A credential and where it came from (`value` is `None` when found nowhere),
/// with the user it belongs to when its source names one (an application's
/// `DB_USER`, a URL's user, a Redis ACL user).
#[derive(Clone, Debug)]
pub struct Credential {
    pub value: Option<String>,
    pub user: Option<String>,
    pub source: Source,
}

/// A place that names a credential but cannot be read: reported, never skipped.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{place}: {reason}")]
pub struct Unreadable {
    pub place: Source,
    pub reason: String,
}

impl Credential {
    fn found(value: String, source: Source) -> Credential {
        Credential {
            value: Some(value),
            user: None,
            source,
        }
    }

    fn of_user(mut self, user: Option<String>) -> Credential {
        self.user = user;
        self
    }
}

/// The PostgreSQL password of `service`: `HELPDESK_<SVC>_DB_PASSWORD`,
/// `HELPDESK_DB_PASSWORD` (or `_FILE`), `PGPASSWORD`, `PGPASSFILE`/`~/.pgpass`,
/// the configuration of the application that points at the database (its URL
/// or `DB_*`/`PG*`/`POSTGRES_*` parts, a password file), the database
/// container's `POSTGRES_PASSWORD`, then `POSTGRES_PASSWORD_FILE` read through the engine.
pub async fn postgres(ctx: &Context, service: &Service) -> Result<Credential, Unreadable> {
    if let Some(found) = doctor_variables(&service.name, "DB_PASSWORD")? {
        return Ok(found);
    }
    if let Some(found) = variable("PGPASSWORD") {
        return Ok(found);
    }
    if let Some(found) = pgpass(ctx, service) {
        return Ok(found);
    }
    let Some(db) = service.existing_container(Role::Db) else {
        return Ok(nowhere());
    };
    if let Some(app) = app_credentials::find(ctx, service, &db, Server::Postgres).await
        && let Some(found) = app_credentials::credential(ctx, &app).await?
    {
        return Ok(found);
    }
    let env = docker::described_environment(ctx, &db).await.ok().flatten();
    let env = env.unwrap_or_default();
    if let Some(value) = env.get("POSTGRES_PASSWORD") {
        return Ok(Credential::found(
            value.clone(),
            Source::ContainerVariable {
                container: db,
                variable: "POSTGRES_PASSWORD".into(),
            },
        ));
    }
    if let Some(path) = env.get("POSTGRES_PASSWORD_FILE") {
        let source = Source::ContainerFile {
            container: db.clone(),
            variable: "POSTGRES_PASSWORD_FILE".into(),
            path: path.clone(),
        };
        let text = container_file::read(ctx, &db, path)
            .await
            .map_err(|reason| Unreadable {
                place: source.clone(),
                reason: reason.to_string(),
            })?;
        return Ok(Credential::found(trim_newline(&text), source));
    }
    Ok(nowhere())
}

/// The Redis password of `service`: `HELPDESK_<SVC>_REDIS_PASSWORD`,
/// `HELPDESK_REDIS_PASSWORD` (or `_FILE`), `REDISCLI_AUTH`, the configuration
/// of the application that points at the server (`REDIS_URL` or
/// `REDIS_HOST`/`REDIS_USERNAME`/`REDIS_PASSWORD[_FILE]`; a username without a
/// password takes that user's `--user` rule), `--requirepass` on the Redis
/// container's command line, its `--user` ACL rules, `requirepass` in the
/// config file it names, its `REDIS_PASSWORD` variable.
pub async fn redis(ctx: &Context, service: &Service) -> Result<Credential, Unreadable> {
    if let Some(found) = doctor_variables(&service.name, "REDIS_PASSWORD")? {
        return Ok(found);
    }
    if let Some(found) = variable("REDISCLI_AUTH") {
        return Ok(found);
    }
    let Some(container) = service.existing_container(Role::Redis) else {
        return Ok(nowhere());
    };
    let app = app_credentials::find(ctx, service, &container, Server::Redis).await;
    if let Some(app) = &app
        && let Some(found) = app_credentials::credential(ctx, app).await?
    {
        return Ok(found);
    }
    let app_user = app.and_then(|app| app.config.user);
    let Ok(Some(inspected)) = docker::described(ctx, &container).await else {
        return Ok(nowhere());
    };
    let inspected = &inspected.inspected;
    let argv: Vec<String> = inspected
        .path
        .iter()
        .cloned()
        .chain(inspected.args.clone().unwrap_or_default())
        .collect();
    if let Some(found) = acl_rule(&argv, &container, app_user.as_deref()) {
        return Ok(found);
    }
    if let Some(value) = requirepass_argument(&argv) {
        return Ok(Credential::found(value, Source::CommandLine { container }).of_user(app_user));
    }
    if let Some(path) = argv.iter().find(|a| a.ends_with(".conf")) {
        let source = Source::ConfigFile {
            container: container.clone(),
            path: path.clone(),
        };
        let text = container_file::read(ctx, &container, path)
            .await
            .map_err(|reason| Unreadable {
                place: source.clone(),
                reason: reason.to_string(),
            })?;
        if let Some(value) = requirepass_in_config(&text) {
            return Ok(Credential::found(value, source));
        }
    }
    let env = inspected
        .config
        .as_ref()
        .and_then(|c| c.env.clone())
        .unwrap_or_default();
    if let Some(value) = env.iter().find_map(|kv| kv.strip_prefix("REDIS_PASSWORD=")) {
        return Ok(Credential::found(
            value.to_string(),
            Source::ContainerVariable {
                container,
                variable: "REDIS_PASSWORD".into(),
            },
        ));
    }
    Ok(nowhere())
}

fn nowhere() -> Credential {
    Credential {
        value: None,
        user: None,
        source: Source::Nowhere,
    }
}

/// The password of the application's user in the command line's `--user`
/// rules, else (no username given) of the user a client logs in as.
fn acl_rule(argv: &[String], container: &str, app_user: Option<&str>) -> Option<Credential> {
    let users = redis_acl::users(argv);
    let user = match app_user {
        Some(name) => users.iter().find(|u| u.name == name),
        None => redis_acl::login(&users),
    }?;
    let source = Source::AclRule {
        container: container.to_string(),
        user: user.name.clone(),
    };
    Some(Credential::found(user.password()?.to_string(), source).of_user(Some(user.name.clone())))
}

/// `HELPDESK_<SVC>_<NAME>`, `HELPDESK_<NAME>`, or the file their `_FILE` names
/// (a trailing newline dropped); an unreadable file is an error, not a skip.
fn doctor_variables(service: &str, name: &str) -> Result<Option<Credential>, Unreadable> {
    let specific = format!("HELPDESK_{}_{name}", service.to_uppercase());
    let shared = format!("HELPDESK_{name}");
    for var in [specific, shared] {
        if let Some(found) = variable(&var) {
            return Ok(Some(found));
        }
        let file_var = format!("{var}_FILE");
        if let Some(path) = std::env::var_os(&file_var) {
            let path = PathBuf::from(path);
            let text =
                crate::files::read_bounded(&path, MAX_SECRET_FILE as u64).map_err(|reason| {
                    Unreadable {
                        place: Source::File(path.clone()),
                        reason: format!("{reason} (named by ${file_var})"),
                    }
                })?;
            return Ok(Some(Credential::found(
                trim_newline(&text),
                Source::File(path),
            )));
        }
    }
    Ok(None)
}

fn variable(name: &str) -> Option<Credential> {
    std::env::var(name)
        .ok()
        .map(|value| Credential::found(value, Source::Variable(name.into())))
}

/// A secret file's value as the official images' entrypoints read it
/// (`$(< file)`): every trailing newline dropped, nothing else.
pub fn trim_newline(text: &str) -> String {
    text.trim_end_matches('\n').to_string()
}

/// libpq's password file (`PGPASSFILE`, else `~/.pgpass`): the first line whose
/// host, port, database and user match (`*` matches anything, `\` escapes).
fn pgpass(ctx: &Context, service: &Service) -> Option<Credential> {
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let text = crate::files::read_bounded(&path, MAX_SECRET_FILE as u64).ok()?;
    let wanted = [
        ctx.profile.host.clone(),
        service.db_port.to_string(),
        service.database.clone(),
        service.db_user.clone(),
    ];
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let fields = pgpass_fields(line);
            let matches = fields.len() == 5
                && fields[..4]
                    .iter()
                    .zip(&wanted)
                    .all(|(field, want)| field == "*" || field == want);
            matches.then(|| fields[4].clone())
        })
        .map(|value| Credential::found(value, Source::File(path)))
}

/// A `.pgpass` line split on unescaped `:`.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field").extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// `--requirepass X` (or `--requirepass=X`) in a command line.
fn requirepass_argument(argv: &[String]) -> Option<String> {
    argv.iter().enumerate().find_map(|(i, arg)| {
        if arg == "--requirepass" {
            argv.get(i + 1).cloned()
        } else {
            arg.strip_prefix("--requirepass=").map(String::from)
        }
    })
}

/// The last `requirepass` of a Redis config file (quotes removed).
fn requirepass_in_config(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.trim().splitn(2, char::is_whitespace);
            match (words.next(), words.next()) {
                (Some(key), Some(value)) if key.eq_ignore_ascii_case("requirepass") => {
                    Some(value.trim().trim_matches('"').to_string())
                }
                _ => None,
            }
        })
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirepass_is_found_on_the_command_line_and_in_a_config() {
        let argv: Vec<String> = ["redis-server", "--appendonly", "yes", "--requirepass", "s3"]
            .map(String::from)
            .to_vec();
        assert_eq!(requirepass_argument(&argv), Some("s3".into()));
        assert_eq!(
            requirepass_argument(&["redis-server".into(), "--requirepass=x y".into()]),
            Some("x y".into())
        );
        assert_eq!(requirepass_argument(&["redis-server".into()]), None);
        let config = "port 6379\n# requirepass old\nrequirepass \"first\"\n  requirepass second\n";
        assert_eq!(requirepass_in_config(config), Some("second".into()));
        assert_eq!(requirepass_in_config("port 6379\n"), None);
    }

    #[test]
    fn pgpass_lines_split_on_unescaped_colons() {
        assert_eq!(
            pgpass_fields(r"127.0.0.1:5401:*:user:pa\:ss\\word"),
            vec!["127.0.0.1", "5401", "*", "user", r"pa:ss\word"]
        );
    }

    #[test]
    fn a_password_file_keeps_its_value_without_the_trailing_newline() {
        assert_eq!(trim_newline("s3cret\n"), "s3cret");
        assert_eq!(trim_newline("s3cret\n\n"), "s3cret");
        // `$(< file)` keeps a carriage return: it is part of the password.
        assert_eq!(trim_newline("s3cret\r\n"), "s3cret\r");
        assert_eq!(trim_newline("two\nlines\n"), "two\nlines");
    }
}
