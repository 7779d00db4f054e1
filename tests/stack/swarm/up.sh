#!/usr/bin/env bash
# The bundled deployment as a Swarm stack on this engine: `docker swarm init`
# (one node, advertised on 127.0.0.1), then `docker stack deploy` of
# stack.yml as stack `helpdesk`, waited for until its 9 tasks are healthy.
# Refuses an engine already in a swarm (down.sh would take it out of it).
source "$(dirname "$0")/lib.sh"
require_engine
[ "$(swarm_state)" = inactive ] || die "this engine is already in a swarm ($(swarm_state)): the fixture would change it"
say "docker swarm init (one node)"
docker swarm init --advertise-addr 127.0.0.1 >/dev/null
say "docker stack deploy $SWARM_STACK"
docker stack deploy --resolve-image never -c "$SWARM_FILE" "$SWARM_STACK" >/dev/null
for _ in $(seq 180); do
  healthy=$(docker ps -q --filter "label=com.docker.stack.namespace=$SWARM_STACK" --filter health=healthy | wc -l)
  [ "$healthy" -ge 9 ] && break
  sleep 1
done
[ "$healthy" -ge 9 ] || die "the stack is not healthy: $(docker stack ps --no-trunc "$SWARM_STACK" | head -20)"
say "stack $SWARM_STACK up: 9 tasks healthy"
