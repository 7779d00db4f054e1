#!/usr/bin/env bash
# Benchmark (not a test): `diagnose` on the healthy stack vs the guide's
# sequential diagnosis, then with three hung endpoints vs curl in sequence.
# Needs the stack up (tests/stack/up.sh) and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release
doctor=target/release/helpdesk-doctor
out=target/bench
mkdir -p "$out"

echo "== healthy stack: diagnose (all checks) vs the guide's sequential script"
hyperfine -N --warmup 3 --runs 30 --export-markdown "$out/diagnose-healthy.md" --export-json "$out/diagnose-healthy.json" \
  -n "helpdesk-doctor diagnose (${doctor##*/}, all checks)" "$doctor diagnose --format json --output /dev/null" \
  -n "guide script, sequential (compose ps, curl x3, 9 ports, df)" "bash tests/bench/guide-diagnose.sh"

python3 -c "
import json, sys
for r in json.load(open('$out/diagnose-healthy.json'))['results']:
    print(f\"median {r['median'] * 1000:.1f} ms  {r['command']}\")"
echo "== peak memory of one diagnose"
/usr/bin/time -f "peak RSS %M KB" "$doctor" diagnose --format json --output /dev/null

echo "== three hung endpoints (accept, never answer), probe timeout 2s"
python3 tests/bench/hung-endpoints.py 3911 3912 3913 &
hung=$!
trap 'kill $hung 2>/dev/null || true' EXIT
sleep 0.5
checks="$(mktemp -d)"
for port in 3911 3912 3913; do
  cat >>"$checks/hung.toml" <<TOML
[[check]]
id = "http.hung.$port"
title = "hung endpoint $port"
hint = "none"
probe = { kind = "http_health", url = "http://127.0.0.1:$port/api/v1/health" }

TOML
done
hyperfine -N --runs 5 -i --export-markdown "$out/diagnose-hung.md" \
  -n "helpdesk-doctor diagnose, 3 hung endpoints (timeout 2s)" \
  "$doctor --checks-dir $checks diagnose --only http.hung.* --probe-timeout 2s --output /dev/null" \
  -n "curl --max-time 2, 3 hung endpoints in sequence" \
  "bash -c 'for p in 3911 3912 3913; do curl -s -m 2 http://127.0.0.1:\$p/api/v1/health; done'"
cat "$out"/diagnose-*.md
