import { describe, expect, it } from 'vitest';
import { binaryMetrics, cweAccuracy, lineLocalization, pairedMetrics, vdScore } from '../../src/eval/metrics.js';
import { bootstrapInterval } from '../../src/eval/bootstrap.js';

describe('binary metrics (hand-computed)', () => {
  // truth:     1 1 1 1 0 0 0 0 0 0
  // predicted: 1 1 1 0 1 0 0 0 0 0  -> tp 3, fn 1, fp 1, tn 5
  const truth = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
  const predicted = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0];
  const m = binaryMetrics(truth, predicted);
  it('counts', () => expect([m.tp, m.fn, m.fp, m.tn]).toEqual([3, 1, 1, 5]));
  it('accuracy, precision, recall, F1, FPR', () => {
    expect(m.accuracy).toBeCloseTo(0.8, 12);
    expect(m.precision).toBeCloseTo(0.75, 12);
    expect(m.recall).toBeCloseTo(0.75, 12);
    expect(m.f1).toBeCloseTo(0.75, 12);
    expect(m.fpr).toBeCloseTo(1 / 6, 12);
  });
  it('MCC = (3*5 - 1*1) / sqrt(4*4*6*6) = 14/24', () => expect(m.mcc).toBeCloseTo(14 / 24, 12));
  it('undefined ratios are null, MCC of a constant predictor is 0', () => {
    const all = binaryMetrics([1, 0, 1], [1, 1, 1]);
    expect(all.mcc).toBe(0);
    expect(all.recall).toBe(1);
    const none = binaryMetrics([0, 0], [0, 0]);
    expect(none.precision).toBeNull();
    expect(none.recall).toBeNull();
    expect(none.f1).toBeNull();
  });
  it('rejects mismatched lengths', () => expect(() => binaryMetrics([1], [1, 0])).toThrow(/1 labels but 2/));
});

describe('paired metrics (PrimeVul P-C/P-V/P-B/P-R)', () => {
  it('classifies each pair', () => {
    const m = pairedMetrics([
      { vulnerable: 1, fixed: 0 }, // correct
      { vulnerable: 1, fixed: 0 }, // correct
      { vulnerable: 1, fixed: 1 }, // both vulnerable
      { vulnerable: 0, fixed: 0 }, // both benign
      { vulnerable: 0, fixed: 1 }, // reversed
    ]);
    expect(m).toEqual({ pairs: 5, 'P-C': 0.4, 'P-V': 0.2, 'P-B': 0.2, 'P-R': 0.2 });
  });
  it('no pairs: all null', () => expect(pairedMetrics([])['P-C']).toBeNull());
});

describe('VD-S', () => {
  it('is the FNR at the lowest threshold whose FPR stays within budget', () => {
    // 200 negatives: one scores 0.9 (FPR 0.5% alone), one scores 0.6 (would make it 1%).
    // Positives: 0.95, 0.9 (tie with the negative), 0.7, 0.5.
    const truth: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < 198; i++) {
      truth.push(0);
      scores.push(0.1);
    }
    truth.push(0, 0);
    scores.push(0.9, 0.6);
    truth.push(1, 1, 1, 1);
    scores.push(0.95, 0.9, 0.7, 0.5);
    const r = vdScore(truth, scores, 0.005);
    // threshold 0.7: flagged negatives = {0.9} -> FPR 1/200 = 0.5%; positives found 0.95, 0.9, 0.7 -> FNR 1/4
    expect(r.threshold).toBe(0.7);
    expect(r.fpr).toBeCloseTo(0.005, 12);
    expect(r.vds).toBeCloseTo(0.25, 12);
  });
  it('a perfect ranker has VD-S 0; an inverted one 1', () => {
    expect(vdScore([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]).vds).toBe(0);
    expect(vdScore([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]).vds).toBe(1);
  });
  it('is undefined without both classes', () => expect(vdScore([1, 1], [0.5, 0.4]).vds).toBeNull());
});

describe('localisation and CWE accuracy', () => {
  it('micro-averages line precision and recall over samples with flaw lines', () => {
    const r = lineLocalization([
      { predicted: [3, 4, 5], truth: [4] }, // 1 hit of 3 predicted, 1 of 1 true
      { predicted: [10], truth: [11, 12] }, // 0 hits
      { predicted: [1, 2], truth: [] }, // ignored: no ground truth
    ]);
    expect(r.samples).toBe(2);
    expect(r.precision).toBeCloseTo(1 / 4, 12);
    expect(r.recall).toBeCloseTo(1 / 3, 12);
  });
  it('counts exact and hierarchy-aware CWE matches', () => {
    const parents: Record<string, string> = { 'CWE-121': 'CWE-787', 'CWE-787': 'CWE-119' };
    const ancestor = (a: string, b: string): boolean => {
      for (let x = parents[b]; x; x = parents[x]) if (x === a) return true;
      return false;
    };
    const related = (a: string, b: string): boolean => ancestor(a, b) || ancestor(b, a);
    const r = cweAccuracy(
      [
        { predicted: ['CWE-121'], truth: ['CWE-121'] },
        { predicted: ['CWE-787'], truth: ['CWE-121'] },
        { predicted: ['CWE-476'], truth: ['CWE-121'] },
        { predicted: [], truth: ['CWE-121'] },
      ],
      related,
    );
    expect(r.exact).toBeCloseTo(0.25, 12);
    expect(r.hierarchical).toBeCloseTo(0.5, 12);
  });
});

describe('bootstrap interval', () => {
  it('brackets the statistic, is deterministic by seed, and narrows with more data', () => {
    const small = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const large = Array.from({ length: 4000 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const mean = (xs: number[]) => (idx: Uint32Array) => {
      let s = 0;
      for (const i of idx) s += xs[i]!;
      return s / idx.length;
    };
    const a = bootstrapInterval(small.length, mean(small), { seed: 7 })!;
    const b = bootstrapInterval(small.length, mean(small), { seed: 7 })!;
    const c = bootstrapInterval(large.length, mean(large), { seed: 7 })!;
    expect(a).toEqual(b);
    expect(a.low).toBeLessThanOrEqual(0.25);
    expect(a.high).toBeGreaterThanOrEqual(0.25);
    expect(c.high - c.low).toBeLessThan(a.high - a.low);
  });
});
