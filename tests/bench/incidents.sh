#!/usr/bin/env bash
# Benchmark (not a test): what the incident checks of issue 21 (PostgreSQL
# sessions, locks, transactions, vacuum; Redis memory policy, persistence,
# clients, slow log; backups) cost `diagnose` on the healthy stack. The
# baseline's release binary (BASE, default main: before them) and this tree's,
# in the same hyperfine runs, twice in opposite orders so the machine's drift
# weighs on both. Needs the stack up (tests/stack/up.sh) and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
base_ref="${BASE:-main}"
out="$PWD/target/bench"
mkdir -p "$out"

# The baseline, built from its own checkout with the same target folder (the
# dependencies are built once), copied out before this tree is built (cargo
# links the binary again even when nothing is to compile: checked below).
# BASELINE_BIN: a release binary of $base_ref built already (skips that build).
baseline="$out/helpdesk-doctor-baseline"
if [ -n "${BASELINE_BIN:-}" ]; then
  cp "$BASELINE_BIN" "$baseline"
else
  tree="$(mktemp -d)"
  trap 'git worktree remove --force "$tree" 2>/dev/null || rm -rf "$tree"' EXIT
  git worktree add -q --detach "$tree" "$base_ref"
  (cd "$tree" && CARGO_TARGET_DIR="$OLDPWD/target" cargo build -q --release)
  cp target/release/helpdesk-doctor "$baseline"
fi
cargo build -q --release
current="$out/helpdesk-doctor-incidents"
cp target/release/helpdesk-doctor "$current"
# Each binary is the one it claims to be.
! "$baseline" checks list | grep -q postgres_connections
"$current" checks list | grep -q postgres_connections

run() {
  hyperfine -N --warmup 3 --runs 30 --export-json "$out/incidents-$1.json" \
    -n "$2" "$3 diagnose --format json --output /dev/null" \
    -n "$4" "$5 diagnose --format json --output /dev/null"
}
echo "== diagnose on the healthy stack: baseline ($base_ref) vs with the incident checks"
run a "baseline ($base_ref)" "$baseline" "with the incident checks" "$current"
run b "with the incident checks" "$current" "baseline ($base_ref)" "$baseline"

python3 - "$out" "$base_ref" <<'PY'
import json, statistics, sys
out, base = sys.argv[1:]
times = {}
for part in "ab":
    for r in json.load(open(f"{out}/incidents-{part}.json"))["results"]:
        times.setdefault(r["command"].startswith("baseline"), []).extend(r["times"])
before, after = (statistics.median(times[k]) * 1000 for k in (True, False))
print(f"| command | median of 60 runs |\n|---|---:|")
print(f"| baseline ({base}) | {before:.1f} ms |\n| with the incident checks | {after:.1f} ms |")
print(f"cost of the incident checks: {after / before - 1:+.1%} (budget: +10%)")
PY
