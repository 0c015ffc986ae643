import type { GbnfJsonSchema } from 'node-llama-cpp';

/**
 * Translates a standard JSON Schema (what OpenAI clients send as `response_format.json_schema`,
 * and what our own report schemas are written in) into the subset node-llama-cpp turns into a
 * grammar. Keywords the grammar cannot enforce are dropped and listed in `ignored`, so callers can
 * say so; constructs with no faithful grammar (allOf, not, if/then) are refused with a message.
 *
 * Choices worth knowing:
 * - node-llama-cpp emits every listed property in order. Optional properties are therefore always
 *   present, which still satisfies the schema.
 * - `anyOf` becomes `oneOf` (the grammar is a union either way).
 * - An integer with a small `minimum..maximum` range becomes an enum of its values: the integer
 *   grammar admits exponents (`1e-5`) that are not integers.
 * - `{}` or `true` (any value) becomes a union of every JSON type, since node-llama-cpp maps a
 *   schema without a type to `null` only.
 */

export interface GrammarSchemaResult {
  schema: GbnfJsonSchema;
  /** Dropped keywords as `path: keyword`, e.g. `/properties/cwe: pattern`. */
  ignored: string[];
}

export class UnsupportedSchemaError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path || '/'}: ${message}`);
    this.name = 'UnsupportedSchemaError';
  }
}

type JsonObject = Record<string, unknown>;

/** Annotations and keywords that change nothing about which strings are valid here. */
const harmless = new Set([
  '$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly',
  'writeOnly', 'required', 'additionalProperties', 'strict', 'nullable', 'propertyNames',
]);
/** Constraints the grammar cannot express: dropped and reported. */
const unenforceable = new Set([
  'pattern', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'uniqueItems',
  'contains', 'minContains', 'maxContains', 'patternProperties', 'dependentRequired', 'dependentSchemas',
  'contentEncoding', 'contentMediaType', 'unevaluatedProperties', 'unevaluatedItems',
]);
const refused = ['allOf', 'not', 'if', 'then', 'else'];
const handled = new Set([
  'type', 'enum', 'const', 'anyOf', 'oneOf', 'properties', 'items', 'prefixItems', 'minItems', 'maxItems',
  'minLength', 'maxLength', 'format', 'minimum', 'maximum', '$ref', '$defs', 'definitions', 'minProperties', 'maxProperties',
]);
const gbnfFormats = new Set(['date-time', 'time', 'date']);
/** Integer ranges up to this size become enums. */
const maxIntegerEnum = 512;
/**
 * llama.cpp's grammar parser refuses a repetition when (rules in the repeated group) x (count)
 * reaches 2000 (MAX_REPETITION_THRESHOLD), and silently drops an upper bound above 2000. The
 * group node-llama-cpp repeats for a string character counts up to 2 rules (its own and the
 * character rule when first seen); an array item group up to 4. Bounds stay below that.
 */
export const MAX_GRAMMAR_STRING_LENGTH = 999;
export const MAX_GRAMMAR_ARRAY_ITEMS = 499;

const anyValue: GbnfJsonSchema = {
  oneOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'object', additionalProperties: true }, { type: 'array' }],
};

export function toGrammarSchema(input: unknown): GrammarSchemaResult {
  const ignored: string[] = [];
  const defs: Record<string, GbnfJsonSchema> = {};
  const root = input;
  if (isObject(root)) {
    for (const key of ['$defs', 'definitions'] as const) {
      const group = root[key];
      if (group === undefined) continue;
      if (!isObject(group)) throw new UnsupportedSchemaError(`/${key}`, 'expected an object of schemas');
      for (const [name, def] of Object.entries(group)) {
        defs[defName(key, name)] = convert(def, `/${key}/${name}`, ignored);
      }
    }
  }
  const schema = convert(root, '', ignored);
  if (Object.keys(defs).length > 0 && isObject(schema)) {
    return { schema: { ...schema, $defs: defs } as GbnfJsonSchema, ignored };
  }
  return { schema, ignored };
}

function defName(group: '$defs' | 'definitions', name: string): string {
  // Both groups share one namespace in the grammar; keep them apart.
  return group === '$defs' ? name : `definitions__${name}`;
}

function convert(node: unknown, path: string, ignored: string[]): GbnfJsonSchema {
  if (node === true) return anyValue;
  if (node === false) throw new UnsupportedSchemaError(path, 'the schema `false` admits no value');
  if (!isObject(node)) throw new UnsupportedSchemaError(path, 'expected a schema object');
  for (const key of refused) {
    if (key in node && !(key === 'allOf' && Array.isArray(node.allOf) && node.allOf.length === 1)) {
      throw new UnsupportedSchemaError(path, `"${key}" is not supported by the grammar`);
    }
  }
  for (const key of Object.keys(node)) {
    if (unenforceable.has(key)) ignored.push(`${path || '/'}: ${key}`);
    else if (!handled.has(key) && !harmless.has(key) && key !== 'allOf') ignored.push(`${path || '/'}: ${key}`);
  }
  if (Array.isArray(node.allOf) && node.allOf.length === 1) {
    const { allOf: _allOf, ...rest } = node;
    return convert({ ...rest, ...(node.allOf[0] as JsonObject) }, path, ignored);
  }
  const nullable = node.nullable === true;
  const converted = convertInner(node, path, ignored);
  return nullable ? { oneOf: [converted, { type: 'null' }] } : converted;
}

function convertInner(node: JsonObject, path: string, ignored: string[]): GbnfJsonSchema {
  if (typeof node.$ref === 'string') return { $ref: refTarget(node.$ref, path) } as GbnfJsonSchema;
  if ('const' in node) return { const: literal(node.const, `${path}/const`) };
  if (node.enum !== undefined) {
    if (!Array.isArray(node.enum) || node.enum.length === 0) throw new UnsupportedSchemaError(path, '"enum" must be a non-empty array');
    return { enum: node.enum.map((v, i) => literal(v, `${path}/enum/${i}`)) };
  }
  const union = node.anyOf ?? node.oneOf;
  if (union !== undefined) {
    const key = node.anyOf !== undefined ? 'anyOf' : 'oneOf';
    if (!Array.isArray(union) || union.length === 0) throw new UnsupportedSchemaError(path, `"${key}" must be a non-empty array`);
    return { oneOf: union.map((alt, i) => convert(alt, `${path}/${key}/${i}`, ignored)) };
  }
  const types = typeList(node, path);
  if (types.length === 0) return anyValue;
  const variants = types.map((type) => convertTyped(type, node, path, ignored));
  return variants.length === 1 ? variants[0]! : { oneOf: variants };
}

function typeList(node: JsonObject, path: string): string[] {
  const type = node.type;
  if (type === undefined) {
    if (isObject(node.properties)) return ['object'];
    if (node.items !== undefined || node.prefixItems !== undefined) return ['array'];
    return [];
  }
  const list = Array.isArray(type) ? type : [type];
  for (const t of list) {
    if (!['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'].includes(t as string)) {
      throw new UnsupportedSchemaError(path, `unknown type ${JSON.stringify(t)}`);
    }
  }
  return list as string[];
}

function convertTyped(type: string, node: JsonObject, path: string, ignored: string[]): GbnfJsonSchema {
  switch (type) {
    case 'string': {
      if (typeof node.format === 'string' && gbnfFormats.has(node.format)) {
        return { type: 'string', format: node.format as 'date-time' | 'time' | 'date' };
      }
      if (node.format !== undefined) ignored.push(`${path || '/'}: format`);
      const minLength = boundedCount(node.minLength, `${path}/minLength`, MAX_GRAMMAR_STRING_LENGTH, 'min', ignored);
      const maxLength = boundedCount(node.maxLength, `${path}/maxLength`, MAX_GRAMMAR_STRING_LENGTH, 'max', ignored);
      return {
        type: 'string',
        ...(minLength !== undefined ? { minLength } : {}),
        ...(maxLength !== undefined ? { maxLength } : {}),
      };
    }
    case 'integer': {
      const min = node.minimum;
      const max = node.maximum;
      if (Number.isInteger(min) && Number.isInteger(max) && (max as number) >= (min as number) && (max as number) - (min as number) < maxIntegerEnum) {
        const values: number[] = [];
        for (let v = min as number; v <= (max as number); v++) values.push(v);
        return { enum: values };
      }
      reportBounds(node, path, ignored);
      return { type: 'integer' };
    }
    case 'number':
      reportBounds(node, path, ignored);
      return { type };
    case 'boolean':
    case 'null':
      return { type };
    case 'array': {
      const minItems = boundedCount(node.minItems, `${path}/minItems`, MAX_GRAMMAR_ARRAY_ITEMS, 'min', ignored);
      const maxItems = boundedCount(node.maxItems, `${path}/maxItems`, MAX_GRAMMAR_ARRAY_ITEMS, 'max', ignored);
      const prefix = node.prefixItems;
      if (prefix !== undefined && !Array.isArray(prefix)) throw new UnsupportedSchemaError(`${path}/prefixItems`, 'expected an array');
      if (Array.isArray(node.items)) {
        // Draft-7 tuple form: items is an array of schemas, additionalItems follows.
        throw new UnsupportedSchemaError(`${path}/items`, 'tuple "items" arrays are not supported; use prefixItems');
      }
      return {
        type: 'array',
        ...(node.items !== undefined ? { items: convert(node.items, `${path}/items`, ignored) } : {}),
        ...(Array.isArray(prefix) ? { prefixItems: prefix.map((p, i) => convert(p, `${path}/prefixItems/${i}`, ignored)) } : {}),
        ...(minItems !== undefined ? { minItems } : {}),
        ...(maxItems !== undefined ? { maxItems } : {}),
      };
    }
    case 'object': {
      const properties: Record<string, GbnfJsonSchema> = {};
      if (node.properties !== undefined) {
        if (!isObject(node.properties)) throw new UnsupportedSchemaError(`${path}/properties`, 'expected an object');
        for (const [name, prop] of Object.entries(node.properties)) {
          properties[name] = convert(prop, `${path}/properties/${escapePointer(name)}`, ignored);
        }
      }
      const hasProperties = Object.keys(properties).length > 0;
      const extra = node.additionalProperties;
      // A closed object when properties are listed (valid for an open schema too); a free map
      // when nothing is listed, since "{}" only is rarely what the client means.
      const additional: boolean | GbnfJsonSchema =
        isObject(extra) ? convert(extra, `${path}/additionalProperties`, ignored) : extra === false ? false : !hasProperties;
      const minProperties = optionalCount(node.minProperties, `${path}/minProperties`);
      const maxProperties = optionalCount(node.maxProperties, `${path}/maxProperties`);
      return {
        type: 'object',
        properties,
        additionalProperties: additional,
        ...(minProperties !== undefined ? { minProperties } : {}),
        ...(maxProperties !== undefined ? { maxProperties } : {}),
      } as GbnfJsonSchema;
    }
    default:
      throw new UnsupportedSchemaError(path, `unknown type ${type}`);
  }
}

function reportBounds(node: JsonObject, path: string, ignored: string[]): void {
  for (const key of ['minimum', 'maximum'] as const) if (key in node) ignored.push(`${path || '/'}: ${key}`);
}

function refTarget(ref: string, path: string): string {
  for (const [prefix, group] of [['#/$defs/', '$defs'], ['#/definitions/', 'definitions']] as const) {
    if (ref.startsWith(prefix)) {
      const name = ref.slice(prefix.length);
      if (name.includes('/')) break;
      return `#/$defs/${defName(group, unescapePointer(name))}`;
    }
  }
  throw new UnsupportedSchemaError(path, `$ref "${ref}" is not supported (only #/$defs/NAME and #/definitions/NAME)`);
}

function literal(value: unknown, path: string): string | number | boolean | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new UnsupportedSchemaError(path, 'only string, number, boolean and null literals are supported');
}

function optionalCount(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new UnsupportedSchemaError(path, 'expected a non-negative integer');
  return value;
}

/**
 * A length or item bound within llama.cpp's repetition limit: a larger maximum is dropped (and
 * reported: the grammar then admits longer values), a larger minimum cannot be honoured.
 */
function boundedCount(value: unknown, path: string, limit: number, kind: 'min' | 'max', ignored: string[]): number | undefined {
  const n = optionalCount(value, path);
  if (n === undefined || n <= limit) return n;
  if (kind === 'min') throw new UnsupportedSchemaError(path, `${n} is above llama.cpp's grammar repetition limit (${limit})`);
  const at = path.slice(0, path.lastIndexOf('/'));
  ignored.push(`${at || '/'}: ${path.slice(path.lastIndexOf('/') + 1)} (${n} is above the grammar's limit of ${limit})`);
  return undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapePointer(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapePointer(name: string): string {
  return name.replaceAll('~1', '/').replaceAll('~0', '~');
}
