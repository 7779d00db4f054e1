// The service's configuration, read from the environment.
'use strict';

const fs = require('fs');

const SERVICES = ['auth', 'user', 'ticket'];

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`missing environment variable ${name}`);
  return value;
}

// DATABASE_PASSWORD_FILE (a compose or Docker secret) gives the database password
// to node-pg through PGPASSWORD, used when DATABASE_URL carries none.
function readPasswordFile() {
  const file = process.env.DATABASE_PASSWORD_FILE;
  if (file) process.env.PGPASSWORD = fs.readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
}

function fromEnv() {
  readPasswordFile();
  const service = required('SERVICE_NAME');
  if (!SERVICES.includes(service)) throw new Error(`SERVICE_NAME must be auth, user or ticket, not ${JSON.stringify(service)}`);
  const port = Number.parseInt(required('PORT'), 10);
  if (!(port > 0 && port < 65536)) throw new Error('PORT is not a port number');
  return {
    service,
    port,
    databaseUrl: required('DATABASE_URL'),
    redisUrl: required('REDIS_URL'),
    jwtSecret: process.env.JWT_SECRET || null,
  };
}

module.exports = { fromEnv };
