#!/usr/bin/env bash
# Benchmark (not a test): `restore` over the doctor's own session (one
# extended-protocol message per statement, COPY by the copy-in protocol; no
# psql) against the doctor before it (BASE, default 2ac3d05: the dump piped into
# psql in the database container) and the bare psql pipe, in ONE hyperfine run,
# on the same backup of a ≈1 GiB ticket_db (ROWS payload rows of ≈250 bytes in
# a bench_payload table). In the same run, `backup verify` of that backup by
# both doctors (the dump check's cost), and the new doctor's fixed part alone:
# `restore --dry-run` and the restore of a dump taken before the payload.
# Targets: restore ≤ 1.05× before, verify ≤ 1.2× before.
#
# It changes the shared stack's ticket_db while it runs: run it under the
# stack's lock (`flock /tmp/helpdesk-it.lock tests/bench/restore-session.sh`).
# It leaves ticket_db as it found it: the backup taken first is restored at the
# end and bench_payload dropped, whatever happened. Its own state folder (the
# signing key both doctors share, the runbook lock, history) is a throwaway one.
source "$(dirname "$0")/lib.sh"
BASE=${BASE:-2ac3d05}
ROWS=${ROWS:-4000000}
RUNS=${RUNS:-3}
work="$(mktemp -d /var/tmp/helpdesk-bench.XXXXXX)"
export HELPDESK_DOCTOR_STATE_DIR="$work/state"
sql() { docker exec -i helpdesk-ticket-db psql -X -q -v ON_ERROR_STOP=1 -U ticket -d ticket_db -c "$1"; }
put_back() {
  if [ -n "${original:-}" ]; then
    "$doctor" restore "$original" --yes --no-safety-backup >/dev/null || echo "could not restore $original" >&2
  fi
  sql "DROP TABLE IF EXISTS bench_payload" || true
  git worktree remove --force "$work/base" 2>/dev/null || true
  rm -rf "$work"
}
trap put_back EXIT

# The doctor before: built once from BASE (into this target folder, so the
# dependencies are shared), kept as target/bench/doctor-BASE.
before="$out/doctor-$(git rev-parse --short=7 "$BASE")"
if [ ! -x "$before" ]; then
  echo "== building the doctor at $BASE (release)"
  git worktree add -q --detach "$work/base" "$BASE"
  (cd "$work/base" && CARGO_TARGET_DIR="$OLDPWD/target" cargo build -q --release --bin helpdesk-doctor)
  cp target/release/helpdesk-doctor "$before"
  cargo build -q --release --bin helpdesk-doctor
fi

mkdir -p "$work/original" "$work/big"
# ticket_db as found (put back at the end; also the dump without the payload
# whose restore is the fixed part).
"$doctor" backup --only ticket --out "$work/original" >/dev/null
original="$(ls -d "$work"/original/emergency-backup-*)"

echo "== $ROWS payload rows in ticket_db"
sql "DROP TABLE IF EXISTS bench_payload;
  CREATE TABLE bench_payload AS SELECT i, md5(i::text) || repeat('x', 200) AS body
  FROM generate_series(1, $ROWS) i;"
echo "ticket_db: $(($(docker exec helpdesk-ticket-db psql -XAt -U ticket -d ticket_db \
  -c "SELECT pg_database_size('ticket_db')") >> 20)) MiB"
"$doctor" backup --only ticket --out "$work/big" >/dev/null
dir="$(ls -d "$work"/big/emergency-backup-*)"
dump="$dir/ticket_db.sql.gz"
echo "dump: $(($(stat -c %s "$dump") >> 20)) MiB compressed, $(($(gunzip -c "$dump" | wc -c) >> 20)) MiB of SQL"
"$before" backup verify "$dir" >/dev/null || { echo "the doctor at $BASE refuses the backup" >&2; exit 1; }

psql_docker="gunzip -c $dump | docker exec -i helpdesk-ticket-db psql -X -q -v ON_ERROR_STOP=1 --single-transaction -U ticket -d ticket_db >/dev/null"
hyperfine --runs "$RUNS" --export-markdown "$out/restore-session.md" \
  -n "restore --via docker, before ($BASE: psql in the container)" \
  "$before restore $dir --yes --no-safety-backup" \
  -n "restore --via docker, now (own session bridged through the engine)" \
  "$doctor restore $dir --yes --no-safety-backup" \
  -n "restore --via direct, now (own session, published port)" \
  "$doctor restore $dir --via direct --yes --no-safety-backup" \
  -n "gunzip | docker exec -i psql --single-transaction (bare pipe)" "bash -c '$psql_docker'" \
  -n "backup verify, before ($BASE)" "$before backup verify $dir" \
  -n "backup verify, now" "$doctor backup verify $dir" \
  -n "restore --dry-run, now (verify and plan)" "$doctor restore $dir --dry-run" \
  -n "restore of the dump without the payload, now (verify, plan, app stop/start, health)" \
  "$doctor restore $original --yes --no-safety-backup"
# The last line left bench_payload as it was: it is not in that dump.
/usr/bin/time -f "restore now, peak RSS: %M KB" "$doctor" restore "$dir" --yes --no-safety-backup >/dev/null
cat "$out/restore-session.md"
