//! The grouped verdict as data — each group's worst status, key figures and
//! problems with their fix, as the human summary prints them — for renderers
//! other than the terminal (`serve`'s status page).

use super::Report;
use super::human::{
    explained_per_cause, groups, is_problem, key_figures, root_cause, skipped_per_cause,
};
use crate::check::{CheckResult, Status};

/// One group (docker, host, a service, a custom first segment).
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    /// The worst warning, failure or unknown in it; `None`: all well.
    pub worst: Option<Status>,
    pub figures: String,
    pub problems: Vec<Problem>,
}

/// A warning, failure or unknown not explained by another check.
#[derive(Clone, Debug)]
pub struct Problem {
    pub id: String,
    pub status: Status,
    pub message: String,
    pub hint: Option<String>,
    /// The failures it explains (their root cause is this one).
    pub also_failing: Vec<String>,
    /// The warnings it explains.
    pub warnings_explained: Vec<String>,
    /// How many checks were skipped because of it.
    pub skipped: usize,
}

/// The report's groups in the human summary's order.
pub fn grouped(report: &Report) -> Vec<Group> {
    let skipped = skipped_per_cause(&report.results);
    let explained = explained_per_cause(&report.results);
    let explained_ids = |id: &str, status: Status| -> Vec<String> {
        explained
            .get(id)
            .into_iter()
            .flatten()
            .filter(|r| r.status == status)
            .map(|r| r.id.clone())
            .collect()
    };
    groups(&report.results)
        .into_iter()
        .map(|group| Group {
            worst: worst(&group.results),
            figures: key_figures(&group, report.cluster.as_ref()),
            problems: group
                .results
                .iter()
                .filter(|r| is_problem(r.status) && root_cause(r).is_none())
                .map(|r| Problem {
                    id: r.id.clone(),
                    status: r.status,
                    message: r.message.clone(),
                    hint: r.hint.clone(),
                    also_failing: explained_ids(&r.id, Status::Fail),
                    warnings_explained: explained_ids(&r.id, Status::Warn),
                    skipped: skipped.get(r.id.as_str()).copied().unwrap_or(0),
                })
                .collect(),
            name: group.name,
        })
        .collect()
}

fn worst(results: &[&CheckResult]) -> Option<Status> {
    results
        .iter()
        .map(|r| r.status)
        .filter(|s| is_problem(*s))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_group_has_its_worst_status_and_its_problems_with_their_fix() {
        let groups = grouped(&super::super::sample());
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["ticket", "auth"]);
        assert_eq!(groups[0].worst, Some(Status::Fail));
        assert_eq!(groups[0].problems.len(), 1, "the skip is no problem");
        let problem = &groups[0].problems[0];
        assert_eq!(problem.id, "port.ticket.db");
        assert_eq!(problem.hint.as_deref(), Some("start helpdesk-ticket-db"));
        assert_eq!(groups[1].worst, Some(Status::Warn));
        assert_eq!(groups[1].problems[0].message, "12 keys evicted <&>");
    }
}
