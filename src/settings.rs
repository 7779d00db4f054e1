//! `config show`: every setting in effect and where it came from (the built-in
//! default, the config file, a flag, the environment, the engine); `config
//! init`: a commented config for the deployment found, as `goss autoadd`
//! writes one — what the engine shows, ready to pin.

use crate::deployment::Deployment;
use crate::deployment::discovery::{self, ProjectSource};
use crate::deployment::engine;
use crate::error::Error;
use crate::profile::{Role, Service};
use crate::{exit_code, state};
use std::path::{Path, PathBuf};

/// The config file in use, what chose it, and what it sets.
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub chosen_by: &'static str,
    /// Its settings as written (empty when none, or unreadable: loading it
    /// reports that).
    table: toml::Table,
}

impl ConfigFile {
    /// `--config` (or `HELPDESK_DOCTOR_CONFIG`, which clap reads into it), else
    /// the user's, else the system's, else none.
    pub fn of(flag: Option<&Path>) -> ConfigFile {
        let (path, chosen_by) = match (flag, state::default_config()) {
            (Some(path), _) => {
                let from_env = std::env::var_os("HELPDESK_DOCTOR_CONFIG")
                    .is_some_and(|env| Path::new(&env) == path);
                let by = if from_env {
                    "HELPDESK_DOCTOR_CONFIG"
                } else {
                    "--config"
                };
                (Some(path.to_path_buf()), by)
            }
            (None, Some(path)) if path.starts_with("/etc") => (Some(path), "the system's config"),
            (None, Some(path)) => (Some(path), "the user's config"),
            (None, None) => (None, "none found: the built-in profile"),
        };
        let table = path
            .as_deref()
            .and_then(|p| crate::files::read_named(p, 1 << 20).ok())
            .and_then(|text| text.parse::<toml::Table>().ok())
            .unwrap_or_default();
        ConfigFile {
            path,
            chosen_by,
            table,
        }
    }

    /// Whether the file sets `key` (`network`, `thresholds.disk_warn_gb`).
    fn sets(&self, key: &str) -> bool {
        match key.split_once('.') {
            Some((section, key)) => self
                .table
                .get(section)
                .and_then(toml::Value::as_table)
                .is_some_and(|t| t.contains_key(key)),
            None => self.table.contains_key(key),
        }
    }

    /// Whether the file's `[[services]]` entry `name` sets `key`.
    fn service_sets(&self, name: &str, key: &str) -> bool {
        self.table
            .get("services")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_table)
            .find(|t| t.get("name").and_then(toml::Value::as_str) == Some(name))
            .is_some_and(|t| t.contains_key(key))
    }

    fn source(&self) -> String {
        match &self.path {
            Some(path) => format!("config {}", path.display()),
            None => "config".into(),
        }
    }
}

/// One setting in effect.
#[derive(Debug, serde::Serialize)]
pub struct Setting {
    pub setting: String,
    pub value: String,
    pub source: String,
}

/// `config show`.
pub async fn show(file: &ConfigFile, project: Option<&str>, json: bool) -> Result<u8, Error> {
    let (profile, found_by) = discovery::load(file.path.as_deref(), project).await?;
    let settings = settings(file, &profile, &found_by);
    let text = if json {
        serde_json::to_string_pretty(&settings).expect("settings serialise") + "\n"
    } else {
        let width = settings.iter().map(|s| s.setting.len()).max().unwrap_or(0);
        let value_width = settings
            .iter()
            .map(|s| s.value.chars().count())
            .max()
            .unwrap_or(0)
            .min(40);
        settings
            .iter()
            .map(|s| {
                let value = crate::terminal_text::clean(&s.value);
                format!(
                    "{:<width$}  {value:<value_width$}  ({})\n",
                    s.setting, s.source
                )
            })
            .collect()
    };
    crate::output::write_output(Path::new("-"), &text)?;
    Ok(exit_code::OK)
}

fn settings(file: &ConfigFile, profile: &Deployment, found_by: &ProjectSource) -> Vec<Setting> {
    let item = |setting: &str, value: String, source: String| Setting {
        setting: setting.into(),
        value,
        source,
    };
    let configured = |key: &str, otherwise: &str| {
        if file.sets(key) {
            file.source()
        } else {
            otherwise.to_string()
        }
    };
    let config_value = file
        .path
        .as_ref()
        .map_or("(none)".to_string(), |p| p.display().to_string());
    let mut found = vec![
        item("config", config_value, file.chosen_by.into()),
        item(
            "engine",
            profile.engine.describe(),
            engine::chosen_by().into(),
        ),
        item(
            "compose_project",
            profile.compose_project.clone(),
            match found_by {
                ProjectSource::Config => file.source(),
                other => other.to_string(),
            },
        ),
        item(
            "compose_file",
            profile.compose_file.clone(),
            if profile.compose_files.is_empty() {
                configured("compose_file", "default")
            } else {
                "engine: the containers' compose labels".into()
            },
        ),
        item(
            "network",
            profile.network.clone(),
            configured(
                "network",
                "engine: the network the project's containers share",
            ),
        ),
        item(
            "host",
            profile.host.clone(),
            configured(
                "host",
                if profile.engine.is_local() {
                    "default: a local engine's ports are on loopback"
                } else {
                    "engine: the remote engine's host"
                },
            ),
        ),
        item(
            "backup_dir",
            state::backup_dir(&profile.backup_dir).display().to_string(),
            if std::env::var_os("HELPDESK_DOCTOR_BACKUP_DIR").is_some_and(|d| !d.is_empty()) {
                "HELPDESK_DOCTOR_BACKUP_DIR".into()
            } else {
                configured("backup_dir", "default")
            },
        ),
        item(
            "state_dir",
            state::state_dir().display().to_string(),
            if std::env::var_os("HELPDESK_DOCTOR_STATE_DIR").is_some() {
                "HELPDESK_DOCTOR_STATE_DIR".into()
            } else {
                "default".into()
            },
        ),
    ];
    for (key, value) in tuned(profile) {
        let source = configured(&key, "default");
        found.push(item(&key, value.to_string(), source));
    }
    for service in &profile.services {
        found.extend(service_settings(file, profile, service));
    }
    found
}

/// The thresholds, timeouts and limits as `section.key` and value.
fn tuned(profile: &Deployment) -> Vec<(String, toml::Value)> {
    let sections = [
        ("thresholds", toml::Value::try_from(&profile.thresholds)),
        ("timeouts", toml::Value::try_from(&profile.timeouts)),
        ("limits", toml::Value::try_from(&profile.limits)),
    ];
    sections
        .into_iter()
        .filter_map(|(name, table)| Some((name, table.ok()?.as_table()?.clone())))
        .flat_map(|(name, table)| {
            table
                .into_iter()
                .map(move |(key, value)| (format!("{name}.{key}"), value))
        })
        .collect()
}

fn service_settings(file: &ConfigFile, profile: &Deployment, service: &Service) -> Vec<Setting> {
    let configured = profile.services_configured;
    let port_source = |role: Role| {
        let found = service.containers.get(&role).and_then(|c| c.first());
        match found {
            _ if configured => file.source(),
            Some(_) if service.unpublished.contains(&role) => {
                "engine: its container publishes nothing".to_string()
            }
            Some(container) => format!("engine: {container}'s port binding"),
            None => "default: the guide's (no container found)".into(),
        }
    };
    let db_source = |key: &str, what: &str| {
        let db = service.containers.get(&Role::Db).and_then(|c| c.first());
        match db {
            _ if file.service_sets(&service.name, key) => file.source(),
            Some(container) => format!("engine: {what} of {container}"),
            None => "default".into(),
        }
    };
    let name = &service.name;
    let ports = [
        ("app_port", service.app_port, Role::Service),
        ("db_port", service.db_port, Role::Db),
        ("redis_port", service.redis_port, Role::Redis),
    ];
    let mut found: Vec<Setting> = ports
        .into_iter()
        .map(|(key, port, role)| Setting {
            setting: format!("services.{name}.{key}"),
            value: port.to_string(),
            source: port_source(role),
        })
        .collect();
    found.push(Setting {
        setting: format!("services.{name}.database"),
        value: service.database.clone(),
        source: db_source("database", "POSTGRES_DB"),
    });
    found.push(Setting {
        setting: format!("services.{name}.db_user"),
        value: service.db_user.clone(),
        source: db_source("db_user", "POSTGRES_USER"),
    });
    found
}

/// `config init`: the deployment found (or, with `defaults`, the built-in
/// profile without asking the engine) as a commented config.
pub async fn init(file: &ConfigFile, project: Option<&str>, defaults: bool) -> Result<u8, Error> {
    let text = if defaults {
        commented(&Deployment::default(), None)
    } else {
        let (profile, found_by) = discovery::load(file.path.as_deref(), project).await?;
        commented(&profile, Some(&found_by))
    };
    crate::output::write_output(Path::new("-"), &text)?;
    Ok(exit_code::OK)
}

/// A TOML string, quoted and escaped.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The config text: the project pinned when it was found on the engine or
/// from a compose file, every other setting commented with its value.
fn commented(profile: &Deployment, found_by: Option<&ProjectSource>) -> String {
    let mut out = String::from(
        "# helpdesk-doctor config (TOML). Every setting is commented with the value\n\
         # in effect; uncomment one to pin it. Used from --config FILE,\n\
         # $HELPDESK_DOCTOR_CONFIG, ~/.config/helpdesk-doctor/config.toml or\n\
         # /etc/helpdesk-doctor/config.toml (the first found).\n\n",
    );
    match found_by {
        Some(source @ (ProjectSource::Engine | ProjectSource::ComposeFile(_))) => {
            out += &format!(
                "# The compose project, found by {source}.\ncompose_project = {}\n",
                quoted(&profile.compose_project)
            );
        }
        Some(source) => {
            out += &format!(
                "# The compose project ({source}).\n# compose_project = {}\n",
                quoted(&profile.compose_project)
            );
        }
        None => {
            out += "# The compose project (default: the one found, see `helpdesk-doctor config show`).\n\
                    # compose_project = \"helpdesk-microservices\"\n";
        }
    }
    let discovered = |value: &str, what: &str| {
        if value.is_empty() {
            format!("# {what} (default: found on the engine).\n")
        } else {
            format!("# {what}.\n")
        }
    };
    out += "# The compose file hints name when the containers' labels do not.\n";
    out += &format!("# compose_file = {}\n", quoted(&profile.compose_file));
    out += &discovered(&profile.network, "The network the containers share");
    out += &format!("# network = {}\n", quoted(&profile.network));
    out += &discovered(
        &profile.host,
        "Where the published ports are reached (a remote engine's host, else 127.0.0.1)",
    );
    out += &format!("# host = {}\n", quoted(&profile.host));
    out += "# Where backups go (default: /var/backups/helpdesk-doctor as root).\n";
    out += &format!("# backup_dir = {}\n", quoted(&profile.backup_dir));
    let mut section = String::new();
    for (key, value) in tuned(profile) {
        let (name, key) = key.split_once('.').expect("section.key");
        if name != section {
            out += &format!("\n[{name}]\n");
            section = name.to_string();
        }
        out += &format!("# {key} = {value}\n");
    }
    out += "\n# The services as found: uncommenting one [[services]] replaces the whole\n\
            # list, so uncomment them all (database and db_user may be left out: they are\n\
            # read from the database container's POSTGRES_DB and POSTGRES_USER).\n";
    for service in &profile.services {
        out += &service_block(service);
    }
    out
}

fn service_block(service: &Service) -> String {
    let by = |role: Role| {
        service
            .containers
            .get(&role)
            .and_then(|c| c.first())
            .map_or(String::new(), |c| format!("  # {c}"))
    };
    let mut block = format!("\n# [[services]]\n# name = {}\n", quoted(&service.name));
    for (key, port, role) in [
        ("app_port", service.app_port, Role::Service),
        ("db_port", service.db_port, Role::Db),
        ("redis_port", service.redis_port, Role::Redis),
    ] {
        block += &format!("# {key} = {port}{}\n", by(role));
    }
    block += &format!("# database = {}\n", quoted(&service.database));
    block += &format!("# db_user = {}\n", quoted(&service.db_user));
    block
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use crate::profile::Profile;

    /// Every `# key = value` and `# [section]` line of `text`, uncommented.
    fn uncommented(text: &str) -> String {
        let setting = regex::Regex::new(r"^# (\[|[a-z_]+ = )").unwrap();
        text.lines()
            .map(|line| {
                if setting.is_match(line) {
                    line[2..].to_string()
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_defaults_commented_parse_and_uncommented_are_the_defaults() {
        let text = commented(&Deployment::default(), None);
        let as_is: Profile = toml::from_str(&text).expect("the commented config parses");
        assert_eq!(as_is.compose_project, "");
        let pinned: Profile = toml::from_str(&uncommented(&text)).expect("uncommented, it parses");
        let defaults = Deployment::default();
        assert_eq!(pinned.compose_project, "helpdesk-microservices");
        assert_eq!(pinned.services.len(), 3);
        assert_eq!(pinned.services[2].database, "ticket_db");
        assert_eq!(pinned.services[2].redis_port, 6303);
        assert_eq!(
            pinned.thresholds.restart_window_seconds,
            defaults.thresholds.restart_window_seconds
        );
        assert_eq!(pinned.timeouts.deadline_ms, defaults.timeouts.deadline_ms);
        assert_eq!(
            pinned.limits.http_body_bytes,
            defaults.limits.http_body_bytes
        );
    }

    #[test]
    fn a_found_project_is_pinned() {
        let profile = Deployment::new(Profile {
            compose_project: "prod".into(),
            ..Default::default()
        });
        let text = commented(&profile, Some(&ProjectSource::Engine));
        let parsed: Profile = toml::from_str(&text).unwrap();
        assert_eq!(parsed.compose_project, "prod");
    }

    #[test]
    fn every_tuned_setting_is_listed() {
        let keys: Vec<String> = tuned(&Deployment::default())
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for key in [
            "thresholds.disk_warn_gb",
            "thresholds.restart_window_seconds",
            "timeouts.probe_ms",
            "limits.http_body_bytes",
        ] {
            assert!(keys.contains(&key.to_string()), "{key}: {keys:?}");
        }
    }
}
