//! The service's PostgreSQL connection (reconnected when lost) and its migrations.

use crate::config::Config;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub struct Database {
    url: String,
    client: Mutex<Client>,
}

impl Database {
    /// Connects once; an unreachable database at start is fatal, like the Node.js services.
    pub async fn connect(config: &Config) -> Result<Database, String> {
        let client = open(&config.database_url).await?;
        Ok(Database {
            url: config.database_url.clone(),
            client: Mutex::new(client),
        })
    }

    /// The live client, reconnecting first if the connection was lost.
    pub async fn client(&self) -> Result<tokio::sync::MutexGuard<'_, Client>, String> {
        let mut client = self.client.lock().await;
        if client.is_closed() {
            *client = open(&self.url).await?;
        }
        Ok(client)
    }

    pub async fn migrate(&self, service: &str) -> Result<(), String> {
        let client = self.client().await?;
        client
            .batch_execute(schema(service))
            .await
            .map_err(|e| format!("migration failed: {}", describe(&e)))
    }
}

async fn open(url: &str) -> Result<Client, String> {
    let connecting = tokio_postgres::connect(url, NoTls);
    let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| "database connect timeout".to_string())?
        .map_err(|e| format!("database connect failed: {}", describe(&e)))?;
    tokio::spawn(connection);
    Ok(client)
}

fn schema(service: &str) -> &'static str {
    match service {
        "auth" => {
            "CREATE TABLE IF NOT EXISTS users (
                id serial PRIMARY KEY, email text UNIQUE NOT NULL,
                password_hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
             CREATE TABLE IF NOT EXISTS refresh_tokens (
                id serial PRIMARY KEY, user_id integer NOT NULL,
                token text UNIQUE NOT NULL, expires_at timestamptz NOT NULL);
             CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);"
        }
        "user" => {
            "CREATE TABLE IF NOT EXISTS users (
                id serial PRIMARY KEY, email text UNIQUE NOT NULL, name text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now());
             CREATE TABLE IF NOT EXISTS profiles (
                user_id integer PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                bio text NOT NULL DEFAULT '', avatar_url text);"
        }
        _ => {
            "CREATE TABLE IF NOT EXISTS tickets (
                id serial PRIMARY KEY, user_id integer NOT NULL, title text NOT NULL,
                status text NOT NULL DEFAULT 'open', created_at timestamptz NOT NULL DEFAULT now());
             CREATE INDEX IF NOT EXISTS tickets_status_idx ON tickets (status);
             CREATE INDEX IF NOT EXISTS tickets_user_id_idx ON tickets (user_id);
             CREATE TABLE IF NOT EXISTS comments (
                id serial PRIMARY KEY, ticket_id integer NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
                body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());"
        }
    }
}

/// The server's own words when it answered (e.g. FATAL: password authentication failed).
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => format!(
            "{e} ({})",
            std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_default()
        ),
    }
}
