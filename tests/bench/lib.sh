# Shared by the benchmarks: sourced, never run. From the repository's root,
# installs hyperfine if missing, builds the release doctor, and sets $doctor and
# $out (target/bench, where the results go).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build -q --release
doctor="$PWD/target/release/helpdesk-doctor"
out="$PWD/target/bench"
mkdir -p "$out"

# base_doctor REV: sets $before to the doctor of REV, built in release in a
# throwaway worktree (its build kept in target/bench-base: a benchmark cache).
base_doctor() {
  local worktree
  worktree="$(mktemp -d /var/tmp/helpdesk-bench-base.XXXXXX)"
  git worktree add -q "$worktree/base" "$1"
  (cd "$worktree/base" && CARGO_TARGET_DIR="$OLDPWD/target/bench-base" cargo build -q --release --bin helpdesk-doctor)
  git worktree remove --force "$worktree/base"
  rm -rf "$worktree"
  before="$PWD/target/bench-base/release/helpdesk-doctor"
}
