//! One REPEATABLE READ snapshot shared by pg_dump and the row counts: a psql
//! session exports it (`pg_export_snapshot()`), pg_dump reads it
//! (`--snapshot`), and the counts are taken in the same transaction, so the
//! manifest's counts are exactly the dump's, however busy the database is.

use super::pg_tool::{self, DESCRIBE_SQL, ToolError, UnexpectedAnswer, Via};
use crate::deployment::Context;
use crate::profile::Service;
use std::time::Duration;
use tokio::sync::mpsc;

const SNAPSHOT_PREFIX: &str = "snapshot=";
const END_OF_COUNTS: &str = "end-of-counts";
/// How long a session that should end (its input closed) may take to do so.
const GRACE: Duration = Duration::from_secs(5);

/// What the session saw: the server version and every public table's row count.
pub struct Counts {
    pub server_version_num: i64,
    pub tables: Vec<(String, i64)>,
}

/// Why the snapshot session failed (the body's own errors are its own).
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// psql could not run, or was stopped.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// psql took no more input or gave no more output.
    #[error("the snapshot session ended")]
    Ended,
    #[error("the database did not answer within {0:?}")]
    Silent(Duration),
    /// The row counts' answer could not be read.
    #[error("{database}: {source}")]
    Counts {
        database: String,
        #[source]
        source: UnexpectedAnswer,
    },
    /// psql exited while the snapshot was still needed.
    #[error("{database}: the snapshot session ended (psql exited {code}): {stderr}")]
    Exited {
        database: String,
        code: i64,
        stderr: String,
    },
}

/// Runs `body` with the id of a snapshot held open for it, then counts the rows
/// in that snapshot.
pub async fn with_snapshot<T, E, Fut>(
    ctx: &Context,
    via: Via,
    service: &Service,
    body: impl FnOnce(String) -> Fut,
) -> Result<(T, Counts), E>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<SnapshotError>,
{
    let (input, input_receiver) = mpsc::channel::<Vec<u8>>(4);
    let (output_sender, output) = mpsc::unbounded_channel::<Vec<u8>>();
    let args = ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"];
    let session = pg_tool::run(
        ctx,
        via,
        service,
        "psql",
        &args,
        Some(input_receiver),
        move |chunk| {
            output_sender.send(chunk.to_vec()).ok();
            Ok(())
        },
    );
    let answer_timeout = Duration::from_millis(ctx.profile.timeouts.stall_ms);
    let drive =
        async move {
            let mut lines = Lines::new(output, answer_timeout);
            send(
                &input,
                // pg_catalog only: nothing a restored dump left shadows a built-in.
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n\
             SET LOCAL search_path = pg_catalog, pg_temp;\n\
             SELECT 'snapshot=' || pg_export_snapshot();\n",
            )
            .await?;
            let snapshot = lines.until(|l| l.starts_with(SNAPSHOT_PREFIX)).await?;
            let snapshot = snapshot[SNAPSHOT_PREFIX.len()..].to_string();
            let result = body(snapshot).await?;
            send(
                &input,
                &format!("{DESCRIBE_SQL};\nSELECT '{END_OF_COUNTS}';\n"),
            )
            .await?;
            let mut answer = Vec::new();
            loop {
                let line = lines.next().await?;
                if line == END_OF_COUNTS {
                    break;
                }
                answer.push(line);
            }
            send(&input, "COMMIT;\n").await?;
            let (server_version_num, tables) = pg_tool::parse_description(&answer.join("\n"))
                .map_err(|source| SnapshotError::Counts {
                    database: service.database.clone(),
                    source,
                })?;
            Ok((
                result,
                Counts {
                    server_version_num,
                    tables,
                },
            ))
        };
    tokio::pin!(session);
    tokio::select! {
        finished = &mut session => Err(E::from(match finished {
            Ok(f) => SnapshotError::Exited {
                database: service.database.clone(),
                code: f.exit_code,
                stderr: f.stderr,
            },
            Err(e) => SnapshotError::Tool(e),
        })),
        driven = drive => {
            // The input is closed: psql ends (a failure before COMMIT rolls back).
            tokio::time::timeout(GRACE, session).await.ok();
            driven
        }
    }
}

async fn send(input: &mpsc::Sender<Vec<u8>>, text: &str) -> Result<(), SnapshotError> {
    input
        .send(text.as_bytes().to_vec())
        .await
        .map_err(|_| SnapshotError::Ended)
}

/// psql's output, line by line, each within a timeout.
struct Lines {
    output: mpsc::UnboundedReceiver<Vec<u8>>,
    pending: Vec<u8>,
    timeout: Duration,
}

impl Lines {
    fn new(output: mpsc::UnboundedReceiver<Vec<u8>>, timeout: Duration) -> Lines {
        Lines {
            output,
            pending: Vec::new(),
            timeout,
        }
    }

    async fn next(&mut self) -> Result<String, SnapshotError> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(String::from_utf8_lossy(&line).trim_end().to_string());
            }
            match tokio::time::timeout(self.timeout, self.output.recv()).await {
                Ok(Some(chunk)) => self.pending.extend_from_slice(&chunk),
                Ok(None) => return Err(SnapshotError::Ended),
                Err(_) => return Err(SnapshotError::Silent(self.timeout)),
            }
        }
    }

    async fn until(&mut self, wanted: impl Fn(&str) -> bool) -> Result<String, SnapshotError> {
        loop {
            let line = self.next().await?;
            if wanted(&line) {
                return Ok(line);
            }
        }
    }
}
