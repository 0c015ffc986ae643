/**
 * Cross-entropy on masked targets: only the assistant's tokens are predicted (the prompt is
 * masked out), averaged over the counted positions.
 */
import { kernels as activeKernels, type Kernels } from '../kernels/index.js';
import type { Activations } from './forward.js';

/** Marks "not a target" in a targets array. */
export const IGNORE = -1;

/**
 * targets[B, T]: position t predicts tokens[t + 1] when mask[t + 1] is set (that token belongs to
 * the assistant), otherwise IGNORE; the last position of every row predicts nothing.
 * tokens, mask: [B, T].
 */
export function maskedTargets(tokens: Int32Array, mask: Uint8Array, B: number, T: number): Int32Array {
  if (tokens.length !== B * T || mask.length !== B * T) {
    throw new RangeError(`tokens (${tokens.length}) and mask (${mask.length}) must both hold ${B}x${T} values`);
  }
  const targets = new Int32Array(B * T).fill(IGNORE);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      const next = b * T + t + 1;
      if (mask[next]) targets[b * T + t] = tokens[next]!;
    }
  }
  return targets;
}

export interface LossResult {
  /** Mean loss over the counted positions (0 when none). */
  loss: number;
  /** Sum of the counted per-position losses. */
  sum: number;
  count: number;
}

export interface LossOptions {
  /**
   * Where to write dloss/dlogits [N, V] (null: loss only). It is scaled by `dscale`, default
   * 1 / count (the gradient of the mean); gradient accumulation passes 1 / (tokens in the step).
   */
  dlogits?: Float32Array | null;
  dscale?: number;
  threads?: number;
  kernels?: Kernels;
}

/** Cross-entropy of acts.logits against targets [N] (IGNORE = not counted); fills acts.losses. */
export function crossEntropyLoss(acts: Activations, vocab: number, targets: Int32Array, options: LossOptions = {}): LossResult {
  const { N } = acts;
  if (targets.length !== N) throw new RangeError(`expected ${N} targets, got ${targets.length}`);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = targets[i]!;
    if (t >= vocab) throw new RangeError(`target ${t} at position ${i} is outside the vocabulary (${vocab})`);
    if (t >= 0) count++;
  }
  const k = options.kernels ?? activeKernels();
  const dlogits = options.dlogits ?? null;
  const dscale = options.dscale ?? (count > 0 ? 1 / count : 0);
  const sum = k.crossEntropy(acts.losses, dlogits, acts.logits, targets, N, vocab, dscale, options.threads ?? 1);
  return { loss: count > 0 ? sum / count : 0, sum, count };
}
