#!/bin/sh
# Writes the config (with requirepass) and runs redis-server as the redis user.
set -eu
: "${REDIS_PASSWORD:?REDIS_PASSWORD is required}"
conf=/etc/redis/helpdesk.conf
mkdir -p /data
chown redis:redis /data
umask 077
cat >"$conf" <<CONF
bind 0.0.0.0
protected-mode no
port 6379
dir /data
save 300 100
maxmemory ${REDIS_MAXMEMORY:-512mb}
maxmemory-policy allkeys-lru
requirepass $REDIS_PASSWORD
CONF
chown redis:redis "$conf"
exec setpriv --reuid=redis --regid=redis --init-groups redis-server "$conf"
