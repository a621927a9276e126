'use strict';

const { apiUrl } = require('../lib/base-url');
const { compact, flattenIngestResult, COUNT_FIELDS } = require('../lib/ingest');
const sample = require('../samples/send_review.json');

const perform = async (z, bundle) => {
  const input = bundle.inputData;
  const review = compact({
    source: input.source,
    text: input.text,
    review_id: input.review_id,
    title: input.title,
    rating: input.rating,
    user_id: input.user_id,
    email: input.email,
    author: input.author,
    created_at: input.created_at,
    product: input.product,
    language: input.language,
  });
  const response = await z.request({
    url: apiUrl(bundle, '/v1/reviews'),
    method: 'POST',
    body: review,
  });
  return flattenIngestResult(response.data, 'review_id');
};

module.exports = {
  key: 'send_review',
  noun: 'Review',
  display: {
    label: 'Send Review',
    description:
      'Sends a product or app review to PersonaPulse and returns its sentiment, pain points and motivations.',
  },
  operation: {
    perform,
    inputFields: [
      {
        key: 'source',
        label: 'Source',
        required: true,
        choices: ['google', 'trustpilot', 'app_store', 'play_store', 'amazon', 'shopee', 'other'],
        helpText: 'Where the review was written.',
      },
      { key: 'text', label: 'Text', type: 'text', required: true, helpText: 'The review itself.' },
      {
        key: 'review_id',
        label: 'Review ID',
        helpText: "The source's own id of the review: resending it does not store it twice.",
      },
      { key: 'title', label: 'Title', helpText: 'The review headline, if any.' },
      { key: 'rating', label: 'Rating', type: 'number', helpText: 'Stars, from 1 to 5.' },
      { key: 'user_id', label: 'User ID', helpText: 'Your id of the reviewer, if known.' },
      { key: 'email', label: 'Email', helpText: "The reviewer's email, if known." },
      { key: 'author', label: 'Author', helpText: "The reviewer's display name." },
      { key: 'created_at', label: 'Created At', type: 'datetime', helpText: 'When it was written.' },
      { key: 'product', label: 'Product', helpText: 'The product or app reviewed.' },
      { key: 'language', label: 'Language', helpText: 'An ISO 639-1 code such as `en`.' },
    ],
    sample,
    outputFields: [
      ...COUNT_FIELDS,
      { key: 'id', label: 'Review ID', type: 'string' },
      { key: 'review_id', label: 'Stored Review ID', type: 'string' },
      { key: 'sentiment_label', label: 'Sentiment', type: 'string' },
      { key: 'sentiment_score', label: 'Sentiment Score', type: 'number' },
      { key: 'pain_points', label: 'Pain Points' },
      { key: 'pain_points[]label', label: 'Pain Point Labels', type: 'string' },
      { key: 'motivations', label: 'Motivations' },
      { key: 'keywords', label: 'Keywords', list: true, type: 'string' },
    ],
  },
};
