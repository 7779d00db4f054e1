//! Secrets never leave: a canary planted as JWT_SECRET, as the auth database's
//! password (in DATABASE_URL) and as the auth Redis password never appears in
//! the table, JSON or JUnit output, nor in runbook output, nor anywhere in a
//! support bundle (with a JWT and a `password=` planted in a log line too).

use crate::support::*;

const CANARY: &str = "canary-5ecr3t-7f3a9c";

fn compose_auth_service(env: &str) {
    sh(&format!(
        "{env} docker-compose -p helpdesk-microservices -f tests/stack/docker-compose.services.yml up -d --no-deps auth-service 2>&1"
    ));
}

#[test]
fn a_canary_secret_never_appears_in_any_report() {
    let _stack = stack_exclusive();
    let dir = tempfile::tempdir().unwrap();
    let env_file = temp_file(dir.path(), "auth.env", &format!("JWT_SECRET={CANARY}\n"));
    let _restore = Restore(|| {
        let mut redis = redis(6301, CANARY);
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg(REDIS_PASSWORD)
            .query::<()>(&mut redis)
            .ok();
        psql(
            "helpdesk-auth-db",
            "user",
            "auth_db",
            "ALTER ROLE \"user\" PASSWORD 'helpdesk-db-pass'",
        );
        compose("up -d --no-deps auth-service");
    });
    psql(
        "helpdesk-auth-db",
        "user",
        "auth_db",
        &format!("ALTER ROLE \"user\" PASSWORD '{CANARY}'"),
    );
    let mut redis = redis(6301, REDIS_PASSWORD);
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg(CANARY)
        .query::<()>(&mut redis)
        .unwrap();
    compose_auth_service(&format!(
        "HELPDESK_AUTH_ENV_FILE={} HELPDESK_DB_PASSWORD={CANARY} HELPDESK_REDIS_PASSWORD={CANARY}",
        env_file.display()
    ));
    wait_stack_healthy();

    let with_canary = |args: &[&str]| {
        run(doctor()
            .env("HELPDESK_AUTH_DB_PASSWORD", CANARY)
            .env("HELPDESK_AUTH_REDIS_PASSWORD", CANARY)
            .env("HELPDESK_USER_REDIS_PASSWORD", CANARY) // wrong for user: its error must not echo it
            .args(args))
    };
    let table = with_canary(&["diagnose", "--verbose"]);
    let json = with_canary(&["diagnose", "--format", "json", "--verbose"]);
    let junit_path = dir.path().join("report.xml");
    let junit = with_canary(&[
        "diagnose",
        "--format",
        "junit",
        "--output",
        junit_path.to_str().unwrap(),
    ]);
    let flush = with_canary(&[
        "cache",
        "flush",
        "auth",
        "--pattern",
        "nothing:*",
        "--dry-run",
    ]);
    let junit_xml = std::fs::read_to_string(&junit_path).unwrap();
    let bundle_dir = bundle_with_canaries_in_a_log_line(dir.path(), &with_canary);

    // The canary was really in use: the checks that need it passed.
    let report = json.json();
    for id in [
        "env.auth",
        "postgres.auth.connect",
        "redis.auth.ping",
        "http.auth.health",
    ] {
        assert_eq!(
            status_of(&report, id),
            "pass",
            "{id}: {}",
            result(&report, id)
        );
    }
    assert!(
        result(&report, "redis.user.ping")["message"]
            .as_str()
            .unwrap()
            .contains("WRONGPASS")
    );
    assert_eq!(flush.code, 0, "{}", flush.stderr);

    for (name, text) in [
        ("table", &table.stdout),
        ("table stderr", &table.stderr),
        ("json", &json.stdout),
        ("junit", &junit_xml),
        ("junit stdout", &junit.stdout),
        ("cache flush", &flush.stdout),
        ("cache flush stderr", &flush.stderr),
    ] {
        assert!(
            !text.contains(CANARY),
            "the canary leaked into the {name} output"
        );
        assert!(
            !text.contains("5ecr3t"),
            "part of the canary leaked into the {name} output"
        );
    }
    let leaked = sh(&format!(
        "grep -rlE '5ecr3t|{LOG_JWT_SIGNATURE}|{LOG_PASSWORD}' {} || true",
        bundle_dir.display()
    ));
    assert_eq!(leaked.trim(), "", "a canary leaked into these bundle files");
}

const LOG_JWT_SIGNATURE: &str = "canaryJwtSignature42";
const LOG_PASSWORD: &str = "canary-log-pw-91";

/// Writes a log line with a JWT and a `password=` into a container's log (its
/// PID 1's stdout), makes a bundle, checks its shape and extracts it.
fn bundle_with_canaries_in_a_log_line(
    dir: &std::path::Path,
    doctor: &dyn Fn(&[&str]) -> Run,
) -> std::path::PathBuf {
    // The auth service logs each request's path: a JWT and a password in one.
    sh(&format!(
        "curl -s -o /dev/null 'http://127.0.0.1:3001/api/v1/login/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.{LOG_JWT_SIGNATURE}/password={LOG_PASSWORD}'"
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !sh("docker logs --since 60s helpdesk-auth-service 2>&1").contains(LOG_PASSWORD) {
        assert!(
            std::time::Instant::now() < deadline,
            "the request was never logged"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let archive = dir.join("bundle.tar.gz");
    let made = doctor(&[
        "bundle",
        "--out",
        archive.to_str().unwrap(),
        "--since",
        "10m",
    ]);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the bundle is private");
    let extracted = dir.join("bundle");
    std::fs::create_dir_all(&extracted).unwrap();
    sh(&format!(
        "tar -xzf {} -C {}",
        archive.display(),
        extracted.display()
    ));
    for container in CONTAINERS {
        for file in ["logs.txt", "inspect.json"] {
            let path = extracted.join("containers").join(container).join(file);
            assert!(path.is_file(), "{} in the bundle", path.display());
        }
    }
    let service_logs =
        std::fs::read_to_string(extracted.join("containers/helpdesk-auth-service/logs.txt"))
            .unwrap();
    assert!(
        service_logs.contains("/api/v1/login/****/password=****"),
        "the planted line is there, masked: {service_logs}"
    );
    for file in ["README.txt", "report.json", "versions.txt", "host.txt"] {
        assert!(extracted.join(file).is_file(), "{file} in the bundle");
    }
    assert!(
        std::fs::read_dir(extracted.join("compose"))
            .unwrap()
            .count()
            >= 1,
        "the compose file, masked"
    );
    extracted
}

#[test]
fn bundle_logs_are_capped_at_max_log_lines() {
    let _stack = stack_shared();
    let _cleanup = Restore(|| {
        sh("docker rm -f -v helpdesk-noisy-logger >/dev/null 2>&1 || true");
    });
    sh("docker run -d --name helpdesk-noisy-logger \
        --label com.docker.compose.project=helpdesk-microservices \
        --label com.docker.compose.service=noisy \
        helpdesk-redis:local sh -c 'seq 1 20000' >/dev/null && docker wait helpdesk-noisy-logger >/dev/null");
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("b.tar.gz");
    let made = run(doctor()
        .args(["bundle", "--max-log-lines", "50", "--out"])
        .arg(&archive));
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let lines = sh(&format!(
        "tar -xzOf {} containers/helpdesk-noisy-logger/logs.txt | wc -l",
        archive.display()
    ));
    assert_eq!(lines.trim(), "50");
    let last = sh(&format!(
        "tar -xzOf {} containers/helpdesk-noisy-logger/logs.txt | tail -n 1",
        archive.display()
    ));
    assert!(
        last.trim_end().ends_with(" 20000"),
        "the last lines are kept: {last}"
    );
}

/// The planted second replica of auth's Redis: its password, a `?password=`
/// URL and an SMTP URL with a password, each with its own canary.
const REPLICA: &str = "helpdesk-auth-redis-canary";
const REPLICA_CANARIES: [&str; 3] = ["CANARYrp1x", "CANARYqry2x", "CANARYsmtp3x"];

/// A second replica of `auth-redis` (compose labels, container number 2)
/// started with `--requirepass`, whose health check and logs echo its
/// variables and password — so every output that shows them would leak them.
fn plant_a_second_replica() {
    let [requirepass, query, smtp] = REPLICA_CANARIES;
    sh(&format!(
        "docker rm -f -v {REPLICA} >/dev/null 2>&1; docker run -d --name {REPLICA} \
         --label com.docker.compose.project=helpdesk-microservices \
         --label com.docker.compose.service=auth-redis \
         --label com.docker.compose.container-number=2 \
         -e 'DATABASE_URL=postgres://app@db:5432/x?sslmode=disable&password={query}' \
         -e 'SMTP_URL=smtp://mailer:{smtp}@mail:25' \
         --health-cmd 'echo \"error: cannot reach $DATABASE_URL nor $SMTP_URL\"; exit 1' \
         --health-interval 1s --health-retries 1 \
         --entrypoint sh helpdesk-redis:local \
         -c 'echo \"error: cannot reach $DATABASE_URL\"; echo \"error: mail $SMTP_URL\"; \
             echo \"error: auth $2 refused\"; exec redis-server \"$@\"' \
         sh --requirepass {requirepass} >/dev/null"
    ));
    // Until its health check has failed with its output (the leak to catch).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !sh(&format!(
        "docker inspect -f '{{{{json .State.Health}}}}' {REPLICA}"
    ))
    .contains(query)
    {
        assert!(std::time::Instant::now() < deadline, "no health output");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn the_secrets_of_every_replica_and_every_url_never_appear() {
    let _stack = stack_exclusive();
    let _cleanup = Restore(|| {
        sh(&format!(
            "docker rm -f -v {REPLICA} >/dev/null 2>&1 || true"
        ));
    });
    plant_a_second_replica();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let doctor_here = |args: &[&str]| {
        run(doctor()
            .env("HELPDESK_DOCTOR_STATE_DIR", &state)
            .current_dir(dir.path())
            .args(args))
    };
    let mut outputs: Vec<(String, String)> = Vec::new();
    for format in [
        "human",
        "table",
        "json",
        "junit",
        "tap",
        "nagios",
        "prometheus",
    ] {
        let made = doctor_here(&["diagnose", "--verbose", "--format", format]);
        outputs.push((format!("diagnose {format}"), made.stdout + &made.stderr));
    }
    let json = doctor_here(&["diagnose", "--format", "json"]).json();
    let replica_checks = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["target"] == REPLICA)
        .count();
    assert!(replica_checks > 0, "the replica is checked: {json:#}");
    let watched = doctor_here(&["watch", "--interval", "1s", "--duration", "2s"]);
    outputs.push(("watch".into(), watched.stdout + &watched.stderr));
    let logs = doctor_here(&["logs", "auth-redis"]);
    assert!(
        logs.stdout.contains("error: auth **** refused"),
        "the replica's log line is there, masked: {}",
        logs.stdout
    );
    outputs.push(("logs".into(), logs.stdout + &logs.stderr));
    let archive = dir.path().join("bundle.tar.gz");
    let bundled = doctor_here(&["bundle", "--out", archive.to_str().unwrap()]);
    assert_eq!(bundled.code, 0, "{}{}", bundled.stdout, bundled.stderr);
    sh(&format!(
        "mkdir {0}/bundle && tar -xzf {1} -C {0}/bundle",
        dir.path().display(),
        archive.display()
    ));
    assert!(
        dir.path()
            .join(format!("bundle/containers/{REPLICA}/inspect.json"))
            .is_file()
    );

    for (name, text) in &outputs {
        for canary in REPLICA_CANARIES {
            assert!(
                !text.contains(canary),
                "{canary} leaked into {name}:\n{text}"
            );
        }
    }
    let leaked = sh(&format!(
        "grep -rlE '{}' {} || true",
        REPLICA_CANARIES.join("|"),
        dir.path().display()
    ));
    assert_eq!(
        leaked.trim(),
        "",
        "a canary leaked into these history or bundle files"
    );
    assert!(
        std::fs::read_dir(state.join("history")).unwrap().count() >= 8,
        "the runs were saved"
    );
}
