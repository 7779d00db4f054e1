#!/usr/bin/env bash
# Benchmark (not a test): what the dump check of issue 18 costs in `backup
# verify` — the doctor before it (BASE, default 2ac3d05) and the current one,
# both in release, side by side in the same hyperfine runs, on (1) a backup of
# ticket_db with ROWS rows of COPY data (what real dumps are mostly made of) and
# (2) a foreign copy of it with STATEMENTS more pg_dump-shaped statements (the
# lexer's worst case), verified with --trust-foreign-backup. Adds bench_payload,
# drops it after. The target: now ≤ 1.2× before.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=${BASE:-2ac3d05}
ROWS=${ROWS:-2000000}
STATEMENTS=${STATEMENTS:-200000}
RUNS=${RUNS:-5}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
work="$(mktemp -d /var/tmp/helpdesk-dump-check-bench.XXXXXX)"
out="$PWD/target/bench"
mkdir -p "$out"
sql() { docker exec -i helpdesk-ticket-db psql -X -q -v ON_ERROR_STOP=1 -U ticket -d ticket_db -c "$1"; }
cleanup() {
  sql "DROP TABLE IF EXISTS bench_payload" || true
  git worktree remove --force "$work/base" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building $BASE and the current doctor (release, one target folder: dependencies built once)"
git worktree add -q "$work/base" "$BASE"
(cd "$work/base" && CARGO_TARGET_DIR="$OLDPWD/target" cargo build -q --release --bin helpdesk-doctor)
before="$work/doctor-before"
cp target/release/helpdesk-doctor "$before"
cargo build -q --release --bin helpdesk-doctor
now="$PWD/target/release/helpdesk-doctor"
export HELPDESK_DOCTOR_STATE_DIR="$work/state"

echo "== $ROWS rows in ticket_db"
sql "DROP TABLE IF EXISTS bench_payload;
     CREATE TABLE bench_payload AS SELECT i, md5(i::text) || repeat('x', 200) AS body FROM generate_series(1, $ROWS) i;"
mkdir -p "$work/r"
"$now" backup --only ticket --out "$work/r" >/dev/null
backup="$(ls -d "$work"/r/emergency-backup-*)"

echo "== a foreign copy with $STATEMENTS more statements"
foreign="$work/foreign/$(basename "$backup")"
mkdir -p "$foreign" && cp "$backup"/* "$foreign/"
python3 - "$foreign" "$STATEMENTS" <<'PY'
import gzip, hashlib, json, sys, pathlib
folder, count = pathlib.Path(sys.argv[1]), int(sys.argv[2])
manifest = json.loads((folder / "manifest.json").read_text())
entry = manifest["databases"][0]["file"]
dump = gzip.decompress((folder / entry["name"]).read_bytes()).decode()
extra = "".join(
    f"--\n-- Name: t{i}; Type: TABLE; Schema: public; Owner: ticket\n--\n\n"
    f"CREATE TABLE public.t{i} (\n    id integer NOT NULL,\n"
    f"    title character varying(200) DEFAULT 'it''s'::character varying\n);\n\n"
    f"ALTER TABLE public.t{i} OWNER TO ticket;\nCOMMENT ON TABLE public.t{i} IS E'table\\\\n{i}';\n\n"
    for i in range(count))
at = dump.index("\nCREATE ") + 1
raw = (dump[:at] + extra + dump[at:]).encode()
packed = gzip.compress(raw, 1)
(folder / entry["name"]).write_bytes(packed)
entry.update(size=len(packed), sha256=hashlib.sha256(packed).hexdigest(), raw_size=len(raw))
(folder / "manifest.json").write_text(json.dumps(manifest))
PY
"$now" backup verify "$foreign" --trust-foreign-backup >/dev/null
"$before" backup verify "$foreign" --trust-foreign-backup >/dev/null

hyperfine --runs "$RUNS" --warmup 1 --export-markdown "$out/dump-check-verify.md" \
  -n "verify, COPY-heavy, before ($BASE)" "$before backup verify $backup" \
  -n "verify, COPY-heavy, now" "$now backup verify $backup" \
  -n "verify, $STATEMENTS statements, before ($BASE)" "$before backup verify $foreign --trust-foreign-backup" \
  -n "verify, $STATEMENTS statements, now" "$now backup verify $foreign --trust-foreign-backup"
cat "$out/dump-check-verify.md"
