#!/usr/bin/env bash
# Benchmark (not a test): what the safety of issue 8 costs — dump validation,
# the manifest's HMAC, the snapshot for the row counts, the second validation
# pass while restoring — on a ~1 GiB ticket_db. The doctor before that work
# (BASE, default 2d65a55) and the current one, built in release, run side by side
# in the same hyperfine runs on the same backup. Adds bench_payload, drops it after.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=${BASE:-2d65a55}
ROWS=${ROWS:-4000000}   # ≈1 GiB in ticket_db
RUNS=${RUNS:-3}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
work="$(mktemp -d /var/tmp/helpdesk-safety-bench.XXXXXX)"
out="$PWD/target/bench"
mkdir -p "$out"
sql() { docker exec -i helpdesk-ticket-db psql -X -q -v ON_ERROR_STOP=1 -U ticket -d ticket_db -c "$1"; }
cleanup() {
  sql "DROP TABLE IF EXISTS bench_payload" || true
  git worktree remove --force "$work/base" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building the current doctor and $BASE (release)"
cargo build -q --release
now="$PWD/target/release/helpdesk-doctor"
git worktree add -q "$work/base" "$BASE"
# The base's build is kept in target/ (a benchmark cache, never needed by CI).
(cd "$work/base" && CARGO_TARGET_DIR="$OLDPWD/target/bench-base" cargo build -q --release --bin helpdesk-doctor)
before="$PWD/target/bench-base/release/helpdesk-doctor"
export HELPDESK_DOCTOR_STATE_DIR="$work/state"

echo "== creating $ROWS rows in ticket_db"
sql "DROP TABLE IF EXISTS bench_payload;
     CREATE TABLE bench_payload AS SELECT i, md5(i::text) || repeat('x', 200) AS body FROM generate_series(1, $ROWS) i;"
size=$(docker exec helpdesk-ticket-db psql -XAt -U ticket -d ticket_db -c "SELECT pg_database_size('ticket_db')")
echo "ticket_db: $((size / 1024 / 1024)) MiB"

hyperfine --runs "$RUNS" --export-markdown "$out/safety-backup.md" \
  --prepare "rm -rf $work/b && mkdir -p $work/b" \
  -n "backup, before ($BASE)" "$before backup --only ticket --out $work/b" \
  -n "backup, now (snapshot counts, signed manifest)" "$now backup --only ticket --out $work/b"

rm -rf "$work/r" && mkdir -p "$work/r"
"$now" backup --only ticket --out "$work/r" >/dev/null
backup="$(ls -d "$work"/r/emergency-backup-*)"
hyperfine --runs "$RUNS" --export-markdown "$out/safety-verify.md" \
  -n "backup verify, before (size + sha256)" "$before backup verify $backup" \
  -n "backup verify, now (+ signature, decompression, dump validation)" "$now backup verify $backup"
hyperfine --runs "$RUNS" --export-markdown "$out/safety-restore.md" \
  -n "restore, before ($BASE: --single-transaction)" "$before restore $backup --only ticket --yes --no-safety-backup" \
  -n "restore, now (validated twice, BEGIN … COMMIT after the sha256)" "$now restore $backup --only ticket --yes --no-safety-backup"

echo "== peak memory (KB)"
rm -rf "$work/b" && mkdir -p "$work/b"
/usr/bin/time -f "backup now: %M KB" "$now" backup --only ticket --out "$work/b" >/dev/null
/usr/bin/time -f "restore now: %M KB" "$now" restore "$backup" --only ticket --yes --no-safety-backup >/dev/null
/usr/bin/time -f "restore before: %M KB" "$before" restore "$backup" --only ticket --yes --no-safety-backup >/dev/null
cat "$out"/safety-backup.md "$out"/safety-verify.md "$out"/safety-restore.md
