'use strict';

const { normalizeBaseUrl } = require('./base-url');

/** Adds the API key and takes over 429 handling so afterResponse can read the error body. */
const addApiKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.api_key) {
    request.headers = request.headers || {};
    request.headers['X-API-Key'] = bundle.authData.api_key;
  }
  if (bundle.authData && bundle.authData.base_url) {
    // Fails early, before any request leaves, when the connection's URL is unsafe.
    normalizeBaseUrl(bundle.authData.base_url);
  }
  request.throwForThrottlingEarly = false;
  return request;
};

const errorOf = (response) => {
  try {
    const body = response.data !== undefined ? response.data : JSON.parse(response.content);
    return (body && body.error) || {};
  } catch (err) {
    return {};
  }
};

/** Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; null if absent. */
const retryAfterSeconds = (header, now = Date.now()) => {
  if (header === null || header === undefined || header === '') {
    return null;
  }
  const seconds = Number(header);
  if (Number.isFinite(seconds)) {
    return Math.max(0, Math.ceil(seconds));
  }
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
};

/** The service's single error shape → Zapier errors a Zap runner understands. */
const mapErrors = (response, z) => {
  const { status } = response;
  if (status < 400) {
    return response;
  }
  const error = errorOf(response);
  const message = error.message || `PersonaPulse answered ${status}`;
  if (status === 401) {
    throw new z.errors.Error(
      `Your PersonaPulse API key was rejected (${message}). Reconnect with a valid key.`,
      'AuthenticationError',
      401,
    );
  }
  if (status === 403) {
    throw new z.errors.Error(
      `Your PersonaPulse API key lacks the scope this step needs (${message}).`,
      'Forbidden',
      403,
    );
  }
  if (status === 422) {
    const fields = (error.fields || []).map((field) => {
      const where = field.index === undefined || field.index === null ? '' : `[${field.index}]`;
      return `${field.field}${where}: ${field.reason}`;
    });
    throw new z.errors.Error(
      fields.length ? `${message}: ${fields.join('; ')}` : message,
      'InvalidFields',
      422,
    );
  }
  if (status === 429) {
    throw new z.errors.ThrottledError(
      message,
      retryAfterSeconds(response.headers.get('retry-after')),
    );
  }
  return response;
};

module.exports = { addApiKey, mapErrors, retryAfterSeconds };
