// The service's PostgreSQL pool (reconnects by itself) and its migrations.
'use strict';

const { Pool } = require('pg');
const log = require('./log');

const SCHEMAS = {
  auth: `
    CREATE TABLE IF NOT EXISTS users (
      id serial PRIMARY KEY, email text UNIQUE NOT NULL,
      password_hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE IF NOT EXISTS refresh_tokens (
      id serial PRIMARY KEY, user_id integer NOT NULL,
      token text UNIQUE NOT NULL, expires_at timestamptz NOT NULL);
    CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);`,
  user: `
    CREATE TABLE IF NOT EXISTS users (
      id serial PRIMARY KEY, email text UNIQUE NOT NULL, name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE IF NOT EXISTS profiles (
      user_id integer PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      bio text NOT NULL DEFAULT '', avatar_url text);`,
  ticket: `
    CREATE TABLE IF NOT EXISTS tickets (
      id serial PRIMARY KEY, user_id integer NOT NULL, title text NOT NULL,
      status text NOT NULL DEFAULT 'open', created_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX IF NOT EXISTS tickets_status_idx ON tickets (status);
    CREATE INDEX IF NOT EXISTS tickets_user_id_idx ON tickets (user_id);
    CREATE TABLE IF NOT EXISTS comments (
      id serial PRIMARY KEY, ticket_id integer NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
      body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());`,
};

// Connects and migrates; an unreachable database at start rejects (the service exits).
async function connect(config) {
  const pool = new Pool({ connectionString: config.databaseUrl, max: 5, connectionTimeoutMillis: 3000 });
  pool.on('error', (err) => log.error(err));
  await pool.query(SCHEMAS[config.service]);
  return pool;
}

module.exports = { connect };
