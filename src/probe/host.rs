//! Host probes (sysinfo): free disk on the host filesystems and Docker's data
//! root, memory, load.

use super::Context;
use crate::check::{Outcome, Status};
use sysinfo::{Disks, System};

const GB: f64 = 1_000_000_000.0;

pub async fn disk(ctx: &Context, warn_gb: f64, fail_gb: f64) -> Outcome {
    // statvfs of every mount blocks (for ever on a dead network share): off the
    // async workers, beside the engine's answer.
    let listing = tokio::task::spawn_blocking(Disks::new_with_refreshed_list);
    let (docker_root, disks) = tokio::join!(docker_root(ctx), listing);
    let disks = match disks {
        Ok(Ok(disks)) => disks,
        Ok(Err(e)) => return Outcome::fail(format!("cannot list filesystems: {e}")),
        Err(e) => return Outcome::fail(format!("cannot list filesystems: {e}")),
    };
    let mut rows = Vec::new();
    let mut worst = Status::Pass;
    let mut lowest: Option<(String, f64)> = None;
    for disk in disks
        .iter()
        .filter(|d| d.total_space() > 0 && !is_pseudo(&d.file_system().to_string_lossy()))
    {
        let mount = disk.mount_point().to_string_lossy().to_string();
        let free = disk.available_space() as f64 / GB;
        let status = if free < fail_gb {
            Status::Fail
        } else if free < warn_gb {
            Status::Warn
        } else {
            Status::Pass
        };
        worst = worst.max(status);
        if lowest.as_ref().is_none_or(|(_, f)| free < *f) {
            lowest = Some((mount.clone(), free));
        }
        rows.push(serde_json::json!({ "mount": mount, "free_gb": round(free), "status": status }));
    }
    let root_line = docker_root.as_deref().and_then(|root| {
        let disk = disks
            .iter()
            .filter(|d| root.starts_with(&*d.mount_point().to_string_lossy()))
            .max_by_key(|d| d.mount_point().as_os_str().len())?;
        Some(format!(
            "; Docker data root {root}: {:.1} GB free",
            disk.available_space() as f64 / GB
        ))
    });
    let (mount, free) = lowest.unwrap_or_else(|| ("/".into(), f64::INFINITY));
    let message = format!(
        "lowest free space {free:.1} GB on {mount}{}",
        root_line.unwrap_or_default()
    );
    Outcome::new(worst, message)
        .detail("filesystems", rows)
        .detail("docker_root", docker_root)
}

/// Docker's data root, as the engine says it (`None` without an engine).
async fn docker_root(ctx: &Context) -> Option<String> {
    let engine = ctx.engine().await.ok()?;
    let host = engine.host("docker info").await.ok()?;
    Some(host.root_dir).filter(|root| !root.is_empty())
}

fn is_pseudo(fs: &str) -> bool {
    matches!(
        fs,
        "tmpfs" | "devtmpfs" | "overlay" | "squashfs" | "proc" | "sysfs" | "nsfs"
    )
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn memory(warn_percent: f64) -> Outcome {
    let mut system = match System::new() {
        Ok(system) => system,
        Err(e) => return Outcome::fail(format!("cannot read memory: {e}")),
    };
    system.refresh_memory();
    let total = system.total_memory() as f64;
    let used = total - system.available_memory() as f64;
    let percent = if total > 0.0 {
        used * 100.0 / total
    } else {
        0.0
    };
    let message = format!(
        "memory {:.1} of {:.1} GB used ({percent:.0}%)",
        used / GB,
        total / GB
    );
    let outcome = if percent >= warn_percent {
        Outcome::warn(message)
    } else {
        Outcome::pass(message)
    };
    outcome.detail("used_percent", round(percent))
}

/// The 5-minute load average against `warn_per_core` times the cores.
pub fn load(warn_per_core: f64) -> Outcome {
    let load = match System::load_average() {
        Ok(load) => load,
        Err(e) => return Outcome::fail(format!("cannot read the load average: {e}")),
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    let message = format!(
        "load {:.2} {:.2} {:.2} on {cores} cores",
        load.one, load.five, load.fifteen
    );
    let outcome = if load.five > cores * warn_per_core {
        Outcome::warn(message)
    } else {
        Outcome::pass(message)
    };
    outcome
        .detail("load1", load.one)
        .detail("load5", load.five)
        .detail("cores", cores)
}

/// A remote engine's host: what the engine's API says of it (`/info`: Docker
/// root, CPUs, memory, images and containers), as a SKIP saying why — this machine's
/// disks, memory and load are not the engine host's.
pub async fn of_remote_engine(ctx: &Context) -> Outcome {
    let endpoint = ctx.profile.engine.describe();
    let engine = match ctx.engine().await {
        Ok(engine) => engine,
        Err(e) => return Outcome::from(e),
    };
    let info = match engine.host(&format!("docker info on {endpoint}")).await {
        Ok(info) => info,
        Err(e) => return Outcome::from(e),
    };
    let root = info.root_dir;
    let memory = info.memory_bytes as f64 / GB;
    let cpus = info.cpus;
    let held = format!(
        " holding {} images and {} containers",
        info.images, info.containers
    );
    let host = ctx.profile.engine.remote_host().unwrap_or_default();
    Outcome::new(
        Status::Skip,
        format!(
            "the engine is remote ({endpoint}): its host has {cpus} CPUs and {memory:.1} GB of memory, \
             Docker root {root}{held}; its free space, memory use and load are not in the Docker API"
        ),
    )
    .with_hint(format!("Look on the engine's host: ssh {host} 'df -h {root}; free -h; uptime'"))
    .detail("remote_engine", endpoint)
    .detail("docker_root", root)
    .detail("engine_cpus", cpus)
    .detail("engine_memory_gb", round(memory))
}
