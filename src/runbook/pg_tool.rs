//! PostgreSQL's own tools (pg_dump, psql) run either inside the database
//! container through the Engine API (`--via docker`, as the guide does) or on
//! this host against the published port (`--via direct`). The password goes in
//! the environment (PGPASSWORD), never in argv. A tool that moves no byte for
//! the profile's stall timeout (a paused or hung database) is stopped.

use crate::deployment::credentials::Unreadable;
use crate::deployment::reach::NotReached;
use crate::deployment::{Context, EngineError, exec, postgres};
use crate::profile::{Role, Service};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Docker,
    Direct,
}

/// Why a tool could not run, or was stopped.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// It moved no byte for the stall timeout.
    #[error(
        "{program} on {database} moved no data for {stall:?} (the database is paused or hung?): stopped; \
         raise timeouts.stall_ms or --stall-timeout if this step is legitimately slow"
    )]
    Stalled {
        program: String,
        database: String,
        stall: Duration,
    },
    #[error("the password of {database} cannot be read from {source}")]
    Password {
        database: String,
        #[source]
        source: Unreadable,
    },
    /// The engine failed the exec (`--via docker`).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The database's published port is not this deployment's (`--via direct`).
    #[error("{database}: {source}")]
    NotReached {
        database: String,
        #[source]
        source: NotReached,
    },
    #[error("{program} on this host: {source} (install postgresql-client)")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// Reading its output or waiting for it failed.
    #[error("{program}: {source}")]
    Io {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("feeding {program}: {source}")]
    Feed {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// `DESCRIBE_SQL` answered something else.
#[derive(Debug, thiserror::Error)]
#[error("unexpected answer to the version query: {output:?}")]
pub struct UnexpectedAnswer {
    pub output: String,
}

/// Runs `program` (pg_dump, psql) for `service`'s database with `args`; stdout
/// is streamed to `on_stdout`, `stdin` (if any) fed to it. Returns the exit code
/// and stderr; an error if it moved no byte for the stall timeout while it was
/// not waiting for our input.
pub async fn run(
    ctx: &Context,
    via: Via,
    service: &Service,
    program: &str,
    args: &[&str],
    stdin: Option<mpsc::Receiver<Vec<u8>>>,
    mut on_stdout: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<exec::Finished, ToolError> {
    let stall = Duration::from_millis(ctx.profile.timeouts.stall_ms);
    let activity = Activity::new();
    let (stdin, relay) = match stdin {
        Some(original) => {
            let (sender, receiver) = mpsc::channel(1);
            (Some(receiver), Some(activity.relay(original, sender)))
        }
        None => (None, None),
    };
    let on_stdout = |chunk: &[u8]| {
        activity.touch();
        on_stdout(chunk)
    };
    let tool = start(ctx, via, service, program, args, stdin, on_stdout);
    let relay = async {
        if let Some(relay) = relay {
            relay.await;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        finished = tool => finished,
        _ = relay => unreachable!("the relay never ends"),
        _ = activity.stalled(stall) => Err(ToolError::Stalled {
            program: program.to_string(),
            database: service.database.clone(),
            stall,
        }),
    }
}

/// When a tool last moved a byte, and whether it is waiting for our input.
#[derive(Clone)]
struct Activity {
    started: Instant,
    last_ms: Arc<AtomicU64>,
    waiting_for_us: Arc<AtomicBool>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            started: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
            waiting_for_us: Arc::new(AtomicBool::new(false)),
        }
    }

    fn touch(&self) {
        self.last_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Forwards our input, noting each chunk the tool takes and when it waits for us.
    async fn relay(&self, mut from: mpsc::Receiver<Vec<u8>>, to: mpsc::Sender<Vec<u8>>) {
        loop {
            self.waiting_for_us.store(true, Ordering::Relaxed);
            let chunk = from.recv().await;
            self.waiting_for_us.store(false, Ordering::Relaxed);
            self.touch();
            let Some(chunk) = chunk else { return };
            if to.send(chunk).await.is_err() {
                return;
            }
            self.touch();
        }
    }

    /// Resolves once nothing moved for `stall` while the tool was not waiting for us.
    async fn stalled(&self, stall: Duration) {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if self.waiting_for_us.load(Ordering::Relaxed) {
                self.touch();
                continue;
            }
            let idle =
                self.started.elapsed().as_millis() as u64 - self.last_ms.load(Ordering::Relaxed);
            if idle >= stall.as_millis() as u64 {
                return;
            }
        }
    }
}

async fn start(
    ctx: &Context,
    via: Via,
    service: &Service,
    program: &str,
    args: &[&str],
    stdin: Option<mpsc::Receiver<Vec<u8>>>,
    on_stdout: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<exec::Finished, ToolError> {
    let password = postgres::password(ctx, service)
        .await
        .map_err(|source| ToolError::Password {
            database: service.database.clone(),
            source,
        })?
        .value;
    match via {
        Via::Docker => {
            let container = service.container(Role::Db);
            let engine = ctx.engine_for(&container).await?;
            let mut cmd = vec![
                program,
                "-U",
                &service.db_user,
                "-d",
                &service.database,
                "-w",
            ];
            cmd.extend_from_slice(args);
            let env: Vec<String> = password
                .map(|p| vec![format!("PGPASSWORD={p}")])
                .unwrap_or_default();
            Ok(engine
                .exec(&container, &cmd, &env, stdin, on_stdout)
                .await?)
        }
        Via::Direct => local(ctx, service, program, args, password, stdin, on_stdout).await,
    }
}

async fn local(
    ctx: &Context,
    service: &Service,
    program: &str,
    args: &[&str],
    password: Option<String>,
    stdin: Option<mpsc::Receiver<Vec<u8>>>,
    mut on_stdout: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<exec::Finished, ToolError> {
    // Never another deployment's server (`reach`).
    let address =
        crate::deployment::reach::address(&ctx.profile, service, Role::Db).map_err(|source| {
            ToolError::NotReached {
                database: service.database.clone(),
                source,
            }
        })?;
    let port = address.port.to_string();
    let mut command = tokio::process::Command::new(program);
    command
        .args([
            "-h",
            &address.host,
            "-p",
            &port,
            "-U",
            &service.db_user,
            "-d",
            &service.database,
            "-w",
        ])
        .args(args)
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    // A published port that accepts but never answers (a paused container).
    let connect_timeout = ctx.timeout.as_secs().max(2).to_string();
    command.env("PGCONNECT_TIMEOUT", connect_timeout);
    let mut child = command.spawn().map_err(|source| ToolError::Spawn {
        program: program.to_string(),
        source,
    })?;
    let (mut out, mut err) = (
        child.stdout.take().expect("piped"),
        child.stderr.take().expect("piped"),
    );
    let child_stdin = child.stdin.take();
    let feeding = async move {
        if let (Some(mut stdin), Some(mut input)) = (stdin, child_stdin) {
            while let Some(chunk) = stdin.recv().await {
                input.write_all(&chunk).await?;
            }
            input.shutdown().await?;
        }
        Ok::<_, std::io::Error>(())
    };
    let reading = async {
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = out.read(&mut buffer).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            on_stdout(&buffer[..n])?;
        }
    };
    let mut stderr = String::new();
    let (fed, read, _) = tokio::join!(feeding, reading, err.read_to_string(&mut stderr));
    let io = |source| ToolError::Io {
        program: program.to_string(),
        source,
    };
    read.map_err(io)?;
    fed.map_err(|source| ToolError::Feed {
        program: program.to_string(),
        source,
    })?;
    let status = child.wait().await.map_err(io)?;
    Ok(exec::Finished {
        exit_code: status.code().unwrap_or(-1) as i64,
        stderr: stderr.trim().to_string(),
    })
}

/// The server's version number and every public table's exact row count, as
/// `key=value` lines (`server_version_num=150018`, then `table=rows`).
pub const DESCRIBE_SQL: &str = "SELECT 'server_version_num=' || current_setting('server_version_num') UNION ALL \
     (SELECT table_name || '=' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', \
     table_schema, table_name), false, true, '')))[1]::text FROM information_schema.tables \
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name)";

/// Reads `DESCRIBE_SQL`'s answer.
pub fn parse_description(output: &str) -> Result<(i64, Vec<(String, i64)>), UnexpectedAnswer> {
    let mut pairs = output.lines().filter_map(|l| {
        l.split_once('=')
            .and_then(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
    });
    match pairs.next() {
        Some((key, version)) if key == "server_version_num" => Ok((version, pairs.collect())),
        _ => Err(UnexpectedAnswer {
            output: output.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stalled_tool_is_said_as_before() {
        let stalled = ToolError::Stalled {
            program: "pg_dump".into(),
            database: "tickets".into(),
            stall: Duration::from_secs(30),
        };
        assert_eq!(
            stalled.to_string(),
            "pg_dump on tickets moved no data for 30s (the database is paused or hung?): \
             stopped; raise timeouts.stall_ms or --stall-timeout if this step is legitimately slow"
        );
        assert_eq!(
            parse_description("nonsense").unwrap_err().to_string(),
            "unexpected answer to the version query: \"nonsense\""
        );
    }
}
