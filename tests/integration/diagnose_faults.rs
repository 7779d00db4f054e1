//! Injected faults, each caught by the right check with the right fix.

use crate::support::*;
use std::net::TcpListener;
use std::time::Duration;

#[test]
fn a_stopped_database_fails_its_gate_skips_its_queries_and_is_named_as_root_cause() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-ticket-db >/dev/null");
    });
    sh("docker stop -t 5 helpdesk-ticket-db >/dev/null");
    let (run, report) = diagnose_json(&[]);
    assert_eq!(run.code, 1, "a failed check exits 1");
    assert_eq!(report["status"], "fail");
    let db = result(&report, "container.ticket.db");
    assert_eq!(db["status"], "fail");
    assert!(
        db["message"]
            .as_str()
            .unwrap()
            .contains("helpdesk-ticket-db is not running"),
        "{db}"
    );
    // The fix names the project and its compose file from the labels, and runs
    // as printed from any folder.
    let hint = db["hint"].as_str().unwrap();
    let compose = format!(
        "docker-compose -p helpdesk-microservices -f {}/tests/stack/docker-compose.services.yml",
        repo().display()
    );
    let fix = format!("{compose} up -d ticket-db");
    assert!(hint.contains(&fix), "{db}");
    let started = std::process::Command::new("sh")
        .arg("-c")
        .arg(&fix)
        .current_dir("/")
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "{fix}: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    wait_stack_healthy();
    assert_eq!(
        health_of("helpdesk-ticket-db"),
        "healthy",
        "the printed fix worked"
    );
    sh("docker stop -t 5 helpdesk-ticket-db >/dev/null");
    assert_eq!(status_of(&report, "port.ticket.db"), "fail");
    for skipped in [
        "postgres.ticket.connect",
        "postgres.ticket.tables",
        "postgres.ticket.slow_queries",
    ] {
        let r = result(&report, skipped);
        assert_eq!(r["status"], "skip", "{r}");
    }
    let health = result(&report, "http.ticket.health");
    assert_eq!(health["status"], "fail");
    let message = health["message"].as_str().unwrap();
    assert!(
        message.contains("database")
            && message.contains("root cause: helpdesk-ticket-db is not running"),
        "{message}"
    );
    assert_eq!(
        status_of(&report, "http.auth.health"),
        "pass",
        "other services are unaffected"
    );
    assert_eq!(status_of(&report, "postgres.auth.connect"), "pass");
}

#[test]
fn a_changed_redis_password_is_wrongpass_and_a_missing_one_is_noauth() {
    let _stack = stack_exclusive();
    let mut redis = redis(6303, REDIS_PASSWORD);
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("rotated-elsewhere")
        .query::<()>(&mut redis)
        .unwrap();
    let _restore = Restore(|| {
        let mut again = crate::support::redis(6303, "rotated-elsewhere");
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg(REDIS_PASSWORD)
            .query::<()>(&mut again)
            .unwrap();
    });
    let (run, report) = diagnose_json(&["--only", "redis.ticket.*"]);
    assert_eq!(run.code, 1);
    let ping = result(&report, "redis.ticket.ping");
    assert_eq!(ping["status"], "fail");
    assert!(
        ping["message"].as_str().unwrap().contains("WRONGPASS"),
        "{ping}"
    );
    assert!(
        ping["hint"].as_str().unwrap().contains("requirepass"),
        "{ping}"
    );
    assert_eq!(status_of(&report, "redis.ticket.info"), "skip");

    let noauth = crate::support::run(doctor().env("HELPDESK_TICKET_REDIS_PASSWORD", "").args([
        "diagnose",
        "--format",
        "json",
        "--only",
        "redis.ticket.ping",
    ]));
    let ping = result(&noauth.json(), "redis.ticket.ping").clone();
    assert!(
        ping["message"].as_str().unwrap().contains("NOAUTH"),
        "{ping}"
    );
    assert!(
        ping["hint"]
            .as_str()
            .unwrap()
            .contains("HELPDESK_TICKET_REDIS_PASSWORD"),
        "{ping}"
    );
}

#[test]
fn a_service_in_a_restart_loop_is_reported_with_its_last_logs() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        compose("up -d --no-deps user-service");
    });
    sh(
        "HELPDESK_DB_PASSWORD=not-the-password docker-compose -p helpdesk-microservices \
        -f tests/stack/docker-compose.services.yml up -d --no-deps user-service 2>&1",
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sh("docker inspect -f '{{.RestartCount}}' helpdesk-user-service")
        .trim()
        .parse::<u32>()
        .unwrap_or(0)
        < 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "user-service never restarted 3 times"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let (run, report) = diagnose_json(&["--only", "container.user.service,http.user.health"]);
    assert_eq!(run.code, 1);
    let container = result(&report, "container.user.service");
    assert_eq!(container["status"], "fail");
    assert!(
        container["message"]
            .as_str()
            .unwrap()
            .contains("restart loop"),
        "{container}"
    );
    let logs = container["details"]["last_logs"]
        .as_array()
        .expect("last log lines");
    assert!(
        logs.iter().any(|l| l
            .as_str()
            .unwrap()
            .contains("password authentication failed")),
        "{logs:?}"
    );
    assert!(
        container["hint"]
            .as_str()
            .unwrap()
            .contains("logs --tail=50 user-service"),
        "{container}"
    );
    assert!(
        !run.stdout.contains("not-the-password"),
        "the wrong password is a secret too"
    );
}

#[test]
fn a_closed_service_port_held_by_another_process_names_it() {
    let _stack = stack_exclusive();
    sh("docker stop -t 5 helpdesk-user-service >/dev/null");
    let _restore = Restore(|| {
        sh("docker start helpdesk-user-service >/dev/null");
    });
    let squatter =
        TcpListener::bind("127.0.0.1:3002").expect("port 3002 free once the service stopped");
    let (run, report) = diagnose_json(&["--only", "port.user.service"]);
    drop(squatter);
    assert_eq!(run.code, 1);
    let port = result(&report, "port.user.service");
    assert_eq!(port["status"], "fail");
    let message = port["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    assert!(
        message.contains("EADDRINUSE") && message.contains("helpdesk-user-service is not running"),
        "{message}"
    );
    assert!(port["hint"].as_str().unwrap().contains("kill"), "{port}");
}

#[test]
fn a_hung_endpoint_cannot_stall_the_run() {
    let hung = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hung.local_addr().unwrap().port();
    // Accepts every connection and never answers.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hung.incoming() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    temp_file(
        dir.path(),
        "hung.toml",
        &format!(
            "[[check]]\nid = \"http.hung\"\ntitle = \"hung\"\nhint = \"h\"\nprobe = {{ kind = \"http_health\", url = \"http://127.0.0.1:{port}/api/v1/health\" }}\n"
        ),
    );
    let run = run(doctor()
        .args([
            "diagnose",
            "--format",
            "json",
            "--only",
            "http.hung",
            "--probe-timeout",
            "1s",
            "--checks-dir",
        ])
        .arg(dir.path()));
    assert_eq!(run.code, 1);
    let hung = result(&run.json(), "http.hung").clone();
    assert_eq!(hung["status"], "fail");
    assert!(
        hung["message"]
            .as_str()
            .unwrap()
            .contains("no answer within"),
        "{hung}"
    );
    // The probe's timeout ended it, not the caller: generous bound for a debug build.
    assert!(run.took < Duration::from_secs(4), "took {:?}", run.took);
}

#[test]
fn repeated_slow_queries_are_listed_from_pg_stat_statements() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        psql(
            "helpdesk-ticket-db",
            "ticket",
            "ticket_db",
            "SELECT pg_stat_statements_reset()",
        );
    });
    for _ in 0..3 {
        psql(
            "helpdesk-ticket-db",
            "ticket",
            "ticket_db",
            "SELECT pg_sleep(0.15)",
        );
    }
    let (_, report) = diagnose_json(&["--only", "postgres.ticket.slow_queries"]);
    let slow = result(&report, "postgres.ticket.slow_queries");
    assert_eq!(slow["status"], "warn", "{slow}");
    assert_eq!(
        slow["details"]["column"], "mean_exec_time",
        "PostgreSQL 15 names the column mean_exec_time"
    );
    let queries = slow["details"]["slow_queries"].as_array().unwrap();
    let sleep = queries
        .iter()
        .find(|q| q["query"].as_str().unwrap().contains("pg_sleep"))
        .expect("pg_sleep listed");
    assert!(sleep["calls"].as_i64().unwrap() >= 3);
    assert!(sleep["mean_ms"].as_f64().unwrap() >= 150.0);
    assert!(
        slow["message"].as_str().unwrap().contains("pg_sleep"),
        "{slow}"
    );
}

#[test]
fn a_role_without_pg_read_all_stats_gets_a_warning_with_the_grant() {
    let _stack = stack_exclusive();
    psql(
        "helpdesk-user-db",
        "user",
        "user_db",
        "DROP ROLE IF EXISTS watcher; CREATE ROLE watcher LOGIN PASSWORD 'watcher-pass'",
    );
    let _restore = Restore(|| {
        psql(
            "helpdesk-user-db",
            "user",
            "user_db",
            "DROP ROLE IF EXISTS watcher",
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let service = |name: &str, n: u16, user: &str| {
        format!(
            "[[services]]\nname = \"{name}\"\napp_port = {}\ndb_port = {}\nredis_port = {}\ndatabase = \"{name}_db\"\ndb_user = \"{user}\"\n",
            3000 + n,
            5400 + n,
            6300 + n
        )
    };
    let profile = [
        service("auth", 1, "user"),
        service("user", 2, "watcher"),
        service("ticket", 3, "ticket"),
    ]
    .concat();
    let config = temp_file(dir.path(), "profile.toml", &profile);
    let run = run(doctor()
        .env("HELPDESK_USER_DB_PASSWORD", "watcher-pass")
        .arg("--config")
        .arg(&config)
        .args([
            "diagnose",
            "--format",
            "json",
            "--only",
            "postgres.user.slow_queries",
        ]));
    let slow = result(&run.json(), "postgres.user.slow_queries").clone();
    assert_eq!(slow["status"], "warn", "{slow}");
    assert!(
        slow["hint"]
            .as_str()
            .unwrap()
            .contains("GRANT pg_read_all_stats TO \"watcher\""),
        "{slow}"
    );
}

#[test]
fn a_missing_jwt_secret_is_flagged_without_printing_any_value() {
    let _stack = stack_exclusive();
    let dir = tempfile::tempdir().unwrap();
    let empty = temp_file(dir.path(), "empty.env", "");
    let _restore = Restore(|| {
        compose("up -d --no-deps auth-service");
    });
    sh(&format!(
        "HELPDESK_AUTH_ENV_FILE={} docker-compose -p helpdesk-microservices -f tests/stack/docker-compose.services.yml up -d --no-deps auth-service 2>&1",
        empty.display()
    ));
    let (run, report) = diagnose_json(&["--only", "env.*"]);
    assert_eq!(run.code, 1);
    let env = result(&report, "env.auth");
    assert_eq!(env["status"], "fail");
    assert_eq!(env["message"], "JWT_SECRET is missing", "{env}");
    assert_eq!(status_of(&report, "env.user"), "pass");
    assert!(
        !run.stdout.contains("helpdesk-db-pass"),
        "a DATABASE_URL password is never printed"
    );
}

#[test]
fn a_wrong_database_password_is_classified_as_authentication_failed() {
    let _stack = stack_shared();
    let run = run(doctor()
        .env("HELPDESK_AUTH_DB_PASSWORD", "wrong-password-here")
        .args([
            "diagnose",
            "--format",
            "json",
            "--only",
            "postgres.auth.connect",
        ]));
    let connect = result(&run.json(), "postgres.auth.connect").clone();
    assert_eq!(connect["status"], "fail");
    assert!(
        connect["message"]
            .as_str()
            .unwrap()
            .contains("password authentication failed"),
        "{connect}"
    );
    assert!(
        connect["hint"]
            .as_str()
            .unwrap()
            .contains("HELPDESK_AUTH_DB_PASSWORD"),
        "{connect}"
    );
    assert!(!run.stdout.contains("wrong-password-here"));
}

#[test]
fn what_node_prints_when_its_redis_goes_away_is_counted_in_the_logs_check() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-ticket-redis >/dev/null");
    });
    sh("docker stop -t 2 helpdesk-ticket-redis >/dev/null");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !sh("docker logs --since 60s helpdesk-ticket-service 2>&1").contains("ECONNREFUSED") {
        assert!(
            std::time::Instant::now() < deadline,
            "node-redis never logged ECONNREFUSED"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let (_, report) = diagnose_json(&["--only", "logs.ticket.service"]);
    let logs = result(&report, "logs.ticket.service");
    assert_eq!(logs["status"], "warn", "{logs:#}");
    assert!(
        logs["details"]["counts"]["ECONNREFUSED"].as_u64().unwrap() >= 1,
        "{logs:#}"
    );
    let examples = logs["details"]["examples"].as_array().unwrap();
    assert!(
        examples
            .iter()
            .any(|e| e.as_str().unwrap().contains("Error: connect ECONNREFUSED")),
        "Node's own words: {examples:?}"
    );
}
