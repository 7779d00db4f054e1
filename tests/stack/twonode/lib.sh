# Shared by the two-node fixture's scripts: sourced, never run.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# Two dockerd, each in a network namespace of its own (hd2n-a, hd2n-b), joined
# by a bridge in a third one (hd2n-sw) that the host reaches through one veth:
# bridged traffic between the nodes never crosses the host's FORWARD chain.
TWONODE_RUN=/run/helpdesk-twonode
TWONODE_DATA=/var/lib/helpdesk-twonode
TWONODE_NETNS=(hd2n-a hd2n-b hd2n-sw)
TWONODE_NODES=(a b)
# The link between the host and the nodes: the host's end and each node's address.
TWONODE_HOST_LINK=hd2n-h
TWONODE_HOST_ADDR=10.231.0.1
declare -A TWONODE_ADDR=([a]=10.231.0.2 [b]=10.231.0.3)
# Each daemon's default bridge, inside its namespace (never docker0).
TWONODE_BRIDGE=hd2n-br
declare -A TWONODE_BIP=([a]=172.31.231.1/24 [b]=172.31.232.1/24)
TWONODE_STACK=helpdesk
TWONODE_FILES=(-c "$STACK_DIR/swarm/stack.yml" -c "$STACK_DIR/twonode/placement.yml")
TWONODE_IMAGES=(helpdesk-postgres:local helpdesk-redis:local helpdesk-service:local)
# What up.sh saw of the machine before it changed anything; down.sh compares.
TWONODE_BEFORE=/var/tmp/helpdesk-twonode-before

node_socket() { echo "unix://$TWONODE_RUN/$1.sock"; }
# node a|b docker ARGS…: the docker CLI on that node's engine.
node() { local n=$1; shift; DOCKER_HOST="$(node_socket "$n")" "$@"; }

# start_daemon N: dockerd of node N in its network namespace, with mount and
# UTS namespaces of its own: its hostname is the swarm node's name; /sys is
# its network namespace's (the cgroup hierarchies bound back in), and its
# mounts never reach the host's. Detached, holding none of the caller's file
# descriptors (a caller under flock would have its lock held by the daemon).
start_daemon() {
  local n=$1 dir="$TWONODE_RUN/$1"
  mkdir -p "$dir/cgroup" "$TWONODE_DATA/$n"
  # Its own config file: the first engine's /etc/docker/daemon.json is not for it.
  echo '{"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}' >"$dir/daemon.json"
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-"; fi
    done
    exec setsid nsenter --net="/run/netns/hd2n-$n" unshare --uts --mount --propagation slave -- \
      bash -c 'hostname "$1" && mount --rbind /sys/fs/cgroup "$2" && mount -t sysfs sysfs /sys &&
               mount --rbind "$2" /sys/fs/cgroup && shift 2 && exec "$@"' _ "node-$n" "$dir/cgroup" \
      dockerd --config-file "$dir/daemon.json" --host "$(node_socket "$n")" --data-root "$TWONODE_DATA/$n/data" \
      --exec-root "$dir/exec" --pidfile "$dir/docker.pid" --bridge "$TWONODE_BRIDGE" \
      </dev/null >"$TWONODE_DATA/$n/dockerd.log" 2>&1
  ) &
}
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
# wait_engine N: until node N's engine answers (or fail, with its log's end).
wait_engine() {
  local n=$1
  for _ in $(seq 80); do node "$n" docker version >/dev/null 2>&1 && return 0; sleep 0.25; done
  die "node-$n's engine did not start: $(tail -5 "$TWONODE_DATA/$n/dockerd.log")"
}

# The machine as the fixture must leave it, one fact a line. Left out: the
# first engine's own links and rules (veth*, br-*, docker0, its DOCKER chains
# and per-container NAT) and the second engine's of tests/stack/remote
# (hd-engine2, hd-remote0), which other users of those engines add and remove
# at any time. The rest must be the same, and nothing may name the fixture's
# links, namespaces or addresses (fixture_leftovers).
OTHERS_LINKS='veth[0-9a-f]+|br-[0-9a-f]{12}|docker0|hd-engine2|hd-remote0'
machine_state() {
  echo "## links"
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -Ev "^($OTHERS_LINKS)$" | sort
  echo "## addresses"
  ip -o addr show | awk '{print $2, $3, $4}' | grep -Ev "^($OTHERS_LINKS) " | sort
  echo "## routes"
  ip route show | grep -Ev " dev ($OTHERS_LINKS) " | sort
  echo "## namespaces"
  ip netns list | sort
  echo "## sysctls"
  sysctl net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables 2>/dev/null
  local save
  for save in iptables-save iptables-legacy-save ip6tables-save; do
    command -v "$save" >/dev/null || continue
    echo "## $save"
    "$save" 2>/dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//' |
      grep -Ev "DOCKER|$OTHERS_LINKS|-s 172\.[0-9.]+/32 -d 172\." || true
  done
  echo "## first engine"
  docker info --format 'id={{.ID}} name={{.Name}} swarm={{.Swarm.LocalNodeState}} node={{.Swarm.NodeID}} root={{.DockerRootDir}} driver={{.Driver}} cgroup={{.CgroupDriver}} version={{.ServerVersion}}'
  docker network ls --format '{{.Name}} {{.Driver}} {{.Scope}}' | grep -E '^(bridge|host|none|ingress|docker_gwbridge) ' | sort
}

# Whatever of the fixture is still on the machine, one thing a line (empty: nothing).
fixture_leftovers() {
  local ns
  for ns in "${TWONODE_NETNS[@]}"; do [ ! -e "/run/netns/$ns" ] || echo "namespace $ns"; done
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^hd2n' | sed 's/^/link /' || true
  ip -o addr show | grep -F ' 10.231.0.' | awk '{print "address", $4, "on", $2}' || true
  local save
  for save in iptables-save iptables-legacy-save; do
    command -v "$save" >/dev/null || continue
    "$save" 2>/dev/null | grep -E 'hd2n|10\.231\.' | sed "s/^/$save rule /" || true
  done
  grep -E " ($TWONODE_RUN|$TWONODE_DATA)" /proc/mounts | awk '{print "mount", $2}' || true
  [ ! -e "$TWONODE_RUN" ] || echo "folder $TWONODE_RUN"
  [ ! -e "$TWONODE_DATA" ] || echo "folder $TWONODE_DATA"
  local pid
  for pid in $(pgrep -f -- "$TWONODE_RUN|$TWONODE_DATA" || true); do
    [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] || echo "process $pid $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-120)"
  done
}
