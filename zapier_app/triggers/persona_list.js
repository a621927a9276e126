'use strict';

const { apiUrl } = require('../lib/base-url');

// Hidden: feeds the persona dropdowns of actions and searches.
const perform = async (z, bundle) => {
  const response = await z.request({ url: apiUrl(bundle, '/v1/personas') });
  return (response.data.personas || []).map((persona) => ({
    id: persona.persona_id,
    name: persona.name,
  }));
};

module.exports = {
  key: 'persona_list',
  noun: 'Persona',
  display: {
    label: 'List Personas',
    description: 'Triggers when a persona appears in the current version (lists them for dropdowns).',
    hidden: true,
  },
  operation: {
    perform,
    sample: { id: 'p_3c2e5682', name: 'Power high-spend buyers' },
    outputFields: [
      { key: 'id', label: 'Persona ID', type: 'string' },
      { key: 'name', label: 'Persona Name', type: 'string' },
    ],
  },
};
