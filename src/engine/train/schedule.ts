/**
 * Learning-rate schedule: linear warmup, then cosine, linear or constant. Steps are 1-based
 * (step s is the s-th optimizer update). Warmup climbs to the peak at step `warmup`; the decay
 * then starts from the peak at step warmup + 1 and ends one step short of zero at step `total`,
 * so the last update still moves the weights.
 */
export const SCHEDULES = ['cosine', 'linear', 'constant'] as const;
export type ScheduleKind = (typeof SCHEDULES)[number];

export interface Schedule {
  kind: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  warmup: number;
  total: number;
}

export function learningRate(s: Schedule, step: number): number {
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`learning-rate step must be an integer >= 1, got ${step}`);
  if (s.warmup > 0 && step <= s.warmup) return (s.lr * step) / s.warmup;
  if (s.kind === 'constant') return s.lr;
  const decaySteps = Math.max(1, s.total - s.warmup);
  const progress = Math.min(1, (step - s.warmup - 1) / decaySteps);
  if (s.kind === 'linear') return s.lr * (1 - progress);
  return s.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
