/**
 * Gradient clipping by the global L2 norm over every trained tensor (PyTorch's clip_grad_norm_):
 * when the norm exceeds maxNorm, all gradients are scaled by maxNorm / (norm + 1e-6). The scale is
 * returned rather than applied, so the optimizer folds it into its update (one pass less).
 */
export interface ClipResult {
  /** Global norm before clipping (NaN or Infinity when a gradient is not finite). */
  norm: number;
  /** Factor to multiply every gradient by (1 when not clipped). */
  scale: number;
  clipped: boolean;
}

/** Sum of squares in f64, so the norm does not depend on how the tensors are split. */
export function globalNorm(grads: readonly Float32Array[]): number {
  let sum = 0;
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) {
      const x = g[i]!;
      sum += x * x;
    }
  }
  return Math.sqrt(sum);
}

/** maxNorm <= 0 disables clipping (the norm is still measured, for the metrics). */
export function clipScale(grads: readonly Float32Array[], maxNorm: number): ClipResult {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0) || !Number.isFinite(norm) || norm <= maxNorm) return { norm, scale: 1, clipped: false };
  return { norm, scale: maxNorm / (norm + 1e-6), clipped: true };
}
