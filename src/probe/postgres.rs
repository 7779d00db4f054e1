//! PostgreSQL probes where the deployment's server is reached (never another's): connect (failure classified),
//! tables, indexes, slow queries from pg_stat_statements, and scalar SQL checks.
//! One connection per database, shared by the checks of a run.

use super::client_failure;
use crate::check::Outcome;
use crate::deployment::postgres::{client, lock_wait, password};
use crate::deployment::route;
use crate::deployment::{Context, CredentialKind};
use crate::profile::{Role, Service};
use std::sync::Arc;
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

/// Runs `probe` with the service's client, turning a connection failure into FAIL.
pub(super) async fn with_client<F, Fut>(ctx: &Context, service: &Service, probe: F) -> Outcome
where
    F: FnOnce(Arc<Client>) -> Fut,
    Fut: Future<Output = Result<Outcome, tokio_postgres::Error>>,
{
    let address = match route::to(ctx, service, Role::Db).await {
        Ok(address) => address,
        Err(no) => return super::no_route(ctx, service, Role::Db, no),
    };
    match client(ctx, service).await {
        Ok(client) => probe(client)
            .await
            .unwrap_or_else(|e| query_failed(ctx, service, &e))
            .reached(address.reached()),
        Err(failure) => client_failure(ctx, service, CredentialKind::Postgres, failure).await,
    }
}

/// A query that failed: FAIL with the server's reason; WARN when it only
/// waited too long for a lock another session holds (that session is what
/// the locks check names).
fn query_failed(ctx: &Context, service: &Service, e: &tokio_postgres::Error) -> Outcome {
    if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
        return Outcome::warn(format!(
            "{}: not read: what it reads was locked by another session for over {} ms",
            service.database,
            lock_wait(ctx).as_millis()
        ))
        .with_hint("See the locks check of this database: it names the session holding the lock.");
    }
    Outcome::fail(format!(
        "{}: {}",
        service.database,
        crate::deployment::postgres::reason(e)
    ))
}

pub async fn connect(ctx: &Context, service: &Service) -> Outcome {
    with_client(ctx, service, |client| async move {
        let row = client
            .query_one("SELECT 1::int, current_setting('server_version')", &[])
            .await?;
        let version: String = row.get(1);
        let source = password(ctx, service)
            .await
            .map(|c| c.source.to_string())
            .unwrap_or_default();
        Ok(Outcome::pass(format!("SELECT 1 ok, PostgreSQL {version}"))
            .detail("server_version", version)
            .detail("password_source", source))
    })
    .await
}

/// The most tables of the expected names read (every schema may hold one).
const MAX_TABLES: i64 = 1000;

/// The guide's tables and the config's (`Service::tables`): each found in
/// some schema (`users`), or in the one it names (`app.users`); with none
/// named, any table at all (an empty database: its migrations never ran).
pub async fn tables(ctx: &Context, service: &Service, guide: &[String]) -> Outcome {
    let expected: Vec<String> =
        guide
            .iter()
            .chain(&service.tables)
            .fold(Vec::new(), |mut all, t| {
                if !all.contains(t) {
                    all.push(t.clone());
                }
                all
            });
    with_client(ctx, service, |client| async move {
        let names: Vec<&str> = expected
            .iter()
            .map(|t| t.rsplit_once('.').map_or(t.as_str(), |(_, name)| name))
            .collect();
        let rows = client
            .query(
                "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') \
                 AND (cardinality($1::text[]) = 0 OR c.relname = ANY($1)) \
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                   WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') \
                 AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' \
                 ORDER BY 1, 2 LIMIT $2",
                &[&names, &MAX_TABLES],
            )
            .await?;
        let found: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let missing = missing_tables(&expected, &found);
        Ok(if expected.is_empty() && found.is_empty() {
            Outcome::fail("no table at all: its migrations have not run (the guide names none for this service; a config's [[services]] `tables` names them)")
        } else if expected.is_empty() {
            Outcome::pass(format!(
                "{} tables: {} (the guide names none for this service; a config's [[services]] `tables` names them)",
                found.len(),
                some_names(&found)
            ))
        } else if missing.is_empty() {
            Outcome::pass(format!("tables present: {}", expected.join(", ")))
        } else {
            Outcome::fail(format!("missing tables: {}", missing.join(", ")))
        }
        .detail("expected", &expected)
        .detail(
            "tables",
            found.iter().map(|(s, t)| format!("{s}.{t}")).collect::<Vec<_>>(),
        ))
    })
    .await
}

/// The first tables' names (`accounts, app.audit, …`): `public`'s bare.
fn some_names(found: &[(String, String)]) -> String {
    const SHOWN: usize = 10;
    let mut names: Vec<String> = found
        .iter()
        .take(SHOWN)
        .map(|(schema, name)| match schema.as_str() {
            "public" => name.clone(),
            _ => format!("{schema}.{name}"),
        })
        .collect();
    if found.len() > SHOWN {
        names.push("…".into());
    }
    names.join(", ")
}

/// The expected tables not in `found` (`(schema, name)`): `name` is found in
/// any schema, `schema.name` only in its own.
fn missing_tables<'a>(expected: &'a [String], found: &[(String, String)]) -> Vec<&'a str> {
    expected
        .iter()
        .filter(|wanted| {
            !found
                .iter()
                .any(|(schema, name)| match wanted.rsplit_once('.') {
                    Some((s, n)) => s == schema && n == name,
                    None => wanted.as_str() == name,
                })
        })
        .map(String::as_str)
        .collect()
}

pub async fn indexes(ctx: &Context, service: &Service, table: &str, columns: &[String]) -> Outcome {
    with_client(ctx, service, |client| async move {
        let rows = client
            .query(
                "SELECT indexdef FROM pg_indexes WHERE tablename = $1",
                &[&table],
            )
            .await?;
        let defs: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let leads = |column: &String| {
            defs.iter()
                .any(|d| d.contains(&format!("({column})")) || d.contains(&format!("({column},")))
        };
        let missing: Vec<&String> = columns.iter().filter(|c| !leads(c)).collect();
        Ok(if missing.is_empty() {
            Outcome::pass(format!("{table} indexed on {}", columns.join(", ")))
        } else {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            Outcome::warn(format!("{table} has no index on {}", names.join(", ")))
        }
        .detail("indexes", defs))
    })
    .await
}

pub async fn slow_queries(
    ctx: &Context,
    service: &Service,
    threshold_ms: f64,
    min_calls: i64,
) -> Outcome {
    let user = service.db_user.clone();
    with_client(ctx, service, |client| async move {
        // shared_preload_libraries is readable only by superusers and pg_read_all_settings.
        let row = client
            .query_one(
                "SELECT to_regclass('pg_stat_statements')::text, \
                 CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \
                   OR pg_has_role(current_user, 'pg_read_all_settings', 'MEMBER') \
                 THEN 'pg_stat_statements' = ANY(string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) END",
                &[],
            )
            .await?;
        let (installed, preloaded): (Option<String>, Option<bool>) = (row.get(0), row.get(1));
        let preload_hint = format!(
            "Load it at start: in the compose file, give {} `command: [\"postgres\", \"-c\", \
             \"shared_preload_libraries=pg_stat_statements\"]` (or set it in postgresql.conf) and recreate the \
             container; then, once: CREATE EXTENSION IF NOT EXISTS pg_stat_statements;",
            service.compose_service(Role::Db)
        );
        let not_loaded = |what: &str| {
            Ok(Outcome::warn(format!(
                "pg_stat_statements is {what} (not in shared_preload_libraries): no slow-query data"
            ))
            .with_hint(preload_hint.clone()))
        };
        if installed.is_none() {
            return match preloaded {
                Some(false) => not_loaded("not loaded"),
                _ => Ok(Outcome::warn("pg_stat_statements is not created in this database")
                    .with_hint(format!(
                        "{} exec {} psql -U {user} -d {} -c 'CREATE EXTENSION pg_stat_statements;' \
                         (it must also be in shared_preload_libraries)",
                        ctx.profile.docker_command(),
                        service.container(Role::Db),
                        service.database
                    ))),
            };
        }
        if let Err(e) = client.query("SELECT 1 FROM pg_stat_statements LIMIT 1", &[]).await {
            if e.code() == Some(&SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE) {
                return not_loaded("created but not loaded");
            }
            return Err(e);
        }
        // PostgreSQL 13 renamed mean_time/total_time; an extension never upgraded keeps
        // the old names on a new server, so read the view's columns, not the version.
        let columns = client
            .query(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = 'pg_stat_statements'::regclass \
                 AND attname IN ('mean_exec_time', 'mean_time')",
                &[],
            )
            .await?;
        let new_names = columns.iter().any(|r| r.get::<_, String>(0) == "mean_exec_time");
        let (mean, total) = if new_names { ("mean_exec_time", "total_exec_time") } else { ("mean_time", "total_time") };
        let can_read_all: bool = client
            .query_one(
                "SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await?
            .get(0);
        let sql = format!(
            "SELECT query, calls, {mean}::float8, {total}::float8 FROM pg_stat_statements \
             WHERE calls >= $1 AND {mean} > $2 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             ORDER BY {mean} DESC LIMIT 10"
        );
        let rows = client.query(&sql, &[&min_calls, &threshold_ms]).await?;
        let slow: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "query": ctx.secrets.redact(&r.get::<_, String>(0)),
                    "calls": r.get::<_, i64>(1),
                    "mean_ms": (r.get::<_, f64>(2) * 10.0).round() / 10.0,
                    "total_ms": r.get::<_, f64>(3).round(),
                })
            })
            .collect();
        let outcome = if !can_read_all {
            Outcome::warn(format!("role {user:?} cannot read other sessions' statistics: the slow-query list may be incomplete"))
                .with_hint(format!("GRANT pg_read_all_stats TO \"{user}\"; (as a superuser)"))
        } else if slow.is_empty() {
            Outcome::pass(format!("no repeated query slower than {threshold_ms} ms on average"))
        } else {
            let worst = &slow[0];
            Outcome::warn(format!(
                "{} slow queries; slowest {} ms mean over {} calls: {}",
                slow.len(),
                worst["mean_ms"],
                worst["calls"],
                truncate(worst["query"].as_str().unwrap_or_default(), 80)
            ))
        };
        Ok(outcome.detail("column", mean).detail("slow_queries", slow))
    })
    .await
}

pub async fn scalar(
    ctx: &Context,
    service: &Service,
    sql: &str,
    warn_above: i64,
    label: &str,
) -> Outcome {
    with_client(ctx, service, |client| async move {
        let value: i64 = client.query_one(sql, &[]).await?.get(0);
        let message = format!("{value} {label}");
        Ok(if value > warn_above {
            Outcome::warn(format!("{message} (over {warn_above})"))
        } else {
            Outcome::pass(message)
        }
        .detail("value", value))
    })
    .await
}

pub(super) fn truncate(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        format!("{}…", flat.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::missing_tables;

    #[test]
    fn a_table_is_found_in_any_schema_unless_its_schema_is_named() {
        let expected = [
            "users".to_string(),
            "app.tickets".into(),
            "audit.log".into(),
        ];
        let found = [
            ("public".to_string(), "users".to_string()),
            ("public".into(), "tickets".into()),
            ("audit".into(), "log".into()),
        ];
        assert_eq!(missing_tables(&expected, &found), ["app.tickets"]);
        assert!(missing_tables(&[], &found).is_empty());
    }
}
