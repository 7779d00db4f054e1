#!/usr/bin/env bash
# Benchmark (not a test): what the checks of issue 21 cost — the data root
# (docker.disk), each container's health check and restart policy
# (container.*.policy), log file sizes, the TLS phase and certificate of HTTPS
# health endpoints, the latency budget — on the healthy bundled stack:
# `diagnose` of main before them (BASE) vs now, release builds, side by side
# in the same hyperfine run. Then what `/system/df` alone takes on this engine
# (docker.disk asks it only when space runs low, within the probe timeout),
# and docker.disk with space "low" (a threshold above the disk).
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=${BASE:-e1ae72f}
RUNS=${RUNS:-40}
for tool in hyperfine jq; do
  command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }
done
work="$(mktemp -d /var/tmp/helpdesk-host-bench.XXXXXX)"
out="$PWD/target/bench"
mkdir -p "$out"
cleanup() {
  git worktree remove --force "$work/base" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building the current doctor and $BASE (release)"
cargo build -q --release
now="$PWD/target/release/helpdesk-doctor"
git worktree add -q "$work/base" "$BASE"
# The base's build is kept in target/ (a benchmark cache, never needed by CI).
(cd "$work/base" && CARGO_TARGET_DIR="$OLDPWD/target/bench-base" cargo build -q --release --bin helpdesk-doctor)
before="$PWD/target/bench-base/release/helpdesk-doctor"
export HELPDESK_DOCTOR_STATE_DIR="$work/state"
cd /tmp

echo "== checks: before $("$before" diagnose --format json --no-history | jq .summary.total), now $("$now" diagnose --format json --no-history | jq .summary.total)"
# -i: a warning of this busy machine's load is not the benchmark's business.
hyperfine -N -i --warmup 3 --runs "$RUNS" --export-markdown "$out/host-checks.md" \
  -n "diagnose, before ($BASE)" "$before diagnose --format json --output /dev/null --no-history" \
  -n "diagnose, now (+ data root, policies, TLS, latency)" "$now diagnose --format json --output /dev/null --no-history"
hyperfine -N -i --warmup 3 --runs "$RUNS" --export-markdown "$out/host-checks-alone.md" \
  -n "the new checks alone (docker.disk, container.*.policy)" \
  "$now diagnose --format json --output /dev/null --no-history --only docker.disk,container.*.policy"

echo "== GET /system/df on this engine (up to 5 min)"
/usr/bin/time -f "/system/df: %e s" timeout 300 \
  curl -s --unix-socket /var/run/docker.sock -o /dev/null http://docker/system/df || echo "/system/df: over 300 s"
printf '[thresholds]\ndisk_warn_gb = 1000000.0\n' > "$work/low.toml"
/usr/bin/time -f "docker.disk with space low (asks /system/df): %e s" \
  "$now" --config "$work/low.toml" diagnose --only docker.disk --no-history --format json |
  jq -r '.results[] | select(.id == "docker.disk") | .status + ": " + .message'
cat "$out/host-checks.md" "$out/host-checks-alone.md"
