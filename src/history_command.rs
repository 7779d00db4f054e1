//! The `history` and `diff` commands over the runs `diagnose` saved (`history`).

use crate::cli::ListFormat;
use crate::error::Error;
use crate::plan::{Plan, Wanted};
use crate::stdout::outln;
use crate::{exit_code, history};

/// `history`: the saved runs, oldest first (a line each, or JSON).
pub fn list(format: ListFormat) -> Result<u8, Error> {
    let runs = history::runs();
    if format == ListFormat::Json {
        let listed =
            serde_json::to_string_pretty(&history::listing(&runs)).expect("a list serialises");
        crate::output::write_output(std::path::Path::new("-"), &(listed + "\n"))?;
        return Ok(exit_code::OK);
    }
    if runs.is_empty() {
        outln!("no saved runs yet in {}", history::dir().display());
    }
    for (number, run) in runs.iter().enumerate() {
        outln!("{:>3}  {}", number + 1, run.name);
    }
    Ok(exit_code::OK)
}

/// `diff [FROM] [TO]`: FROM defaults to the last passing run, TO to a run now.
pub async fn diff(
    from: Option<&str>,
    to: Option<&str>,
    config: Option<&std::path::Path>,
    project: Option<&str>,
    checks_dirs: &[std::path::PathBuf],
) -> Result<u8, Error> {
    let from = match from {
        Some(name) => history::named(name)?,
        None => history::last_passing().ok_or_else(|| {
            Error::Usage(
                "no saved run passed yet: run diagnose on the healthy deployment first, or name two runs"
                    .into(),
            )
        })?,
    };
    let (to_name, after) = match to {
        Some(name) => {
            let run = history::named(name)?;
            (run.name.clone(), run.load()?)
        }
        None => {
            // The same checks as the earlier run: only what changed shows.
            let wanted = Wanted {
                only: history::ids(&from.load()?),
                ..Default::default()
            };
            let plan = Plan::load(config, project, checks_dirs, &wanted).await?;
            let report = plan.report().await;
            let json = crate::report::exporter(crate::report::Format::Json, Default::default())
                .render(&report);
            let _ = history::save(&json, &report.generated_at, report.status.as_str());
            (
                "now".to_string(),
                serde_json::from_str(&json).unwrap_or_default(),
            )
        }
    };
    let changes = history::changes(&from.load()?, &after);
    outln!("changes from {} to {to_name}:", from.name);
    if changes.is_empty() {
        outln!("  nothing changed");
    }
    for change in &changes {
        outln!("  {}", crate::terminal_text::clean(&change.to_string()));
    }
    Ok(exit_code::OK)
}
