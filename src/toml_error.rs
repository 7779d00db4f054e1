//! A TOML error as `path:line:column: message`, for config and check files alike.

use std::path::Path;

/// `path:line:column: message` for a TOML parse or shape error.
pub fn describe(path: &Path, text: &str, error: &toml::de::Error) -> String {
    let (line, column) = match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            (line, column)
        }
        None => (1, 1),
    };
    format!(
        "{}:{line}:{column}: {}",
        path.display(),
        error.message().trim()
    )
}
