//! HTTP probes: the health endpoint (status, dependency states, timing phases
//! like the guide's curl-format) and the auth verify endpoint.

use super::Context;
use crate::check::Outcome;
use crate::deployment::connect_error::ConnectCause;
use crate::deployment::health_json;
use std::time::Instant;

pub async fn health(ctx: &Context, url: &str, insecure: bool) -> Outcome {
    let _slot = ctx.url_slot(url).await;
    let started = Instant::now();
    let connect_ms = connect_time(ctx, url).await;
    let response = match ctx.http_client(insecure).get(url).send().await {
        Ok(response) => response,
        Err(e) => return Outcome::fail(describe(url, &e, ctx)),
    };
    let first_byte_ms = ms(started);
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let total_ms = ms(started);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let deps: serde_json::Map<String, serde_json::Value> = health_json::dependencies(&json)
        .into_iter()
        .map(|(name, state)| (name, serde_json::Value::String(state)))
        .collect();
    let down: Vec<String> = health_json::down(&json)
        .into_iter()
        .map(|(name, state)| format!("{name} {state}"))
        .collect();
    let timing = format!(
        "connect {connect_ms:.1} ms, first byte {first_byte_ms:.1} ms, total {total_ms:.1} ms"
    );
    let outcome = if status.is_success() && down.is_empty() {
        Outcome::pass(format!("{} ({timing})", status.as_u16()))
    } else if down.is_empty() {
        Outcome::fail(format!("HTTP {} ({timing})", status.as_u16()))
    } else {
        Outcome::fail(format!(
            "HTTP {}: dependency down: {}",
            status.as_u16(),
            down.join(", ")
        ))
    };
    outcome
        .detail("http_status", status.as_u16())
        .detail("dependencies", deps)
        .detail("time_connect_ms", connect_ms)
        .detail("time_starttransfer_ms", first_byte_ms)
        .detail("time_total_ms", total_ms)
}

/// A deliberately bad token must get 401: anything else means verification is broken.
pub async fn verify(ctx: &Context, url: &str, insecure: bool) -> Outcome {
    let _slot = ctx.url_slot(url).await;
    let request = ctx
        .http_client(insecure)
        .post(url)
        .header("Authorization", "Bearer helpdesk-doctor.invalid.token")
        .header("Content-Type", "application/json");
    match request.send().await {
        Ok(response) if response.status().as_u16() == 401 => {
            Outcome::pass("a bad token is refused with 401")
        }
        Ok(response) => Outcome::fail(format!(
            "a bad token got HTTP {} instead of 401",
            response.status().as_u16()
        ))
        .detail("http_status", response.status().as_u16()),
        Err(e) => Outcome::fail(describe(url, &e, ctx)),
    }
}

/// TCP connect time to the URL's host and port (the `time_connect` phase).
async fn connect_time(ctx: &Context, url: &str) -> f64 {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return 0.0;
    };
    let host = parsed.host_str().unwrap_or("localhost").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let started = Instant::now();
    let _ = tokio::time::timeout(
        ctx.timeout,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await;
    ms(started)
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// The failure by its real cause: a timeout of the whole request, else the
/// connection's own cause (refused, reset, DNS, TLS, …), else reqwest's words.
fn describe(url: &str, e: &reqwest::Error, ctx: &Context) -> String {
    if e.is_timeout() {
        return format!("{url}: no answer within {:?}", ctx.timeout);
    }
    match ConnectCause::of(e) {
        // Which certificate problem (unknown issuer, expired, wrong name) matters.
        Some(ConnectCause::Tls) => {
            format!("{url}: {} ({})", ConnectCause::Tls.describe(), innermost(e))
        }
        Some(cause) => format!("{url}: {}", cause.describe()),
        None => format!("{url}: {e}"),
    }
}

/// The deepest cause of an error: its most precise words.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}
