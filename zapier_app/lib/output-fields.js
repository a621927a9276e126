'use strict';

// Fields every REST-hook item carries (see lib/rest-hook.js itemFromEvent).
const EVENT_FIELDS = [
  { key: 'id', label: 'Event ID', type: 'string' },
  { key: 'event_type', label: 'Event Type', type: 'string' },
  { key: 'event_timestamp', label: 'Event Timestamp', type: 'datetime' },
];

// persona.shifted and pain_point.spiked share the shift record.
const SHIFT_FIELDS = [
  { key: 'object_id', label: 'Shift ID', type: 'string' },
  { key: 'shift_id', label: 'Versioned Shift ID', type: 'string' },
  { key: 'kind', label: 'Shift Kind', type: 'string' },
  { key: 'persona_id', label: 'Persona ID', type: 'string' },
  { key: 'label', label: 'Label', type: 'string' },
  { key: 'severity', label: 'Severity', type: 'string' },
  { key: 'summary', label: 'Summary', type: 'string' },
  { key: 'evidence', label: 'Evidence' },
  { key: 'evidence__p_value', label: 'Evidence P Value', type: 'number' },
  { key: 'detected_at', label: 'Detected At', type: 'datetime' },
  { key: 'version_id', label: 'Persona Version ID', type: 'string' },
];

module.exports = { EVENT_FIELDS, SHIFT_FIELDS };
