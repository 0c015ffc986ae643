import { describe, expect, it } from 'vitest';
import { checkSarif } from './sarif-schema.js';
import { fileUri, ruleName, SEVERITY_LEVEL } from '../../src/scan/sarif.js';

const valid = {
  $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
  version: '2.1.0',
  runs: [
    {
      tool: {
        driver: {
          name: 'finesec',
          rules: [
            {
              id: 'CWE-476',
              name: 'NullPointerDereference',
              shortDescription: { text: 'CWE-476: NULL Pointer Dereference' },
              fullDescription: { text: 'A pointer that can be NULL is dereferenced.' },
              helpUri: 'https://cwe.mitre.org/data/definitions/476.html',
              help: { text: 'help', markdown: '**help**' },
              defaultConfiguration: { level: 'warning' },
              properties: { tags: ['security', 'external/cwe/cwe-476'] },
            },
          ],
        },
      },
      results: [
        {
          ruleId: 'CWE-476',
          ruleIndex: 0,
          level: 'warning',
          message: { text: 'p may be NULL' },
          locations: [{ physicalLocation: { artifactLocation: { uri: 'src/a.c' }, region: { startLine: 3 } } }],
          partialFingerprints: { 'finesec/v1': 'abc:1' },
        },
      ],
    },
  ],
};

const mutate = (change: (v: typeof valid & Record<string, any>) => void): string => {
  const copy = structuredClone(valid) as typeof valid & Record<string, any>;
  change(copy);
  return JSON.stringify(copy);
};

describe('the SARIF check used by the scan tests', () => {
  it('accepts a minimal valid log and rejects what GitHub rejects', () => {
    expect(() => checkSarif(JSON.stringify(valid))).not.toThrow();
    expect(() => checkSarif('')).toThrow('SARIF output is empty');
    expect(() => checkSarif(mutate((v) => (v.runs[0]!.tool.driver.rules[0]!.properties.tags = [1 as never])))).toThrow(/tags\/0 must be string/);
    expect(() => checkSarif(mutate((v) => ((v.runs[0]!.results[0] as any).level = 'critical')))).toThrow(/level must be equal to one of the allowed values/);
    expect(() => checkSarif(mutate((v) => ((v.runs[0]!.results[0] as any).fixes = [{ description: { text: 'x' } }])))).toThrow(/must have required property 'artifactChanges'/);
    expect(() => checkSarif(mutate((v) => (v.runs[0]!.results[0]!.locations[0]!.physicalLocation.region.startLine = 0)))).toThrow(/startLine must be >= 1/);
    expect(() => checkSarif(mutate((v) => ((v.runs[0]!.results[0] as any).partialFingerprints = { a: 1 })))).toThrow(/must be string/);
    expect(() => checkSarif(mutate((v) => (v.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri = '/abs/a.c')))).toThrow(/uri must match/);
    expect(() => checkSarif(mutate((v) => (v.runs[0]!.results[0]!.ruleIndex = 1)))).toThrow(/ruleIndex 1 does not point at rule CWE-476/);
    expect(() => checkSarif(mutate((v) => delete (v as any).$schema))).toThrow(/\$schema/);
  });
});

describe('SARIF details', () => {
  it('names rules after the CWE (a quoted alias wins) and maps severities to levels', () => {
    expect(ruleName('NULL Pointer Dereference', 'CWE-476')).toBe('NullPointerDereference');
    expect(ruleName("Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')", 'CWE-78')).toBe('OsCommandInjection');
    expect(SEVERITY_LEVEL).toEqual({ critical: 'error', high: 'error', medium: 'warning', low: 'note' });
  });

  it('writes relative paths as URI references', () => {
    expect(fileUri('src/a b/c#1.c')).toBe('src/a%20b/c%231.c');
  });
});
