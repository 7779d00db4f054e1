#!/bin/sh
# The official postgres image's interface: `postgres [args…]` (or bare `-c …`
# arguments) runs the server with those arguments, any other command runs as
# is; POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, POSTGRES_USER (default postgres, the
# superuser), POSTGRES_DB; /docker-entrypoint-initdb.d/*.sql and *.sh run once
# on an empty data folder. pg_stat_statements is created in POSTGRES_DB but, as
# with the official image, only preloaded when the command line asks
# (`-c shared_preload_libraries=pg_stat_statements`).
set -eu
if [ "$#" -gt 0 ] && [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$#" -gt 0 ] && [ "$1" != postgres ]; then exec "$@"; fi
[ "$#" -gt 0 ] && shift
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
  POSTGRES_PASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
fi
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE is required}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
BIN=/usr/lib/postgresql/15/bin
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" "$@"; }

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  chown postgres "$pwfile"
  as_postgres "$BIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
unix_socket_directories = '/var/run/postgresql'
CONF
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  as_postgres "$BIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  [ "$POSTGRES_DB" = postgres ] || sql -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
  sql -d "$POSTGRES_DB" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
  for init in /docker-entrypoint-initdb.d/*; do
    case "$init" in
      *.sql) sql -d "$POSTGRES_DB" -f "$init" ;;
      *.sh) . "$init" ;;
    esac
  done
  as_postgres "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  echo "database $POSTGRES_DB initialised"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$BIN/postgres" -D "$PGDATA" "$@"
