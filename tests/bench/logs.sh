#!/usr/bin/env bash
# Benchmark (not a test): `logs --since 10m` (merged in time order, masked,
# JSON rendered) vs `docker-compose logs --no-color` (the guide's command;
# compose v1 has no --since, and every line is in the last 10 minutes) over
# 9 containers holding 100k lines, side by side in one hyperfine run; then the
# doctor's peak memory at 100k and at 400k lines (constant, not growing with
# the logs). The writers run in a throwaway compose project, removed at exit.
source "$(dirname "$0")/lib.sh"
project=logbench$$
dir="$(mktemp -d)"
cleanup() {
  docker-compose -p "$project" -f "$dir/compose.yml" down -t 0 >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Each writer prints LINES lines (one in three JSON, as the Node services
# write them), then sleeps.
compose_file() {
  local lines=$1
  echo "services:"
  for i in $(seq 1 9); do
    cat <<EOF
  writer$i:
    image: helpdesk-service:local
    entrypoint: ["bash", "-c"]
    command: ['for ((i = 0; i < $lines; i++)); do if ((i % 3)); then echo "writer$i line \$\$i GET /api/v1/tickets 200 3 ms"; else echo "{\"level\":\"info\",\"time\":\$\$(date +%s%3N),\"message\":\"request\",\"path\":\"/api/v1/tickets\",\"n\":\$\$i}"; fi; done; echo writer-done; sleep infinity']
EOF
  done
}

up_with() {
  docker-compose -p "$project" -f "$dir/compose.yml" down -t 0 >/dev/null 2>&1 || true
  compose_file "$1" >"$dir/compose.yml"
  docker-compose -p "$project" -f "$dir/compose.yml" up -d >/dev/null 2>&1
  for c in $(docker ps -q --filter "label=com.docker.compose.project=$project"); do
    until [ "$(docker logs --tail 1 "$c" 2>&1)" = writer-done ]; do sleep 1; done
  done
}

up_with 11112
echo "lines: $(docker-compose -p "$project" -f "$dir/compose.yml" logs --no-color | grep -c ' | ')"
cd "$dir"
hyperfine --warmup 1 --runs 10 --export-markdown "$out/logs.md" \
  -n "helpdesk-doctor logs --since 10m" "$doctor --project $project logs --since 10m --color never > /dev/null" \
  -n "docker-compose logs --no-color" "docker-compose -p $project -f compose.yml logs --no-color > /dev/null"
cat "$out/logs.md"

peak() { /usr/bin/time -f '%M' "$doctor" --project "$project" logs --since 10m 2>&1 >/dev/null | tail -1; }
echo "peak RSS, 100k lines: $(peak) KiB"
up_with 44445
echo "peak RSS, 400k lines: $(peak) KiB"
