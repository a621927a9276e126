'use strict';

// Plain http is only acceptable when the service runs on this machine (tests, local demos).
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The service's base URL from the connection, checked and without a trailing slash.
 * Throws a user-facing error for anything but https (or http on a loopback host).
 */
const normalizeBaseUrl = (raw) => {
  const text = String(raw || '').trim();
  let parsed;
  try {
    parsed = new URL(text);
  } catch (err) {
    throw new Error(`Base URL "${text}" is not a URL, e.g. https://personapulse.example.com`);
  }
  const loopback = LOOPBACK_HOSTS.has(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new Error(
      `Base URL must use https (http is only allowed for 127.0.0.1 or localhost), got "${text}"`,
    );
  }
  if (parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new Error('Base URL must not contain credentials, a query or a fragment');
  }
  // Exact paths only: Zapier's client refuses redirects to loopback, so "/v1/x/" must never
  // depend on the service redirecting it.
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
};

/** `{base_url}{path}` for the connection in `bundle`. */
const apiUrl = (bundle, path) => `${normalizeBaseUrl(bundle.authData.base_url)}${path}`;

module.exports = { normalizeBaseUrl, apiUrl };
