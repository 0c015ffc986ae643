import { describe, expect, it } from 'vitest';
import { groundReport, squeeze } from '../../src/report/grounding.js';
import type { VulnerabilityReport } from '../../src/report/schema.js';

const code = [
  '#include <string.h>', //  1
  '', //                     2
  'void copy_name(const char *name)', // 3
  '{', //                    4
  '    char dest[16];', //   5
  '    strcpy(dest,', //     6
  '           name);', //    7
  '    puts(dest);', //      8
  '}', //                    9
].join('\n');

function report(): VulnerabilityReport {
  return {
    verdict: 'vulnerable',
    findings: [
      {
        cwe: 'CWE-121',
        title: 'Stack overflow copying name',
        severity: 'high',
        location: { function: 'copy_name', start_line: 6, end_line: 7 },
        fragment: 'strcpy(dest,\n           name);',
        root_cause: 'strcpy copies name into dest[16] without a bound.',
        trigger: 'name has 16 or more characters.',
        impact: 'Stack corruption.',
        remediation: 'Bound the copy by sizeof(dest).',
        evidence: [
          { line: 3, step: 'name comes from the caller' },
          { line: 6, step: 'strcpy writes all of name into dest' },
        ],
        fix: 'snprintf(dest, sizeof(dest), "%s", name);',
        confidence: 0.9,
      },
    ],
    reasoning: ['name is unbounded', 'dest holds 16 bytes'],
  };
}

function codes(r: ReturnType<typeof groundReport>): string[] {
  return r.problems.map((p) => p.code);
}

describe('groundReport', () => {
  it('accepts a grounded report and says the fragment matched verbatim', () => {
    const r = groundReport(report(), code);
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.fragments).toEqual([{ finding: 0, match: 'exact', start_line: 6, end_line: 7 }]);
  });

  it('accepts a fragment that only matches after whitespace normalisation, and says so', () => {
    const rep = report();
    rep.findings[0]!.fragment = 'strcpy( dest, name );';
    expect(groundReport(rep, code).ok).toBe(false);
    rep.findings[0]!.fragment = 'strcpy(dest ,\n  name ) ;';
    const r = groundReport(rep, code);
    expect(r.ok).toBe(true);
    expect(r.fragments[0]).toEqual({ finding: 0, match: 'whitespace', start_line: 6, end_line: 7 });
  });

  it('matches a partial single line and the end/start of the outer lines of a multi-line fragment', () => {
    const rep = report();
    rep.findings[0]!.fragment = 'dest,';
    rep.findings[0]!.location = { function: 'copy_name', start_line: 6, end_line: 6 };
    expect(groundReport(rep, code).ok).toBe(true);
    rep.findings[0]!.fragment = 'char  dest[16];\n strcpy(dest,';
    rep.findings[0]!.location = { function: 'copy_name', start_line: 5, end_line: 6 };
    const r = groundReport(rep, code);
    expect(r.ok).toBe(true);
    expect(r.fragments[0]!.match).toBe('whitespace');
  });

  it('rejects a fragment that is not in the code', () => {
    const rep = report();
    rep.findings[0]!.fragment = 'memcpy(dest, name, 64);';
    const r = groundReport(rep, code);
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['fragment_not_found']);
    expect(r.problems[0]!.path).toBe('findings[0].fragment');
    expect(r.problems[0]!.message).toBe(
      'findings[0].fragment: not found in the code, verbatim or after whitespace normalisation: "memcpy(dest, name, 64);"',
    );
    expect(r.fragments[0]!.match).toBe('missing');
  });

  it('rejects lines that do not exist and inverted ranges', () => {
    const rep = report();
    rep.findings[0]!.location = { function: 'copy_name', start_line: 6, end_line: 40 };
    rep.findings[0]!.evidence.push({ line: 12, step: 'nowhere' });
    let r = groundReport(rep, code);
    expect(codes(r)).toEqual(['line_out_of_range', 'line_out_of_range']);
    expect(r.problems.map((p) => p.path)).toEqual(['findings[0].location.end_line', 'findings[0].evidence[2].line']);
    expect(r.problems[0]!.message).toBe('findings[0].location.end_line: line 40 does not exist (the code has 9 lines)');

    const inverted = report();
    inverted.findings[0]!.location = { function: 'copy_name', start_line: 7, end_line: 6 };
    r = groundReport(inverted, code);
    expect(codes(r)).toEqual(['line_range_inverted']);
  });

  it('counts the lines of code that ends with a newline correctly', () => {
    const rep = report();
    rep.findings[0]!.evidence.push({ line: 10, step: 'past the end' });
    expect(codes(groundReport(rep, code + '\n'))).toEqual(['line_out_of_range']);
    rep.findings[0]!.evidence.pop();
    rep.findings[0]!.evidence.push({ line: 9, step: 'closing brace' });
    expect(groundReport(rep, code + '\n').ok).toBe(true);
  });

  it('rejects a fragment that lies outside the declared location', () => {
    const rep = report();
    rep.findings[0]!.location = { function: 'copy_name', start_line: 8, end_line: 9 };
    const r = groundReport(rep, code);
    expect(codes(r)).toEqual(['fragment_outside_location']);
    expect(r.problems[0]!.message).toBe('findings[0].fragment: found on lines 6-7, outside the location (lines 8-9)');
  });

  it('accepts the occurrence of a repeated fragment that is inside the location', () => {
    const twice = code + '\nvoid again(const char *name)\n{\n    char dest[16];\n    strcpy(dest,\n           name);\n}';
    const rep = report();
    rep.findings[0]!.location = { function: 'again', start_line: 13, end_line: 14 };
    rep.findings[0]!.evidence = [{ line: 13, step: 'copy' }];
    const r = groundReport(rep, twice);
    expect(r.problems).toEqual([]);
    expect(r.fragments[0]).toMatchObject({ start_line: 13, end_line: 14 });
  });

  it('rejects an unknown CWE', () => {
    const rep = report();
    rep.findings[0]!.cwe = 'CWE-99999';
    const r = groundReport(rep, code);
    expect(codes(r)).toEqual(['unknown_cwe']);
    expect(r.problems[0]!.message).toBe('findings[0].cwe: CWE-99999 is not in the CWE catalog');
  });

  it('rejects a verdict that disagrees with the findings, both ways', () => {
    const noFindings = report();
    noFindings.findings = [];
    expect(codes(groundReport(noFindings, code))).toEqual(['verdict_mismatch']);
    expect(groundReport(noFindings, code).problems[0]!.message).toBe('findings: the verdict is "vulnerable" but there are no findings');

    const clean = report();
    clean.verdict = 'not_vulnerable';
    const r = groundReport(clean, code);
    expect(codes(r)).toEqual(['verdict_mismatch']);
    expect(r.problems[0]!.message).toBe('verdict: the verdict is "not_vulnerable" but there is 1 finding');

    const ok = report();
    ok.verdict = 'not_vulnerable';
    ok.findings = [];
    expect(groundReport(ok, code).ok).toBe(true);
  });

  it('runs the schema first: a malformed report fails with the schema problems only', () => {
    const r = groundReport({ verdict: 'vulnerable' }, code);
    expect(r.ok).toBe(false);
    expect(new Set(codes(r))).toEqual(new Set(['schema']));
    expect(r.problems.map((p) => p.path).sort()).toEqual(['findings', 'reasoning']);
    expect(groundReport('not json', code).problems[0]!.code).toBe('invalid_json');
  });

  it('warns without rejecting: unknown function, evidence outside the location, fix equal to fragment, duplicates', () => {
    const rep = report();
    rep.findings[0]!.location.function = 'copy_title';
    rep.findings[0]!.evidence = [{ line: 3, step: 'source' }];
    rep.findings[0]!.fix = 'strcpy(dest,  name);';
    rep.findings.push(structuredClone(rep.findings[0]!));
    const r = groundReport(rep, code);
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.code).sort()).toEqual(
      ['duplicate_finding', 'evidence_misses_location', 'evidence_misses_location', 'fix_unchanged', 'fix_unchanged', 'function_not_found', 'function_not_found'].sort(),
    );
  });

  it('reports every problem of a report at once, each as one line', () => {
    const rep = report();
    rep.findings[0]!.cwe = 'CWE-99998';
    rep.findings[0]!.fragment = 'system(cmd);';
    rep.findings[0]!.evidence = [{ line: 99, step: 'x' }];
    rep.verdict = 'not_vulnerable';
    const r = groundReport(rep, code);
    expect(codes(r).sort()).toEqual(['fragment_not_found', 'line_out_of_range', 'unknown_cwe', 'verdict_mismatch'].sort());
    for (const p of r.problems) expect(p.message).not.toMatch(/\n/);
  });

  it('normalises whitespace without caring about spaces around punctuation', () => {
    expect(squeeze('  char *p  =  a + b ;')).toBe('char*p=a+b;');
    expect(squeeze('char* p = a+b;')).toBe('char*p=a+b;');
    expect(squeeze('unsigned   int x')).toBe('unsigned int x');
  });
});
