#!/usr/bin/env bash
# Seeds the running stack: users, refresh tokens (some expired), a few thousand
# tickets and some Redis keys per service. Idempotent: run it as often as you like.
# `seed.sh prod` seeds the production-shaped fixture (tests/stack/prod) instead,
# `seed.sh foreign` the foreign one (tests/stack/foreign/seed.sh).
source "$(dirname "$0")/lib.sh"
require_engine

# Per service: database container, user, database; then the Redis containers and password.
case "${1:-bundled}" in
  bundled)
    auth=(helpdesk-auth-db user auth_db) user=(helpdesk-user-db user user_db)
    ticket=(helpdesk-ticket-db ticket ticket_db)
    redis_container() { echo "helpdesk-$1-redis"; }
    redis_password="${HELPDESK_REDIS_PASSWORD:-redispass}" ;;
  prod)
    # Asked of the engine: compose v1 names them prod_auth-db_1, v2 prod-auth-db-1.
    first() { docker ps -q --filter label=com.docker.compose.project=prod \
      --filter label=com.docker.compose.service="$1" --filter label=com.docker.compose.container-number=1; }
    auth=("$(first auth-db)" auth auth) user=("$(first user-db)" postgres postgres)
    ticket=("$(first ticket-db)" tickets tickets)
    redis_container() { first "$1-redis"; }
    redis_password="${PROD_REDIS_PASSWORD:-prod-redis-pass}" ;;
  # Its own schema and users: its own script.
  foreign) exec "$STACK_DIR/foreign/seed.sh" ;;
  *) die "usage: $0 [bundled|prod|foreign]" ;;
esac

psql_in() { docker exec -i "$1" psql -X -q -v ON_ERROR_STOP=1 -U "$2" -d "$3" >/dev/null || die "seeding $3 failed"; }

psql_in "${auth[@]}" <<'SQL'
INSERT INTO users (email, password_hash)
  SELECT 'user' || i || '@example.test', 'hash-' || i FROM generate_series(1, 50) i
  ON CONFLICT (email) DO NOTHING;
INSERT INTO refresh_tokens (user_id, token, expires_at)
  SELECT i % 50 + 1, 'expired-' || i, now() - interval '1 day' * (i % 30 + 1) FROM generate_series(1, 200) i
  ON CONFLICT (token) DO NOTHING;
INSERT INTO refresh_tokens (user_id, token, expires_at)
  SELECT i % 50 + 1, 'valid-' || i, now() + interval '7 days' FROM generate_series(1, 300) i
  ON CONFLICT (token) DO NOTHING;
SQL

psql_in "${user[@]}" <<'SQL'
INSERT INTO users (email, name)
  SELECT 'user' || i || '@example.test', 'User ' || i FROM generate_series(1, 50) i
  ON CONFLICT (email) DO NOTHING;
INSERT INTO profiles (user_id, bio)
  SELECT id, 'bio of ' || name FROM users ON CONFLICT (user_id) DO NOTHING;
SQL

psql_in "${ticket[@]}" <<'SQL'
INSERT INTO tickets (user_id, title, status)
  SELECT i % 50 + 1, 'Ticket ' || i, (ARRAY['open', 'pending', 'closed'])[i % 3 + 1]
  FROM generate_series(1, greatest(0, 3000 - (SELECT count(*) FROM tickets))) i;
INSERT INTO comments (ticket_id, body)
  SELECT id, 'first comment' FROM tickets t
  WHERE NOT EXISTS (SELECT 1 FROM comments c WHERE c.ticket_id = t.id) AND id % 4 = 0;
SQL

for svc in auth user ticket; do
  # The password goes through the environment (`-e NAME` copies it from ours), never argv.
  REDISCLI_AUTH="$redis_password" \
    docker exec -i -e REDISCLI_AUTH "$(redis_container "$svc")" redis-cli --no-auth-warning --pipe >/dev/null <<REDIS ||
$(for i in $(seq 1 100); do
  echo "SET $svc-service:cache:item:$i value-$i"
  [ "$svc" = auth ] && echo "SET auth-service:tokens:seed-$i user-$i"
done)
REDIS
    die "seeding $(redis_container "$svc") failed"
done
say "seeded ${auth[2]}, ${user[2]}, ${ticket[2]} and the three Redis instances"
