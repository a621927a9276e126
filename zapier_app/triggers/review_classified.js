'use strict';

const { restHookTrigger } = require('../lib/rest-hook');
const { EVENT_FIELDS } = require('../lib/output-fields');
const sample = require('../samples/review_classified.json');

module.exports = restHookTrigger({
  key: 'review_classified',
  noun: 'Review',
  event: 'review.classified',
  display: {
    label: 'Review Classified',
    description:
      'Triggers when a new review has been classified (sentiment, pain points, motivations).',
  },
  sample,
  outputFields: [
    ...EVENT_FIELDS,
    { key: 'review_id', label: 'Review ID', type: 'string' },
    { key: 'source', label: 'Source', type: 'string' },
    { key: 'rating', label: 'Rating', type: 'number' },
    { key: 'text', label: 'Text', type: 'string' },
    { key: 'product', label: 'Product', type: 'string' },
    { key: 'user_id', label: 'User ID', type: 'string' },
    { key: 'email', label: 'Email', type: 'string' },
    { key: 'created_at', label: 'Created At', type: 'datetime' },
    { key: 'sentiment_label', label: 'Sentiment', type: 'string' },
    { key: 'sentiment_score', label: 'Sentiment Score', type: 'number' },
    { key: 'is_negative', label: 'Is Negative', type: 'boolean' },
    { key: 'has_pain_point', label: 'Has Pain Point', type: 'boolean' },
    { key: 'pain_points', label: 'Pain Points' },
    { key: 'pain_points[]label', label: 'Pain Point Labels', type: 'string' },
    { key: 'motivations', label: 'Motivations' },
    { key: 'keywords', label: 'Keywords', list: true, type: 'string' },
  ],
});
