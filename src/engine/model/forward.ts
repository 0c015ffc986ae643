/**
 * Forward pass of `llama` / `qwen2` as llama.cpp builds them, over B sequences of T tokens,
 * saving everything the backward needs (llm.c style: named views cut from one allocation).
 * Per layer: RMSNorm -> q,k,v (+ biases) -> RoPE -> grouped-query causal attention (scale
 * 1/sqrt(head_dim)) -> o -> residual -> RMSNorm -> gate/up -> SwiGLU -> down -> residual;
 * then the final RMSNorm and the output projection (token_embd when tied).
 */
import { InputError } from '../../util/errors.js';
import { kernels as activeKernels, type Kernels } from '../kernels/index.js';
import { PROJECTIONS, projectionShape, type ModelConfig, type Projection } from './config.js';
import { projectForward, type LoraAdapter, type LoraSaved, type ProjectionContext } from './lora.js';
import { embeddingRow, type EngineModel } from './weights.js';

export interface LayerActs {
  ln1: Float32Array;      // [N, C]   attn_norm output
  ln1Rstd: Float32Array;  // [N]
  q: Float32Array;        // [N, qDim]   after bias and RoPE
  k: Float32Array;        // [N, kvDim]  after bias and RoPE
  v: Float32Array;        // [N, kvDim]
  att: Float32Array;      // [B, NH, T, T]  softmax probabilities (0 above the diagonal)
  attOut: Float32Array;   // [N, qDim]   attention output, input of o
  resid2: Float32Array;   // [N, C]   residual after attention (ffn_inp)
  ln2: Float32Array;      // [N, C]   ffn_norm output
  ln2Rstd: Float32Array;  // [N]
  gate: Float32Array;     // [N, FF]
  up: Float32Array;       // [N, FF]
  swi: Float32Array;      // [N, FF]  silu(gate) * up, input of down
  lora: Partial<Record<Projection, LoraSaved>>;
}

export interface Activations {
  B: number;
  T: number;
  N: number;              // B * T
  /** Shape of the LoRA these buffers were sized for (null: none). */
  loraRank: number;
  loraDropout: boolean;
  /** The single allocation every view below is cut from. */
  all: Float32Array;
  /** Every view by name (blk.{l}.<name> per layer), for dumps and tests. */
  views: Map<string, Float32Array>;
  tokens: Int32Array;     // [B, T]
  positions: Int32Array;  // [B, T]
  /** resid[0] = token embeddings, resid[l + 1] = output of layer l; each [N, C]. */
  resid: Float32Array[];
  layers: LayerActs[];
  lnf: Float32Array;      // [N, C]  output_norm output
  lnfRstd: Float32Array;  // [N]
  logits: Float32Array;   // [N, V]
  losses: Float32Array;   // [N]  per-position cross-entropy (0 where not counted)
  /** Dropout in effect during the last forward, and its seed (the backward replays them). */
  dropout: number;
  dropoutSeed: number;
}

interface Entry {
  name: string;
  size: number;
}

/** Sizes of every activation, in allocation order; the allocation is their sum. */
export function activationSizes(c: ModelConfig, B: number, T: number, lora: LoraAdapter | null): Entry[] {
  const N = B * T;
  const out: Entry[] = [];
  for (let l = 0; l <= c.layers; l++) out.push({ name: `resid.${l}`, size: N * c.embd });
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    out.push(
      { name: `${p}ln1`, size: N * c.embd },
      { name: `${p}ln1Rstd`, size: N },
      { name: `${p}q`, size: N * c.qDim },
      { name: `${p}k`, size: N * c.kvDim },
      { name: `${p}v`, size: N * c.kvDim },
      { name: `${p}att`, size: B * c.heads * T * T },
      { name: `${p}attOut`, size: N * c.qDim },
      { name: `${p}resid2`, size: N * c.embd },
      { name: `${p}ln2`, size: N * c.embd },
      { name: `${p}ln2Rstd`, size: N },
      { name: `${p}gate`, size: N * c.ff },
      { name: `${p}up`, size: N * c.ff },
      { name: `${p}swi`, size: N * c.ff },
    );
    if (lora) {
      for (const target of PROJECTIONS) {
        if (!lora.byLayer[l]![target]) continue;
        out.push({ name: `${p}lora.${target}.h`, size: N * lora.rank });
        if (lora.dropout > 0) out.push({ name: `${p}lora.${target}.xd`, size: N * projectionShape(c, target)[1] });
      }
    }
  }
  out.push(
    { name: 'lnf', size: N * c.embd },
    { name: 'lnfRstd', size: N },
    { name: 'logits', size: N * c.vocab },
    { name: 'losses', size: N },
  );
  return out;
}

/** Cuts named views from one Float32Array sized by `entries`. */
export function allocateViews(entries: Entry[]): { all: Float32Array; views: Map<string, Float32Array> } {
  const total = entries.reduce((s, e) => s + e.size, 0);
  if (!Number.isSafeInteger(total) || total > 2 ** 32) throw new RangeError(`activation buffer of ${total} floats is too large; use a smaller batch or sequence length`);
  const all = new Float32Array(total);
  const views = new Map<string, Float32Array>();
  let offset = 0;
  for (const e of entries) {
    views.set(e.name, all.subarray(offset, offset + e.size));
    offset += e.size;
  }
  return { all, views };
}

export function createActivations(c: ModelConfig, B: number, T: number, lora: LoraAdapter | null = null): Activations {
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new RangeError(`batch must be at least 1x1, got ${B}x${T}`);
  const { all, views } = allocateViews(activationSizes(c, B, T, lora));
  const v = (name: string): Float32Array => views.get(name)!;
  const layers: LayerActs[] = [];
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    const saved: Partial<Record<Projection, LoraSaved>> = {};
    if (lora) {
      for (const target of PROJECTIONS) {
        if (!lora.byLayer[l]![target]) continue;
        saved[target] = { h: v(`${p}lora.${target}.h`), xd: views.get(`${p}lora.${target}.xd`) ?? null };
      }
    }
    layers.push({
      ln1: v(`${p}ln1`), ln1Rstd: v(`${p}ln1Rstd`), q: v(`${p}q`), k: v(`${p}k`), v: v(`${p}v`), att: v(`${p}att`),
      attOut: v(`${p}attOut`), resid2: v(`${p}resid2`), ln2: v(`${p}ln2`), ln2Rstd: v(`${p}ln2Rstd`),
      gate: v(`${p}gate`), up: v(`${p}up`), swi: v(`${p}swi`), lora: saved,
    });
  }
  return {
    B, T, N: B * T,
    loraRank: lora?.rank ?? 0,
    loraDropout: (lora?.dropout ?? 0) > 0,
    all, views,
    tokens: new Int32Array(B * T),
    positions: new Int32Array(B * T),
    resid: Array.from({ length: c.layers + 1 }, (_, l) => v(`resid.${l}`)),
    layers,
    lnf: v('lnf'), lnfRstd: v('lnfRstd'), logits: v('logits'), losses: v('losses'),
    dropout: 0, dropoutSeed: 0,
  };
}

export interface ForwardOptions {
  /** Positions [B, T] (default 0..T-1 in every row). */
  positions?: Int32Array;
  lora?: LoraAdapter | null;
  /** Training pass: LoRA dropout is applied (default false). */
  training?: boolean;
  /** Seed of this pass's dropout masks (the backward reuses it). */
  dropoutSeed?: number;
  /** Quantise activations to Q8_0 before Q8_0 products, as llama.cpp's CPU path does (parity). */
  quantizeActivations?: boolean;
  threads?: number;
  kernels?: Kernels;
}

/** The per-pass context; the backward rebuilds it from the same options. */
export function projectionContext(acts: Activations, options: {
  lora?: LoraAdapter | null; quantizeActivations?: boolean; threads?: number; kernels?: Kernels;
}): ProjectionContext {
  const lora = options.lora ?? null;
  checkLoraFits(acts, lora);
  return {
    k: options.kernels ?? activeKernels(),
    threads: options.threads ?? 1,
    quantizeActivations: options.quantizeActivations ?? false,
    lora,
    dropout: acts.dropout,
    dropoutSeed: acts.dropoutSeed,
  };
}

function checkLoraFits(acts: Activations, lora: LoraAdapter | null): void {
  if (lora && acts.loraRank !== lora.rank) {
    throw new Error(`activations were created for LoRA rank ${acts.loraRank}, not ${lora.rank}: pass the adapter to createActivations`);
  }
  if (lora && lora.dropout > 0 && !acts.loraDropout) throw new Error('activations were created without LoRA dropout buffers');
}

/** Runs the model on tokens [B, T]; returns acts.logits [N, V]. */
export function forward(model: EngineModel, acts: Activations, tokens: Int32Array, options: ForwardOptions = {}): Float32Array {
  const c = model.config;
  const { B, T, N } = acts;
  if (tokens.length !== N) throw new RangeError(`expected ${B}x${T} = ${N} tokens, got ${tokens.length}`);
  for (let i = 0; i < N; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= c.vocab) {
      throw new InputError(`token ${t} at [${Math.floor(i / T)}, ${i % T}] is outside the vocabulary (0..${c.vocab - 1})`);
    }
  }
  acts.tokens.set(tokens);
  if (options.positions) {
    if (options.positions.length !== N) throw new RangeError(`expected ${N} positions, got ${options.positions.length}`);
    acts.positions.set(options.positions);
  } else {
    for (let i = 0; i < N; i++) acts.positions[i] = i % T;
  }
  const lora = options.lora ?? null;
  acts.dropout = options.training && lora ? lora.dropout : 0;
  acts.dropoutSeed = options.dropoutSeed ?? 0;
  const ctx = projectionContext(acts, options);

  const C = c.embd;
  for (let i = 0; i < N; i++) embeddingRow(ctx.k, model.weights.tokenEmbd, acts.tokens[i]!, acts.resid[0]!.subarray(i * C, (i + 1) * C));
  for (let l = 0; l < c.layers; l++) blockForward(ctx, model, acts, l);
  headForward(ctx, model, acts);
  return acts.logits;
}

/** Layer l: acts.resid[l] -> acts.resid[l + 1]. */
export function blockForward(ctx: ProjectionContext, model: EngineModel, acts: Activations, l: number): void {
  const c = model.config;
  const w = model.weights.layers[l]!;
  const a = acts.layers[l]!;
  const lora = ctx.lora?.byLayer[l] ?? {};
  const { k, threads } = ctx;
  const { B, T, N } = acts;
  const inp = acts.resid[l]!;
  const out = acts.resid[l + 1]!;
  const project = (p: Projection, dst: Float32Array, src: Float32Array): void =>
    projectForward(ctx, dst, src, N, w.proj[p], w.bias[p], lora[p] ?? null, a.lora[p] ?? null);

  k.rmsnormForward(a.ln1, a.ln1Rstd, inp, w.attnNorm.data, N, c.embd, c.rmsEps, threads);
  project('q', a.q, a.ln1);
  project('k', a.k, a.ln1);
  project('v', a.v, a.ln1);
  for (let b = 0; b < B; b++) {
    const pos = acts.positions.subarray(b * T, (b + 1) * T);
    const q = a.q.subarray(b * T * c.qDim, (b + 1) * T * c.qDim);
    const kk = a.k.subarray(b * T * c.kvDim, (b + 1) * T * c.kvDim);
    k.ropeForward(q, q, pos, T, c.heads, c.headDim, c.ropeDim, c.ropeBase, c.ropeFreqScale, c.ropeNeox, threads);
    k.ropeForward(kk, kk, pos, T, c.kvHeads, c.headDim, c.ropeDim, c.ropeBase, c.ropeFreqScale, c.ropeNeox, threads);
  }
  attentionForward(k, threads, c, acts, a);
  project('o', a.resid2, a.attOut);
  k.axpy(a.resid2, 1, inp, N * c.embd, threads);

  k.rmsnormForward(a.ln2, a.ln2Rstd, a.resid2, w.ffnNorm.data, N, c.embd, c.rmsEps, threads);
  project('gate', a.gate, a.ln2);
  project('up', a.up, a.ln2);
  k.swigluForward(a.swi, a.gate, a.up, N * c.ff, threads);
  project('down', out, a.swi);
  k.axpy(out, 1, a.resid2, N * c.embd, threads);
}

/** 1/sqrtf(head_dim) in f32, as llama.cpp computes kq_scale. */
export function attentionScale(c: ModelConfig): number {
  return Math.fround(1 / Math.fround(Math.sqrt(c.headDim)));
}

/**
 * att[b, h] = softmax(scale * q_bh · k_bh^T) with the causal mask, attOut_bh = att[b, h] · v_bh,
 * where query head h reads kv head floor(h / (NH / NKV)). q_bh is [T, HD] at stride qDim.
 */
function attentionForward(k: Kernels, threads: number, c: ModelConfig, acts: Activations, a: LayerActs): void {
  const { B, T } = acts;
  const group = c.heads / c.kvHeads;
  const HD = c.headDim;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < c.heads; h++) {
      const qOff = b * T * c.qDim + h * HD;
      const kvOff = b * T * c.kvDim + Math.floor(h / group) * HD;
      const att = a.att.subarray((b * c.heads + h) * T * T, (b * c.heads + h + 1) * T * T);
      k.sgemm(false, true, T, T, HD, 1, a.q.subarray(qOff), c.qDim, a.k.subarray(kvOff), c.kvDim, 0, att, T, threads);
    }
  }
  k.softmaxForward(a.att, a.att, B * c.heads * T, T, attentionScale(c), true, T, threads);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < c.heads; h++) {
      const qOff = b * T * c.qDim + h * HD;
      const kvOff = b * T * c.kvDim + Math.floor(h / group) * HD;
      const att = a.att.subarray((b * c.heads + h) * T * T, (b * c.heads + h + 1) * T * T);
      k.sgemm(false, false, T, HD, T, 1, att, T, a.v.subarray(kvOff), c.kvDim, 0, a.attOut.subarray(qOff), c.qDim, threads);
    }
  }
}

/** Final RMSNorm and output projection: acts.resid[L] -> acts.logits. */
export function headForward(ctx: ProjectionContext, model: EngineModel, acts: Activations): void {
  const c = model.config;
  const w = model.weights;
  ctx.k.rmsnormForward(acts.lnf, acts.lnfRstd, acts.resid[c.layers]!, w.outputNorm.data, acts.N, c.embd, c.rmsEps, ctx.threads);
  projectForward(ctx, acts.logits, acts.lnf, acts.N, w.output, w.outputBias, null, null);
}
