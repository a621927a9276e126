'use strict';
/*
 * The REST-hook lifecycle end to end: subscribe a receiver on 127.0.0.1, let the service deliver a
 * real review.classified, run the trigger on it, unsubscribe, and check nothing more arrives.
 */
const zapier = require('zapier-platform-core');
const App = require('../index');
const { liveAuth, startReceiver, unique } = require('./helpers');

const appTester = zapier.createAppTester(App);
const keysOf = (object) => Object.keys(object).sort();
const topKey = (key) => key.split('[]')[0].split('__')[0];
const HOOK_TRIGGERS = {
  persona_created: 'persona.created',
  persona_shifted: 'persona.shifted',
  recommendation_created: 'recommendation.created',
  review_classified: 'review.classified',
  pain_point_spiked: 'pain_point.spiked',
};
// Retries are 0.5 s apart and the worker polls every 0.2 s in the test service.
const DELIVERY_TIMEOUT_MS = 30000;
const QUIET_PERIOD_MS = 4000;

const sendReview = (reviewId, text) =>
  appTester(App.creates.send_review.operation.perform, {
    authData: liveAuth(),
    inputData: { source: 'trustpilot', review_id: reviewId, text, rating: 2 },
  });

describe('REST hooks', () => {
  let receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await receiver.close();
  });

  test('subscribe → delivery → perform → unsubscribe → no more deliveries', async () => {
    const trigger = App.triggers.review_classified.operation;
    const targetUrl = `${receiver.url}/zap/${unique('hook')}`;
    const subscribeData = await appTester(trigger.performSubscribe, {
      authData: liveAuth(),
      targetUrl,
    });
    expect(subscribeData).toEqual({ id: expect.stringMatching(/^hook_/), event: 'review.classified' });

    const firstId = unique('zap-hook-1');
    await sendReview(firstId, 'The courier lost my parcel and support never replied');
    const delivery = await receiver.waitFor(
      (request) => request.body && request.body.data && request.body.data.review_id === `trustpilot:${firstId}`,
      DELIVERY_TIMEOUT_MS,
    );
    expect(delivery.method).toBe('POST');
    expect(delivery.url).toBe(new URL(targetUrl).pathname);
    expect(delivery.body.type).toBe('review.classified');
    // Standard Webhooks headers: the service signs every delivery.
    expect(delivery.headers['webhook-id']).toMatch(/^msg_/);
    expect(delivery.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(delivery.headers['webhook-signature']).toMatch(/^v1,/);

    const items = await appTester(trigger.perform, {
      authData: liveAuth(),
      cleanedRequest: delivery.body,
      subscribeData,
    });
    expect(items).toHaveLength(1);
    const [item] = items;
    expect(item).toMatchObject({
      id: delivery.body.id,
      event_type: 'review.classified',
      event_timestamp: delivery.body.timestamp,
      review_id: `trustpilot:${firstId}`,
      sentiment_label: delivery.body.data.sentiment_label,
    });

    // performList answers the same event in the same shape as the delivery gave.
    const listed = await appTester(trigger.performList, { authData: liveAuth() });
    const sameEvent = listed.find((candidate) => candidate.id === item.id);
    expect(sameEvent).toEqual(item);
    for (const candidate of listed) {
      expect(keysOf(candidate)).toEqual(keysOf(item));
    }
    expect(keysOf(item)).toEqual(keysOf(trigger.sample));

    const unsubscribed = await appTester(trigger.performUnsubscribe, {
      authData: liveAuth(),
      subscribeData,
    });
    expect(unsubscribed).toEqual({ id: subscribeData.id, removed: true });

    const deliveredBefore = receiver.received.length;
    const secondId = unique('zap-hook-2');
    await sendReview(secondId, 'Delivery was late and the food was cold');
    // The event itself happened (it is listed) …
    const relisted = await appTester(trigger.performList, { authData: liveAuth() });
    expect(relisted.map((candidate) => candidate.review_id)).toContain(`trustpilot:${secondId}`);
    // … but the unsubscribed URL hears nothing more.
    await new Promise((resolve) => setTimeout(resolve, QUIET_PERIOD_MS));
    expect(receiver.received.slice(deliveredBefore)).toEqual([]);

    // Unsubscribing twice is harmless (the hook is already gone).
    const again = await appTester(trigger.performUnsubscribe, { authData: liveAuth(), subscribeData });
    expect(again).toEqual({ id: subscribeData.id, removed: false });
  });

  test('a delivery of another event type is ignored by the trigger', async () => {
    const items = await appTester(App.triggers.review_classified.operation.perform, {
      authData: liveAuth(),
      cleanedRequest: { id: 'evt_x', type: 'persona.created', timestamp: 'now', data: { persona_id: 'p_1' } },
    });
    expect(items).toEqual([]);
  });

  test.each(Object.entries(HOOK_TRIGGERS))(
    '%s performList gives items shaped like deliveries of %s',
    async (key, event) => {
      const operation = App.triggers[key].operation;
      const listed = await appTester(operation.performList, { authData: liveAuth() });
      expect(listed.length).toBeGreaterThan(0);
      const described = new Set(operation.outputFields.map((field) => topKey(field.key)));
      for (const item of listed) {
        expect(item).toMatchObject({ id: expect.stringMatching(/^evt_/), event_type: event });
        expect(typeof item.event_timestamp).toBe('string');
        expect(keysOf(item).filter((itemKey) => !described.has(itemKey))).toEqual([]);
      }
    },
  );

  test('subscribing to a non-https public URL is refused with the field named', async () => {
    const failure = await appTester(App.triggers.persona_created.operation.performSubscribe, {
      authData: liveAuth(),
      targetUrl: 'ftp://example.com/hook',
    }).catch((err) => err);
    const parsed = JSON.parse(failure.message);
    expect(parsed.status).toBe(422);
    expect(parsed.message).toMatch(/target_url: /);
  });
});
