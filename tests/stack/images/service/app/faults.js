// Fault switches for the doctor's tests, on only with FAULT_SWITCHES=on (the
// bundled stack): POST /api/v1/debug/leak?mb_per_second=N starts a memory leak
// (N MiB more kept every second, up to 1 GiB); N=0 stops it and frees it all.
// POST /api/v1/debug/verify?broken=1 makes /api/v1/auth/verify answer 500, as
// a verifier that throws does; broken=0 mends it. Registered before the routes.
'use strict';

const log = require('./log');

const MAX_CHUNKS = 1024;

function faults(app) {
  if (process.env.FAULT_SWITCHES !== 'on') return;
  const kept = [];
  let timer = null;
  let verifyBroken = false;
  app.post('/api/v1/debug/verify', (req, res) => {
    verifyBroken = req.query.broken === '1';
    log.info(`fault switch: token verification ${verifyBroken ? 'broken' : 'mended'}`);
    res.json({ verify_broken: verifyBroken });
  });
  app.use('/api/v1/auth/verify', (req, res, next) => {
    if (!verifyBroken) return next();
    log.error(new Error('Token verification crashed (fault switch)'));
    res.status(500).json({ error: 'internal error' });
  });
  app.post('/api/v1/debug/leak', (req, res) => {
    const mb = Math.min(Math.max(Math.floor(Number(req.query.mb_per_second) || 0), 0), 64);
    clearInterval(timer);
    timer = null;
    if (mb > 0) {
      timer = setInterval(() => {
        if (kept.length < MAX_CHUNKS) kept.push(Buffer.alloc(mb * 1024 * 1024, 1));
      }, 1000);
    } else {
      kept.length = 0;
    }
    log.info(`fault switch: leaking ${mb} MiB/s`);
    res.json({ leaking_mb_per_second: mb, kept_chunks: kept.length });
  });
}

module.exports = { faults };
