//! `helpdesk-doctor logs`: the selected containers' logs from the engine API,
//! merged into one time-ordered stream, each line prefixed with its
//! container, masked, filtered; `--follow` reattaches across restarts.

mod ended;
mod level;
mod line;
mod merge;
mod reader;

pub use line::{Level, level_of};
pub use reader::Filter;

use crate::deployment::Deployment;
use crate::deployment::containers::{self, Member};
use crate::deployment::{Context, discovery};
use crate::error::Error;
use crate::exit_code;
use colored::{Color, Colorize};
use merge::{Entry, Sink};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Lines waiting per container: bounds memory, whatever the logs' size.
const LINES_PER_CONTAINER: usize = 256;
/// When following, a container silent this long no longer holds the others back.
const FOLLOW_IDLE: Duration = Duration::from_millis(100);
const COLORS: [Color; 6] = [
    Color::Cyan,
    Color::Yellow,
    Color::Green,
    Color::Magenta,
    Color::Blue,
    Color::BrightRed,
];

/// What `logs` is asked.
pub struct LogsOptions {
    /// Guide services (auth), roles (db), compose services or container names.
    pub selected: Vec<String>,
    pub filter: Filter,
    pub color: bool,
}

pub async fn run(
    options: LogsOptions,
    config: Option<&Path>,
    project: Option<&str>,
) -> Result<u8, Error> {
    let (profile, _) = discovery::load(config, project).await?;
    let ctx = Arc::new(Context::new(profile));
    let listed = containers::of_project(&ctx).await?;
    let containers = select(&ctx.profile, &listed, &options.selected)?;
    // Every credential and every container's secrets, so that a line echoing one is masked.
    ctx.register_secrets().await;
    let follow = options.filter.follow;
    let filter = Arc::new(options.filter);
    let mut receivers = Vec::new();
    let mut readers = Vec::new();
    for container in &containers {
        let (lines, received) = tokio::sync::mpsc::channel(LINES_PER_CONTAINER);
        receivers.push(received);
        readers.push(ended::Reader {
            container: container.clone(),
            task: tokio::spawn(reader::read(
                ctx.clone(),
                container.clone(),
                filter.clone(),
                lines,
            )),
        });
    }
    let mut printer = Printer::new(&containers, options.color);
    let idle = follow.then_some(FOLLOW_IDLE);
    tokio::select! {
        _ = merge::merge(receivers, idle, &mut printer) => {
            printer.flush();
            Ok(ended::ended(readers).await)
        }
        _ = tokio::signal::ctrl_c() => {
            printer.flush();
            let readers = ended::stopped(readers).await;
            // Ctrl-C is how --follow ends (a reader that failed before still
            // says so); it interrupts anything else.
            Ok(if follow { readers } else { exit_code::INTERRUPTED })
        }
    }
}

/// The containers the words name: a guide service (all its roles), a role
/// (`service`, `db`, `redis` across services), a compose service, or a
/// container; none named means all of the project's.
fn select(profile: &Deployment, listed: &[Member], words: &[String]) -> Result<Vec<String>, Error> {
    if listed.is_empty() {
        return Err(Error::CannotRun(format!(
            "no container of compose project {} on the engine (name yours with --project)",
            profile.compose_project
        )));
    }
    if words.is_empty() {
        return Ok(listed.iter().map(|c| c.name.clone()).collect());
    }
    let mut chosen: Vec<String> = Vec::new();
    for word in words {
        let named = named_by(profile, listed, word);
        if named.is_empty() {
            return Err(Error::Usage(format!(
                "{word:?} names no container of project {}: give a service ({}), a role (service, db, redis), a compose service or a container ({})",
                profile.compose_project,
                profile
                    .services
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                listed
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )));
        }
        chosen.extend(named);
    }
    chosen.sort();
    chosen.dedup();
    Ok(chosen)
}

fn named_by(profile: &Deployment, listed: &[Member], word: &str) -> Vec<String> {
    let role = match word {
        "app" | "service" => Some("service"),
        "db" | "postgres" => Some("db"),
        "redis" | "cache" => Some("redis"),
        _ => None,
    };
    let services: Vec<&crate::profile::Service> = match (profile.service(word), role) {
        (Some(service), _) => vec![service],
        (None, Some(_)) => profile.services.iter().collect(),
        (None, None) => Vec::new(),
    };
    let from_profile: Vec<&String> = services
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter(|(r, _)| role.is_none_or(|wanted| r.as_str() == wanted))
        .flat_map(|(_, names)| names)
        .collect();
    listed
        .iter()
        .filter(|c| from_profile.contains(&&c.name) || c.compose_service == word || c.name == word)
        .map(|c| c.name.clone())
        .collect()
}

/// `name | line` on stdout, the name padded and coloured per container.
struct Printer {
    prefixes: Vec<String>,
    out: std::io::BufWriter<std::io::Stdout>,
}

impl Printer {
    fn new(containers: &[String], color: bool) -> Printer {
        colored::control::set_override(color);
        let width = containers.iter().map(|c| c.len()).max().unwrap_or(0);
        let prefixes = containers
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let padded = format!("{name:<width$} |");
                padded.color(COLORS[i % COLORS.len()]).to_string()
            })
            .collect();
        Printer {
            prefixes,
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
        }
    }
}

impl Sink for Printer {
    fn write(&mut self, source: usize, entry: Entry) -> bool {
        writeln!(self.out, "{} {}", self.prefixes[source], entry.text).is_ok()
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}
