/**
 * AdamW (decoupled weight decay, PyTorch's torch.optim.AdamW) over groups of parameters, through
 * the adamw kernel. Moments m and v are one allocation each, laid out group after group, so the
 * whole state saves and restores as three flat arrays and a step count.
 */
import type { Kernels } from '../kernels/index.js';

export interface ParamGroup {
  name: string;
  param: Float32Array;
  grad: Float32Array;
  /** Weight decay applies (matrices); norms and biases are usually exempt. */
  decay: boolean;
}

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** First and second moments of every group, concatenated. */
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Updates applied so far (the bias correction uses step + 1 for the next one). */
  step = 0;
  private readonly offsets: number[];

  constructor(
    readonly groups: readonly ParamGroup[],
    options: AdamWOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    let size = 0;
    this.offsets = groups.map((g) => {
      if (g.param.length !== g.grad.length) throw new RangeError(`${g.name}: ${g.param.length} parameters but ${g.grad.length} gradients`);
      const at = size;
      size += g.param.length;
      return at;
    });
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  get size(): number {
    return this.m.length;
  }

  /** One update of every group with learning rate lr; gradients are multiplied by gradScale first. */
  update(k: Kernels, lr: number, gradScale = 1, threads = 1): void {
    this.step++;
    this.groups.forEach((g, i) => {
      const n = g.param.length;
      const at = this.offsets[i]!;
      k.adamw(
        g.param, g.grad, this.m.subarray(at, at + n), this.v.subarray(at, at + n), n, lr, this.beta1, this.beta2, this.eps,
        g.decay ? this.weightDecay : 0, this.step, gradScale, threads,
      );
    });
  }

  /** Restores moments and step (from a checkpoint); lengths must match this optimizer's. */
  restore(m: Float32Array, v: Float32Array, step: number): void {
    if (m.length !== this.size || v.length !== this.size) throw new RangeError(`optimizer state holds ${m.length}/${v.length} values, expected ${this.size}`);
    this.m.set(m);
    this.v.set(v);
    this.step = step;
  }
}
