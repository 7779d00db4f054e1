//! A command in a container as a byte stream: its stdin is what we write, its
//! stdout what we read (one `AsyncRead + AsyncWrite`, e.g. for a PostgreSQL
//! connection bridged through the engine). Its stderr is kept apart (the end of
//! it) to explain a failure.

use super::EngineError;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bytes::Bytes;
use futures::Stream;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const STDERR_KEPT: usize = 4096;

type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;

pub struct ExecStream {
    output: Output,
    input: Pin<Box<dyn AsyncWrite + Send>>,
    pending: Bytes,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// The end of a command's stderr, readable while and after it runs.
#[derive(Clone)]
pub struct Stderr(Arc<Mutex<Vec<u8>>>);

impl Stderr {
    pub fn text(&self) -> String {
        let kept = self.0.lock().expect("stderr lock");
        String::from_utf8_lossy(&kept).trim().to_string()
    }
}

/// Starts `cmd` (an argument vector, no shell) in `container` with `env`,
/// attached: the returned stream is its stdin and stdout.
pub async fn start(
    docker: &Docker,
    container: &str,
    cmd: &[&str],
    env: &[String],
) -> Result<(ExecStream, Stderr), EngineError> {
    let action = || format!("exec in {container}");
    let options = CreateExecOptions {
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        env: Some(env.to_vec()),
        attach_stdin: Some(true),
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
        output_capacity: Some(1 << 20),
    };
    let started = docker
        .start_exec(&created.id, Some(start))
        .await
        .map_err(|e| EngineError::request(action(), e))?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(EngineError::request(action(), "did not attach"));
    };
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let stream = ExecStream {
        output,
        input,
        pending: Bytes::new(),
        stderr: stderr.clone(),
    };
    Ok((stream, Stderr(stderr)))
}

impl ExecStream {
    fn keep_stderr(&self, bytes: &[u8]) {
        let mut kept = self.stderr.lock().expect("stderr lock");
        kept.extend_from_slice(bytes);
        if kept.len() > STDERR_KEPT {
            let cut = kept.len() - STDERR_KEPT;
            kept.drain(..cut);
        }
    }
}

impl AsyncRead for ExecStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.pending.is_empty() {
            match ready!(self.output.as_mut().poll_next(cx)) {
                Some(Ok(LogOutput::StdOut { message })) => self.pending = message,
                Some(Ok(LogOutput::StdErr { message })) => self.keep_stderr(&message),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = self.pending.len().min(buf.remaining());
        let chunk = self.pending.split_to(n);
        buf.put_slice(&chunk);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ExecStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.input.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.input.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.input.as_mut().poll_shutdown(cx)
    }
}
