import { describe, expect, it } from 'vitest';
import { toGrammarSchema, UnsupportedSchemaError } from '../../src/runtime/grammar-schema.js';
import { reportJsonSchema } from '../../src/report/schema.js';
import { getSharedLlama } from '../../src/runtime/llama.js';
import { studentReportJsonSchema } from '../../src/runtime/report-schema.js';
import { studentCweIds } from '../../src/runtime/generate-report.js';

describe('JSON Schema to node-llama-cpp grammar schema', () => {
  it('keeps what the grammar enforces and lists what it drops', () => {
    const { schema, ignored } = toGrammarSchema({
      type: 'object',
      properties: {
        id: { type: 'string', pattern: '^x', minLength: 1, maxLength: 8 },
        when: { type: 'string', format: 'date' },
        n: { type: 'number', minimum: 0 },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, maxItems: 3, uniqueItems: true },
      },
      required: ['id'],
    });
    expect(schema).toEqual({
      type: 'object',
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 8 },
        when: { type: 'string', format: 'date' },
        n: { type: 'number' },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
      },
      additionalProperties: false,
    });
    expect(ignored).toEqual(['/properties/id: pattern', '/properties/n: minimum', '/properties/tags: uniqueItems']);
  });

  it('turns a small integer range into an enum, since the integer grammar admits exponents', () => {
    expect(toGrammarSchema({ type: 'integer', minimum: 2, maximum: 5 }).schema).toEqual({ enum: [2, 3, 4, 5] });
    const wide = toGrammarSchema({ type: 'integer', minimum: 0, maximum: 1_000_000 });
    expect(wide.schema).toEqual({ type: 'integer' });
    expect(wide.ignored).toEqual(['/: minimum', '/: maximum']);
  });

  it('maps anyOf, nullable types, definitions references and the any-value schema', () => {
    const { schema } = toGrammarSchema({
      definitions: { step: { type: 'string', maxLength: 4 } },
      type: 'object',
      properties: {
        a: { anyOf: [{ $ref: '#/definitions/step' }, { type: 'null' }] },
        b: { type: ['string', 'null'], maxLength: 3 },
        c: {},
      },
    });
    expect(schema).toEqual({
      type: 'object',
      properties: {
        a: { oneOf: [{ $ref: '#/$defs/definitions__step' }, { type: 'null' }] },
        b: { oneOf: [{ type: 'string', maxLength: 3 }, { type: 'null' }] },
        c: {
          oneOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'object', additionalProperties: true }, { type: 'array' }],
        },
      },
      additionalProperties: false,
      $defs: { definitions__step: { type: 'string', maxLength: 4 } },
    });
  });

  it('gives llama.cpp grammars it parses for the canonical report (teacher path) and the student report', async () => {
    const llama = await getSharedLlama();
    const canonical = toGrammarSchema(reportJsonSchema());
    expect(canonical.ignored).toContain('/properties/findings/items/properties/cwe: pattern');
    // fix allows 16000 UTF-16 units, above llama.cpp's repetition limit: not enforced, and said so.
    expect(canonical.ignored).toContain('/properties/findings/items/properties/fix: maxLength (16000 is above the grammar\'s limit of 999)');
    await expect(llama.createGrammarForJsonSchema(canonical.schema as never)).resolves.toBeDefined();
    const student = toGrammarSchema(studentReportJsonSchema({ lineCount: 300, cweIds: studentCweIds() }));
    expect(student.ignored).toEqual([]);
    await expect(llama.createGrammarForJsonSchema(student.schema as never)).resolves.toBeDefined();
  });

  it('keeps bounds within llama.cpp\'s repetition limit', async () => {
    const llama = await getSharedLlama();
    // node-llama-cpp writes {2000} for this, which llama.cpp refuses to parse.
    await expect(llama.createGrammarForJsonSchema({ type: 'string', minLength: 2000, maxLength: 2000 })).rejects.toThrow();
    // ... and {1000}, as the character rule is new there: 2 rules x 1000 repetitions.
    await expect(llama.createGrammarForJsonSchema({ type: 'string', minLength: 1000, maxLength: 1000 })).rejects.toThrow();
    expect(() => toGrammarSchema({ type: 'string', minLength: 1000 })).toThrow(/minLength: 1000 is above llama.cpp's grammar repetition limit \(999\)/);
    const atLimit = [
      { type: 'string', minLength: 999, maxLength: 999 },
      { type: 'array', items: { enum: ['a', 'b'] }, minItems: 499, maxItems: 499 },
      { type: 'array', items: { type: 'object', properties: { x: { type: 'string', maxLength: 999 } } }, maxItems: 499 },
    ];
    for (const schema of atLimit) {
      expect(toGrammarSchema(schema).ignored).toEqual([]);
      await expect(llama.createGrammarForJsonSchema(toGrammarSchema(schema).schema as never)).resolves.toBeDefined();
    }
    expect(toGrammarSchema({ type: 'array', items: { type: 'string', maxLength: 3 }, maxItems: 5000 })).toEqual({
      schema: { type: 'array', items: { type: 'string', maxLength: 3 } },
      ignored: ['/: maxItems (5000 is above the grammar\'s limit of 499)'],
    });
  });

  it('refuses what it cannot express, naming where', () => {
    const refuse = (schema: unknown): string => {
      try {
        toGrammarSchema(schema);
      } catch (err) {
        expect(err).toBeInstanceOf(UnsupportedSchemaError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse({ type: 'object', properties: { x: { not: { type: 'string' } } } })).toBe('/properties/x: "not" is not supported by the grammar');
    expect(refuse({ $ref: 'http://example.com/s.json' })).toMatch(/^\/: \$ref "http:\/\/example.com\/s.json" is not supported/);
    expect(refuse({ type: 'decimal' })).toBe('/: unknown type "decimal"');
    expect(refuse({ type: 'string', maxLength: -1 })).toBe('/maxLength: expected a non-negative integer');
    expect(refuse(false)).toBe('/: the schema `false` admits no value');
  });
});
