#!/usr/bin/env bash
# Tears the foreign fixture down. `--volumes` also deletes its volumes.
source "$(dirname "$0")/../lib.sh"
require_engine
cd "$STACK_DIR/foreign"
case "${1:-}" in
  "") docker-compose down --remove-orphans ;;
  --volumes | -v) docker-compose down --remove-orphans --volumes ;;
  *) die "usage: $0 [--volumes]" ;;
esac
