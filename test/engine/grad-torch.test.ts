/**
 * The engine's loss, logits and gradients against PyTorch (Debian's python3-torch, float32) computing
 * the same forward/backward from the same weights with its own implementation of the layers
 * (test/engine/torch/reference.py). Compared by name, normwise: ||engine - torch|| / ||torch||
 * <= 1e-4 for every tensor, on every kernel backend; and, as llm.c's test does, the loss over 10
 * AdamW steps on the LoRA parameters (the engine with the AdamW kernel, torch with torch.optim.AdamW).
 *
 * Torch is required: without it this file fails, unless FINESEC_ALLOW_NO_TORCH=1, which skips it
 * with a visible message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyModel } from '../helpers/tiny-model.js';
import { backendCases } from './kernels.helpers.js';
import { readExchange, relError, runReference, torchAvailable, uniform, writeExchange, type RefTensor } from './grad.helpers.js';
import { loadModel, createModelGrads, type EngineModel, type ModelGrads } from '../../src/engine/model/weights.js';
import { createLora, dropoutKeeps, type LoraAdapter, type LoraOptions } from '../../src/engine/model/lora.js';
import { createActivations, forward, type Activations } from '../../src/engine/model/forward.js';
import { backward, createGradActivations, type GradActivations } from '../../src/engine/model/backward.js';
import { crossEntropyLoss, maskedTargets } from '../../src/engine/model/loss.js';
import type { Kernels } from '../../src/engine/kernels/index.js';

const TOLERANCE = 1e-4;

const torch = torchAvailable();
const allowNoTorch = process.env.FINESEC_ALLOW_NO_TORCH === '1';
if (!torch.ok && allowNoTorch) {
  console.warn(`SKIPPING the PyTorch gradient tests: ${torch.reason} (FINESEC_ALLOW_NO_TORCH=1)`);
}

interface Scenario {
  label: string;
  arch: 'llama' | 'qwen2';
  type: 'f32' | 'q8_0';
  tied: boolean;
  /** Quantise an f32 GGUF at load (the engine then computes with Q8_0 weights). */
  quantize: boolean;
  /** Full mode: every weight trained in f32. */
  full: boolean;
  lora: LoraOptions | null;
  /** Positions start here instead of 0 (exercises RoPE at other angles). */
  positionOffset: number;
  B: number;
  T: number;
  /** Also compare the loss before each of this many AdamW steps on the LoRA parameters. */
  adamSteps?: number;
}

/** AdamW settings of the multi-step comparison (PyTorch's torch.optim.AdamW semantics). */
const ADAM = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

const SCENARIOS: Scenario[] = [
  {
    label: 'llama Q8_0, LoRA on all seven projections, dropout 0.1',
    arch: 'llama', type: 'q8_0', tied: false, quantize: true, full: false,
    lora: { rank: 4, alpha: 8, dropout: 0.1, seed: 5 }, positionOffset: 0, B: 2, T: 16,
  },
  {
    label: 'qwen2 F32 quantised at load, tied, rsLoRA on q/v/down, positions from 5',
    arch: 'qwen2', type: 'f32', tied: true, quantize: true, full: false,
    lora: { rank: 8, alpha: 16, rsLora: true, targets: ['q', 'v', 'down'], seed: 6 }, positionOffset: 5, B: 2, T: 12,
    adamSteps: 10,
  },
  {
    label: 'llama F32, full mode (every weight)',
    arch: 'llama', type: 'f32', tied: false, quantize: false, full: true, lora: null, positionOffset: 0, B: 2, T: 16,
  },
  {
    label: 'qwen2 Q8_0 tied, full mode plus LoRA on k/o/gate/up',
    arch: 'qwen2', type: 'q8_0', tied: true, quantize: true, full: true,
    lora: { rank: 4, alpha: 4, targets: ['k', 'o', 'gate', 'up'], seed: 7 }, positionOffset: 0, B: 1, T: 24,
  },
];

interface Prepared {
  model: EngineModel;
  lora: LoraAdapter | null;
  tokens: Int32Array;
  positions: Int32Array;
  targets: Int32Array;
}

/** A tiny model with non-trivial norms, a LoRA with non-zero B, random tokens and an assistant mask. */
async function prepare(s: Scenario, k: Kernels): Promise<Prepared> {
  const path = await tinyModel({ arch: s.arch, type: s.type, tied: s.tied, initStd: 0.08, seed: 11 });
  const model = loadModel(path, { quantize: s.quantize, trainable: s.full, kernels: k });
  const rand = uniform(21);
  for (const t of model.weights.tensors) {
    if (t.type === 'f32' && t.name.endsWith('_norm.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] = 1 + rand(-0.3, 0.3);
  }
  let lora: LoraAdapter | null = null;
  if (s.lora) {
    lora = createLora(model.config, s.lora);
    for (const m of lora.modules) for (let i = 0; i < m.B.length; i++) m.B[i] = rand(-0.2, 0.2);
  }
  const N = s.B * s.T;
  const tokens = Int32Array.from({ length: N }, () => Math.floor(rand(0, model.config.vocab)));
  const positions = Int32Array.from({ length: N }, (_, i) => s.positionOffset + (i % s.T));
  // The first third of every row is the prompt; the rest is the assistant's answer.
  const mask = Uint8Array.from({ length: N }, (_, i) => (i % s.T >= Math.floor(s.T / 3) ? 1 : 0));
  return { model, lora, tokens, positions, targets: maskedTargets(tokens, mask, s.B, s.T) };
}

interface EngineRun {
  loss: number;
  acts: Activations;
  g: GradActivations;
  grads: ModelGrads | null;
}

/** The loss before each of `steps` AdamW steps on the LoRA parameters (this changes them). */
function adamLosses(s: Scenario, p: Prepared, k: Kernels): number[] {
  const lora = p.lora!;
  const m = new Float32Array(lora.params.length);
  const v = new Float32Array(lora.params.length);
  const losses: number[] = [];
  for (let step = 1; step <= s.adamSteps!; step++) {
    losses.push(runEngine(s, p, k).loss);
    k.adamw(lora.params, lora.grads, m, v, lora.params.length, ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps, ADAM.weightDecay, step);
  }
  return losses;
}

function runEngine(s: Scenario, p: Prepared, k: Kernels): EngineRun {
  const acts = createActivations(p.model.config, s.B, s.T, p.lora);
  const g = createGradActivations(p.model.config, s.B, s.T, p.lora);
  const grads = s.full ? createModelGrads(p.model) : null;
  if (p.lora) p.lora.grads.fill(0);
  forward(p.model, acts, p.tokens, { positions: p.positions, lora: p.lora, training: true, dropoutSeed: 1234, kernels: k });
  const { loss } = crossEntropyLoss(acts, p.model.config.vocab, p.targets, { dlogits: g.dlogits, kernels: k });
  backward(p.model, acts, g, { lora: p.lora, grads, kernels: k });
  return { loss, acts, g, grads };
}

/** Everything the reference needs, weights dequantised to f32 exactly as the engine sees them. */
function referenceInput(s: Scenario, p: Prepared, run: EngineRun, k: Kernels): { header: Record<string, unknown>; tensors: RefTensor[] } {
  const c = p.model.config;
  const tensors: RefTensor[] = [
    { name: 'tokens', shape: [s.B, s.T], data: p.tokens },
    { name: 'positions', shape: [s.B, s.T], data: p.positions },
    { name: 'targets', shape: [s.B, s.T], data: p.targets },
  ];
  for (const t of p.model.weights.tensors) {
    let data: Float32Array;
    if (t.type === 'f32') data = t.data;
    else {
      data = new Float32Array(t.shape[0] * t.shape[1]);
      k.dequantizeQ8_0(data, t.data, t.shape[0], t.shape[1]);
    }
    tensors.push({ name: t.name, shape: t.shape, data });
  }
  if (p.lora) {
    for (const m of p.lora.modules) {
      tensors.push({ name: `${m.name}.lora_a`, shape: [p.lora.rank, m.inDim], data: m.A });
      tensors.push({ name: `${m.name}.lora_b`, shape: [m.outDim, p.lora.rank], data: m.B });
      if (run.acts.dropout > 0) {
        const keep = 1 / (1 - run.acts.dropout);
        const mask = Float32Array.from({ length: run.acts.N * m.inDim }, (_, i) => (dropoutKeeps(run.acts.dropoutSeed, m.index, i, run.acts.dropout) ? keep : 0));
        tensors.push({ name: `${m.name}.dropout`, shape: [run.acts.N, m.inDim], data: mask });
      }
    }
  }
  const lora = p.lora ? { rank: p.lora.rank, scale: p.lora.scale, dropout: run.acts.dropout } : null;
  const adam = s.adamSteps ? { steps: s.adamSteps, ...ADAM } : null;
  return { header: { config: c, B: s.B, T: s.T, lora, full: s.full, adam }, tensors };
}

const tmp = mkdtempSync(join(tmpdir(), 'finesec-grad-torch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!torch.ok && allowNoTorch)('engine gradients vs PyTorch', () => {
  it('PyTorch is importable from /usr/bin/python3 (CI installs python3-torch)', () => {
    expect(torch.ok, torch.reason).toBe(true);
  });

  SCENARIOS.forEach((s, index) => {
    describe(s.label, () => {
      let reference: Map<string, RefTensor>;

      beforeAll(async () => {
        if (!torch.ok) return;
        const k = backendCases()[0]!.get();
        const p = await prepare(s, k);
        const run = runEngine(s, p, k);
        const input = join(tmp, `in-${index}.bin`);
        const output = join(tmp, `out-${index}.bin`);
        const { header, tensors } = referenceInput(s, p, run, k);
        writeExchange(input, 'FSGI', header, tensors);
        runReference(input, output);
        reference = readExchange(output, 'FSGO').tensors;
      });

      for (const backend of backendCases()) {
        it(`${backend.label}: loss, logits and every gradient within ${TOLERANCE}`, async () => {
          expect(torch.ok, torch.reason).toBe(true);
          const k = backend.get();
          const p = await prepare(s, k);
          const run = runEngine(s, p, k);
          const got = new Map<string, ArrayLike<number>>([
            ['loss', [run.loss]],
            ['logits', run.acts.logits],
            ['grad.embeddings', run.g.dresid],
          ]);
          if (p.lora) {
            for (const m of p.lora.modules) {
              got.set(`grad.${m.name}.lora_a`, m.dA);
              got.set(`grad.${m.name}.lora_b`, m.dB);
            }
          }
          if (run.grads) for (const t of p.model.weights.tensors) if (t.type === 'f32') got.set(`grad.${t.name}`, run.grads.of(t));
          const lines: string[] = [];
          // Copies: the AdamW steps below overwrite the gradients.
          for (const [name, value] of got) got.set(name, Array.from(value));
          if (s.adamSteps) {
            const losses = adamLosses(s, p, k);
            got.set('adam.losses', losses);
            // The steps must actually train (else comparing them proves little).
            expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! - 0.5);
            lines.push(`  AdamW losses ${losses.map((x) => x.toFixed(4)).join(' ')}`);
          }
          const expectedNames = [...reference.keys()].filter((n) => n.startsWith('grad.') && n !== 'grad.embeddings');
          expect(expectedNames.length).toBe([...got.keys()].filter((n) => n.startsWith('grad.') && n !== 'grad.embeddings').length);

          let worst = 0;
          for (const [name, value] of got) {
            const want = reference.get(name);
            expect(want, `reference has no ${name}`).toBeDefined();
            const { rel, maxDiff } = relError(value, want!.data);
            worst = Math.max(worst, rel);
            if (rel > TOLERANCE || !name.startsWith('grad.') || name === 'grad.embeddings') {
              lines.push(`  ${rel <= TOLERANCE ? 'OK' : 'NOT OK'} ${name}: rel ${rel.toExponential(2)}, max diff ${maxDiff.toExponential(2)}`);
            }
          }
          console.log(`torch ${s.label} [${backend.label}]: ${got.size} tensors, worst rel ${worst.toExponential(2)}, loss ${run.loss.toFixed(5)}\n${lines.join('\n')}`);
          expect(worst).toBeLessThanOrEqual(TOLERANCE);
        });
      }
    });
  });
});
