'use strict';

const { restHookTrigger } = require('../lib/rest-hook');
const { EVENT_FIELDS, SHIFT_FIELDS } = require('../lib/output-fields');
const sample = require('../samples/persona_shifted.json');

module.exports = restHookTrigger({
  key: 'persona_shifted',
  noun: 'Persona Shift',
  event: 'persona.shifted',
  display: {
    label: 'Persona Shifted',
    description:
      'Triggers when a refresh detects a significant change in a persona (share, traits or pain points).',
  },
  sample,
  outputFields: [...EVENT_FIELDS, ...SHIFT_FIELDS],
});
