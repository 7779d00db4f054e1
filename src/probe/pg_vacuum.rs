//! The guide's table statistics, from catalog views only (no table is
//! scanned): dead tuples against live ones with the last (auto)vacuum and
//! analyze (`pg_stat_user_tables`), autovacuum switched off, and the
//! transaction-ID age against wraparound (`age(datfrozenxid)`).

use super::duration::said;
use super::pg_sessions::{Psql, plain};
use super::postgres::with_client;
use crate::check::{Outcome, Status};
use crate::deployment::Context;
use crate::profile::Service;
use serde::{Deserialize, Serialize};

/// PostgreSQL stops assigning transaction IDs near 2³¹ of age.
const WRAPAROUND: f64 = 2_147_483_648.0;
const XID_WARN_PERCENT: f64 = 50.0;
const XID_FAIL_PERCENT: f64 = 75.0;
/// A table is bloated from this many dead tuples, when they are also more
/// than `DEAD_SHARE` of its live ones (autovacuum's own trigger is 50 + 20 %).
const DEAD_MIN: i64 = 10_000;
const DEAD_SHARE: f64 = 0.2;

#[derive(Debug, Deserialize)]
struct Stats {
    tables: Vec<Table>,
    /// This database's `age(datfrozenxid)`.
    xid_age: i64,
    /// The oldest of every database of the server.
    oldest_xid_age: i64,
    autovacuum: bool,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
struct Table {
    table: String,
    live: i64,
    dead: i64,
    last_vacuum: Option<String>,
    last_analyze: Option<String>,
    vacuum_seconds: Option<f64>,
}

/// At most 10 tables, the most dead tuples first: a bounded answer.
const SQL: &str = "
SELECT json_build_object(
  'tables', coalesce((SELECT json_agg(t) FROM (
      SELECT schemaname || '.' || relname AS \"table\", n_live_tup AS live, n_dead_tup AS dead,
             greatest(last_vacuum, last_autovacuum)::text AS last_vacuum,
             greatest(last_analyze, last_autoanalyze)::text AS last_analyze,
             extract(epoch FROM now() - greatest(last_vacuum, last_autovacuum))::float8 AS vacuum_seconds
      FROM pg_stat_user_tables ORDER BY n_dead_tup DESC, relname LIMIT 10) t), '[]'),
  'xid_age', (SELECT age(datfrozenxid) FROM pg_database WHERE datname = current_database()),
  'oldest_xid_age', (SELECT max(age(datfrozenxid)) FROM pg_database),
  'autovacuum', current_setting('autovacuum') = 'on'
)::text";

pub async fn vacuum(ctx: &Context, service: &Service) -> Outcome {
    let psql = Psql::of(&ctx.profile, service);
    with_client(ctx, service, |client| async move {
        let text: String = client.query_one(SQL, &[]).await?.get(0);
        Ok(match serde_json::from_str::<Stats>(&text) {
            Ok(stats) => judge(&stats, &psql),
            Err(e) => Outcome::fail(format!(
                "pg_stat_user_tables answered in an unexpected shape: {e}"
            )),
        })
    })
    .await
}

fn is_bloated(t: &Table) -> bool {
    t.dead >= DEAD_MIN && t.dead as f64 > t.live as f64 * DEAD_SHARE
}

fn judge(stats: &Stats, psql: &Psql) -> Outcome {
    let percent = stats.oldest_xid_age as f64 * 100.0 / WRAPAROUND;
    let bloated: Vec<&Table> = stats.tables.iter().filter(|t| is_bloated(t)).collect();
    let mut problems = Vec::new();
    let mut status = Status::Pass;
    if percent >= XID_WARN_PERCENT {
        status = if percent >= XID_FAIL_PERCENT {
            Status::Fail
        } else {
            Status::Warn
        };
        problems.push(format!(
            "transaction IDs at {percent:.0}% of wraparound (age {}): PostgreSQL stops accepting writes at 100%",
            stats.oldest_xid_age
        ));
    }
    if !stats.autovacuum {
        status = status.max(Status::Warn);
        problems.push("autovacuum is off".to_string());
    }
    if let Some(worst) = bloated.first() {
        status = status.max(Status::Warn);
        problems.push(format!(
            "{} table{} with many dead tuples; worst {}",
            bloated.len(),
            if bloated.len() == 1 { "" } else { "s" },
            table_said(worst)
        ));
    }
    let summary = match stats.tables.first() {
        Some(t) => format!(
            "xid age {} ({percent:.1}% of wraparound); most dead tuples: {}",
            stats.xid_age,
            table_said(t)
        ),
        None => format!(
            "xid age {} ({percent:.1}% of wraparound); no table",
            stats.xid_age
        ),
    };
    let message = if problems.is_empty() {
        summary
    } else {
        problems.join("; ")
    };
    let outcome = Outcome::new(status, message)
        .detail("xid_age", stats.xid_age)
        .detail("oldest_xid_age", stats.oldest_xid_age)
        .detail("wraparound_percent", (percent * 10.0).round() / 10.0)
        .detail("autovacuum", stats.autovacuum)
        .detail("tables", &stats.tables);
    if status == Status::Pass {
        outcome
    } else {
        outcome.with_hint(hint(bloated.first().copied(), percent, psql))
    }
}

/// `public.tickets 20000 dead / 3000 live, vacuumed 2 h ago`.
fn table_said(t: &Table) -> String {
    let vacuumed = match t.vacuum_seconds {
        Some(seconds) => format!("vacuumed {} ago", said(seconds)),
        None => "never vacuumed".to_string(),
    };
    format!("{} {} dead / {} live, {vacuumed}", t.table, t.dead, t.live)
}

fn hint(bloated: Option<&Table>, percent: f64, psql: &Psql) -> String {
    // Unquoted in the command: a name SQL reads as it is written.
    let identifier = bloated
        .and_then(|t| plain(&t.table))
        .filter(|name| !name.contains([':', '-']));
    let vacuum = match identifier {
        Some(table) => psql.command(&format!("VACUUM (VERBOSE, ANALYZE) {table};")),
        None => psql.command("VACUUM (VERBOSE, ANALYZE);"),
    };
    let mut hint = format!(
        "Vacuum now: {vacuum}; autovacuum falls behind when long transactions hold back cleanup \
         (see postgres.*.transactions) or when it is off (ALTER SYSTEM SET autovacuum = on; SELECT \
         pg_reload_conf();); for a busy table lower its threshold: ALTER TABLE … SET \
         (autovacuum_vacuum_scale_factor = 0.05)."
    );
    if percent >= XID_WARN_PERCENT {
        hint.push_str(&format!(
            " Against wraparound: {} in every database of the server, after ending long \
             transactions and dropping unused replication slots and prepared transactions.",
            psql.command("VACUUM (FREEZE, VERBOSE);")
        ));
    }
    hint
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;

    fn psql() -> Psql {
        let profile = Deployment::default();
        Psql::of(&profile, &profile.services[2])
    }

    fn table(dead: i64, live: i64) -> Table {
        Table {
            table: "public.tickets".into(),
            live,
            dead,
            last_vacuum: None,
            last_analyze: None,
            vacuum_seconds: None,
        }
    }

    fn stats(tables: Vec<Table>, xid_age: i64) -> Stats {
        Stats {
            tables,
            xid_age,
            oldest_xid_age: xid_age,
            autovacuum: true,
        }
    }

    #[test]
    fn dead_tuples_warn_only_when_many_and_a_large_share_of_the_live() {
        let fine = judge(&stats(vec![table(9_000, 0)], 1_000), &psql());
        assert_eq!(fine.status, Status::Pass, "{}", fine.message);
        let busy = judge(&stats(vec![table(20_000, 1_000_000)], 1_000), &psql());
        assert_eq!(busy.status, Status::Pass, "{}", busy.message);
        let bloated = judge(&stats(vec![table(20_000, 3_000)], 1_000), &psql());
        assert_eq!(bloated.status, Status::Warn);
        assert!(
            bloated
                .message
                .contains("public.tickets 20000 dead / 3000 live, never vacuumed"),
            "{}",
            bloated.message
        );
        assert!(
            bloated
                .hint
                .unwrap()
                .contains("VACUUM (VERBOSE, ANALYZE) public.tickets;")
        );
    }

    #[test]
    fn transaction_id_age_warns_at_half_of_wraparound_and_fails_at_three_quarters() {
        assert_eq!(
            judge(&stats(vec![], 200_000_000), &psql()).status,
            Status::Pass
        );
        assert_eq!(
            judge(&stats(vec![], 1_100_000_000), &psql()).status,
            Status::Warn
        );
        let fail = judge(&stats(vec![], 1_700_000_000), &psql());
        assert_eq!(fail.status, Status::Fail);
        assert!(fail.hint.unwrap().contains("VACUUM (FREEZE, VERBOSE);"));
    }
}
