//! The commands a hint prints, found in its prose, told read-only or not, and
//! run as printed: the words split by the shell's rules (shlex), a pipeline
//! joined process to process, never through a shell.

use crate::support::*;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a hint's commands start with.
const PROGRAMS: [&str; 15] = [
    "docker-compose",
    "docker",
    "helpdesk-doctor",
    "curl",
    "psql",
    "redis-cli",
    "ss",
    "top",
    "systemctl",
    "kill",
    "ssh",
    "npx",
    "flyway",
    "alembic",
    "pg_isready",
];

/// The longest a printed read-only command may take (`docker stats
/// --no-stream` samples for about 2 s).
const PATIENCE: Duration = Duration::from_secs(60);

/// Every command `hint` prints, in order, as printed: from a program's name
/// at the start of a word to the end of its clause (`;`, `&&`, `, `, `. `, ` (`,
/// the `)` or backtick that closes what it was in, the end), its quotes honoured.
pub fn commands(hint: &str) -> Vec<String> {
    // Prose is not scanned for quotes (its apostrophes open none); a command's words are.
    let chars: Vec<char> = hint.chars().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if starts_word(&chars, at)
            && let Some(end) = command_at(&chars, at)
        {
            let text: String = chars[at..end].iter().collect();
            found.push(text.trim().trim_end_matches('.').trim_end().to_string());
            at = end;
            continue;
        }
        at += 1;
    }
    found
}

fn starts_word(chars: &[char], at: usize) -> bool {
    at == 0 || matches!(chars[at - 1], ' ' | '(' | '`' | '\n' | '\t')
}

/// Where the command starting at `at` ends, if a program's name starts there.
fn command_at(chars: &[char], at: usize) -> Option<usize> {
    let rest: String = chars[at..].iter().take(32).collect();
    PROGRAMS.iter().find(|p| {
        rest.starts_with(**p)
            && rest[p.len()..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace)
    })?;
    let (mut quote, mut depth) = (None::<char>, 0usize);
    let mut end = at;
    while end < chars.len() {
        let c = chars[end];
        let next = chars.get(end + 1).copied();
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                ';' | '`' => break,
                '&' if next == Some('&') => break,
                ',' | '.' if next == Some(' ') => break,
                ' ' if next == Some('(') => break,
                '(' => depth += 1,
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                _ => {}
            },
        }
        end += 1;
    }
    Some(end)
}

/// A command's pipeline stages, split at unquoted `|`, each split into words
/// by the shell's rules; `None` when the words do not split (an open quote).
pub fn stages(command: &str) -> Option<Vec<Vec<String>>> {
    let mut parts = vec![String::new()];
    let mut quote = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '|') => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().unwrap().push(c);
    }
    parts.iter().map(|p| shlex::split(p)).collect()
}

/// Whether a pipeline only reads (and ends by itself): what a test may run.
pub fn read_only(stages: &[Vec<String>]) -> bool {
    let Some((first, filters)) = stages.split_first() else {
        return false;
    };
    reads(first)
        && filters.iter().all(|f| {
            matches!(
                f.first().map(String::as_str),
                Some("grep" | "head" | "tail" | "wc" | "sort" | "jq")
            )
        })
}

fn reads(argv: &[String]) -> bool {
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    match words.split_first() {
        Some((&"docker", rest)) => docker_reads(rest),
        Some((&"docker-compose", rest)) => compose_reads(rest),
        Some((&"helpdesk-doctor", rest)) => doctor_reads(rest),
        Some((&"curl", rest)) => !rest.iter().any(|w| {
            matches!(*w, "-d" | "-F" | "-T" | "--upload-file" | "--form")
                || w.starts_with("--data")
                || (w.starts_with("-X") && !w.ends_with("GET") && !w.ends_with("HEAD"))
        }),
        Some((&"ss", _)) => true,
        Some((&"psql", rest)) => psql_reads(rest),
        Some((&"redis-cli", rest)) => redis_reads(rest),
        Some((&"pg_isready", _)) => true,
        _ => false,
    }
}

/// The words after `options` (each listed one takes a value) up to the first
/// that is not an option.
fn after_options<'a>(words: &'a [&'a str], with_value: &[&str]) -> &'a [&'a str] {
    let mut at = 0;
    while at < words.len() && words[at].starts_with('-') {
        let takes = with_value.contains(&words[at]);
        at += if takes { 2 } else { 1 };
    }
    &words[at.min(words.len())..]
}

fn docker_reads(words: &[&str]) -> bool {
    let words = after_options(words, &["--context", "-c", "-H", "--host", "--config"]);
    let follows = words.iter().any(|w| matches!(*w, "-f" | "--follow"));
    match words {
        ["compose", rest @ ..] => compose_reads(rest),
        ["exec", rest @ ..] => exec_reads(rest),
        ["logs", ..] | ["service", "logs", ..] | ["container", "logs", ..] => !follows,
        ["stats", ..] => words.contains(&"--no-stream"),
        [
            "ps" | "inspect" | "top" | "port" | "version" | "info" | "images",
            ..,
        ] => true,
        [
            "network" | "volume" | "container" | "image",
            "inspect" | "ls",
            ..,
        ] => true,
        ["service", "ps" | "ls" | "inspect", ..] => true,
        ["node", "ls" | "inspect" | "ps", ..] => true,
        ["stack", "ps" | "ls" | "services", ..] => true,
        _ => false,
    }
}

fn compose_reads(words: &[&str]) -> bool {
    let words = after_options(
        words,
        &[
            "-p",
            "--project-name",
            "-f",
            "--file",
            "--project-directory",
            "--env-file",
        ],
    );
    match words {
        ["logs", rest @ ..] => !rest.iter().any(|w| matches!(*w, "-f" | "--follow")),
        ["ps" | "config" | "top" | "images" | "port", ..] => true,
        _ => false,
    }
}

/// `docker exec [options] CONTAINER COMMAND…` that only reads.
fn exec_reads(words: &[&str]) -> bool {
    let words = after_options(words, &["-e", "--env", "-u", "--user", "-w", "--workdir"]);
    let Some((_, inner)) = words.split_first() else {
        return false;
    };
    match inner.split_first() {
        Some((&"psql", rest)) => psql_reads(rest),
        Some((&"redis-cli", rest)) => redis_reads(rest),
        Some((&("env" | "printenv" | "getent" | "cat" | "ls" | "pg_isready" | "df" | "ps"), _)) => {
            true
        }
        _ => false,
    }
}

/// psql with `-c` statements that only read.
fn psql_reads(words: &[&str]) -> bool {
    let Some(at) = words.iter().position(|w| *w == "-c") else {
        return false;
    };
    let sql = words
        .get(at + 1)
        .map(|s| s.trim_start().to_ascii_uppercase())
        .unwrap_or_default();
    ["SELECT", "\\D", "SHOW", "TABLE "]
        .iter()
        .any(|r| sql.starts_with(r))
}

fn redis_reads(words: &[&str]) -> bool {
    let command = after_options(words, &["-h", "-p", "-n", "--user"]);
    matches!(
        command.first().map(|c| c.to_ascii_lowercase()).as_deref(),
        Some("ping" | "info" | "dbsize" | "slowlog" | "memory" | "client" | "acl" | "config")
    ) && !command
        .iter()
        .any(|w| w.eq_ignore_ascii_case("set") || w.eq_ignore_ascii_case("reset"))
}

/// `helpdesk-doctor [global options] SUBCOMMAND…` that only reads.
fn doctor_reads(words: &[&str]) -> bool {
    let words = after_options(
        words,
        &[
            "--project",
            "--config",
            "--context",
            "--color",
            "--checks-dir",
        ],
    );
    let dry = words.contains(&"--dry-run");
    match words {
        ["diagnose" | "checks" | "history" | "diff", ..] => true,
        ["logs", rest @ ..] => !rest.iter().any(|w| matches!(*w, "-f" | "--follow")),
        ["backup", "list" | "verify", ..] => true,
        ["tokens" | "cache" | "fix" | "restore", ..] => dry,
        _ => false,
    }
}

/// How a printed command ran: each stage's exit code, the last one's output.
pub struct Ran {
    pub codes: Vec<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Every stage succeeded (a `grep` that selected no line, exit 1, did
    /// too), and a lone `redis-cli` answered no error (it exits 0 after one).
    pub fn ok(&self, stages: &[Vec<String>]) -> bool {
        let exited_well = self.codes.iter().zip(stages).all(|(code, argv)| {
            *code == 0 || (*code == 1 && argv.first().is_some_and(|p| p == "grep"))
        });
        let redis = stages.len() == 1 && stages[0].iter().any(|w| w == "redis-cli");
        let refused = ["NOAUTH", "WRONGPASS", "NOPERM", "ERR", "(error)"]
            .iter()
            .any(|e| self.stdout.trim_start().starts_with(e));
        exited_well && !(redis && refused)
    }
}

/// Runs `stages` as a pipeline from `folder`, the doctor's folder first on
/// PATH (as if installed), its test environment and `env` (what a hint asks
/// to set) set; killed after `PATIENCE`.
pub fn run_printed(stages: &[Vec<String>], folder: &std::path::Path, env: &[(&str, &str)]) -> Ran {
    let doctor = doctor();
    let bin = std::path::Path::new(doctor.get_program())
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut children: Vec<Child> = Vec::new();
    for argv in stages {
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .current_dir(folder)
            .env("PATH", &path);
        for (key, value) in doctor.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command.envs(env.iter().copied());
        let stdin = match children.last_mut() {
            Some(previous) => Stdio::from(previous.stdout.take().unwrap()),
            None => Stdio::null(),
        };
        let child = command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        children.push(child);
    }
    let started = Instant::now();
    let mut out = children.last_mut().unwrap().stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).ok();
        text
    });
    let mut codes = Vec::new();
    let mut stderr = String::new();
    for child in &mut children {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                codes.push(status.code().unwrap_or(-1));
                break;
            }
            if started.elapsed() > PATIENCE {
                child.kill().ok();
                panic!("{stages:?} still running after {PATIENCE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(mut err) = child.stderr.take() {
            err.read_to_string(&mut stderr).ok();
        }
    }
    let stdout = reader.join().unwrap();
    Ran {
        codes,
        stdout,
        stderr,
    }
}

/// Every read-only command the hints of a JSON report print, once each.
pub fn read_only_commands(report: &serde_json::Value) -> Vec<(String, Vec<Vec<String>>)> {
    let mut found: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for result in report["results"].as_array().unwrap() {
        let Some(hint) = result["hint"].as_str() else {
            continue;
        };
        for command in commands(hint) {
            let Some(stages) = stages(&command) else {
                panic!("{}: `{command}` does not split into words", result["id"]);
            };
            if read_only(&stages) && !found.iter().any(|(c, _)| *c == command) {
                found.push((command, stages));
            }
        }
    }
    found
}

#[test]
fn commands_are_found_in_prose_to_the_end_of_their_clause() {
    let hint = "Read why it stopped: docker-compose -p acme -f '/srv/a b.yml' logs --tail=50 db; \
                inspect its health: docker inspect acme-db-1 | grep -A 5 '\"Health\"'; then start it \
                again: docker-compose -p acme up -d db. Check it (docker exec acme-api env | grep JWT) \
                and purge: helpdesk-doctor tokens purge --dry-run, then helpdesk-doctor tokens purge --yes; \
                compare with `docker exec acme-api env` or test: docker exec acme-redis redis-cli ping \
                (then with the password); Start the Docker daemon (systemctl start docker)";
    assert_eq!(
        commands(hint),
        [
            "docker-compose -p acme -f '/srv/a b.yml' logs --tail=50 db",
            "docker inspect acme-db-1 | grep -A 5 '\"Health\"'",
            "docker-compose -p acme up -d db",
            "docker exec acme-api env | grep JWT",
            "helpdesk-doctor tokens purge --dry-run",
            "helpdesk-doctor tokens purge --yes",
            "docker exec acme-api env",
            "docker exec acme-redis redis-cli ping",
            "systemctl start docker",
        ]
    );
    let read: Vec<bool> = commands(hint)
        .iter()
        .map(|c| read_only(&stages(c).unwrap()))
        .collect();
    assert_eq!(
        read,
        [true, true, false, true, true, false, true, true, false]
    );
    assert_eq!(
        stages("docker inspect x | grep -A 5 '\"Health\"'").unwrap(),
        [
            vec!["docker", "inspect", "x"],
            vec!["grep", "-A", "5", "\"Health\""]
        ]
    );
    assert!(!read_only(&stages("docker logs -f x").unwrap()));
    assert!(!read_only(&stages("docker stats").unwrap()));
    assert!(read_only(
        &stages("docker exec db psql -U u -d d -c '\\dt *.*'").unwrap()
    ));
    assert!(!read_only(
        &stages("docker exec db psql -U u -c 'CREATE EXTENSION x;'").unwrap()
    ));
}
