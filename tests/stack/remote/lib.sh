# Shared by the second engine's scripts: sourced, never run.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
REMOTE_DIR=/tmp/helpdesk-engine2
REMOTE_HOST=127.0.0.2
REMOTE_PORT=23760
REMOTE_ENDPOINT="tcp://$REMOTE_HOST:$REMOTE_PORT"
REMOTE_COMPOSE="$STACK_DIR/remote/docker-compose.yml"
# The second engine's default bridge (docker0 is the first engine's).
REMOTE_BRIDGE=hd-engine2
# The client's view of the second engine (the docker CLI and compose honour
# these; Debian's docker-compose v1 verifies the engine against
# REQUESTS_CA_BUNDLE, not the ca.pem of DOCKER_CERT_PATH).
remote() {
  DOCKER_HOST="$REMOTE_ENDPOINT" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$REMOTE_DIR/certs" \
    REQUESTS_CA_BUNDLE="$REMOTE_DIR/certs/ca.pem" "$@"
}
# Lets the second engine's containers talk to each other across its bridge
# (the host's FORWARD policy, set by the first engine, is DROP).
FORWARD_RULE=(FORWARD -i hd-remote0 -o hd-remote0 -j ACCEPT)
