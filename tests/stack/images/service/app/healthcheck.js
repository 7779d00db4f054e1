// The container's HEALTHCHECK: GET /api/v1/health on the service's own port, 200 or exit 1.
'use strict';

const http = require('http');

const request = http.get({ host: '127.0.0.1', port: process.env.PORT || 3000, path: '/api/v1/health', timeout: 3000 }, (res) => {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  console.error(`unhealthy: HTTP ${res.statusCode}`);
  process.exit(1);
});
request.on('timeout', () => { console.error('unhealthy: timeout'); process.exit(1); });
request.on('error', (err) => { console.error(`unhealthy: ${err}`); process.exit(1); });
