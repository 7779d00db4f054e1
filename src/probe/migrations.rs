//! The migration history a framework keeps in the database (knex, TypeORM,
//! Prisma, Sequelize, node-pg-migrate, Flyway, Alembic): which tables are
//! there (one bounded catalog query), each one's latest migration, and a
//! failed or locked one told with that framework's own fix.

use super::Context;
use super::postgres::{truncate, with_client};
use crate::check::{Outcome, Status};
use crate::deployment::postgres::quote_identifier;
use crate::profile::{Role, Service};
use crate::shell_word::quote;
use tokio_postgres::Client;

/// The tables the frameworks keep their history in by default (knex's lock
/// beside its history; Flyway's before version 5 was `schema_version`).
const TABLE_NAMES: [&str; 10] = [
    "knex_migrations",
    "knex_migrations_lock",
    "migrations",
    "typeorm_migrations",
    "_prisma_migrations",
    "SequelizeMeta",
    "pgmigrations",
    "flyway_schema_history",
    "schema_version",
    "alembic_version",
];
/// The most history tables read (a database may hold one per schema).
const MAX_TABLES: i64 = 32;
/// The most failed migrations named.
const MAX_FAILED: i64 = 5;
/// A migration's name or log line as shown (what a database holds is bounded here).
const MAX_TEXT: usize = 200;
/// The most of a failed migration's log read, to find its error line in.
const MAX_LOG: usize = 4096;

/// Which tables of `TABLE_NAMES` exist, in any schema, with their columns.
const DETECT_SQL: &str = "SELECT n.nspname::text, c.relname::text, \
     array(SELECT a.attname::text FROM pg_catalog.pg_attribute a \
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum LIMIT 64) \
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND c.relname = ANY($1) \
     AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' \
     ORDER BY 1, 2 LIMIT $2";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framework {
    Knex,
    TypeOrm,
    Prisma,
    Sequelize,
    NodePgMigrate,
    Flyway,
    Alembic,
}

impl Framework {
    pub fn name(self) -> &'static str {
        match self {
            Framework::Knex => "knex",
            Framework::TypeOrm => "TypeORM",
            Framework::Prisma => "Prisma",
            Framework::Sequelize => "Sequelize",
            Framework::NodePgMigrate => "node-pg-migrate",
            Framework::Flyway => "Flyway",
            Framework::Alembic => "Alembic",
        }
    }

    /// The framework whose history `table` is, by its name and its columns
    /// (`migrations` is TypeORM's only with TypeORM's columns: Laravel and
    /// others use the name too).
    pub fn of(table: &str, columns: &[String]) -> Option<Framework> {
        let has = |wanted: &[&str]| wanted.iter().all(|w| columns.iter().any(|c| c == w));
        let framework = match table {
            "knex_migrations" if has(&["id", "name", "batch"]) => Framework::Knex,
            "migrations" | "typeorm_migrations" if has(&["timestamp", "name"]) => {
                Framework::TypeOrm
            }
            "_prisma_migrations" if has(&["migration_name", "finished_at", "rolled_back_at"]) => {
                Framework::Prisma
            }
            "SequelizeMeta" if has(&["name"]) => Framework::Sequelize,
            "pgmigrations" if has(&["name", "run_on"]) => Framework::NodePgMigrate,
            "flyway_schema_history" | "schema_version"
                if has(&["installed_rank", "version", "success"]) =>
            {
                Framework::Flyway
            }
            "alembic_version" if has(&["version_num"]) => Framework::Alembic,
            _ => return None,
        };
        Some(framework)
    }

    /// One row: the migrations applied, and the latest one's name.
    fn latest_sql(self, table: &str) -> String {
        let (applied, name, order) = match self {
            Framework::Knex => ("true", "name", "id DESC"),
            Framework::TypeOrm => ("true", "name", "\"timestamp\" DESC"),
            Framework::Prisma => (
                "finished_at IS NOT NULL AND rolled_back_at IS NULL",
                "migration_name",
                "finished_at DESC",
            ),
            Framework::Sequelize => ("true", "name", "name DESC"),
            Framework::NodePgMigrate => ("true", "name", "run_on DESC"),
            Framework::Flyway => (
                "success",
                "concat_ws(' ', version, description)",
                "installed_rank DESC",
            ),
            Framework::Alembic => ("true", "version_num", "version_num"),
        };
        format!(
            "SELECT count(*) FILTER (WHERE {applied}), \
             (SELECT {name}::text FROM {table} WHERE {applied} ORDER BY {order} LIMIT 1) FROM {table}"
        )
    }

    /// Rows `(name, what it says)` of the migrations it marks failed, if it keeps such a mark.
    fn failed_sql(self, table: &str) -> Option<String> {
        match self {
            Framework::Prisma => Some(format!(
                "SELECT migration_name::text, left(coalesce(logs, ''), {MAX_LOG}) FROM {table} \
                 WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at DESC LIMIT {MAX_FAILED}"
            )),
            Framework::Flyway => Some(format!(
                "SELECT concat_ws(' ', version, description), left(coalesce(script, ''), {MAX_TEXT}) FROM {table} \
                 WHERE NOT success ORDER BY installed_rank DESC LIMIT {MAX_FAILED}"
            )),
            _ => None,
        }
    }
}

/// A history table found in the database.
#[derive(Clone, Debug, PartialEq)]
struct Table {
    schema: String,
    name: String,
    columns: Vec<String>,
}

impl Table {
    /// Its quoted, schema-qualified name, for SQL.
    fn sql(&self) -> String {
        format!(
            "{}.{}",
            quote_identifier(&self.schema),
            quote_identifier(&self.name)
        )
    }

    fn shown(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// What one framework's history says.
struct Finding {
    framework: Framework,
    table: Table,
    applied: i64,
    latest: Option<String>,
    /// `(name, log or script)` of each migration marked failed.
    failed: Vec<(String, String)>,
    /// knex's lock is held (`knex_migrations_lock.is_locked`).
    locked: bool,
}

pub async fn check(ctx: &Context, service: &Service) -> Outcome {
    with_client(ctx, service, |client| async move {
        let tables = detect(&client).await?;
        let mut findings = Vec::new();
        for (framework, table) in histories(&tables) {
            findings.push(read(&client, framework, table, &tables).await?);
        }
        Ok(judge(ctx, service, &findings))
    })
    .await
}

async fn detect(client: &Client) -> Result<Vec<Table>, tokio_postgres::Error> {
    let rows = client
        .query(DETECT_SQL, &[&TABLE_NAMES.as_slice(), &MAX_TABLES])
        .await?;
    Ok(rows
        .iter()
        .map(|r| Table {
            schema: r.get(0),
            name: r.get(1),
            columns: r.get(2),
        })
        .collect())
}

/// The tables that are a framework's history, with their framework.
fn histories(tables: &[Table]) -> Vec<(Framework, &Table)> {
    tables
        .iter()
        .filter_map(|t| Framework::of(&t.name, &t.columns).map(|f| (f, t)))
        .collect()
}

async fn read(
    client: &Client,
    framework: Framework,
    table: &Table,
    tables: &[Table],
) -> Result<Finding, tokio_postgres::Error> {
    let row = client
        .query_one(&framework.latest_sql(&table.sql()), &[])
        .await?;
    let failed = match framework.failed_sql(&table.sql()) {
        Some(sql) => client
            .query(&sql, &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect(),
        None => Vec::new(),
    };
    let lock = tables.iter().find(|t| {
        framework == Framework::Knex
            && t.schema == table.schema
            && t.name == format!("{}_lock", table.name)
            && t.columns.iter().any(|c| c == "is_locked")
    });
    let locked = match lock {
        Some(lock) => client
            .query_one(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM {} WHERE is_locked::text IN ('1', 'true'))",
                    lock.sql()
                ),
                &[],
            )
            .await?
            .get(0),
        None => false,
    };
    Ok(Finding {
        framework,
        table: table.clone(),
        applied: row.get(0),
        latest: row.get(1),
        failed,
        locked,
    })
}

/// One outcome for every history found: the worst of them, each said.
fn judge(ctx: &Context, service: &Service, findings: &[Finding]) -> Outcome {
    if findings.is_empty() {
        return Outcome::pass(
            "no migration history of knex, TypeORM, Prisma, Sequelize, node-pg-migrate, Flyway or Alembic",
        )
        .detail("frameworks", Vec::<String>::new());
    }
    let psql = Psql::of(&ctx.profile, service);
    let mut status = Status::Pass;
    let (mut messages, mut hints) = (Vec::new(), Vec::new());
    for finding in findings {
        let shown = |text: &str| truncate(&ctx.secrets.redact(text), MAX_TEXT);
        let (said, hint, worst) = if !finding.failed.is_empty() {
            let (said, hint) = failed(finding, &psql, shown);
            (said, Some(hint), Status::Fail)
        } else if finding.locked {
            let (said, hint) = locked(finding, &psql);
            (said, Some(hint), Status::Warn)
        } else {
            (healthy(finding, shown), None, Status::Pass)
        };
        status = status.max(worst);
        messages.push(said);
        hints.extend(hint);
    }
    let mut outcome = Outcome::new(status, messages.join("; ")).detail(
        "frameworks",
        findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "framework": f.framework.name(),
                    "table": f.table.shown(),
                    "applied": f.applied,
                    "latest": f.latest.as_deref().map(|l| ctx.secrets.redact(l)),
                    "failed": f.failed.iter().map(|(name, _)| ctx.secrets.redact(name)).collect::<Vec<_>>(),
                    "locked": f.locked,
                })
            })
            .collect::<Vec<_>>(),
    );
    if !hints.is_empty() {
        outcome = outcome.with_hint(hints.join("; "));
    }
    outcome
}

fn healthy(finding: &Finding, shown: impl Fn(&str) -> String) -> String {
    let name = finding.framework.name();
    let table = finding.table.shown();
    match (&finding.latest, finding.framework) {
        (None, _) => format!("{name}: no migration applied yet ({table})"),
        (Some(latest), Framework::Alembic) => {
            format!("{name}: at revision {} ({table})", shown(latest))
        }
        (Some(latest), _) => format!(
            "{name}: {} applied, latest {} ({table})",
            finding.applied,
            shown(latest)
        ),
    }
}

/// The message and the fix for migrations the framework marks failed.
fn failed(finding: &Finding, psql: &Psql, shown: impl Fn(&str) -> String) -> (String, String) {
    let table = finding.table.sql();
    let names: Vec<String> = finding.failed.iter().map(|(n, _)| shown(n)).collect();
    let (first, what) = &finding.failed[0];
    let what = shown(telling_line(what));
    match finding.framework {
        Framework::Flyway => (
            format!(
                "Flyway: migration {} failed (success = false in {}){}",
                names.join(", "),
                finding.table.shown(),
                if what.is_empty() { String::new() } else { format!(": {what}") }
            ),
            format!(
                "Fix the script, then remove the failed entry with flyway repair and run flyway migrate again; \
                 see the failed entries: {}",
                psql.command(&format!(
                    "SELECT installed_rank, version, description, script FROM {table} WHERE NOT success"
                ))
            ),
        ),
        _ => (
            format!(
                "Prisma: migration {} failed (started, never finished nor rolled back, in {}){}",
                names.join(", "),
                finding.table.shown(),
                if what.is_empty() { String::new() } else { format!(": {what}") }
            ),
            format!(
                "Read its log: {}; fix the cause, then, in the application's folder, mark it: \
                 npx prisma migrate resolve --rolled-back {} (or --applied if you finished it by hand) \
                 and run npx prisma migrate deploy",
                psql.command(&format!(
                    "SELECT migration_name, logs FROM {table} WHERE finished_at IS NULL AND rolled_back_at IS NULL"
                )),
                quote(&shown(first))
            ),
        ),
    }
}

/// The line of a log that says what went wrong: PostgreSQL's `ERROR:` line
/// (Prisma's logs open with its code), else the first that says anything.
fn telling_line(log: &str) -> &str {
    let mut lines = log.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next().unwrap_or("");
    lines.find(|l| l.contains("ERROR:")).unwrap_or(first)
}

/// The message and the fix for knex's held lock.
fn locked(finding: &Finding, psql: &Psql) -> (String, String) {
    let lock = format!("{}_lock", finding.table.shown());
    (
        format!(
            "knex: migrations are locked ({lock}.is_locked = 1): a migration is running, or one was interrupted"
        ),
        format!(
            "If no migration is running, unlock them in the application's folder: npx knex migrate:unlock; \
             see the lock: {}",
            psql.command(&format!(
                "SELECT * FROM {}.{}",
                quote_identifier(&finding.table.schema),
                quote_identifier(&format!("{}_lock", finding.table.name))
            ))
        ),
    )
}

/// `docker exec DB psql …` in the service's database container, as printed.
struct Psql {
    docker: String,
    container: String,
    user: String,
    database: String,
}

impl Psql {
    fn of(profile: &crate::deployment::Deployment, service: &Service) -> Psql {
        Psql {
            docker: profile.docker_command(),
            container: service.container(Role::Db),
            user: service.db_user.clone(),
            database: service.database.clone(),
        }
    }

    fn command(&self, sql: &str) -> String {
        format!(
            "{} exec {} psql -U {} -d {} -c {}",
            self.docker,
            quote(&self.container),
            quote(&self.user),
            quote(&self.database),
            quote(sql)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &str) -> Vec<String> {
        names.split(',').map(String::from).collect()
    }

    #[test]
    fn each_framework_is_told_by_its_table_and_columns() {
        let cases = [
            (
                "knex_migrations",
                "id,name,batch,migration_time",
                Some(Framework::Knex),
            ),
            ("migrations", "id,timestamp,name", Some(Framework::TypeOrm)),
            (
                "typeorm_migrations",
                "id,timestamp,name",
                Some(Framework::TypeOrm),
            ),
            ("migrations", "id,migration,batch", None), // Laravel's
            (
                "_prisma_migrations",
                "id,checksum,finished_at,migration_name,logs,rolled_back_at,started_at,applied_steps_count",
                Some(Framework::Prisma),
            ),
            ("SequelizeMeta", "name", Some(Framework::Sequelize)),
            (
                "pgmigrations",
                "id,name,run_on",
                Some(Framework::NodePgMigrate),
            ),
            (
                "flyway_schema_history",
                "installed_rank,version,description,type,script,checksum,installed_by,installed_on,execution_time,success",
                Some(Framework::Flyway),
            ),
            (
                "schema_version",
                "installed_rank,version,success",
                Some(Framework::Flyway),
            ),
            ("schema_version", "version", None),
            ("alembic_version", "version_num", Some(Framework::Alembic)),
            ("knex_migrations_lock", "index,is_locked", None),
        ];
        for (table, names, expected) in cases {
            assert_eq!(
                Framework::of(table, &columns(names)),
                expected,
                "{table}({names})"
            );
        }
    }

    #[test]
    fn a_logs_error_line_is_what_is_shown() {
        let prisma = "Database error code: 42P07\n\nDatabase error:\nERROR: relation \"User\" already exists\n\nDbError { severity: \"ERROR\" }";
        assert_eq!(
            telling_line(prisma),
            "ERROR: relation \"User\" already exists"
        );
        assert_eq!(telling_line("\n V2__add_status.sql"), "V2__add_status.sql");
        assert_eq!(telling_line(""), "");
    }

    #[test]
    fn history_queries_name_the_table_quoted() {
        let table = Table {
            schema: "we\"ird".into(),
            name: "SequelizeMeta".into(),
            columns: columns("name"),
        };
        let sql = Framework::Sequelize.latest_sql(&table.sql());
        assert!(sql.contains(r#"FROM "we""ird"."SequelizeMeta""#), "{sql}");
        assert!(Framework::Sequelize.failed_sql(&table.sql()).is_none());
        assert!(
            Framework::Prisma
                .failed_sql("t")
                .unwrap()
                .contains("LIMIT 5")
        );
    }

    #[test]
    fn the_printed_psql_command_quotes_what_the_shell_would_split() {
        let psql = Psql {
            docker: "docker".into(),
            container: "acme-db-1".into(),
            user: "app".into(),
            database: "main".into(),
        };
        assert_eq!(
            psql.command(r#"SELECT * FROM "public"."knex_migrations_lock""#),
            r#"docker exec acme-db-1 psql -U app -d main -c 'SELECT * FROM "public"."knex_migrations_lock"'"#
        );
    }
}
