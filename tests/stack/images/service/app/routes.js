// HTTP endpoints: health, token verification (auth), and ordinary DB-backed listings.
'use strict';

const express = require('express');
const jwt = require('./jwt');
const log = require('./log');
const { faults } = require('./faults');

const PROBE_TIMEOUT_MS = 1000;
const TOKEN_CACHE_SECONDS = 900;
const RESOURCES = { auth: '/api/v1/auth/users', user: '/api/v1/users', ticket: '/api/v1/tickets' };
const TABLES = { auth: 'users', user: 'users', ticket: 'tickets' };
const INSERTS = {
  auth: ['INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id', (b) => [text(b.email), text(b.password_hash)]],
  user: ['INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id', (b) => [text(b.email), text(b.name)]],
  ticket: ['INSERT INTO tickets (user_id, title) VALUES ($1, $2) RETURNING id', (b) => [Number.isInteger(b.user_id) ? b.user_id : 1, text(b.title)]],
};

const text = (value) => (typeof value === 'string' ? value : '');

// Resolves "up" when `probe` succeeds within the probe timeout, "down" otherwise.
async function state(probe) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS); });
  try {
    await Promise.race([probe(), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

function router(config, pool, redis) {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => log.request(req.method, req.path, res.statusCode, Number((process.hrtime.bigint() - started) / 1000000n)));
    next();
  });
  faults(app);

  app.get('/api/v1/health', async (req, res) => {
    const [database, cache] = await Promise.all([state(() => pool.query('SELECT 1')), state(() => redis.ping())]);
    const healthy = database === 'up' && cache === 'up';
    res.status(healthy ? 200 : 503).json({
      status: healthy ? 'ok' : 'degraded',
      service: `${config.service}-service`,
      dependencies: { database, redis: cache },
    });
  });

  app.post('/api/v1/auth/verify', async (req, res) => {
    if (!config.jwtSecret) {
      log.error(new Error('Token verification failed: JWT_SECRET is not set'));
      return res.status(401).json({ valid: false, error: 'Token verification failed' });
    }
    const header = req.get('authorization') || '';
    if (!header.startsWith('Bearer ')) return res.status(401).json({ valid: false, error: 'missing bearer token' });
    let claims;
    try {
      claims = jwt.verify(header.slice('Bearer '.length), config.jwtSecret);
    } catch (err) {
      return res.status(401).json({ valid: false, error: err.message });
    }
    const id = claims.jti || JSON.stringify(claims.sub);
    try {
      await redis.set(`auth-service:tokens:${id}`, JSON.stringify(claims.sub), { EX: TOKEN_CACHE_SECONDS });
    } catch (err) {
      log.error(err);
    }
    res.json({ valid: true, sub: claims.sub });
  });

  const table = TABLES[config.service];
  app.get(RESOURCES[config.service], async (req, res) => {
    try {
      const { rows } = await pool.query(`SELECT * FROM ${table} ORDER BY id DESC LIMIT 20`);
      await redis.set(`${config.service}-service:cache:${table}`, String(rows.length), { EX: 60 }).catch(log.error);
      res.json({ items: rows });
    } catch (err) {
      log.error(err);
      res.status(500).json({ error: 'internal error' });
    }
  });

  app.post(RESOURCES[config.service], async (req, res) => {
    const [sql, values] = INSERTS[config.service];
    try {
      const { rows } = await pool.query(sql, values(req.body || {}));
      res.status(201).json({ id: rows[0].id });
    } catch (err) {
      res.status(400).json({ error: err.message });
    }
  });

  return app;
}

module.exports = { router };
