#!/usr/bin/env bash
# Benchmark (not a test): what discovery costs — `diagnose` with the project
# found on the engine vs named with --project, side by side in one hyperfine run
# on the healthy bundled stack (release build). Both list the engine's
# containers once to find the services' containers by their labels.
source "$(dirname "$0")/lib.sh"
cd /tmp   # no compose file here: the project comes from the engine
hyperfine --warmup 3 --runs 40 --export-markdown "$out/discovery.md" \
  -n "diagnose, project found on the engine" "$doctor diagnose --format json --output /dev/null" \
  -n "diagnose --project helpdesk-microservices" "$doctor diagnose --format json --output /dev/null --project helpdesk-microservices"
cat "$out/discovery.md"
