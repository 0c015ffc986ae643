import { describe, expect, it } from 'vitest';
import { decide, metricValue, type SuiteFigures } from '../../src/learn/gate.js';

const fig = (suite: string, role: 'target' | 'regression', before: number | null, after: number | null, metric: SuiteFigures['metric'] = 'accuracy'): SuiteFigures => ({
  suite,
  role,
  metric,
  samples: 10,
  before,
  after,
});

describe('gate decisions on given numbers', () => {
  const o = { margin: 0.05, tolerance: 0.02 };

  it('promotes when the target rises by at least the margin (exactly the margin counts) and no regression suite falls too far', () => {
    const d = decide([fig('hard', 'target', 0.5, 0.55), fig('a:test', 'regression', 0.8, 0.78)], o);
    expect(d.promote).toBe(true);
    expect(d.target).toEqual({ before: 0.5, after: 0.55, delta: expect.closeTo(0.05, 12) });
    expect(d.suites.map((s) => s.ok)).toEqual([true, true]);
    expect(d.reason).toMatch(/rose 0\.500 -> 0\.550 \(\+0\.050 >= margin 0\.05\)/);
  });

  it('rejects a rise below the margin, with the numbers', () => {
    const d = decide([fig('hard', 'target', 0.5, 0.54), fig('a:test', 'regression', 0.8, 0.9)], o);
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/went 0\.500 -> 0\.540 \(\+0\.040\), less than the margin 0\.05/);
  });

  it('rejects when any regression suite falls by more than the tolerance, even with a large target gain', () => {
    const d = decide([fig('hard', 'target', 0.1, 0.9), fig('a:test', 'regression', 0.8, 0.79), fig('b:test', 'regression', 0.7, 0.67, 'f1')], o);
    expect(d.promote).toBe(false);
    expect(d.suites.map((s) => s.ok)).toEqual([true, true, false]);
    expect(d.reason).toMatch(/b:test f1 0\.700 -> 0\.670 \(-0\.030\)/);
    expect(d.reason).not.toMatch(/a:test/);
  });

  it('judges several targets by their mean, counts an undefined metric as 0, and refuses without a target', () => {
    const d = decide([fig('t1', 'target', null, 0.2, 'f1'), fig('t2', 'target', 0.6, 0.5, 'f1')], o);
    expect(d.target!.before).toBeCloseTo(0.3, 12);
    expect(d.target!.after).toBeCloseTo(0.35, 12);
    expect(d.promote).toBe(true);
    const none = decide([fig('a:test', 'regression', 0.5, 0.9)], o);
    expect(none.promote).toBe(false);
    expect(none.reason).toMatch(/no target suite/);
  });
});

describe('gate metrics', () => {
  // Two pairs and one unpaired sample: truth 1,0 | 1,0 | 1.
  const samples = [
    { id: 1, label: 1 as const, pair_id: 'p' },
    { id: 2, label: 0 as const, pair_id: 'p' },
    { id: 3, label: 1 as const, pair_id: 'q' },
    { id: 4, label: 0 as const, pair_id: 'q' },
    { id: 5, label: 1 as const, pair_id: null },
  ];
  const predicted = new Map<number, 0 | 1>([
    [1, 1],
    [2, 0],
    [3, 1],
    [4, 1],
  ]); // sample 5 has no prediction: counts as not flagged

  it('computes each metric from the predictions (hand-counted: tp 2, fp 1, tn 1, fn 1)', () => {
    expect(metricValue('accuracy', samples, predicted)).toBeCloseTo(3 / 5, 12);
    expect(metricValue('precision', samples, predicted)).toBeCloseTo(2 / 3, 12);
    expect(metricValue('recall', samples, predicted)).toBeCloseTo(2 / 3, 12);
    expect(metricValue('f1', samples, predicted)).toBeCloseTo(2 / 3, 12);
    expect(metricValue('mcc', samples, predicted)).toBeCloseTo((2 * 1 - 1 * 1) / Math.sqrt(3 * 3 * 2 * 2), 12);
    // Pair p is right on both sides, pair q flags the fixed side too.
    expect(metricValue('pc', samples, predicted)).toBeCloseTo(0.5, 12);
  });

  it('gives null where the metric is undefined (nothing flagged: no precision)', () => {
    expect(metricValue('precision', samples, new Map())).toBeNull();
    expect(metricValue('f1', samples, new Map())).toBeNull();
  });
});
