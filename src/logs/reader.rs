//! Reads one container's logs from the engine API into a bounded channel:
//! parsed, rendered, masked, filtered; when following, reattaches after the
//! container restarts (or is recreated under the same name).

use super::line::{self, Level};
use super::merge::Entry;
use crate::deployment::Context;
use crate::deployment::containers::logs;
use crate::deployment::engine_client::LogQuery;
use futures::StreamExt;
use regex::Regex;
use std::collections::VecDeque;
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
}

/// Sends `container`'s lines to `lines` until they end (or, following, until
/// the receiver is gone); an engine error ends it (following, a broken stream
/// is a restart: it reattaches). With `--grep` or `--level`, `-n N` is the last
/// N lines they keep: the history is read whole, its last N kept lines sent.
pub async fn read(
    ctx: Arc<Context>,
    container: String,
    filter: Arc<Filter>,
    lines: Sender<Entry>,
) -> Result<(), ReadError> {
    let mut cursor = Cursor {
        since: filter.since.map(epoch_seconds).unwrap_or(0),
        resume_after: None,
        last_seen: None,
    };
    if let Some(n) = filter.tail.filter(|_| filter.selects_lines()) {
        let mut last = Out::Last(VecDeque::new(), n as usize);
        let history = logs(&ctx, &container, cursor.options(false, None)).await?;
        pass(history, &ctx, &filter, &mut cursor, &mut last, false).await?;
        if let Out::Last(kept, _) = last {
            for entry in kept {
                if lines.send(entry).await.is_err() {
                    return Ok(());
                }
            }
        }
        if !filter.follow {
            return Ok(());
        }
        cursor.resume();
    }
    let mut out = Out::Channel(&lines);
    loop {
        let tail = filter.tail.filter(|_| cursor.resume_after.is_none());
        let stream = logs(&ctx, &container, cursor.options(filter.follow, tail)).await?;
        if !pass(stream, &ctx, &filter, &mut cursor, &mut out, filter.follow).await? {
            return Ok(());
        }
        if !filter.follow || lines.is_closed() {
            return Ok(());
        }
        wait_running(&ctx, &container, &lines).await;
        if lines.is_closed() {
            return Ok(());
        }
        cursor.resume();
        let notice = Entry {
            at: SystemTime::now(),
            text: "(restarted: following its logs again)".into(),
        };
        if lines.send(notice).await.is_err() {
            return Ok(());
        }
    }
}

/// Where a reader is in a container's logs.
struct Cursor {
    /// The engine's `since` (whole seconds).
    since: i32,
    /// After a reattach: lines up to this one were sent already.
    resume_after: Option<SystemTime>,
    last_seen: Option<SystemTime>,
}

impl Cursor {
    fn options(&self, follow: bool, tail: Option<u64>) -> LogQuery {
        LogQuery {
            since: Some(self.since as i64),
            tail,
            timestamps: true,
            follow,
            ..Default::default()
        }
    }

    /// The next stream starts after the last line seen.
    fn resume(&mut self) {
        self.resume_after = self.last_seen;
        self.since = self.last_seen.map(epoch_seconds).unwrap_or(self.since);
    }
}

/// Where kept lines go: the merge's channel, or the last N of a history.
enum Out<'a> {
    Channel(&'a Sender<Entry>),
    Last(VecDeque<Entry>, usize),
}

impl Out<'_> {
    /// `false` once the receiver is gone.
    async fn put(&mut self, entry: Entry) -> bool {
        match self {
            Out::Channel(lines) => lines.send(entry).await.is_ok(),
            Out::Last(last, n) => {
                if last.len() == *n {
                    last.pop_front();
                }
                if *n > 0 {
                    last.push_back(entry);
                }
                true
            }
        }
    }
}

/// One stream of the engine's, parsed, filtered and put into `out`; `false`
/// once the receiver is gone. An engine error ends it: an error unless
/// `broken_is_end` (following: a broken stream is a restart).
async fn pass(
    mut stream: crate::deployment::engine_client::LogStream,
    ctx: &Context,
    filter: &Filter,
    cursor: &mut Cursor,
    out: &mut Out<'_>,
    broken_is_end: bool,
) -> Result<bool, ReadError> {
    let mut partial: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let bytes = match chunk {
            Ok(output) => output,
            Err(e) if !broken_is_end => return Err(e.into()),
            Err(_) => break,
        };
        partial.extend_from_slice(&bytes);
        for raw in complete_lines(&mut partial) {
            let Some(parsed) = line::parse(&String::from_utf8_lossy(&raw)) else {
                continue;
            };
            if cursor.resume_after.is_some_and(|after| parsed.at <= after) {
                continue;
            }
            cursor.last_seen = Some(parsed.at);
            if let Some(entry) = kept(ctx, filter, parsed)
                && !out.put(entry).await
            {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

impl Filter {
    /// Whether lines are left out by what they say (not only by their time).
    fn selects_lines(&self) -> bool {
        self.grep.is_some() || self.level.is_some()
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
    let Ok(engine) = ctx.engine_for(container).await else {
        return;
    };
    while !lines.is_closed() {
        tokio::time::sleep(REATTACH_POLL).await;
        let running = engine.running_now(container).await.unwrap_or(false);
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
