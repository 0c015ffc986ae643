import { mulberry32 } from '../util/random.js';

export interface Interval {
  low: number;
  high: number;
}

/**
 * Percentile bootstrap 95% interval of a statistic over n resampling units (samples, or pairs for
 * the paired metrics). Deterministic for a seed. Resamples where the statistic is undefined are
 * dropped; null when fewer than half of them remain.
 */
export function bootstrapInterval(
  n: number,
  statistic: (indices: Uint32Array) => number | null,
  options: { iterations?: number; seed?: number; level?: number } = {},
): Interval | null {
  if (n === 0) return null;
  const iterations = options.iterations ?? 1000;
  const level = options.level ?? 0.95;
  const random = mulberry32(options.seed ?? 1);
  const values: number[] = [];
  const indices = new Uint32Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) indices[i] = Math.floor(random() * n);
    const v = statistic(indices);
    if (v !== null && Number.isFinite(v)) values.push(v);
  }
  if (values.length < iterations / 2) return null;
  values.sort((a, b) => a - b);
  const lowIndex = Math.floor(((1 - level) / 2) * (values.length - 1));
  const highIndex = Math.ceil((1 - (1 - level) / 2) * (values.length - 1));
  return { low: values[lowIndex]!, high: values[highIndex]! };
}
