//! `--format table`: checks grouped by their first id segment, coloured by status
//! (plain when not a TTY or under NO_COLOR), the fix under each warning and failure.

use super::{Exporter, Report, Style};
use crate::check::{CheckResult, Status};
use colored::Colorize;
use comfy_table::{ContentArrangement, Table, presets};

pub struct TableExporter {
    pub style: Style,
}

impl Exporter for TableExporter {
    fn render(&self, report: &Report) -> String {
        colored::control::set_override(self.style.color);
        let mut table = Table::new();
        table.load_style(if self.style.color {
            presets::UTF8_FULL_CONDENSED
        } else {
            presets::ASCII_FULL_CONDENSED
        });
        table.set_content_arrangement(ContentArrangement::Dynamic);
        table.set_header(vec!["status", "check", "result"]);
        let mut group = "";
        for result in &report.results {
            let this_group = result.id.split('.').next().unwrap_or("");
            if this_group != group {
                group = this_group;
                table.add_row(vec![
                    String::new(),
                    group.to_uppercase().bold().to_string(),
                    String::new(),
                ]);
            }
            table.add_row(vec![
                badge(result.status),
                result.id.clone(),
                self.cell(result),
            ]);
        }
        let s = &report.summary;
        let summary = format!(
            "{}: {} checks, {} passed, {} warnings, {} failed, {} skipped in {} ms",
            badge(report.status),
            s.total,
            s.pass,
            s.warn,
            s.fail,
            s.skip,
            s.duration_ms
        );
        format!("{table}\n{summary}\n")
    }
}

impl TableExporter {
    fn cell(&self, result: &CheckResult) -> String {
        let mut cell = result.message.clone();
        if let Some(hint) = &result.hint {
            cell.push_str(&format!("\n{} {hint}", "fix:".bold()));
        }
        if self.style.verbose {
            for (key, value) in &result.details {
                cell.push_str(&format!("\n{}", detail_line(key, value).dimmed()));
            }
        }
        cell
    }
}

/// One detail as `key: value`: strings bare, lists joined, objects as
/// `k=v` pairs, each value cut to a readable length.
fn detail_line(key: &str, value: &serde_json::Value) -> String {
    const MAX: usize = 120;
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    let mut shown: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        shown.push('…');
    }
    format!("{key}: {shown}")
}

fn badge(status: Status) -> String {
    let text = status.label();
    match status {
        Status::Pass => text.green().to_string(),
        Status::Warn => text.yellow().to_string(),
        Status::Fail => text.red().bold().to_string(),
        Status::Skip => text.dimmed().to_string(),
        Status::Error => text.magenta().bold().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_table_shows_fix_and_summary_without_colour() {
        let table = TableExporter {
            style: Style::default(),
        };
        let text = super::super::render_alone(&table, &super::super::sample());
        assert!(
            !text.contains('\u{1b}'),
            "no escape codes when colour is off"
        );
        assert!(text.contains("fix: start helpdesk-ticket-db"));
        assert!(text.contains("FAIL: 4 checks, 1 passed, 1 warnings, 1 failed, 1 skipped"));
        assert!(text.contains("PORT"), "groups are headed");
    }

    #[test]
    fn coloured_table_has_escape_codes() {
        let table = TableExporter {
            style: Style {
                color: true,
                ..Style::default()
            },
        };
        let text = super::super::render_alone(&table, &super::super::sample());
        assert!(text.contains('\u{1b}'));
    }
}
