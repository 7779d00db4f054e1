#!/bin/sh
# Healthy when the server answers PING (PONG, or NOAUTH when it has a password:
# the healthcheck does not need to know it).
redis-cli ping 2>&1 | grep -qE '^(PONG|NOAUTH)'
