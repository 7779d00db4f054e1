//! The migration history of each common framework, in the shape that
//! framework creates, in a scratch schema of the ticket database: a failed
//! or locked migration is named with the framework's own fix (and the
//! read-only command the fix prints runs and shows it); once resolved as
//! the framework's fix resolves it, each history passes naming its latest.

use crate::fixture::{Fixture, fixture};
use crate::hints::{read_only_commands, run_printed};
use crate::support::*;

/// Each framework's table as it creates it on PostgreSQL, with its rows:
/// knex locked, a Prisma migration that failed, a Flyway one that failed.
const HISTORIES: &str = r#"
CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz);
CREATE TABLE knex_migrations_lock (index serial PRIMARY KEY, is_locked integer);
INSERT INTO knex_migrations (name, batch, migration_time) VALUES
  ('20240101000000_init.js', 1, now()), ('20240102000000_add_status.js', 2, now());
INSERT INTO knex_migrations_lock (is_locked) VALUES (1);

CREATE TABLE migrations (id SERIAL NOT NULL, "timestamp" bigint NOT NULL, name character varying NOT NULL,
  CONSTRAINT "PK_8c82d7f526340ab734260ea46be" PRIMARY KEY (id));
INSERT INTO migrations ("timestamp", name) VALUES (1704067200000, 'Init1704067200000'), (1704153600000, 'AddStatus1704153600000');

CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL,
  finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
  started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
INSERT INTO _prisma_migrations VALUES
  ('0b1c5d3e-0000-4000-8000-000000000001', 'c1', now() - interval '1 day', '20240101000000_init', NULL, NULL, now() - interval '1 day', 1),
  ('0b1c5d3e-0000-4000-8000-000000000002', 'c2', NULL, '20240102000000_add_status', E'Database error code: 42701\n\nDatabase error:\nERROR: column "status" of relation "tickets" already exists\n\nDbError { severity: "ERROR", code: SqlState(E42701) }', NULL, now(), 0);

CREATE TABLE "SequelizeMeta" (name varchar(255) NOT NULL UNIQUE, PRIMARY KEY (name));
INSERT INTO "SequelizeMeta" VALUES ('20240101000000-init.js'), ('20240102000000-add-status.js');

CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
INSERT INTO pgmigrations (name, run_on) VALUES ('1704067200000_init', now() - interval '1 day'), ('1704153600000_add-status', now());

CREATE TABLE flyway_schema_history (installed_rank integer NOT NULL, version varchar(50), description varchar(200) NOT NULL,
  type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL,
  installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL,
  CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank));
INSERT INTO flyway_schema_history VALUES
  (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 12, true),
  (2, '2', 'add status', 'SQL', 'V2__add_status.sql', 2, 'app', now(), 3, false);

CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO alembic_version VALUES ('ae1027a6acf');
"#;

/// What each framework's own fix does to its history: `prisma migrate
/// resolve --rolled-back`, `flyway repair`, `knex migrate:unlock`.
const RESOLVED: &str = "\
UPDATE _prisma_migrations SET rolled_back_at = now() WHERE finished_at IS NULL;
DELETE FROM flyway_schema_history WHERE NOT success;
UPDATE knex_migrations_lock SET is_locked = 0;";

/// A scratch schema of the ticket database, dropped with what it holds.
struct Scratch<'a> {
    fixture: &'a Fixture,
    schemas: Vec<String>,
}

impl Scratch<'_> {
    /// `sql` in `schema`, its tables readable by the application's role as
    /// its own migrations' would be (the fixture's psql role makes them; on
    /// the foreign fixture the application logs in as another).
    fn sql(&self, schema: &str, sql: &str) {
        self.fixture.psql(
            "ticket",
            &format!(
                "SET search_path = \"{schema}\";\n{sql}\n\
                 GRANT SELECT ON ALL TABLES IN SCHEMA \"{schema}\" TO PUBLIC;"
            ),
        );
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        for schema in &self.schemas {
            self.fixture.psql(
                "ticket",
                &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
            );
        }
    }
}

fn migrations_check(fixture: &Fixture) -> serde_json::Value {
    let run = run(fixture.doctor().args([
        "diagnose",
        "--format",
        "json",
        "--only",
        "postgres.ticket.migrations",
    ]));
    result(&run.json(), "postgres.ticket.migrations").clone()
}

#[test]
fn failed_or_locked_migrations_are_named_with_their_frameworks_fix_then_pass() {
    let _stack = stack_exclusive();
    let fixture = fixture();
    let schema = format!("doctor_migrations_{}", std::process::id());
    let laravel = format!("{schema}_laravel");
    let scratch = Scratch {
        fixture: &fixture,
        schemas: vec![schema.clone(), laravel.clone()],
    };
    for name in &scratch.schemas {
        fixture.psql(
            "ticket",
            &format!("CREATE SCHEMA \"{name}\"; GRANT USAGE ON SCHEMA \"{name}\" TO PUBLIC"),
        );
    }
    scratch.sql(&schema, HISTORIES);
    // Another framework's `migrations` (Laravel's columns) is not TypeORM's.
    scratch.sql(
        &laravel,
        "CREATE TABLE migrations (id serial PRIMARY KEY, migration varchar(255), batch integer);",
    );

    let check = migrations_check(&fixture);
    assert_eq!(check["status"], "fail", "{check:#}");
    let message = check["message"].as_str().unwrap();
    let hint = check["hint"].as_str().unwrap();
    for said in [
        "Prisma: migration 20240102000000_add_status failed",
        "failed (started, never finished nor rolled back, in doctor_migrations_",
        ": ERROR: column \"status\" of relation \"tickets\" already exists",
        "Flyway: migration 2 add status failed",
        "knex: migrations are locked",
    ] {
        assert!(message.contains(said), "{said:?} in {message}");
    }
    for fix in [
        "npx prisma migrate resolve --rolled-back 20240102000000_add_status",
        "flyway repair",
        "npx knex migrate:unlock",
    ] {
        assert!(hint.contains(fix), "{fix:?} in {hint}");
    }
    let mut found: Vec<&str> = check["details"]["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["framework"].as_str().unwrap())
        .collect();
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "Alembic",
            "Flyway",
            "Prisma",
            "Sequelize",
            "TypeORM",
            "knex",
            "node-pg-migrate"
        ],
        "every framework once, Laravel's `migrations` not taken for TypeORM's"
    );

    // The read-only commands the fix prints show what it names.
    let report = serde_json::json!({ "results": [check] });
    let shown: Vec<String> = read_only_commands(&report)
        .iter()
        .map(|(command, stages)| {
            let ran = run_printed(stages, std::path::Path::new("/"), &[]);
            assert!(ran.ok(stages), "`{command}`: {}{}", ran.stdout, ran.stderr);
            ran.stdout
        })
        .collect();
    assert_eq!(shown.len(), 3, "one per problem: {shown:?}");
    let all = shown.join("\n");
    for expected in [
        "20240102000000_add_status",
        "V2__add_status.sql",
        "is_locked",
    ] {
        assert!(all.contains(expected), "{expected:?} in {all}");
    }

    scratch.sql(&schema, RESOLVED);
    let check = migrations_check(&fixture);
    assert_eq!(check["status"], "pass", "{check:#}");
    let message = check["message"].as_str().unwrap();
    for said in [
        "knex: 2 applied, latest 20240102000000_add_status.js",
        "TypeORM: 2 applied, latest AddStatus1704153600000",
        "Prisma: 1 applied, latest 20240101000000_init",
        "Sequelize: 2 applied, latest 20240102000000-add-status.js",
        "node-pg-migrate: 2 applied, latest 1704153600000_add-status",
        "Flyway: 1 applied, latest 1 init",
        "Alembic: at revision ae1027a6acf",
    ] {
        assert!(message.contains(said), "{said:?} in {message}");
    }
    assert!(check.get("hint").is_none_or(|h| h.is_null()), "{check:#}");
    drop(scratch);
    assert_eq!(
        migrations_check(&fixture)["details"]["frameworks"],
        serde_json::json!([]),
        "the scratch schemas are gone"
    );
}
