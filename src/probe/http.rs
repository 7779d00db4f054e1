//! HTTP probes: the health endpoint (status, dependency states, timing phases
//! like the guide's curl-format, judged by `http_budget` with the certificate
//! over HTTPS) and the auth verify endpoint.

use super::Context;
use super::http_budget::{Budget, Timing};
use crate::check::Outcome;
use crate::deployment::body::{self, BodyError};
use crate::deployment::connect_error::ConnectCause;
use crate::deployment::health_json;
use crate::deployment::reach::{self, Reached};
use crate::deployment::tls;
use std::time::Instant;

/// How many down dependencies a message names (the details list every one read).
const NAMED_DOWN: usize = 10;

/// The caller (the runner) holds the URL's connection slot.
pub async fn health(ctx: &Context, url: &str, insecure: bool, budget: &Budget) -> Outcome {
    if let Err(not) = reach::url(&ctx.profile, url) {
        return super::not_reached(ctx, not);
    }
    let phases = connection_phases(ctx, url).await;
    let started = Instant::now();
    let response = match ctx.http_client(insecure).get(url).send().await {
        Ok(response) => response,
        Err(e) => return Outcome::fail(describe(url, &e, ctx)),
    };
    let first_byte_ms = ms(started);
    let status = response.status();
    let body = body::read(response, ctx.profile.limits.http_body_bytes).await;
    let timing = Timing {
        connect_ms: phases.connect_ms,
        tls_ms: phases.tls_ms,
        first_byte_ms,
        total_ms: ms(started),
    };
    let with_timing = |outcome: Outcome| {
        let outcome = outcome
            .reached(reached(url))
            .detail("http_status", status.as_u16())
            .detail("time_connect_ms", timing.connect_ms)
            .detail("time_appconnect_ms", timing.tls_ms)
            .detail("time_starttransfer_ms", timing.first_byte_ms)
            .detail("time_total_ms", timing.total_ms);
        budget.judge(outcome, url, &timing, phases.not_after)
    };
    let timing_text = timing.describe();
    let unreadable =
        |why: String| with_timing(Outcome::fail(format!("HTTP {}: {why}", status.as_u16())));
    let answer = match body.map(|b| health_json::parse(&b)) {
        Ok(Ok(answer)) => answer.unwrap_or_default(),
        Ok(Err(e)) => return unreadable(e.to_string()),
        Err(BodyError::Read(e)) => return unreadable(describe(url, &e, ctx)),
        Err(e) => return unreadable(e.to_string()),
    };
    let deps: serde_json::Map<String, serde_json::Value> = answer
        .dependencies()
        .into_iter()
        .map(|(name, state)| (name, serde_json::Value::String(state)))
        .collect();
    let down: Vec<String> = answer
        .down()
        .into_iter()
        .map(|(name, state)| format!("{name} {state}"))
        .collect();
    let partly = if answer.more_than_read() {
        format!(
            " (only the first {} dependencies read)",
            health_json::MAX_DEPENDENCIES
        )
    } else {
        String::new()
    };
    let outcome = if status.is_success() && down.is_empty() {
        Outcome::pass(format!("{} ({timing_text}){partly}", status.as_u16()))
    } else if down.is_empty() {
        Outcome::fail(format!("HTTP {} ({timing_text}){partly}", status.as_u16()))
    } else {
        Outcome::fail(format!(
            "HTTP {}: dependency down: {}{partly}",
            status.as_u16(),
            named(&down)
        ))
    };
    with_timing(outcome.detail("dependencies", deps))
}

/// The first `NAMED_DOWN` of `down`, and how many more.
fn named(down: &[String]) -> String {
    let shown = down[..down.len().min(NAMED_DOWN)].join(", ");
    match down.len().saturating_sub(NAMED_DOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// A deliberately bad token must get 401: anything else means verification is broken.
/// The caller (the runner) holds the URL's connection slot.
pub async fn verify(ctx: &Context, url: &str, insecure: bool) -> Outcome {
    if let Err(not) = reach::url(&ctx.profile, url) {
        return super::not_reached(ctx, not);
    }
    let request = ctx
        .http_client(insecure)
        .post(url)
        .header("Authorization", "Bearer helpdesk-doctor.invalid.token")
        .header("Content-Type", "application/json");
    match request.send().await {
        Ok(response) if response.status().as_u16() == 401 => {
            Outcome::pass("a bad token is refused with 401").reached(reached(url))
        }
        Ok(response) => Outcome::fail(format!(
            "a bad token got HTTP {} instead of 401",
            response.status().as_u16()
        ))
        .detail("http_status", response.status().as_u16())
        .reached(reached(url)),
        Err(e) => Outcome::fail(describe(url, &e, ctx)),
    }
}

/// The URL's `host:port`, which answered (the client follows no redirect).
fn reached(url: &str) -> Reached {
    Reached {
        address: crate::deployment::url_address(url),
        via: reach::ViaKind::Host,
        network: None,
        container: None,
    }
}

/// The phases before the request, on a connection of their own: the TCP
/// connect (curl's `time_connect`) and, over HTTPS, the TLS handshake
/// (`time_appconnect`) with the certificate the server presented.
struct Phases {
    connect_ms: f64,
    tls_ms: Option<f64>,
    not_after: Option<std::time::SystemTime>,
}

async fn connection_phases(ctx: &Context, url: &str) -> Phases {
    let none = Phases {
        connect_ms: 0.0,
        tls_ms: None,
        not_after: None,
    };
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return none;
    };
    let host = parsed.host_str().unwrap_or("localhost").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    if parsed.scheme() == "https" {
        // A failed handshake is the request's to explain (it fails the same way).
        return match tls::handshake(&host, port, ctx.timeout).await {
            Ok(done) => Phases {
                connect_ms: done.connect_ms,
                tls_ms: Some(done.tls_ms),
                not_after: done.not_after,
            },
            Err(_) => none,
        };
    }
    let started = Instant::now();
    let _ = tokio::time::timeout(
        ctx.timeout,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await;
    Phases {
        connect_ms: ms(started),
        ..none
    }
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
