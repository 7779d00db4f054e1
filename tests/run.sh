#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, builds
# the images (no registry), starts the bundled stack, gates on its health with
# the doctor itself (wait, then a JUnit diagnose), seeds it, starts a second
# engine over tcp+TLS (tests/stack/remote) and runs every test; then, in its
# place (the ports collide), the production-shaped fixture (tests/stack/prod)
# with the tests that run on both deployments, and last the same deployment as
# a Swarm stack (tests/stack/swarm) with its tests, leaving the swarm after.
source "$(dirname "$0")/stack/lib.sh"
cd "$REPO_DIR"

phase() { echo "==> [$(date +%T)] $*" >&2; }

missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v pg_dump >/dev/null || missing+=(postgresql-client)
command -v tmux >/dev/null || missing+=(tmux)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
# bindgen (pg_query, the dump check's differential test) needs libclang.
ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so >/dev/null 2>&1 || missing+=(libclang-dev)
if ((${#missing[@]})); then
  phase "installing ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null ||
    die "could not install ${missing[*]}"
fi
# jsonschema validates the JSON report, for the python3 the tests call (pyenv's
# on this kind, which Debian's python3-jsonschema would not reach): from PyPI.
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  phase "installing jsonschema (PyPI)"
  python3 -m pip install -q jsonschema >/dev/null || die "could not install jsonschema (pip)"
fi
# promtool validates the Prometheus report: unpacked from Debian's prometheus
# package under target/ (installing the package would start a Prometheus server).
tools="$REPO_DIR/target/tools"
if ! command -v promtool >/dev/null && [ ! -x "$tools/promtool" ]; then
  phase "unpacking promtool from Debian's prometheus package"
  rm -rf "$tools/deb" && mkdir -p "$tools/deb"
  { apt-get update -qq && (cd "$tools/deb" && apt-get download -qq prometheus) &&
    dpkg-deb -x "$tools"/deb/prometheus_*.deb "$tools/deb/root" &&
    cp "$tools/deb/root/usr/bin/promtool" "$tools/promtool"; } >/dev/null || die "could not unpack promtool"
  rm -rf "$tools/deb"
fi
export PROMTOOL="$(command -v promtool || echo "$tools/promtool")"

phase "bringing the stack up"
"$STACK_DIR/up.sh"
phase "building the doctor and the tests"
cargo build -q --workspace --all-targets
doctor="$REPO_DIR/target/debug/helpdesk-doctor"
phase "smoke gate: wait, then diagnose --format junit"
"$doctor" wait --timeout 120s
mkdir -p "$REPO_DIR/target"
"$doctor" diagnose --format junit --output "$REPO_DIR/target/diagnose-report.xml" ||
  die "the bundled stack is not healthy: see target/diagnose-report.xml"
phase "seeding"
"$STACK_DIR/seed.sh"
# The Debian package (debug profile: a release build is ~7 min on 2 cores) and
# the container image made from it, for tests/integration/package.rs; installs
# cargo-deb from crates.io if missing.
phase "building the Debian package and the container image"
"$REPO_DIR/packaging/build-deb.sh" dev >/dev/null
"$REPO_DIR/packaging/build-image.sh" dev >/dev/null
phase "starting a second engine (tcp+TLS on 127.0.0.2) with a small deployment"
"$STACK_DIR/remote/up.sh"
phase "running the tests on the bundled stack (and the second engine)"
cargo test -q --workspace -- --skip prod_shaped:: --skip swarm::
phase "stopping the second engine"
"$STACK_DIR/remote/down.sh"

phase "replacing the bundled stack by the production-shaped fixture"
"$STACK_DIR/down.sh" >/dev/null 2>&1
"$STACK_DIR/prod/up.sh"
"$STACK_DIR/seed.sh" prod
phase "running the shared and production-only tests on it"
HELPDESK_TEST_FIXTURE=prod cargo test -q --test integration -- deployments:: prod_shaped::
"$STACK_DIR/prod/down.sh" --volumes >/dev/null 2>&1

phase "the same deployment as a Swarm stack (swarm init, stack deploy)"
"$STACK_DIR/swarm/up.sh"
phase "running the Swarm tests on it"
HELPDESK_TEST_FIXTURE=swarm cargo test -q --test integration -- swarm::
phase "removing the stack and leaving the swarm"
"$STACK_DIR/swarm/down.sh"
phase "done"
