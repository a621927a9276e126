'use strict';

const http = require('http');

const liveAuth = () => ({
  base_url: process.env.PERSONAPULSE_TEST_BASE_URL,
  api_key: process.env.PERSONAPULSE_TEST_API_KEY,
});

const readOnlyAuth = () => ({
  base_url: process.env.PERSONAPULSE_TEST_BASE_URL,
  api_key: process.env.PERSONAPULSE_TEST_READ_ONLY_KEY,
});

/** A unique suffix so reruns against one service never hit the idempotency dedupe. */
const unique = (prefix) => `${prefix}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;

/**
 * An HTTP server on 127.0.0.1 that records every request (method, url, headers, JSON body)
 * and answers with `respond(request)` → {status, headers, body} (default 200 {}).
 */
const startReceiver = async (respond = () => ({ status: 200, body: {} })) => {
  const received = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      let body = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch (err) {
        body = raw;
      }
      const entry = { method: req.method, url: req.url, headers: req.headers, body };
      received.push(entry);
      const answer = respond(entry);
      res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body === undefined ? {} : answer.body));
      waiters.splice(0).forEach((wake) => wake());
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  /** Resolves with the first received request matching `predicate`, or rejects after `ms`. */
  const waitFor = (predicate, ms) =>
    new Promise((resolve, reject) => {
      const deadline = Date.now() + ms;
      const check = () => {
        const found = received.find(predicate);
        if (found) {
          resolve(found);
        } else if (Date.now() > deadline) {
          reject(new Error(`nothing matching arrived within ${ms} ms (${received.length} received)`));
        } else {
          waiters.push(check);
          setTimeout(check, Math.min(250, Math.max(0, deadline - Date.now()) + 1)).unref();
        }
      };
      check();
    });

  const close = () => new Promise((resolve) => server.close(resolve));
  return { url: `http://127.0.0.1:${port}`, received, waitFor, close };
};

module.exports = { liveAuth, readOnlyAuth, unique, startReceiver };
