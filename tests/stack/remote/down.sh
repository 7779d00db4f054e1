#!/usr/bin/env bash
# Stops the second engine (tests/stack/remote/up.sh) and removes everything it
# made: the deployment, the daemon, its mounts, its folder. Says what is left.
source "$(dirname "$0")/lib.sh"
if [ -f "$REMOTE_DIR/docker.pid" ]; then
  remote docker-compose -p remote -f "$REMOTE_COMPOSE" down -v -t 2 >/dev/null 2>&1 || true
  pid=$(cat "$REMOTE_DIR/docker.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
fi
while iptables -C "${FORWARD_RULE[@]}" 2>/dev/null; do iptables -D "${FORWARD_RULE[@]}"; done
# Mounts the daemon left (overlays, network namespaces), deepest first.
grep -o " $REMOTE_DIR[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
rm -rf "$REMOTE_DIR"
if pgrep -f "dockerd.*$REMOTE_DIR" >/dev/null; then die "the second engine is still running"; fi
for bridge in hd-remote0 "$REMOTE_BRIDGE"; do
  if ip link show "$bridge" >/dev/null 2>&1; then ip link delete "$bridge"; fi
done
# The first engine must be as it was: its default bridge untouched.
ip link show docker0 >/dev/null 2>&1 || die "docker0 is gone: the first engine's default bridge was removed"
