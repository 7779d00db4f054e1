//! What a PostgreSQL server's sessions are doing, read once per database and
//! run: one bounded query on `pg_stat_activity` (a catalog view: no table is
//! scanned, no lock is taken on the deployment's tables), shared by the
//! connections, lock-wait and long-transaction checks that judge it.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio_postgres::Client;

/// The most sessions of each list read (the oldest first): the answer stays
/// small however many sessions the server has.
const LISTED: i64 = 20;
/// The most characters of a session's query read.
const QUERY_CHARS: i32 = 300;

/// The sessions of one server, as `pg_stat_activity` showed them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Activity {
    /// Client backends, every database of the server.
    pub total: i64,
    pub max_connections: i64,
    /// `superuser_reserved_connections`, plus `reserved_connections` (PostgreSQL 16+).
    pub reserved: i64,
    /// Whether the doctor's role sees other roles' sessions whole (superuser
    /// or `pg_read_all_stats`); else their state, client and query are hidden.
    pub sees_all: bool,
    /// Sessions grouped by who holds them, the largest groups first.
    pub holders: Vec<Holder>,
    /// Sessions waiting on a lock held by another, the longest-waiting first.
    pub waiting: Vec<Session>,
    /// The sessions those wait for.
    pub blockers: Vec<Session>,
    /// Sessions in a transaction, the oldest transaction first.
    pub transactions: Vec<Session>,
}

/// The sessions of one application, role, client address and state.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Holder {
    pub application: String,
    pub user: Option<String>,
    /// The client's address; `None` on the server's own socket (or hidden).
    pub client: Option<String>,
    /// `None` when hidden from the doctor's role.
    pub state: Option<String>,
    pub count: i64,
    /// How long the most recent of them has been in its state: all of them
    /// for at least this long.
    pub youngest_seconds: Option<f64>,
}

/// One session.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Session {
    pub pid: i32,
    pub user: Option<String>,
    pub application: String,
    pub client: Option<String>,
    pub state: Option<String>,
    pub database: Option<String>,
    /// Since its transaction began.
    pub transaction_seconds: Option<f64>,
    /// Since its state last changed (how long it has been idle in transaction).
    pub state_seconds: Option<f64>,
    /// Since its current (or last) query began (how long a waiter has waited).
    pub query_seconds: Option<f64>,
    /// Its query, cut to `QUERY_CHARS`, not masked yet.
    pub query: Option<String>,
    /// The sessions it waits for (only for a session waiting on a lock).
    pub blocked_by: Vec<i32>,
    /// When its session began (with the pid, names it: a pid can be reused).
    pub backend_start: Option<String>,
}

/// Why the sessions could not be read.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ActivityError {
    #[error("{0}")]
    Query(Arc<tokio_postgres::Error>),
    #[error("pg_stat_activity answered in an unexpected shape: {0}")]
    Shape(Arc<serde_json::Error>),
}

/// The one query. `pg_blocking_pids` (which briefly holds the lock manager's
/// state) is called only for sessions that do wait on a lock.
const SQL: &str = "
WITH a AS (
  SELECT pid, datname::text AS database, usename::text AS \"user\",
         coalesce(application_name, '') AS application, host(client_addr) AS client, state,
         round(extract(epoch FROM now() - xact_start)::numeric, 1)::float8 AS transaction_seconds,
         round(extract(epoch FROM now() - state_change)::numeric, 1)::float8 AS state_seconds,
         round(extract(epoch FROM now() - query_start)::numeric, 1)::float8 AS query_seconds,
         left(query, $2) AS query, backend_start::text AS backend_start, backend_type,
         CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) ELSE '{}' END AS blocked_by
  FROM pg_stat_activity
), clients AS (SELECT * FROM a WHERE backend_type = 'client backend'),
waiting AS (
  SELECT * FROM clients WHERE cardinality(blocked_by) > 0
  ORDER BY query_seconds DESC NULLS LAST LIMIT $1
)
SELECT json_build_object(
  'total', (SELECT count(*) FROM clients),
  'max_connections', current_setting('max_connections')::int,
  'reserved', current_setting('superuser_reserved_connections')::int
              + coalesce(current_setting('reserved_connections', true)::int, 0),
  'sees_all', (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
              OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER'),
  'holders', coalesce((SELECT json_agg(h) FROM (
      SELECT application, \"user\", client, state, count(*) AS count,
             min(state_seconds) AS youngest_seconds
      FROM clients GROUP BY 1, 2, 3, 4 ORDER BY count(*) DESC LIMIT 5) h), '[]'),
  'waiting', coalesce((SELECT json_agg(w) FROM waiting w), '[]'),
  'blockers', coalesce((SELECT json_agg(b) FROM (
      SELECT * FROM a WHERE pid IN (SELECT unnest(blocked_by) FROM waiting) LIMIT $1) b), '[]'),
  'transactions', coalesce((SELECT json_agg(t) FROM (
      SELECT * FROM clients WHERE transaction_seconds IS NOT NULL AND pid <> pg_backend_pid()
      ORDER BY transaction_seconds DESC LIMIT $1) t), '[]')
)::text";

/// Reads the sessions in one query.
pub async fn read(client: &Client) -> Result<Activity, ActivityError> {
    let row = client
        .query_one(SQL, &[&LISTED, &QUERY_CHARS])
        .await
        .map_err(|e| ActivityError::Query(Arc::new(e)))?;
    let text: String = row.get(0);
    serde_json::from_str(&text).map_err(|e| ActivityError::Shape(Arc::new(e)))
}

impl Activity {
    /// The connections the applications may open: `max_connections` less the
    /// reserved slots (at least one).
    pub fn usable(&self) -> i64 {
        (self.max_connections - self.reserved).max(1)
    }

    /// The session `pid`, among the blockers.
    pub fn blocker(&self, pid: i32) -> Option<&Session> {
        self.blockers.iter().find(|s| s.pid == pid)
    }
}
