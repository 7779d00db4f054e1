//! Docker's data root: its free space and inodes against the thresholds, the
//! project's container log files, and — only when space runs low, since the
//! engine takes seconds to minutes to compute it — what the engine holds there
//! (`/system/df`: images, build cache, volumes, containers' layers), within
//! what is left of the probe's time.

use super::Context;
use super::filesystem::{self, Space};
use crate::check::{Outcome, Status};
use crate::deployment::containers::{inspect, log_file_bytes};
use crate::deployment::disk_usage::{self, EngineUsage, Part};
use std::path::Path;
use std::time::{Duration, Instant};

const GB: f64 = 1_000_000_000.0;
/// Time kept back from the probe's timeout to answer after `/system/df`.
const ANSWER_MARGIN: Duration = Duration::from_millis(150);

/// The thresholds this check judges by (the config's `[thresholds]`).
pub struct Limits {
    pub warn_gb: f64,
    pub fail_gb: f64,
    pub inodes_warn_percent: f64,
    pub inodes_fail_percent: f64,
}

pub async fn check(ctx: &Context, limits: &Limits) -> Outcome {
    let started = Instant::now();
    if !ctx.profile.engine.is_local() {
        return Outcome::new(
            Status::Skip,
            format!(
                "the engine is remote ({}): the free space of its data root is not in the Docker API",
                ctx.profile.engine.describe()
            ),
        );
    }
    let engine = match ctx.engine().await {
        Ok(engine) => engine,
        Err(e) => return Outcome::from(e),
    };
    let root = match engine.host("docker info").await {
        Ok(host) => host.root_dir,
        Err(e) => return Outcome::from(e),
    };
    let space = match filesystem::space(Path::new(&root)).await {
        Ok(space) => space,
        Err(e) => {
            return Outcome::new(
                Status::Skip,
                format!("Docker's data root {root} cannot be measured from here: {e}"),
            );
        }
    };
    let (bytes_status, inodes_status) = judge(&space, limits);
    // Measured within what is left of the probe's time: the free space is
    // told even when a busy engine is slow to inspect the containers.
    let logs = tokio::time::timeout(left(ctx, started) / 2, project_logs(ctx))
        .await
        .unwrap_or(Logs {
            total: 0,
            largest: None,
            measured: false,
        });
    let mut message = format!(
        "{root}: {:.1} GB free of {:.1} GB, {} inodes free ({:.0}%){}",
        space.free_bytes as f64 / GB,
        space.total_bytes as f64 / GB,
        count(space.free_inodes),
        space.free_inodes_percent(),
        logs.describe()
    );
    let mut outcome = Outcome::new(bytes_status.max(inodes_status), String::new());
    if bytes_status != Status::Pass {
        match disk_usage::of_engine(ctx, left(ctx, started)).await {
            Ok(usage) => {
                message.push_str(&format!("; the engine holds {}", describe(&usage)));
                outcome = outcome.detail("engine_usage", usage);
            }
            Err(e) => {
                message.push_str(&format!(
                    "; what the engine holds is not known ({e}): see docker system df"
                ));
                outcome = outcome.detail("engine_usage_error", e.to_string());
            }
        }
    }
    if inodes_status != Status::Pass {
        message = format!("few inodes left: {message}");
    }
    outcome.message = message;
    outcome
        .detail("docker_root", &root)
        .detail("free_bytes", space.free_bytes)
        .detail("total_bytes", space.total_bytes)
        .detail("free_inodes", space.free_inodes)
        .detail("total_inodes", space.total_inodes)
        .detail("log_bytes", logs.total)
        .detail("largest_log", logs.largest.map(|(name, _)| name))
}

/// What is left of the probe's time, less what answering takes.
fn left(ctx: &Context, started: Instant) -> Duration {
    ctx.timeout
        .saturating_sub(started.elapsed() + ANSWER_MARGIN)
}

/// The verdicts on free bytes and on free inodes.
fn judge(space: &Space, limits: &Limits) -> (Status, Status) {
    let free_gb = space.free_bytes as f64 / GB;
    let bytes = if free_gb < limits.fail_gb {
        Status::Fail
    } else if free_gb < limits.warn_gb {
        Status::Warn
    } else {
        Status::Pass
    };
    let percent = space.free_inodes_percent();
    let inodes = if percent < limits.inodes_fail_percent {
        Status::Fail
    } else if percent < limits.inodes_warn_percent {
        Status::Warn
    } else {
        Status::Pass
    };
    (bytes, inodes)
}

/// The project's container log files on this machine.
struct Logs {
    total: u64,
    largest: Option<(String, u64)>,
    /// False when they could not be measured in time.
    measured: bool,
}

impl Logs {
    fn describe(&self) -> String {
        if !self.measured {
            return "; the project's container logs not measured in time".into();
        }
        match &self.largest {
            Some((name, bytes)) => format!(
                "; the project's container logs {} (largest {name}, {})",
                size(self.total),
                size(*bytes)
            ),
            None => String::new(),
        }
    }
}

/// Every container's log file at once (each one an inspection and a stat).
async fn project_logs(ctx: &Context) -> Logs {
    let names = ctx
        .profile
        .services
        .iter()
        .flat_map(|s| s.containers.values().flatten());
    let sizes = futures::future::join_all(names.map(|name| async move {
        let c = inspect(ctx, name).await.ok()??;
        let bytes = log_file_bytes(ctx, &c).await?;
        Some((c.name.clone(), bytes))
    }))
    .await;
    let mut logs = Logs {
        total: 0,
        largest: None,
        measured: true,
    };
    for (name, bytes) in sizes.into_iter().flatten() {
        logs.total += bytes;
        if logs.largest.as_ref().is_none_or(|(_, most)| bytes > *most) {
            logs.largest = Some((name, bytes));
        }
    }
    logs
}

fn describe(usage: &EngineUsage) -> String {
    let part = |name: &str, p: &Part| {
        format!(
            "{name} {} ({} reclaimable)",
            size(p.bytes),
            size(p.reclaimable)
        )
    };
    [
        part("images", &usage.images),
        part("build cache", &usage.build_cache),
        part("volumes", &usage.volumes),
        part("containers' layers", &usage.containers),
    ]
    .join(", ")
}

/// `1.2 GB`, `340.0 MB`, `12.0 kB` (decimal, as `docker system df`).
pub fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= GB {
        format!("{:.1} GB", b / GB)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} kB", b / 1e3)
    }
}

/// `16.3 M`, `950 k`, `12`.
fn count(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1} M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{} k", n / 1000),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            warn_gb: 5.0,
            fail_gb: 1.0,
            inodes_warn_percent: 10.0,
            inodes_fail_percent: 2.0,
        }
    }

    fn space(free_gb: f64, free_inodes: u64) -> Space {
        Space {
            free_bytes: (free_gb * GB) as u64,
            total_bytes: (100.0 * GB) as u64,
            free_inodes,
            total_inodes: 1000,
        }
    }

    #[test]
    fn space_and_inodes_are_judged_apart() {
        assert_eq!(
            judge(&space(50.0, 900), &limits()),
            (Status::Pass, Status::Pass)
        );
        assert_eq!(
            judge(&space(3.0, 900), &limits()),
            (Status::Warn, Status::Pass)
        );
        assert_eq!(
            judge(&space(0.5, 50), &limits()),
            (Status::Fail, Status::Warn)
        );
        assert_eq!(
            judge(&space(50.0, 10), &limits()),
            (Status::Pass, Status::Fail)
        );
    }

    #[test]
    fn usage_is_told_with_what_a_prune_frees() {
        let usage = EngineUsage {
            images: Part {
                bytes: 4_100_000_000,
                reclaimable: 1_200_000_000,
            },
            ..Default::default()
        };
        let told = describe(&usage);
        assert!(
            told.starts_with("images 4.1 GB (1.2 GB reclaimable), build cache 0.0 kB"),
            "{told}"
        );
        assert_eq!(count(16_331_233), "16.3 M");
    }
}
