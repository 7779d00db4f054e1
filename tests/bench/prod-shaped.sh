#!/usr/bin/env bash
# Benchmark (not a test): `diagnose` on the production-shaped fixture (12
# containers: ticket-service ×3 behind a load balancer) vs the bundled stack
# (9 containers), one after the other in one run (their ports collide), then
# discovery's cost there: the project from the folder vs named with --project.
# Leaves the bundled stack up, the production-shaped fixture down.
source "$(dirname "$0")/lib.sh"

tests/stack/prod/down.sh >/dev/null 2>&1 || true
tests/stack/up.sh && sleep 10   # let the fresh containers settle
(cd /tmp && hyperfine -N --warmup 3 --runs 40 --export-json "$out/nine.json" \
  -n "bundled stack, 9 containers" "$doctor diagnose --format json --output /dev/null")

tests/stack/down.sh >/dev/null 2>&1
tests/stack/prod/up.sh && sleep 10
(cd tests/stack/prod && hyperfine -N --warmup 3 --runs 40 --export-json "$out/twelve.json" \
  -n "production-shaped, 12 containers" "$doctor diagnose --format json --output /dev/null" \
  -n "production-shaped, --project prod" "$doctor diagnose --format json --output /dev/null --project prod")
tests/stack/prod/down.sh --volumes >/dev/null 2>&1
tests/stack/up.sh && sleep 10   # let the fresh containers settle

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
results = json.load(open(f"{out}/nine.json"))["results"] + json.load(open(f"{out}/twelve.json"))["results"]
nine = results[0]["median"]
rows = ["| command | median | vs 9 containers |", "|---|---|---|"]
for r in results:
    rows.append(f"| {r['command']} | {r['median'] * 1000:.1f} ms | {r['median'] / nine:.2f}× |")
rows.append(f"\ndiscovery (folder vs --project): {results[1]['median'] / results[2]['median']:.2f}×")
text = "\n".join(rows)
open(f"{out}/prod-shaped.md", "w").write(text + "\n")
print(text)
PY
