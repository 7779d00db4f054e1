//! The `checks list` command: every check of the catalog, a line each or JSON.

use crate::cli::ListFormat;
use crate::deployment::Deployment;
use crate::error::Error;
use crate::{catalog, exit_code};

/// `checks list`: the catalog as the config's services expand it (no engine touched).
pub fn run(
    profile: Deployment,
    dirs: &[std::path::PathBuf],
    format: ListFormat,
) -> Result<u8, Error> {
    let checks = catalog::load(&profile, dirs)?;
    let text = match format {
        ListFormat::Json => {
            let listed: Vec<serde_json::Value> = checks
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.def.id,
                        "title": c.def.title,
                        "kind": c.def.probe.kind(),
                        "needs": c.def.needs,
                        "source": c.source,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&listed).expect("a list serialises") + "\n"
        }
        ListFormat::Text => checks
            .iter()
            .map(|check| {
                let needs = if check.def.needs.is_empty() {
                    String::new()
                } else {
                    format!("  needs {}", check.def.needs.join(", "))
                };
                format!(
                    "{:<40} {:<46} {:<20} {}{needs}\n",
                    check.def.id,
                    check.def.title,
                    check.def.probe.kind(),
                    check.source
                )
            })
            .collect(),
    };
    crate::output::write_output(std::path::Path::new("-"), &text)?;
    Ok(exit_code::OK)
}
