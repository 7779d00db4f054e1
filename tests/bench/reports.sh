#!/usr/bin/env bash
# Benchmark (not a test): `diagnose` writing four machine reports beside the
# human summary vs `diagnose --format json` alone, side by side in one hyperfine
# run on the healthy bundled stack (release build).
source "$(dirname "$0")/lib.sh"
reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
cd /tmp   # no compose file here: the project comes from the engine
hyperfine -N --warmup 3 --runs 40 --export-markdown "$out/reports.md" \
  -n "diagnose --format json" "$doctor diagnose --format json --output /dev/null" \
  -n "diagnose + 4 reports (json, junit, prometheus, tap)" \
  "$doctor diagnose --output /dev/null --report json=$reports/a.json --report junit=$reports/b.xml --report prometheus=$reports/c.prom --report tap=$reports/d.tap"
cat "$out/reports.md"
