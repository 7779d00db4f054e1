//! The bundled stack itself (issue: the real deployment for tests): containers,
//! labels, health endpoints, token verification, schemas, and a database outage.

use crate::support::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bollard::query_parameters::ListContainersOptionsBuilder;
use hmac::{KeyInit, Mac};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[test]
fn nine_containers_run_healthy_under_their_guide_names_and_compose_labels() {
    let _stack = stack_shared();
    runtime().block_on(async {
        let docker = docker()
            .negotiate_version()
            .await
            .expect("engine reachable");
        let filters = HashMap::from([(
            "label",
            vec!["com.docker.compose.project=helpdesk-microservices"],
        )]);
        let listed = docker
            .list_containers(Some(
                ListContainersOptionsBuilder::new()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await
            .expect("list containers");
        for name in CONTAINERS {
            let summary = listed
                .iter()
                .find(|c| c.names.iter().flatten().any(|n| n == &format!("/{name}")))
                .unwrap_or_else(|| panic!("{name} not in the compose project"));
            let labels = summary.labels.clone().unwrap_or_default();
            let service = name.trim_start_matches("helpdesk-");
            assert_eq!(
                labels.get("com.docker.compose.service").map(String::as_str),
                Some(service)
            );
            let inspected = docker.inspect_container(name, None).await.expect("inspect");
            let state = inspected.state.unwrap();
            assert_eq!(state.running, Some(true), "{name} running");
            assert_eq!(
                state
                    .health
                    .and_then(|h| h.status)
                    .map(|s| s.to_string())
                    .as_deref(),
                Some("healthy"),
                "{name}"
            );
            let networks = inspected
                .network_settings
                .and_then(|n| n.networks)
                .unwrap_or_default();
            assert!(
                networks.contains_key("helpdesk-network"),
                "{name} on helpdesk-network"
            );
        }
    });
}

#[test]
fn published_ports_are_on_loopback_only() {
    let _stack = stack_shared();
    let ports = sh(
        "docker ps --filter label=com.docker.compose.project=helpdesk-microservices --format '{{.Ports}}'",
    );
    for port in [
        "3001", "3002", "3003", "5401", "5402", "5403", "6301", "6302", "6303",
    ] {
        assert!(
            ports.contains(&format!("127.0.0.1:{port}->")),
            "{port} published on 127.0.0.1: {ports}"
        );
    }
    assert!(
        !ports.contains("0.0.0.0:"),
        "nothing published on all interfaces: {ports}"
    );
}

#[test]
fn health_endpoints_answer_200_with_their_dependencies() {
    let _stack = stack_shared();
    runtime().block_on(async {
        for (port, service) in [(3001, "auth"), (3002, "user"), (3003, "ticket")] {
            let response = http()
                .build()
                .unwrap()
                .get(format!("http://127.0.0.1:{port}/api/v1/health"))
                .send()
                .await
                .expect("health answers");
            assert_eq!(response.status().as_u16(), 200, "{service}");
            let body: serde_json::Value = response.json().await.expect("health JSON");
            assert_eq!(body["service"], format!("{service}-service"));
            assert_eq!(body["dependencies"]["database"], "up");
            assert_eq!(body["dependencies"]["redis"], "up");
        }
    });
}

/// An HS256 token signed with `secret`, valid for `ttl` seconds (negative: expired).
fn token(secret: &str, ttl: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"sub":42,"jti":"test-{now}","exp":{}}}"#,
        now + ttl
    ));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{header}.{claims}").as_bytes());
    format!(
        "{header}.{claims}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn jwt_secret() -> String {
    let text = std::fs::read_to_string(repo().join("tests/stack/auth-secrets.env")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("JWT_SECRET="))
        .expect("JWT_SECRET in auth-secrets.env")
        .to_string()
}

#[test]
fn verify_refuses_bad_tokens_with_401_and_accepts_a_good_one() {
    let _stack = stack_shared();
    let secret = jwt_secret();
    runtime().block_on(async {
        let client = http().build().unwrap();
        let verify = |token: String| {
            client
                .post("http://127.0.0.1:3001/api/v1/auth/verify")
                .header("Authorization", format!("Bearer {token}"))
                .send()
        };
        assert_eq!(
            verify("not.a.token".into())
                .await
                .unwrap()
                .status()
                .as_u16(),
            401
        );
        assert_eq!(
            verify(token("some-other-secret-of-length", 60))
                .await
                .unwrap()
                .status()
                .as_u16(),
            401
        );
        assert_eq!(
            verify(token(&secret, -60)).await.unwrap().status().as_u16(),
            401,
            "expired"
        );
        let good = verify(token(&secret, 600)).await.unwrap();
        assert_eq!(good.status().as_u16(), 200);
    });
    let cached = redis(6301, REDIS_PASSWORD);
    let mut cached = cached;
    let keys: Vec<String> = redis::cmd("SCAN")
        .arg(0)
        .arg("MATCH")
        .arg("auth-service:tokens:test-*")
        .arg("COUNT")
        .arg(10000)
        .query::<(u64, Vec<String>)>(&mut cached)
        .unwrap()
        .1;
    assert!(
        !keys.is_empty(),
        "a verified token is cached under auth-service:tokens:"
    );
}

#[test]
fn each_database_has_its_tables_and_ticket_indexes() {
    let _stack = stack_shared();
    let tables = |container, user, db| {
        psql(
            container,
            user,
            db,
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
        )
    };
    assert_eq!(
        tables("helpdesk-auth-db", "user", "auth_db"),
        "refresh_tokens,users"
    );
    assert_eq!(
        tables("helpdesk-user-db", "user", "user_db"),
        "profiles,users"
    );
    assert_eq!(
        tables("helpdesk-ticket-db", "ticket", "ticket_db"),
        "comments,tickets"
    );
    let indexes = psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT string_agg(indexdef, ';') FROM pg_indexes WHERE tablename = 'tickets'",
    );
    assert!(
        indexes.contains("(status)") && indexes.contains("(user_id)"),
        "{indexes}"
    );
    let owner = psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'ticket_db'",
    );
    assert_eq!(owner, "ticket");
    let extension = psql(
        "helpdesk-ticket-db",
        "ticket",
        "ticket_db",
        "SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'",
    );
    assert_eq!(extension, "pg_stat_statements");
}

fn ticket_health() -> (u16, serde_json::Value) {
    runtime().block_on(async {
        let client = http().timeout(Duration::from_secs(5)).build().unwrap();
        let response = client
            .get("http://127.0.0.1:3003/api/v1/health")
            .send()
            .await
            .expect("health answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    })
}

#[test]
fn stopping_the_ticket_database_turns_ticket_health_503_until_it_is_back() {
    let _stack = stack_exclusive();
    let _restore = Restore(|| {
        sh("docker start helpdesk-ticket-db >/dev/null");
    });
    sh("docker stop -t 5 helpdesk-ticket-db >/dev/null");
    let (status, body) = ticket_health();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["dependencies"]["database"], "down");
    assert_eq!(body["dependencies"]["redis"], "up");

    sh("docker start helpdesk-ticket-db >/dev/null");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = ticket_health();
        if status == 200 {
            assert_eq!(body["dependencies"]["database"], "up");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ticket service did not recover: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
