#!/usr/bin/env bash
# Benchmark (not a test), release build, each side by side with its baseline
# in this one script run:
#  1. `diagnose` on the bundled stack over the two-node Swarm
#     (tests/stack/twonode, node-b's engine named in the config) vs the same
#     stack on a one-node Swarm — node-b taken out of the same swarm, every
#     task on node-a — (target ≤ 1.3×); the fixture is removed after, with
#     its proof;
#  2. `diagnose` of the bundled stack (tests/stack/up.sh, left as it is)
#     through an ssh engine (an sshd of this script's own on loopback, key
#     auth, ~/.ssh bound in a mount namespace of the doctor's) vs through the
#     engine's unix socket, both under the same wrapper (target ≤ 1.5×).
source "$(dirname "$0")/lib.sh"
source tests/stack/twonode/lib.sh
export HELPDESK_DOCTOR_STATE_DIR="$(mktemp -d)"
work="$(mktemp -d)"
sshd_pid=""
made_privsep=""
cleanup() {
  [ -z "$sshd_pid" ] || { kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null || true; }
  [ -z "$made_privsep" ] || rmdir /run/sshd 2>/dev/null || true
  rm -rf "$HELPDESK_DOCTOR_STATE_DIR" "$work"
  tests/stack/twonode/down.sh
}
trap cleanup EXIT
runs=20

# 1. Two nodes vs one.
tests/stack/twonode/up.sh
printf '[[engines]]\nname = "node-b"\nnode = "node-b"\nhost = "%s"\n' "$(node_socket b)" >"$work/twonode.toml"
two_nodes() {
  (cd /tmp && DOCKER_HOST="$(node_socket a)" hyperfine -N --warmup 3 --runs "$runs" \
    --export-json "$out/twonode-$1.json" -n "$1" \
    "$doctor --config $work/twonode.toml diagnose --skip logs.*,host.load --no-history --format json --output /dev/null")
}
sleep 10
two_nodes two-nodes
say "node-b out of the swarm; every task on node-a"
node b docker swarm leave --force >/dev/null
for _ in $(seq 60); do
  [ "$(node a docker node inspect --format '{{.Status.State}}' node-b 2>/dev/null)" = down ] && break
  sleep 1
done
node a docker node rm --force node-b >/dev/null
node a docker stack deploy --resolve-image never -c "$STACK_DIR/swarm/stack.yml" "$TWONODE_STACK" >/dev/null
for _ in $(seq 240); do
  healthy=$(node a docker ps -q --filter "label=com.docker.stack.namespace=$TWONODE_STACK" --filter health=healthy | wc -l)
  [ "$healthy" -ge 9 ] && break
  sleep 1
done
[ "$healthy" -ge 9 ] || die "the one-node stack is not healthy"
sleep 10
two_nodes one-node

# 2. ssh vs the unix socket.
[ -x /usr/sbin/sshd ] || die "sshd missing: apt-get install openssh-server"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/home"
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/home/id_ed25519"
cp "$work/home/id_ed25519.pub" "$work/authorized_keys"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/home/known_hosts"
printf 'Host 127.0.0.1\n  IdentityFile %s/id_ed25519\n  IdentitiesOnly yes\n  UserKnownHostsFile %s/known_hosts\n  StrictHostKeyChecking yes\n' \
  "$work/home" "$work/home" >"$work/home/config"
printf 'Port %s\nListenAddress 127.0.0.1\nHostKey %s/host_key\nPidFile %s/sshd.pid\nAuthorizedKeysFile %s/authorized_keys\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nAllowUsers root\n' \
  "$port" "$work" "$work" "$work" >"$work/sshd_config"
[ -d /run/sshd ] || { mkdir /run/sshd && made_privsep=1; }
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
# The doctor with this sshd's client side as ~/.ssh, in a mount namespace of its own.
printf '#!/usr/bin/env bash\nmount --bind %s "$HOME/.ssh" && exec "$@"\n' "$work/home" >"$work/as-user"
chmod +x "$work/as-user"
wrapped="unshare --mount --propagation private -- $work/as-user $doctor --project helpdesk-microservices diagnose --skip logs.*,host.load --no-history --format json --output /dev/null"
(cd /tmp && hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/ssh.json" \
  -n unix-socket "env DOCKER_HOST=unix:///var/run/docker.sock $wrapped" \
  -n ssh "env DOCKER_HOST=ssh://root@127.0.0.1:$port $wrapped")
pgrep -f ControlPersist && die "an ssh master was left running"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def load(name):
    return {r["command"]: r for r in json.load(open(f"{out}/{name}.json"))["results"]}
nodes = {**load("twonode-two-nodes"), **load("twonode-one-node")}
ssh = load("ssh")
for table in (nodes, ssh):
    for k, r in table.items():
        print(f"| {k} | {r['mean']*1000:.1f} ± {r['stddev']*1000:.1f} ms | median {r['median']*1000:.1f} ms |")
print(f"two nodes / one node (means): {nodes['two-nodes']['mean'] / nodes['one-node']['mean']:.2f}x")
print(f"ssh / unix socket (means): {ssh['ssh']['mean'] / ssh['unix-socket']['mean']:.2f}x")
PY
