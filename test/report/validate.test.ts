import { describe, expect, it } from 'vitest';
import { formatPath, parseReport } from '../../src/report/validate.js';
import type { VulnerabilityReport } from '../../src/report/schema.js';

function report(): VulnerabilityReport {
  return {
    verdict: 'vulnerable',
    findings: [
      {
        cwe: 'CWE-121',
        title: 'Stack overflow in copy',
        severity: 'high',
        location: { function: 'copy_name', start_line: 4, end_line: 4 },
        fragment: 'strcpy(dest, name);',
        root_cause: 'strcpy copies name into a 16-byte array without a bound.',
        trigger: 'name is 16 characters or longer.',
        impact: 'Stack corruption.',
        remediation: 'Bound the copy.',
        evidence: [{ line: 4, step: 'strcpy writes past dest' }],
        fix: 'snprintf(dest, sizeof(dest), "%s", name);',
        confidence: 0.9,
      },
    ],
    reasoning: ['name is unbounded', 'dest has 16 bytes'],
  };
}

describe('parseReport', () => {
  it('accepts a valid report as an object, as JSON text and inside a ```json fence', () => {
    expect(parseReport(report())).toEqual({ ok: true, report: report() });
    expect(parseReport(JSON.stringify(report())).ok).toBe(true);
    expect(parseReport('```json\n' + JSON.stringify(report(), null, 2) + '\n```').ok).toBe(true);
  });

  it('rejects text that is not JSON with one problem', () => {
    const r = parseReport('{"verdict": "vulnerable",');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('invalid_json');
    expect(r.problems[0]!.message).toMatch(/^not valid JSON \(/);
  });

  it('names the path of every schema problem', () => {
    const bad = report() as unknown as Record<string, unknown>;
    const f = (bad.findings as Array<Record<string, unknown>>)[0]!;
    delete f.root_cause;
    (f.location as Record<string, unknown>).start_line = 'four';
    f.cwe = 'stack overflow';
    f.extra = true;
    bad.verdict = 'maybe';
    const r = parseReport(bad);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.problems.map((p) => [p.path, p]));
    expect(Object.keys(byPath).sort()).toEqual(['findings[0]', 'findings[0].cwe', 'findings[0].location.start_line', 'findings[0].root_cause', 'verdict'].sort());
    expect(byPath['findings[0].root_cause']!.message).toBe('findings[0].root_cause: missing (expected string)');
    expect(byPath['findings[0]']!.message).toBe('findings[0]: unknown field "extra"');
    expect(byPath['findings[0].cwe']!.message).toMatch(/CWE id like "CWE-476"/);
    for (const p of r.problems) {
      expect(p.code).toBe('schema');
      expect(p.message).not.toMatch(/\n/);
      expect(p.message.startsWith(`${p.path}: `)).toBe(true);
    }
  });

  it('rejects a confidence outside 0..1', () => {
    const bad = report();
    bad.findings[0]!.confidence = 1.5;
    const r = parseReport(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toEqual(['findings[0].confidence']);
  });

  it('formats zod paths with dots and brackets', () => {
    expect(formatPath(['findings', 2, 'evidence', 0, 'line'])).toBe('findings[2].evidence[0].line');
    expect(formatPath([])).toBe('');
  });
});
