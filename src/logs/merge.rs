//! Merges the containers' line streams into one, oldest line first: a k-way
//! merge over bounded channels, so memory stays constant however long the logs.

use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::{Receiver, error::TryRecvError};

/// One line ready to print (rendered, masked, filtered), with the engine's time.
#[derive(Debug)]
pub struct Entry {
    pub at: SystemTime,
    pub text: String,
}

/// Where merged lines go; `false` from `write` stops the merge (a closed pipe).
pub trait Sink {
    fn write(&mut self, source: usize, entry: Entry) -> bool;
    /// Called before the merge waits for more lines.
    fn flush(&mut self);
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Open,
    /// Sent nothing for the idle time: not waited for until it sends again.
    Quiet,
    Closed,
}

struct Source {
    lines: Receiver<Entry>,
    head: Option<Entry>,
    state: State,
}

/// Writes every source's lines to `sink` in timestamp order. Without `idle`,
/// the order is exact: the oldest head is written only once every open
/// source has one (each source's own lines are in order). With `idle`
/// (following live logs), a source that sent nothing for that long stops
/// holding the others back until it sends again.
pub async fn merge(receivers: Vec<Receiver<Entry>>, idle: Option<Duration>, sink: &mut impl Sink) {
    let mut sources: Vec<Source> = receivers
        .into_iter()
        .map(|lines| Source {
            lines,
            head: None,
            state: State::Open,
        })
        .collect();
    loop {
        take_ready_heads(&mut sources);
        let waiting: Vec<usize> = indices(&sources, |s| s.state == State::Open && s.head.is_none());
        if !waiting.is_empty() {
            sink.flush();
            match idle {
                None => receive(&mut sources, &waiting[..1]).await,
                Some(idle) => {
                    if tokio::time::timeout(idle, receive(&mut sources, &waiting))
                        .await
                        .is_err()
                    {
                        waiting
                            .iter()
                            .for_each(|&i| sources[i].state = State::Quiet);
                    }
                }
            }
            continue;
        }
        if let Some(oldest) = oldest_head(&sources) {
            let entry = sources[oldest].head.take().expect("the oldest has a head");
            if !sink.write(oldest, entry) {
                return;
            }
            continue;
        }
        let quiet = indices(&sources, |s| s.state == State::Quiet);
        if quiet.is_empty() {
            sink.flush();
            return;
        }
        sink.flush();
        receive(&mut sources, &quiet).await;
    }
}

fn indices(sources: &[Source], keep: impl Fn(&Source) -> bool) -> Vec<usize> {
    (0..sources.len()).filter(|&i| keep(&sources[i])).collect()
}

/// Heads already in the channels, without waiting.
fn take_ready_heads(sources: &mut [Source]) {
    for source in sources
        .iter_mut()
        .filter(|s| s.head.is_none() && s.state != State::Closed)
    {
        match source.lines.try_recv() {
            Ok(entry) => {
                source.head = Some(entry);
                source.state = State::Open;
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => source.state = State::Closed,
        }
    }
}

/// Waits for the first of `which` to send a line (its head) or to close.
async fn receive(sources: &mut [Source], which: &[usize]) {
    let waits = sources
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| which.contains(i))
        .map(|(i, s)| Box::pin(async move { (i, s.lines.recv().await) }));
    let ((i, received), _, _) = futures::future::select_all(waits).await;
    match received {
        Some(entry) => {
            sources[i].head = Some(entry);
            sources[i].state = State::Open;
        }
        None => sources[i].state = State::Closed,
    }
}

fn oldest_head(sources: &[Source]) -> Option<usize> {
    (0..sources.len())
        .filter(|&i| sources[i].head.is_some())
        .min_by_key(|&i| sources[i].head.as_ref().map(|h| h.at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;
    use tokio::sync::mpsc;

    #[derive(Default)]
    struct Collected(Vec<(usize, u64)>);

    impl Sink for Collected {
        fn write(&mut self, source: usize, entry: Entry) -> bool {
            let at = entry.at.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
            self.0.push((source, at));
            true
        }
        fn flush(&mut self) {}
    }

    fn entry(millis: u64) -> Entry {
        Entry {
            at: UNIX_EPOCH + Duration::from_millis(millis),
            text: String::new(),
        }
    }

    #[tokio::test]
    async fn interleaves_sources_in_timestamp_order_with_small_channels() {
        let stamps: [Vec<u64>; 3] = [
            vec![1, 4, 7, 9, 10, 11, 12],
            vec![2, 3, 8],
            (5..=6).chain(13..=40).collect(),
        ];
        let mut receivers = Vec::new();
        for lines in stamps.clone() {
            let (tx, rx) = mpsc::channel(2);
            receivers.push(rx);
            tokio::spawn(async move {
                for at in lines {
                    tokio::task::yield_now().await;
                    tx.send(entry(at)).await.unwrap();
                }
            });
        }
        let mut sink = Collected::default();
        merge(receivers, None, &mut sink).await;
        let order: Vec<u64> = sink.0.iter().map(|(_, at)| *at).collect();
        assert_eq!(order, (1..=40).collect::<Vec<_>>());
        assert_eq!(sink.0[1], (1, 2));
    }

    #[tokio::test]
    async fn following_does_not_wait_forever_for_a_quiet_source() {
        let (quiet_tx, quiet) = mpsc::channel(2);
        let (busy_tx, busy) = mpsc::channel(2);
        tokio::spawn(async move {
            for at in [1, 2, 3] {
                busy_tx.send(entry(at)).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            quiet_tx.send(entry(9)).await.unwrap();
        });
        let mut sink = Collected::default();
        tokio::time::timeout(
            Duration::from_secs(5),
            merge(
                vec![quiet, busy],
                Some(Duration::from_millis(50)),
                &mut sink,
            ),
        )
        .await
        .expect("the merge ends when both sources close");
        assert_eq!(sink.0, vec![(1, 1), (1, 2), (1, 3), (0, 9)]);
    }
}
