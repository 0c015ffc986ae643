/**
 * Evaluation metrics as pure functions over predictions. Labels: 1 vulnerable, 0 not.
 * Every ratio whose denominator is zero is null (reported as "na"), never 0 or NaN.
 */
export interface BinaryCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface BinaryMetrics extends BinaryCounts {
  n: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  mcc: number | null;
  fpr: number | null;
}

export function ratio(num: number, den: number): number | null {
  return den === 0 ? null : num / den;
}

/** Counts over every item, or over the given indices (a bootstrap resample) when present. */
export function binaryCounts(truth: ArrayLike<number>, predicted: ArrayLike<number>, indices?: ArrayLike<number>): BinaryCounts {
  if (truth.length !== predicted.length) throw new Error(`binaryCounts: ${truth.length} labels but ${predicted.length} predictions`);
  const c: BinaryCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const n = indices ? indices.length : truth.length;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k]! : k;
    const t = truth[i] === 1;
    const p = predicted[i] === 1;
    if (t && p) c.tp++;
    else if (!t && p) c.fp++;
    else if (!t && !p) c.tn++;
    else c.fn++;
  }
  return c;
}

export function binaryMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>): BinaryMetrics {
  return metricsFromCounts(binaryCounts(truth, predicted));
}

export function metricsFromCounts(c: BinaryCounts): BinaryMetrics {
  const n = c.tp + c.fp + c.tn + c.fn;
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const mccDen = Math.sqrt((c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn));
  // MCC is 0 by convention when a marginal is empty (e.g. a model that always says "vulnerable").
  const mcc = n === 0 ? null : mccDen === 0 ? 0 : (c.tp * c.tn - c.fp * c.fn) / mccDen;
  return {
    ...c,
    n,
    accuracy: ratio(c.tp + c.tn, n),
    precision,
    recall,
    f1,
    mcc,
    fpr: ratio(c.fp, c.fp + c.tn),
  };
}

/** PrimeVul's pairwise view: for each (vulnerable, fixed) pair, what the model said about each side. */
export interface PairedMetrics {
  pairs: number;
  /** Pair-wise correct: vulnerable side flagged, fixed side cleared. */
  'P-C': number | null;
  /** Both sides flagged vulnerable. */
  'P-V': number | null;
  /** Both sides cleared as benign. */
  'P-B': number | null;
  /** Reversed: vulnerable side cleared, fixed side flagged. */
  'P-R': number | null;
}

export function pairedMetrics(pairs: Array<{ vulnerable: number; fixed: number }>): PairedMetrics {
  let pc = 0;
  let pv = 0;
  let pb = 0;
  let pr = 0;
  for (const p of pairs) {
    if (p.vulnerable === 1 && p.fixed === 0) pc++;
    else if (p.vulnerable === 1 && p.fixed === 1) pv++;
    else if (p.vulnerable === 0 && p.fixed === 0) pb++;
    else pr++;
  }
  const n = pairs.length;
  return { pairs: n, 'P-C': ratio(pc, n), 'P-V': ratio(pv, n), 'P-B': ratio(pb, n), 'P-R': ratio(pr, n) };
}

/**
 * VD-S: the false-negative rate at the strictest operating point whose false-positive rate stays
 * within the budget (default 0.5%). Scores are the model's belief that a sample is vulnerable;
 * a sample is flagged when its score >= threshold. Ties move together.
 */
export function vdScore(truth: ArrayLike<number>, scores: ArrayLike<number>, fprBudget = 0.005): { vds: number | null; threshold: number | null; fpr: number | null } {
  const n = truth.length;
  let positives = 0;
  let negatives = 0;
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    if (truth[i] === 1) positives++;
    else negatives++;
    order.push(i);
  }
  if (positives === 0 || negatives === 0) return { vds: null, threshold: null, fpr: null };
  order.sort((a, b) => scores[b]! - scores[a]!);
  // Walk thresholds from the highest score down; keep the last one within the FPR budget.
  let tp = 0;
  let fp = 0;
  let best = { tp: 0, fp: 0, threshold: Number.POSITIVE_INFINITY };
  let i = 0;
  while (i < n) {
    const s = scores[order[i]!]!;
    let j = i;
    while (j < n && scores[order[j]!] === s) {
      if (truth[order[j]!] === 1) tp++;
      else fp++;
      j++;
    }
    if (fp / negatives <= fprBudget) best = { tp, fp, threshold: s };
    else break;
    i = j;
  }
  return {
    vds: (positives - best.tp) / positives,
    threshold: Number.isFinite(best.threshold) ? best.threshold : null,
    fpr: best.fp / negatives,
  };
}

/** Line-level localisation, micro-averaged: predicted lines vs ground-truth flaw lines. */
export function lineLocalization(items: Array<{ predicted: Iterable<number>; truth: Iterable<number> }>): {
  precision: number | null;
  recall: number | null;
  samples: number;
} {
  let hit = 0;
  let predictedTotal = 0;
  let truthTotal = 0;
  let samples = 0;
  for (const item of items) {
    const truth = new Set(item.truth);
    if (truth.size === 0) continue;
    samples++;
    const predicted = new Set(item.predicted);
    predictedTotal += predicted.size;
    truthTotal += truth.size;
    for (const line of predicted) if (truth.has(line)) hit++;
  }
  return { precision: ratio(hit, predictedTotal), recall: ratio(hit, truthTotal), samples };
}

/**
 * CWE accuracy over vulnerable samples the model flagged: exact (a predicted CWE equals a true one)
 * and hierarchy-aware (a predicted CWE is the same as, an ancestor of, or a descendant of a true one).
 */
export function cweAccuracy(
  items: Array<{ predicted: string[]; truth: string[] }>,
  related: (a: string, b: string) => boolean,
): { exact: number | null; hierarchical: number | null; samples: number } {
  let exact = 0;
  let hier = 0;
  let samples = 0;
  for (const item of items) {
    if (item.truth.length === 0) continue;
    samples++;
    if (item.predicted.some((p) => item.truth.includes(p))) exact++;
    if (item.predicted.some((p) => item.truth.some((t) => p === t || related(p, t)))) hier++;
  }
  return { exact: ratio(exact, samples), hierarchical: ratio(hier, samples), samples };
}
