#!/usr/bin/env bash
# Builds the Debian package target/debian/helpdesk-doctor_<version>-1_<arch>.deb:
# the binary (cargo profile $1: release by default; CI passes dev, a release
# build takes ~7 min on 2 cores), then with that binary its man pages (one per
# command), bash/zsh/fish completions and the default config (every setting
# commented), and docs/alerts.yml as an example when present; then cargo deb.
# Installs cargo-deb (crates.io) if missing. Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${1:-release}"
case "$profile" in
  dev) dir=target/debug ;;
  *) dir="target/$profile" ;;
esac

if ! command -v cargo-deb >/dev/null; then
  echo "==> installing cargo-deb (crates.io)" >&2
  cargo install --locked -q cargo-deb >&2
fi

echo "==> building the doctor ($profile)" >&2
cargo build -q --profile "$profile" --bin helpdesk-doctor
doctor="$dir/helpdesk-doctor"

assets=target/assets
rm -rf "$assets"
mkdir -p "$assets/completions" "$assets/examples"
"$doctor" man --out-dir "$assets/man" 2>/dev/null
"$doctor" completions bash >"$assets/completions/helpdesk-doctor"
"$doctor" completions zsh >"$assets/completions/_helpdesk-doctor"
"$doctor" completions fish >"$assets/completions/helpdesk-doctor.fish"
"$doctor" config init --defaults >"$assets/config.toml"
cp "$assets/config.toml" "$assets/examples/config.toml"
# The example alert rules of `serve` (docs/alerts.yml), when this tree has them.
if [ -f docs/alerts.yml ]; then cp docs/alerts.yml "$assets/examples/alerts.yml"; fi

echo "==> cargo deb" >&2
cargo deb --no-build --profile "$profile" -q --fast | tail -n 1
