import { cweLabel, relatedCwe } from '../cwe/index.js';
import { bootstrapInterval, type Interval } from './bootstrap.js';
import {
  binaryCounts,
  binaryMetrics,
  cweAccuracy,
  lineLocalization,
  metricsFromCounts,
  pairedMetrics,
  ratio,
  vdScore,
  type BinaryCounts,
  type PairedMetrics,
} from './metrics.js';
import { COMPLETENESS_FIELDS, type CompletenessField, type Prediction } from './prediction.js';
import { suitePairs, type SuiteSample } from './suite.js';

/**
 * Every metric of one model or baseline, computed from its predictions over the suite. Ratios
 * with an empty denominator are null. Confidence intervals are percentile bootstrap 95% intervals
 * (1000 resamples, seed 1): over samples for the binary metrics and VD-S, over pairs for the
 * paired metrics, over the scored samples for CWE accuracy.
 */
export const VDS_FPR_BUDGET = 0.005;
const BOOTSTRAP = { iterations: 1000, seed: 1 };

export interface PerCweMetrics {
  cwe: string;
  name: string;
  vulnerable: number;
  fixed: number;
  recall: number | null;
  fpr: number | null;
  f1: number | null;
}

export interface QualityMetrics {
  reports: number;
  schema_valid: number | null;
  grounded: number | null;
  /** Grounded among schema-valid reports. */
  grounding_pass: number | null;
  /** Answers with no verdict at all (counted as not vulnerable). */
  no_verdict: number | null;
  /** Verdicts read from a report cut off at max tokens. */
  partial_verdict: number | null;
  statuses: Record<string, number>;
  completeness: ({ overall: number | null; reports_with_findings: number } & Record<CompletenessField, number | null>);
}

export interface CostMetrics {
  samples: number;
  seconds: number;
  load_seconds: number | null;
  latency_mean: number | null;
  latency_median: number | null;
  latency_p95: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  /** Generated tokens per second of wall-clock report time, prompt processing included (models only). */
  tokens_per_second: number | null;
  /** Highest resident set size (MB) seen while this entry ran; null for external tools. */
  peak_rss_mb: number | null;
}

export interface EntryMetrics extends BinaryCounts {
  n: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  mcc: number | null;
  fpr: number | null;
  paired: PairedMetrics;
  vds: number | null;
  vds_detail: { threshold: number | null; fpr: number | null; budget: number };
  cwe: { exact: number | null; hierarchical: number | null; samples: number };
  per_cwe: PerCweMetrics[];
  localization: { precision: number | null; recall: number | null; samples: number };
  quality: QualityMetrics | null;
  cost: CostMetrics;
  ci: Record<string, Interval | null>;
}

export function computeMetrics(
  samples: readonly SuiteSample[],
  predictions: readonly Prediction[],
  options: { quality: boolean; cost: { load_seconds: number | null; peak_rss_mb: number | null } },
): EntryMetrics {
  const bySample = new Map(predictions.map((p) => [p.sample_id, p]));
  const preds = samples.map((s) => {
    const p = bySample.get(s.id);
    if (!p) throw new Error(`no prediction for sample ${s.id}`);
    return p;
  });
  const truth = samples.map((s) => s.label);
  const predicted = preds.map((p) => p.predicted);
  const scores = preds.map((p) => p.score);
  const binary = binaryMetrics(truth, predicted);

  const index = new Map(samples.map((s, i) => [s.id, i]));
  const pairs = suitePairs(samples).map((p) => ({ vulnerable: predicted[index.get(p.vulnerable)!]!, fixed: predicted[index.get(p.fixed)!]! }));
  const paired = pairedMetrics(pairs);
  const vds = vdScore(truth, scores, VDS_FPR_BUDGET);

  // CWE and localisation: over vulnerable samples the model flagged.
  const flagged = samples.map((s, i) => ({ s, p: preds[i]! })).filter(({ s, p }) => s.label === 1 && p.predicted === 1);
  const cweItems = flagged.map(({ s, p }) => ({ predicted: p.cwes, truth: s.cwes }));
  const cwe = cweAccuracy(cweItems, relatedCwe);
  const localization = lineLocalization(flagged.map(({ s, p }) => ({ predicted: p.lines, truth: s.flaw_lines })));

  const ci: Record<string, Interval | null> = {};
  const counted = (indices: Uint32Array): BinaryCounts => binaryCounts(truth, predicted, indices);
  const binaryStats = ['accuracy', 'precision', 'recall', 'f1', 'mcc', 'fpr'] as const;
  for (const key of binaryStats) {
    ci[key] = bootstrapInterval(samples.length, (idx) => metricsFromCounts(counted(idx))[key], BOOTSTRAP);
  }
  for (const key of ['P-C', 'P-V', 'P-B', 'P-R'] as const) {
    ci[key] = bootstrapInterval(pairs.length, (idx) => pairedMetrics(Array.from(idx, (i) => pairs[i]!))[key], BOOTSTRAP);
  }
  ci.vds = bootstrapInterval(
    samples.length,
    (idx) => vdScore(Array.from(idx, (i) => truth[i]!), Array.from(idx, (i) => scores[i]!), VDS_FPR_BUDGET).vds,
    BOOTSTRAP,
  );
  const scored = cweItems.filter((item) => item.truth.length > 0);
  ci.cwe_exact = bootstrapInterval(scored.length, (idx) => cweAccuracy(Array.from(idx, (i) => scored[i]!), relatedCwe).exact, BOOTSTRAP);
  ci.cwe_hierarchical = bootstrapInterval(scored.length, (idx) => cweAccuracy(Array.from(idx, (i) => scored[i]!), relatedCwe).hierarchical, BOOTSTRAP);

  const latencies = preds.map((p) => p.seconds).sort((a, b) => a - b);
  const seconds = latencies.reduce((a, b) => a + b, 0);
  const promptTokens = preds.reduce((a, p) => a + p.prompt_tokens, 0);
  const completionTokens = preds.reduce((a, p) => a + p.completion_tokens, 0);
  const cost: CostMetrics = {
    samples: preds.length,
    seconds,
    load_seconds: options.cost.load_seconds,
    latency_mean: ratio(seconds, latencies.length),
    latency_median: quantile(latencies, 0.5),
    latency_p95: quantile(latencies, 0.95),
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    tokens_per_second: options.quality && seconds > 0 ? completionTokens / seconds : null,
    peak_rss_mb: options.cost.peak_rss_mb,
  };

  return {
    ...binary,
    paired,
    vds: vds.vds,
    vds_detail: { threshold: vds.threshold, fpr: vds.fpr, budget: VDS_FPR_BUDGET },
    cwe,
    per_cwe: perCwe(samples, predicted),
    localization,
    quality: options.quality ? quality(preds) : null,
    cost,
    ci,
  };
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function perCwe(samples: readonly SuiteSample[], predicted: readonly number[]): PerCweMetrics[] {
  const groups = new Map<string, number[]>();
  samples.forEach((s, i) => {
    for (const c of s.cwes) {
      const g = groups.get(c) ?? [];
      g.push(i);
      groups.set(c, g);
    }
  });
  const out: PerCweMetrics[] = [];
  for (const [cwe, idx] of groups) {
    const m = binaryMetrics(
      idx.map((i) => samples[i]!.label),
      idx.map((i) => predicted[i]!),
    );
    out.push({ cwe, name: cweLabel(cwe).slice(cwe.length + 1) || cwe, vulnerable: m.tp + m.fn, fixed: m.fp + m.tn, recall: m.recall, fpr: m.fpr, f1: m.f1 });
  }
  return out.sort((a, b) => b.vulnerable + b.fixed - (a.vulnerable + a.fixed) || Number(a.cwe.slice(4)) - Number(b.cwe.slice(4)));
}

function quality(preds: readonly Prediction[]): QualityMetrics {
  const n = preds.length;
  const statuses: Record<string, number> = {};
  for (const p of preds) statuses[p.status] = (statuses[p.status] ?? 0) + 1;
  const schemaValid = preds.filter((p) => p.schema_valid).length;
  const grounded = preds.filter((p) => p.grounded).length;
  const withFindings = preds.filter((p) => p.completeness !== null);
  const fields = {} as Record<CompletenessField, number | null>;
  for (const f of COMPLETENESS_FIELDS) fields[f] = ratio(withFindings.reduce((a, p) => a + p.completeness![f], 0), withFindings.length);
  const present = COMPLETENESS_FIELDS.map((f) => fields[f]).filter((v): v is number => v !== null);
  return {
    reports: n,
    schema_valid: ratio(schemaValid, n),
    grounded: ratio(grounded, n),
    grounding_pass: ratio(grounded, schemaValid),
    no_verdict: ratio(preds.filter((p) => p.verdict === null).length, n),
    partial_verdict: ratio(preds.filter((p) => p.verdict_source === 'partial').length, n),
    statuses: Object.fromEntries(Object.entries(statuses).sort(([a], [b]) => a.localeCompare(b))),
    completeness: {
      overall: present.length === COMPLETENESS_FIELDS.length ? present.reduce((a, b) => a + b, 0) / present.length : null,
      reports_with_findings: withFindings.length,
      ...fields,
    },
  };
}
