'use strict';

const { restHookTrigger } = require('../lib/rest-hook');
const { EVENT_FIELDS, SHIFT_FIELDS } = require('../lib/output-fields');
const sample = require('../samples/pain_point_spiked.json');

module.exports = restHookTrigger({
  key: 'pain_point_spiked',
  noun: 'Pain Point Spike',
  event: 'pain_point.spiked',
  display: {
    label: 'Pain Point Spike',
    description:
      "Triggers when a pain point's share of a persona's reviews and conversations rises significantly.",
  },
  sample,
  outputFields: [...EVENT_FIELDS, ...SHIFT_FIELDS],
});
