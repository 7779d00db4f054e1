#!/usr/bin/env bash
# Brings the foreign fixture up the way its team would: `docker-compose up -d`
# in this folder (the project is named after it: `foreign`), then waits until
# its 9 containers are healthy. It runs beside the bundled stack: it publishes
# only its applications' HTTP ports (4101-4103), so each deployment's ports
# are the other's trap. Its image (Python from Debian's packages) is built
# FROM the bundled base image, rebuilt only when its files change.
source "$(dirname "$0")/../lib.sh"
require_engine
"$STACK_DIR/build-images.sh"
base="$("$STACK_DIR/build-base-image.sh")"
cd "$STACK_DIR/foreign"

image=helpdesk-foreign-app:local
hash="$(cd app && find . -type f | sort | xargs cat | { cat; echo "$base"; } | sha256sum | cut -c1-12)"
if [ "$(docker image inspect -f '{{index .Config.Labels "helpdesk.hash"}}' "$image" 2>/dev/null || true)" != "$hash" ]; then
  say "building $image (apt-get install python3-flask python3-psycopg2 python3-redis gunicorn)"
  docker build -q --build-arg BASE="$base" --label helpdesk.hash="$hash" -t "$image" app >/tmp/helpdesk-foreign-build.log 2>&1 ||
    die "docker build of $image failed: $(tail -n 20 /tmp/helpdesk-foreign-build.log)"
fi

say "starting the foreign fixture (compose project $(basename "$PWD"))"
# Compose waits for the databases' health before starting the applications
# (depends_on: service_healthy); on a loaded machine that may outlast its own
# patience: then again, until the deadline below.
docker-compose up -d --remove-orphans >/dev/null 2>&1 || true

deadline=$((SECONDS + ${STACK_UP_TIMEOUT:-300}))
while :; do
  ids="$(docker-compose ps -q)"
  total="$(wc -w <<<"$ids")"
  # shellcheck disable=SC2086
  waiting="$(docker inspect -f '{{.Name}}={{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' $ids |
    grep -vE '=healthy$' || true)"
  [ "$total" -ge 9 ] && [ -z "$waiting" ] && break
  if [ "$total" -lt 9 ]; then docker-compose up -d >/dev/null 2>&1 || true; fi
  if ((SECONDS > deadline)); then
    docker-compose ps >&2
    docker-compose logs --tail=15 >&2 || true
    die "foreign fixture not healthy after ${STACK_UP_TIMEOUT:-300}s: $total containers; ${waiting//$'\n'/ }"
  fi
  sleep 1
done
say "all $total containers healthy"
