//! HTTP endpoints: health, token verification (auth), and ordinary DB-backed listings.

use crate::{config::Config, db::Database, jwt, log};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use redis::AsyncCommands;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
const TOKEN_CACHE_SECONDS: u64 = 900;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    database: Database,
    redis: redis::aio::ConnectionManager,
}

impl AppState {
    pub fn new(
        config: Config,
        database: Database,
        redis: redis::aio::ConnectionManager,
    ) -> AppState {
        AppState(Arc::new(Inner {
            config,
            database,
            redis,
        }))
    }
}

pub fn router(state: AppState) -> Router {
    let resource = match state.0.config.service.as_str() {
        "auth" => "/api/v1/auth/users",
        "user" => "/api/v1/users",
        _ => "/api/v1/tickets",
    };
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/auth/verify", post(verify))
        .route(resource, get(list).post(create))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn log_request(request: Request, next: Next) -> Response {
    let (method, path) = (
        request.method().to_string(),
        request.uri().path().to_string(),
    );
    let started = Instant::now();
    let response = next.run(request).await;
    log::request(
        &method,
        &path,
        response.status().as_u16(),
        started.elapsed().as_millis(),
    );
    response
}

async fn health(State(state): State<AppState>) -> Response {
    let (database, redis) = tokio::join!(database_state(&state), redis_state(&state));
    let healthy = database == "up" && redis == "up";
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "service": format!("{}-service", state.0.config.service),
        "dependencies": { "database": database, "redis": redis },
    });
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn database_state(state: &AppState) -> &'static str {
    let probe = async {
        let client = state.0.database.client().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(_)) => "up",
        _ => "down",
    }
}

async fn redis_state(state: &AppState) -> &'static str {
    let mut redis = state.0.redis.clone();
    let ping = redis::cmd("PING");
    let probe = ping.query_async::<String>(&mut redis);
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(_)) => "up",
        _ => "down",
    }
}

async fn verify(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(secret) = state.0.config.jwt_secret.as_deref() else {
        log::error("Token verification failed: JWT_SECRET is not set");
        return unauthorized("Token verification failed");
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return unauthorized("missing bearer token");
    };
    match jwt::verify(token, secret) {
        Ok(claims) => {
            let id = claims.jti.clone().unwrap_or_else(|| claims.sub.to_string());
            let key = format!("auth-service:tokens:{id}");
            let mut redis = state.0.redis.clone();
            let cached: Result<(), _> = redis
                .set_ex(&key, claims.sub.to_string(), TOKEN_CACHE_SECONDS)
                .await;
            if let Err(e) = cached {
                log::error(&format!("token cache write failed: {e}"));
            }
            (
                StatusCode::OK,
                Json(json!({ "valid": true, "sub": claims.sub })),
            )
                .into_response()
        }
        Err(reason) => unauthorized(reason),
    }
}

fn unauthorized(reason: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "valid": false, "error": reason })),
    )
        .into_response()
}

fn table(service: &str) -> &'static str {
    match service {
        "ticket" => "tickets",
        _ => "users",
    }
}

async fn list(State(state): State<AppState>) -> Response {
    let service = &state.0.config.service;
    let sql = format!(
        "SELECT row_to_json(t)::text FROM (SELECT * FROM {} ORDER BY id DESC LIMIT 20) t",
        table(service)
    );
    let rows = match state.0.database.client().await {
        Ok(client) => client.query(&sql, &[]).await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match rows {
        Ok(rows) => {
            let items: Vec<Value> = rows
                .iter()
                .filter_map(|r| serde_json::from_str(r.get::<_, &str>(0)).ok())
                .collect();
            let mut redis = state.0.redis.clone();
            let key = format!("{service}-service:cache:{}", table(service));
            let _: Result<(), _> = redis.set_ex(key, items.len(), 60).await;
            Json(json!({ "items": items })).into_response()
        }
        Err(e) => server_error(&e),
    }
}

async fn create(State(state): State<AppState>, Json(body): Json<Value>) -> Response {
    let text = |k: &str| body[k].as_str().unwrap_or("").to_string();
    let client = match state.0.database.client().await {
        Ok(client) => client,
        Err(e) => return server_error(&e),
    };
    let inserted = match state.0.config.service.as_str() {
        "ticket" => {
            let user_id = body["user_id"].as_i64().unwrap_or(1) as i32;
            client
                .query_one(
                    "INSERT INTO tickets (user_id, title) VALUES ($1, $2) RETURNING id",
                    &[&user_id, &text("title")],
                )
                .await
        }
        "user" => {
            client
                .query_one(
                    "INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id",
                    &[&text("email"), &text("name")],
                )
                .await
        }
        _ => {
            client
                .query_one(
                    "INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id",
                    &[&text("email"), &text("password_hash")],
                )
                .await
        }
    };
    match inserted {
        Ok(row) => (
            StatusCode::CREATED,
            Json(json!({ "id": row.get::<_, i32>(0) })),
        )
            .into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

fn server_error(message: &str) -> Response {
    log::error(message);
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": "internal error" })),
    )
        .into_response()
}
