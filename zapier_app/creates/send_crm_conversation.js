'use strict';

const { apiUrl } = require('../lib/base-url');
const { compact, flattenIngestResult, COUNT_FIELDS } = require('../lib/ingest');
const sample = require('../samples/send_crm_conversation.json');

const perform = async (z, bundle) => {
  const input = bundle.inputData;
  const messages = [
    input.customer_message && { role: 'customer', text: input.customer_message },
    input.agent_message && { role: 'agent', text: input.agent_message },
  ].filter(Boolean);
  const conversation = compact({
    source: input.source,
    kind: input.kind,
    conversation_id: input.conversation_id,
    user_id: input.user_id,
    email: input.email,
    contact_id: input.contact_id,
    subject: input.subject,
    status: input.status,
    created_at: input.created_at,
    transcript: input.transcript,
    messages: messages.length ? messages : undefined,
  });
  const response = await z.request({
    url: apiUrl(bundle, '/v1/conversations'),
    method: 'POST',
    body: conversation,
  });
  return flattenIngestResult(response.data, 'conversation_id');
};

module.exports = {
  key: 'send_crm_conversation',
  noun: 'Conversation',
  display: {
    label: 'Send CRM Conversation',
    description:
      'Sends a support ticket, chat or call transcript to PersonaPulse and returns its intents and pain points.',
  },
  operation: {
    perform,
    inputFields: [
      {
        key: 'source',
        label: 'Source',
        required: true,
        choices: ['hubspot', 'salesforce', 'pipedrive', 'zendesk', 'intercom', 'whatsapp', 'other'],
        helpText: 'The CRM, help desk or messenger it comes from.',
      },
      {
        key: 'kind',
        label: 'Kind',
        choices: ['ticket', 'call', 'chat'],
        helpText: 'Defaults to call for a transcript alone, chat for WhatsApp or Intercom, else ticket.',
      },
      {
        key: 'conversation_id',
        label: 'Conversation ID',
        helpText: "The source's own id: resending it does not store it twice.",
      },
      {
        key: 'customer_message',
        label: 'Customer Message',
        type: 'text',
        helpText: 'What the customer wrote. A customer message or a transcript is required.',
      },
      { key: 'agent_message', label: 'Agent Reply', type: 'text', helpText: 'The answer, if any.' },
      {
        key: 'transcript',
        label: 'Transcript',
        type: 'text',
        helpText: 'A call transcript with `Agent:` and `Customer:` speaker lines.',
      },
      { key: 'subject', label: 'Subject', helpText: 'The ticket subject.' },
      { key: 'status', label: 'Status', helpText: 'The ticket status, e.g. open or closed.' },
      { key: 'user_id', label: 'User ID', helpText: 'Your id of the customer, if known.' },
      { key: 'email', label: 'Email', helpText: "The customer's email, if known." },
      { key: 'contact_id', label: 'Contact ID', helpText: "The CRM's contact id." },
      { key: 'created_at', label: 'Created At', type: 'datetime', helpText: 'When it started.' },
    ],
    sample,
    outputFields: [
      ...COUNT_FIELDS,
      { key: 'id', label: 'Conversation ID', type: 'string' },
      { key: 'conversation_id', label: 'Stored Conversation ID', type: 'string' },
      { key: 'sentiment_label', label: 'Sentiment', type: 'string' },
      { key: 'sentiment_score', label: 'Sentiment Score', type: 'number' },
      { key: 'intents', label: 'Intents' },
      { key: 'intents[]intent', label: 'Intent Names', type: 'string' },
      { key: 'pain_points', label: 'Pain Points' },
      { key: 'pain_points[]label', label: 'Pain Point Labels', type: 'string' },
      { key: 'motivations', label: 'Motivations' },
      { key: 'keywords', label: 'Keywords', list: true, type: 'string' },
    ],
  },
};
