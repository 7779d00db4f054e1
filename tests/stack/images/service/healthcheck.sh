#!/bin/bash
# The container's HEALTHCHECK: GET /api/v1/health on the service's own port,
# healthy on 200. Plain bash (/dev/tcp): a check every 2 s costs no Node start.
exec 3<>"/dev/tcp/127.0.0.1/${PORT:-3000}" || exit 1
printf 'GET /api/v1/health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 3 _ status _ <&3 || { echo "unhealthy: no answer"; exit 1; }
[ "$status" = 200 ] || { echo "unhealthy: HTTP $status"; exit 1; }
