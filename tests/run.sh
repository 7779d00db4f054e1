#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, builds
# the images (no registry), starts the bundled stack, gates on its health with
# the doctor itself (wait, then a JUnit diagnose), seeds it, starts a second
# engine over tcp+TLS (tests/stack/remote) and runs every test; then, beside
# it, the foreign fixture (tests/stack/foreign: another team's deployment whose
# databases and Redis publish nothing) with its tests; then, in the bundled
# stack's place (the ports collide), the production-shaped fixture (tests/stack/prod)
# with the tests that run on both deployments, then the same deployment as a
# Swarm stack (tests/stack/swarm) with its tests, leaving the swarm after, and
# last as a Swarm of two nodes (tests/stack/twonode: two new engines in network
# namespaces of their own) with its tests, removed after with the proof that
# the machine is as before.
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
# sshd for the ssh engine's test (which starts its own on loopback, its own
# config and port): installed, never started as the machine's service.
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
# Headless Chromium renders serve's status page (tests/integration/serve.rs).
command -v chromium >/dev/null || missing+=(chromium)
# bindgen (pg_query, the dump check's differential test) needs libclang.
ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so >/dev/null 2>&1 || missing+=(libclang-dev)
if ((${#missing[@]})); then
  phase "installing ${missing[*]}"
  # No package starts a service of its own (openssh-server would start sshd).
  no_services=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && no_services=1
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null ||
    die "could not install ${missing[*]}"
  [ -z "$no_services" ] || rm -f /usr/sbin/policy-rc.d
fi
# jsonschema validates the JSON report, for the python3 the tests call (pyenv's
# on this kind, which Debian's python3-jsonschema would not reach): from PyPI.
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  phase "installing jsonschema (PyPI)"
  python3 -m pip install -q jsonschema >/dev/null || die "could not install jsonschema (pip)"
fi
# promtool validates the Prometheus report and the example alert rules, and a
# real Prometheus scrapes serve (tests/integration/serve.rs): both unpacked from
# Debian's prometheus package under target/ (installing the package would start
# a Prometheus server).
tools="$REPO_DIR/target/tools"
if ! { command -v promtool && command -v prometheus; } >/dev/null &&
  ! [ -x "$tools/promtool" -a -x "$tools/prometheus" ]; then
  phase "unpacking promtool and prometheus from Debian's prometheus package"
  rm -rf "$tools/deb" && mkdir -p "$tools/deb"
  { apt-get update -qq && (cd "$tools/deb" && apt-get download -qq prometheus) &&
    dpkg-deb -x "$tools"/deb/prometheus_*.deb "$tools/deb/root" &&
    cp "$tools/deb/root/usr/bin/promtool" "$tools/deb/root/usr/bin/prometheus" "$tools/"; } >/dev/null ||
    die "could not unpack promtool and prometheus"
  rm -rf "$tools/deb"
fi
export PROMTOOL="$(command -v promtool || echo "$tools/promtool")"
export PROMETHEUS="$(command -v prometheus || echo "$tools/prometheus")"

# Anonymous volumes (64 hex digits) that no container uses: a throwaway
# container of the images that declare a VOLUME, removed without -v, leaves one.
anonymous_volumes() { docker volume ls -q --filter dangling=true | grep -E '^[0-9a-f]{64}$' | sort || true; }
volumes_before="$(anonymous_volumes)"

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
cargo test -q --workspace -- --skip prod_shaped:: --skip swarm:: --skip twonode:: --skip foreign::
phase "stopping the second engine"
"$STACK_DIR/remote/down.sh"

phase "starting the foreign fixture beside the bundled stack (each one's ports the other's trap)"
"$STACK_DIR/foreign/up.sh"
"$STACK_DIR/seed.sh" foreign
phase "running the foreign and the shared tests on it"
HELPDESK_TEST_FIXTURE=foreign cargo test -q --test integration -- foreign:: deployments::
"$STACK_DIR/foreign/down.sh" --volumes >/dev/null 2>&1

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
HELPDESK_TEST_FIXTURE=swarm cargo test -q --test integration -- swarm:: runtimes::
phase "removing the stack and leaving the swarm"
"$STACK_DIR/swarm/down.sh"

phase "a Swarm of two nodes (two engines in network namespaces of their own)"
"$STACK_DIR/twonode/up.sh"
phase "running the two-node tests on it"
HELPDESK_TEST_FIXTURE=twonode cargo test -q --test integration -- twonode::
phase "removing the two nodes, proving the machine is as before"
"$STACK_DIR/twonode/down.sh"
phase "checking that the tests left no anonymous volume behind"
leaked="$(comm -13 <(echo "$volumes_before") <(anonymous_volumes))"
if [ -n "$leaked" ]; then
  docker volume rm $leaked >/dev/null || true
  die "the tests left $(wc -l <<<"$leaked") anonymous volumes behind (a container removed without -v); removed them"
fi
phase "done"
