//! Standard output of every command. A reader that went away (`… | head -1`)
//! ends the output quietly, as ripgrep does: nothing more is written, no panic,
//! no message, and the exit code stays the command's own. Any other write
//! error (a full disk behind `>`) is kept, and `main` reports it once (exit 3).

use std::fmt;
use std::io::{ErrorKind, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The reader closed the pipe: every later write is skipped.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// The first write error that was not a closed pipe.
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Writes `text` and flushes. `Ok(false)` once the reader is gone (the caller
/// may stop producing), `Err` on any other error (also kept for `failure`).
pub fn write(text: &str) -> std::io::Result<bool> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(false);
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(false)
        }
        Err(e) => {
            FAILED
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get_or_insert_with(|| e.to_string());
            Err(e)
        }
    }
}

/// One line (what `outln!` prints); errors are kept for `failure`.
pub fn line(args: fmt::Arguments) {
    let _ = write(&format!("{args}\n"));
}

/// The first error writing to stdout other than a closed pipe, if any.
pub fn failure() -> Option<String> {
    FAILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// `println!` that ends quietly on a closed pipe instead of panicking.
macro_rules! outln {
    () => {
        $crate::stdout::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::stdout::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
