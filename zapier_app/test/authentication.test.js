'use strict';

const zapier = require('zapier-platform-core');
const App = require('../index');
const { normalizeBaseUrl } = require('../lib/base-url');
const { liveAuth, readOnlyAuth } = require('./helpers');

const appTester = zapier.createAppTester(App);

describe('authentication against the live service', () => {
  test('a valid key passes the test request and labels the connection by its name', async () => {
    const me = await appTester(App.authentication.test, { authData: liveAuth() });
    expect(me).toEqual({ key_id: expect.stringMatching(/^key_/), name: 'e2e', scopes: ['admin', 'ingest', 'read'] });
    const label = App.authentication.connectionLabel({}, { inputData: me, authData: liveAuth() });
    expect(label).toBe(`e2e (${me.key_id})`);
    expect(label).not.toContain(liveAuth().api_key);
  });

  test('a read-only key passes too (the test request needs only read)', async () => {
    const me = await appTester(App.authentication.test, { authData: readOnlyAuth() });
    expect(me.name).toBe('ro');
    expect(me.scopes).toEqual(['read']);
  });

  test('a wrong key fails with an AuthenticationError (401)', async () => {
    const authData = { ...liveAuth(), api_key: 'pp_000000000000_not-a-real-key' };
    const failure = await appTester(App.authentication.test, { authData }).catch((err) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(failure.name).toBe('AppError');
    const parsed = JSON.parse(failure.message);
    expect(parsed).toMatchObject({ code: 'AuthenticationError', status: 401 });
    expect(parsed.message).toMatch(/API key was rejected/);
    expect(failure.message).not.toContain('not-a-real-key');
  });

  test('a trailing slash on the base URL still reaches the exact path', async () => {
    const authData = { ...liveAuth(), base_url: `${liveAuth().base_url}/` };
    const me = await appTester(App.authentication.test, { authData });
    expect(me.name).toBe('e2e');
  });
});

describe('base URL validation', () => {
  test('https anywhere, http only on loopback', () => {
    expect(normalizeBaseUrl('https://pp.example.com/')).toBe('https://pp.example.com');
    expect(normalizeBaseUrl('https://pp.example.com/api//')).toBe('https://pp.example.com/api');
    expect(normalizeBaseUrl('http://127.0.0.1:8000')).toBe('http://127.0.0.1:8000');
    expect(normalizeBaseUrl('http://localhost:8000/')).toBe('http://localhost:8000');
    expect(() => normalizeBaseUrl('http://pp.example.com')).toThrow(/must use https/);
    expect(() => normalizeBaseUrl('http://10.0.0.5')).toThrow(/must use https/);
    expect(() => normalizeBaseUrl('ftp://127.0.0.1')).toThrow(/must use https/);
    expect(() => normalizeBaseUrl('not a url')).toThrow(/is not a URL/);
    expect(() => normalizeBaseUrl('https://user:pw@pp.example.com')).toThrow(/credentials/);
  });

  test('an http base URL off loopback fails the connection test before any request', async () => {
    const authData = { ...liveAuth(), base_url: 'http://personapulse.example.com' };
    await expect(appTester(App.authentication.test, { authData })).rejects.toThrow(/must use https/);
  });
});
