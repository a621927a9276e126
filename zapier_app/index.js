'use strict';

const { version } = require('./package.json');
const { version: platformVersion } = require('zapier-platform-core');
const authentication = require('./authentication');
const { addApiKey, mapErrors } = require('./lib/middleware');

const triggers = [
  require('./triggers/persona_created'),
  require('./triggers/persona_shifted'),
  require('./triggers/recommendation_created'),
  require('./triggers/review_classified'),
  require('./triggers/pain_point_spiked'),
  require('./triggers/persona_list'),
];
const creates = [
  require('./creates/send_review'),
  require('./creates/send_event'),
  require('./creates/send_crm_conversation'),
  require('./creates/refresh_personas'),
  require('./creates/erase_person'),
];
const searches = [
  require('./searches/find_user_persona'),
  require('./searches/find_recommendation'),
];

const byKey = (definitions) =>
  Object.fromEntries(definitions.map((definition) => [definition.key, definition]));

module.exports = {
  version,
  platformVersion,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [mapErrors],
  triggers: byKey(triggers),
  creates: byKey(creates),
  searches: byKey(searches),
};
