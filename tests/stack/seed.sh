#!/usr/bin/env bash
# Seeds the running stack: users, refresh tokens (some expired), a few thousand
# tickets and some Redis keys per service. Idempotent: run it as often as you like.
source "$(dirname "$0")/lib.sh"
require_engine

psql_in() { docker exec -i "$1" psql -X -q -v ON_ERROR_STOP=1 -U "$2" -d "$3" >/dev/null || die "seeding $3 failed"; }

psql_in helpdesk-auth-db user auth_db <<'SQL'
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

psql_in helpdesk-user-db user user_db <<'SQL'
INSERT INTO users (email, name)
  SELECT 'user' || i || '@example.test', 'User ' || i FROM generate_series(1, 50) i
  ON CONFLICT (email) DO NOTHING;
INSERT INTO profiles (user_id, bio)
  SELECT id, 'bio of ' || name FROM users ON CONFLICT (user_id) DO NOTHING;
SQL

psql_in helpdesk-ticket-db ticket ticket_db <<'SQL'
INSERT INTO tickets (user_id, title, status)
  SELECT i % 50 + 1, 'Ticket ' || i, (ARRAY['open', 'pending', 'closed'])[i % 3 + 1]
  FROM generate_series(1, greatest(0, 3000 - (SELECT count(*) FROM tickets))) i;
INSERT INTO comments (ticket_id, body)
  SELECT id, 'first comment' FROM tickets t
  WHERE NOT EXISTS (SELECT 1 FROM comments c WHERE c.ticket_id = t.id) AND id % 4 = 0;
SQL

for svc in auth user ticket; do
  # The password goes through the environment (`-e NAME` copies it from ours), never argv.
  REDISCLI_AUTH="${HELPDESK_REDIS_PASSWORD:-redispass}" \
    docker exec -i -e REDISCLI_AUTH "helpdesk-$svc-redis" redis-cli --no-auth-warning --pipe >/dev/null <<REDIS ||
$(for i in $(seq 1 100); do
  echo "SET $svc-service:cache:item:$i value-$i"
  [ "$svc" = auth ] && echo "SET auth-service:tokens:seed-$i user-$i"
done)
REDIS
    die "seeding helpdesk-$svc-redis failed"
done
say "seeded auth_db, user_db, ticket_db and the three Redis instances"
