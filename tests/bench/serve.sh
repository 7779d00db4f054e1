#!/usr/bin/env bash
# Benchmark (not a test): `serve` against its baselines, side by side in the
# same run, on the healthy bundled stack (release build):
# 1. CPU over $DURATION s (300) at a $INTERVAL s (30) interval: serve, scraped
#    every 15 s, vs a shell loop running `diagnose --format prometheus` into a
#    file every $INTERVAL s (the cron-into-node_exporter's-textfile way), both
#    at once, the loop half an interval later (their runs never overlap). CPU:
#    utime + stime from /proc/PID/stat for serve, bash's `times` (itself and its
#    children) for the loop. Target ≤ 1.1×.
# 2. Scrape latency: 1,000 GETs of /metrics in 10 s (a new connection each)
#    while serve runs the checks every second, vs Python's http.server serving
#    a static copy of the same body, same client (scrape-latency.py). Target:
#    p99 ≤ 1.5× and every scrape ≤ 50 ms.
# 3. SIGTERM to exit, 10 times.
REPO_BENCH="$(cd "$(dirname "$0")" && pwd)"
source "$(dirname "$0")/lib.sh"
DURATION="${DURATION:-300}"
INTERVAL="${INTERVAL:-30}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
cd /tmp   # no compose file here: the project comes from the engine
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks="$(getconf CLK_TCK)"

# Starts serve with "$@"; sets $serve_pid and $serve_url once the first run ended.
start_serve() {
  local port; port="$(free_port)"
  "$doctor" serve --listen "127.0.0.1:$port" "$@" 2>>"$work/serve.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  serve_url="http://127.0.0.1:$port"
  until curl -sf "$serve_url/report.json" >/dev/null; do sleep 0.1; done
}
stop_serve() { kill -TERM "$serve_pid"; wait "$serve_pid" || true; }

echo "== 1. CPU over ${DURATION}s at a ${INTERVAL}s interval"
started=$SECONDS
start_serve --interval "${INTERVAL}s"
(
  end=$((SECONDS + DURATION))
  while ((SECONDS < end)); do curl -sf "$serve_url/metrics" >/dev/null; sleep 15; done
) &
pids+=($!)
sleep $((INTERVAL / 2))
bash -c '
  doctor="$1" interval="$2" duration="$3" file="$4"
  end=$((SECONDS + duration)); runs=0
  while ((SECONDS < end)); do
    next=$((SECONDS + interval))
    "$doctor" diagnose --format prometheus --no-history --output "$file" || true
    runs=$((runs + 1))
    ((SECONDS < next)) && sleep $((next - SECONDS))
  done
  echo "$runs" > "$file.runs"
  times > "$file.times"
' loop "$doctor" "$INTERVAL" "$DURATION" "$work/textfile.prom" &
loop_pid=$!
pids+=("$loop_pid")
# serve stops after the same span, before a run past it would start.
sleep $((DURATION - 1 - (SECONDS - started)))
serve_runs="$(curl -sf "$serve_url/metrics" | awk '/^helpdesk_serve_runs_total/ {n += $2} END {print n}')"
read -r -a stat < <(cut -d' ' -f14,15 "/proc/$serve_pid/stat")
serve_cpu="$(echo "scale=3; (${stat[0]} + ${stat[1]}) / $ticks" | bc)"
stop_serve
wait "$loop_pid"
loop_runs="$(cat "$work/textfile.prom.runs")"
# `times`: the shell's user and system time, then its children's.
loop_cpu="$(python3 -c '
import re, sys
seconds = [int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", open(sys.argv[1]).read())]
print(round(sum(seconds), 3))' "$work/textfile.prom.times")"
echo "serve: ${serve_cpu} s CPU for ${serve_runs} runs (scraped every 15 s)"
echo "loop of diagnose: ${loop_cpu} s CPU for ${loop_runs} runs"
echo "ratio: $(echo "scale=2; $serve_cpu / $loop_cpu" | bc)× (per run: $(echo "scale=2; ($serve_cpu / $serve_runs) / ($loop_cpu / $loop_runs)" | bc)×)"

echo "== 2. scrape latency, 1,000 GETs in 10 s"
start_serve --interval 1s
sleep 2
curl -sf "$serve_url/metrics" > "$work/metrics"
port="$(free_port)"
python3 -m http.server --bind 127.0.0.1 --directory "$work" "$port" >/dev/null 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$port/metrics" >/dev/null; do sleep 0.1; done
runs_before="$(curl -sf "$serve_url/metrics" | awk '/^helpdesk_serve_runs_total/ {n += $2} END {print n}')"
echo "serve /metrics (runs every 1 s): $(python3 "$REPO_BENCH/scrape-latency.py" "$serve_url/metrics" 1000 10)"
runs_after="$(curl -sf "$serve_url/metrics" | awk '/^helpdesk_serve_runs_total/ {n += $2} END {print n}')"
echo "  runs meanwhile: $((runs_after - runs_before)); RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/$serve_pid/status")"
echo "python3 http.server, the same body: $(python3 "$REPO_BENCH/scrape-latency.py" "http://127.0.0.1:$port/metrics" 1000 10)"
stop_serve

echo "== 3. SIGTERM to exit"
for i in $(seq 10); do
  start_serve --interval 1s
  sleep "0.$((RANDOM % 10))"
  before=$(date +%s%N)
  kill -TERM "$serve_pid"
  wait "$serve_pid" && code=0 || code=$?
  echo "exit $code in $((($(date +%s%N) - before) / 1000000)) ms"
done
