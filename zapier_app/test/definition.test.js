'use strict';
/*
 * Offline checks of the app definition: Zapier's own schema validation (the CLI's `validate`),
 * each action against its own schema, and the publishing checks that need no Zapier account,
 * written as assertions here because zapier-platform-schema does not export them.
 */
const zapier = require('zapier-platform-core');
const CreateSchema = require('zapier-platform-schema/lib/schemas/CreateSchema');
const SearchSchema = require('zapier-platform-schema/lib/schemas/SearchSchema');
const TriggerSchema = require('zapier-platform-schema/lib/schemas/TriggerSchema');
const App = require('../index');

const handler = zapier.createAppHandler(App);
let definition;

beforeAll(async () => {
  const answer = await handler({ command: 'definition' }, {});
  definition = answer.results;
});

const SCHEMAS = { triggers: TriggerSchema, creates: CreateSchema, searches: SearchSchema };
const actions = () =>
  Object.entries(SCHEMAS).flatMap(([kind, schema]) =>
    Object.values(App[kind]).map((action) => ({ kind, schema, action })),
  );
const visible = () => actions().filter(({ action }) => !action.display.hidden);

// Zapier's title case: every word capitalised except short connecting words.
const SMALL_WORDS = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'for', 'in', 'of', 'on', 'or', 'the', 'to', 'with']);
const isTitleCase = (label) =>
  label
    .split(/\s+/)
    .every((word, index) => (index > 0 && SMALL_WORDS.has(word)) || /^[A-Z0-9]/.test(word));

// `pain_points[]label` and `evidence__p_value` describe nested values: their top-level key counts.
const topKey = (key) => key.split('[]')[0].split('__')[0];

describe('Zapier schema validation', () => {
  test('the whole app validates (createAppHandler validate command)', async () => {
    const answer = await handler({ command: 'validate' }, {});
    expect(answer.status).toBe('SUCCESS');
    expect(answer.results).toEqual([]);
  });

  test.each(actions().map(({ kind, schema, action }) => [kind, action.key, schema]))(
    '%s.%s validates against its own schema',
    (kind, key, schema) => {
      const errors = schema.validate(definition[kind][key]).errors.map((error) => error.stack);
      expect(errors).toEqual([]);
    },
  );

  test('the per-action schema catches a missing sample', () => {
    const { sample, ...withoutSample } = definition.creates.send_review.operation;
    const errors = CreateSchema.validate({
      ...definition.creates.send_review,
      operation: withoutSample,
    }).errors.map((error) => error.stack);
    expect(errors.join('\n')).toMatch(/requires "sample"/);
  });

  test('platformVersion is the installed core', () => {
    expect(App.platformVersion).toBe(require('../package.json').dependencies['zapier-platform-core']);
    expect(App.platformVersion).toMatch(/^19\./);
  });
});

describe('publishing checks', () => {
  test('D001: no secrets in input fields (only the API key field, typed password)', () => {
    const secretish = /(api[_ ]?key|secret|token|password)/i;
    for (const { action } of actions()) {
      for (const field of action.operation.inputFields || []) {
        expect([action.key, field.key, secretish.test(field.key) || secretish.test(field.label)]).toEqual([
          action.key,
          field.key,
          false,
        ]);
      }
    }
    const authSecrets = App.authentication.fields.filter((field) => secretish.test(field.key));
    expect(authSecrets.map((field) => [field.key, field.type])).toEqual([['api_key', 'password']]);
  });

  test('D002: every authentication field has help text with an https link', () => {
    for (const field of App.authentication.fields) {
      expect([field.key, /\[[^\]]+\]\(https:\/\/[^)]+\)/.test(field.helpText || '')]).toEqual([
        field.key,
        true,
      ]);
    }
  });

  test('D003: every action has a noun, label and a description of 20 to 1000 characters', () => {
    for (const { action } of actions()) {
      expect(action.noun).toEqual(expect.any(String));
      expect(action.display.label).toEqual(expect.any(String));
      const { description } = action.display;
      expect([action.key, description.length >= 20 && description.length <= 1000]).toEqual([
        action.key,
        true,
      ]);
      expect([action.key, description.endsWith('.')]).toEqual([action.key, true]);
    }
  });

  test('D010: input fields have labels and help text; dynamic dropdowns name a real trigger', () => {
    for (const { action } of actions()) {
      for (const field of action.operation.inputFields || []) {
        expect([action.key, field.key, Boolean(field.label), Boolean(field.helpText)]).toEqual([
          action.key,
          field.key,
          true,
          true,
        ]);
        if (field.dynamic) {
          const [triggerKey, idKey, labelKey] = field.dynamic.split('.');
          const trigger = App.triggers[triggerKey];
          expect(trigger).toBeDefined();
          expect(Object.keys(trigger.operation.sample)).toEqual(expect.arrayContaining([idKey, labelKey]));
        }
      }
    }
  });

  test('D012: every visible action has a sample, and every sample has an id where Zapier dedupes', () => {
    for (const { kind, action } of visible()) {
      const { sample } = action.operation;
      expect([action.key, typeof sample === 'object' && Object.keys(sample).length > 0]).toEqual([
        action.key,
        true,
      ]);
      if (kind === 'triggers' || kind === 'searches') {
        expect([action.key, typeof sample.id]).toEqual([action.key, 'string']);
      }
    }
  });

  test('D018: labels of actions and fields are in title case', () => {
    for (const { action } of actions()) {
      expect([action.key, action.display.label, isTitleCase(action.display.label)]).toEqual([
        action.key,
        action.display.label,
        true,
      ]);
      for (const field of [...(action.operation.inputFields || []), ...(action.operation.outputFields || [])]) {
        expect([action.key, field.label, isTitleCase(field.label)]).toEqual([action.key, field.label, true]);
      }
    }
    for (const field of App.authentication.fields) {
      expect([field.label, isTitleCase(field.label)]).toEqual([field.label, true]);
    }
  });

  test('D018 check itself rejects a lower-case label', () => {
    expect(isTitleCase('Send review')).toBe(false);
    expect(isTitleCase('Find Persona for User')).toBe(true);
  });

  test('D021: trigger descriptions start with "Triggers when"', () => {
    for (const trigger of Object.values(App.triggers)) {
      expect(trigger.display.description).toMatch(/^Triggers when /);
    }
  });

  test('D024: sample keys and outputFields keys match', () => {
    for (const { action } of visible()) {
      const sampleKeys = Object.keys(action.operation.sample).sort();
      const fieldKeys = [...new Set(action.operation.outputFields.map((field) => topKey(field.key)))].sort();
      expect([action.key, sampleKeys]).toEqual([action.key, fieldKeys]);
    }
  });

  test('the connection label comes from the key name and id, never the key', () => {
    const label = App.authentication.connectionLabel(
      {},
      { inputData: { key_id: 'key_1', name: 'zapier', scopes: ['read'] }, authData: { api_key: 'pp_secret' } },
    );
    expect(label).toBe('zapier (key_1)');
  });
});
