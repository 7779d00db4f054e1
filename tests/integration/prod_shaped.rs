//! What only the production-shaped fixture has (run with
//! `HELPDESK_TEST_FIXTURE=prod`, see tests/run.sh): scaled replicas behind a
//! load balancer, ports and credentials unlike the guide's.

use crate::fixture::fixture;
use crate::support::*;

#[test]
fn one_ticket_replica_stopped_is_a_warning_naming_it() {
    let _stack = stack_exclusive();
    let fixture = fixture();
    assert_eq!(
        fixture.kind,
        crate::fixture::Kind::Prod,
        "run with HELPDESK_TEST_FIXTURE=prod"
    );
    let second = fixture.replica("ticket-service", 2);
    let _started = fixture.stop(&second);
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
        message.contains("1 of 3 replicas down") && message.contains(&second),
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
    let lb = fixture.replica("lb", 1);
    let _started = fixture.stop(&lb);
    let (run, report) = fixture.diagnose();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let port = result(&report, "port.ticket.service");
    assert_eq!(port["status"], "fail");
    let message = port["message"].as_str().unwrap();
    assert!(
        message.contains("3003") && message.contains(&lb),
        "{message}"
    );
    assert_eq!(port["details"]["root_cause_container"], lb.as_str());
    assert!(
        port["hint"].as_str().unwrap().contains("up -d lb"),
        "{port:#}"
    );
    assert_eq!(status_of(&report, "container.ticket.service"), "pass");
}

#[test]
fn every_replica_is_checked_and_ports_and_credentials_come_from_the_engine() {
    let _stack = stack_shared();
    let fixture = fixture();
    let (_, report) = fixture.diagnose();
    for (number, replica) in [(1, "service-1"), (2, "service-2"), (3, "service-3")] {
        assert_eq!(
            status_of(&report, &format!("container.ticket.{replica}.network")),
            "pass"
        );
        assert!(
            result(&report, &format!("logs.ticket.{replica}"))["title"]
                .as_str()
                .unwrap()
                .contains(&fixture.replica("ticket-service", number))
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
    // The application's REDIS_URL comes before redis-server's command line.
    let user_service = fixture.container("user", "service");
    let redis_source = &result(&report, "redis.user.ping")["details"]["password_source"];
    assert_eq!(redis_source, &format!("REDIS_URL of {user_service}"));
    let slow = result(&report, "postgres.user.slow_queries");
    assert_eq!(slow["status"], "warn", "user-db preloads nothing: {slow:#}");
    assert!(
        slow["hint"]
            .as_str()
            .unwrap()
            .contains("shared_preload_libraries")
    );
}
