#!/usr/bin/env bash
# Benchmark (not a test): `backup` vs a raw `docker exec pg_dump | gzip > file`
# of the same ~1 GB database (throughput, peak RSS), then `restore` of the three
# databases vs the slowest single one. Adds a bench_payload table, drops it after.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release
doctor="$PWD/target/release/helpdesk-doctor"
out="$PWD/target/bench"
work="$(mktemp -d /var/tmp/helpdesk-bench.XXXXXX)"
mkdir -p "$out"
ROWS=${ROWS:-4000000}          # ≈1 GB in ticket_db
RESTORE_ROWS=${RESTORE_ROWS:-600000}  # ≈150 MB in each database for the restore comparison
sql() { docker exec -i "$1" psql -X -q -v ON_ERROR_STOP=1 -U "$2" -d "$3" -c "$4"; }
payload() { # container user db rows
  sql "$1" "$2" "$3" "DROP TABLE IF EXISTS bench_payload;
    CREATE TABLE bench_payload AS SELECT i, md5(i::text) || repeat('x', 200) AS body FROM generate_series(1, $4) i;"
}
cleanup() {
  for target in "helpdesk-auth-db user auth_db" "helpdesk-user-db user user_db" "helpdesk-ticket-db ticket ticket_db"; do
    set -- $target; sql "$1" "$2" "$3" "DROP TABLE IF EXISTS bench_payload" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

PART=${PART:-all}   # backup, restore or all
if [ "$PART" != restore ]; then
echo "== creating $ROWS rows in ticket_db"
payload helpdesk-ticket-db ticket ticket_db "$ROWS"
size=$(docker exec helpdesk-ticket-db psql -XAt -U ticket -d ticket_db -c "SELECT pg_database_size('ticket_db')")
echo "ticket_db: $((size / 1024 / 1024)) MiB"

hyperfine --runs 3 --export-markdown "$out/backup.md" \
  --prepare "rm -rf $work/b && mkdir -p $work/b" \
  -n "helpdesk-doctor backup --only ticket (gzip level 1, sha256, fsync)" "$doctor backup --only ticket --out $work/b" \
  -n "docker exec pg_dump | gzip > file (gzip default level 6)" "docker exec helpdesk-ticket-db pg_dump -U ticket ticket_db | gzip > $work/raw.sql.gz" \
  -n "docker exec pg_dump | gzip -1 > file" "docker exec helpdesk-ticket-db pg_dump -U ticket ticket_db | gzip -1 > $work/raw1.sql.gz"
echo "database size: $size bytes"
rm -rf "$work/b" && mkdir -p "$work/b"
/usr/bin/time -f "helpdesk-doctor backup peak RSS: %M KB" "$doctor" backup --only ticket --out "$work/b" >/dev/null

fi

if [ "$PART" != backup ]; then
echo "== restore: three databases of $RESTORE_ROWS payload rows vs the slowest single one"
payload helpdesk-ticket-db ticket ticket_db "$RESTORE_ROWS"
payload helpdesk-auth-db user auth_db "$RESTORE_ROWS"
payload helpdesk-user-db user user_db "$RESTORE_ROWS"
rm -rf "$work/r" && mkdir -p "$work/r"
"$doctor" backup --out "$work/r" >/dev/null
backup_dir="$(ls -d "$work"/r/emergency-backup-*)"
# The baseline: the same dumps piped by hand into psql, one transaction each.
raw="$work/raw-restore.sh"
printf '%s\n' 'gunzip -c "$1/$4.sql.gz" | docker exec -i "$2" psql -X -q -v ON_ERROR_STOP=1 --single-transaction -U "$3" -d "$4" >/dev/null' >"$raw"
raw="sh $raw $backup_dir"
hyperfine --runs 3 --export-markdown "$out/restore.md" \
  -n "restore all three databases (concurrently)" "$doctor restore $backup_dir --yes --no-safety-backup" \
  -n "restore ticket_db alone" "$doctor restore $backup_dir --only ticket --yes --no-safety-backup" \
  -n "restore auth_db alone" "$doctor restore $backup_dir --only auth --yes --no-safety-backup" \
  -n "restore user_db alone" "$doctor restore $backup_dir --only user --yes --no-safety-backup" \
  -n "raw psql, three in parallel" "bash -c '$raw helpdesk-auth-db user auth_db & $raw helpdesk-user-db user user_db & $raw helpdesk-ticket-db ticket ticket_db & wait'" \
  -n "raw psql, ticket_db alone" "bash -c '$raw helpdesk-ticket-db ticket ticket_db'"
fi
cat "$out"/backup.md "$out"/restore.md 2>/dev/null || true
