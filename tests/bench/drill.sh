#!/usr/bin/env bash
# Benchmark (not a test): the restore drill of the three databases (`backup
# verify --restore-test`) vs the bare parallel `docker run` + `psql` restore of
# the same dumps into throwaway containers, 5 runs each in one hyperfine run on
# the bundled stack (release build).
source "$(dirname "$0")/lib.sh"
backups="$(mktemp -d)"
trap 'rm -rf "$backups"; docker ps -aq --filter name=bench-drill- | xargs -r docker rm -f -v >/dev/null' EXIT
"$doctor" backup --out "$backups" >/dev/null
dir="$(ls -d "$backups"/emergency-backup-* | head -n 1)"
cat >"$backups/bare.sh" <<'BARE'
#!/usr/bin/env bash
# One database: a throwaway container, ready, the dump piped into psql, removed.
set -euo pipefail
db="$1" user="$2" dump="$3" name="bench-drill-$1-$$"
docker run -d --name "$name" --network none -e POSTGRES_USER="$user" -e POSTGRES_DB="$db" \
  -e POSTGRES_PASSWORD=throwaway helpdesk-postgres:local >/dev/null
until docker exec "$name" pg_isready -q -h 127.0.0.1 -U "$user" -d "$db"; do sleep 0.25; done
gunzip -c "$dump" | docker exec -i "$name" psql -X -q -v ON_ERROR_STOP=1 -U "$user" -d "$db" >/dev/null
docker rm -f -v "$name" >/dev/null
BARE
chmod +x "$backups/bare.sh"
bare="$backups/bare.sh auth_db user $dir/auth_db.sql.gz & $backups/bare.sh user_db user $dir/user_db.sql.gz & $backups/bare.sh ticket_db ticket $dir/ticket_db.sql.gz & wait"
hyperfine --runs 5 --export-markdown "$out/drill.md" \
  -n "helpdesk-doctor backup verify --restore-test (3 databases)" "$doctor backup verify --restore-test $dir >/dev/null" \
  -n "bare: docker run + psql restore, 3 in parallel" "bash -c '$bare'"
cat "$out/drill.md"
