'use strict';

const { apiUrl } = require('../lib/base-url');
const { compact } = require('../lib/ingest');
const sample = require('../samples/refresh_personas.json');

const perform = async (z, bundle) => {
  const input = bundle.inputData;
  const response = await z.request({
    url: apiUrl(bundle, '/v1/personas/refresh'),
    method: 'POST',
    body: compact({ k: input.k, k_max: input.k_max, method: input.method }),
  });
  return { id: response.data.job_id, ...response.data };
};

module.exports = {
  key: 'refresh_personas',
  noun: 'Refresh',
  display: {
    label: 'Refresh Personas',
    description:
      'Starts a refit of the personas on the latest data and returns the background job (needs the admin scope).',
  },
  operation: {
    perform,
    inputFields: [
      {
        key: 'k',
        label: 'Number of Personas',
        type: 'integer',
        helpText: 'Fix the number of personas (2 to 20); chosen from the data when empty.',
      },
      {
        key: 'k_max',
        label: 'Maximum Number of Personas',
        type: 'integer',
        helpText: 'Cap the number of personas (2 to 20).',
      },
      {
        key: 'method',
        label: 'Method',
        choices: ['auto', 'kmeans', 'gmm'],
        helpText: 'Clustering method; auto compares both.',
      },
    ],
    sample,
    outputFields: [
      { key: 'id', label: 'Job ID', type: 'string' },
      { key: 'job_id', label: 'Service Job ID', type: 'string' },
      { key: 'status', label: 'Status', type: 'string' },
      { key: 'status_url', label: 'Status URL', type: 'string' },
    ],
  },
};
