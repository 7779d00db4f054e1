#!/usr/bin/env bash
# Builds the stack's images with no registry: helpdesk-base (debootstrap), then
# helpdesk-postgres, helpdesk-redis and helpdesk-service (Node.js) FROM it. Each image is
# rebuilt only when its inputs changed (their hash is kept in a label).
source "$(dirname "$0")/lib.sh"
require_engine

base="$("$STACK_DIR/build-base-image.sh")"

# build_image NAME CONTEXT_DIR: docker build unless the label already matches.
build_image() {
  local name="$1" context="$2" hash current
  hash="$(cd "$context" && find . -type f | sort | xargs cat | { cat; echo "$base"; } | sha256sum | cut -c1-12)"
  current="$(docker image inspect -f '{{index .Config.Labels "helpdesk.hash"}}' "$name:local" 2>/dev/null || true)"
  if [ "$current" = "$hash" ]; then return; fi
  say "building $name:local"
  docker build -q --build-arg BASE="$base" --label helpdesk.hash="$hash" -t "$name:local" "$context" >/tmp/helpdesk-build.log 2>&1 ||
    die "docker build of $name failed: $(tail -n 20 /tmp/helpdesk-build.log)"
}

build_image helpdesk-postgres "$STACK_DIR/images/postgres"
build_image helpdesk-redis "$STACK_DIR/images/redis"

build_image helpdesk-service "$STACK_DIR/images/service"
build_image helpdesk-lb "$STACK_DIR/images/lb"
