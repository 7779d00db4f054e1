# Shared helpers for the stack scripts: sourced, never run.
set -euo pipefail

STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$STACK_DIR/../.." && pwd)"
COMPOSE_FILE="$STACK_DIR/docker-compose.services.yml"
COMPOSE_PROJECT=helpdesk-microservices

die() { echo "error: $*" >&2; exit 1; }
say() { echo "==> $*" >&2; }

compose() { docker-compose -p "$COMPOSE_PROJECT" -f "$COMPOSE_FILE" "$@"; }

require_engine() {
  command -v docker >/dev/null || die "the docker client is not installed"
  command -v docker-compose >/dev/null || die "docker-compose is not installed (apt-get install docker-compose)"
  docker info >/dev/null 2>&1 ||
    die "Docker engine not reachable at ${DOCKER_HOST:-unix:///var/run/docker.sock}: $(docker info 2>&1 | tail -n 1)"
}

# A short content hash of the given files (sorted, so order does not matter).
content_hash() { cat "$@" | sha256sum | cut -c1-12; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
