//! The applications' health endpoints as the runbooks need them: healthy or not
//! (HTTP 2xx and no dependency down), within the probe timeout.

use super::{Context, health_json};

/// Whether `url` answers 2xx with no dependency down.
pub async fn is_healthy(ctx: &Context, url: &str) -> bool {
    let _slot = ctx.url_slot(url).await;
    let Ok(response) = ctx.http().get(url).send().await else {
        return false;
    };
    if !response.status().is_success() {
        return false;
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    health_json::down(&body).is_empty()
}
