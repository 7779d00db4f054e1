#!/usr/bin/env bash
# Benchmark (not a test): one diagnose over two engines vs each engine alone,
# side by side in one hyperfine run — this machine's engine (the bundled
# stack) and the second engine over tcp+TLS (tests/stack/remote/up.sh must
# have run), `--service auth` on both, contexts made in a throwaway
# DOCKER_CONFIG. Target: two engines ≤ 1.2× the slower one alone.
source "$(dirname "$0")/lib.sh"
export DOCKER_CONFIG="$(mktemp -d)"
trap 'rm -rf "$DOCKER_CONFIG"' EXIT
certs=/tmp/helpdesk-engine2/certs
[ -f "$certs/ca.pem" ] || { echo "start the second engine first: tests/stack/remote/up.sh" >&2; exit 1; }
docker context create here --docker host=unix:///var/run/docker.sock >/dev/null
docker context create far --docker "host=tcp://127.0.0.2:23760,ca=$certs/ca.pem,cert=$certs/cert.pem,key=$certs/key.pem" >/dev/null
cd /tmp
hyperfine -N --warmup 3 --runs 30 --export-markdown "$out/engines.md" \
  -n "here alone" "$doctor --context here diagnose --service auth --no-history --format json --output /dev/null" \
  -n "far alone (tcp+TLS)" "$doctor --context far diagnose --service auth --no-history --format json --output /dev/null" \
  -n "here + far in one run" "$doctor --context here --context far diagnose --service auth --no-history --format json --output /dev/null"
cat "$out/engines.md"
