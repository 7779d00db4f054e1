#!/usr/bin/env bash
# Benchmark (not a test): `bundle` on the healthy bundled stack, then again with
# a project container that logged 1 GiB (its logs capped by --max-log-lines):
# time and peak RSS (release build). Removes its noisy container.
source "$(dirname "$0")/lib.sh"
archive="$(mktemp -d)/bundle.tar.gz"
noise=helpdesk-bench-noise
trap 'docker rm -f -v $noise >/dev/null 2>&1 || true; rm -rf "$(dirname "$archive")"' EXIT
cd /tmp   # the project comes from the engine

echo "== bundle on the bundled stack (9 containers)"
hyperfine -N --warmup 1 --runs 10 --export-markdown "$out/bundle.md" \
  -n "helpdesk-doctor bundle" "$doctor bundle --out $archive"
/usr/bin/time -f "peak RSS %M KB" "$doctor" bundle --out "$archive" >/dev/null

echo "== with a project container that logged 1 GiB"
docker run -d --name "$noise" --log-opt max-size=4g \
  --label com.docker.compose.project=helpdesk-microservices --label com.docker.compose.service=noise \
  helpdesk-redis:local sh -c 'head -c 1073741824 /dev/zero | tr "\0" x | fold -w 199' >/dev/null
docker wait "$noise" >/dev/null
echo "log file: $(du -h "$(docker inspect -f '{{.LogPath}}' "$noise")" | cut -f1)"
hyperfine -N --runs 3 --export-markdown "$out/bundle-1g.md" \
  -n "helpdesk-doctor bundle, 1 GiB log, --max-log-lines 10000" "$doctor bundle --out $archive --since 24h"
/usr/bin/time -f "peak RSS %M KB" "$doctor" bundle --out "$archive" --since 24h >/dev/null
cat "$out/bundle.md" "$out/bundle-1g.md"
