'use strict';

const { apiUrl } = require('./base-url');

/**
 * One delivered event `{id, type, timestamp, data}` → the flat item a Zap sees:
 * the event's `data`, with `id` = the event id (Zapier dedupes on it), `event_type`
 * and `event_timestamp`. A `data.id` (shift or recommendation id) is kept as `object_id`.
 */
const itemFromEvent = (event) => {
  const { id: objectId, ...data } = event.data || {};
  const item = {
    ...data,
    id: event.id,
    event_type: event.type,
    event_timestamp: event.timestamp,
  };
  if (objectId !== undefined) {
    item.object_id = objectId;
  }
  return item;
};

/**
 * A REST-hook trigger definition for one PersonaPulse event type.
 * `display`, `sample` and `outputFields` are the trigger's own; the operations are shared.
 */
const restHookTrigger = ({ key, noun, event, display, sample, outputFields }) => {
  const performSubscribe = async (z, bundle) => {
    const response = await z.request({
      url: apiUrl(bundle, '/v1/hooks'),
      method: 'POST',
      body: { target_url: bundle.targetUrl, event },
    });
    // Stored as bundle.subscribeData; the signing secret is not kept in the item Zaps see.
    return { id: response.data.id, event: response.data.event };
  };

  const performUnsubscribe = async (z, bundle) => {
    const hookId = bundle.subscribeData && bundle.subscribeData.id;
    if (!hookId) {
      throw new z.errors.Error('No subscription id to unsubscribe', 'MissingHookId', 400);
    }
    const response = await z.request({
      url: apiUrl(bundle, `/v1/hooks/${encodeURIComponent(hookId)}`),
      method: 'DELETE',
      skipThrowForStatus: true,
    });
    // Already gone (deleted in the service) is what unsubscribing wants.
    if (response.status !== 204 && response.status !== 404) {
      response.throwForStatus();
    }
    return { id: hookId, removed: response.status === 204 };
  };

  const perform = async (z, bundle) => {
    const delivered = bundle.cleanedRequest;
    // A delivery of another event type cannot reach this URL; ignore anything that is not one.
    if (!delivered || !delivered.data || delivered.type !== event) {
      return [];
    }
    return [itemFromEvent(delivered)];
  };

  const performList = async (z, bundle) => {
    const response = await z.request({
      url: apiUrl(bundle, `/v1/hooks/samples/${encodeURIComponent(event)}`),
    });
    return (response.data.samples || []).map(itemFromEvent);
  };

  return {
    key,
    noun,
    display,
    operation: {
      type: 'hook',
      performSubscribe,
      performUnsubscribe,
      perform,
      performList,
      sample,
      outputFields,
    },
  };
};

module.exports = { restHookTrigger, itemFromEvent };
