//! The HTTP client (HTTP and HTTPS through rustls with the system's roots) and
//! the applications' health endpoints as the runbooks need them: healthy or not
//! (HTTP 2xx and no dependency down, the answer read bounded), within the
//! probe timeout.

use super::{Context, body, health_json};
use std::time::Duration;

/// A client with the probe timeout, no redirects, and certificate verification
/// unless `insecure` (a check's explicit opt-out).
pub fn client(timeout: Duration, insecure: bool) -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(insecure)
        .build()
        .expect("the HTTP client builds with static settings")
}

/// rustls' crypto provider, once per process (ring: no C toolchain beyond cc),
/// which every HTTP client needs before it is built.
pub fn install_crypto_provider() {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Whether `url` answers 2xx with no dependency down.
pub async fn is_healthy(ctx: &Context, url: &str) -> bool {
    // Another deployment's answer says nothing of this one.
    if super::reach::url(&ctx.profile, url).is_err() {
        return false;
    }
    let _slot = ctx.url_slot(url).await;
    let Ok(response) = ctx.http().get(url).send().await else {
        return false;
    };
    if !response.status().is_success() {
        return false;
    }
    // Too large or too deep to read is not healthy; plain text is judged by its status.
    let Ok(body) = body::read(response, ctx.profile.limits.http_body_bytes).await else {
        return false;
    };
    match health_json::parse(&body) {
        Ok(answer) => answer.unwrap_or_default().down().is_empty(),
        Err(_) => false,
    }
}
