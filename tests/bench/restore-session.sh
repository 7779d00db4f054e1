#!/usr/bin/env bash
# Benchmark (not a test): `restore` over the doctor's own session (one
# extended-protocol message per statement, COPY by the copy-in protocol; no
# psql) against `psql -X -v ON_ERROR_STOP=1 --single-transaction` on the same
# dump, in the same run, through the engine and over the published port.
# The doctor's figures include its fixed part (verify: the dump read, hashed and
# validated once more; the plan; stopping and starting ticket-service and
# waiting for its health), measured alone: `restore --dry-run`, and the restore
# of a dump taken before the payload was added (the same steps, ~no data).
# ROWS payload rows in ticket_db (≈250 bytes each). Drops bench_payload after.
source "$(dirname "$0")/lib.sh"
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
work="$(mktemp -d /var/tmp/helpdesk-bench.XXXXXX)"
sql() { docker exec -i helpdesk-ticket-db psql -X -q -v ON_ERROR_STOP=1 -U ticket -d ticket_db -c "$1"; }
cleanup() { sql "DROP TABLE IF EXISTS bench_payload" || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/small" "$work/big"
"$doctor" backup --only ticket --out "$work/small" >/dev/null
small="$(ls -d "$work"/small/emergency-backup-*)"
echo "== $ROWS payload rows in ticket_db"
sql "DROP TABLE IF EXISTS bench_payload;
  CREATE TABLE bench_payload AS SELECT i, md5(i::text) || repeat(md5((i * 7)::text), 6) AS body
  FROM generate_series(1, $ROWS) i;"
"$doctor" backup --only ticket --out "$work/big" >/dev/null
dir="$(ls -d "$work"/big/emergency-backup-*)"
dump="$dir/ticket_db.sql.gz"
echo "dump: $(stat -c %s "$dump") bytes compressed, $(gunzip -c "$dump" | wc -c) bytes of SQL"
password="$(docker exec helpdesk-ticket-db printenv POSTGRES_PASSWORD)"
psql_docker="gunzip -c $dump | docker exec -i helpdesk-ticket-db psql -X -q -v ON_ERROR_STOP=1 --single-transaction -U ticket -d ticket_db >/dev/null"
psql_direct="gunzip -c $dump | PGPASSWORD=\$BENCH_PGPASSWORD psql -X -q -v ON_ERROR_STOP=1 --single-transaction -h 127.0.0.1 -p 5403 -U ticket -d ticket_db >/dev/null"
export BENCH_PGPASSWORD="$password"
hyperfine --runs "$RUNS" --export-markdown "$out/restore-session.md" \
  -n "doctor restore --via docker (own session bridged through the engine)" \
  "$doctor restore $dir --yes --no-safety-backup" \
  -n "gunzip | docker exec -i psql --single-transaction" "bash -c '$psql_docker'" \
  -n "doctor restore --via direct (own session, published port)" \
  "$doctor restore $dir --via direct --yes --no-safety-backup" \
  -n "gunzip | psql -h 127.0.0.1 --single-transaction (host psql)" "bash -c '$psql_direct'" \
  -n "doctor restore --dry-run (verify and plan)" "$doctor restore $dir --dry-run" \
  -n "doctor restore of the dump without the payload (the fixed part: verify, plan, app stop/start, health)" \
  "$doctor restore $small --yes --no-safety-backup"
# Put the payload back (the last restore dropped it) for the peak-RSS run.
"$doctor" restore "$dir" --yes --no-safety-backup >/dev/null
/usr/bin/time -f "doctor restore peak RSS: %M KB" "$doctor" restore "$dir" --yes --no-safety-backup >/dev/null
cat "$out/restore-session.md"
