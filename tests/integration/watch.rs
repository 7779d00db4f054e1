//! `watch`: the Node services' memory-leak fault switch (FAULT_SWITCHES=on in
//! the bundled stack) makes `watch --interval 1s --duration 20s` raise the leak
//! warning for the leaking service, and not for the flat ones; one JSON line
//! per run when piped.

use crate::support::*;

fn leak(port: u16, mb_per_second: u32) {
    let url = format!("http://127.0.0.1:{port}/api/v1/debug/leak?mb_per_second={mb_per_second}");
    runtime().block_on(async {
        let response = http().build().unwrap().post(&url).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
    });
}

#[test]
fn a_leaking_service_is_warned_of_and_flat_ones_are_not() {
    let _stack = stack_exclusive();
    let _stop = Restore(|| leak(3001, 0));
    leak(3001, 8);
    let watched = run(doctor().args([
        "watch",
        "--interval",
        "1s",
        "--duration",
        "20s",
        "--only",
        "container.*.service.resources",
    ]));
    let lines: Vec<serde_json::Value> = watched
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 10, "one line per run:\n{}", watched.stdout);
    let runs: Vec<u64> = lines.iter().map(|l| l["run"].as_u64().unwrap()).collect();
    assert_eq!(runs, (1..=lines.len() as u64).collect::<Vec<_>>());
    let last = lines.last().unwrap();
    let trends: Vec<&serde_json::Value> = last["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["id"].as_str().unwrap().ends_with(".trend"))
        .collect();
    assert_eq!(trends.len(), 1, "only the leaking service: {last}");
    assert_eq!(trends[0]["id"], "container.auth.service.resources.trend");
    let message = trends[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("memory of helpdesk-auth-service grew from")
            && message.ends_with("likely a leak"),
        "{message}"
    );
    assert!(
        trends[0]["hint"]
            .as_str()
            .unwrap()
            .contains("docker exec helpdesk-auth-service kill -USR1 1")
    );
    assert_eq!(last["status"], "warn");
    assert_eq!(
        watched.code, 0,
        "a warning is not a failure: {}",
        watched.stderr
    );
    assert!(
        lines[..3]
            .iter()
            .all(|l| l["problems"].as_array().unwrap().is_empty()),
        "no trend from the first samples"
    );
}
