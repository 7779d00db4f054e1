// HS256 JSON Web Tokens: verification as the auth service does it.
'use strict';

const crypto = require('crypto');

function decodeJson(part) {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error('malformed token');
  }
}

// Checks the signature and expiry of `token`; returns its claims or throws the reason.
function verify(token, secret) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed token');
  const [header, payload, signature] = parts;
  if (decodeJson(header).alg !== 'HS256') throw new Error('unsupported algorithm');
  const expected = crypto.createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw new Error('invalid signature');
  const claims = decodeJson(payload);
  if (typeof claims.exp !== 'number') throw new Error('malformed token');
  if (claims.exp <= Math.floor(Date.now() / 1000)) throw new Error('token expired');
  return claims;
}

module.exports = { verify };
