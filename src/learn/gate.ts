/**
 * The promotion gate. A candidate adapter is compared with the adapter it would replace on the
 * same frozen samples (greedy decoding, so the comparison is exact):
 * - target suites (the held-out hard cases, and any --target suite): the mean of the metric over
 *   them must rise by at least `margin`;
 * - regression suites: none may fall by more than `tolerance`.
 * Only then is it promoted; otherwise it is kept as rejected with these numbers. A metric that is
 * undefined on a suite (e.g. F1 when nothing is flagged) counts as 0.
 */
import { binaryMetrics, pairedMetrics } from '../eval/metrics.js';
import { suitePairs } from '../eval/suite.js';

export const GATE_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'mcc', 'pc'] as const;
export type GateMetric = (typeof GATE_METRICS)[number];

/** Floating-point slack, so a rise of exactly the margin counts. */
const EPSILON = 1e-9;

export interface ScoredSample {
  id: number;
  label: 0 | 1;
  pair_id: string | null;
}

/** The metric over predictions (sample id -> predicted 0/1) of these samples; null when undefined. */
export function metricValue(metric: GateMetric, samples: readonly ScoredSample[], predicted: ReadonlyMap<number, 0 | 1>): number | null {
  const truth = samples.map((s) => s.label);
  const guess = samples.map((s) => predicted.get(s.id) ?? 0);
  if (metric === 'pc') {
    const pairs = suitePairs(samples).map((p) => ({ vulnerable: predicted.get(p.vulnerable) ?? 0, fixed: predicted.get(p.fixed) ?? 0 }));
    return pairedMetrics(pairs)['P-C'];
  }
  const m = binaryMetrics(truth, guess);
  return m[metric];
}

export type SuiteRole = 'target' | 'regression';

export interface SuiteFigures {
  suite: string;
  role: SuiteRole;
  /** The metric this suite is judged by (targets and regression suites may use different ones). */
  metric: GateMetric;
  samples: number;
  before: number | null;
  after: number | null;
}

export interface SuiteVerdict extends SuiteFigures {
  /** after - before, nulls as 0. */
  delta: number;
  /** Regression suites: within tolerance. Target suites: always true (judged together). */
  ok: boolean;
}

export interface GateDecision {
  promote: boolean;
  reason: string;
  margin: number;
  tolerance: number;
  target: { before: number; after: number; delta: number } | null;
  suites: SuiteVerdict[];
}

const value = (x: number | null): number => x ?? 0;
const fmt = (x: number): string => x.toFixed(3);
const signed = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(3);

export function decide(figures: readonly SuiteFigures[], o: { margin: number; tolerance: number }): GateDecision {
  const suites: SuiteVerdict[] = figures.map((f) => {
    const delta = value(f.after) - value(f.before);
    return { ...f, delta, ok: f.role === 'target' || -delta <= o.tolerance + EPSILON };
  });
  const targets = suites.filter((s) => s.role === 'target');
  const base = { margin: o.margin, tolerance: o.tolerance, suites };
  if (targets.length === 0) return { ...base, promote: false, reason: 'no target suite: nothing measures whether the candidate improved', target: null };
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const before = mean(targets.map((t) => value(t.before)));
  const after = mean(targets.map((t) => value(t.after)));
  const target = { before, after, delta: after - before };
  const names = targets.map((t) => t.suite).join(', ');
  const metric = [...new Set(targets.map((t) => t.metric))].join('/');
  const fallen = suites.filter((s) => !s.ok);
  if (target.delta + EPSILON < o.margin) {
    return { ...base, promote: false, target, reason: `target ${metric} on ${names} went ${fmt(before)} -> ${fmt(after)} (${signed(target.delta)}), less than the margin ${o.margin}` };
  }
  if (fallen.length > 0) {
    const which = fallen.map((s) => `${s.suite} ${s.metric} ${fmt(value(s.before))} -> ${fmt(value(s.after))} (${signed(s.delta)})`).join('; ');
    return { ...base, promote: false, target, reason: `a regression suite fell by more than the tolerance ${o.tolerance}: ${which}` };
  }
  const regressions = suites.filter((s) => s.role === 'regression');
  return {
    ...base,
    promote: true,
    target,
    reason:
      `target ${metric} on ${names} rose ${fmt(before)} -> ${fmt(after)} (${signed(target.delta)} >= margin ${o.margin})` +
      (regressions.length ? `; no regression suite fell by more than ${o.tolerance}` : ''),
  };
}
