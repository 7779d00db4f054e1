#!/usr/bin/env bash
# Benchmark (not a test): `diagnose` on the bundled deployment under compose
# vs the same deployment as a Swarm stack (tests/stack/swarm), release build,
# 20 runs each in this one script run. The two cannot run at once (same
# ports), so each side is its own hyperfine run, back to back; the script
# leaves the bundled stack up as tests/stack/up.sh does. Target: ≤ 1.3×.
source "$(dirname "$0")/lib.sh"
export HELPDESK_DOCTOR_STATE_DIR="$(mktemp -d)"
trap 'rm -rf "$HELPDESK_DOCTOR_STATE_DIR"' EXIT
measure() {
  (cd /tmp && hyperfine -N --warmup 3 --runs 20 --export-json "$out/swarm-$1.json" -n "$1" \
    "$doctor diagnose --skip logs.*,host.load --no-history --format json --output /dev/null")
}
tests/stack/up.sh >/dev/null
measure compose
tests/stack/down.sh >/dev/null 2>&1
tests/stack/swarm/up.sh
measure swarm
tests/stack/swarm/down.sh
tests/stack/up.sh >/dev/null
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
mean = {k: json.load(open(f"{out}/swarm-{k}.json"))["results"][0] for k in ("compose", "swarm")}
for k, r in mean.items():
    print(f"| diagnose on {k} | {r['mean']*1000:.1f} ± {r['stddev']*1000:.1f} ms | median {r['median']*1000:.1f} ms |")
print(f"swarm / compose (means): {mean['swarm']['mean'] / mean['compose']['mean']:.2f}x")
PY
