/**
 * LoRA and the one wrapper every projection goes through (so no projection can skip the adapter):
 *   y[N, out] = x[N, in] · W^T + bias + scale · (drop(x) · A^T) · B^T
 * with A [r, in], B [out, r] (PEFT's lora_A / lora_B weights), scale = alpha / r (rsLoRA:
 * alpha / sqrt(r)), dropout on the LoRA input only, A initialised like PEFT (kaiming-uniform with
 * a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in))) and B zero. The frozen base W is Q8_0 or f32.
 */
import { UsageError } from '../../util/errors.js';
import type { Kernels } from '../kernels/index.js';
import { PROJECTIONS, PROJECTION_STEM, projectionShape, type ModelConfig, type Projection } from './config.js';
import type { F32Tensor, Matrix, ModelGrads } from './weights.js';

export const LORA_TARGETS = PROJECTIONS;
export type LoraTarget = Projection;

export interface LoraOptions {
  rank: number;
  alpha: number;
  /** Probability of zeroing an element of the LoRA input while training (default 0). */
  dropout?: number;
  /** Default: all seven projections. */
  targets?: readonly LoraTarget[];
  /** scale = alpha / sqrt(rank) instead of alpha / rank. */
  rsLora?: boolean;
  /** Seed of A's initialisation (default 0). */
  seed?: number;
}

export interface LoraModule {
  layer: number;
  target: LoraTarget;
  /** GGUF stem, e.g. blk.0.attn_q (llama.cpp's adapter tensors are <name>.weight.lora_a / .lora_b). */
  name: string;
  /** Index among the adapter's modules (part of the dropout stream's identity). */
  index: number;
  inDim: number;
  outDim: number;
  A: Float32Array;   // [r, in]
  B: Float32Array;   // [out, r]
  dA: Float32Array;  // [r, in]
  dB: Float32Array;  // [out, r]
  /** Element offsets of A and B in LoraAdapter.params (and of dA, dB in grads). */
  offsetA: number;
  offsetB: number;
}

export interface LoraAdapter {
  rank: number;
  alpha: number;
  scale: number;
  dropout: number;
  rsLora: boolean;
  targets: LoraTarget[];
  /** Layer-major, projections in graph order. */
  modules: LoraModule[];
  byLayer: Array<Partial<Record<LoraTarget, LoraModule>>>;
  /** Every A and B, one allocation. */
  params: Float32Array;
  /** Same layout as params. */
  grads: Float32Array;
}

export function loraScale(alpha: number, rank: number, rsLora: boolean): number {
  return rsLora ? alpha / Math.sqrt(rank) : alpha / rank;
}

export function createLora(config: ModelConfig, options: LoraOptions): LoraAdapter {
  const { rank, alpha } = options;
  const dropout = options.dropout ?? 0;
  const rsLora = options.rsLora ?? false;
  const targets = [...new Set(options.targets ?? LORA_TARGETS)];
  if (!Number.isInteger(rank) || rank < 1) throw new UsageError(`LoRA rank must be a positive integer, got ${rank}`);
  if (!Number.isFinite(alpha) || alpha <= 0) throw new UsageError(`LoRA alpha must be a positive number, got ${alpha}`);
  if (!(dropout >= 0 && dropout < 1)) throw new UsageError(`LoRA dropout must be in [0, 1), got ${dropout}`);
  if (targets.length === 0) throw new UsageError('LoRA needs at least one target module');
  for (const t of targets) {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) {
      throw new UsageError(`unknown LoRA target "${t}" (expected some of ${LORA_TARGETS.join(', ')})`);
    }
  }

  let size = 0;
  const pending: Array<Omit<LoraModule, 'A' | 'B' | 'dA' | 'dB'>> = [];
  for (let l = 0; l < config.layers; l++) {
    for (const target of LORA_TARGETS) {
      if (!targets.includes(target)) continue;
      const [outDim, inDim] = projectionShape(config, target);
      const offsetA = size;
      size += rank * inDim;
      const offsetB = size;
      size += outDim * rank;
      pending.push({ layer: l, target, name: `blk.${l}.${PROJECTION_STEM[target]}`, index: pending.length, inDim, outDim, offsetA, offsetB });
    }
  }
  const params = new Float32Array(size);
  const grads = new Float32Array(size);
  const byLayer: LoraAdapter['byLayer'] = Array.from({ length: config.layers }, () => ({}));
  const modules = pending.map((m) => {
    const full: LoraModule = {
      ...m,
      A: params.subarray(m.offsetA, m.offsetA + rank * m.inDim),
      B: params.subarray(m.offsetB, m.offsetB + m.outDim * rank),
      dA: grads.subarray(m.offsetA, m.offsetA + rank * m.inDim),
      dB: grads.subarray(m.offsetB, m.offsetB + m.outDim * rank),
    };
    byLayer[m.layer]![m.target] = full;
    return full;
  });
  const rand = mulberry32(options.seed ?? 0);
  for (const m of modules) {
    const bound = 1 / Math.sqrt(m.inDim);
    for (let i = 0; i < m.A.length; i++) m.A[i] = (2 * rand() - 1) * bound;
  }
  return { rank, alpha, scale: loraScale(alpha, rank, rsLora), dropout, rsLora, targets, modules, byLayer, params, grads };
}

export function zeroLoraGrads(lora: LoraAdapter): void {
  lora.grads.fill(0);
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Dropout masks come from a counter-based hash of (pass seed, module index, element index), so the
 * backward regenerates the forward's mask and a resumed run reproduces it without saved state.
 */
function dropoutStream(seed: number, index: number): number {
  return fmix32(fmix32(seed) ^ Math.imul(index + 1, 0x9e3779b9));
}

function keepsAt(stream: number, i: number, threshold: number): boolean {
  return fmix32((stream + Math.imul(i, 0x9e3779b9)) >>> 0) >= threshold;
}

/** Whether element i of module `index`'s LoRA input survives dropout p in the pass with `seed`. */
export function dropoutKeeps(seed: number, index: number, i: number, p: number): boolean {
  return keepsAt(dropoutStream(seed, index), i, p * 4294967296);
}

/** murmur3's 32-bit finaliser (a bijection that mixes every input bit into every output bit). */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** What every projection shares within one pass. */
export interface ProjectionContext {
  k: Kernels;
  threads: number;
  /** llama.cpp's CPU path: quantise activations to Q8_0 before Q8_0 products (parity mode). */
  quantizeActivations: boolean;
  lora: LoraAdapter | null;
  /** Dropout probability in effect for this pass (0 when not training). */
  dropout: number;
  dropoutSeed: number;
}

/** Saved by a LoRA projection's forward for its backward. */
export interface LoraSaved {
  h: Float32Array;          // [N, r] = drop(x) · A^T
  xd: Float32Array | null;  // [N, in] = drop(x), only when dropout is possible
}

/** Scratch of the LoRA backward. */
export interface LoraScratch {
  dh: Float32Array;  // [N, r]
  dx: Float32Array;  // [N, max in]
}

/** out[M, N] (beta: + beta * out) = inp[M, K] · W^T with W [N, K], Q8_0 or f32. */
export function matmulNT(ctx: ProjectionContext, out: Float32Array, inp: Float32Array, M: number, W: Matrix, beta: number): void {
  const [N, K] = W.shape as [number, number];
  if (W.type === 'q8_0') ctx.k.q8GemmNT(M, N, K, inp, K, W.data, beta, out, N, ctx.quantizeActivations, ctx.threads);
  else ctx.k.sgemm(false, true, M, N, K, 1, inp, K, W.data, K, beta, out, N, ctx.threads);
}

/** dinp[M, K] += dout[M, N] · W with W [N, K], Q8_0 or f32. */
function matmulNNAccumulate(ctx: ProjectionContext, dinp: Float32Array, dout: Float32Array, M: number, W: Matrix): void {
  const [N, K] = W.shape as [number, number];
  if (W.type === 'q8_0') ctx.k.q8GemmNN(M, N, K, dout, N, W.data, 1, dinp, K, ctx.threads);
  else ctx.k.sgemm(false, false, M, K, N, 1, dout, N, W.data, K, 1, dinp, K, ctx.threads);
}

/**
 * out[M, out] = inp[M, in] · W^T + bias + scale · B(A · drop(inp)).
 * module / saved: the LoRA of this projection (null: base only).
 */
export function projectForward(
  ctx: ProjectionContext, out: Float32Array, inp: Float32Array, M: number, W: Matrix, bias: F32Tensor | null,
  module: LoraModule | null, saved: LoraSaved | null,
): void {
  const [rows, cols] = W.shape as [number, number];
  matmulNT(ctx, out, inp, M, W, 0);
  if (bias) addRowVector(out, bias.data, M, rows);
  if (!module || !saved || !ctx.lora) return;
  const r = ctx.lora.rank;
  let x = inp;
  if (ctx.dropout > 0) {
    if (!saved.xd) throw new Error('internal: LoRA dropout without a buffer for the dropped input');
    const keep = 1 / (1 - ctx.dropout);
    const xd = saved.xd;
    const stream = dropoutStream(ctx.dropoutSeed, module.index);
    const threshold = ctx.dropout * 4294967296;
    for (let i = 0; i < M * cols; i++) xd[i] = keepsAt(stream, i, threshold) ? inp[i]! * keep : 0;
    x = xd;
  }
  ctx.k.sgemm(false, true, M, r, cols, 1, x, cols, module.A, cols, 0, saved.h, r, ctx.threads);
  ctx.k.sgemm(false, true, M, rows, r, ctx.lora.scale, saved.h, r, module.B, r, 1, out, rows, ctx.threads);
}

/**
 * Backward of projectForward, given dout [M, out]:
 * dinp [M, in] += dout · W + LoRA path; dA, dB += (LoRA); dW, dbias += (grads: full mode).
 */
export function projectBackward(
  ctx: ProjectionContext, dinp: Float32Array, dout: Float32Array, inp: Float32Array, M: number, W: Matrix,
  bias: F32Tensor | null, module: LoraModule | null, saved: LoraSaved | null, scratch: LoraScratch,
  grads: ModelGrads | null,
): void {
  const [rows, cols] = W.shape as [number, number];
  if (grads) {
    if (W.type !== 'f32') throw new Error(`internal: full-mode gradient of ${W.name} needs f32 weights`);
    ctx.k.sgemm(true, false, rows, cols, M, 1, dout, rows, inp, cols, 1, grads.of(W), cols, ctx.threads);
    if (bias) sumRowsInto(grads.of(bias), dout, M, rows);
  }
  matmulNNAccumulate(ctx, dinp, dout, M, W);
  if (!module || !saved || !ctx.lora) return;
  const r = ctx.lora.rank;
  const x = ctx.dropout > 0 ? saved.xd! : inp;
  // dB[out, r] += scale * dout^T · h;  dh[M, r] = scale * dout · B;  dA[r, in] += dh^T · x
  ctx.k.sgemm(true, false, rows, r, M, ctx.lora.scale, dout, rows, saved.h, r, 1, module.dB, r, ctx.threads);
  ctx.k.sgemm(false, false, M, r, rows, ctx.lora.scale, dout, rows, module.B, r, 0, scratch.dh, r, ctx.threads);
  ctx.k.sgemm(true, false, r, cols, M, 1, scratch.dh, r, x, cols, 1, module.dA, cols, ctx.threads);
  if (ctx.dropout > 0) {
    ctx.k.sgemm(false, false, M, cols, r, 1, scratch.dh, r, module.A, cols, 0, scratch.dx, cols, ctx.threads);
    const keep = 1 / (1 - ctx.dropout);
    const stream = dropoutStream(ctx.dropoutSeed, module.index);
    const threshold = ctx.dropout * 4294967296;
    for (let i = 0; i < M * cols; i++) {
      if (keepsAt(stream, i, threshold)) dinp[i] = dinp[i]! + scratch.dx[i]! * keep;
    }
  } else {
    ctx.k.sgemm(false, false, M, cols, r, 1, scratch.dh, r, module.A, cols, 1, dinp, cols, ctx.threads);
  }
}

/** out[M, n] += v[n] on every row. */
function addRowVector(out: Float32Array, v: Float32Array, M: number, n: number): void {
  for (let i = 0; i < M; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) out[row + j] = out[row + j]! + v[j]!;
  }
}

/** acc[n] += sum over rows of x[M, n]. */
function sumRowsInto(acc: Float32Array, x: Float32Array, M: number, n: number): void {
  for (let i = 0; i < M; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) acc[j] = acc[j]! + x[row + j]!;
  }
}
