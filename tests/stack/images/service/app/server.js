// The helpdesk auth, user and ticket services (one program, SERVICE_NAME picks which):
// env config, migrations, health JSON, token verification, JSON logs.
'use strict';

const { createClient } = require('redis');
const config = require('./config');
const db = require('./db');
const log = require('./log');
const { router } = require('./routes');

process.on('unhandledRejection', (reason) => log.error(`Unhandled Rejection: ${reason}`));

async function connectRedis(url) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * (retries + 1), 2000) },
  });
  let last = '';
  client.on('error', (err) => {
    // A lost Redis is logged once per distinct error, not once per reconnect attempt.
    if (String(err) !== last) log.error(err);
    last = String(err);
  });
  client.on('ready', () => { last = ''; });
  await client.connect();
  return client;
}

async function main() {
  const settings = config.fromEnv();
  const pool = await db.connect(settings);
  const redis = await connectRedis(settings.redisUrl);
  const server = router(settings, pool, redis).listen(settings.port, '0.0.0.0', () =>
    log.info(`${settings.service}-service listening on port ${settings.port}`));
  server.on('error', (err) => { log.error(err); process.exit(1); });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  log.error(err);
  process.exit(1);
});
