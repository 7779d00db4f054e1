#!/bin/sh
# Healthy once the server accepts queries on its database.
exec psql -X -q -U "${POSTGRES_USER:-postgres}" -d "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" -c 'SELECT 1' >/dev/null
