'use strict';

const { apiUrl } = require('../lib/base-url');
const sample = require('../samples/erase_person.json');

// Zapier hands boolean fields over as the strings "true" / "false" (a test run may pass a boolean).
const asBoolean = (value) => ['true', 'yes', '1'].includes(String(value).toLowerCase());

const total = (counts) => Object.values(counts || {}).reduce((sum, n) => sum + n, 0);

const perform = async (z, bundle) => {
  const response = await z.request({
    url: apiUrl(bundle, '/v1/erasures'),
    method: 'POST',
    body: { person: bundle.inputData.person, suppress: asBoolean(bundle.inputData.suppress) },
  });
  const { deleted, scrubbed, ...erasure } = response.data;
  return {
    id: erasure.erasure_id,
    ...erasure,
    rows_deleted: total(deleted),
    events_deleted: (deleted || {}).events || 0,
    reviews_deleted: (deleted || {}).reviews || 0,
    conversations_deleted: (deleted || {}).conversations || 0,
    rows_scrubbed: total(scrubbed),
  };
};

module.exports = {
  key: 'erase_person',
  noun: 'Erasure',
  display: {
    label: 'Erase Person',
    description:
      'Deletes everything PersonaPulse stores about one person and scrubs them from personas and cards, for a GDPR or CCPA deletion request (needs the admin scope).',
  },
  operation: {
    perform,
    inputFields: [
      {
        key: 'person',
        label: 'Person',
        required: true,
        helpText:
          'Any id of the person: user id, anonymous id or email. An unknown person is not an error: the step reports Found as false.',
      },
      {
        key: 'suppress',
        label: 'Also Suppress',
        type: 'boolean',
        default: 'false',
        helpText:
          'Put every id of the person on the suppression list, so data your sources send about them later is dropped instead of stored again.',
      },
    ],
    sample,
    outputFields: [
      { key: 'id', label: 'Erasure ID', type: 'string' },
      { key: 'erasure_id', label: 'Service Erasure ID', type: 'string' },
      { key: 'found', label: 'Found', type: 'boolean' },
      { key: 'subject_hash', label: 'Subject Hash', type: 'string' },
      { key: 'salt', label: 'Salt', type: 'string' },
      { key: 'requested_by', label: 'Requested By', type: 'string' },
      { key: 'finished_ms', label: 'Finished Epoch Milliseconds', type: 'integer' },
      { key: 'suppressed', label: 'IDs Suppressed', type: 'integer' },
      { key: 'airtable_job_id', label: 'Airtable Job ID', type: 'string' },
      { key: 'wal_truncated', label: 'Write-Ahead Log Emptied', type: 'boolean' },
      { key: 'rows_deleted', label: 'Rows Deleted', type: 'integer' },
      { key: 'events_deleted', label: 'Events Deleted', type: 'integer' },
      { key: 'reviews_deleted', label: 'Reviews Deleted', type: 'integer' },
      { key: 'conversations_deleted', label: 'Conversations Deleted', type: 'integer' },
      { key: 'rows_scrubbed', label: 'Rows Scrubbed', type: 'integer' },
    ],
  },
};
