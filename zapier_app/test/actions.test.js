'use strict';

const zapier = require('zapier-platform-core');
const App = require('../index');
const { liveAuth, unique } = require('./helpers');

const appTester = zapier.createAppTester(App);
const keysOf = (object) => Object.keys(object).sort();

const getJson = async (path) => {
  const { base_url: baseUrl, api_key: apiKey } = liveAuth();
  const response = await fetch(`${baseUrl}${path}`, { headers: { 'X-API-Key': apiKey } });
  expect(response.status).toBe(200);
  return response.json();
};

const knownUserWithEmail = async () => {
  const { assignments } = await getJson('/v1/assignments');
  for (const { user_id: userId } of assignments.filter((row) => row.user_id.startsWith('usr_'))) {
    const person = await getJson(`/v1/users/${encodeURIComponent(userId)}`);
    if (person.profile && person.profile.email) {
      return { user_id: userId, email: person.profile.email };
    }
  }
  throw new Error('no demo user with an email');
};

describe('creates against the live service', () => {
  test('Send Review stores the review and returns its classification', async () => {
    const reviewId = unique('zap-review');
    const result = await appTester(App.creates.send_review.operation.perform, {
      authData: liveAuth(),
      inputData: {
        source: 'trustpilot',
        review_id: reviewId,
        text: 'Delivery was late again and the box arrived damaged',
        rating: 2,
        title: '',
      },
    });
    expect(result).toMatchObject({ accepted: 1, duplicate: 0, rejected: 0, id: `trustpilot:${reviewId}` });
    expect(result.sentiment_label).toBe('negative');
    expect(result.pain_points.map((pain) => pain.label)).toContain('shipping_delivery');
    expect(keysOf(result)).toEqual(keysOf(App.creates.send_review.operation.sample));

    const again = await appTester(App.creates.send_review.operation.perform, {
      authData: liveAuth(),
      inputData: { source: 'trustpilot', review_id: reviewId, text: 'Delivery was late again and the box arrived damaged', rating: 2 },
    });
    expect(again).toMatchObject({ accepted: 0, duplicate: 1 });
  });

  test('Send Event stores a Segment track call', async () => {
    const messageId = unique('zap-msg');
    const inputData = {
      event: 'Order Completed',
      user_id: 'usr_zapier_test',
      message_id: messageId,
      timestamp: new Date().toISOString(),
      properties: { revenue: '42.5', plan: 'family' },
    };
    const result = await appTester(App.creates.send_event.operation.perform, { authData: liveAuth(), inputData });
    expect(result).toEqual({
      accepted: 1,
      duplicate: 0,
      rejected: 0,
      flagged: 0,
      suppressed: 0,
      event: 'Order Completed',
      message_id: messageId,
    });
    const resent = await appTester(App.creates.send_event.operation.perform, { authData: liveAuth(), inputData });
    expect(resent).toMatchObject({ accepted: 0, duplicate: 1 });
  });

  test('Send Event without any user id is rejected with the field named', async () => {
    const failure = await appTester(App.creates.send_event.operation.perform, {
      authData: liveAuth(),
      inputData: { event: 'Order Completed', message_id: unique('zap-anon') },
    }).catch((err) => err);
    expect(JSON.parse(failure.message).message).toMatch(/userId\[0\]: userId or anonymousId is required/);
  });

  test('Send CRM Conversation returns intents and pain points', async () => {
    const conversationId = unique('zap-conv');
    const result = await appTester(App.creates.send_crm_conversation.operation.perform, {
      authData: liveAuth(),
      inputData: {
        source: 'hubspot',
        conversation_id: conversationId,
        subject: 'Cancel my plan',
        customer_message: 'I want to cancel, the price is too high',
        agent_message: 'Sorry to hear that, let me help',
      },
    });
    expect(result).toMatchObject({ accepted: 1, id: `hubspot:${conversationId}` });
    expect(result.intents.map((intent) => intent.intent)).toContain('churning');
    expect(result.pain_points.map((pain) => pain.label)).toEqual(expect.arrayContaining(['cancellation', 'pricing']));
    expect(keysOf(result)).toEqual(keysOf(App.creates.send_crm_conversation.operation.sample));
  });

  test('Send CRM Conversation takes a call transcript', async () => {
    const result = await appTester(App.creates.send_crm_conversation.operation.perform, {
      authData: liveAuth(),
      inputData: {
        source: 'salesforce',
        conversation_id: unique('zap-call'),
        transcript: 'Agent: How can I help?\nCustomer: The delivery is always late and I am thinking of leaving.',
      },
    });
    expect(result.accepted).toBe(1);
    expect(result.pain_points.map((pain) => pain.label)).toContain('shipping_delivery');
  });

});

describe('searches and the persona dropdown against the live service', () => {
  let personas;

  beforeAll(async () => {
    personas = await appTester(App.triggers.persona_list.operation.perform, { authData: liveAuth() });
  });

  test('the hidden persona list gives id and name for dropdowns', () => {
    expect(personas.length).toBeGreaterThanOrEqual(2);
    for (const persona of personas) {
      expect(keysOf(persona)).toEqual(['id', 'name']);
      expect(persona.id).toMatch(/^p_/);
      expect(persona.name.length).toBeGreaterThan(0);
    }
  });

  test('Find Persona for User by user id and by email gives the same persona, with its name', async () => {
    // A demo user with an email, read straight from the service (not through the app under test).
    const known = await knownUserWithEmail();
    const byId = await appTester(App.searches.find_user_persona.operation.perform, {
      authData: liveAuth(),
      inputData: { user: known.user_id },
    });
    const byEmail = await appTester(App.searches.find_user_persona.operation.perform, {
      authData: liveAuth(),
      inputData: { user: known.email },
    });
    expect(byId).toHaveLength(1);
    expect(byEmail).toEqual(byId);
    const [found] = byId;
    expect(found.user_id).toBe(known.user_id);
    expect(personas.map((persona) => persona.id)).toContain(found.persona_id);
    expect(found.persona_name).toBe(personas.find((persona) => persona.id === found.persona_id).name);
    expect(keysOf(found)).toEqual(keysOf(App.searches.find_user_persona.operation.sample));
  });

  test('Find Persona for User answers no result for an unknown user', async () => {
    const found = await appTester(App.searches.find_user_persona.operation.perform, {
      authData: liveAuth(),
      inputData: { user: 'nobody-ever@nowhere.example' },
    });
    expect(found).toEqual([]);
  });

  test('Find Recommendation returns the persona’s recommendations, most urgent first', async () => {
    const rank = { high: 0, medium: 1, low: 2 };
    let withAny = 0;
    for (const persona of personas) {
      const found = await appTester(App.searches.find_recommendation.operation.perform, {
        authData: liveAuth(),
        inputData: { persona: persona.id },
      });
      withAny += found.length > 0 ? 1 : 0;
      for (const recommendation of found) {
        expect(recommendation.persona_id).toBe(persona.id);
        expect(keysOf(recommendation)).toEqual(keysOf(App.searches.find_recommendation.operation.sample));
      }
      const ranks = found.map((recommendation) => rank[recommendation.priority]);
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    }
    expect(withAny).toBeGreaterThan(0);
  });

  test('Find Recommendation filters by priority', async () => {
    for (const persona of personas) {
      const found = await appTester(App.searches.find_recommendation.operation.perform, {
        authData: liveAuth(),
        inputData: { persona: persona.id, priority: 'high' },
      });
      expect(found.every((recommendation) => recommendation.priority === 'high')).toBe(true);
    }
  });
});

describe('erasure', () => {
  test('Erase Person deletes a person the service stored, and a rerun finds nothing', async () => {
    const { base_url: baseUrl, api_key: apiKey } = liveAuth();
    const userId = unique('zap-erase');
    const stored = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'track', event: 'Order Completed', userId, messageId: unique('m') }),
    });
    expect(stored.status).toBe(200);
    await getJson(`/v1/users/${encodeURIComponent(userId)}`);

    const result = await appTester(App.creates.erase_person.operation.perform, {
      authData: liveAuth(),
      inputData: { person: userId },
    });
    expect(result).toMatchObject({ id: result.erasure_id, found: true, events_deleted: 1 });
    expect(result.rows_deleted).toBeGreaterThanOrEqual(2); // the event and the user's row
    expect(keysOf(result)).toEqual(keysOf(App.creates.erase_person.operation.sample));
    const gone = await fetch(`${baseUrl}/v1/users/${encodeURIComponent(userId)}`, {
      headers: { 'X-API-Key': apiKey },
    });
    expect(gone.status).toBe(404);

    const again = await appTester(App.creates.erase_person.operation.perform, {
      authData: liveAuth(),
      inputData: { person: userId },
    });
    expect(again).toMatchObject({ found: false, rows_deleted: 0, suppressed: null });
    // "false" from Zapier's boolean field must not suppress.
    const notSuppressed = await appTester(App.creates.erase_person.operation.perform, {
      authData: liveAuth(),
      inputData: { person: userId, suppress: 'false' },
    });
    expect(notSuppressed.suppressed).toBeNull();
  });

  test('Erase Person with Also Suppress keeps the person out when their data comes again', async () => {
    const { base_url: baseUrl, api_key: apiKey } = liveAuth();
    const userId = unique('zap-suppress');
    const send = () =>
      fetch(`${baseUrl}/v1/events`, {
        method: 'POST',
        headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'track', event: 'Order Completed', userId, messageId: unique('m') }),
      }).then((response) => response.json());
    expect((await send()).accepted).toBe(1);

    const result = await appTester(App.creates.erase_person.operation.perform, {
      authData: liveAuth(),
      inputData: { person: userId, suppress: 'true' }, // as Zapier sends a boolean field
    });
    expect(result).toMatchObject({ found: true, suppressed: 1 });
    expect(await send()).toMatchObject({ accepted: 0, suppressed: 1 });
  });
});

// Last: a refit while the searches above run could move users between personas.
describe('refresh', () => {
  test('Refresh Personas queues a job the service knows', async () => {
    const result = await appTester(App.creates.refresh_personas.operation.perform, {
      authData: liveAuth(),
      inputData: { k_max: 6 },
    });
    expect(result).toMatchObject({ id: expect.stringMatching(/^job_/), status: expect.any(String) });
    expect(result.status_url).toBe(`/v1/jobs/${result.id}`);
    expect(keysOf(result)).toEqual(keysOf(App.creates.refresh_personas.operation.sample));
  });
});
