import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../src/eval/aggregate.js';
import { predictionFromOutcome, type Prediction } from '../../src/eval/prediction.js';
import type { SuiteSample } from '../../src/eval/suite.js';
import type { ReportOutcome } from '../../src/runtime/generate-report.js';
import type { Finding, VulnerabilityReport } from '../../src/report/schema.js';

function sample(id: number, label: 0 | 1, cwes: string[], pair: string | null, flaw: number[] = []): SuiteSample {
  return { id, code: `int f${id}(void) { return ${id}; }\n`, language: 'c', label, cwes, flaw_lines: flaw, pair_id: pair, lines: 1 };
}

function finding(cwe: string, start: number, end: number, confidence: number, words = 'the copy has no bound'): Finding {
  return {
    cwe,
    title: 't',
    severity: 'high',
    location: { function: 'f', start_line: start, end_line: end },
    fragment: 'x',
    root_cause: words,
    trigger: words,
    impact: 'crash',
    remediation: words,
    evidence: [{ line: start, step: 's' }],
    confidence,
  };
}

function outcome(report: VulnerabilityReport | undefined, raw: string, status: ReportOutcome['status'], tokens = 10): ReportOutcome {
  return { status, ...(report ? { report } : {}), raw, usage: { promptTokens: 100, completionTokens: tokens }, seconds: 0.5, linesShown: 1, linesTotal: 1 };
}

const vulnerable = (...findings: Finding[]): VulnerabilityReport => ({ verdict: 'vulnerable', findings, reasoning: ['r'] });
const safe: VulnerabilityReport = { verdict: 'not_vulnerable', findings: [], reasoning: ['r'] };

describe('predictions from report outcomes', () => {
  it('reads verdict, CWEs, lines, score and completeness from a report', () => {
    const p = predictionFromOutcome(sample(1, 1, ['CWE-121'], null), outcome(vulnerable(finding('CWE-787', 3, 5, 0.8), finding('CWE-121', 4, 4, 0.6, 'short')), '{}', 'grounded'));
    expect(p).toMatchObject({ verdict: 'vulnerable', verdict_source: 'report', predicted: 1, correct: true, cwes: ['CWE-121', 'CWE-787'], lines: [3, 4, 5], status: 'grounded', schema_valid: true, grounded: true });
    expect(p.score).toBeCloseTo(0.9, 12);
    // root cause, trigger and remediation are substantive in one of two findings ("short" is one word); impact in none.
    expect(p.completeness).toEqual({ root_cause: 0.5, trigger: 0.5, impact: 0, remediation: 0.5 });
  });

  it('takes the verdict a cut-off report started with, and counts no verdict as not vulnerable', () => {
    const raw = '{\n  "verdict":"vulnerable","findings":[{"cwe":"CWE-416","title":"use","confidence":0.7},{"cwe":"CWE-415"';
    const partial = predictionFromOutcome(sample(2, 1, ['CWE-416'], null), outcome(undefined, raw, 'truncated'));
    expect(partial).toMatchObject({ verdict: 'vulnerable', verdict_source: 'partial', predicted: 1, cwes: ['CWE-415', 'CWE-416'], schema_valid: false, grounded: false });
    expect(partial.score).toBeCloseTo(0.85, 12);
    const none = predictionFromOutcome(sample(3, 1, [], null), outcome(undefined, '', 'prompt_too_long', 0));
    expect(none).toMatchObject({ verdict: null, verdict_source: 'none', predicted: 0, correct: false, score: 0 });
    const garbage = predictionFromOutcome(sample(4, 0, [], null), outcome(undefined, 'not json', 'invalid'));
    expect(garbage).toMatchObject({ verdict: null, predicted: 0, correct: true });
  });
});

describe('computeMetrics', () => {
  // Two pairs (a: flagged both sides, b: correct), one lone vulnerable (missed), one lone safe (cleared).
  const samples = [
    sample(1, 1, ['CWE-121'], 'a', [2]),
    sample(2, 0, ['CWE-121'], 'a'),
    sample(3, 1, ['CWE-476'], 'b', [4, 5]),
    sample(4, 0, ['CWE-476'], 'b'),
    sample(5, 1, ['CWE-190'], null, [1]),
    sample(6, 0, [], null),
  ];
  const preds: Prediction[] = [
    predictionFromOutcome(samples[0]!, outcome(vulnerable(finding('CWE-122', 2, 3, 1)), 'x', 'grounded')),
    predictionFromOutcome(samples[1]!, outcome(vulnerable(finding('CWE-121', 1, 1, 0.2)), 'x', 'ungrounded')),
    predictionFromOutcome(samples[2]!, outcome(vulnerable(finding('CWE-476', 4, 4, 0.6)), 'x', 'grounded')),
    predictionFromOutcome(samples[3]!, outcome(safe, 'x', 'grounded')),
    predictionFromOutcome(samples[4]!, outcome(undefined, '{"verdict":"not_vulnerable"', 'truncated')),
    predictionFromOutcome(samples[5]!, outcome(safe, 'x', 'grounded')),
  ];
  const m = computeMetrics(samples, preds, { quality: true, cost: { load_seconds: 1.5, peak_rss_mb: 300 } });

  it('computes the binary and paired metrics by hand', () => {
    expect(m).toMatchObject({ tp: 2, fp: 1, tn: 2, fn: 1, n: 6 });
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.fpr).toBeCloseTo(1 / 3, 12);
    expect(m.paired).toEqual({ pairs: 2, 'P-C': 0.5, 'P-V': 0.5, 'P-B': 0, 'P-R': 0 });
  });

  it('scores CWEs and lines on the vulnerable samples the model flagged', () => {
    // Sample 1: CWE-122 for CWE-121 (siblings under CWE-787: related, not exact); sample 3: exact.
    expect(m.cwe).toEqual({ exact: 0.5, hierarchical: 1, samples: 2 });
    // Predicted lines {2,3} vs {2} and {4} vs {4,5}: 2 hits of 3 predicted, of 3 true.
    expect(m.localization.samples).toBe(2);
    expect(m.localization.precision).toBeCloseTo(2 / 3, 12);
    expect(m.localization.recall).toBeCloseTo(2 / 3, 12);
  });

  it('computes VD-S from the confidence scores', () => {
    // Scores: vulnerable 1.0, 0.8, 0 (missed); benign 0.6 (flagged), 0, 0. With 3 negatives any
    // false positive breaks the 0.5% budget: the threshold stops at 0.8, above the benign 0.6,
    // and flags two of the three vulnerable samples: FNR 1/3.
    expect(m.vds).toBeCloseTo(1 / 3, 12);
    expect(m.vds_detail).toEqual({ threshold: 0.8, fpr: 0, budget: 0.005 });
  });

  it('summarises report quality and per-CWE recall', () => {
    expect(m.quality).toMatchObject({ reports: 6, statuses: { grounded: 4, truncated: 1, ungrounded: 1 }, no_verdict: 0, partial_verdict: 1 / 6 });
    expect(m.quality!.schema_valid).toBeCloseTo(5 / 6, 12);
    expect(m.quality!.grounding_pass).toBeCloseTo(4 / 5, 12);
    expect(m.quality!.completeness).toMatchObject({ reports_with_findings: 3, root_cause: 1, impact: 0, overall: 0.75 });
    expect(m.per_cwe.map((c) => [c.cwe, c.vulnerable, c.fixed, c.recall, c.fpr])).toEqual([
      ['CWE-121', 1, 1, 1, 1],
      ['CWE-476', 1, 1, 1, 0],
      ['CWE-190', 1, 0, 0, null],
    ]);
  });

  it('has bootstrap intervals that contain the estimate, and cost from the predictions', () => {
    for (const key of ['accuracy', 'f1', 'P-C'] as const) {
      const ci = m.ci[key]!;
      const value = key === 'P-C' ? m.paired['P-C']! : m[key]!;
      expect(ci.low).toBeLessThanOrEqual(value);
      expect(ci.high).toBeGreaterThanOrEqual(value);
    }
    expect(m.cost).toMatchObject({ samples: 6, seconds: 3, load_seconds: 1.5, peak_rss_mb: 300, latency_mean: 0.5, prompt_tokens: 600, completion_tokens: 60 });
    expect(m.cost.tokens_per_second).toBeCloseTo(20, 12);
  });
});
