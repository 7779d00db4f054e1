//! The incidents a Node + PostgreSQL + Redis deployment really has (issue 21),
//! each injected on the real stack by the test and undone after: a lock held
//! by an open transaction, connections held by one client up to "too many
//! clients", a transaction left idle, a bloated table, Redis full under
//! `noeviction`, a failing save, a slow command, stale and fresh backups.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;

const TICKET_DB: &str = "helpdesk-ticket-db";
const USER_REDIS: &str = "helpdesk-user-redis";

fn db_password() -> String {
    sh(&format!(
        "docker exec {TICKET_DB} printenv POSTGRES_PASSWORD"
    ))
    .trim()
    .to_string()
}

/// A session on ticket_db as the application's role, named `application`.
async fn session(
    password: &str,
    application: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::Config::new()
        .host("127.0.0.1")
        .port(5403)
        .user("ticket")
        .password(password)
        .dbname("ticket_db")
        .application_name(application)
        .connect_timeout(Duration::from_secs(5))
        .connect(tokio_postgres::NoTls)
        .await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A config with these `[thresholds]`.
fn config(dir: &Path, thresholds: &str) -> PathBuf {
    temp_file(dir, "config.toml", &format!("[thresholds]\n{thresholds}\n"))
}

/// `diagnose --format json --config CONFIG --only ONLY`.
fn diagnose_with(config: &Path, only: &str) -> (Run, serde_json::Value) {
    let run = run(doctor()
        .arg("--config")
        .arg(config)
        .args(["diagnose", "--format", "json", "--only", only]));
    let json = run.json();
    (run, json)
}

fn text<'a>(result: &'a serde_json::Value, key: &str) -> &'a str {
    result[key].as_str().unwrap_or_default()
}

/// Check `id` alone (with what it needs) under `config`: its result, whose
/// status must be `status`, and whose exit code must be `code`.
fn judged(config: &Path, id: &str, status: &str, code: i32) -> serde_json::Value {
    let (run, report) = diagnose_with(config, id);
    let found = result(&report, id).clone();
    assert_eq!(found["status"], status, "{found:#}");
    assert_eq!(run.code, code, "{}", run.stderr);
    found
}

/// Every part said in `key` of `result`.
fn says(result: &serde_json::Value, key: &str, parts: &[&str]) {
    let said = text(result, key);
    for part in parts {
        assert!(said.contains(part), "{part:?} in {key}: {result:#}");
    }
}

#[test]
fn a_lock_held_by_an_open_transaction_fails_naming_the_blocker_its_query_and_age() {
    // Exclusive: every reader of `tickets` waits meanwhile.
    let _stack = stack_exclusive();
    let rt = runtime();
    let password = db_password();
    let holder = rt.block_on(session(&password, "incident-holder")).unwrap();
    let reader = rt.block_on(session(&password, "incident-reader")).unwrap();
    let holder_pid: i32 = rt
        .block_on(holder.query_one("SELECT pg_backend_pid()", &[]))
        .unwrap()
        .get(0);
    rt.block_on(holder.batch_execute("BEGIN; LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE"))
        .unwrap();
    let reading = rt.spawn(async move {
        reader
            .query_one("SELECT count(*) FROM tickets", &[])
            .await
            .map(|row| row.get::<_, i64>(0))
    });
    std::thread::sleep(Duration::from_millis(1500));
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "lock_wait_seconds = 1");

    let locks = judged(&config, "postgres.ticket.locks", "fail", 1);
    says(
        &locks,
        "message",
        &[
            "1 session waiting on a lock for 1 s or more",
            "\"incident-reader\"",
            "has waited ",
            "SELECT count(*) FROM tickets",
            &format!("behind pid {holder_pid} (idle in transaction for "),
            "\"incident-holder\"",
            "LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE",
        ],
    );
    assert_eq!(locks["details"]["blocker_pid"], holder_pid);
    let waited = locks["details"]["waiting"][0]["query_seconds"]
        .as_f64()
        .unwrap();
    assert!(waited >= 1.0, "{locks:#}");
    says(
        &locks,
        "hint",
        &[
            &format!("SELECT pg_terminate_backend({holder_pid});"),
            "docker exec -it helpdesk-ticket-db psql -U ticket -d ticket_db",
        ],
    );
    assert!(
        locks["duration_ms"].as_u64().unwrap() < 2000,
        "within the probe timeout: {locks:#}"
    );
    assert!(!reading.is_finished(), "diagnose cancelled nothing");

    // `fix` asks first, and refuses without a terminal or --yes.
    let refused = run(doctor()
        .arg("--config")
        .arg(&config)
        .args(["fix", "postgres.ticket.locks"]));
    assert_eq!(refused.code, 5, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stdout
            .contains("cancel the blocking session's query"),
        "{}",
        refused.stdout
    );
    assert!(!reading.is_finished(), "a refused fix cancelled nothing");
    let fixed =
        run(doctor()
            .arg("--config")
            .arg(&config)
            .args(["fix", "--yes", "postgres.ticket.locks"]));
    assert!(
        fixed.stdout.lines().any(|l| {
            l.contains(&format!("pg_terminate_backend({holder_pid}) done: "))
                && l.contains("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")
        }) && fixed.stdout.contains("postgres.ticket.locks: FAIL → PASS"),
        "{}{}",
        fixed.stdout,
        fixed.stderr
    );
    let counted = rt.block_on(reading).unwrap().expect("the reader went on");
    assert!(counted > 0);
    assert!(
        rt.block_on(holder.query_one("SELECT 1", &[])).is_err(),
        "the blocker's session was ended"
    );
}

#[test]
fn a_transaction_idle_past_the_threshold_warns_with_its_pid_and_client() {
    // Shared: an idle transaction that holds no lock stops no one.
    let _stack = stack_shared();
    let rt = runtime();
    let idle = rt
        .block_on(session(&db_password(), "incident-idle"))
        .unwrap();
    let row = rt
        .block_on(idle.query_one(
            "SELECT pg_backend_pid(), host(client_addr) FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        ))
        .unwrap();
    let (pid, client): (i32, String) = (row.get(0), row.get(1));
    rt.block_on(idle.batch_execute("BEGIN; SELECT 1")).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "long_transaction_seconds = 2");

    let transactions = judged(&config, "postgres.ticket.transactions", "warn", 0);
    says(
        &transactions,
        "message",
        &[
            "open longer than 2 s",
            &format!("oldest: pid {pid} (idle in transaction for "),
            &format!("from {client} \"incident-idle\" as ticket"),
            "SELECT 1",
        ],
    );
    assert!(
        transactions["details"]["pids"]
            .as_array()
            .unwrap()
            .contains(&pid.into()),
        "{transactions:#}"
    );
    assert!(
        text(&transactions, "hint").contains("idle_in_transaction_session_timeout"),
        "{transactions:#}"
    );
    rt.block_on(idle.batch_execute("ROLLBACK")).unwrap();
    judged(&config, "postgres.ticket.transactions", "pass", 0);
}

/// Opens sessions named `ticket-worker` until the server refuses one with
/// "too many clients" (at most `limit` more).
/// Ends every session of ticket_db but the workers' and this one: the
/// application's pool keeps none of its own.
async fn empty_the_apps_pool(session: &tokio_postgres::Client) {
    let ended = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() \
        AND datname = current_database() AND application_name <> 'ticket-worker'";
    session.query_one(ended, &[]).await.unwrap();
}

/// How many sessions the application holds (every client but the test's own).
async fn apps_sessions(session: &tokio_postgres::Client) -> i64 {
    let counted = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \
        AND pid <> pg_backend_pid() AND datname = current_database() \
        AND application_name <> 'ticket-worker'";
    session.query_one(counted, &[]).await.unwrap().get(0)
}

/// Every slot held by the test and none by the application: its sessions
/// ended (and gone: a terminated backend keeps its slot until it exits), the
/// slots they held taken, until the server refuses — again if the
/// application connected meanwhile (its health check runs on its own).
async fn starve_the_app(password: &str, held: &mut Vec<tokio_postgres::Client>) {
    for _ in 0..20 {
        empty_the_apps_pool(&held[0]).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while apps_sessions(&held[0]).await > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        fill(password, held, 50).await;
        if apps_sessions(&held[0]).await == 0 {
            return;
        }
    }
    panic!("the application kept connecting while the server was being filled");
}

async fn fill(password: &str, held: &mut Vec<tokio_postgres::Client>, limit: usize) {
    for _ in 0..limit {
        match session(password, "ticket-worker").await {
            Ok(client) => held.push(client),
            Err(e) if e.code() == Some(&SqlState::TOO_MANY_CONNECTIONS) => return,
            Err(e) => panic!("opening a session: {e}"),
        }
    }
    panic!("the server still accepts sessions after {limit} more");
}

#[test]
fn one_clients_idle_sessions_are_named_near_max_connections_and_a_full_server_is_too_many_clients()
{
    // Exclusive: the ticket service runs out of connections.
    let _stack = stack_exclusive();
    let rt = runtime();
    let password = db_password();
    let _healthy_after = Restore(|| {});
    let mut held = vec![rt.block_on(session(&password, "ticket-worker")).unwrap()];
    // Whatever earlier requests left in the application's pool (up to 5).
    rt.block_on(empty_the_apps_pool(&held[0]));
    let now: i64 = rt
        .block_on(held[0].query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
            &[],
        ))
        .unwrap()
        .get(0);
    // 90 of the 97 usable slots with the doctor's own session.
    let more = 89 - now as usize;
    let opened = rt.block_on(futures::future::join_all(
        (0..more).map(|_| session(&password, "ticket-worker")),
    ));
    held.extend(opened.into_iter().map(Result::unwrap));

    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "");
    let (_, report) = diagnose_with(&config, "postgres.ticket.connections");
    let connections = result(&report, "postgres.ticket.connections");
    assert!(
        ["warn", "fail"].contains(&text(connections, "status")),
        "{connections:#}"
    );
    let details = &connections["details"];
    assert!(
        details["percent"].as_f64().unwrap() >= 88.0,
        "{connections:#}"
    );
    assert_eq!(
        details["usable"], 97,
        "100 less 3 reserved: {connections:#}"
    );
    assert_eq!(details["holders"][0]["application"], "ticket-worker");
    assert!(details["holders"][0]["count"].as_i64().unwrap() >= 85);
    let message = text(connections, "message");
    assert!(
        message.contains(&format!("{}/97 connections", details["connections"]))
            && message.contains(" idle ")
            && message.contains("\"ticket-worker\" as ticket"),
        "{message}"
    );
    assert!(
        text(connections, "hint").contains("application_name = 'ticket-worker'"),
        "{connections:#}"
    );

    // Every slot taken: the application's pool meets the refusal too (it
    // holds no session, or it would serve the requests below on its own and
    // never connect again). Requests until it has said so.
    rt.block_on(starve_the_app(&password, &mut held));
    let http = http().timeout(Duration::from_secs(10)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut answered = Vec::new();
    while !sh("docker logs --since 60s helpdesk-ticket-service 2>&1").contains("too many clients") {
        assert!(
            Instant::now() < deadline,
            "the ticket service never logged its pool's refusal; answers {answered:?}; its logs: {}",
            sh("docker logs --tail 20 helpdesk-ticket-service 2>&1")
        );
        let statuses = rt.block_on(async {
            let requests = (0..10).map(|_| http.get("http://127.0.0.1:3003/api/v1/tickets").send());
            futures::future::join_all(requests).await
        });
        answered.extend(
            statuses
                .into_iter()
                .map(|r| r.map(|r| r.status().as_u16()).unwrap_or(0)),
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Slots its pool let go of are taken again.
    rt.block_on(fill(&password, &mut held, 50));
    let (run, report) = diagnose_with(&config, "postgres.ticket.connect,logs.ticket.service");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let connect = result(&report, "postgres.ticket.connect");
    assert_eq!(connect["status"], "fail", "{connect:#}");
    assert!(
        text(connect, "message").contains(
            "ticket_db: too many clients: every connection slot is taken, the doctor itself cannot connect"
        ),
        "{connect:#}"
    );
    assert!(
        text(connect, "hint").contains("FROM pg_stat_activity GROUP BY"),
        "{connect:#}"
    );
    let logs = result(&report, "logs.ticket.service");
    assert_eq!(logs["status"], "warn", "{logs:#}");
    assert_eq!(logs["details"]["root_cause"], "postgres.ticket.connect");
    assert!(
        logs["details"]["counts"]["too many clients"]
            .as_u64()
            .unwrap()
            >= 1,
        "{logs:#}"
    );
    assert!(
        text(logs, "message").contains("root cause: ticket_db: too many clients"),
        "{logs:#}"
    );
    drop(held);
}

#[test]
fn a_table_with_many_dead_tuples_warns_with_its_last_vacuum() {
    // Exclusive: the warning would show in others' healthy runs.
    let _stack = stack_exclusive();
    let ticket_db = |sql: &str| psql(TICKET_DB, "ticket", "ticket_db", sql);
    let _drop = Restore(move || {
        ticket_db("DROP TABLE IF EXISTS incident_bloat");
    });
    ticket_db(
        "CREATE TABLE incident_bloat (id int) WITH (autovacuum_enabled = false); \
         INSERT INTO incident_bloat SELECT generate_series(1, 20000); DELETE FROM incident_bloat",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while ticket_db("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'incident_bloat'")
        != "20000"
    {
        assert!(Instant::now() < deadline, "the statistics never showed it");
        std::thread::sleep(Duration::from_millis(200));
    }
    let dir = tempfile::tempdir().unwrap();
    let vacuum = judged(&config(dir.path(), ""), "postgres.ticket.vacuum", "warn", 0);
    says(
        &vacuum,
        "message",
        &["public.incident_bloat 20000 dead / 0 live, never vacuumed"],
    );
    says(
        &vacuum,
        "hint",
        &["VACUUM (VERBOSE, ANALYZE) public.incident_bloat;"],
    );
}

/// CONFIG GET `key` of a Redis connection.
fn config_get(redis: &mut redis::Connection, key: &str) -> String {
    let pair: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(key)
        .query(redis)
        .unwrap();
    pair[1].clone()
}

fn info_field(redis: &mut redis::Connection, section: &str, key: &str) -> String {
    let info: String = redis::cmd("INFO").arg(section).query(redis).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn redis_full_under_noeviction_fails_naming_oom_and_the_policy() {
    // Exclusive: user-redis refuses the user service's writes meanwhile.
    let _stack = stack_exclusive();
    let mut redis = redis(6302, REDIS_PASSWORD);
    let (max, policy) = (
        config_get(&mut redis, "maxmemory"),
        config_get(&mut redis, "maxmemory-policy"),
    );
    let _restore = Restore(move || {
        let mut redis = crate::support::redis(6302, REDIS_PASSWORD);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("incident:fill:*")
            .query(&mut redis)
            .unwrap();
        for batch in keys.chunks(500) {
            redis::cmd("UNLINK")
                .arg(batch)
                .query::<()>(&mut redis)
                .unwrap();
        }
        for (key, value) in [("maxmemory", &max), ("maxmemory-policy", &policy)] {
            redis::cmd("CONFIG")
                .arg("SET")
                .arg(key)
                .arg(value)
                .query::<()>(&mut redis)
                .unwrap();
        }
    });
    let used: u64 = info_field(&mut redis, "memory", "used_memory")
        .parse()
        .unwrap();
    for (key, value) in [
        ("maxmemory-policy", "noeviction".to_string()),
        ("maxmemory", (used + (512 << 10)).to_string()),
    ] {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg(key)
            .arg(value)
            .query::<()>(&mut redis)
            .unwrap();
    }
    let value = "x".repeat(10 << 10);
    let refused = (0..1000).find_map(|i| {
        redis::cmd("SET")
            .arg(format!("incident:fill:{i}"))
            .arg(&value)
            .query::<()>(&mut redis)
            .err()
    });
    let refused = refused.expect("Redis refused a write once full");
    assert!(refused.to_string().contains("OOM"), "{refused}");

    let dir = tempfile::tempdir().unwrap();
    let info = judged(&config(dir.path(), ""), "redis.user.info", "fail", 1);
    assert!(
        text(&info, "message").starts_with("writes refused (OOM)"),
        "{info:#}"
    );
    says(
        &info,
        "message",
        &["maxmemory-policy noeviction", "nothing may be evicted"],
    );
    assert_eq!(info["details"]["maxmemory_policy"], "noeviction");
    says(
        &info,
        "hint",
        &[
            "CONFIG SET maxmemory-policy allkeys-lru",
            "--maxmemory in the compose command of user-redis",
        ],
    );
}

#[test]
fn a_save_that_fails_fails_persistence_and_names_misconf() {
    // Exclusive: user-redis refuses every write (MISCONF) meanwhile.
    let _stack = stack_exclusive();
    let mode = sh(&format!("docker exec {USER_REDIS} stat -c %a /data"));
    let mode = mode.trim().to_string();
    let _restore = Restore(move || {
        sh(&format!(
            "docker exec -u root {USER_REDIS} chmod {mode} /data"
        ));
        let mut redis = redis(6302, REDIS_PASSWORD);
        redis::cmd("BGSAVE").query::<String>(&mut redis).unwrap();
        wait_for_save(&mut redis, "ok");
    });
    sh(&format!(
        "docker exec -u root {USER_REDIS} chmod 0555 /data"
    ));
    let mut redis = redis(6302, REDIS_PASSWORD);
    redis::cmd("BGSAVE").query::<String>(&mut redis).unwrap();
    wait_for_save(&mut redis, "err");
    let write = redis::cmd("SET")
        .arg("incident:misconf")
        .arg("1")
        .query::<()>(&mut redis);
    assert!(
        write
            .as_ref()
            .is_err_and(|e| e.to_string().contains("MISCONF")),
        "{write:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let persistence = judged(&config(dir.path(), ""), "redis.user.persistence", "fail", 1);
    says(
        &persistence,
        "message",
        &[
            "the last background save failed (rdb_last_bgsave_status:err)",
            "every write is refused with MISCONF",
        ],
    );
    says(
        &persistence,
        "hint",
        &["docker exec helpdesk-user-redis ls -ld /data"],
    );
    // Redis refuses PING too under MISCONF, yet it answers: a warning that
    // points at persistence, not a connection failure.
    let ping = judged(&config(dir.path(), ""), "redis.user.ping", "warn", 0);
    says(
        &ping,
        "message",
        &["PING → MISCONF", "redis.user.persistence"],
    );
}

/// Until no save runs and the last one ended with `status` (30 s at most).
fn wait_for_save(redis: &mut redis::Connection, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while info_field(redis, "persistence", "rdb_bgsave_in_progress") != "0"
        || info_field(redis, "persistence", "rdb_last_bgsave_status") != status
    {
        assert!(Instant::now() < deadline, "no save ended {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_slow_command_warns_with_its_arguments_masked() {
    // Exclusive: the slow log's entry would show in others' healthy runs.
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        let mut redis = redis(6302, REDIS_PASSWORD);
        redis::cmd("SLOWLOG")
            .arg("RESET")
            .query::<()>(&mut redis)
            .unwrap();
    });
    let mut redis = redis(6302, REDIS_PASSWORD);
    let script = "local p = 'password=incident-canary-3f9a' local i = 0 \
                  while i < 20000000 do i = i + 1 end return p";
    let started = Instant::now();
    redis::cmd("EVAL")
        .arg(script)
        .arg(0)
        .query::<String>(&mut redis)
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(120),
        "the script took {:?}",
        started.elapsed()
    );

    let dir = tempfile::tempdir().unwrap();
    let slowlog = judged(&config(dir.path(), ""), "redis.user.slowlog", "warn", 0);
    says(
        &slowlog,
        "message",
        &[
            "1 command slower than 100 ms in the last 15 min; slowest ",
            ": EVAL local p = 'password=****'",
        ],
    );
    assert!(
        !slowlog.to_string().contains("incident-canary-3f9a"),
        "{slowlog:#}"
    );
}

#[test]
fn connections_refused_at_maxclients_warn() {
    // Exclusive: user-redis refuses new clients meanwhile, and the count of
    // refusals would show in others' healthy runs until it is reset.
    let _stack = stack_exclusive();
    let mut redis = redis(6302, REDIS_PASSWORD);
    let maxclients = config_get(&mut redis, "maxclients");
    // Opened before the limit falls: the restore never needs a new connection.
    let mut keeper = crate::support::redis(6302, REDIS_PASSWORD);
    let _restore = Restore(move || {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxclients")
            .arg(&maxclients)
            .query::<()>(&mut keeper)
            .unwrap();
        redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query::<()>(&mut keeper)
            .unwrap();
    });
    let connected: u64 = info_field(&mut redis, "clients", "connected_clients")
        .parse()
        .unwrap();
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxclients")
        .arg(connected)
        .query::<()>(&mut redis)
        .unwrap();
    let client = redis::Client::open("redis://127.0.0.1:6302/").unwrap();
    let refused = client
        .get_connection_with_timeout(Duration::from_secs(3))
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
    // Redis answers "max number of clients reached" and hangs up; the client
    // may read either first.
    assert!(refused.is_err(), "{refused:?}");
    let rejected: u64 = info_field(&mut redis, "stats", "rejected_connections")
        .parse()
        .unwrap();
    assert!(rejected >= 1, "the server counted the refusal");
    // Room again, through the connection held all along.
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxclients")
        .arg(10_000)
        .query::<()>(&mut redis)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let clients = judged(&config(dir.path(), ""), "redis.user.clients", "warn", 0);
    assert!(
        clients["details"]["rejected_connections"].as_u64().unwrap() >= 1,
        "{clients:#}"
    );
    says(&clients, "message", &["connections refused at maxclients"]);
    says(&clients, "hint", &["CLIENT LIST", "--maxclients"]);
}

fn make_backup(backups: &Path) -> Run {
    run(doctor()
        .env("HELPDESK_DOCTOR_BACKUP_DIR", backups)
        .args(["backup", "--only", "ticket"]))
}

fn backup_check(backups: &Path, config: &Path) -> serde_json::Value {
    let run = run(doctor()
        .env("HELPDESK_DOCTOR_BACKUP_DIR", backups)
        .arg("--config")
        .arg(config)
        .args(["diagnose", "--format", "json", "--only", "backup.latest"]));
    result(&run.json(), "backup.latest").clone()
}

#[test]
fn no_backup_newer_than_the_threshold_warns_and_a_fresh_verified_one_passes() {
    // Exclusive: a backup takes the runbook lock.
    let _stack = stack_exclusive();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let default = config(dir.path(), "");

    let missing = backup_check(&backups, &default);
    assert_eq!(missing["status"], "warn", "{missing:#}");
    assert!(
        text(&missing, "message").ends_with("does not exist"),
        "{missing:#}"
    );
    assert!(text(&missing, "hint").contains("helpdesk-doctor backup --verify"));

    let made = make_backup(&backups);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let fresh = backup_check(&backups, &default);
    assert_eq!(fresh["status"], "pass", "{fresh:#}");
    let newest = fresh["details"]["newest"].as_str().unwrap().to_string();
    assert!(
        text(&fresh, "message").starts_with("newest backup that verifies is ")
            && text(&fresh, "message").contains(&newest),
        "{fresh:#}"
    );

    std::thread::sleep(Duration::from_millis(2100));
    let strict = temp_file(
        dir.path(),
        "strict.toml",
        "[thresholds]\nbackup_max_age_seconds = 1\n",
    );
    let stale = backup_check(&backups, &strict);
    assert_eq!(stale["status"], "warn", "{stale:#}");
    assert!(
        text(&stale, "message").ends_with("— older than 1 s"),
        "{stale:#}"
    );

    // A backup whose dump lost bytes does not verify: the check says so.
    let dump = std::fs::read_dir(&newest)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "gz"))
        .unwrap();
    let bytes = std::fs::read(&dump).unwrap();
    std::fs::write(&dump, &bytes[..bytes.len() / 2]).unwrap();
    let broken = backup_check(&backups, &default);
    assert_eq!(broken["status"], "warn", "{broken:#}");
    assert!(
        text(&broken, "message").contains("no backup that verifies")
            && text(&broken, "message").contains("the manifest says"),
        "{broken:#}"
    );
}

/// A table a check reads locked by an open transaction: that check says so
/// soon (WARN, pointing to the locks check), and the checks sharing its
/// PostgreSQL session are not held behind it until they time out.
#[test]
fn a_locked_table_a_check_reads_holds_no_other_check_of_its_database() {
    // Exclusive: every reader of `refresh_tokens` waits meanwhile.
    let _stack = stack_exclusive();
    let rt = runtime();
    let password = sh("docker exec helpdesk-auth-db printenv POSTGRES_PASSWORD")
        .trim()
        .to_string();
    let holder = rt
        .block_on(async {
            let (client, connection) = tokio_postgres::Config::new()
                .host("127.0.0.1")
                .port(5401)
                .user("user")
                .password(&password)
                .dbname("auth_db")
                .application_name("incident-holder")
                .connect_timeout(Duration::from_secs(5))
                .connect(tokio_postgres::NoTls)
                .await?;
            tokio::spawn(connection);
            Ok::<_, tokio_postgres::Error>(client)
        })
        .unwrap();
    rt.block_on(holder.batch_execute("BEGIN; LOCK TABLE refresh_tokens IN ACCESS EXCLUSIVE MODE"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "");

    let (run, report) = diagnose_with(&config, "postgres.auth.*");
    let expired = result(&report, "postgres.auth.expired_tokens");
    assert_eq!(expired["status"], "warn", "{expired:#}");
    says(
        expired,
        "message",
        &["auth_db: not read: what it reads was locked by another session for over"],
    );
    says(expired, "hint", &["the locks check"]);
    let held: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| text(r, "message").contains("timed out"))
        .map(|r| format!("{}: {}", text(r, "id"), text(r, "message")))
        .collect();
    assert!(
        held.is_empty(),
        "held behind the lock: {held:?}\n{}",
        run.stdout
    );
    rt.block_on(holder.batch_execute("ROLLBACK")).unwrap();
}
