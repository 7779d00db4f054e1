# Sourced by the postgres image's entrypoint on first start: the service's own
# login role (the superuser stays the operators'), allowed to read every
# session's statistics as the guide's slow-query check needs.
sql -d "$POSTGRES_DB" -v app_password="$TICKET_APP_PASSWORD" <<'SQL'
CREATE ROLE ticket_app LOGIN PASSWORD :'app_password';
GRANT pg_read_all_stats TO ticket_app;
GRANT ALL ON SCHEMA public TO ticket_app;
SQL
