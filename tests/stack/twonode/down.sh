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
