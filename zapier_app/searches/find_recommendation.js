'use strict';

const { apiUrl } = require('../lib/base-url');
const sample = require('../samples/find_recommendation.json');

const PRIORITY_ORDER = { high: 0, medium: 1, low: 2 };

const perform = async (z, bundle) => {
  const { persona, priority } = bundle.inputData;
  const response = await z.request({
    url: apiUrl(bundle, '/v1/recommendations'),
    params: { persona },
  });
  const found = (response.data.recommendations || []).filter(
    (recommendation) => !priority || recommendation.priority === priority,
  );
  // Zapier uses the first result: the most urgent recommendation comes first.
  return found
    .map((recommendation, index) => ({ recommendation, index }))
    .sort(
      (a, b) =>
        (PRIORITY_ORDER[a.recommendation.priority] ?? 3) -
          (PRIORITY_ORDER[b.recommendation.priority] ?? 3) || a.index - b.index,
    )
    .map(({ recommendation }) => recommendation);
};

module.exports = {
  key: 'find_recommendation',
  noun: 'Recommendation',
  display: {
    label: 'Find Recommendation',
    description: 'Finds the most urgent marketing recommendation for a persona.',
  },
  operation: {
    perform,
    inputFields: [
      {
        key: 'persona',
        label: 'Persona',
        required: true,
        dynamic: 'persona_list.id.name',
        helpText: 'The persona to find recommendations for.',
      },
      {
        key: 'priority',
        label: 'Priority',
        choices: ['high', 'medium', 'low'],
        helpText: 'Only recommendations of this priority; any when empty.',
      },
    ],
    sample,
    outputFields: [
      { key: 'id', label: 'Recommendation ID', type: 'string' },
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
  },
};
