#!/usr/bin/env bash
# Benchmark (not a test): what saving each run in the history costs —
# `diagnose` vs `diagnose --no-history`, side by side in one hyperfine run on
# the healthy bundled stack (release build), in a throwaway state folder.
source "$(dirname "$0")/lib.sh"
export HELPDESK_DOCTOR_STATE_DIR="$(mktemp -d)"
trap 'rm -rf "$HELPDESK_DOCTOR_STATE_DIR"' EXIT
cd /tmp
hyperfine -N --warmup 3 --runs 40 --export-markdown "$out/history.md" \
  -n "diagnose (saves the run)" "$doctor diagnose --format json --output /dev/null" \
  -n "diagnose --no-history" "$doctor diagnose --format json --output /dev/null --no-history"
cat "$out/history.md"
