'use strict';

const { restHookTrigger } = require('../lib/rest-hook');
const { EVENT_FIELDS } = require('../lib/output-fields');
const sample = require('../samples/persona_created.json');

module.exports = restHookTrigger({
  key: 'persona_created',
  noun: 'Persona',
  event: 'persona.created',
  display: {
    label: 'New Persona',
    description: 'Triggers when a persona refresh finds a new persona.',
  },
  sample,
  outputFields: [
    ...EVENT_FIELDS,
    { key: 'persona_id', label: 'Persona ID', type: 'string' },
    { key: 'version_id', label: 'Persona Version ID', type: 'string' },
    { key: 'name', label: 'Persona Name', type: 'string' },
    { key: 'size', label: 'Users in Persona', type: 'integer' },
    { key: 'share', label: 'Share of Users', type: 'number' },
  ],
});
