//! Masking hides secrets and nothing else: with a container of the project
//! whose secret-named variables hold short common words (`user`, `POST`,
//! `auth`, `GET`) beside real secrets, `logs` keeps those words and masks the
//! real ones, and the support bundle's compose files still parse as YAML and
//! its inspect files as JSON, with no planted canary nor the stack's passwords.

use crate::support::*;

const PLANTED: &str = "helpdesk-masking-probe";
const CANARY_SECRET: &str = "CanaryMask-77f1";
const CANARY_REQUIREPASS: &str = "canaryRP-5521";
/// The bundled stack's own passwords and JWT secret.
const STACK_SECRETS: [&str; 3] = [
    "helpdesk-db-pass",
    "redispass",
    "dev-jwt-secret-change-me-0123456789",
];

/// A Redis of the project (compose labels) whose secret-named variables hold
/// short words, with a real secret and a password on its command line, that
/// logs plain-text lines with those words and secrets in them.
fn plant() -> Restore<impl FnMut()> {
    let cleanup = Restore(|| {
        sh(&format!(
            "docker rm -f -v {PLANTED} >/dev/null 2>&1 || true"
        ));
    });
    sh(&format!(
        "docker rm -f -v {PLANTED} >/dev/null 2>&1; docker run -d --name {PLANTED} \
         --label com.docker.compose.project=helpdesk-microservices \
         --label com.docker.compose.service=masking-probe \
         -e REDIS_PASSWORD=user -e API_TOKEN=POST -e DB_PASS=auth -e JWT_SECRET=GET \
         -e SESSION_SECRET={CANARY_SECRET} \
         --entrypoint sh helpdesk-redis:local \
         -c 'echo \"INFO:auth:GET /api/v1/health 200\"; \
             echo \"auth: POST /api/v1/auth/verify user=bob 401\"; \
             echo \"session $SESSION_SECRET opened for user bob\"; \
             echo \"redis password is $2 (auth)\"; exec redis-server \"$@\"' \
         sh --requirepass {CANARY_REQUIREPASS} >/dev/null"
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !sh(&format!("docker logs {PLANTED} 2>&1")).contains("(auth)") {
        assert!(
            std::time::Instant::now() < deadline,
            "the probe never logged"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    cleanup
}

#[test]
fn logs_keep_common_words_that_short_secrets_hold_and_mask_the_real_secrets() {
    let _stack = stack_exclusive();
    let _planted = plant();
    let probe = run(doctor().args(["logs", PLANTED]));
    assert_eq!(probe.code, 0, "{}{}", probe.stdout, probe.stderr);
    for line in [
        "INFO:auth:GET /api/v1/health 200",
        "auth: POST /api/v1/auth/verify user=bob 401",
        "session **** opened for user bob",
        "redis password is **** (auth)",
    ] {
        assert!(
            probe.stdout.contains(line),
            "{line:?} in:\n{}",
            probe.stdout
        );
    }
    // The auth service logs each request's method and path.
    sh(
        "curl -s -o /dev/null -X POST http://127.0.0.1:3001/api/v1/auth/verify; \
        curl -s -o /dev/null http://127.0.0.1:3001/api/v1/health",
    );
    let service = run(doctor().args(["logs", "helpdesk-auth-service", "--tail", "20"]));
    assert_eq!(service.code, 0, "{}{}", service.stdout, service.stderr);
    for word in [
        "method=GET",
        "method=POST",
        "/api/v1/auth/verify",
        "service=auth",
    ] {
        assert!(
            service.stdout.contains(word),
            "{word} in:\n{}",
            service.stdout
        );
    }
    for text in [
        &probe.stdout,
        &probe.stderr,
        &service.stdout,
        &service.stderr,
    ] {
        for secret in [CANARY_SECRET, CANARY_REQUIREPASS]
            .iter()
            .chain(&STACK_SECRETS)
        {
            assert!(!text.contains(secret), "{secret} leaked into:\n{text}");
        }
    }
}

#[test]
fn the_bundles_compose_and_inspect_files_parse_and_hold_no_secret() {
    let _stack = stack_exclusive();
    let _planted = plant();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bundle.tar.gz");
    let made = run(doctor().args(["bundle", "--out", archive.to_str().unwrap()]));
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let extracted = dir.path().join("bundle");
    std::fs::create_dir_all(&extracted).unwrap();
    sh(&format!(
        "tar -xzf {} -C {}",
        archive.display(),
        extracted.display()
    ));

    let mut composes = 0;
    for entry in std::fs::read_dir(extracted.join("compose")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let documents = yaml_rust2::YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("the masked compose file is not YAML ({e}):\n{text}"));
        let services = &documents[0]["services"];
        let user_service = &services["user-service"];
        assert_eq!(
            user_service["image"].as_str(),
            Some("helpdesk-service:local")
        );
        assert_eq!(
            user_service["environment"]["AUTH_SERVICE_URL"].as_str(),
            Some("http://helpdesk-auth-service:3001"),
            "{text}"
        );
        assert_eq!(
            user_service["depends_on"]["user-db"]["condition"].as_str(),
            Some("service_healthy")
        );
        assert!(!documents[0]["volumes"]["auth-db-data"].is_badvalue());
        assert_eq!(
            services["auth-db"]["environment"]["POSTGRES_PASSWORD"].as_str(),
            Some("${HELPDESK_DB_PASSWORD:-****}")
        );
        assert_no_secret("the compose file", &text);
        composes += 1;
    }
    assert!(composes >= 1, "the compose file is in the bundle");

    let mut inspects = 0;
    for container in std::fs::read_dir(extracted.join("containers")).unwrap() {
        let path = container.unwrap().path().join("inspect.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let inspected: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e})", path.display()));
        assert_no_secret(&path.display().to_string(), &text);
        inspects += 1;
        if path.to_string_lossy().contains(PLANTED) {
            let env: Vec<&str> = inspected["Config"]["Env"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            for masked in [
                "REDIS_PASSWORD=****",
                "API_TOKEN=****",
                "DB_PASS=****",
                "JWT_SECRET=****",
            ] {
                assert!(env.contains(&masked), "{masked} in {env:?}");
            }
            let args = inspected["Args"].to_string();
            assert!(args.contains(r#""--requirepass","****""#), "{args}");
        }
    }
    assert!(
        inspects > CONTAINERS.len(),
        "every container, the probe too"
    );
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [CANARY_SECRET, CANARY_REQUIREPASS]
        .iter()
        .chain(&STACK_SECRETS)
    {
        assert!(
            !text.contains(secret),
            "{secret} leaked into {what}:\n{text}"
        );
    }
}
