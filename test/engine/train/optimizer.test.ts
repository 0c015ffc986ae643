/**
 * AdamW against a step computed by hand from PyTorch's definition (torch.optim.AdamW), and
 * global-norm clipping against hand-computed norms. Runs on the active kernels (native or TS).
 */
import { describe, expect, it } from 'vitest';
import { kernels, kernelsFor } from '../../../src/engine/kernels/index.js';
import { AdamW } from '../../../src/engine/train/optimizer.js';
import { clipScale, globalNorm } from '../../../src/engine/train/clip.js';

/** PyTorch AdamW, one element, in f64. */
function reference(p: number, grads: number[], lr: number, b1: number, b2: number, eps: number, wd: number): number {
  let m = 0;
  let v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    p = p * (1 - lr * wd);
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const mHat = m / (1 - b1 ** t);
    const vHat = v / (1 - b2 ** t);
    p = p - (lr * mHat) / (Math.sqrt(vHat) + eps);
  });
  return p;
}

describe('AdamW', () => {
  for (const [label, k] of [['active kernels', kernels({ announce: false })], ['TypeScript kernels', kernelsFor('ts')]] as const) {
    it(`${label}: first step moves each weight by lr * sign(g) plus decoupled decay (hand-computed)`, () => {
      const param = Float32Array.from([1, -2, 0.5, 0]);
      const grad = Float32Array.from([0.1, -0.3, 0, 2]);
      const opt = new AdamW([{ name: 'w', param, grad, decay: true }], { weightDecay: 0.1, eps: 1e-8 });
      opt.update(k, 0.01);
      // step 1: mHat = g, vHat = g^2, update = lr * g / (|g| + eps); decay multiplies by 1 - lr*wd = 0.999.
      const want = [1 * 0.999 - 0.01 * (0.1 / (0.1 + 1e-8)), -2 * 0.999 + 0.01 * (0.3 / (0.3 + 1e-8)), 0.5 * 0.999, 0 - 0.01 * (2 / (2 + 1e-8))];
      param.forEach((p, i) => expect(p).toBeCloseTo(want[i]!, 6));
      expect(opt.step).toBe(1);
      opt.m.forEach((m, i) => expect(m).toBeCloseTo(0.1 * grad[i]!, 7));
    });

    it(`${label}: three steps match PyTorch's formula; groups without decay are not decayed`, () => {
      const grads = [[0.5, -1, 0.25], [0.4, -0.2, 0.1], [-0.3, 0.6, 0.05]];
      const p1 = Float32Array.from([1, 1, 1]);
      const p2 = Float32Array.from([1, 1, 1]);
      const g1 = new Float32Array(3);
      const g2 = new Float32Array(3);
      const opt = new AdamW([{ name: 'a', param: p1, grad: g1, decay: true }, { name: 'b', param: p2, grad: g2, decay: false }], { weightDecay: 0.5 });
      for (const g of grads) {
        g1.set(g);
        g2.set(g);
        opt.update(k, 0.05);
      }
      for (let i = 0; i < 3; i++) {
        const gi = grads.map((g) => g[i]!);
        expect(p1[i]).toBeCloseTo(reference(1, gi, 0.05, 0.9, 0.999, 1e-8, 0.5), 5);
        expect(p2[i]).toBeCloseTo(reference(1, gi, 0.05, 0.9, 0.999, 1e-8, 0), 5);
      }
    });
  }

  it('gradScale multiplies the gradient before the moments (clipping folds in)', () => {
    const k = kernels({ announce: false });
    const a = Float32Array.from([1]);
    const b = Float32Array.from([1]);
    const optA = new AdamW([{ name: 'a', param: a, grad: Float32Array.from([4]), decay: false }]);
    const optB = new AdamW([{ name: 'b', param: b, grad: Float32Array.from([2]), decay: false }]);
    optA.update(k, 0.1, 0.5);
    optB.update(k, 0.1);
    expect(a[0]).toBe(b[0]);
    expect(optA.m[0]).toBe(optB.m[0]);
    expect(optA.v[0]).toBe(optB.v[0]);
  });

  it('restores moments and step exactly (resume)', () => {
    const k = kernels({ announce: false });
    const make = (): { p: Float32Array; g: Float32Array; o: AdamW } => {
      const p = Float32Array.from([0.3, -0.7]);
      const g = new Float32Array(2);
      return { p, g, o: new AdamW([{ name: 'w', param: p, grad: g, decay: true }], { weightDecay: 0.01 }) };
    };
    const x = make();
    const y = make();
    const gs = [[0.1, 0.2], [-0.3, 0.05], [0.2, -0.1]];
    x.g.set(gs[0]!);
    x.o.update(k, 0.01);
    y.p.set(x.p);
    y.o.restore(Float32Array.from(x.o.m), Float32Array.from(x.o.v), x.o.step);
    for (const g of gs.slice(1)) {
      x.g.set(g);
      y.g.set(g);
      x.o.update(k, 0.01);
      y.o.update(k, 0.01);
    }
    expect(Array.from(y.p)).toEqual(Array.from(x.p));
    expect(() => y.o.restore(new Float32Array(3), new Float32Array(3), 1)).toThrow(/expected 2/);
  });
});

describe('gradient clipping by global norm', () => {
  it('measures the norm over all tensors together', () => {
    expect(globalNorm([Float32Array.from([3]), Float32Array.from([4, 0])])).toBe(5);
    expect(globalNorm([Float32Array.from([1, 2, 2])])).toBe(3);
  });

  it('scales by maxNorm / (norm + 1e-6) only above the limit, as torch.nn.utils.clip_grad_norm_', () => {
    const g = [Float32Array.from([3, 4])];
    expect(clipScale(g, 10)).toEqual({ norm: 5, scale: 1, clipped: false });
    const c = clipScale(g, 1);
    expect(c.clipped).toBe(true);
    expect(c.scale).toBeCloseTo(1 / (5 + 1e-6), 15);
    expect(clipScale(g, 0)).toEqual({ norm: 5, scale: 1, clipped: false });
  });

  it('reports a non-finite norm instead of clipping', () => {
    const c = clipScale([Float32Array.from([1, NaN])], 1);
    expect(Number.isNaN(c.norm)).toBe(true);
    expect(c.clipped).toBe(false);
    expect(clipScale([Float32Array.from([Infinity])], 1).norm).toBe(Infinity);
  });
});
