//! What only the production-shaped fixture has (run with
//! `HELPDESK_TEST_FIXTURE=prod`, see tests/run.sh): scaled replicas behind a
//! load balancer, ports and credentials unlike the guide's.

use crate::fixture::{StartAgain, fixture};
use crate::support::*;

#[test]
fn one_ticket_replica_stopped_is_a_warning_naming_it() {
    let _stack = stack_exclusive();
    let fixture = fixture();
    assert!(fixture.prod, "run with HELPDESK_TEST_FIXTURE=prod");
    sh("docker stop -t 3 prod-ticket-service-2 >/dev/null");
    let _started = StartAgain {
        fixture: &fixture,
        containers: vec!["prod-ticket-service-2".into()],
    };
    let (run, report) = fixture.diagnose();
    assert_eq!(
        run.code, 0,
        "a degraded service is not down: {}",
        run.stderr
    );
    let container = result(&report, "container.ticket.service");
    assert_eq!(container["status"], "warn", "{container:#}");
    let message = container["message"].as_str().unwrap();
    assert!(
        message.contains("1 of 3 replicas down") && message.contains("prod-ticket-service-2"),
        "{message}"
    );
    assert_eq!(
        status_of(&report, "http.ticket.health"),
        "pass",
        "the LB routes around it"
    );
    assert_eq!(
        status_of(&report, "container.ticket.service-2.resources"),
        "skip"
    );
    assert_eq!(
        status_of(&report, "container.ticket.service-3.resources"),
        "pass"
    );
}

#[test]
fn the_load_balancer_stopped_fails_its_port_naming_it() {
    let _stack = stack_exclusive();
    let fixture = fixture();
    sh("docker stop -t 3 prod-lb-1 >/dev/null");
    let _started = StartAgain {
        fixture: &fixture,
        containers: vec!["prod-lb-1".into()],
    };
    let (run, report) = fixture.diagnose();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let port = result(&report, "port.ticket.service");
    assert_eq!(port["status"], "fail");
    let message = port["message"].as_str().unwrap();
    assert!(
        message.contains("3003") && message.contains("prod-lb-1"),
        "{message}"
    );
    assert_eq!(port["details"]["root_cause_container"], "prod-lb-1");
    assert!(
        port["hint"].as_str().unwrap().contains("up -d lb"),
        "{port:#}"
    );
    assert_eq!(status_of(&report, "container.ticket.service"), "pass");
}

#[test]
fn every_replica_is_checked_and_ports_and_credentials_come_from_the_engine() {
    let _stack = stack_shared();
    let (_, report) = fixture().diagnose();
    for replica in ["service-1", "service-2", "service-3"] {
        assert_eq!(
            status_of(&report, &format!("container.ticket.{replica}.network")),
            "pass"
        );
        assert!(
            result(&report, &format!("logs.ticket.{replica}"))["title"]
                .as_str()
                .unwrap()
                .contains(&format!("prod-ticket-{replica}"))
        );
    }
    let connect = result(&report, "postgres.auth.connect");
    assert!(
        connect["target"].as_str().unwrap().contains("15401"),
        "{connect:#}"
    );
    assert!(
        connect["details"]["password_source"]
            .as_str()
            .unwrap()
            .contains("POSTGRES_PASSWORD_FILE"),
        "{connect:#}"
    );
    assert!(
        result(&report, "redis.user.ping")["details"]["password_source"]
            .as_str()
            .unwrap()
            .contains("requirepass"),
    );
    let slow = result(&report, "postgres.user.slow_queries");
    assert_eq!(slow["status"], "warn", "user-db preloads nothing: {slow:#}");
    assert!(
        slow["hint"]
            .as_str()
            .unwrap()
            .contains("shared_preload_libraries")
    );
}
