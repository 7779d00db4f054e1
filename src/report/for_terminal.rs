//! The text formats' guard: they render a copy of the report whose every
//! string (results, their details, the engine's and project's names) went
//! through `terminal_text::clean`, so nothing a deployment wrote can move the
//! cursor, retitle the window or write the clipboard. Machine formats (JSON,
//! JUnit, Prometheus) keep the data as data and escape it themselves.

use super::{Exporter, Report};
use crate::check::CheckResult;
use crate::terminal_text::clean;
use serde_json::Value;

/// `inner`, rendering the cleaned report.
pub struct ForTerminal(pub Box<dyn Exporter>);

impl Exporter for ForTerminal {
    fn render(&self, report: &Report) -> String {
        self.0.render(&cleaned(report))
    }
}

fn cleaned(report: &Report) -> Report {
    let mut report = report.clone();
    for result in &mut report.results {
        clean_result(result);
    }
    for project in report
        .project
        .iter_mut()
        .chain(report.engines.iter_mut().filter_map(|e| e.project.as_mut()))
    {
        clean_in_place(&mut project.name);
        clean_in_place(&mut project.found_by);
    }
    if let Some(engine) = &mut report.engine {
        for text in [
            &mut engine.endpoint,
            &mut engine.version,
            &mut engine.api_version,
        ] {
            clean_in_place(text);
        }
    }
    for part in &mut report.engines {
        clean_in_place(&mut part.name);
        clean_in_place(&mut part.endpoint);
    }
    if let Some(text) = &mut report.since_healthy {
        clean_in_place(text);
    }
    report
}

fn clean_result(result: &mut CheckResult) {
    for text in [
        &mut result.id,
        &mut result.kind,
        &mut result.target,
        &mut result.title,
        &mut result.message,
    ] {
        clean_in_place(text);
    }
    for text in result.hint.iter_mut().chain(result.engine.iter_mut()) {
        clean_in_place(text);
    }
    let details = std::mem::take(&mut result.details);
    result.details = details
        .into_iter()
        .map(|(key, mut value)| {
            clean_value(&mut value);
            (clean(&key).into_owned(), value)
        })
        .collect();
}

fn clean_value(value: &mut Value) {
    match value {
        Value::String(text) => clean_in_place(text),
        Value::Array(items) => items.iter_mut().for_each(clean_value),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            *map = entries
                .into_iter()
                .map(|(key, mut value)| {
                    clean_value(&mut value);
                    (clean(&key).into_owned(), value)
                })
                .collect();
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn clean_in_place(text: &mut String) {
    if let std::borrow::Cow::Owned(cleaned) = clean(text) {
        *text = cleaned;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;
    use crate::report::{Format, Style, exporter, render_alone, sample};

    const HOSTILE: &str = "\x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2J";

    fn hostile_report() -> Report {
        let mut report = sample();
        let result = &mut report.results[0];
        result.message = format!("helpdesk-x is unhealthy: {HOSTILE}boom");
        result.hint = Some(format!("restart {HOSTILE}it"));
        result.details.insert(
            format!("dep{HOSTILE}"),
            serde_json::json!({ format!("db{HOSTILE}"): [format!("down{HOSTILE}")] }),
        );
        report.results[2].status = Status::Fail;
        report.with_project(&format!("proj{HOSTILE}"), "label")
    }

    #[test]
    fn no_text_format_lets_an_escape_through() {
        let report = hostile_report();
        for (format, verbose) in [
            (Format::Human, false),
            (Format::Human, true),
            (Format::Table, false),
            (Format::Tap, false),
            (Format::Nagios, false),
        ] {
            let style = Style {
                verbose,
                ..Style::default()
            };
            let text = render_alone(exporter(format, style).as_ref(), &report);
            assert!(!text.contains('\x1b'), "{format:?}: {text:?}");
            assert!(!text.contains('\x07'), "{format:?}: {text:?}");
            assert!(text.contains("boom"), "{format:?}: {text}");
        }
    }

    #[test]
    fn json_keeps_the_data_as_data() {
        let report = hostile_report();
        let text = exporter(Format::Json, Style::default()).render(&report);
        assert!(!text.contains('\x1b'), "serde escapes it: {text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        assert!(
            json["results"][0]["message"]
                .as_str()
                .unwrap()
                .contains(HOSTILE)
        );
    }
}
