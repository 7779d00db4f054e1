//! A container's memory and CPU read straight from its cgroup (v1 or v2) on the
//! Docker host: what `docker stats` shows, without the engine's one-second
//! stats sampling. `None` when the cgroup is not visible (remote engine); then
//! `IN_CONTAINER_V1`/`V2` are read from inside it (`in_container`).

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

/// A container's own cgroup files as it sees them (cgroup v1, then v2): usage,
/// limit, then its `memory.stat`.
pub const IN_CONTAINER_V1: [&str; 3] = [
    "/sys/fs/cgroup/memory/memory.usage_in_bytes",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    "/sys/fs/cgroup/memory/memory.stat",
];
pub const IN_CONTAINER_V2: [&str; 3] = [
    "/sys/fs/cgroup/memory.current",
    "/sys/fs/cgroup/memory.max",
    "/sys/fs/cgroup/memory.stat",
];

/// Memory used (less inactive file cache) and its limit, from the three files
/// of `IN_CONTAINER_V1` (`v2`: `IN_CONTAINER_V2`) printed one after another.
pub fn in_container(text: &str, v2: bool) -> Option<(u64, Option<u64>)> {
    let mut lines = text.lines();
    let usage: u64 = lines.next()?.trim().parse().ok()?;
    let limit = lines.next()?.trim();
    let inactive_key = if v2 {
        "inactive_file "
    } else {
        "total_inactive_file "
    };
    let inactive = lines
        .find_map(|l| l.strip_prefix(inactive_key)?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let limit = limit.parse::<u64>().ok().filter(|l| *l < (1 << 62));
    Some((usage.saturating_sub(inactive), limit))
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_is_read_from_the_files_a_container_sees() {
        let v1 = "82624512\n9223372036854771712\ncache 100\ntotal_inactive_file 4096\n";
        assert_eq!(in_container(v1, false), Some((82620416, None)));
        let v2 = "1048576\n536870912\nanon 1\ninactive_file 48576\n";
        assert_eq!(in_container(v2, true), Some((1000000, Some(536870912))));
        assert_eq!(in_container("max\n", true), None);
    }

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
