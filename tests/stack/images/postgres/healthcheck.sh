#!/bin/sh
# Healthy once the server accepts queries on its database.
exec psql -X -q -U "$POSTGRES_USER" -d "${POSTGRES_DB:-$POSTGRES_USER}" -c 'SELECT 1' >/dev/null
