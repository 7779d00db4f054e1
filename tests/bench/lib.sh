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
# throwaway worktree sharing target/ (only the doctor's own crate is compiled
# again), kept as target/bench-base/helpdesk-doctor-REV (reused when there);
# the current doctor is built again after it.
base_doctor() {
  local worktree
  before="$PWD/target/bench-base/helpdesk-doctor-$1"
  [ -x "$before" ] && return
  worktree="$(mktemp -d /var/tmp/helpdesk-bench-base.XXXXXX)"
  git worktree add -q "$worktree/base" "$1"
  (cd "$worktree/base" && CARGO_TARGET_DIR="$OLDPWD/target" cargo build -q --release --bin helpdesk-doctor)
  mkdir -p target/bench-base
  cp target/release/helpdesk-doctor "$before"
  git worktree remove --force "$worktree/base"
  rm -rf "$worktree"
  cargo build -q --release
}
