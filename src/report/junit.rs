//! `--format junit`: one test suite per check group, one test case per check (quick-junit).

use super::{Exporter, Report};
use crate::check::{CheckResult, Status};
use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct JunitExporter;

impl Exporter for JunitExporter {
    fn render(&self, report: &Report) -> String {
        let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
        for result in &report.results {
            let group = result.id.split('.').next().unwrap_or("checks");
            // Over several engines, a suite per engine and group.
            let group = match &result.engine {
                Some(engine) => format!("{engine}.{group}"),
                None => group.to_string(),
            };
            let mut case = TestCase::new(result.id.as_str(), case_status(result));
            if result.status == Status::Warn {
                // Warnings pass, as in the exit code, but stay visible in the CI's output.
                case.set_system_out(format!(
                    "WARN: {}\nfix: {}",
                    result.message,
                    result.hint.as_deref().unwrap_or("")
                ));
            }
            case.set_classname(format!("helpdesk-doctor.{group}"));
            case.set_time(Duration::from_millis(result.duration_ms));
            suites
                .entry(group.clone())
                .or_insert_with(|| TestSuite::new(group))
                .add_test_case(case);
        }
        let mut junit = JunitReport::new("helpdesk-doctor");
        junit.set_time(Duration::from_millis(report.summary.duration_ms));
        junit.add_test_suites(suites.into_values());
        junit.to_string().expect("a JUnit report serialises")
    }
}

fn case_status(result: &CheckResult) -> TestCaseStatus {
    match result.status {
        Status::Pass | Status::Warn => TestCaseStatus::success(),
        Status::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(result.message.as_str());
            status
        }
        Status::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(result.message.as_str());
            status.set_type("unknown");
            status
        }
        Status::Fail => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(result.message.as_str());
            status.set_type("fail");
            status.set_description(format!(
                "{}\nfix: {}",
                result.message,
                result.hint.as_deref().unwrap_or("")
            ));
            status
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_skips_are_marked() {
        let xml = JunitExporter.render(&super::super::sample());
        assert!(
            xml.contains("<testsuites name=\"helpdesk-doctor\" tests=\"4\" skipped=\"1\" failures=\"1\" errors=\"0\""),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"port 5403 closed\" type=\"fail\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"skipped: port.ticket.db did not pass\""),
            "{xml}"
        );
        assert!(
            xml.contains("WARN: 12 keys evicted &lt;&amp;&gt;"),
            "warnings pass, escaped, in system-out: {xml}"
        );
    }
}
