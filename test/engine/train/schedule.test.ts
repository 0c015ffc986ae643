import { describe, expect, it } from 'vitest';
import { learningRate, type Schedule } from '../../../src/engine/train/schedule.js';

const at = (s: Schedule, steps: number[]): number[] => steps.map((n) => learningRate(s, n));

describe('learning-rate schedule', () => {
  it('warms up linearly to the peak at step `warmup`', () => {
    const s: Schedule = { kind: 'cosine', lr: 1e-3, warmup: 4, total: 10 };
    expect(at(s, [1, 2, 3, 4])).toEqual([2.5e-4, 5e-4, 7.5e-4, 1e-3]);
  });

  it('cosine: starts from the peak after warmup and ends one step short of zero', () => {
    const s: Schedule = { kind: 'cosine', lr: 1, warmup: 2, total: 6 };
    // decay over total - warmup = 4 steps: progress 0, 1/4, 2/4, 3/4 at steps 3..6
    const want = [0, 0.25, 0.5, 0.75].map((p) => 0.5 * (1 + Math.cos(Math.PI * p)));
    at(s, [3, 4, 5, 6]).forEach((lr, i) => expect(lr).toBeCloseTo(want[i]!, 15));
    expect(at(s, [5])[0]).toBeCloseTo(0.5, 15);
    expect(learningRate(s, 6)).toBeGreaterThan(0);
  });

  it('linear: decays by equal steps from the peak', () => {
    const s: Schedule = { kind: 'linear', lr: 0.8, warmup: 0, total: 4 };
    at(s, [1, 2, 3, 4]).forEach((lr, i) => expect(lr).toBeCloseTo([0.8, 0.6, 0.4, 0.2][i]!, 15));
  });

  it('constant: the peak after warmup, whatever the step', () => {
    const s: Schedule = { kind: 'constant', lr: 3e-4, warmup: 2, total: 5 };
    expect(at(s, [1, 2, 3, 5, 50])).toEqual([1.5e-4, 3e-4, 3e-4, 3e-4, 3e-4]);
  });

  it('refuses step 0 (steps count from 1)', () => {
    expect(() => learningRate({ kind: 'constant', lr: 1, warmup: 0, total: 1 }, 0)).toThrow(/>= 1/);
  });
});
