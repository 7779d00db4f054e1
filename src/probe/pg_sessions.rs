//! Judges a database server's sessions (`deployment::pg_activity`, read once
//! per database and run): connections against the slots the applications may
//! use, naming who holds them; sessions waiting on another's lock, naming the
//! blocker and the command that frees it (printed, never run); transactions
//! left open. Queries are masked before they are judged.

use super::duration::said;
use super::postgres::{truncate, with_client};
use crate::check::{Outcome, Status};
use crate::deployment::Context;
use crate::deployment::pg_activity::{self, Activity, Holder, Session};
use crate::profile::{Role, Service};
use std::sync::Arc;

/// How much of a session's query a message shows.
const QUERY_SHOWN: usize = 80;

/// Where a printed command runs: psql in the database's container.
pub struct Psql {
    docker: String,
    container: String,
    user: String,
    database: String,
}

impl Psql {
    pub fn of(profile: &crate::deployment::Deployment, service: &Service) -> Psql {
        Psql {
            docker: profile.docker_command(),
            container: service.container(Role::Db),
            user: service.db_user.clone(),
            database: service.database.clone(),
        }
    }

    /// `sql` as a command to copy (the SQL is the doctor's, with numbers and
    /// names checked by `plain` only).
    pub(super) fn command(&self, sql: &str) -> String {
        format!(
            "{} exec -it {} psql -U {} -d {} -c \"{sql}\"",
            self.docker, self.container, self.user, self.database
        )
    }
}

pub async fn connections(
    ctx: &Context,
    service: &Service,
    warn_percent: f64,
    fail_percent: f64,
) -> Outcome {
    let psql = Psql::of(&ctx.profile, service);
    with_activity(ctx, service, |a| {
        judge_connections(a, warn_percent, fail_percent, &psql)
    })
    .await
}

pub async fn lock_waits(ctx: &Context, service: &Service, wait_seconds: u64) -> Outcome {
    let psql = Psql::of(&ctx.profile, service);
    with_activity(ctx, service, |a| {
        judge_lock_waits(a, wait_seconds as f64, &psql)
    })
    .await
}

pub async fn transactions(ctx: &Context, service: &Service, max_seconds: u64) -> Outcome {
    let psql = Psql::of(&ctx.profile, service);
    with_activity(ctx, service, |a| {
        judge_transactions(a, max_seconds as f64, &psql)
    })
    .await
}

/// Judges the server's sessions (read once per run, queries masked).
async fn with_activity(
    ctx: &Context,
    service: &Service,
    judge: impl FnOnce(&Activity) -> Outcome,
) -> Outcome {
    with_client(ctx, service, |client| async move {
        let read = ctx
            .pg_activity
            .get_or_init(&service.name, || async {
                let activity = pg_activity::read(&client).await?;
                Ok(Arc::new(masked(ctx, activity)))
            })
            .await;
        Ok(match read {
            Ok(activity) => judge(&activity),
            Err(e) => Outcome::fail(format!(
                "{}: reading pg_stat_activity: {e}",
                service.database
            )),
        })
    })
    .await
}

/// Every query with the run's secrets and secret-shaped text masked.
fn masked(ctx: &Context, mut activity: Activity) -> Activity {
    let lists = [
        &mut activity.waiting,
        &mut activity.blockers,
        &mut activity.transactions,
    ];
    for session in lists.into_iter().flatten() {
        session.query = session.query.as_deref().map(|q| ctx.mask(q));
    }
    activity
}

fn judge_connections(a: &Activity, warn_percent: f64, fail_percent: f64, psql: &Psql) -> Outcome {
    let usable = a.usable();
    let percent = a.total as f64 * 100.0 / usable as f64;
    let status = if percent >= fail_percent {
        Status::Fail
    } else if percent >= warn_percent {
        Status::Warn
    } else {
        Status::Pass
    };
    let mut message = format!(
        "{}/{usable} connections ({percent:.0}%; max_connections {} less {} reserved)",
        a.total, a.max_connections, a.reserved
    );
    if let Some(holder) = a.holders.first() {
        message.push_str(&format!("; {}", holder_said(holder)));
    }
    if !a.sees_all {
        message.push_str("; other roles' states and clients are hidden from the doctor's role");
    }
    let outcome = Outcome::new(status, message)
        .detail("connections", a.total)
        .detail("usable", usable)
        .detail("max_connections", a.max_connections)
        .detail("reserved", a.reserved)
        .detail("percent", (percent * 10.0).round() / 10.0)
        .detail("holders", &a.holders);
    match (status, a.holders.first()) {
        (Status::Warn | Status::Fail, Some(holder)) => {
            outcome.with_hint(connections_hint(holder, usable, psql))
        }
        _ => outcome,
    }
}

/// `90 idle from 172.20.0.7 "ticket-worker" as ticket for 14 min`.
fn holder_said(h: &Holder) -> String {
    let state = h.state.as_deref().unwrap_or("sessions (state hidden)");
    let mut said_of = format!(
        "{} {state}{}",
        h.count,
        who(&h.application, &h.client, &h.user)
    );
    if let Some(seconds) = h.youngest_seconds.filter(|s| *s >= 1.0) {
        said_of.push_str(&format!(" for {}", said(seconds)));
    }
    said_of
}

/// ` from 172.20.0.7 "ticket-worker" as ticket`, each part when known.
fn who(application: &str, client: &Option<String>, user: &Option<String>) -> String {
    let mut text = String::new();
    if let Some(client) = client {
        text.push_str(&format!(" from {client}"));
    }
    if !application.is_empty() {
        text.push_str(&format!(" {application:?}"));
    }
    if let Some(user) = user {
        text.push_str(&format!(" as {user}"));
    }
    text
}

/// A client-chosen name put into a printed command only when it is plain
/// (letters, digits, `_ . : -`): a hint is copied into a shell.
pub(super) fn plain(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c));
    ok.then_some(name)
}

fn connections_hint(holder: &Holder, usable: i64, psql: &Psql) -> String {
    let ending = match plain(&holder.application) {
        Some(app) => format!(
            "end the idle sessions of {app:?}: {}; ",
            psql.command(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}' \
                 AND state = 'idle' AND state_change < now() - interval '10 minutes'"
            ))
        ),
        None => String::new(),
    };
    format!(
        "Who holds them is in details.holders; {ending}then size the pools: every application's \
         pool (node-pg `max`, 10 by default) times its replicas must stay under {usable}; let the \
         server end forgotten sessions (ALTER DATABASE {} SET idle_session_timeout = '10min') or put \
         PgBouncer in front; raising max_connections needs a restart.",
        psql.database
    )
}

fn judge_lock_waits(a: &Activity, wait_seconds: f64, psql: &Psql) -> Outcome {
    let long: Vec<&Session> = a
        .waiting
        .iter()
        .filter(|s| s.query_seconds.unwrap_or(0.0) >= wait_seconds)
        .collect();
    let Some(first) = long.first() else {
        let message = match a.waiting.len() {
            0 => "no session waits on a lock".to_string(),
            n => format!("{n} sessions wait on a lock, none for {wait_seconds} s yet"),
        };
        return Outcome::pass(message).detail("waiting", &a.waiting);
    };
    let blocker_pid = root_blocker(a, first);
    let blocker = blocker_pid.and_then(|pid| a.blocker(pid));
    let mut message = format!(
        "{} session{} waiting on a lock for {} s or more; pid {} ({}) has waited {}",
        long.len(),
        if long.len() == 1 { "" } else { "s" },
        wait_seconds,
        first.pid,
        who(&first.application, &first.client, &first.user).trim_start(),
        said(first.query_seconds.unwrap_or(0.0)),
    );
    if let Some(query) = &first.query {
        message.push_str(&format!(" ({})", truncate(query, QUERY_SHOWN)));
    }
    match (blocker_pid, blocker) {
        (Some(_), Some(b)) => message.push_str(&format!(" behind {}", session_said(b))),
        (Some(pid), None) => message.push_str(&format!(" behind pid {pid}")),
        (None, _) => {}
    }
    let outcome = Outcome::fail(message)
        .detail("waiting", &a.waiting)
        .detail("blockers", &a.blockers);
    match blocker_pid {
        Some(pid) => outcome
            .detail("blocker_pid", pid)
            .with_hint(blocker_hint(pid, blocker, psql)),
        None => outcome,
    }
}

/// The session at the head of `waiter`'s chain: a blocker that waits for no one.
fn root_blocker(a: &Activity, waiter: &Session) -> Option<i32> {
    let mut pid = *waiter.blocked_by.first()?;
    for _ in 0..a.blockers.len() {
        match a
            .waiting
            .iter()
            .find(|s| s.pid == pid)
            .and_then(|s| s.blocked_by.first())
        {
            Some(next) if *next != waiter.pid => pid = *next,
            _ => break,
        }
    }
    Some(pid)
}

/// `pid 799 (idle in transaction for 2 min, transaction open 3 min, "psql" as ticket): LOCK TABLE …`.
fn session_said(s: &Session) -> String {
    let mut parts = Vec::new();
    if let Some(state) = &s.state {
        let since = s
            .state_seconds
            .map(|x| format!(" for {}", said(x)))
            .unwrap_or_default();
        parts.push(format!("{state}{since}"));
    }
    if let Some(x) = s.transaction_seconds {
        parts.push(format!("transaction open {}", said(x)));
    }
    let who = who(&s.application, &s.client, &s.user);
    if !who.is_empty() {
        parts.push(who.trim_start().to_string());
    }
    let mut text = format!("pid {} ({})", s.pid, parts.join(", "));
    if let Some(query) = &s.query {
        text.push_str(&format!(": {}", truncate(query, QUERY_SHOWN)));
    }
    text
}

fn is_idle_in_transaction(s: &Session) -> bool {
    s.state
        .as_deref()
        .is_some_and(|x| x.starts_with("idle in transaction"))
}

fn blocker_hint(pid: i32, blocker: Option<&Session>, psql: &Psql) -> String {
    let cancel = psql.command(&format!("SELECT pg_cancel_backend({pid});"));
    let terminate = psql.command(&format!("SELECT pg_terminate_backend({pid});"));
    if blocker.is_some_and(is_idle_in_transaction) {
        format!(
            "pid {pid} is idle in transaction: it keeps its locks until it commits or ends, and \
             pg_cancel_backend cannot stop a session that runs no query. End its session (its \
             transaction is rolled back): {terminate}; then find why its client left the transaction \
             open (a missing COMMIT/ROLLBACK, a node-pg client never release()d). `helpdesk-doctor fix` \
             offers it, with its own confirmation."
        )
    } else {
        format!(
            "Cancel the blocking query (its transaction is rolled back, the waiters go on): {cancel}; \
             if it does not stop: {terminate}. `helpdesk-doctor fix` offers it, with its own confirmation."
        )
    }
}

fn judge_transactions(a: &Activity, max_seconds: f64, psql: &Psql) -> Outcome {
    let old: Vec<&Session> = a
        .transactions
        .iter()
        .filter(|s| s.transaction_seconds.unwrap_or(0.0) >= max_seconds)
        .collect();
    let limit = said(max_seconds);
    let Some(first) = old.first() else {
        let oldest = a
            .transactions
            .first()
            .and_then(|s| s.transaction_seconds)
            .map(|x| format!(" (oldest {})", said(x)))
            .unwrap_or_default();
        return Outcome::pass(format!("no transaction open longer than {limit}{oldest}"));
    };
    let idle = old.iter().filter(|s| is_idle_in_transaction(s)).count();
    let message = format!(
        "{} transaction{} open longer than {limit} ({idle} idle in transaction); oldest: {}",
        old.len(),
        if old.len() == 1 { "" } else { "s" },
        session_said(first)
    );
    let pids: Vec<i32> = old.iter().map(|s| s.pid).collect();
    Outcome::warn(message)
        .detail("transactions", &old)
        .detail("pids", pids)
        .with_hint(transaction_hint(first, psql))
}

fn transaction_hint(s: &Session, psql: &Psql) -> String {
    let terminate = psql.command(&format!("SELECT pg_terminate_backend({});", s.pid));
    let database = &psql.database;
    if is_idle_in_transaction(s) {
        format!(
            "pid {} holds its locks and keeps VACUUM from cleaning up while idle in transaction: find \
             why its client did not COMMIT or ROLLBACK (a node-pg client checked out and never \
             release()d); end it (its transaction is rolled back): {terminate}; let the server end \
             such sessions: ALTER DATABASE {database} SET idle_in_transaction_session_timeout = '5min';",
            s.pid
        )
    } else {
        let cancel = psql.command(&format!("SELECT pg_cancel_backend({});", s.pid));
        format!(
            "A long transaction holds its locks and keeps VACUUM from cleaning up: look at its query \
             (EXPLAIN); cancel it: {cancel} (or {terminate}); bound statements: ALTER DATABASE \
             {database} SET statement_timeout = '1min';"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn psql() -> Psql {
        Psql {
            docker: "docker".into(),
            container: "helpdesk-ticket-db".into(),
            user: "ticket".into(),
            database: "ticket_db".into(),
        }
    }

    fn session(pid: i32, state: &str) -> Session {
        Session {
            pid,
            user: Some("ticket".into()),
            application: "psql".into(),
            client: Some("172.20.0.1".into()),
            state: Some(state.into()),
            database: Some("ticket_db".into()),
            transaction_seconds: Some(70.0),
            state_seconds: Some(65.0),
            query_seconds: Some(66.0),
            query: Some("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE".into()),
            blocked_by: vec![],
            backend_start: Some("2026-11-28 10:00:00+00".into()),
        }
    }

    fn crowded(total: i64, app: &str) -> Activity {
        Activity {
            total,
            max_connections: 100,
            reserved: 3,
            sees_all: true,
            holders: vec![Holder {
                application: app.into(),
                user: Some("ticket".into()),
                client: Some("172.20.0.7".into()),
                state: Some("idle".into()),
                count: total - 2,
                youngest_seconds: Some(14.0 * 60.0 + 5.0),
            }],
            ..Activity::default()
        }
    }

    #[test]
    fn connections_warn_from_80_and_fail_from_95_percent_naming_the_holder() {
        let pass = judge_connections(&crowded(40, "ticket-worker"), 80.0, 95.0, &psql());
        assert_eq!(pass.status, Status::Pass);
        let warn = judge_connections(&crowded(80, "ticket-worker"), 80.0, 95.0, &psql());
        assert_eq!(warn.status, Status::Warn);
        let fail = judge_connections(&crowded(93, "ticket-worker"), 80.0, 95.0, &psql());
        assert_eq!(fail.status, Status::Fail, "{}", fail.message);
        assert!(
            fail.message.starts_with(
                "93/97 connections (96%; max_connections 100 less 3 reserved); \
                 91 idle from 172.20.0.7 \"ticket-worker\" as ticket for 14 min"
            ),
            "{}",
            fail.message
        );
        assert!(
            fail.hint
                .unwrap()
                .contains("application_name = 'ticket-worker'")
        );
    }

    #[test]
    fn a_hostile_application_name_never_reaches_a_printed_command() {
        let hostile = "x'; DROP TABLE t; --\"$(id)";
        let fail = judge_connections(&crowded(96, hostile), 80.0, 95.0, &psql());
        let hint = fail.hint.unwrap();
        assert!(!hint.contains("$(id)") && !hint.contains("DROP"), "{hint}");
    }

    #[test]
    fn a_lock_wait_names_the_blocker_its_query_and_the_command_that_frees_it() {
        let holder = session(799, "idle in transaction");
        let mut waiter = session(812, "active");
        waiter.application = "ticket-service".into();
        waiter.query = Some("SELECT count(*) FROM tickets".into());
        waiter.query_seconds = Some(42.0);
        waiter.blocked_by = vec![799];
        let activity = Activity {
            waiting: vec![waiter],
            blockers: vec![holder],
            ..Activity::default()
        };
        let fail = judge_lock_waits(&activity, 5.0, &psql());
        assert_eq!(fail.status, Status::Fail);
        for part in [
            "pid 812",
            "has waited 42 s",
            "behind pid 799 (idle in transaction for 1 min",
            "LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE",
        ] {
            assert!(fail.message.contains(part), "{part}: {}", fail.message);
        }
        let hint = fail.hint.unwrap();
        assert!(hint.contains("SELECT pg_terminate_backend(799);"), "{hint}");
        assert_eq!(fail.details["blocker_pid"], 799);
        let patient = judge_lock_waits(&activity, 60.0, &psql());
        assert_eq!(patient.status, Status::Pass, "{}", patient.message);
    }

    #[test]
    fn a_chain_of_waiters_is_followed_to_the_session_that_waits_for_no_one() {
        let mut middle = session(2, "active");
        middle.blocked_by = vec![1];
        let mut last = session(3, "active");
        last.blocked_by = vec![2];
        let activity = Activity {
            waiting: vec![last.clone(), middle.clone()],
            blockers: vec![session(1, "active"), middle],
            ..Activity::default()
        };
        assert_eq!(root_blocker(&activity, &last), Some(1));
        let hint = judge_lock_waits(&activity, 1.0, &psql()).hint.unwrap();
        assert!(hint.contains("pg_cancel_backend(1)"), "{hint}");
    }

    #[test]
    fn a_transaction_idle_past_the_threshold_warns_with_pid_and_client() {
        let activity = Activity {
            transactions: vec![session(799, "idle in transaction")],
            ..Activity::default()
        };
        let warn = judge_transactions(&activity, 60.0, &psql());
        assert_eq!(warn.status, Status::Warn);
        assert!(
            warn.message
                .contains("1 transaction open longer than 1 min (1 idle in transaction)")
                && warn.message.contains("pid 799")
                && warn.message.contains("from 172.20.0.1"),
            "{}",
            warn.message
        );
        assert!(
            warn.hint
                .unwrap()
                .contains("idle_in_transaction_session_timeout")
        );
        let pass = judge_transactions(&activity, 300.0, &psql());
        assert_eq!(pass.status, Status::Pass);
        assert!(pass.message.contains("oldest 1 min"), "{}", pass.message);
    }
}
