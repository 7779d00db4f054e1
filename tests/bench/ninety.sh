#!/usr/bin/env bash
# Benchmark (not a test): how diagnose's cost grows with the deployment. The
# bundled stack (9 containers) is the baseline; then the production-shaped
# fixture with its ticket-service scaled until the project has 90 containers
# (compose --scale, behind its load balancer; the replicas' health check made
# `true` every 30 s: the fixture's own, every 2 s in 81 containers, keeps the
# 2 cores busy at a load of 240, the doctor's time then is the machine's).
# Each: hyperfine's median of the
# whole process (release), its peak RSS (/usr/bin/time), and how many checks
# ran. Leaves the bundled stack up, the production-shaped fixture down.
source "$(dirname "$0")/lib.sh"
containers=90

# (diagnose exits 1 when a check fails: the figures are wanted all the same)
peak_rss_kb() { { /usr/bin/time -f '%M' "$doctor" diagnose --format json --output /dev/null 2>&1 >/dev/null || true; } | tail -1; }
checks_run() { { "$doctor" diagnose --format json 2>/dev/null || true; } | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))'; }

tests/stack/prod/down.sh --volumes >/dev/null 2>&1 || true
tests/stack/up.sh && sleep 10
(cd /tmp && hyperfine -N -i --warmup 2 --runs 15 --export-json "$out/ninety-base.json" \
  -n "bundled stack, 9 containers" "$doctor diagnose --format json --output /dev/null")
nine_rss="$(cd /tmp && peak_rss_kb)"
nine_checks="$(cd /tmp && checks_run)"

tests/stack/down.sh >/dev/null 2>&1
tests/stack/prod/up.sh
# 6 data containers, auth and user, the load balancer: the rest are ticket-service.
scaled="$(mktemp -d)"
printf 'services:\n  ticket-service:\n    healthcheck:\n      test: ["CMD", "true"]\n      interval: 30s\n' >"$scaled/cheap-healthcheck.yml"
# Scaled 9 replicas at a time, each step healthy before the next: 81 Node
# processes started at once on 2 cores time out connecting and restart in a loop.
deadline=$((SECONDS + 900))
for replicas in $(seq 9 9 $((containers - 9))); do
  (cd tests/stack/prod && docker-compose -f docker-compose.yml -f "$scaled/cheap-healthcheck.yml" \
    up -d --no-recreate --scale ticket-service=$replicas >/dev/null 2>&1)
  # Every container but the load balancer (no health check) healthy.
  until [ "$(docker ps -q --filter label=com.docker.compose.project=prod --filter health=healthy | wc -l)" -ge $((replicas + 8)) ]; do
    ((SECONDS < deadline)) || { echo "not $((replicas + 9)) healthy containers in time" >&2; break 2; }
    sleep 3
  done
done
sleep 20   # let the fresh Node processes settle
total="$(docker ps -aq --filter label=com.docker.compose.project=prod | wc -l)"
healthy="$(docker ps -q --filter label=com.docker.compose.project=prod --filter health=healthy | wc -l)"
(cd tests/stack/prod && hyperfine -N -i --warmup 1 --runs 10 --export-json "$out/ninety.json" \
  -n "production-shaped, $total containers" "$doctor diagnose --format json --output /dev/null")
big_rss="$(cd tests/stack/prod && peak_rss_kb)"
big_checks="$(cd tests/stack/prod && checks_run)"
(cd tests/stack/prod && docker-compose -f docker-compose.yml -f "$scaled/cheap-healthcheck.yml" down --remove-orphans --volumes >/dev/null 2>&1)
rm -rf "$scaled"
tests/stack/up.sh >/dev/null

python3 - "$out" "$nine_rss" "$big_rss" "$nine_checks" "$big_checks" "$total" "$healthy" <<'PY'
import json, sys
out, nine_rss, big_rss, nine_checks, big_checks, total, healthy = sys.argv[1:]
nine = json.load(open(f"{out}/ninety-base.json"))["results"][0]
big = json.load(open(f"{out}/ninety.json"))["results"][0]
rows = ["| deployment | containers | checks | median | vs 9 containers | peak RSS |", "|---|---:|---:|---:|---:|---:|",
        f"| bundled stack | 9 | {nine_checks} | {nine['median'] * 1000:.0f} ms | 1.00× | {int(nine_rss) / 1024:.1f} MB |",
        f"| production-shaped, scaled | {total} ({healthy} healthy) | {big_checks} | {big['median'] * 1000:.0f} ms | {big['median'] / nine['median']:.2f}× | {int(big_rss) / 1024:.1f} MB |"]
text = "\n".join(rows)
open(f"{out}/ninety.md", "w").write(text + "\n")
print(text)
PY
