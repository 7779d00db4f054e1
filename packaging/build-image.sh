#!/usr/bin/env bash
# Builds the doctor's container image helpdesk-doctor:<version> (and :latest)
# FROM the bundled base image (tests/stack/build-base-image.sh makes it, no
# registry), with the Debian package installed: the one in target/debian/, or
# one built now (packaging/build-deb.sh, profile $1: release by default).
# Prints the image reference.
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
deb="$(ls -t target/debian/helpdesk-doctor_"$version"-*.deb 2>/dev/null | head -n 1 || true)"
[ -n "$deb" ] || deb="$(packaging/build-deb.sh "${1:-release}")"
base="$(tests/stack/build-base-image.sh)"

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp packaging/Dockerfile "$context/Dockerfile"
cp "$deb" "$context/helpdesk-doctor.deb"
echo "==> building helpdesk-doctor:$version from $base with $(basename "$deb")" >&2
docker build -q --build-arg BASE="$base" -t "helpdesk-doctor:$version" -t helpdesk-doctor:latest "$context" >/dev/null
echo "helpdesk-doctor:$version"
