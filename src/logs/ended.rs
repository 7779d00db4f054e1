//! How the readers ended: an engine error or a panic in any of them is one
//! line on stderr naming its container and a non-zero exit, never lines that
//! silently vanish.

use super::reader::ReadError;
use crate::exit_code;
use std::time::Duration;
use tokio::task::JoinHandle;

/// One container's reader task.
pub struct Reader {
    pub container: String,
    pub task: JoinHandle<Result<(), ReadError>>,
}

/// How long a reader may take to end once the merge has: a followed reader
/// still waiting on a quiet container (stdout was closed) is stopped.
const GRACE: Duration = Duration::from_secs(1);

/// Waits for every reader (their lines all merged, each has ended or is
/// ending) and says on stderr which failed: `OK`, or `CANNOT_RUN` when any did.
pub async fn ended(readers: Vec<Reader>) -> u8 {
    let mut code = exit_code::OK;
    for mut reader in readers {
        let Ok(outcome) = tokio::time::timeout(GRACE, &mut reader.task).await else {
            reader.task.abort();
            continue;
        };
        if let Some(why) = failure(outcome) {
            eprintln!(
                "helpdesk-doctor: {}: its logs were not all read: {why}",
                reader.container
            );
            code = exit_code::CANNOT_RUN;
        }
    }
    code
}

/// At Ctrl-C: the readers still reading are stopped, those that had already
/// failed are said as `ended` says them.
pub async fn stopped(readers: Vec<Reader>) -> u8 {
    readers
        .iter()
        .filter(|r| !r.task.is_finished())
        .for_each(|r| r.task.abort());
    ended(readers).await
}

/// Why a reader failed, if it did: its error, or its panic's message (one
/// stopped by the doctor did not fail).
fn failure(outcome: Result<Result<(), ReadError>, tokio::task::JoinError>) -> Option<String> {
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) if e.is_panic() => {
            let payload = e.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Some(format!("the doctor's reader failed (a bug): {message}"))
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reader_that_panics_or_fails_makes_the_exit_non_zero() {
        let fine = Reader {
            container: "fine".into(),
            task: tokio::spawn(async { Ok(()) }),
        };
        assert_eq!(ended(vec![fine]).await, exit_code::OK);
        let panicked: JoinHandle<Result<(), ReadError>> =
            tokio::spawn(async { panic!("year 33658 is out of range") });
        let outcome = panicked.await;
        assert_eq!(
            failure(outcome).as_deref(),
            Some("the doctor's reader failed (a bug): year 33658 is out of range")
        );
        let failed = Reader {
            container: "failed".into(),
            task: tokio::spawn(async {
                Err(ReadError::Engine(crate::deployment::EngineError::request(
                    "listing", "gone",
                )))
            }),
        };
        let panics = Reader {
            container: "panics".into(),
            task: tokio::spawn(async { panic!("boom") }),
        };
        assert_eq!(ended(vec![failed, panics]).await, exit_code::CANNOT_RUN);
    }

    #[tokio::test]
    async fn at_ctrl_c_a_reader_still_reading_is_stopped_and_one_that_panicked_is_said() {
        let reading = Reader {
            container: "reading".into(),
            task: tokio::spawn(std::future::pending()),
        };
        assert_eq!(stopped(vec![reading]).await, exit_code::OK);
        let panicked = Reader {
            container: "panicked".into(),
            task: tokio::spawn(async { panic!("boom") }),
        };
        tokio::task::yield_now().await;
        while !panicked.task.is_finished() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(stopped(vec![panicked]).await, exit_code::CANNOT_RUN);
    }
}
