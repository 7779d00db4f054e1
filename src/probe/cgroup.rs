//! A container's memory and CPU read straight from its cgroup (v1 or v2) on the
//! Docker host: what `docker stats` shows, without the engine's one-second
//! stats sampling. `None` when the cgroup is not visible (remote engine).

use std::path::{Path, PathBuf};
use std::time::Duration;

const CPU_WINDOW: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub memory_bytes: u64,
    /// `None` when unlimited.
    pub memory_limit_bytes: Option<u64>,
    /// Percent of one core, averaged over a short window.
    pub cpu_percent: f64,
}

pub async fn usage(pid: i64) -> Option<Usage> {
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let (memory_dir, cpu_dir, v2) = dirs(&cgroup)?;
    let (memory_bytes, memory_limit_bytes) = if v2 {
        memory_v2(&memory_dir)?
    } else {
        memory_v1(&memory_dir)?
    };
    let before = cpu_nanos(&cpu_dir, v2)?;
    tokio::time::sleep(CPU_WINDOW).await;
    let after = cpu_nanos(&cpu_dir, v2)?;
    let cpu_percent = (after.saturating_sub(before)) as f64 / CPU_WINDOW.as_nanos() as f64 * 100.0;
    Some(Usage {
        memory_bytes,
        memory_limit_bytes,
        cpu_percent,
    })
}

/// The memory and CPU cgroup directories, and whether this is cgroup v2.
fn dirs(cgroup: &str) -> Option<(PathBuf, PathBuf, bool)> {
    let root = Path::new("/sys/fs/cgroup");
    let path_of = |controller: &str| {
        cgroup.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == controller)
                .then(|| path.trim_start_matches('/').to_string())
        })
    };
    if let (Some(memory), Some(cpu)) = (path_of("memory"), path_of("cpuacct")) {
        return Some((
            root.join("memory").join(memory),
            root.join("cpuacct").join(cpu),
            false,
        ));
    }
    let unified = cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))?
        .trim_start_matches('/');
    Some((root.join(unified), root.join(unified), true))
}

fn read_u64(path: PathBuf) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn stat_value(dir: &Path, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

fn memory_v1(dir: &Path) -> Option<(u64, Option<u64>)> {
    let usage = read_u64(dir.join("memory.usage_in_bytes"))?;
    let inactive = stat_value(dir, "memory.stat", "total_inactive_file").unwrap_or(0);
    let limit = read_u64(dir.join("memory.limit_in_bytes")).filter(|l| *l < (1 << 62));
    Some((usage.saturating_sub(inactive), limit))
}

fn memory_v2(dir: &Path) -> Option<(u64, Option<u64>)> {
    let usage = read_u64(dir.join("memory.current"))?;
    let inactive = stat_value(dir, "memory.stat", "inactive_file").unwrap_or(0);
    let limit = read_u64(dir.join("memory.max"));
    Some((usage.saturating_sub(inactive), limit))
}

fn cpu_nanos(dir: &Path, v2: bool) -> Option<u64> {
    if v2 {
        stat_value(dir, "cpu.stat", "usage_usec").map(|us| us * 1000)
    } else {
        read_u64(dir.join("cpuacct.usage"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_v1_and_v2_directories() {
        let v1 = "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/docker/abc\n";
        let (memory, cpu, v2) = dirs(v1).unwrap();
        assert_eq!(memory, Path::new("/sys/fs/cgroup/memory/docker/abc"));
        assert_eq!(cpu, Path::new("/sys/fs/cgroup/cpuacct/docker/abc"));
        assert!(!v2);
        let (memory, _, v2) = dirs("0::/system.slice/docker-abc.scope\n").unwrap();
        assert_eq!(
            memory,
            Path::new("/sys/fs/cgroup/system.slice/docker-abc.scope")
        );
        assert!(v2);
    }

    #[tokio::test]
    async fn reads_this_process_usage() {
        if let Some(usage) = usage(std::process::id() as i64).await {
            assert!(usage.memory_bytes > 0);
        }
    }
}
