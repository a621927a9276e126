'use strict';

const zapier = require('zapier-platform-core');
const App = require('../index');
const { retryAfterSeconds } = require('../lib/middleware');
const { liveAuth, readOnlyAuth, startReceiver, unique } = require('./helpers');

const appTester = zapier.createAppTester(App);

const parsedAppError = (err) => {
  expect(err.name).toBe('AppError');
  return JSON.parse(err.message);
};

describe('error mapping', () => {
  test('422 from the live service lists every field error', async () => {
    const failure = await appTester(App.creates.send_review.operation.perform, {
      authData: liveAuth(),
      inputData: { source: 'trustpilot', text: 'fine', rating: 9, review_id: unique('bad') },
    }).catch((err) => err);
    const parsed = parsedAppError(failure);
    expect(parsed).toMatchObject({ code: 'InvalidFields', status: 422 });
    expect(parsed.message).toMatch(/rating\[0\]: must be between 1 and 5/);
  });

  test('422 with several fields names all of them', async () => {
    const failure = await appTester(App.creates.send_review.operation.perform, {
      authData: liveAuth(),
      inputData: { source: 'fax', text: 'fine', rating: 0, review_id: unique('bad') },
    }).catch((err) => err);
    const { message } = parsedAppError(failure);
    expect(message).toMatch(/source\[0\]: must be one of: google, trustpilot/);
    expect(message).toMatch(/rating\[0\]: must be between 1 and 5/);
    expect(message.split('; ')).toHaveLength(2);
  });

  test('403 for a key without the scope says so', async () => {
    const failure = await appTester(App.creates.send_review.operation.perform, {
      authData: readOnlyAuth(),
      inputData: { source: 'google', text: 'Great food', review_id: unique('ro') },
    }).catch((err) => err);
    expect(parsedAppError(failure)).toMatchObject({ code: 'Forbidden', status: 403 });
  });

  test('429 becomes a ThrottledError carrying Retry-After (stub server: the service has no limiter)', async () => {
    const stub = await startReceiver(() => ({
      status: 429,
      headers: { 'Retry-After': '7' },
      body: { error: { status: 429, code: 'rate_limited', message: 'slow down' } },
    }));
    try {
      const failure = await appTester(App.authentication.test, {
        authData: { base_url: stub.url, api_key: 'pp_stub' },
      }).catch((err) => err);
      expect(failure.name).toBe('ThrottledError');
      expect(JSON.parse(failure.message)).toEqual({ message: 'slow down', delay: 7 });
      expect(stub.received[0].headers['x-api-key']).toBe('pp_stub');
      expect(stub.received[0].url).toBe('/v1/me');
    } finally {
      await stub.close();
    }
  });

  test('Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(retryAfterSeconds('30', now)).toBe(30);
    expect(retryAfterSeconds('Mon, 23 Nov 2026 10:01:00 GMT', now)).toBe(60);
    expect(retryAfterSeconds(null, now)).toBeNull();
    expect(retryAfterSeconds('soon', now)).toBeNull();
  });
});
