#!/bin/sh
# The official redis image's interface: `redis-server [args…]` (or bare
# `--option` arguments) runs the server with them as the redis user in /data;
# any other command runs as is. No password unless the arguments (or a config
# file they name) set one: `command: redis-server --requirepass …`.
set -eu
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" != redis-server ]; then exec "$@"; fi
mkdir -p /data
chown redis:redis /data
cd /data
exec setpriv --reuid=redis --regid=redis --init-groups "$@" --protected-mode no --bind 0.0.0.0
