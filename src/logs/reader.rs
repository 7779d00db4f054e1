//! Reads one container's logs from the engine API into a bounded channel:
//! parsed, rendered, masked, filtered; when following, reattaches after the
//! container restarts (or is recreated under the same name).

use super::line::{self, Level};
use super::merge::Entry;
use crate::deployment::Context;
use bollard::query_parameters::LogsOptionsBuilder;
use futures::StreamExt;
use regex::Regex;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc::Sender;

/// How often a followed container that stopped is looked at again.
const REATTACH_POLL: Duration = Duration::from_millis(300);

/// What every reader keeps and how it reads.
pub struct Filter {
    pub since: Option<SystemTime>,
    pub tail: Option<u64>,
    pub follow: bool,
    pub level: Option<Level>,
    /// Matched against the masked line (a pattern cannot probe a secret).
    pub grep: Option<Regex>,
    pub timestamps: bool,
}

/// Why a container's logs could not be read to their end.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Engine(#[from] crate::deployment::EngineError),
    #[error("reading its logs: {0}")]
    Stream(#[from] bollard::errors::Error),
}

/// Sends `container`'s lines to `lines` until they end (or, following, until
/// the receiver is gone); an engine error ends it (following, a broken stream
/// is a restart: it reattaches).
pub async fn read(
    ctx: Arc<Context>,
    container: String,
    filter: Arc<Filter>,
    lines: Sender<Entry>,
) -> Result<(), ReadError> {
    let mut since = filter.since.map(epoch_seconds).unwrap_or(0);
    let mut resume_after: Option<SystemTime> = None;
    let mut last_seen: Option<SystemTime> = None;
    loop {
        let mut options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .timestamps(true)
            .follow(filter.follow)
            .since(since);
        if let Some(tail) = filter.tail.filter(|_| resume_after.is_none()) {
            options = options.tail(&tail.to_string());
        }
        let mut stream =
            crate::deployment::containers::logs(&ctx, &container, options.build()).await?;
        let mut partial: Vec<u8> = Vec::new();
        while let Some(chunk) = stream.next().await {
            let bytes = match chunk {
                Ok(output) => output.into_bytes(),
                Err(e) if !filter.follow => return Err(e.into()),
                Err(_) => break,
            };
            partial.extend_from_slice(&bytes);
            for raw in complete_lines(&mut partial) {
                let Some(parsed) = line::parse(&String::from_utf8_lossy(&raw)) else {
                    continue;
                };
                if resume_after.is_some_and(|after| parsed.at <= after) {
                    continue;
                }
                last_seen = Some(parsed.at);
                if let Some(entry) = kept(&ctx, &filter, parsed)
                    && lines.send(entry).await.is_err()
                {
                    return Ok(());
                }
            }
        }
        if !filter.follow || lines.is_closed() {
            return Ok(());
        }
        wait_running(&ctx, &container, &lines).await;
        if lines.is_closed() {
            return Ok(());
        }
        resume_after = last_seen;
        since = last_seen.map(epoch_seconds).unwrap_or(since);
        let notice = Entry {
            at: SystemTime::now(),
            text: "(restarted: following its logs again)".into(),
        };
        if lines.send(notice).await.is_err() {
            return Ok(());
        }
    }
}

/// The complete lines in `partial` (a line cut in two by the engine's frames
/// waits for its end; one that never ends is cut at `MAX_LINE_BYTES`).
fn complete_lines(partial: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(end) = memchr::memchr(b'\n', &partial[start..]) {
        lines.push(partial[start..=start + end].to_vec());
        start += end + 1;
    }
    partial.drain(..start);
    if partial.len() > 2 * line::MAX_LINE_BYTES {
        lines.push(std::mem::take(partial));
    }
    lines
}

/// The line as printed, if the filters keep it.
fn kept(ctx: &Context, filter: &Filter, parsed: line::Line) -> Option<Entry> {
    if filter.level.is_some_and(|least| parsed.level < least) {
        return None;
    }
    let mut text = ctx.mask(&parsed.text);
    if filter
        .grep
        .as_ref()
        .is_some_and(|grep| !grep.is_match(&text))
    {
        return None;
    }
    if filter.timestamps {
        text = format!("{} {text}", humantime::format_rfc3339_nanos(parsed.at));
    }
    Some(Entry {
        at: parsed.at,
        text,
    })
}

/// Until the container runs again (it may be restarting, or being recreated).
async fn wait_running(ctx: &Context, container: &str, lines: &Sender<Entry>) {
    let Ok(docker) = ctx.docker_for(container).await else {
        return;
    };
    while !lines.is_closed() {
        tokio::time::sleep(REATTACH_POLL).await;
        let running = docker
            .inspect_container(container, None)
            .await
            .ok()
            .and_then(|c| c.state?.running)
            .unwrap_or(false);
        if running {
            return;
        }
    }
}

fn epoch_seconds(at: SystemTime) -> i32 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs().min(i32::MAX as u64) as i32)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_frames_wait_for_their_end() {
        let mut partial = b"one\ntw".to_vec();
        assert_eq!(complete_lines(&mut partial), vec![b"one\n".to_vec()]);
        partial.extend_from_slice(b"o\nthree");
        assert_eq!(complete_lines(&mut partial), vec![b"two\n".to_vec()]);
        assert_eq!(partial, b"three");
        let mut endless = vec![b'x'; 3 * line::MAX_LINE_BYTES];
        assert_eq!(complete_lines(&mut endless).len(), 1);
        assert!(endless.is_empty());
    }
}
