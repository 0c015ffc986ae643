import type { Interval } from './bootstrap.js';
import { headline, HEADLINE_METRICS, LOWER_IS_BETTER, type EvalEntry, type HeadlineMetric } from './results.js';

/** Shared by summary.md and report.html: metric labels, number formats, table rows. */
export const METRIC_LABELS: Record<HeadlineMetric, string> = {
  accuracy: 'Accuracy',
  precision: 'Precision',
  recall: 'Recall',
  f1: 'F1',
  mcc: 'MCC',
  fpr: 'False-positive rate',
  'P-C': 'P-C (pair correct)',
  'P-V': 'P-V (both vulnerable)',
  'P-B': 'P-B (both benign)',
  'P-R': 'P-R (reversed)',
  vds: 'VD-S (FNR @ FPR<=0.5%)',
  cwe_exact: 'CWE exact',
  cwe_hierarchical: 'CWE hierarchy-aware',
  loc_precision: 'Line precision',
  loc_recall: 'Line recall',
  schema_valid: 'Schema-valid reports',
  grounded: 'Grounded reports',
  completeness: 'Report completeness',
  flip_rate: 'Robustness flip rate',
};

/** Which CI key belongs to a headline metric. */
const CI_KEY: Partial<Record<HeadlineMetric, string>> = {
  accuracy: 'accuracy',
  precision: 'precision',
  recall: 'recall',
  f1: 'f1',
  mcc: 'mcc',
  fpr: 'fpr',
  'P-C': 'P-C',
  'P-V': 'P-V',
  'P-B': 'P-B',
  'P-R': 'P-R',
  vds: 'vds',
  cwe_exact: 'cwe_exact',
  cwe_hierarchical: 'cwe_hierarchical',
};

export function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'na' : v.toFixed(digits);
}

export function fmtDelta(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'na';
  const s = v.toFixed(3);
  return v > 0 ? `+${s}` : s === '-0.000' ? '0.000' : s;
}

export function ciOf(entry: EvalEntry, metric: HeadlineMetric): Interval | null {
  const key = CI_KEY[metric];
  return key ? (entry.metrics?.ci[key] ?? null) : null;
}

export function fmtWithCi(entry: EvalEntry, metric: HeadlineMetric): string {
  const v = headline(entry, metric);
  const ci = ciOf(entry, metric);
  return ci && v !== null ? `${fmt(v)} [${fmt(ci.low)}, ${fmt(ci.high)}]` : fmt(v);
}

/** Headline metrics that at least one entry has a value for. */
export function shownMetrics(entries: readonly EvalEntry[]): HeadlineMetric[] {
  return HEADLINE_METRICS.filter((m) => entries.some((e) => headline(e, m) !== null));
}

/** Whether a delta is an improvement (true), a regression (false) or neither (null). */
export function improves(metric: string, delta: number | null): boolean | null {
  if (delta === null || delta === 0) return null;
  return LOWER_IS_BETTER.has(metric) ? delta < 0 : delta > 0;
}

export function fmtSeconds(v: number | null | undefined): string {
  if (v === null || v === undefined) return 'na';
  return v >= 10 ? `${v.toFixed(1)}s` : `${v.toFixed(3)}s`;
}
