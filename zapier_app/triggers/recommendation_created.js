'use strict';

const { restHookTrigger } = require('../lib/rest-hook');
const { EVENT_FIELDS } = require('../lib/output-fields');
const sample = require('../samples/recommendation_created.json');

module.exports = restHookTrigger({
  key: 'recommendation_created',
  noun: 'Recommendation',
  event: 'recommendation.created',
  display: {
    label: 'New Marketing Recommendation',
    description: 'Triggers when a new marketing recommendation is derived for a persona.',
  },
  sample,
  outputFields: [
    ...EVENT_FIELDS,
    { key: 'object_id', label: 'Recommendation Object ID', type: 'string' },
    { key: 'recommendation_id', label: 'Recommendation ID', type: 'string' },
    { key: 'rule', label: 'Rule', type: 'string' },
    { key: 'persona_id', label: 'Persona ID', type: 'string' },
    { key: 'persona_name', label: 'Persona Name', type: 'string' },
    { key: 'priority', label: 'Priority', type: 'string' },
    { key: 'title', label: 'Title', type: 'string' },
    { key: 'action', label: 'Action', type: 'string' },
    { key: 'evidence', label: 'Evidence', list: true, type: 'string' },
    { key: 'rationale', label: 'Rationale', type: 'string' },
    { key: 'version_id', label: 'Persona Version ID', type: 'string' },
  ],
});
