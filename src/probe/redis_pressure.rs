//! Redis under pressure, judged from INFO on the run's one connection:
//! memory against maxmemory and its policy together (full under `noeviction`
//! refuses writes), persistence that fails (and MISCONF), clients refused or
//! blocked, and the slow log's recent entries (arguments masked).

use super::duration::said;
use super::redis::{human, info_of, number, with_redis};
use crate::check::{Outcome, Status};
use crate::deployment::{Context, containers};
use crate::profile::{Role, Service};
use redis::aio::MultiplexedConnection;
use std::collections::HashMap;

/// Slow-log entries read at most (Redis keeps 128 by default).
const SLOWLOG_READ: usize = 32;
/// Characters of a slow command's key shown.
const KEY_SHOWN: usize = 40;

/// What the fixes name: the service, its Redis container and compose service.
struct Names {
    service: String,
    container: String,
    compose_service: String,
    compose: String,
    docker: String,
}

impl Names {
    fn of(ctx: &Context, service: &Service) -> Names {
        Names {
            service: service.name.clone(),
            container: service.container(Role::Redis),
            compose_service: service.compose_service(Role::Redis),
            compose: ctx.profile.compose_command(),
            docker: ctx.profile.docker_command(),
        }
    }

    /// `redis-cli ARGS` in the container, the password from the environment.
    fn cli(&self, args: &str) -> String {
        format!(
            "{} exec -it -e REDISCLI_AUTH {} redis-cli --no-auth-warning {args}",
            self.docker, self.container
        )
    }
}

/// Memory figures of INFO, and the container's memory limit.
#[derive(Debug, Default)]
struct Memory {
    used: u64,
    max: u64,
    policy: String,
    evicted: u64,
    /// Keys with a TTL, every database (what a `volatile-*` policy may evict).
    expiring: u64,
    /// The container's memory limit (0: none, or unknown).
    limit: u64,
}

/// Memory against maxmemory and its policy, evictions, and a container limit
/// the server will reach before its own (the catalog's `redis_info`).
pub async fn memory(ctx: &Context, service: &Service) -> Outcome {
    let names = Names::of(ctx, service);
    let limit = container_limit(ctx, &names.container).await;
    with_redis(ctx, service, |mut connection| async move {
        let info = info_of(
            &mut connection,
            &[
                "server",
                "clients",
                "memory",
                "persistence",
                "stats",
                "keyspace",
            ],
        )
        .await?;
        let memory = Memory {
            used: number(&info, "used_memory"),
            max: number(&info, "maxmemory"),
            policy: info.get("maxmemory_policy").cloned().unwrap_or_default(),
            evicted: number(&info, "evicted_keys"),
            expiring: expiring_keys(&info),
            limit,
        };
        Ok(judge_memory(&memory, &names)
            .detail("used_memory", memory.used)
            .detail("maxmemory", memory.max)
            .detail("maxmemory_policy", &memory.policy)
            .detail("evicted_keys", memory.evicted)
            .detail("container_memory_limit", memory.limit)
            .detail("connected_clients", number(&info, "connected_clients"))
            .detail(
                "rdb_last_bgsave_status",
                info.get("rdb_last_bgsave_status")
                    .map_or("unknown", String::as_str),
            )
            .detail(
                "redis_version",
                info.get("redis_version").map_or("unknown", String::as_str),
            ))
    })
    .await
}

/// The container's memory limit, when the engine tells it (0 otherwise).
async fn container_limit(ctx: &Context, container: &str) -> u64 {
    match containers::inspect(ctx, container).await {
        Ok(Some(inspected)) => inspected.limits.memory_bytes.map_or(0, |m| m.max(0) as u64),
        _ => 0,
    }
}

/// `db0:keys=10,expires=3,avg_ttl=0` summed over the databases.
fn expiring_keys(info: &HashMap<String, String>) -> u64 {
    info.iter()
        .filter(|(k, _)| k.starts_with("db") && k[2..].chars().all(|c| c.is_ascii_digit()))
        .filter_map(|(_, v)| {
            v.split(',')
                .find_map(|pair| pair.strip_prefix("expires="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

fn judge_memory(m: &Memory, names: &Names) -> Outcome {
    let percent = if m.max > 0 {
        m.used as f64 * 100.0 / m.max as f64
    } else {
        0.0
    };
    let evicts = m.policy.starts_with("allkeys-") || m.policy.starts_with("volatile-");
    let nothing_to_evict =
        m.policy == "noeviction" || (m.policy.starts_with("volatile-") && m.expiring == 0);
    let figures = if m.max > 0 {
        format!(
            "memory {} of maxmemory {} ({percent:.0}%, maxmemory-policy {})",
            human(m.used),
            human(m.max),
            m.policy
        )
    } else {
        format!(
            "memory {} (no maxmemory, policy {})",
            human(m.used),
            m.policy
        )
    };
    if m.max > 0 && m.used >= m.max && nothing_to_evict {
        let why = if m.policy == "noeviction" {
            "nothing may be evicted".to_string()
        } else {
            format!("no key has a TTL for {} to evict", m.policy)
        };
        return Outcome::fail(format!(
            "writes refused (OOM): {figures}: {why}, every write command fails with \
             \"OOM command not allowed when used memory > 'maxmemory'\""
        ))
        .with_hint(full_hint(names));
    }
    let (status, problem) = if m.max > 0 && percent >= 90.0 && nothing_to_evict {
        (
            Status::Warn,
            format!("writes will be refused (OOM) at 100% under {}", m.policy),
        )
    } else if m.evicted > 0 && evicts {
        (
            Status::Warn,
            format!(
                "the cache is evicting: {} keys evicted since start",
                m.evicted
            ),
        )
    } else if m.max == 0 && m.limit > 0 {
        (
            Status::Warn,
            format!(
                "no maxmemory: it grows until the container's limit of {} has it OOM-killed",
                human(m.limit)
            ),
        )
    } else if m.limit > 0 && m.max > m.limit {
        (
            Status::Warn,
            format!(
                "maxmemory is above the container's limit of {}: it is OOM-killed before it evicts",
                human(m.limit)
            ),
        )
    } else {
        return Outcome::pass(format!("{figures}, {} keys evicted", m.evicted));
    };
    let hint = match status {
        Status::Warn if m.evicted > 0 && evicts => format!(
            "Evictions drop cached keys before their TTL (more misses, more load on the database): \
             give it more room ({} CONFIG SET maxmemory …, and --maxmemory in the compose command of \
             {}) or cache less; the count is since start (CONFIG RESETSTAT clears it).",
            names.cli(""),
            names.compose_service
        ),
        _ => limit_hint(m, names),
    };
    Outcome::new(status, format!("{problem}: {figures}")).with_hint(hint)
}

fn full_hint(names: &Names) -> String {
    format!(
        "Make room or let it evict: raise the limit now ({}) and for good (--maxmemory in the compose \
         command of {}), or, for a cache, evict ({}); see what takes the room: {}; or empty the cache: \
         helpdesk-doctor cache flush {} --pattern '{}-service:*'",
        names.cli("CONFIG SET maxmemory 1gb"),
        names.compose_service,
        names.cli("CONFIG SET maxmemory-policy allkeys-lru"),
        names.cli("--bigkeys"),
        names.service,
        names.service,
    )
}

fn limit_hint(m: &Memory, names: &Names) -> String {
    let room = if m.limit > 0 {
        format!("about 3/4 of the container's {}", human(m.limit))
    } else {
        "what the host can spare".to_string()
    };
    format!(
        "Give it a maxmemory below its container's limit, {room}, with an eviction policy for a cache: \
         --maxmemory … --maxmemory-policy allkeys-lru in the compose command of {} ({} up -d {}); \
         now: {}",
        names.compose_service,
        names.compose,
        names.compose_service,
        names.cli("CONFIG SET maxmemory-policy allkeys-lru")
    )
}

/// Persistence: the last RDB save and AOF writes; a failed save with
/// `stop-writes-on-bgsave-error` refuses writes (MISCONF).
pub async fn persistence(ctx: &Context, service: &Service) -> Outcome {
    let names = Names::of(ctx, service);
    with_redis(ctx, service, |mut connection| async move {
        let info = info_of(&mut connection, &["persistence", "server"]).await?;
        let config = config_get(
            &mut connection,
            &["stop-writes-on-bgsave-error", "dir", "save"],
        )
        .await;
        let uptime = number(&info, "uptime_in_seconds");
        Ok(judge_persistence(&info, &config, uptime, &names)
            .detail("rdb_last_bgsave_status", info.get("rdb_last_bgsave_status"))
            .detail("aof_enabled", number(&info, "aof_enabled") == 1)
            .detail("aof_last_write_status", info.get("aof_last_write_status"))
            .detail(
                "rdb_changes_since_last_save",
                number(&info, "rdb_changes_since_last_save"),
            ))
    })
    .await
}

/// `CONFIG GET` of `keys`; empty when the ACL user may not (it only refines a message).
async fn config_get(
    connection: &mut MultiplexedConnection,
    keys: &[&str],
) -> HashMap<String, String> {
    redis::cmd("CONFIG")
        .arg("GET")
        .arg(keys)
        .query_async::<HashMap<String, String>>(connection)
        .await
        .unwrap_or_default()
}

fn judge_persistence(
    info: &HashMap<String, String>,
    config: &HashMap<String, String>,
    uptime: u64,
    names: &Names,
) -> Outcome {
    let field = |key: &str| info.get(key).map_or("", String::as_str);
    let changes = number(info, "rdb_changes_since_last_save");
    let last_save = number(info, "rdb_last_save_time");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let since = if last_save > 0 && now >= last_save {
        format!("last save {} ago", said((now - last_save) as f64))
    } else {
        "never saved".to_string()
    };
    let aof = number(info, "aof_enabled") == 1;
    let mut failures = Vec::new();
    if field("rdb_last_bgsave_status") == "err" {
        failures.push(format!(
            "the last background save failed (rdb_last_bgsave_status:err), {changes} changes not on disk, {since}"
        ));
    }
    if aof && field("aof_last_write_status") == "err" {
        failures
            .push("writes to the append-only file fail (aof_last_write_status:err)".to_string());
    }
    if aof && field("aof_last_bgrewrite_status") == "err" {
        failures.push("the last AOF rewrite failed (aof_last_bgrewrite_status:err)".to_string());
    }
    if failures.is_empty() {
        let saves = match config.get("save").map(String::as_str) {
            Some("") if !aof => {
                "persistence off (no save points, no AOF): a restart empties it".to_string()
            }
            _ => format!(
                "{since}, {changes} changes since{}",
                if aof { ", AOF on" } else { "" }
            ),
        };
        return Outcome::pass(format!("saves succeed: {saves}")).detail("uptime_seconds", uptime);
    }
    let refused = match config
        .get("stop-writes-on-bgsave-error")
        .map(String::as_str)
    {
        Some("yes") if field("rdb_last_bgsave_status") == "err" => {
            "; every write is refused with MISCONF (stop-writes-on-bgsave-error yes)"
        }
        _ => "",
    };
    let dir = config
        .get("dir")
        .map(String::as_str)
        .filter(|d| {
            d.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
        })
        .unwrap_or("/data");
    Outcome::fail(format!("{}{refused}", failures.join("; "))).with_hint(format!(
        "Redis cannot write into {dir}: read why ({} logs --tail=50 {} | grep -iE 'save|rdb|aof|error'); \
         check that folder's free space and permissions (docker exec {} ls -ld {dir}); then save again: {}. \
         Writes resume once a save succeeds (CONFIG SET stop-writes-on-bgsave-error no lets them through \
         meanwhile, at the risk of losing them).",
        names.compose,
        names.compose_service,
        names.container,
        names.cli("BGSAVE")
    ))
}

/// Clients: connections refused at maxclients, clients near it, blocked clients.
pub async fn clients(ctx: &Context, service: &Service) -> Outcome {
    let names = Names::of(ctx, service);
    with_redis(ctx, service, |mut connection| async move {
        let info = info_of(&mut connection, &["clients", "stats"]).await?;
        let maxclients = match number(&info, "maxclients") {
            0 => config_get(&mut connection, &["maxclients"])
                .await
                .get("maxclients")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            n => n,
        };
        Ok(judge_clients(&info, maxclients, &names))
    })
    .await
}

fn judge_clients(info: &HashMap<String, String>, maxclients: u64, names: &Names) -> Outcome {
    let connected = number(info, "connected_clients");
    let blocked = number(info, "blocked_clients");
    let rejected = number(info, "rejected_connections");
    let of_max = if maxclients > 0 {
        format!(" of maxclients {maxclients}")
    } else {
        String::new()
    };
    let figures = format!(
        "{connected} clients{of_max}, {blocked} blocked (waiting in BLPOP and the like), {rejected} connections rejected since start"
    );
    let near = maxclients > 0 && connected * 10 >= maxclients * 9;
    let outcome = if rejected > 0 || near {
        let what = if rejected > 0 {
            format!("{rejected} connections refused at maxclients")
        } else {
            "clients near maxclients".to_string()
        };
        Outcome::warn(format!("{what}: {figures}")).with_hint(format!(
            "Find who holds the connections: {} (a client leaking connections: one Redis client per \
             request instead of one per process); raise the limit with --maxclients in the compose \
             command of {} (and the open-files limit, ulimits: nofile); the count is since start \
             (CONFIG RESETSTAT clears it).",
            names.cli("CLIENT LIST"),
            names.compose_service
        ))
    } else {
        Outcome::pass(figures)
    };
    outcome
        .detail("connected_clients", connected)
        .detail("blocked_clients", blocked)
        .detail("rejected_connections", rejected)
        .detail("maxclients", maxclients)
}

/// One slow-log entry, its arguments masked.
#[derive(Debug, serde::Serialize)]
struct Slow {
    id: i64,
    at: i64,
    duration_ms: f64,
    command: String,
    client: String,
}

/// The slow log's entries of the last `window_minutes` slower than `threshold_ms`.
pub async fn slowlog(
    ctx: &Context,
    service: &Service,
    threshold_ms: f64,
    window_minutes: i64,
) -> Outcome {
    let names = Names::of(ctx, service);
    with_redis(ctx, service, |mut connection| async move {
        let entries: Vec<redis::Value> = match redis::cmd("SLOWLOG")
            .arg("GET")
            .arg(SLOWLOG_READ)
            .query_async(&mut connection)
            .await
        {
            Ok(entries) => entries,
            Err(e) if e.code() == Some("NOPERM") => {
                return Ok(Outcome::warn(
                    "NOPERM: the doctor's Redis user may not read the slow log",
                )
                .with_hint("Grant it: ACL SETUSER <user> +slowlog|get (or in its --user rule)"));
            }
            Err(e) => return Err(e),
        };
        let entries: Vec<Slow> = entries.iter().filter_map(|e| slow_entry(e, ctx)).collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Ok(judge_slowlog(
            entries,
            now,
            threshold_ms,
            window_minutes,
            &names,
        ))
    })
    .await
}

/// `[id, time, microseconds, [args…], client, name]`, the command and its
/// key masked, the rest of its arguments only counted.
fn slow_entry(value: &redis::Value, ctx: &Context) -> Option<Slow> {
    let redis::Value::Array(fields) = value else {
        return None;
    };
    let int = |i: usize| match fields.get(i) {
        Some(redis::Value::Int(n)) => Some(*n),
        _ => None,
    };
    let text = |v: &redis::Value| match v {
        redis::Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        redis::Value::SimpleString(s) => s.clone(),
        _ => String::new(),
    };
    let args: Vec<String> = match fields.get(3) {
        Some(redis::Value::Array(args)) => args.iter().map(text).collect(),
        _ => Vec::new(),
    };
    let mut command = args.first().map(|c| c.to_uppercase()).unwrap_or_default();
    if let Some(key) = args.get(1) {
        let key: String = ctx
            .mask(key)
            .chars()
            .filter(|c| !c.is_control())
            .take(KEY_SHOWN)
            .collect();
        command.push_str(&format!(" {key}"));
    }
    if args.len() > 2 {
        command.push_str(&format!(" (+{} args)", args.len() - 2));
    }
    Some(Slow {
        id: int(0)?,
        at: int(1)?,
        duration_ms: int(2)? as f64 / 1000.0,
        command,
        client: fields.get(4).map(text).unwrap_or_default(),
    })
}

fn judge_slowlog(
    entries: Vec<Slow>,
    now: i64,
    threshold_ms: f64,
    window_minutes: i64,
    names: &Names,
) -> Outcome {
    let logged = entries.len();
    let mut slow: Vec<Slow> = entries
        .into_iter()
        .filter(|e| e.at >= now - window_minutes * 60 && e.duration_ms >= threshold_ms)
        .collect();
    slow.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
    let Some(worst) = slow.first() else {
        return Outcome::pass(format!(
            "no command slower than {threshold_ms} ms in the last {window_minutes} min ({logged} in the slow log)"
        ));
    };
    let message = format!(
        "{} command{} slower than {threshold_ms} ms in the last {window_minutes} min; slowest {} ms: {} (from {})",
        slow.len(),
        if slow.len() == 1 { "" } else { "s" },
        worst.duration_ms.round(),
        worst.command,
        worst.client
    );
    Outcome::warn(message)
        .with_hint(format!(
            "Redis runs one command at a time: a slow one stalls every client. Replace KEYS by SCAN, \
             read big keys in parts (HSCAN, SSCAN, LRANGE with bounds), keep Lua scripts short; see \
             them all: {}",
            names.cli("SLOWLOG GET 10")
        ))
        .detail("slow_commands", slow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            service: "user".into(),
            container: "helpdesk-user-redis".into(),
            compose_service: "user-redis".into(),
            compose: "docker-compose -p helpdesk-microservices".into(),
            docker: "docker".into(),
        }
    }

    fn memory(used: u64, max: u64, policy: &str) -> Memory {
        Memory {
            used,
            max,
            policy: policy.into(),
            ..Memory::default()
        }
    }

    #[test]
    fn full_under_noeviction_refuses_writes_but_a_full_lru_cache_is_fine() {
        let full = judge_memory(&memory(2 << 20, 1 << 20, "noeviction"), &names());
        assert_eq!(full.status, Status::Fail);
        assert!(
            full.message.starts_with("writes refused (OOM)")
                && full.message.contains("maxmemory-policy noeviction"),
            "{}",
            full.message
        );
        assert!(
            full.hint
                .unwrap()
                .contains("CONFIG SET maxmemory-policy allkeys-lru")
        );
        let cache = judge_memory(&memory(2 << 20, 1 << 20, "allkeys-lru"), &names());
        assert_eq!(cache.status, Status::Pass, "{}", cache.message);
        let near = judge_memory(&memory(95, 100, "noeviction"), &names());
        assert_eq!(near.status, Status::Warn);
    }

    #[test]
    fn a_volatile_policy_with_no_expiring_key_is_as_full_as_noeviction() {
        let mut m = memory(100, 100, "volatile-lru");
        assert_eq!(judge_memory(&m, &names()).status, Status::Fail);
        m.expiring = 5;
        assert_eq!(judge_memory(&m, &names()).status, Status::Pass);
    }

    #[test]
    fn evictions_and_a_container_limit_it_will_reach_warn() {
        let mut evicting = memory(100, 100, "allkeys-lru");
        evicting.evicted = 12;
        let warn = judge_memory(&evicting, &names());
        assert_eq!(warn.status, Status::Warn);
        assert!(warn.message.contains("12 keys evicted"), "{}", warn.message);
        let mut unbounded = memory(100, 0, "noeviction");
        assert_eq!(judge_memory(&unbounded, &names()).status, Status::Pass);
        unbounded.limit = 256 << 20;
        let warn = judge_memory(&unbounded, &names());
        assert_eq!(warn.status, Status::Warn);
        assert!(warn.message.contains("OOM-killed"), "{}", warn.message);
    }

    #[test]
    fn keyspace_lines_give_the_keys_with_a_ttl() {
        let info = super::super::redis::parse_info(
            "# Keyspace\r\ndb0:keys=10,expires=3,avg_ttl=0\r\ndb2:keys=1,expires=1,avg_ttl=5\r\ndbsize:7\r\n",
        );
        assert_eq!(expiring_keys(&info), 4);
    }

    #[test]
    fn a_failed_save_is_a_failure_and_misconf_is_named() {
        let info = super::super::redis::parse_info(
            "rdb_last_bgsave_status:err\r\nrdb_changes_since_last_save:42\r\naof_enabled:0\r\n",
        );
        let config = HashMap::from([
            ("stop-writes-on-bgsave-error".to_string(), "yes".to_string()),
            ("dir".to_string(), "/data".to_string()),
        ]);
        let fail = judge_persistence(&info, &config, 10, &names());
        assert_eq!(fail.status, Status::Fail);
        assert!(
            fail.message.contains("42 changes not on disk") && fail.message.contains("MISCONF")
        );
        assert!(fail.hint.unwrap().contains("ls -ld /data"));
        let hostile = HashMap::from([("dir".to_string(), "/x$(id)".to_string())]);
        let hint = judge_persistence(&info, &hostile, 10, &names())
            .hint
            .unwrap();
        assert!(!hint.contains("$(id)"), "{hint}");
    }

    #[test]
    fn rejected_connections_warn() {
        let info = super::super::redis::parse_info(
            "connected_clients:3\r\nblocked_clients:1\r\nrejected_connections:7\r\n",
        );
        let warn = judge_clients(&info, 10_000, &names());
        assert_eq!(warn.status, Status::Warn);
        assert!(
            warn.message
                .starts_with("7 connections refused at maxclients"),
            "{}",
            warn.message
        );
        let fine = super::super::redis::parse_info(
            "connected_clients:3\r\nblocked_clients:1\r\nrejected_connections:0\r\n",
        );
        assert_eq!(judge_clients(&fine, 10_000, &names()).status, Status::Pass);
    }

    #[test]
    fn only_recent_slow_commands_over_the_threshold_warn() {
        let entry = |id, at, ms| Slow {
            id,
            at,
            duration_ms: ms,
            command: "EVAL local (+1 args)".into(),
            client: "172.20.0.1:5000".into(),
        };
        let now = 1_000_000;
        let old = judge_slowlog(vec![entry(1, now - 3_600, 900.0)], now, 100.0, 15, &names());
        assert_eq!(old.status, Status::Pass);
        let fast = judge_slowlog(vec![entry(2, now - 10, 20.0)], now, 100.0, 15, &names());
        assert_eq!(fast.status, Status::Pass);
        let slow = judge_slowlog(
            vec![entry(3, now - 10, 250.0), entry(4, now - 5, 120.0)],
            now,
            100.0,
            15,
            &names(),
        );
        assert_eq!(slow.status, Status::Warn);
        assert!(
            slow.message.starts_with(
                "2 commands slower than 100 ms in the last 15 min; slowest 250 ms: EVAL"
            ),
            "{}",
            slow.message
        );
    }
}
