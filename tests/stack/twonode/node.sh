#!/usr/bin/env bash
# Stops or starts one node's engine of the two-node fixture (tests use it to
# take node-b down and bring it back): node.sh stop|start a|b.
source "$(dirname "$0")/lib.sh"
case "${1:-}/${2:-}" in
  stop/a | stop/b) stop_daemon "$2" ;;
  start/a | start/b) start_daemon "$2" && wait_engine "$2" ;;
  *) die "usage: node.sh stop|start a|b" ;;
esac
