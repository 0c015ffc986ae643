/**
 * One training step on the engine: forward, masked cross-entropy and backward for each
 * micro-batch (gradients accumulate), then global-norm clipping and one AdamW update. LoRA mode
 * trains the adapter's A/B over the frozen base; full mode trains every (f32) base weight.
 */
import { kernels as activeKernels, type Kernels } from '../kernels/index.js';
import { backward, createGradActivations, type GradActivations } from '../model/backward.js';
import { createActivations, forward, type Activations } from '../model/forward.js';
import { crossEntropyLoss } from '../model/loss.js';
import type { LoraAdapter } from '../model/lora.js';
import { createModelGrads, type EngineModel, type ModelGrads } from '../model/weights.js';
import type { AssembledBatch } from './batching.js';
import { clipScale, type ClipResult } from './clip.js';
import { AdamW, type ParamGroup } from './optimizer.js';

export interface TrainState {
  model: EngineModel;
  /** The adapter being trained (null in full mode). */
  lora: LoraAdapter | null;
  /** Full mode: gradients of every base weight. */
  grads: ModelGrads | null;
  optimizer: AdamW;
  k: Kernels;
  threads: number;
  buffers: BufferCache;
}

export interface StateOptions {
  weightDecay: number;
  kernels?: Kernels;
  threads?: number;
}

export function createTrainState(model: EngineModel, lora: LoraAdapter | null, o: StateOptions): TrainState {
  const k = o.kernels ?? activeKernels();
  let grads: ModelGrads | null = null;
  let groups: ParamGroup[];
  if (lora) {
    groups = [{ name: 'lora', param: lora.params, grad: lora.grads, decay: true }];
  } else {
    if (!model.trainable) throw new Error('full training needs a model loaded with trainable: true');
    const g = createModelGrads(model);
    grads = g;
    // Weight decay on matrices only (norms and biases exempt, as Hugging Face's Trainer does).
    groups = model.weights.tensors.map((t) => {
      if (t.type !== 'f32') throw new Error(`internal: ${t.name} is not f32 in a trainable model`);
      return { name: t.name, param: t.data, grad: g.of(t), decay: t.shape.length === 2 };
    });
  }
  return {
    model, lora, grads, k, threads: o.threads ?? 1,
    optimizer: new AdamW(groups, { weightDecay: o.weightDecay }),
    buffers: new BufferCache(model, lora),
  };
}

/** The trained parameters as one array (LoRA params, or every f32 weight). */
export function trainedParams(s: TrainState): Float32Array {
  return s.lora ? s.lora.params : s.model.weights.f32;
}

function gradientBuffer(s: TrainState): Float32Array {
  return s.lora ? s.lora.grads : s.grads!.all;
}

export function zeroGrads(s: TrainState): void {
  gradientBuffer(s).fill(0);
}

/** Activations per batch shape, reused while the shape repeats (a few shapes kept). */
export class BufferCache {
  private readonly entries = new Map<string, { acts: Activations; grads: GradActivations | null }>();
  constructor(
    private readonly model: EngineModel,
    private readonly lora: LoraAdapter | null,
    private readonly keep = 2,
  ) {}

  get(B: number, T: number, withGrads: boolean): { acts: Activations; grads: GradActivations | null } {
    const key = `${B}x${T}`;
    let e = this.entries.get(key);
    if (e) this.entries.delete(key);
    else {
      while (this.entries.size >= this.keep) this.entries.delete(this.entries.keys().next().value!);
      e = { acts: createActivations(this.model.config, B, T, this.lora), grads: null };
    }
    if (withGrads && !e.grads) e.grads = createGradActivations(this.model.config, B, T, this.lora);
    this.entries.set(key, e);
    return e;
  }
}

export interface LossSum {
  /** Sum of the per-token losses, and how many tokens counted. */
  sum: number;
  count: number;
}

/**
 * Forward, loss and backward of one micro-batch; gradients accumulate. dscale is the weight of
 * one token's loss in the step's mean (1 / tokens counted in the whole step).
 */
export function accumulateMicroBatch(s: TrainState, batch: AssembledBatch, dscale: number, dropoutSeed: number, onLoss?: (l: LossSum) => void): LossSum {
  const { acts, grads } = s.buffers.get(batch.B, batch.T, true);
  forward(s.model, acts, batch.tokens, { lora: s.lora, training: true, dropoutSeed, threads: s.threads, kernels: s.k });
  const r = crossEntropyLoss(acts, s.model.config.vocab, batch.targets, { dlogits: grads!.dlogits, dscale, threads: s.threads, kernels: s.k });
  const result = { sum: r.sum, count: r.count };
  // The caller may stop here (a non-finite loss) before any gradient is touched.
  onLoss?.(result);
  backward(s.model, acts, grads!, { lora: s.lora, grads: s.grads, threads: s.threads, kernels: s.k });
  return result;
}

/** Loss only (no dropout, no gradients). */
export function evaluateBatch(s: TrainState, batch: AssembledBatch): LossSum {
  const { acts } = s.buffers.get(batch.B, batch.T, false);
  forward(s.model, acts, batch.tokens, { lora: s.lora, training: false, threads: s.threads, kernels: s.k });
  const r = crossEntropyLoss(acts, s.model.config.vocab, batch.targets, { threads: s.threads, kernels: s.k });
  return { sum: r.sum, count: r.count };
}

/** Clips by global norm and applies one AdamW update (skipped when the norm is not finite). */
export function applyUpdate(s: TrainState, lr: number, maxNorm: number): ClipResult {
  const clip = clipScale([gradientBuffer(s)], maxNorm);
  if (Number.isFinite(clip.norm)) s.optimizer.update(s.k, lr, clip.scale, s.threads);
  return clip;
}

export function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/** Seed of micro-batch `index`'s dropout masks: a hash of (seed, index), so a resumed run replays them. */
export function dropoutSeedFor(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}
