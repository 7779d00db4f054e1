//! The HTTP side: GET (or HEAD) of `/`, `/metrics`, `/report.json` and
//! `/healthz`, answered from what the last run published — a request never
//! starts a run nor waits for one. Bounded: connections at once, the request
//! head's size, the time a client takes to send it (an idle keep-alive
//! connection included) and a connection's lifetime; bodies are never read.

use super::board::Board;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 64;
/// A request's line and headers (hyper answers 431 past it).
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// The time to send a request's head, or to start the next one on a kept-alive connection.
const HEAD_TIMEOUT: Duration = Duration::from_secs(20);
/// A connection's whole life (its client then reconnects).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(600);

const METRICS: &str = "text/plain; version=0.0.4; charset=utf-8";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
/// The status page needs nothing but its own inline style: no script runs,
/// even one that escaping missed.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                           form-action 'none'; frame-ancestors 'none'";

type Answer = Response<Full<Bytes>>;

/// Serves until `stop`, then lets open requests finish (the caller bounds how long).
pub async fn serve(listener: TcpListener, board: Arc<Board>, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_REQUEST_HEAD);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = stop.cancelled() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, a connection reset before it was
                // accepted: a moment, then the next one.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let board = board.clone();
        let service = service_fn(move |request| {
            let answer = respond(&board, &request);
            async move { Ok::<_, Infallible>(answer) }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

fn respond<B>(board: &Board, request: &Request<B>) -> Answer {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut answer = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        set(&mut answer, header::ALLOW, "GET, HEAD");
        return answer;
    }
    let published = board.current();
    match request.uri().path() {
        "/metrics" => body(StatusCode::OK, METRICS, published.metrics.clone()),
        "/report.json" => match &published.report {
            Some(json) => body(StatusCode::OK, JSON, json.clone()),
            None => text(StatusCode::SERVICE_UNAVAILABLE, "no run completed yet\n"),
        },
        "/healthz" => match board.runs_keep_coming() {
            Ok(()) => text(StatusCode::OK, "ok\n"),
            Err(since) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("no run ended for {} s\n", since.as_secs()),
            ),
        },
        "/" => {
            let mut answer = body(StatusCode::OK, HTML, published.page.clone());
            set(&mut answer, header::CONTENT_SECURITY_POLICY, PAGE_POLICY);
            set(&mut answer, header::REFERRER_POLICY, "no-referrer");
            answer
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: /, /metrics, /report.json, /healthz\n",
        ),
    }
}

fn text(status: StatusCode, text: impl Into<Bytes>) -> Answer {
    body(status, TEXT, text.into())
}

fn body(status: StatusCode, content_type: &'static str, bytes: Bytes) -> Answer {
    let mut answer = Response::new(Full::new(bytes));
    *answer.status_mut() = status;
    set(&mut answer, header::CONTENT_TYPE, content_type);
    set(&mut answer, header::CACHE_CONTROL, "no-store");
    set(&mut answer, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    answer
}

fn set(answer: &mut Answer, name: header::HeaderName, value: &'static str) {
    answer
        .headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::board::Published;

    fn get(board: &Board, method: Method, path: &str) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(())
            .unwrap();
        respond(board, &request)
    }

    #[test]
    fn before_the_first_run_there_is_no_report_and_the_page_says_so() {
        let board = Board::new(Duration::from_secs(60));
        assert_eq!(get(&board, Method::GET, "/report.json").status(), 503);
        assert_eq!(get(&board, Method::GET, "/healthz").status(), 200);
        let page = get(&board, Method::GET, "/");
        assert_eq!(page.status(), 200);
        assert!(
            page.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'")
        );
    }

    #[test]
    fn each_path_answers_what_was_published_and_nothing_else_is_served() {
        let board = Board::new(Duration::from_secs(60));
        board.publish(Published {
            metrics: Bytes::from_static(b"helpdesk_run_status 0\n"),
            report: Some(Bytes::from_static(b"{}")),
            page: Bytes::from_static(b"<p>page</p>"),
            last_run: Some(std::time::Instant::now()),
        });
        let metrics = get(&board, Method::GET, "/metrics");
        assert_eq!(metrics.headers()[header::CONTENT_TYPE], METRICS);
        assert_eq!(get(&board, Method::HEAD, "/report.json").status(), 200);
        assert_eq!(get(&board, Method::GET, "/../etc/passwd").status(), 404);
        assert_eq!(get(&board, Method::POST, "/metrics").status(), 405);
    }

    #[test]
    fn healthz_fails_once_no_run_ended_for_longer_than_runs_may_take() {
        let board = Board::new(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(get(&board, Method::GET, "/healthz").status(), 503);
    }
}
