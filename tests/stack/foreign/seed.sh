#!/usr/bin/env bash
# Seeds the foreign fixture in its own schema: accounts and refresh tokens
# (40 expired: under the guide's warning threshold, so the healthy run has no
# warning, and enough for `tokens purge` to have work), a few thousand tickets,
# and cache keys in each Redis as its application's ACL user. Idempotent.
source "$(dirname "$0")/../lib.sh"
require_engine
cd "$STACK_DIR/foreign"

# Compose v1 names them foreign_auth-db_1, v2 foreign-auth-db-1: asked of the engine.
first() { docker-compose ps -q "$1" | head -n 1; }
psql_in() { docker exec -i "$(first "$1")" psql -X -q -v ON_ERROR_STOP=1 -U "$2" -d "$3" >/dev/null || die "seeding $3 failed"; }

psql_in auth-db authsvc authsvc <<'SQL'
INSERT INTO users (username, email, pw_hash)
  SELECT 'agent' || i, 'agent' || i || '@acme.test', 'scrypt$' || md5(i::text) FROM generate_series(1, 50) i
  ON CONFLICT (username) DO NOTHING;
INSERT INTO refresh_tokens (user_id, token_hash, expires_at)
  SELECT (SELECT min(id) FROM users) + i % 50, md5('expired-' || i), now() - interval '1 hour' * i
  FROM generate_series(1, 40) i ON CONFLICT (token_hash) DO NOTHING;
INSERT INTO refresh_tokens (user_id, token_hash, expires_at)
  SELECT (SELECT min(id) FROM users) + i % 50, md5('valid-' || i), now() + interval '7 days'
  FROM generate_series(1, 100) i ON CONFLICT (token_hash) DO NOTHING;
SQL

psql_in user-db usersvc directory <<'SQL'
INSERT INTO accounts (email, display_name)
  SELECT 'agent' || i || '@acme.test', 'Agent ' || i FROM generate_series(1, 50) i
  ON CONFLICT (email) DO NOTHING;
INSERT INTO preferences (account_id) SELECT id FROM accounts ON CONFLICT DO NOTHING;
SQL

psql_in ticket-db ops tickets <<'SQL'
INSERT INTO tickets (user_id, subject, status)
  SELECT i % 50 + 1, 'Issue ' || i, (ARRAY['new', 'assigned', 'solved'])[i % 3 + 1]
  FROM generate_series(1, greatest(0, 3000 - (SELECT count(*) FROM tickets))) i;
INSERT INTO ticket_events (ticket_id, kind)
  SELECT id, 'opened' FROM tickets t
  WHERE NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id) AND id % 4 = 0;
SQL

# As each application's Redis user; the password through the environment, never argv.
seed_redis() { # SERVICE USER PASSWORD DB
  REDISCLI_AUTH="$3" docker exec -i -e REDISCLI_AUTH "$(first "$1-redis")" \
    redis-cli --no-auth-warning --user "$2" -n "$4" --pipe >/dev/null <<REDIS || die "seeding $1-redis failed"
$(for i in $(seq 1 100); do echo "SET $1:cache:$i value-$i"; done)
REDIS
}
seed_redis auth auth-app auth-cache-4e7a1c 0
seed_redis user default user-cache-92bd0f 0
seed_redis ticket ticket-app ticket-cache-0d55e2 1
say "seeded authsvc, directory, tickets and the three Redis instances"
