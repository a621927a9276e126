'use strict';

const { apiUrl } = require('./lib/base-url');

// GET /v1/me answers {key_id, name, scopes}: never the secret.
const test = async (z, bundle) => {
  const response = await z.request({ url: apiUrl(bundle, '/v1/me') });
  return response.data;
};

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'base_url',
      label: 'Base URL',
      type: 'string',
      required: true,
      helpText:
        'The address of your PersonaPulse service, e.g. `https://personapulse.example.com` ' +
        '(https only). See [the API reference](https://github.com/personapulse/personapulse#the-api-at-a-glance).',
    },
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText:
        'An API key starting with `pp_`, created with `personapulse keys create --name zapier`. ' +
        'Triggers need the `admin` scope (to subscribe), actions `ingest`, searches `read`. ' +
        'See [API keys and scopes](https://github.com/personapulse/personapulse#the-api-at-a-glance).',
    },
  ],
  test,
  // The key's name and id from /v1/me: identifies the connection without revealing the key.
  connectionLabel: (z, bundle) => `${bundle.inputData.name} (${bundle.inputData.key_id})`,
};
