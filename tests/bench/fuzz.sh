#!/usr/bin/env bash
# Benchmark-time fuzzing (not a test): the dump check against PostgreSQL's own
# scanner (fuzz/fuzz_targets/dump_boundaries.rs: refused, or every statement,
# COPY block and meta-command ends where PostgreSQL and psql end it), for
# FUZZ_SECONDS (default 120), seeded with tests/dump_corpus. Uses cargo-fuzz when
# installed; otherwise builds the same libFuzzer target with the stable
# toolchain (the coverage flags cargo-fuzz passes are stable -C flags; no
# sanitizer). A disagreement stops the run: the input is left in
# target/fuzz/artifacts, and this script fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-120}
corpus="$PWD/target/fuzz/corpus"
artifacts="$PWD/target/fuzz/artifacts/"
mkdir -p "$corpus" "$artifacts"
cp tests/dump_corpus/*.sql "$corpus/"
if cargo fuzz --version >/dev/null 2>&1; then
  exec cargo fuzz run --fuzz-dir fuzz -s none dump_boundaries "$corpus" -- \
    -max_total_time="$FUZZ_SECONDS" -artifact_prefix="$artifacts"
fi
host=$(rustc -vV | sed -n 's/^host: //p')
# --target keeps these flags off build scripts (pg_query's builds C).
RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks" \
  cargo build -q --release --manifest-path fuzz/Cargo.toml --target "$host" --target-dir target/fuzz/build
"target/fuzz/build/$host/release/dump_boundaries" "$corpus" \
  -max_total_time="$FUZZ_SECONDS" -artifact_prefix="$artifacts" -print_final_stats=1
