/**
 * The engine's hand-written backward against central finite differences of its own forward:
 * the projection wrapper (Q8_0 or f32 base + bias + LoRA with dropout), one transformer block,
 * the head (final norm, output projection, masked cross-entropy) and the whole model.
 *
 * The forward is f32; every objective is accumulated in float64 (sum(out * R) for a block with a
 * fixed random R, or the loss). Element derivatives use the fourth-order central stencil
 * (8(f(p+h) - f(p-h)) - (f(p+2h) - f(p-2h))) / 12h with h = 3e-2 on parameters of scale ~0.1..1
 * (the f32 rounding noise of the quotient is ~1e-5 absolute at h = 1e-2, 3x less at 3e-2). Per
 * tensor, at most 8 elements are checked (the 4 largest |grad| and 4 seeded random ones):
 * |analytic - numeric| / (|numeric| + 1% of max |grad|) <= 5e-2; plus one directional derivative
 * along grad/max|grad| (every element moves at once, by at most 3e-3) within 1e-3 relative.
 * Measured here: worst element 1.6e-2 (tiny k/q-bias gradients, where the noise dominates),
 * directional 3e-4; a wrong RoPE ordering in the backward gives 1e-1..1e+1.
 */
import { describe, expect, it } from 'vitest';
import { tinyModel } from '../helpers/tiny-model.js';
import { backendCases } from './kernels.helpers.js';
import { finiteDifferences, uniform, type FdResult } from './grad.helpers.js';
import { loadModel, createModelGrads, type EngineModel, type F32Tensor, type ModelGrads } from '../../src/engine/model/weights.js';
import { createLora, projectBackward, projectForward, type LoraAdapter, type ProjectionContext } from '../../src/engine/model/lora.js';
import { blockForward, createActivations, forward, headForward, projectionContext, type Activations } from '../../src/engine/model/forward.js';
import { backward, blockBackward, createGradActivations, headBackward, type GradActivations } from '../../src/engine/model/backward.js';
import { crossEntropyLoss, maskedTargets } from '../../src/engine/model/loss.js';
import { PROJECTIONS } from '../../src/engine/model/config.js';
import type { Kernels } from '../../src/engine/kernels/index.js';

const EPS = 3e-2;
const DIRECTIONAL_EPS = 3e-3;
const PER_TENSOR = 8;
const ELEMENT_TOL = 5e-2;
const DIRECTIONAL_TOL = 1e-3;

/** The TypeScript fallback and the addon's best path (FINESEC_KERNELS=ts: the fallback only). */
const BACKENDS = backendCases().filter((b, i, all) => !b.native || all.findIndex((x) => x.native) === i);

function dot64(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function fill(x: Float32Array, seed: number, lo: number, hi: number): Float32Array {
  const r = uniform(seed);
  for (let i = 0; i < x.length; i++) x[i] = r(lo, hi);
  return x;
}

interface Check {
  name: string;
  params: Float32Array;
  grad: Float32Array;
}

function expectGradients(label: string, checks: Check[], f: () => number): void {
  const lines: string[] = [];
  checks.forEach((c, i) => {
    const r: FdResult = finiteDifferences(c.params, c.grad, f, { eps: EPS, directionalEps: DIRECTIONAL_EPS, count: PER_TENSOR, seed: 100 + i });
    const ok = r.worst <= ELEMENT_TOL && r.directional <= DIRECTIONAL_TOL;
    lines.push(`  ${ok ? 'OK' : 'NOT OK'} ${c.name}: worst element ${r.worst.toExponential(2)} (${r.checked}), directional ${r.directional.toExponential(2)}`);
  });
  console.log(`finite differences, ${label}:\n${lines.join('\n')}`);
  expect(lines.filter((l) => l.includes('NOT OK'))).toEqual([]);
}

async function modelFor(arch: 'llama' | 'qwen2', full: boolean, k: Kernels): Promise<EngineModel> {
  const path = await tinyModel({ arch, type: full ? 'f32' : 'q8_0', initStd: 0.08, seed: 11 });
  const model = loadModel(path, { trainable: full, kernels: k });
  const r = uniform(5);
  for (const t of model.weights.tensors) {
    if (t.type === 'f32' && t.name.endsWith('_norm.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = 1 + r(-0.3, 0.3);
  }
  return model;
}

function loraFor(model: EngineModel, dropout: number): LoraAdapter {
  const lora = createLora(model.config, { rank: 4, alpha: 8, dropout, seed: 3 });
  const r = uniform(9);
  for (const m of lora.modules) for (let i = 0; i < m.B.length; i++) m.B[i] = r(-0.3, 0.3);
  return lora;
}

function loraChecks(lora: LoraAdapter, layer?: number): Check[] {
  return lora.modules.filter((m) => layer === undefined || m.layer === layer).flatMap((m) => [
    { name: `${m.name}.lora_a`, params: m.A, grad: m.dA },
    { name: `${m.name}.lora_b`, params: m.B, grad: m.dB },
  ]);
}

function fullChecks(grads: ModelGrads, tensors: F32Tensor[]): Check[] {
  return tensors.map((t) => ({ name: t.name, params: t.data, grad: grads.of(t) }));
}

for (const backend of BACKENDS) {
  describe(`finite differences [${backend.label}]`, () => {
    it('projection wrapper: Q8_0 base + LoRA with dropout, and f32 base + bias in full mode', async () => {
      const k = backend.get();
      for (const full of [false, true]) {
        const model = await modelFor(full ? 'qwen2' : 'llama', full, k);
        const lora = loraFor(model, full ? 0 : 0.25);
        const W = model.weights.layers[0]!.proj.q;
        const bias = model.weights.layers[0]!.bias.q;
        const module = lora.byLayer[0]!.q!;
        const [rows, cols] = W.shape as [number, number];
        const M = 12;
        const ctx: ProjectionContext = { k, threads: 1, quantizeActivations: false, lora, dropout: lora.dropout, dropoutSeed: 77 };
        const inp = fill(new Float32Array(M * cols), 1, -1, 1);
        const R = fill(new Float32Array(M * rows), 2, -1, 1);
        const out = new Float32Array(M * rows);
        const saved = { h: new Float32Array(M * lora.rank), xd: lora.dropout > 0 ? new Float32Array(M * cols) : null };
        const f = (): number => {
          projectForward(ctx, out, inp, M, W, bias, module, saved);
          return dot64(out, R);
        };
        f();
        const grads = full ? createModelGrads(model) : null;
        const dinp = new Float32Array(M * cols);
        lora.grads.fill(0);
        projectBackward(ctx, dinp, R, inp, M, W, bias, module, saved, { dh: new Float32Array(M * lora.rank), dx: new Float32Array(M * cols) }, grads);
        const checks: Check[] = [
          { name: 'input', params: inp, grad: dinp },
          { name: 'lora_a', params: module.A, grad: module.dA },
          { name: 'lora_b', params: module.B, grad: module.dB },
        ];
        if (grads && W.type === 'f32') checks.push({ name: W.name, params: W.data, grad: grads.of(W) });
        if (grads && bias) checks.push({ name: bias.name, params: bias.data, grad: grads.of(bias) });
        expect(checks.length).toBe(full ? 5 : 3);
        expectGradients(`projection (${full ? 'f32 base, bias, full mode' : 'Q8_0 base, LoRA dropout 0.25'})`, checks, f);
      }
    });

    for (const arch of ['llama', 'qwen2'] as const) {
      it(`${arch} block: input, LoRA A/B${arch === 'qwen2' ? ', and every weight in full mode' : ' with dropout, Q8_0 base'}`, async () => {
        const k = backend.get();
        const full = arch === 'qwen2';
        const model = await modelFor(arch, full, k);
        const lora = loraFor(model, full ? 0 : 0.2);
        const B = 2;
        const T = 8;
        const acts = createActivations(model.config, B, T, lora);
        const g = createGradActivations(model.config, B, T, lora);
        for (let i = 0; i < acts.N; i++) acts.positions[i] = i % T;
        acts.dropout = lora.dropout;
        acts.dropoutSeed = 5;
        fill(acts.resid[0]!, 3, -1, 1);
        const R = fill(new Float32Array(acts.N * model.config.embd), 4, -1, 1);
        const ctx = projectionContext(acts, { lora, kernels: k });
        const f = (): number => {
          blockForward(ctx, model, acts, 0);
          return dot64(acts.resid[1]!, R);
        };
        f();
        const grads = full ? createModelGrads(model) : null;
        lora.grads.fill(0);
        g.dresid.set(R);
        blockBackward(ctx, model, acts, g, 0, grads);
        const dinput = Float32Array.from(g.dresid);
        const checks: Check[] = [{ name: 'block input', params: acts.resid[0]!, grad: dinput }, ...loraChecks(lora, 0)];
        if (grads) {
          const w = model.weights.layers[0]!;
          const tensors = [w.attnNorm, w.ffnNorm, ...PROJECTIONS.map((p) => w.proj[p] as F32Tensor), ...PROJECTIONS.flatMap((p) => (w.bias[p] ? [w.bias[p]!] : []))];
          expect(tensors.length).toBe(2 + 7 + 3);
          checks.push(...fullChecks(grads, tensors));
        }
        expectGradients(`${arch} block 0`, checks, f);
      });
    }

    it('head: final norm, output projection and masked cross-entropy (full mode, tied output)', async () => {
      const k = backend.get();
      const path = await tinyModel({ arch: 'qwen2', type: 'f32', tied: true, initStd: 0.08, seed: 11 });
      const model = loadModel(path, { trainable: true, kernels: k });
      fill(model.weights.outputNorm.data, 6, 0.7, 1.3);
      const B = 2;
      const T = 8;
      const acts = createActivations(model.config, B, T);
      const g = createGradActivations(model.config, B, T);
      fill(acts.resid[model.config.layers]!, 7, -1, 1);
      const r = uniform(8);
      const targets = Int32Array.from({ length: acts.N }, (_, i) => (i % 3 === 0 ? -1 : Math.floor(r(0, model.config.vocab))));
      const ctx = projectionContext(acts, { kernels: k });
      const f = (): number => {
        headForward(ctx, model, acts);
        return crossEntropyLoss(acts, model.config.vocab, targets, { kernels: k }).loss;
      };
      f();
      crossEntropyLoss(acts, model.config.vocab, targets, { dlogits: g.dlogits, kernels: k });
      const grads = createModelGrads(model);
      headBackward(ctx, model, acts, g, grads);
      expectGradients('head', [
        { name: 'final hidden state', params: acts.resid[model.config.layers]!, grad: Float32Array.from(g.dresid) },
        ...fullChecks(grads, [model.weights.outputNorm, model.weights.output as F32Tensor]),
      ], f);
    });

    it('whole model: LoRA A/B of every layer (dropout 0.1) and, in full mode, every weight of a tied qwen2', async () => {
      const k = backend.get();
      for (const full of [false, true]) {
        const arch = full ? 'qwen2' : 'llama';
        const model = full
          ? loadModel(await tinyModel({ arch, type: 'f32', tied: true, initStd: 0.08, seed: 11 }), { trainable: true, kernels: k })
          : await modelFor(arch, false, k);
        const lora = full ? null : loraFor(model, 0.1);
        const B = 2;
        const T = 8;
        const acts: Activations = createActivations(model.config, B, T, lora);
        const g: GradActivations = createGradActivations(model.config, B, T, lora);
        const r = uniform(12);
        const tokens = Int32Array.from({ length: B * T }, () => Math.floor(r(0, model.config.vocab)));
        const targets = maskedTargets(tokens, Uint8Array.from({ length: B * T }, (_, i) => (i % T >= 3 ? 1 : 0)), B, T);
        const f = (): number => {
          forward(model, acts, tokens, { lora, training: true, dropoutSeed: 9, kernels: k });
          return crossEntropyLoss(acts, model.config.vocab, targets, { kernels: k }).loss;
        };
        f();
        crossEntropyLoss(acts, model.config.vocab, targets, { dlogits: g.dlogits, kernels: k });
        const grads = full ? createModelGrads(model) : null;
        lora?.grads.fill(0);
        backward(model, acts, g, { lora, grads, kernels: k });
        const checks = lora ? loraChecks(lora) : fullChecks(grads!, model.weights.tensors as F32Tensor[]);
        expect(checks.length).toBe(full ? model.weights.tensors.length : 2 * 7 * model.config.layers);
        expectGradients(`whole ${arch} model (${full ? 'full mode, tied' : 'LoRA, Q8_0 base'})`, checks, f);
      }
    });
  });
}
