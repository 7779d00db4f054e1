#!/usr/bin/env bash
# Benchmark (not a test): `fix --yes ticket` after stopping ticket-db and
# ticket-service, to healthy, vs the bare sequence an operator would type
# (docker start db, wait healthy, docker start app, wait healthy), 5 runs each
# in one hyperfine run on the bundled stack (release build).
source "$(dirname "$0")/lib.sh"
stop='docker stop -t 3 helpdesk-ticket-service helpdesk-ticket-db >/dev/null'
wait_healthy='until [ "$(docker inspect -f "{{.State.Health.Status}}" $c)" = healthy ]; do sleep 0.1; done'
bare="c=helpdesk-ticket-db; docker start \$c >/dev/null; $wait_healthy; c=helpdesk-ticket-service; docker start \$c >/dev/null; $wait_healthy"
hyperfine --runs 5 --prepare "$stop" --export-markdown "$out/fix.md" \
  -n "helpdesk-doctor fix --yes ticket" "$doctor fix --yes ticket >/dev/null" \
  -n "docker start db, wait healthy, docker start app, wait healthy" "bash -c '$bare'"
cat "$out/fix.md"
