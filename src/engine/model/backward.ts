/**
 * Backward pass of forward.ts, layer by layer in exact reverse order, from dloss/dlogits (written
 * by crossEntropyLoss into GradActivations.dlogits). Gradients ACCUMULATE (+=) into LoRA A/B
 * (adapter.grads) and, in full mode, into every f32 base weight (ModelGrads); callers zero them
 * explicitly at the start of a step. Gradients reach the inputs through the frozen Q8_0 weights
 * (dX = dY W); the input-embedding gradient is left in GradActivations.dresid.
 */
import { PROJECTIONS, projectionShape, type ModelConfig, type Projection } from './config.js';
import { allocateViews, attentionScale, projectionContext, type Activations, type LayerActs } from './forward.js';
import { projectBackward, type LoraAdapter, type LoraScratch, type ProjectionContext } from './lora.js';
import type { EngineModel, ModelGrads } from './weights.js';
import type { Kernels } from '../kernels/index.js';

export interface GradActivations {
  all: Float32Array;
  views: Map<string, Float32Array>;
  /** Residual-stream gradient; after backward, dloss/d(token embeddings) [N, C]. */
  dresid: Float32Array;   // [N, C]
  dln: Float32Array;      // [N, C]  gradient at a norm's output
  dq: Float32Array;       // [N, qDim]   after RoPE
  dk: Float32Array;       // [N, kvDim]  after RoPE
  dv: Float32Array;       // [N, kvDim]
  dqPre: Float32Array;    // [N, qDim]   before RoPE
  dkPre: Float32Array;    // [N, kvDim]  before RoPE
  dattOut: Float32Array;  // [N, qDim]
  dP: Float32Array;       // [T, T]  gradient at one head's probabilities
  dS: Float32Array;       // [T, T]  gradient at one head's raw scores q·k
  dgate: Float32Array;    // [N, FF]
  dup: Float32Array;      // [N, FF]
  dswi: Float32Array;     // [N, FF]
  dlogits: Float32Array;  // [N, V]
  lora: LoraScratch;      // dh [N, r], dx [N, max in]
}

export function gradActivationSizes(c: ModelConfig, B: number, T: number, lora: LoraAdapter | null): Array<{ name: string; size: number }> {
  const N = B * T;
  const maxIn = Math.max(...PROJECTIONS.map((p) => projectionShape(c, p)[1]));
  return [
    { name: 'dresid', size: N * c.embd },
    { name: 'dln', size: N * c.embd },
    { name: 'dq', size: N * c.qDim },
    { name: 'dk', size: N * c.kvDim },
    { name: 'dv', size: N * c.kvDim },
    { name: 'dqPre', size: N * c.qDim },
    { name: 'dkPre', size: N * c.kvDim },
    { name: 'dattOut', size: N * c.qDim },
    { name: 'dP', size: T * T },
    { name: 'dS', size: T * T },
    { name: 'dgate', size: N * c.ff },
    { name: 'dup', size: N * c.ff },
    { name: 'dswi', size: N * c.ff },
    { name: 'dlogits', size: N * c.vocab },
    { name: 'lora.dh', size: lora ? N * lora.rank : 0 },
    { name: 'lora.dx', size: lora && lora.dropout > 0 ? N * maxIn : 0 },
  ];
}

export function createGradActivations(c: ModelConfig, B: number, T: number, lora: LoraAdapter | null = null): GradActivations {
  const { all, views } = allocateViews(gradActivationSizes(c, B, T, lora));
  const v = (name: string): Float32Array => views.get(name)!;
  return {
    all, views,
    dresid: v('dresid'), dln: v('dln'), dq: v('dq'), dk: v('dk'), dv: v('dv'), dqPre: v('dqPre'), dkPre: v('dkPre'),
    dattOut: v('dattOut'), dP: v('dP'), dS: v('dS'), dgate: v('dgate'), dup: v('dup'), dswi: v('dswi'),
    dlogits: v('dlogits'),
    lora: { dh: v('lora.dh'), dx: v('lora.dx') },
  };
}

export interface BackwardOptions {
  /** The adapter used in the forward; its grads accumulate. */
  lora?: LoraAdapter | null;
  /** Full mode: gradients of every base weight (the model must be trainable). */
  grads?: ModelGrads | null;
  threads?: number;
  kernels?: Kernels;
}

/** Backpropagates g.dlogits through the whole model (the forward must have run on acts). */
export function backward(model: EngineModel, acts: Activations, g: GradActivations, options: BackwardOptions = {}): void {
  const ctx = projectionContext(acts, options);
  const grads = options.grads ?? null;
  if (grads && !model.trainable) throw new Error('full-mode gradients need a model loaded with trainable: true');
  headBackward(ctx, model, acts, g, grads);
  for (let l = model.config.layers - 1; l >= 0; l--) blockBackward(ctx, model, acts, g, l, grads);
  if (grads) embeddingBackward(model, acts, g, grads);
}

/** logits -> resid[L]: output projection, then the final RMSNorm. Sets g.dresid. */
export function headBackward(ctx: ProjectionContext, model: EngineModel, acts: Activations, g: GradActivations, grads: ModelGrads | null): void {
  const c = model.config;
  const w = model.weights;
  const { N } = acts;
  g.dln.fill(0);
  projectBackward(ctx, g.dln, g.dlogits, acts.lnf, N, w.output, w.outputBias, null, null, g.lora, grads);
  g.dresid.fill(0);
  ctx.k.rmsnormBackward(g.dresid, grads ? grads.of(w.outputNorm) : null, g.dln, acts.resid[c.layers]!, w.outputNorm.data, acts.lnfRstd, N, c.embd, ctx.threads);
}

/** Layer l backward: g.dresid holds dloss/d resid[l + 1] on entry and dloss/d resid[l] on exit. */
export function blockBackward(
  ctx: ProjectionContext, model: EngineModel, acts: Activations, g: GradActivations, l: number, grads: ModelGrads | null,
): void {
  const c = model.config;
  const w = model.weights.layers[l]!;
  const a = acts.layers[l]!;
  const lora = ctx.lora?.byLayer[l] ?? {};
  const { k, threads } = ctx;
  const { B, T, N } = acts;
  const projectBack = (p: Projection, dinp: Float32Array, dout: Float32Array, inp: Float32Array): void =>
    projectBackward(ctx, dinp, dout, inp, N, w.proj[p], w.bias[p], lora[p] ?? null, a.lora[p] ?? null, g.lora, grads);

  // MLP: resid[l+1] = resid2 + down(silu(gate(ln2)) * up(ln2)); the residual passes dresid through.
  g.dswi.fill(0);
  projectBack('down', g.dswi, g.dresid, a.swi);
  g.dgate.fill(0);
  g.dup.fill(0);
  k.swigluBackward(g.dgate, g.dup, g.dswi, a.gate, a.up, N * c.ff, threads);
  g.dln.fill(0);
  projectBack('up', g.dln, g.dup, a.ln2);
  projectBack('gate', g.dln, g.dgate, a.ln2);
  k.rmsnormBackward(g.dresid, grads ? grads.of(w.ffnNorm) : null, g.dln, a.resid2, w.ffnNorm.data, a.ln2Rstd, N, c.embd, threads);

  // Attention: resid2 = resid[l] + o(attention(rope(q(ln1)), rope(k(ln1)), v(ln1))).
  g.dattOut.fill(0);
  projectBack('o', g.dattOut, g.dresid, a.attOut);
  attentionBackward(k, threads, c, acts, a, g);
  g.dqPre.fill(0);
  g.dkPre.fill(0);
  for (let b = 0; b < B; b++) {
    const pos = acts.positions.subarray(b * T, (b + 1) * T);
    const qs = b * T * c.qDim;
    const ks = b * T * c.kvDim;
    k.ropeBackward(g.dqPre.subarray(qs, qs + T * c.qDim), g.dq.subarray(qs, qs + T * c.qDim), pos, T, c.heads, c.headDim, c.ropeDim, c.ropeBase, c.ropeFreqScale, c.ropeNeox, threads);
    k.ropeBackward(g.dkPre.subarray(ks, ks + T * c.kvDim), g.dk.subarray(ks, ks + T * c.kvDim), pos, T, c.kvHeads, c.headDim, c.ropeDim, c.ropeBase, c.ropeFreqScale, c.ropeNeox, threads);
  }
  g.dln.fill(0);
  projectBack('v', g.dln, g.dv, a.ln1);
  projectBack('k', g.dln, g.dkPre, a.ln1);
  projectBack('q', g.dln, g.dqPre, a.ln1);
  k.rmsnormBackward(g.dresid, grads ? grads.of(w.attnNorm) : null, g.dln, acts.resid[l]!, w.attnNorm.data, a.ln1Rstd, N, c.embd, threads);
}

/**
 * From g.dattOut to g.dq, g.dk, g.dv (post-RoPE), head by head:
 * dP = dO · V^T, dV += P^T · dO, dS = softmax backward (with the 1/sqrt(HD) scale), dQ += dS · K, dK += dS^T · Q.
 */
function attentionBackward(k: Kernels, threads: number, c: ModelConfig, acts: Activations, a: LayerActs, g: GradActivations): void {
  const { B, T } = acts;
  const HD = c.headDim;
  const group = c.heads / c.kvHeads;
  const scale = attentionScale(c);
  g.dq.fill(0);
  g.dk.fill(0);
  g.dv.fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < c.heads; h++) {
      const qOff = b * T * c.qDim + h * HD;
      const kvOff = b * T * c.kvDim + Math.floor(h / group) * HD;
      const att = a.att.subarray((b * c.heads + h) * T * T, (b * c.heads + h + 1) * T * T);
      const dO = g.dattOut.subarray(qOff);
      k.sgemm(false, true, T, T, HD, 1, dO, c.qDim, a.v.subarray(kvOff), c.kvDim, 0, g.dP, T, threads);
      k.sgemm(true, false, T, HD, T, 1, att, T, dO, c.qDim, 1, g.dv.subarray(kvOff), c.kvDim, threads);
      g.dS.fill(0);
      k.softmaxBackward(g.dS, g.dP, att, T, T, scale, threads);
      k.sgemm(false, false, T, HD, T, 1, g.dS, T, a.k.subarray(kvOff), c.kvDim, 1, g.dq.subarray(qOff), c.qDim, threads);
      k.sgemm(true, false, T, HD, T, 1, g.dS, T, a.q.subarray(qOff), c.qDim, 1, g.dk.subarray(kvOff), c.kvDim, threads);
    }
  }
}

/** Full mode: token_embd rows += their positions' gradient (also the output's when tied). */
function embeddingBackward(model: EngineModel, acts: Activations, g: GradActivations, grads: ModelGrads): void {
  const C = model.config.embd;
  const embd = model.weights.tokenEmbd;
  if (embd.type !== 'f32') throw new Error('internal: full mode needs f32 token embeddings');
  const d = grads.of(embd);
  for (let i = 0; i < acts.N; i++) {
    const row = acts.tokens[i]! * C;
    for (let j = 0; j < C; j++) d[row + j] = d[row + j]! + g.dresid[i * C + j]!;
  }
}
