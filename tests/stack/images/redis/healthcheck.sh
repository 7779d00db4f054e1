#!/bin/sh
# Healthy when PING answers PONG with the container's own password.
REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning ping | grep -qx PONG
