#!/usr/bin/env bash
# Brings the production-shaped fixture up the way its operators would: plain
# `docker-compose up -d` in this folder (the project is named after it), then
# waits until its 12 containers are healthy (the load balancer: running).
# Its ports 3001–3003 are the bundled stack's too: bring that one down first.
source "$(dirname "$0")/../lib.sh"
require_engine
"$STACK_DIR/build-images.sh"
cd "$STACK_DIR/prod"

say "starting the production-shaped fixture (compose project $(basename "$PWD"))"
docker-compose up -d --remove-orphans >/dev/null 2>&1 || docker-compose up -d --remove-orphans

deadline=$((SECONDS + ${STACK_UP_TIMEOUT:-180}))
while :; do
  ids="$(docker-compose ps -q)"
  total="$(wc -w <<<"$ids")"
  waiting="$(docker inspect -f '{{.Name}}={{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' $ids |
    grep -vE '=(healthy|running)$' || true)"
  [ "$total" -ge 12 ] && [ -z "$waiting" ] && break
  if ((SECONDS > deadline)); then
    docker-compose ps >&2
    die "fixture not healthy after ${STACK_UP_TIMEOUT:-180}s: $total containers; ${waiting//$'\n'/ }"
  fi
  sleep 1
done
say "all $total containers healthy"
