//! TCP port probe: open or closed, and when the owning container is down but the
//! port answers, the process that holds it (the guide's EADDRINUSE case).

use super::{Context, listener};
use crate::check::Outcome;
use crate::deployment::bridge::{self, BridgeError};
use crate::deployment::containers as docker;
use crate::deployment::reach::{self, Address, Via};
use crate::deployment::route::{self, NoRoute};
use crate::profile::{Role, Service};
use std::time::Instant;

/// The caller (the runner) holds the address' connection slot until the
/// probe ends, so the connection is really gone before the slot is free.
pub async fn check(ctx: &Context, port: u16, owner: &str) -> Outcome {
    // A server that publishes nothing is checked where it lives.
    if let Some((service, role)) = reach::unpublished_role(&ctx.profile, owner) {
        return unpublished(ctx, service, role, owner).await;
    }
    // Never a port the deployment does not publish (another project's, or
    // the guide's for a container that publishes nothing).
    let address = match reach::host_port(&ctx.profile, &ctx.profile.host, port) {
        Ok(address) => address,
        Err(not) => return super::not_reached(ctx, not),
    };
    connect(ctx, &address, &format!("port {port}"), owner).await
}

/// The port of a server whose container publishes nothing: at its address on
/// the project's network, or through the engine (`route`).
async fn unpublished(ctx: &Context, service: &Service, role: Role, owner: &str) -> Outcome {
    let address = match route::to(ctx, service, role).await {
        Ok(address) => address,
        Err(no @ NoRoute::Down { .. }) => {
            return super::no_route(ctx, service, role, no).detail("root_cause_container", owner);
        }
        Err(no) => return super::no_route(ctx, service, role, no),
    };
    let what = format!("port {} of {owner}", address.port);
    let Via::Engine(container) = &address.via else {
        let what = format!("{what} at {address}");
        return connect(ctx, &address, &what, owner).await;
    };
    let engine = match ctx.engine_for(container).await {
        Ok(engine) => engine,
        Err(e) => return Outcome::from(e),
    };
    let inside = match role {
        Role::Db => bridge::Inside::postgres(address.port),
        _ => bridge::Inside::redis(address.port),
    };
    match engine.probe_inside(container, &inside, ctx.timeout).await {
        Ok(()) => Outcome::pass(format!("{what} open, {address}")).reached(address.reached()),
        Err(BridgeError::Engine(e)) => Outcome::from(e),
        Err(e) if e.is_doctors() => Outcome::new(
            crate::check::Status::Skip,
            format!("not published: not reached ({e})"),
        ),
        Err(e) => Outcome::fail(format!("{what} closed, {address}: {e}")),
    }
}

/// A TCP connection to `address` (`what`: the port, as the messages name it).
async fn connect(ctx: &Context, address: &Address, what: &str, owner: &str) -> Outcome {
    let reached = address.reached();
    let started = Instant::now();
    let connected = tokio::time::timeout(
        ctx.timeout,
        tokio::net::TcpStream::connect(&reached.address),
    )
    .await;
    let connect_ms = started.elapsed().as_secs_f64() * 1000.0;
    let connected = match connected {
        Ok(Ok(stream)) => {
            close_gracefully(stream).await;
            Ok(Ok(()))
        }
        Ok(Err(e)) => Ok(Err(e)),
        Err(elapsed) => Err(elapsed),
    };
    let owner_running = owner_running(ctx, owner).await;
    let answered = matches!(connected, Ok(Ok(())));
    let outcome = judge(
        ctx,
        address.port,
        what,
        owner,
        connected,
        owner_running,
        connect_ms,
    );
    if answered {
        outcome.reached(reached)
    } else {
        outcome
    }
}

/// The port's verdict from the connection and whether its owner runs.
fn judge(
    ctx: &Context,
    port: u16,
    what: &str,
    owner: &str,
    connected: Result<std::io::Result<()>, tokio::time::error::Elapsed>,
    owner_running: Option<bool>,
    connect_ms: f64,
) -> Outcome {
    match connected {
        Ok(Ok(_)) if owner_running == Some(false) => {
            // This machine's processes say nothing of a remote engine's host.
            let holder = match ctx.profile.engine.remote_host() {
                Some(host) => format!("a process on {host} (the engine's host: ss -ltnp there)"),
                None => match listener::find(port) {
                    Some(l) => format!("pid {} ({})", l.pid, l.name),
                    None => "a process this user cannot see".into(),
                },
            };
            Outcome::fail(format!("{what} is held by {holder} while {owner} is not running (EADDRINUSE)"))
                .detail("holder", holder)
                .with_hint(format!(
                    "Stop the process holding port {port} (see: ss -ltnp 'sport = :{port}'; kill <PID>), \
                     or publish {owner} on another port, then start {owner} again."
                ))
        }
        Ok(Ok(_)) => Outcome::pass(format!("{what} open ({connect_ms:.1} ms)"))
            .detail("connect_ms", connect_ms),
        Ok(Err(e)) if owner_running == Some(false) => Outcome::fail(format!(
            "{what} closed ({e}); {owner}, which publishes it, is not running"
        ))
        .detail("root_cause_container", owner),
        Ok(Err(e)) => Outcome::fail(format!("{what} closed ({e})")),
        Err(_) => Outcome::fail(format!(
            "{what}: no answer within {:?} (filtered or unroutable)",
            ctx.timeout
        )),
    }
}

/// How long a closed connection may wait for the server's side to close too.
const LINGER: std::time::Duration = std::time::Duration::from_millis(300);

/// Sends FIN and waits (briefly) for the other side's, so the connection is
/// really gone — through a proxy too — before its slot is given back.
async fn close_gracefully(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut buffer = [0u8; 512];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(stream.read(&mut buffer).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// Whether the container that should own the port is running (None if unknown).
async fn owner_running(ctx: &Context, owner: &str) -> Option<bool> {
    match docker::inspect(ctx, owner).await {
        Ok(Some(c)) => Some(c.state.running),
        Ok(None) => Some(false),
        Err(_) => None,
    }
}
