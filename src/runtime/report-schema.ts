import { reportJsonSchema, reportSchema, cweIdSchema, type Finding, type VulnerabilityReport } from '../report/schema.js';
import { MAX_GRAMMAR_ARRAY_ITEMS, MAX_GRAMMAR_STRING_LENGTH } from './grammar-schema.js';

/**
 * The grammar-safe form of the vulnerability report: what a student generates under a grammar.
 *
 * node-llama-cpp's JSON-schema grammar admits strings that the canonical zod schema would reject
 * (integers written as `1e-5`, unbounded numbers, strings longer than a limit once decoded), so the
 * student's schema is derived from the canonical one with every leaf made exact:
 * - numbers: line numbers are an enum of the input's lines 1..N (so they always exist), and
 *   confidence is an enum of tenths 0..1. The grammar then admits only these literal digits.
 * - the CWE is an enum of catalog ids (each also matching the canonical id pattern).
 * - strings keep their minimum and get maxLength = floor(canonical max / 4) (at most 999, llama.cpp's
 *   grammar repetition limit, see grammar-schema.ts): the grammar counts
 *   characters (one code point, or one escape such as \n or \uD83D, of at most 4 UTF-8 bytes),
 *   and decoding never yields more than one UTF-16 unit per byte, so a decoded string has at most
 *   4 units per grammar character (this also covers invalid UTF-8 decoded as U+FFFD per byte).
 * - the optional `fix` becomes `string | null` (the grammar emits every key); null maps to absent.
 * - objects list every key as required with additionalProperties false, arrays keep their
 *   item bounds, and key order is the canonical order (the order training targets use).
 * So every string the grammar admits is JSON that parses, and after `studentToReport` passes
 * `reportSchema`. Two runtime details keep the response equal to what the grammar matched (see
 * local-student.ts): control tokens are banned under grammars (llama.cpp's grammar matches
 * <|im_start|> by its text, the response would drop it), and only token stop triggers apply (the
 * chat format's text trigger "<|im_end|>" would otherwise end a string that contains that text). `assertGrammarSafe` re-checks the derived schema whenever one is built, so a
 * new canonical field that is not grammar-safe fails loudly instead of producing bad reports.
 */

/** UTF-16 units a decoded string can hold per grammar character (see above). */
export const UNITS_PER_GRAMMAR_CHAR = 4;
/** Confidence is emitted on this grid. */
export const CONFIDENCE_STEPS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const;
/** The canonical schema caps line numbers here; longer inputs cannot be cited past it. */
export const MAX_LINE_NUMBER = 1_000_000;

export interface StudentSchemaInput {
  /** Lines in the code the report is about: line numbers are 1..lineCount. */
  lineCount: number;
  /** The CWE ids the student may emit (normally the whole bundled catalog). */
  cweIds: readonly string[];
}

type JsonSchema = Record<string, unknown>;

/** The student's report JSON Schema (standard JSON Schema; node-llama-cpp and OpenAI strict mode both accept it). */
export function studentReportJsonSchema(input: StudentSchemaInput): JsonSchema {
  if (!Number.isInteger(input.lineCount) || input.lineCount < 1) {
    throw new Error(`studentReportJsonSchema: lineCount must be a positive integer, got ${input.lineCount}`);
  }
  if (input.lineCount > MAX_LINE_NUMBER) {
    throw new Error(`studentReportJsonSchema: ${input.lineCount} lines is more than the report can cite (${MAX_LINE_NUMBER})`);
  }
  const cweIds = checkedCweIds(input.cweIds);
  const lines = Array.from({ length: input.lineCount }, (_, i) => i + 1);
  const canonical = reportJsonSchema();
  delete canonical.$schema;
  const schema = derive(canonical, '', { lines, cweIds });
  assertGrammarSafe(schema);
  return schema;
}

interface DeriveContext {
  lines: number[];
  cweIds: string[];
}

function derive(node: JsonSchema, path: string, ctx: DeriveContext): JsonSchema {
  const key = path.slice(path.lastIndexOf('/') + 1);
  if (node.type === 'object') {
    const properties = node.properties as Record<string, JsonSchema>;
    const required = new Set((node.required as string[] | undefined) ?? []);
    const out: Record<string, JsonSchema> = {};
    for (const [name, prop] of Object.entries(properties)) {
      const derived = derive(prop, `${path}/${name}`, ctx);
      out[name] = required.has(name) ? derived : { anyOf: [derived, { type: 'null' }] };
    }
    return { type: 'object', properties: out, required: Object.keys(out), additionalProperties: false };
  }
  if (node.type === 'array') {
    return {
      type: 'array',
      items: derive(node.items as JsonSchema, `${path}/items`, ctx),
      ...(node.minItems !== undefined ? { minItems: node.minItems } : {}),
      maxItems: node.maxItems,
    };
  }
  if (node.enum !== undefined) return { type: node.type, enum: node.enum };
  if (node.type === 'integer') {
    if (key !== 'start_line' && key !== 'end_line' && key !== 'line') {
      throw new Error(`student report schema: integer field ${path} has no grammar-safe form (only line numbers do)`);
    }
    return { type: 'integer', enum: ctx.lines };
  }
  if (node.type === 'number') {
    if (key !== 'confidence') throw new Error(`student report schema: number field ${path} has no grammar-safe form`);
    return { type: 'number', enum: [...CONFIDENCE_STEPS] };
  }
  if (node.type === 'string') {
    if (key === 'cwe') return { type: 'string', enum: ctx.cweIds };
    if (node.pattern !== undefined || node.format !== undefined) {
      throw new Error(`student report schema: string field ${path} has a pattern or format the grammar cannot enforce`);
    }
    const max = node.maxLength as number | undefined;
    if (max === undefined) throw new Error(`student report schema: string field ${path} has no maxLength`);
    return {
      type: 'string',
      ...(node.minLength !== undefined ? { minLength: node.minLength } : {}),
      maxLength: Math.min(Math.floor(max / UNITS_PER_GRAMMAR_CHAR), MAX_GRAMMAR_STRING_LENGTH),
    };
  }
  throw new Error(`student report schema: field ${path || '/'} has no grammar-safe form`);
}

function checkedCweIds(ids: readonly string[]): string[] {
  if (ids.length === 0) throw new Error('student report schema: the CWE list is empty');
  for (const id of ids) {
    if (!cweIdSchema.safeParse(id).success) throw new Error(`student report schema: "${id}" is not a CWE id like CWE-476`);
  }
  return [...new Set(ids)];
}

/**
 * Throws unless every value the schema admits is exact under node-llama-cpp's grammar: leaves are
 * enums of literals or strings with a maxLength; objects are closed with every key required;
 * arrays have maxItems; unions only combine such schemas; bounds stay within llama.cpp's grammar
 * repetition limit (above it llama.cpp drops the bound silently).
 */
export function assertGrammarSafe(node: unknown, path = ''): void {
  const fail = (why: string): never => {
    throw new Error(`schema at ${path || '/'} is not grammar-safe: ${why}`);
  };
  if (typeof node !== 'object' || node === null || Array.isArray(node)) fail('not a schema object');
  const n = node as JsonSchema;
  if (Array.isArray(n.anyOf)) {
    n.anyOf.forEach((alt, i) => assertGrammarSafe(alt, `${path}/anyOf/${i}`));
    return;
  }
  if (n.enum !== undefined) {
    if (!Array.isArray(n.enum) || n.enum.length === 0) fail('empty enum');
    for (const v of n.enum as unknown[]) {
      const ok = typeof v === 'string' || typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v));
      if (!ok) fail(`enum value ${JSON.stringify(v)}`);
    }
    return;
  }
  switch (n.type) {
    case 'null':
      return;
    case 'string':
      if (typeof n.maxLength !== 'number') fail('string without maxLength');
      if ((n.maxLength as number) > MAX_GRAMMAR_STRING_LENGTH) fail(`maxLength ${String(n.maxLength)} is above llama.cpp's repetition limit`);
      if (n.pattern !== undefined || n.format !== undefined) fail('string with pattern or format');
      return;
    case 'array':
      if (typeof n.maxItems !== 'number') fail('array without maxItems');
      if ((n.maxItems as number) > MAX_GRAMMAR_ARRAY_ITEMS) fail(`maxItems ${String(n.maxItems)} is above llama.cpp's repetition limit`);
      assertGrammarSafe(n.items, `${path}/items`);
      return;
    case 'object': {
      const props = (n.properties ?? {}) as Record<string, unknown>;
      const required = (n.required ?? []) as string[];
      if (n.additionalProperties !== false) fail('object without additionalProperties: false');
      if (Object.keys(props).some((k) => !required.includes(k))) fail('object with optional keys');
      for (const [k, v] of Object.entries(props)) assertGrammarSafe(v, `${path}/properties/${k}`);
      return;
    }
    default:
      fail(`type ${JSON.stringify(n.type)} (numbers must be enums)`);
  }
}

/** Raw student output (after JSON.parse) to the canonical report; then validate with reportSchema. */
export function studentToReport(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { findings?: unknown }).findings)) return value;
  const v = value as { findings: unknown[] };
  return {
    ...v,
    findings: v.findings.map((f) => {
      if (typeof f !== 'object' || f === null || !('fix' in f) || (f as { fix: unknown }).fix !== null) return f;
      const { fix: _fix, ...rest } = f as Record<string, unknown>;
      return rest;
    }),
  };
}

/** Characters the grammar counts for a string (code points; an escape is one). */
export function grammarLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export type StudentTarget = { ok: true; text: string } | { ok: false; reason: string };

/**
 * A canonical report as the exact text the student is trained to emit (keys in canonical order,
 * compact JSON, confidence rounded to the grid), or why the student schema cannot express it
 * (a string longer than the student limit, a CWE outside the list, a line past the input).
 */
export function reportToStudentText(report: VulnerabilityReport, input: StudentSchemaInput): StudentTarget {
  const parsed = reportSchema.safeParse(report);
  if (!parsed.success) return { ok: false, reason: `not a valid report: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  const schema = studentReportJsonSchema(input);
  const cwes = new Set(input.cweIds);
  const problems: string[] = [];
  const text = (value: string, at: string, field: JsonSchema): string => {
    const max = field.maxLength as number;
    const n = grammarLength(value);
    if (n > max) problems.push(`${at} is ${n} characters; the student emits at most ${max}`);
    return value;
  };
  const line = (value: number, at: string): number => {
    if (value > input.lineCount) problems.push(`${at} is line ${value}; the input has ${input.lineCount} lines`);
    return value;
  };
  const fields = studentFields(schema);
  const r = parsed.data;
  const findings = r.findings.map((f: Finding, i: number) => {
    const at = `findings[${i}]`;
    if (!cwes.has(f.cwe)) problems.push(`${at}.cwe ${f.cwe} is not in the CWE list`);
    return {
      cwe: f.cwe,
      title: text(f.title, `${at}.title`, fields.finding.title!),
      severity: f.severity,
      location: {
        function: text(f.location.function, `${at}.location.function`, fields.location.function!),
        start_line: line(f.location.start_line, `${at}.location.start_line`),
        end_line: line(f.location.end_line, `${at}.location.end_line`),
      },
      fragment: text(f.fragment, `${at}.fragment`, fields.finding.fragment!),
      root_cause: text(f.root_cause, `${at}.root_cause`, fields.finding.root_cause!),
      trigger: text(f.trigger, `${at}.trigger`, fields.finding.trigger!),
      impact: text(f.impact, `${at}.impact`, fields.finding.impact!),
      remediation: text(f.remediation, `${at}.remediation`, fields.finding.remediation!),
      evidence: f.evidence.map((e, j) => ({
        line: line(e.line, `${at}.evidence[${j}].line`),
        step: text(e.step, `${at}.evidence[${j}].step`, fields.evidence.step!),
      })),
      fix: f.fix === undefined ? null : text(f.fix, `${at}.fix`, fields.fix),
      confidence: Math.round(f.confidence * 10) / 10,
    };
  });
  const reasoning = r.reasoning.map((s, i) => text(s, `reasoning[${i}]`, fields.reasoning));
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return { ok: true, text: toGrammarJson({ verdict: r.verdict, findings, reasoning }) };
}

interface StudentFields {
  finding: Record<string, JsonSchema>;
  location: Record<string, JsonSchema>;
  evidence: Record<string, JsonSchema>;
  fix: JsonSchema;
  reasoning: JsonSchema;
}

function studentFields(schema: JsonSchema): StudentFields {
  const props = schema.properties as Record<string, JsonSchema>;
  const finding = (props.findings!.items as JsonSchema).properties as Record<string, JsonSchema>;
  const fixUnion = finding.fix!.anyOf as JsonSchema[];
  return {
    finding,
    location: finding.location!.properties as Record<string, JsonSchema>,
    evidence: (finding.evidence!.items as JsonSchema).properties as Record<string, JsonSchema>,
    fix: fixUnion[0]!,
    reasoning: props.reasoning!.items as JsonSchema,
  };
}

/** Compact JSON the grammar admits: like JSON.stringify, but DEL (which the grammar excludes raw) is escaped. */
export function toGrammarJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('\x7f', '\\u007f');
}
