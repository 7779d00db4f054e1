// One JSON line per event on stdout.
'use strict';

function emit(level, fields) {
  const line = { level, service: process.env.SERVICE_NAME || '', time: Date.now(), ...fields };
  process.stdout.write(JSON.stringify(line) + '\n');
}

const info = (message) => emit('info', { message });
// Errors are logged as Node prints them: "Error: connect ECONNREFUSED 172.18.0.2:5432".
const error = (err) => emit('error', { message: String(err) });

function request(method, path, status, durationMs) {
  const fields = { method, path, status, duration_ms: durationMs };
  if (durationMs > 1000) fields.message = `slow request: ${method} ${path} took ${durationMs} ms`;
  emit(status >= 500 ? 'error' : 'info', fields);
}

module.exports = { info, error, request };
