#!/usr/bin/env bash
# Tears the bundled stack down. `--volumes` also deletes the database volumes.
source "$(dirname "$0")/lib.sh"
require_engine
case "${1:-}" in
  "") compose down --remove-orphans ;;
  --volumes | -v) compose down --remove-orphans --volumes ;;
  *) die "usage: $0 [--volumes]" ;;
esac
