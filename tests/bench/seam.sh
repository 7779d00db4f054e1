#!/usr/bin/env bash
# Benchmark (not a test): issue 20's figures on the healthy bundled stack, in
# one hyperfine run — diagnose as a whole process against its slowest single
# check alone (`--only postgres.ticket.connect`) and against `checks list` (no
# engine at all); and the same diagnose by the doctor before the runtime seam
# (BASE, default 24b0ac8), so that the seam is shown to cost nothing.
# Needs the stack up (tests/stack/up.sh).
source "$(dirname "$0")/lib.sh"
base_doctor "${BASE:-24b0ac8}"
cd /tmp
hyperfine -N --warmup 3 --runs 30 --export-json "$out/seam.json" \
  -n "diagnose" "$doctor diagnose --format json --output /dev/null" \
  -n "diagnose --only postgres.ticket.connect" "$doctor diagnose --only postgres.ticket.connect --format json --output /dev/null" \
  -n "checks list" "$doctor checks list" \
  -n "diagnose, before the seam (${BASE:-24b0ac8})" "$before diagnose --format json --output /dev/null"
/usr/bin/time -f "%M" "$doctor" diagnose --format json --output /dev/null 2>"$out/seam-rss" >/dev/null || true
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
r = {x["command"]: x["median"] for x in json.load(open(f"{out}/seam.json"))["results"]}
names = list(r)
diagnose, slowest, listing, before = (r[n] for n in names)
rss = int(open(f"{out}/seam-rss").read().split()[-1]) / 1024
rows = ["| command | median | ratio |", "|---|---:|---:|"]
rows.append(f"| {names[0]} | {diagnose * 1000:.1f} ms | |")
rows.append(f"| {names[1]} | {slowest * 1000:.1f} ms | diagnose / this: {diagnose / slowest:.2f}× (target ≤ 1.3×) |")
rows.append(f"| {names[2]} | {listing * 1000:.1f} ms | this / diagnose: {listing / diagnose:.2f}× (target ≤ 0.2×) |")
rows.append(f"| {names[3]} | {before * 1000:.1f} ms | diagnose now / before: {diagnose / before:.2f}× |")
rows.append(f"\npeak RSS of one diagnose: {rss:.1f} MB")
text = "\n".join(rows)
open(f"{out}/seam.md", "w").write(text + "\n")
print(text)
PY
