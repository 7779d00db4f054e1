//! Where a command's text goes (stdout, or a file written atomically) and
//! whether it is coloured.

use crate::cli::Color;
use crate::error::Error;
use std::io::IsTerminal;
use std::path::Path;

pub fn use_color(color: Color, to_stdout: bool) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => auto_color(
            to_stdout && std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR"),
            std::env::var_os("CLICOLOR_FORCE"),
        ),
    }
}

/// `--color auto`: NO_COLOR set and not empty turns it off (no-color.org);
/// else CLICOLOR_FORCE set, not empty and not 0 turns it on, terminal or not
/// (bixense.com/clicolors, as clap's own help reads it); else a terminal has it.
fn auto_color(
    terminal: bool,
    no_color: Option<std::ffi::OsString>,
    force: Option<std::ffi::OsString>,
) -> bool {
    if no_color.is_some_and(|v| !v.is_empty()) {
        return false;
    }
    force.is_some_and(|v| !v.is_empty() && v != "0") || terminal
}

/// Writes to stdout (a closed pipe is not an error), atomically to a regular
/// file, or in place to anything else (a device, a FIFO).
pub fn write_output(output: &Path, text: &str) -> Result<(), Error> {
    if output.as_os_str() == "-" {
        return crate::stdout::write(text)
            .map(|_| ())
            .map_err(|e| Error::CannotRun(format!("writing output: {e}")));
    }
    let written = match std::fs::metadata(output) {
        // A device or a FIFO (/dev/null, a pipe) is written in place: renaming a
        // file over it would replace it.
        Ok(meta) if !meta.is_file() => std::fs::write(output, text),
        // A regular file (or none yet): a unique temporary file, then rename —
        // a planted symlink is replaced, never followed; concurrent runs never share it.
        _ => crate::files::write_atomically(output, text.as_bytes(), 0o644),
    };
    written.map_err(|e| Error::CannotRun(format!("writing {}: {e}", output.display())))
}

#[cfg(test)]
mod tests {
    use super::auto_color;

    #[test]
    fn no_color_wins_then_clicolor_force_then_the_terminal() {
        let set = |v: &str| Some(std::ffi::OsString::from(v));
        assert!(auto_color(true, None, None));
        assert!(!auto_color(false, None, None));
        assert!(auto_color(false, None, set("1")));
        assert!(!auto_color(false, None, set("0")));
        assert!(!auto_color(false, None, set("")));
        assert!(!auto_color(true, set("1"), set("1")));
        assert!(auto_color(true, set(""), None));
    }
}
