'use strict';

/** Drops empty inputs so the service applies its own defaults instead of validating blanks. */
const compact = (object) =>
  Object.fromEntries(
    Object.entries(object).filter(
      ([, value]) => value !== undefined && value !== null && value !== '',
    ),
  );

/** An ingestion answer `{accepted, duplicate, rejected, flagged, errors, classifications}` as one item. */
const flattenIngestResult = (result, idKey) => {
  const { errors, classifications, ...counts } = result;
  const classification = (classifications && classifications[0]) || {};
  const item = { ...counts, ...classification };
  if (idKey && classification[idKey] !== undefined) {
    item.id = classification[idKey];
  }
  return item;
};

const COUNT_FIELDS = [
  { key: 'accepted', label: 'Accepted', type: 'integer' },
  { key: 'duplicate', label: 'Duplicate', type: 'integer' },
  { key: 'rejected', label: 'Rejected', type: 'integer' },
  { key: 'flagged', label: 'Flagged', type: 'integer' },
  { key: 'suppressed', label: 'Suppressed', type: 'integer' },
];

module.exports = { compact, flattenIngestResult, COUNT_FIELDS };
