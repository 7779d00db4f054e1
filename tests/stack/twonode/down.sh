#!/usr/bin/env bash
# Removes the two-node fixture whatever state it is in — the stack, both nodes
# out of the swarm, both daemons (and whatever still runs in their
# namespaces), the namespaces and their veths, the data roots — then proves
# the machine is as up.sh found it: nothing of the fixture left, and the
# links, addresses, routes, namespaces, sysctls, iptables rules and the first
# engine's `docker info` and networks the same as before (lib.sh's
# machine_state). Exits non-zero, saying what differs, if not.
source "$(dirname "$0")/lib.sh"
set +e
alive() { node "$1" docker version >/dev/null 2>&1; }
if alive a && [ "$(node a docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; then
  timeout 30 docker -H "$(node_socket a)" stack rm "$TWONODE_STACK" >/dev/null 2>&1
fi
for n in b a; do
  alive "$n" && timeout 30 docker -H "$(node_socket "$n")" swarm leave --force >/dev/null 2>&1
done
# ns_processes N: every process in node N's namespace (its dockerd, containerd,
# shims) and every descendant of them (the containers, in namespaces of their own).
ns_processes() {
  local roots
  roots=$(ip netns pids "hd2n-$1" 2>/dev/null | xargs)
  [ -n "$roots" ] || return 0
  ps -e -o pid=,ppid= | awk -v roots="$roots" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2 }
    END { do { grew = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 } } while (grew)
          for (p in keep) print p }'
}
# stop_daemon N: SIGTERM to its dockerd (by its pidfile: it stops its
# containers and containerd), then to whatever still runs of it, SIGKILL last.
stop_daemon() {
  local n=$1 pid pids
  pid=$(cat "$TWONODE_RUN/$n/docker.pid" 2>/dev/null)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  for _ in $(seq 100); do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  for signal in TERM KILL; do
    pids=$(ns_processes "$n" | xargs)
    [ -z "$pids" ] && break
    kill -s "$signal" $pids 2>/dev/null
    for _ in $(seq 40); do [ -z "$(ns_processes "$n")" ] && break; sleep 0.25; done
  done
}
for n in "${TWONODE_NODES[@]}"; do stop_daemon "$n" & done
wait
for ns in "${TWONODE_NETNS[@]}"; do [ ! -e "/run/netns/$ns" ] || ip netns delete "$ns"; done
ip link show "$TWONODE_HOST_LINK" >/dev/null 2>&1 && ip link delete "$TWONODE_HOST_LINK"
grep -oE " ($TWONODE_RUN|$TWONODE_DATA)[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l
rm -rf "$TWONODE_RUN" "$TWONODE_DATA"
set -e

left="$(fixture_leftovers)"
[ -z "$left" ] || die "the fixture is not all gone:
$left"
if [ -f "$TWONODE_BEFORE" ]; then
  # Links come and go for a moment after a namespace is deleted.
  for _ in $(seq 20); do
    diff <(cat "$TWONODE_BEFORE") <(machine_state) >/dev/null && break
    sleep 0.5
  done
  if ! changed="$(diff "$TWONODE_BEFORE" <(machine_state))"; then
    die "the machine is not as it was before up.sh (< before, > now):
$changed"
  fi
  rm -f "$TWONODE_BEFORE"
  say "two-node fixture removed; the machine is as before (links, addresses, routes, namespaces, sysctls, iptables, the first engine)"
else
  say "two-node fixture removed (no state from up.sh to compare with)"
fi
