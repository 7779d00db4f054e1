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
