#!/usr/bin/env bash
# A second Docker engine on this machine, as a remote one is reached: dockerd
# listening on tcp://127.0.0.2:23760 with TLS (a CA, server and client
# certificates made here, and a second CA that signed nothing of it), its own
# data, exec root, pidfile and default bridge, no iptables; the helpdesk
# images loaded into it (no registry) and a small deployment
# (tests/stack/remote/docker-compose.yml, project `remote`) started on it.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || die "openssl is not installed"
"$STACK_DIR/remote/down.sh" >/dev/null 2>&1 || true
mkdir -p "$REMOTE_DIR"/{certs,server,wrong-ca}
cd "$REMOTE_DIR"

# ca NAME DIR: a CA in DIR (ca.pem, ca-key.pem).
ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$2/ca-key.pem" -out "$2/ca.pem" 2>/dev/null; }
# signed CA_DIR CN EXT KEY CERT: a key and a certificate signed by the CA in CA_DIR.
signed() {
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$4" -out "$4.csr" 2>/dev/null
  openssl x509 -req -in "$4.csr" -CA "$1/ca.pem" -CAkey "$1/ca-key.pem" -CAcreateserial -days 2 \
    -extfile <(printf '%b' "$3") -out "$5" 2>/dev/null
  rm -f "$4.csr"
}
say "making the second engine's certificates"
ca helpdesk-test-ca certs
signed certs "$REMOTE_HOST" "subjectAltName=IP:$REMOTE_HOST\nextendedKeyUsage=serverAuth" server/key.pem server/cert.pem
signed certs client "extendedKeyUsage=clientAuth" certs/key.pem certs/cert.pem
# The same client certificate, but a CA the engine's certificate is not signed by.
ca helpdesk-wrong-ca wrong-ca
cp certs/cert.pem certs/key.pem wrong-ca/
chmod 600 certs/*key.pem server/key.pem wrong-ca/*key.pem

# Its own default bridge: with --bridge=none, dockerd deletes the interface
# named docker0 at start — the first engine's.
ip link add "$REMOTE_BRIDGE" type bridge
ip addr add 172.31.250.1/24 dev "$REMOTE_BRIDGE"
ip link set "$REMOTE_BRIDGE" up
say "starting the second engine on $REMOTE_ENDPOINT (TLS)"
echo '{"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}' >daemon.json
dockerd --config-file "$REMOTE_DIR/daemon.json" -H "$REMOTE_ENDPOINT" \
  --tlsverify --tlscacert certs/ca.pem --tlscert server/cert.pem --tlskey server/key.pem \
  --data-root "$REMOTE_DIR/data" --exec-root "$REMOTE_DIR/exec" --pidfile "$REMOTE_DIR/docker.pid" \
  --bridge "$REMOTE_BRIDGE" --iptables=false --ip-masq=false >"$REMOTE_DIR/dockerd.log" 2>&1 &
for _ in $(seq 60); do remote docker version >/dev/null 2>&1 && break; sleep 0.5; done
remote docker version >/dev/null 2>&1 || die "the second engine did not start: $(tail -5 "$REMOTE_DIR/dockerd.log")"

say "loading the images into the second engine"
docker save helpdesk-postgres:local helpdesk-redis:local helpdesk-service:local | remote docker load -q >/dev/null
iptables -C "${FORWARD_RULE[@]}" 2>/dev/null || iptables -I "${FORWARD_RULE[@]}"
say "starting the deployment on it (project remote)"
remote docker-compose -p remote -f "$REMOTE_COMPOSE" up -d >/dev/null 2>&1 ||
  die "compose up on the second engine failed: $(remote docker-compose -p remote -f "$REMOTE_COMPOSE" up -d 2>&1 | tail -5)"
for _ in $(seq 120); do
  healthy=$(remote docker ps --filter health=healthy -q | wc -l)
  [ "$healthy" -ge 3 ] && break
  sleep 1
done
[ "$healthy" -ge 3 ] || die "the remote deployment is not healthy: $(remote docker ps -a)"
say "second engine up: $REMOTE_ENDPOINT, 3 containers healthy"
