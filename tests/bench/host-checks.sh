#!/usr/bin/env bash
# Benchmark (not a test): what the checks of issue 21 cost — the data root
# (docker.disk), each container's health check and restart policy
# (container.*.policy), log file sizes, the TLS phase and certificate of HTTPS
# health endpoints, the latency budget — on the healthy bundled stack:
# `diagnose` of main before them (BASE) vs now, release builds, side by side
# in the same hyperfine run. Then what `/system/df` alone takes on this engine
# (docker.disk asks it only when space runs low, within the probe timeout),
# and docker.disk with space "low" (a threshold above the disk).
source "$(dirname "$0")/lib.sh"
BASE=${BASE:-e1ae72f}
RUNS=${RUNS:-40}
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
now="$doctor"
base_doctor "$BASE"
work="$(mktemp -d /var/tmp/helpdesk-host-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export HELPDESK_DOCTOR_STATE_DIR="$work/state"
cd /tmp

echo "== checks: before $("$before" diagnose --format json --no-history | jq .summary.total), now $("$now" diagnose --format json --no-history | jq .summary.total)"
# -i: a check that fails meanwhile (the stack is shared) does not stop the timing.
hyperfine -N -i --warmup 3 --runs "$RUNS" --export-markdown "$out/host-checks.md" \
  -n "diagnose, before ($BASE)" "$before diagnose --format json --output /dev/null --no-history" \
  -n "diagnose, now (+ data root, policies, TLS, latency)" "$now diagnose --format json --output /dev/null --no-history"
hyperfine -N -i --warmup 3 --runs "$RUNS" --export-markdown "$out/host-checks-alone.md" \
  -n "the new checks alone (docker.disk, container.*.policy)" \
  "$now diagnose --format json --output /dev/null --no-history --only docker.disk,container.*.policy"

echo "== GET /system/df on this engine (up to 2 min)"
/usr/bin/time -f "/system/df: %e s" timeout 120 \
  curl -s --unix-socket /var/run/docker.sock -o /dev/null http://docker/system/df || echo "/system/df: over 120 s"
printf '[thresholds]\ndisk_warn_gb = 1000000.0\n' > "$work/low.toml"
/usr/bin/time -f "docker.disk with space low (asks /system/df): %e s" \
  "$now" --config "$work/low.toml" diagnose --only docker.disk --no-history --format json |
  jq -r '.results[] | select(.id == "docker.disk") | .status + ": " + .message'
cat "$out/host-checks.md" "$out/host-checks-alone.md"
