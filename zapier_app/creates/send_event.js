'use strict';

const { apiUrl } = require('../lib/base-url');
const { compact, COUNT_FIELDS } = require('../lib/ingest');
const sample = require('../samples/send_event.json');

const perform = async (z, bundle) => {
  const input = bundle.inputData;
  const message = compact({
    type: 'track',
    event: input.event,
    userId: input.user_id,
    anonymousId: input.anonymous_id,
    messageId: input.message_id,
    timestamp: input.timestamp,
    properties: input.properties,
  });
  const response = await z.request({
    url: apiUrl(bundle, '/v1/events'),
    method: 'POST',
    body: message,
  });
  const { errors, ...counts } = response.data;
  return { ...counts, event: input.event, message_id: input.message_id || null };
};

module.exports = {
  key: 'send_event',
  noun: 'Event',
  display: {
    label: 'Send Event',
    description:
      'Sends a behavioural event (a Segment track call) to PersonaPulse, e.g. Order Completed.',
  },
  operation: {
    perform,
    inputFields: [
      {
        key: 'event',
        label: 'Event Name',
        required: true,
        helpText: 'What the user did, e.g. `Order Completed` or `Checkout Started`.',
      },
      {
        key: 'user_id',
        label: 'User ID',
        helpText: 'Your id of the user. A User ID or an Anonymous ID is required.',
      },
      { key: 'anonymous_id', label: 'Anonymous ID', helpText: 'A device or cookie id.' },
      {
        key: 'timestamp',
        label: 'Timestamp',
        type: 'datetime',
        helpText: 'When it happened; now when empty.',
      },
      {
        key: 'message_id',
        label: 'Message ID',
        helpText: 'A unique id of this event: resending it does not store it twice.',
      },
      {
        key: 'properties',
        label: 'Properties',
        dict: true,
        helpText: 'Event properties, e.g. `revenue` = `42.5`.',
      },
    ],
    sample,
    outputFields: [
      ...COUNT_FIELDS,
      { key: 'event', label: 'Event Name', type: 'string' },
      { key: 'message_id', label: 'Message ID', type: 'string' },
    ],
  },
};
