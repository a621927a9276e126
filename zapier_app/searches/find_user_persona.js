'use strict';

const { apiUrl } = require('../lib/base-url');
const sample = require('../samples/find_user_persona.json');

const perform = async (z, bundle) => {
  const user = String(bundle.inputData.user || '').trim();
  const response = await z.request({
    url: apiUrl(bundle, `/v1/users/${encodeURIComponent(user)}/persona`),
    skipThrowForStatus: true,
  });
  // Unknown user, or no persona for them: an empty search result, not a failed step.
  if (response.status === 404 && ((response.data && response.data.error) || {}).code === 'not_found') {
    return [];
  }
  response.throwForStatus();
  const assignment = response.data;
  const persona = await z.request({
    url: apiUrl(bundle, `/v1/personas/${encodeURIComponent(assignment.persona_id)}`),
  });
  return [
    {
      id: assignment.user_id,
      user_id: assignment.user_id,
      persona_id: assignment.persona_id,
      persona_name: persona.data.name,
      persona_share: persona.data.share,
      is_negative: persona.data.is_negative,
      probability: assignment.probability,
      version_id: assignment.version_id,
    },
  ];
};

module.exports = {
  key: 'find_user_persona',
  noun: 'User Persona',
  display: {
    label: 'Find Persona for User',
    description: 'Finds the persona a user belongs to, by user id, anonymous id or email.',
  },
  operation: {
    perform,
    inputFields: [
      {
        key: 'user',
        label: 'User ID or Email',
        required: true,
        helpText: 'Any id the user is known by (user id, anonymous id) or their email.',
      },
    ],
    sample,
    outputFields: [
      { key: 'id', label: 'User ID', type: 'string' },
      { key: 'user_id', label: 'Stitched User ID', type: 'string' },
      { key: 'persona_id', label: 'Persona ID', type: 'string' },
      { key: 'persona_name', label: 'Persona Name', type: 'string' },
      { key: 'persona_share', label: 'Persona Share of Users', type: 'number' },
      { key: 'is_negative', label: 'Is Negative Persona', type: 'boolean' },
      { key: 'probability', label: 'Probability', type: 'number' },
      { key: 'version_id', label: 'Persona Version ID', type: 'string' },
    ],
  },
};
