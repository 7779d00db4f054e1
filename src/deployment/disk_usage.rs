//! What the engine's data root holds (`GET /system/df`): images, build cache,
//! volumes and containers' writable layers, each with what a prune would
//! reclaim. bollard 0.21 reads only the answer of API 1.52 and later, so the
//! request goes through the engine's unix socket with the HTTP client, and
//! both answers (older engines list every object, newer ones sum them) are read.
//! The engine computes it by walking its layers and volumes: it can take
//! seconds to minutes, so the caller bounds it.

use super::{Context, EngineError, body};
use serde::Deserialize;
use std::time::Duration;

/// An answer larger than this (tens of thousands of objects) is not read.
const MAX_ANSWER_BYTES: usize = 32 << 20;

/// Bytes held and reclaimable by a prune, for one kind of object.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Part {
    pub bytes: u64,
    pub reclaimable: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct EngineUsage {
    pub images: Part,
    pub build_cache: Part,
    pub volumes: Part,
    pub containers: Part,
}

/// The engine's usage, asked within `timeout`; only a local engine (its unix socket).
pub async fn of_engine(ctx: &Context, timeout: Duration) -> Result<EngineUsage, EngineError> {
    let action = "GET /system/df";
    let socket = ctx
        .profile
        .engine
        .unix_socket()
        .ok_or_else(|| EngineError::request(action, "asked of a local engine only"))?;
    super::http::install_crypto_provider();
    let client = reqwest::Client::builder()
        .unix_socket(socket)
        .timeout(timeout)
        .build()
        .map_err(|e| EngineError::request(action, e))?;
    let response = client
        .get("http://docker/system/df")
        .send()
        .await
        .map_err(|e| match e.is_timeout() {
            true => EngineError::request(action, format!("no answer within {timeout:?}")),
            false => EngineError::request(action, e),
        })?;
    if !response.status().is_success() {
        return Err(EngineError::request(action, response.status()));
    }
    let answer = body::read(response, MAX_ANSWER_BYTES)
        .await
        .map_err(|e| EngineError::request(action, e))?;
    parse(&answer).map_err(|e| EngineError::output(action, e))
}

/// Either answer of `/system/df`, summed.
pub fn parse(answer: &[u8]) -> Result<EngineUsage, serde_json::Error> {
    let mut answer: Answer = serde_json::from_slice(answer)?;
    let summed = |s: Option<Summary>| {
        s.map(|s| Part {
            bytes: positive(s.total_size),
            reclaimable: positive(s.reclaimable),
        })
    };
    Ok(EngineUsage {
        images: summed(answer.image_usage.take()).unwrap_or_else(|| images(&answer)),
        build_cache: summed(answer.build_cache_usage).unwrap_or_else(|| {
            sum(
                answer.build_cache.iter().flatten().filter(|c| !c.shared),
                |c| (c.size, !c.in_use),
            )
        }),
        volumes: summed(answer.volume_usage).unwrap_or_else(|| {
            sum(answer.volumes.iter().flatten(), |v| {
                let usage = v.usage_data.as_ref();
                let size = usage.map_or(0, |u| u.size);
                (size, usage.is_some_and(|u| u.ref_count == 0))
            })
        }),
        containers: summed(answer.container_usage).unwrap_or_else(|| {
            sum(answer.containers.iter().flatten(), |c| {
                (c.size_rw, c.state != "running")
            })
        }),
    })
}

/// The images' layers (each counted once) and what removing the unused ones
/// frees, as `docker system df` computes it.
fn images(answer: &Answer) -> Part {
    let total = positive(answer.layers_size);
    let used: u64 = answer
        .images
        .iter()
        .flatten()
        .filter(|i| i.containers > 0 && i.size >= 0 && i.shared_size >= 0)
        .map(|i| positive(i.size - i.shared_size))
        .sum();
    Part {
        bytes: total,
        reclaimable: total.saturating_sub(used),
    }
}

fn sum<'a, T: 'a>(items: impl Iterator<Item = &'a T>, of: impl Fn(&T) -> (i64, bool)) -> Part {
    items.fold(Part::default(), |part, item| {
        let (size, reclaimable) = of(item);
        let size = positive(size);
        Part {
            bytes: part.bytes + size,
            reclaimable: part.reclaimable + if reclaimable { size } else { 0 },
        }
    })
}

/// Sizes the engine did not compute are -1.
fn positive(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    layers_size: i64,
    images: Option<Vec<Image>>,
    containers: Option<Vec<Container>>,
    volumes: Option<Vec<Volume>>,
    build_cache: Option<Vec<BuildCache>>,
    image_usage: Option<Summary>,
    container_usage: Option<Summary>,
    volume_usage: Option<Summary>,
    build_cache_usage: Option<Summary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    #[serde(default)]
    total_size: i64,
    #[serde(default)]
    reclaimable: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Image {
    #[serde(default)]
    size: i64,
    #[serde(default)]
    shared_size: i64,
    #[serde(default)]
    containers: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Container {
    #[serde(default)]
    size_rw: i64,
    #[serde(default)]
    state: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Volume {
    usage_data: Option<UsageData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsageData {
    #[serde(default)]
    size: i64,
    #[serde(default)]
    ref_count: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BuildCache {
    #[serde(default)]
    size: i64,
    #[serde(default)]
    in_use: bool,
    #[serde(default)]
    shared: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_api_1_41_answer_as_docker_system_df_sums_it() {
        let answer = br#"{
            "LayersSize": 1000,
            "Images": [
                {"Size": 700, "SharedSize": 100, "Containers": 2},
                {"Size": 400, "SharedSize": 100, "Containers": 0}
            ],
            "Containers": [
                {"SizeRw": 10, "State": "running"},
                {"SizeRw": 5, "State": "exited"}
            ],
            "Volumes": [
                {"UsageData": {"Size": 300, "RefCount": 1}},
                {"UsageData": {"Size": 200, "RefCount": 0}},
                {"UsageData": {"Size": -1, "RefCount": -1}}
            ],
            "BuildCache": [
                {"Size": 50, "InUse": false, "Shared": false},
                {"Size": 40, "InUse": true, "Shared": false},
                {"Size": 30, "InUse": false, "Shared": true}
            ]
        }"#;
        let usage = parse(answer).unwrap();
        assert_eq!(
            usage.images,
            Part {
                bytes: 1000,
                reclaimable: 400
            }
        );
        assert_eq!(
            usage.containers,
            Part {
                bytes: 15,
                reclaimable: 5
            }
        );
        assert_eq!(
            usage.volumes,
            Part {
                bytes: 500,
                reclaimable: 200
            }
        );
        assert_eq!(
            usage.build_cache,
            Part {
                bytes: 90,
                reclaimable: 50
            }
        );
    }

    #[test]
    fn reads_the_summed_answer_of_newer_engines() {
        let answer = br#"{
            "ImageUsage": {"TotalSize": 5000, "Reclaimable": 1200, "TotalCount": 4},
            "ContainerUsage": {"TotalSize": 10, "Reclaimable": 0},
            "VolumeUsage": {"TotalSize": 700, "Reclaimable": 100},
            "BuildCacheUsage": {"TotalSize": 0, "Reclaimable": 0}
        }"#;
        let usage = parse(answer).unwrap();
        assert_eq!(
            usage.images,
            Part {
                bytes: 5000,
                reclaimable: 1200
            }
        );
        assert_eq!(usage.volumes.reclaimable, 100);
        assert!(parse(b"[1, 2]").is_err());
    }
}
