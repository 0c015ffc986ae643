import { describe, expect, it } from 'vitest';
import { referenceReport, ReferenceProvider } from '../../src/teacher/providers/reference.js';
import { checkAgreement, checkFormat, checkGrounding, groundTruthOf } from '../../src/teacher/checks.js';
import { renderPrompt, templateFor } from '../../src/teacher/prompts/index.js';
import type { Sample } from '../../src/kb/samples.js';
import { fixtureSample } from './fixtures.js';

function sample(partial: Partial<Sample>): Sample {
  return {
    id: 1,
    dataset_id: 1,
    code: 'int f(void) { return 0; }',
    code_hash: 'h',
    language: 'c',
    label: null,
    label_conflict: 0,
    cwes: [],
    flaw_lines: [],
    pair_id: null,
    group_id: null,
    project: null,
    commit_id: null,
    commit_time: null,
    file: null,
    function_name: null,
    signature: null,
    start_line: null,
    end_line: null,
    split: null,
    near_dup_cluster: null,
    occurrences: 1,
    meta: {},
    created_at: '',
    ...partial,
  };
}

const bigvulLike = [
  'static int parse(struct ctx *c, const unsigned char *p, size_t n)',
  '{',
  '  unsigned char hdr[8];',
  '  if (n < 2)',
  '    return -1;',
  '  memcpy(hdr, p, n);',
  '  c->kind = hdr[0];',
  '  return 0;',
  '}',
].join('\n');

describe('reference teacher', () => {
  it('uses the synthetic generator\'s report as it is', () => {
    const f = fixtureSample('copy_name', true);
    const r = referenceReport(sample({ code: f.code, label: 1, meta: { report: f.report } }));
    expect(r).toEqual({ report: f.report });
  });

  it('builds a grounded report from label, CWE catalog entry and flaw lines that passes every check', () => {
    const s = sample({ code: bigvulLike, label: 1, cwes: ['CWE-787', 'CWE-20'], flaw_lines: [6] });
    const r = referenceReport(s);
    if (!('report' in r)) throw new Error(r.refused);
    const f = r.report.findings[0]!;
    expect(f.cwe).toBe('CWE-787');
    expect(f.fragment).toBe('memcpy(hdr, p, n);');
    expect(f.location).toEqual({ function: 'parse', start_line: 6, end_line: 6 });
    expect(f.evidence).toEqual([{ line: 6, step: 'Marked as part of the flaw by the dataset: memcpy(hdr, p, n);' }]);
    expect(f.root_cause.length).toBeGreaterThan(10);
    const format = checkFormat(JSON.stringify(r.report));
    expect(format.ok).toBe(true);
    expect(checkGrounding(r.report, s.code)).toEqual([]);
    expect(checkAgreement(r.report, groundTruthOf(s)!)).toEqual([]);
  });

  it('uses the first run of consecutive flaw lines as the fragment and spans all flaw lines', () => {
    const s = sample({ code: bigvulLike, label: 1, cwes: ['CWE-121'], flaw_lines: [6, 7, 3] });
    const r = referenceReport(s);
    if (!('report' in r)) throw new Error(r.refused);
    expect(r.report.findings[0]!.fragment).toBe('unsigned char hdr[8];');
    expect(r.report.findings[0]!.location).toMatchObject({ start_line: 3, end_line: 7 });
    expect(checkGrounding(r.report, s.code)).toEqual([]);
  });

  it('writes a not-vulnerable report for label 0', () => {
    const r = referenceReport(sample({ label: 0, cwes: ['CWE-121'] }));
    expect(r).toMatchObject({ report: { verdict: 'not_vulnerable', findings: [] } });
  });

  it('refuses samples without a label, without a catalogued CWE, or without flaw lines, saying why', async () => {
    expect(referenceReport(sample({ label: null }))).toEqual({ refused: 'it has no label' });
    expect(referenceReport(sample({ label: 1, cwes: ['CWE-99999'], flaw_lines: [1] }))).toMatchObject({ refused: expect.stringMatching(/catalog/) });
    expect(referenceReport(sample({ label: 1, cwes: ['CWE-121'], flaw_lines: [40] }))).toMatchObject({ refused: expect.stringMatching(/no flaw lines/) });
    const provider = new ReferenceProvider();
    const prompt = renderPrompt(templateFor(false), sample({}));
    const answer = await provider.callApi(prompt, { sample: sample({ id: 7, label: null }) }, { temperature: 0, maxTokens: 1 });
    expect(answer).toMatchObject({ errorKind: 'refused', error: 'reference teacher: sample 7: it has no label' });
    expect(provider.isLlm).toBe(false);
  });
});

describe('agreement with ground truth', () => {
  const vulnerable = fixtureSample('copy_name', true).report;
  it('accepts the same or a related CWE and rejects an unrelated one or a wrong verdict', () => {
    const truth = { verdict: 'vulnerable' as const, cwes: ['CWE-122'], source: 'label' as const };
    expect(checkAgreement(vulnerable, truth)).toEqual([]); // CWE-121 and CWE-122 share CWE-787
    expect(checkAgreement(vulnerable, { ...truth, cwes: ['CWE-78'] })[0]!.code).toBe('truth.cwe');
    expect(checkAgreement(vulnerable, { verdict: 'not_vulnerable', cwes: [], source: 'label' })[0]!.code).toBe('truth.verdict');
  });

  it('takes the ground truth from a stored report before the label; none without either', () => {
    expect(groundTruthOf({ label: 0, cwes: [], meta: { report: vulnerable } })).toMatchObject({ verdict: 'vulnerable', cwes: ['CWE-121'], source: 'report' });
    expect(groundTruthOf({ label: 1, cwes: ['cwe-476'], meta: {} })).toEqual({ verdict: 'vulnerable', cwes: ['CWE-476'], source: 'label' });
    expect(groundTruthOf({ label: null, cwes: [], meta: {} })).toBeUndefined();
  });

  it('names format problems: not JSON (cut at the limit) and schema paths', () => {
    const cut = checkFormat('{"verdict": "vulner', 'length');
    expect(cut).toMatchObject({ ok: false, reasons: [{ code: 'not_json', detail: expect.stringMatching(/cut at the token limit/) }] });
    const bad = checkFormat(JSON.stringify({ verdict: 'maybe', findings: [], reasoning: ['x'] }));
    expect(bad).toMatchObject({ ok: false, reasons: [{ code: 'schema', detail: expect.stringMatching(/^verdict/) }] });
  });
});
