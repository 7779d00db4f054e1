#!/usr/bin/env bash
# A Swarm of two nodes on this machine, the first engine untouched: two new
# dockerd, each in a network namespace of its own (hd2n-a at 10.231.0.2,
# hd2n-b at 10.231.0.3, hostnames node-a and node-b), with its own data root,
# exec root, pidfile, socket ($TWONODE_RUN/a.sock, b.sock) and default bridge
# (hd2n-br, inside its namespace). The namespaces meet on a bridge in a third
# namespace, which the host reaches through the veth hd2n-h (10.231.0.1).
# Each daemon keeps Docker's iptables rules on: they are written in its own
# namespace's tables, never the host's (down.sh proves it). `swarm init` on
# node-a, `swarm join` from node-b over the link, the bundled images copied
# from the first engine (docker save | docker load), then the bundled stack
# (tests/stack/swarm/stack.yml with placement.yml: user-db and user-redis on
# node-b) deployed as stack `helpdesk`, waited for until its 9 tasks run healthy.
source "$(dirname "$0")/lib.sh"
require_engine
for image in "${TWONODE_IMAGES[@]}"; do
  image_exists "$image" || die "image $image is missing on the first engine: run tests/stack/up.sh first"
done
"$STACK_DIR/twonode/down.sh" >/dev/null 2>&1 || true
[ -z "$(fixture_leftovers)" ] || die "the last fixture is still there: $(fixture_leftovers | head -5)"
machine_state >"$TWONODE_BEFORE.tmp" && mv "$TWONODE_BEFORE.tmp" "$TWONODE_BEFORE"
mkdir -p "$TWONODE_RUN" "$TWONODE_DATA"

say "network namespaces ${TWONODE_NETNS[*]} and their links"
for ns in "${TWONODE_NETNS[@]}"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n hd2n-sw link add sw type bridge
ip -n hd2n-sw link set sw up
ip link add "$TWONODE_HOST_LINK" type veth peer name uplink netns hd2n-sw
ip -n hd2n-sw link set uplink master sw up
ip addr add "$TWONODE_HOST_ADDR/24" dev "$TWONODE_HOST_LINK"
ip link set "$TWONODE_HOST_LINK" up
for n in "${TWONODE_NODES[@]}"; do
  ip -n hd2n-sw link add "to-$n" type veth peer name eth0 netns "hd2n-$n"
  ip -n hd2n-sw link set "to-$n" master sw up
  ip -n "hd2n-$n" addr add "${TWONODE_ADDR[$n]}/24" dev eth0
  ip -n "hd2n-$n" link set eth0 up
  ip -n "hd2n-$n" route add default via "$TWONODE_HOST_ADDR"
  ip -n "hd2n-$n" link add "$TWONODE_BRIDGE" type bridge
  ip -n "hd2n-$n" addr add "${TWONODE_BIP[$n]}" dev "$TWONODE_BRIDGE"
  ip -n "hd2n-$n" link set "$TWONODE_BRIDGE" up
done

say "starting node-a and node-b's engines"
for n in "${TWONODE_NODES[@]}"; do start_daemon "$n"; done
for n in "${TWONODE_NODES[@]}"; do wait_engine "$n"; done

say "copying the bundled images into both engines"
docker save -o "$TWONODE_DATA/images.tar" "${TWONODE_IMAGES[@]}"
loads=()
for n in "${TWONODE_NODES[@]}"; do
  node "$n" docker load -q -i "$TWONODE_DATA/images.tar" >/dev/null &
  loads+=($!)
done
for load in "${loads[@]}"; do wait "$load" || die "docker load into a node failed"; done
rm -f "$TWONODE_DATA/images.tar"

say "swarm init on node-a (${TWONODE_ADDR[a]}), join from node-b (${TWONODE_ADDR[b]})"
node a docker swarm init --advertise-addr "${TWONODE_ADDR[a]}" --listen-addr "${TWONODE_ADDR[a]}:2377" \
  --default-addr-pool 10.232.0.0/16 >/dev/null
token=$(node a docker swarm join-token -q worker)
node b docker swarm join --token "$token" --advertise-addr "${TWONODE_ADDR[b]}" \
  --listen-addr "${TWONODE_ADDR[b]}:2377" "${TWONODE_ADDR[a]}:2377" >/dev/null
for _ in $(seq 60); do
  ready=$(node a docker node ls --format '{{.Status}}' | grep -c Ready || true)
  [ "$ready" -ge 2 ] && break
  sleep 0.5
done
[ "$ready" -ge 2 ] || die "node-b did not join: $(node a docker node ls)"

say "docker stack deploy $TWONODE_STACK over both nodes"
node a docker stack deploy --resolve-image never "${TWONODE_FILES[@]}" "$TWONODE_STACK" >/dev/null
for _ in $(seq 240); do
  healthy=0
  for n in "${TWONODE_NODES[@]}"; do
    count=$(node "$n" docker ps -q --filter "label=com.docker.stack.namespace=$TWONODE_STACK" --filter health=healthy | wc -l)
    healthy=$((healthy + count))
  done
  [ "$healthy" -ge 9 ] && break
  sleep 1
done
[ "$healthy" -ge 9 ] || die "the stack is not healthy: $(node a docker stack ps --no-trunc "$TWONODE_STACK" | head -20)"
say "stack $TWONODE_STACK up on two nodes: $(node a docker stack ps --filter desired-state=running --format '{{.Node}}' "$TWONODE_STACK" | sort | uniq -c | xargs)"
