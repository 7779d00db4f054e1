"""ACME helpdesk service: auth, user or ticket (APP_NAME), as the platform
team writes its services. Configuration in the forms the team uses: PostgreSQL
as libpq-style parts (PGHOST/PGUSER/PGDATABASE + PGPASSWORD_FILE), as DB_*
parts or as a DATABASE_URL; Redis as a REDIS_URL with an ACL user, or
REDIS_HOST/REDIS_USERNAME/REDIS_PASSWORD_FILE; any secret as NAME or
NAME_FILE (a Docker secret). Plain-text logs: "LEVEL time name: message".
"""

import hashlib
import hmac
import logging
import os
import sys
import threading
import time

import psycopg2
import redis
from flask import Flask, g, jsonify, request

APP_NAME = os.environ["APP_NAME"]
LEVELS = {"WARN": "WARNING"}
LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()

logging.basicConfig(
    level=LEVELS.get(LEVEL, LEVEL),
    format="%(levelname)s %(asctime)s %(name)s: %(message)s",
    stream=sys.stdout,
)
log = logging.getLogger(f"acme.{APP_NAME}")

SCHEMAS = {
    "auth": """
        CREATE TABLE IF NOT EXISTS users (
            id bigserial PRIMARY KEY, username text UNIQUE NOT NULL,
            email text UNIQUE NOT NULL, pw_hash text NOT NULL,
            created timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS refresh_tokens (
            id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id),
            token_hash text UNIQUE NOT NULL, expires_at timestamptz NOT NULL,
            revoked boolean NOT NULL DEFAULT false);
        CREATE INDEX IF NOT EXISTS refresh_tokens_expiry ON refresh_tokens (expires_at);
        CREATE TABLE IF NOT EXISTS login_audit (
            id bigserial PRIMARY KEY, user_id bigint, ok boolean NOT NULL,
            at timestamptz NOT NULL DEFAULT now());
    """,
    "user": """
        CREATE TABLE IF NOT EXISTS accounts (
            id bigserial PRIMARY KEY, email text UNIQUE NOT NULL,
            display_name text NOT NULL, locale text NOT NULL DEFAULT 'en');
        CREATE TABLE IF NOT EXISTS preferences (
            account_id bigint PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
            theme text NOT NULL DEFAULT 'light', notify boolean NOT NULL DEFAULT true);
    """,
    "ticket": """
        CREATE TABLE IF NOT EXISTS tickets (
            id bigserial PRIMARY KEY, user_id bigint NOT NULL, subject text NOT NULL,
            status text NOT NULL DEFAULT 'new', opened timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS tickets_by_status ON tickets (status);
        CREATE INDEX IF NOT EXISTS tickets_by_user ON tickets (user_id);
        CREATE TABLE IF NOT EXISTS ticket_events (
            id bigserial PRIMARY KEY, ticket_id bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
            kind text NOT NULL, at timestamptz NOT NULL DEFAULT now());
    """,
}


def secret(name):
    """NAME, or the content of the file NAME_FILE names (without its newline)."""
    path = os.environ.get(name + "_FILE")
    if path:
        with open(path, encoding="utf-8") as f:
            return f.read().rstrip("\n")
    return os.environ.get(name)


def pg_connect():
    if os.environ.get("DATABASE_URL"):
        return psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=3)
    if os.environ.get("PGHOST"):
        # libpq reads PGHOST, PGPORT, PGUSER and PGDATABASE itself.
        return psycopg2.connect(password=secret("PGPASSWORD"), connect_timeout=3)
    return psycopg2.connect(
        host=os.environ["DB_HOST"],
        port=int(os.environ.get("DB_PORT", "5432")),
        user=os.environ["DB_USER"],
        dbname=os.environ["DB_NAME"],
        password=secret("DB_PASSWORD"),
        connect_timeout=3,
    )


def redis_client():
    options = {"socket_timeout": 2, "socket_connect_timeout": 2}
    if os.environ.get("REDIS_URL"):
        return redis.Redis.from_url(os.environ["REDIS_URL"], **options)
    return redis.Redis(
        host=os.environ["REDIS_HOST"],
        port=int(os.environ.get("REDIS_PORT", "6379")),
        username=os.environ.get("REDIS_USERNAME"),
        password=secret("REDIS_PASSWORD"),
        **options,
    )


def migrate():
    """The team's own migrations, at start: idempotent DDL, retried while the
    database starts."""
    deadline = time.time() + 60
    while True:
        try:
            connection = pg_connect()
            break
        except psycopg2.OperationalError as e:
            if time.time() > deadline:
                raise
            log.info("database not ready yet (%s), retrying", str(e).strip().splitlines()[0])
            time.sleep(1)
    with connection, connection.cursor() as cursor:
        cursor.execute(SCHEMAS[APP_NAME])
    connection.close()
    log.info("schema ready")


migrate()
app = Flask(APP_NAME)
logging.getLogger("werkzeug").setLevel(logging.WARNING)
local = threading.local()


def database():
    """This thread's connection, opened again when it was lost."""
    connection = getattr(local, "pg", None)
    if connection is None or connection.closed:
        connection = local.pg = pg_connect()
        connection.autocommit = True
    return connection


CACHE = redis_client()


def probe(name, call):
    try:
        call()
        return {"name": name, "status": "UP"}
    except Exception as e:  # noqa: BLE001 — any failure is the dependency's
        log.warning("health: %s is down: %s", name, type(e).__name__)
        return {"name": name, "status": "DOWN"}


def ping_postgres():
    """SELECT 1; a connection the server dropped (it restarted) is opened
    again once before the answer is DOWN, as a pool's pre-ping would."""
    for last in (False, True):
        try:
            with database().cursor() as cursor:
                cursor.execute("SELECT 1")
            return
        except psycopg2.Error:
            local.pg = None
            if last:
                raise


@app.before_request
def started():
    g.started = time.monotonic()


@app.after_request
def access_log(response):
    took = (time.monotonic() - g.started) * 1000
    log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, took)
    return response


@app.get("/api/v1/health")
def health():
    checks = [probe("postgres", ping_postgres), probe("redis", CACHE.ping)]
    up = all(c["status"] == "UP" for c in checks)
    body = {"service": APP_NAME, "status": "UP" if up else "DOWN", "checks": checks}
    return jsonify(body), 200 if up else 503


if APP_NAME == "auth":
    SIGNING_KEY = secret("JWT_SECRET").encode()

    @app.post("/api/v1/auth/verify")
    def verify():
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        body, _, signature = token.rpartition(".")
        expected = hmac.new(SIGNING_KEY, body.encode(), hashlib.sha256).hexdigest()
        if not body or not hmac.compare_digest(signature, expected):
            return jsonify({"error": "invalid token"}), 401
        return jsonify({"valid": True})


if APP_NAME == "ticket":

    @app.get("/api/v1/tickets")
    def tickets():
        with database().cursor() as cursor:
            cursor.execute("SELECT id, subject, status FROM tickets ORDER BY id DESC LIMIT 20")
            rows = cursor.fetchall()
        return jsonify([{"id": i, "subject": s, "status": st} for i, s, st in rows])
