#!/usr/bin/env bash
# Brings the bundled helpdesk stack up (building images if needed) and waits
# until all 9 containers are healthy. Idempotent.
source "$(dirname "$0")/lib.sh"
require_engine
"$STACK_DIR/build-images.sh"

say "starting the stack (compose project $COMPOSE_PROJECT)"
compose up -d --remove-orphans >/dev/null 2>&1 || compose up -d --remove-orphans

deadline=$((SECONDS + ${STACK_UP_TIMEOUT:-180}))
while :; do
  waiting=()
  for svc in auth user ticket; do
    for role in db redis service; do
      name="helpdesk-$svc-$role"
      status="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$name" 2>/dev/null || echo missing)"
      [ "$status" = healthy ] || waiting+=("$name=$status")
    done
  done
  ((${#waiting[@]} == 0)) && break
  if ((SECONDS > deadline)); then
    compose ps >&2
    die "stack not healthy after ${STACK_UP_TIMEOUT:-180}s: ${waiting[*]}"
  fi
  sleep 1
done
say "all 9 containers healthy"
