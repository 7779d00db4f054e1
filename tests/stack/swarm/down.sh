#!/usr/bin/env bash
# Removes the Swarm fixture and leaves the engine as it was before up.sh: the
# stack and its containers, its volumes, the swarm (leave --force), the
# docker_gwbridge network swarm mode made; then checks that nothing is left.
source "$(dirname "$0")/lib.sh"
if [ "$(swarm_state)" = active ]; then
  docker stack rm "$SWARM_STACK" >/dev/null 2>&1 || true
  # Leaving while the stack's overlay network is still being torn down strands
  # an endpoint on docker_gwbridge that only a daemon restart clears: wait for
  # the containers *and* the stack's networks to be gone first.
  for _ in $(seq 90); do
    [ -z "$(stack_containers)" ] && [ -z "$(stack_networks)" ] && break
    sleep 1
  done
  sleep 2
  docker swarm leave --force >/dev/null
  for _ in $(seq 30); do docker network inspect ingress >/dev/null 2>&1 || break; sleep 1; done
fi
left="$(stack_containers)"
[ -z "$left" ] || docker rm -f -v $left >/dev/null
for _ in $(seq 30); do docker network inspect docker_gwbridge >/dev/null 2>&1 || break
  docker network rm docker_gwbridge >/dev/null 2>&1 || sleep 1; done
volumes="$(docker volume ls -q --filter "label=com.docker.stack.namespace=$SWARM_STACK")"
[ -z "$volumes" ] || docker volume rm $volumes >/dev/null
[ "$(swarm_state)" = inactive ] || die "the engine is still in a swarm"
! docker network inspect docker_gwbridge >/dev/null 2>&1 ||
  die "docker_gwbridge is still there (an endpoint stranded by leaving the swarm: restart dockerd, then docker network rm docker_gwbridge)"
! docker network inspect ingress >/dev/null 2>&1 || die "the ingress network is still there"
[ -z "$(stack_containers)" ] || die "containers of the stack are still there"
ip link show docker0 >/dev/null 2>&1 || die "docker0 is gone"
