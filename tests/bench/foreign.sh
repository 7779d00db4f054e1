#!/usr/bin/env bash
# Benchmark (not a test): `diagnose` on the foreign fixture (tests/stack/foreign:
# its databases and Redis publish nothing, so every PostgreSQL and Redis check
# reaches its server at the container's address on the project's network)
# against the bundled stack (every server on a published port), both up at
# once and measured in the same hyperfine run; then the foreign fixture reached
# through the engine (the doctor in a network namespace of its own, where the
# containers' addresses are not reached: an exec bridge per server), against
# the same checks over the network. Target: foreign ≤ 1.2× bundled.
# Leaves the bundled stack up and the foreign fixture down.
source "$(dirname "$0")/lib.sh"

tests/stack/up.sh
tests/stack/foreign/up.sh
trap 'tests/stack/foreign/down.sh --volumes >/dev/null 2>&1' EXIT
tests/stack/seed.sh foreign >/dev/null
sleep 10   # let the fresh containers settle

foreign="$PWD/tests/stack/foreign"
diagnose="$doctor diagnose --format json --output /dev/null --no-history"
servers="--only port.*.db,port.*.redis,postgres.*,redis.*"
hyperfine -N --warmup 3 --runs "${RUNS:-40}" --export-json "$out/foreign.json" \
  -n "bundled stack (published ports)" "$diagnose --project helpdesk-microservices" \
  -n "foreign (unpublished: container addresses)" "$diagnose --project foreign" \
  -n "bundled, servers only" "$diagnose --project helpdesk-microservices $servers" \
  -n "foreign, servers only, on the network" "$diagnose --project foreign $servers" \
  -n "foreign, servers only, through the engine" "unshare --net -- $diagnose --project foreign $servers"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
r = json.load(open(f"{out}/foreign.json"))["results"]
base = {0: r[0]["median"], 1: r[0]["median"], 2: r[2]["median"], 3: r[2]["median"], 4: r[2]["median"]}
rows = ["| command | median | vs bundled (same checks) |", "|---|---|---|"]
for i, x in enumerate(r):
    rows.append(f"| {x['command']} | {x['median'] * 1000:.1f} ms | {x['median'] / base[i]:.2f}× |")
text = "\n".join(rows)
open(f"{out}/foreign.md", "w").write(text + "\n")
print(text)
PY
