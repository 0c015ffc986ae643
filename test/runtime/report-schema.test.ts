import { describe, expect, it } from 'vitest';
import {
  assertGrammarSafe,
  CONFIDENCE_STEPS,
  reportToStudentText,
  studentReportJsonSchema,
  studentToReport,
  toGrammarJson,
  UNITS_PER_GRAMMAR_CHAR,
} from '../../src/runtime/report-schema.js';
import { reportJsonSchema, reportSchema, type VulnerabilityReport } from '../../src/report/schema.js';
import { toGrammarSchema } from '../../src/runtime/grammar-schema.js';
import { studentCweIds } from '../../src/runtime/generate-report.js';

const cweIds = ['CWE-121', 'CWE-476', 'CWE-787'];
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const report: VulnerabilityReport = {
  verdict: 'vulnerable',
  findings: [
    {
      cwe: 'CWE-121',
      title: 'Stack buffer overflow in copy',
      severity: 'high',
      location: { function: 'copy', start_line: 2, end_line: 3 },
      fragment: 'strcpy(b, p);',
      root_cause: 'The input length is not checked.',
      trigger: 'An input of 4 bytes or more.',
      impact: 'Stack memory corruption.',
      remediation: 'Bound the copy by sizeof b.',
      evidence: [{ line: 3, step: 'strcpy copies p into b without a bound \u007f é 😀' }],
      confidence: 0.85,
    },
  ],
  reasoning: ['b holds 4 bytes', 'p comes from the caller'],
};

describe('the grammar-safe student report schema', () => {
  it('is derived from the canonical schema with every leaf exact', () => {
    const schema = studentReportJsonSchema({ lineCount: 5, cweIds }) as Json;
    assertGrammarSafe(schema);
    const finding = schema.properties.findings.items.properties;
    expect(Object.keys(schema.properties)).toEqual(Object.keys((reportJsonSchema() as Json).properties));
    expect(finding.cwe).toEqual({ type: 'string', enum: cweIds });
    expect(finding.location.properties.start_line).toEqual({ type: 'integer', enum: [1, 2, 3, 4, 5] });
    expect(finding.evidence.items.properties.line.enum).toEqual([1, 2, 3, 4, 5]);
    expect(finding.confidence).toEqual({ type: 'number', enum: [...CONFIDENCE_STEPS] });
    // 16000 / 4 would be 4000: capped at llama.cpp's repetition limit.
    expect(finding.fix).toEqual({ anyOf: [{ type: 'string', maxLength: 999 }, { type: 'null' }] });
    expect(finding.title).toEqual({ type: 'string', minLength: 1, maxLength: 800 / UNITS_PER_GRAMMAR_CHAR });
    expect(schema.properties.findings.items.required).toEqual(Object.keys(finding));
    // node-llama-cpp gets it through the same translation as any client schema, losing nothing.
    expect(toGrammarSchema(schema).ignored).toEqual([]);
  });

  it('uses every non-deprecated catalog CWE by default, all matching the canonical id pattern', () => {
    const ids = studentCweIds();
    expect(ids.length).toBeGreaterThan(100);
    expect(ids).toContain('CWE-476');
    expect(() => studentReportJsonSchema({ lineCount: 1, cweIds: ids })).not.toThrow();
    expect(() => studentReportJsonSchema({ lineCount: 1, cweIds: ['CWE-0476'] })).toThrow(/not a CWE id/);
    expect(() => studentReportJsonSchema({ lineCount: 0, cweIds })).toThrow(/lineCount must be a positive integer/);
  });

  it('catches a schema leaf the grammar cannot make exact', () => {
    expect(() => assertGrammarSafe({ type: 'integer' })).toThrow(/type "integer" \(numbers must be enums\)/);
    expect(() => assertGrammarSafe({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false })).toThrow(
      /\/properties\/a is not grammar-safe: string without maxLength/,
    );
    expect(() => assertGrammarSafe({ type: 'array', items: { enum: ['x'] } })).toThrow(/array without maxItems/);
    expect(() => assertGrammarSafe({ type: 'object', properties: { a: { enum: [1] } }, required: [], additionalProperties: false })).toThrow(
      /optional keys/,
    );
  });

  it('writes a canonical report as the exact student text and reads it back', () => {
    const target = reportToStudentText(report, { lineCount: 5, cweIds });
    expect(target.ok).toBe(true);
    const text = (target as { text: string }).text;
    expect(text).toContain('"fix":null');
    expect(text).toContain('\\u007f');
    expect(text).not.toContain('\u007f');
    const back = reportSchema.parse(studentToReport(JSON.parse(text)));
    expect(back).toEqual({ ...report, findings: [{ ...report.findings[0]!, confidence: 0.9 }] });
    expect(toGrammarJson({ a: 'x\u007fy' })).toBe('{"a":"x\\u007fy"}');
  });

  it('says why a report does not fit the student schema', () => {
    const tooLong = { ...report, findings: [{ ...report.findings[0]!, title: 'x'.repeat(201), cwe: 'CWE-20', location: { function: 'f', start_line: 2, end_line: 9 } }] };
    const target = reportToStudentText(tooLong, { lineCount: 5, cweIds });
    expect(target).toEqual({
      ok: false,
      reason:
        'findings[0].cwe CWE-20 is not in the CWE list; findings[0].title is 201 characters; the student emits at most 200; ' +
        'findings[0].location.end_line is line 9; the input has 5 lines',
    });
  });
});
