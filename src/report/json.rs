//! `--format json`: one document, `{"version": 1, "status", "summary", "results"}`.

use super::{Exporter, Report};

pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn render(&self, report: &Report) -> String {
        let mut text = serde_json::to_string_pretty(report).expect("a report serialises");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_has_the_documented_shape() {
        let doc: serde_json::Value =
            serde_json::from_str(&JsonExporter.render(&super::super::sample())).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["status"], "fail");
        assert_eq!(doc["summary"]["fail"], 1);
        assert_eq!(doc["summary"]["skip"], 1);
        let first = &doc["results"][0];
        for key in [
            "id",
            "kind",
            "target",
            "title",
            "status",
            "message",
            "hint",
            "duration_ms",
            "details",
        ] {
            assert!(first.get(key).is_some(), "missing {key}");
        }
        assert_eq!(doc["results"][1]["status"], "skip");
    }
}
