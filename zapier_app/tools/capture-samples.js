'use strict';
/*
 * Rewrites samples/*.json from a live PersonaPulse service by running the app's own operations.
 * Usage: PERSONAPULSE_BASE_URL=http://127.0.0.1:8000 PERSONAPULSE_API_KEY=pp_… node tools/capture-samples.js
 * (start one with: ../.venv/bin/python ../scripts/run_test_service.py)
 */
const fs = require('fs');
const path = require('path');
const zapier = require('zapier-platform-core');
const App = require('../index');

const appTester = zapier.createAppTester(App);
const authData = {
  base_url: process.env.PERSONAPULSE_BASE_URL,
  api_key: process.env.PERSONAPULSE_API_KEY,
};
const write = (name, item) =>
  fs.writeFileSync(
    path.join(__dirname, '..', 'samples', `${name}.json`),
    `${JSON.stringify(item, null, 2)}\n`,
  );

const EVENT_TRIGGERS = [
  'persona_created',
  'persona_shifted',
  'recommendation_created',
  'review_classified',
  'pain_point_spiked',
];

const main = async () => {
  for (const key of EVENT_TRIGGERS) {
    const items = await appTester(App.triggers[key].operation.performList, { authData });
    write(key, items[0]);
  }
  write(
    'send_review',
    await appTester(App.creates.send_review.operation.perform, {
      authData,
      inputData: {
        source: 'trustpilot',
        review_id: 'sample-1',
        text: 'Delivery was late again and the box was damaged',
        rating: 2,
      },
    }),
  );
  write(
    'send_event',
    await appTester(App.creates.send_event.operation.perform, {
      authData,
      inputData: {
        event: 'Order Completed',
        user_id: 'usr_sample',
        message_id: 'sample-msg-1',
        timestamp: '2026-11-23T10:00:00Z',
        properties: { revenue: '42.5' },
      },
    }),
  );
  write(
    'send_crm_conversation',
    await appTester(App.creates.send_crm_conversation.operation.perform, {
      authData,
      inputData: {
        source: 'hubspot',
        conversation_id: 'sample-c1',
        subject: 'Cancel my plan',
        customer_message: 'I want to cancel, the price is too high',
        agent_message: 'Sorry to hear that, let me help',
      },
    }),
  );
  write(
    'refresh_personas',
    await appTester(App.creates.refresh_personas.operation.perform, { authData, inputData: {} }),
  );
  const personas = await appTester(App.triggers.persona_list.operation.perform, { authData });
  const recommendations = await appTester(App.searches.find_recommendation.operation.perform, {
    authData,
    inputData: { persona: personas[0].id },
  });
  write('find_recommendation', recommendations[0]);
  const reviews = await appTester(App.triggers.review_classified.operation.performList, {
    authData,
  });
  const user = reviews.find((item) => item.user_id).user_id;
  const found = await appTester(App.searches.find_user_persona.operation.perform, {
    authData,
    inputData: { user },
  });
  write('find_user_persona', found[0]);
};

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
