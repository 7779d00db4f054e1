//! Stand-in for the helpdesk Node.js services (auth, user, ticket): same env,
//! same endpoints, same schema and JSON logs, as seen from outside.

mod config;
mod db;
mod healthcheck;
mod jwt;
mod log;
mod routes;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return healthcheck::run().await;
    }
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error(&message);
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    let config = config::Config::from_env()?;
    let database = db::Database::connect(&config).await?;
    database.migrate(&config.service).await?;
    let redis = connect_redis(&config).await?;
    let state = routes::AppState::new(config.clone(), database, redis);
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", config.port))
        .await
        .map_err(|e| format!("listen EADDRINUSE or denied on port {}: {e}", config.port))?;
    log::info(&format!(
        "{}-service listening on port {}",
        config.service, config.port
    ));
    axum::serve(listener, routes::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn connect_redis(config: &config::Config) -> Result<redis::aio::ConnectionManager, String> {
    let client =
        redis::Client::open(config.redis_url.as_str()).map_err(|e| format!("REDIS_URL: {e}"))?;
    let settings = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
        .set_response_timeout(Some(std::time::Duration::from_secs(2)))
        .set_number_of_retries(1);
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        redis::aio::ConnectionManager::new_with_config(client, settings),
    )
    .await
    .map_err(|_| "redis connect timeout".to_string())?
    .map_err(|e| format!("redis connect ECONNREFUSED or auth failed: {e}"))
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
