#!/usr/bin/env bash
# Benchmark (not a test): flushing 1,000,000 matching keys with `cache flush`
# (SCAN + UNLINK) vs the guide's KEYS + DEL, measuring the latency another client
# sees during each, and the total time. Uses the user service's Redis (6302).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release
doctor=target/release/helpdesk-doctor
export REDISCLI_AUTH=redispass
KEYS=${KEYS:-1000000}
cli() { redis-cli --no-auth-warning -p 6302 "$@"; }

fill() {
  python3 -c "
import sys
for i in range($KEYS):
    sys.stdout.write(f'SET bench:tokens:{i} v\r\n')
" | cli --pipe >/dev/null
  echo "  $(cli DBSIZE) keys in the database"
}

measure() { # name, command...
  local name="$1"; shift
  python3 tests/bench/redis-latency.py 6302 >"/tmp/latency.$$" &
  local pinger=$!
  sleep 0.5
  local started=$(date +%s.%N)
  "$@" >/dev/null
  local took=$(echo "$(date +%s.%N) - $started" | bc)
  sleep 0.2
  kill -TERM "$pinger"; wait "$pinger" || true
  printf '| %s | %.2f s | %s |\n' "$name" "$took" "$(cat /tmp/latency.$$)"
}

guide() { cli KEYS 'bench:tokens:*' | xargs -r -n 10000 redis-cli --no-auth-warning -p 6302 DEL; }

echo "filling $KEYS keys"; fill
echo "| method | total | latency seen by another client |"
echo "|---|---|---|"
measure "helpdesk-doctor cache flush (SCAN + UNLINK, batches of ${BATCH:-300})" "$doctor" cache flush user --pattern 'bench:tokens:*' --yes --batch "${BATCH:-300}"
echo "refilling" >&2; fill >&2
measure "guide: KEYS + DEL" guide
echo "  left: $(cli DBSIZE) keys" >&2
