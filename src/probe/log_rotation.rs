//! Whether a container's logs are rotated: json-file without `max-size`
//! grows without bound, and so, in effect, does one whose cap (`max-size` ×
//! `max-file`) is more than the free space where it is written. Its file's
//! size now is told on a local engine. The engine's view already holds the
//! daemon's default `log-opts` (daemon.json), as the container really runs.

use super::Context;
use super::docker_disk::size;
use super::filesystem;
use crate::check::Outcome;
use crate::deployment::containers::{inspect, log_file_bytes};
use std::collections::HashMap;
use std::path::Path;

/// How a container's logs are bounded, from its log driver and options.
#[derive(Debug, PartialEq)]
enum Rotation {
    /// Bounded by the driver (local, journald…) or kept nowhere (none).
    Bounded,
    /// json-file with `max-size`: at most this many bytes on disk.
    Capped(u64),
    /// json-file without `max-size`, or a driver not known to rotate.
    Unbounded,
}

fn rotation(driver: &str, options: &HashMap<String, String>) -> Rotation {
    match driver {
        "json-file" => match options.get("max-size").and_then(|s| bytes(s)) {
            Some(max_size) => {
                let files = options
                    .get("max-file")
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(1);
                Rotation::Capped(max_size.saturating_mul(files.max(1)))
            }
            None => Rotation::Unbounded,
        },
        "local" | "journald" | "syslog" | "fluentd" | "gelf" | "none" => Rotation::Bounded,
        _ => Rotation::Unbounded,
    }
}

/// A size as Docker reads `max-size` (`10m`, `1.5g`, `100k`, `20MB`: decimal units).
fn bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text[..digits].parse().ok()?;
    let unit = text[digits..].trim_start().to_ascii_lowercase();
    let power = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return None,
    };
    Some((number * 1000f64.powi(power)) as u64)
}

pub async fn check(ctx: &Context, container: &str) -> Outcome {
    let c = match inspect(ctx, container).await {
        Ok(Some(c)) => c,
        Ok(None) => return Outcome::fail(format!("container {container} does not exist")),
        Err(e) => return Outcome::from(e),
    };
    let driver = c.log_driver.clone().unwrap_or_default();
    let options = &c.log_options;
    let setting = |key: &str| options.get(key).map(String::as_str).unwrap_or("unset");
    let described = format!(
        "driver {driver}, max-size {}, max-file {}",
        setting("max-size"),
        setting("max-file")
    );
    let name = c.name.clone();
    let log_bytes = log_file_bytes(ctx, &c).await;
    let now = log_bytes
        .map(|b| format!("; its log file is {} now", size(b)))
        .unwrap_or_default();
    let free = match c.log_path.as_deref() {
        Some(path) if ctx.profile.engine.is_local() => {
            filesystem::space(Path::new(path)).await.ok()
        }
        _ => None,
    };
    let outcome = match rotation(&driver, options) {
        Rotation::Unbounded => Outcome::warn(format!(
            "{name} logs are not rotated ({described}): they grow without bound{now}"
        )),
        Rotation::Capped(cap) if free.is_some_and(|f| cap > f.free_bytes) => {
            let free = free.map(|f| f.free_bytes).unwrap_or_default();
            Outcome::warn(format!(
                "{name} logs are not rotated in effect ({described}): they may take {}, more \
                 than the {} free where they are written{now}",
                size(cap),
                size(free)
            ))
        }
        _ => Outcome::pass(described),
    };
    outcome
        .detail("driver", driver)
        .detail("options", options)
        .detail("log_bytes", log_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn json_file_without_max_size_is_unbounded() {
        assert_eq!(rotation("json-file", &options(&[])), Rotation::Unbounded);
        assert_eq!(
            rotation("json-file", &options(&[("max-file", "3")])),
            Rotation::Unbounded
        );
        assert_eq!(
            rotation(
                "json-file",
                &options(&[("max-size", "10m"), ("max-file", "3")])
            ),
            Rotation::Capped(30_000_000)
        );
        assert_eq!(rotation("local", &options(&[])), Rotation::Bounded);
        assert_eq!(rotation("none", &options(&[])), Rotation::Bounded);
        assert_eq!(rotation("awslogs-typo", &options(&[])), Rotation::Unbounded);
    }

    #[test]
    fn sizes_read_as_docker_reads_them() {
        assert_eq!(bytes("10m"), Some(10_000_000));
        assert_eq!(bytes("1.5g"), Some(1_500_000_000));
        assert_eq!(bytes("20MB"), Some(20_000_000));
        assert_eq!(bytes("100k"), Some(100_000));
        assert_eq!(bytes("512"), Some(512));
        assert_eq!(bytes("ten"), None);
        assert_eq!(bytes("10x"), None);
    }
}
