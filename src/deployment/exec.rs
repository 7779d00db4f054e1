//! Commands run inside containers through the Engine API (for probes and
//! runbooks), streamed: stdout goes
//! to a sink chunk by chunk (constant memory), stdin comes from a channel, and
//! the exit code is read from exec inspect — clean output can hide a failure.

use super::EngineError;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

const STDERR_KEPT: usize = 4096;
const CHUNK_CAPACITY: usize = 1 << 20;

pub struct Finished {
    pub exit_code: i64,
    /// The end of stderr, for the error message.
    pub stderr: String,
}

/// Runs `cmd` in `container` with `env` (where secrets go; never argv). Every
/// stdout chunk is passed to `on_stdout`; `stdin`, when given, is fed then closed.
pub async fn run(
    docker: &Docker,
    container: &str,
    cmd: &[&str],
    env: &[String],
    stdin: Option<mpsc::Receiver<Vec<u8>>>,
    mut on_stdout: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<Finished, EngineError> {
    let action = || format!("exec in {container}");
    let options = CreateExecOptions {
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        env: Some(env.to_vec()),
        attach_stdin: Some(stdin.is_some()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let created = docker
        .create_exec(container, options)
        .await
        .map_err(|e| EngineError::request(action(), e))?;
    let start = StartExecOptions {
        detach: false,
        tty: false,
        output_capacity: Some(CHUNK_CAPACITY),
    };
    let started = docker
        .start_exec(&created.id, Some(start))
        .await
        .map_err(|e| EngineError::request(action(), e))?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = started
    else {
        return Err(EngineError::request(action(), "did not attach"));
    };
    let feeding = async move {
        if let Some(mut stdin) = stdin {
            while let Some(chunk) = stdin.recv().await {
                input.write_all(&chunk).await?;
            }
            input.shutdown().await?;
        }
        Ok::<_, std::io::Error>(())
    };
    let reading = async {
        // Raw bytes, decoded once at the end: a cut never splits a character.
        let mut stderr: Vec<u8> = Vec::new();
        while let Some(chunk) = output.next().await {
            match chunk.map_err(|e| EngineError::request(action(), e))? {
                LogOutput::StdOut { message } => {
                    on_stdout(&message).map_err(|e| EngineError::output(action(), e))?
                }
                LogOutput::StdErr { message } => keep_end(&mut stderr, &message),
                _ => {}
            }
        }
        Ok::<_, EngineError>(stderr)
    };
    let (fed, stderr) = tokio::join!(feeding, reading);
    let stderr = stderr?;
    fed.map_err(|e| EngineError::request(format!("feeding exec in {container}"), e))?;
    Ok(Finished {
        exit_code: exit_code(docker, &created.id).await?,
        stderr: String::from_utf8_lossy(&stderr).trim().to_string(),
    })
}

/// Appends `bytes`, keeping only the last `STDERR_KEPT` bytes.
fn keep_end(kept: &mut Vec<u8>, bytes: &[u8]) {
    kept.extend_from_slice(bytes);
    if kept.len() > STDERR_KEPT {
        kept.drain(..kept.len() - STDERR_KEPT);
    }
}

/// The exec's exit code, once exec inspect says it is no longer running.
async fn exit_code(docker: &Docker, id: &str) -> Result<i64, EngineError> {
    for _ in 0..250 {
        let inspected = docker
            .inspect_exec(id)
            .await
            .map_err(|e| EngineError::request("exec inspect", e))?;
        if inspected.running != Some(true) {
            return Ok(inspected.exit_code.unwrap_or(-1));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Err(EngineError::request(
        "exec inspect",
        "the exec's output ended but it kept running",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_long_non_ascii_stderr_is_kept_without_panicking() {
        let mut kept = Vec::new();
        for _ in 0..2000 {
            keep_end(&mut kept, "échec é".as_bytes());
        }
        assert_eq!(kept.len(), STDERR_KEPT);
        let text = String::from_utf8_lossy(&kept);
        assert!(text.ends_with("échec é"));
    }
}
