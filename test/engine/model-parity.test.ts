/**
 * The engine's forward against llama.cpp's own logits (node-llama-cpp 3.21.1, CPU, 1 thread) for
 * tiny llama and qwen2 models written by `finesec model init`, F32 and Q8_0, on every kernel
 * backend (TypeScript fallback and each native ISA path; FINESEC_KERNELS=ts leaves the fallback only).
 *
 * node-llama-cpp exposes next-token probabilities (the softmax of the raw logits, untruncated when
 * sampling is greedy), so logits are compared up to the per-row constant softmax ignores: both
 * sides are centred per row (ln p - mean ln p == logit - mean logit). Relative L2 error =
 * ||centred engine - centred llama.cpp|| / ||centred llama.cpp|| over all positions.
 * llama.cpp runs without flash attention and with an F32 KV cache, so attention is f32 on both
 * sides; for Q8_0 the engine quantises activations to Q8_0 before each Q8_0 product as llama.cpp's
 * CPU path does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { tinyModel } from '../helpers/tiny-model.js';
import { backendCases } from './kernels.helpers.js';
import type { Kernels } from '../../src/engine/kernels/index.js';
import { loadModel } from '../../src/engine/model/weights.js';
import { createActivations, forward } from '../../src/engine/model/forward.js';

/**
 * Tolerances. Measured on this machine (printed by each test): relative L2 ~5e-7..8e-7 for F32 and
 * ~1.2e-7 for Q8_0 with quantised activations, top-1 100% everywhere, on every backend.
 */
const TOLERANCE = {
  f32: { relL2: 1e-5, top1: 1 },
  q8_0: { relL2: 1e-4, top1: 0.99 },
  // Not parity: the training mode (f32 activations) on Q8_0 weights, measured ~2e-2 / 95% here.
  q8_0F32Activations: { relL2: 5e-2, top1: 0.9 },
} as const;

const TEXTS = [
  'static int copy_name(char *dst, const char *src)\n{\n    char buf[16];\n    strcpy(buf, src);\n    return 0;\n}',
  '{"verdict":"vulnerable","findings":[{"cwe":"CWE-121","title":"strcpy into fixed-size buffer","location":{"function":"copy_name","lines":[3,4]},"severity":"high"}]}',
];
const T = 32;

let llama: Llama;
const loaded: LlamaModel[] = [];

beforeAll(async () => {
  llama = await getLlama({ gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.error });
});

afterAll(async () => {
  for (const m of loaded) await m.dispose();
  await llama.dispose();
});

/** llama.cpp's natural-log next-token probabilities at every position of one sequence. */
async function llamaLogProbs(model: LlamaModel, tokens: number[]): Promise<Float64Array[]> {
  const context = await model.createContext({
    contextSize: 256,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  });
  try {
    const results = await context.getSequence().controlledEvaluate(tokens.map((t) => [t as Token, { generateNext: { probabilities: true } }]));
    return results.map((r) => {
      const probs = r!.next.probabilities!;
      // Untruncated: every token of the vocabulary has a probability.
      const out = new Float64Array(probs.size);
      for (const [token, p] of probs) out[token] = Math.log(p);
      return out;
    });
  } finally {
    await context.dispose();
  }
}

function centred(row: ArrayLike<number>): Float64Array {
  let mean = 0;
  for (let i = 0; i < row.length; i++) mean += row[i]!;
  mean /= row.length;
  return Float64Array.from(row, (x) => x - mean);
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

interface Agreement {
  relL2: number;
  top1: number;
  /** Mean and smallest gap between llama.cpp's best and second-best logit, for scale. */
  margin: number;
  minMargin: number;
}

function agreement(engine: Float32Array[], reference: Float64Array[]): Agreement {
  let num = 0;
  let den = 0;
  let same = 0;
  let margin = 0;
  let minMargin = Infinity;
  for (let i = 0; i < reference.length; i++) {
    const e = centred(engine[i]!);
    const r = centred(reference[i]!);
    for (let j = 0; j < r.length; j++) {
      num += (e[j]! - r[j]!) ** 2;
      den += r[j]! ** 2;
    }
    if (argmax(e) === argmax(r)) same++;
    const sorted = [...r].sort((a, b) => b - a);
    margin += sorted[0]! - sorted[1]!;
    minMargin = Math.min(minMargin, sorted[0]! - sorted[1]!);
  }
  return { relL2: Math.sqrt(num / den), top1: same / reference.length, margin: margin / reference.length, minMargin };
}

interface Case {
  arch: 'llama' | 'qwen2';
  type: 'f32' | 'q8_0';
  tied?: boolean;
}

const CASES: Case[] = [
  { arch: 'llama', type: 'f32' },
  { arch: 'llama', type: 'q8_0' },
  { arch: 'qwen2', type: 'f32' },
  { arch: 'qwen2', type: 'q8_0' },
  { arch: 'llama', type: 'q8_0', tied: true },
  { arch: 'qwen2', type: 'f32', tied: true },
];

for (const { arch, type, tied = false } of CASES) {
  describe(`${arch} ${type}${tied ? ' tied' : ''}: engine logits vs llama.cpp`, () => {
    let path: string;
    let batch: number[][];
    let reference: Float64Array[][];

    beforeAll(async () => {
      // A larger init spread than the default 0.02 keeps the logits away from near-ties.
      path = await tinyModel({ arch, type, tied, initStd: 0.15, seed: 3 });
      const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
      loaded.push(model);
      batch = TEXTS.map((text) => {
        const ids = model.tokenize(text).map(Number);
        expect(ids.length, 'test text too short').toBeGreaterThanOrEqual(T);
        return ids.slice(0, T);
      });
      reference = [];
      for (const tokens of batch) reference.push(await llamaLogProbs(model, tokens));
    });

    function engineAgreement(k: Kernels, quantizeActivations: boolean): Agreement {
      const model = loadModel(path, { quantize: type === 'q8_0', kernels: k });
      expect(model.weights.q8.length > 0).toBe(type === 'q8_0');
      expect(model.weights.output === model.weights.tokenEmbd).toBe(tied);
      const acts = createActivations(model.config, batch.length, T);
      const logits = forward(model, acts, Int32Array.from(batch.flat()), { kernels: k, quantizeActivations });
      const V = model.config.vocab;
      for (const row of reference.flat()) expect(row.length).toBe(V);
      const rows = Array.from({ length: batch.length * T }, (_, i) => logits.subarray(i * V, (i + 1) * V));
      return agreement(rows, reference.flat());
    }

    for (const backend of backendCases()) {
      const tol = TOLERANCE[type];
      it(`${backend.label}: top-1 agreement >= ${tol.top1 * 100}% and relative L2 <= ${tol.relL2}`, () => {
        const a = engineAgreement(backend.get(), type === 'q8_0');
        console.log(`parity ${arch} ${type}${tied ? ' tied' : ''} ${backend.label}: relL2 ${a.relL2.toExponential(2)}, top-1 ${(a.top1 * 100).toFixed(1)}%, mean top-2 margin ${a.margin.toFixed(3)}, min ${a.minMargin.toFixed(4)}`);
        expect(a.margin).toBeGreaterThan(0.1);
        expect(a.top1).toBeGreaterThanOrEqual(tol.top1);
        expect(a.relL2).toBeLessThanOrEqual(tol.relL2);
      });
    }

    if (type === 'q8_0') {
      it('f32 activations (the training mode) stay close, but only quantised activations match exactly', () => {
        const k = backendCases()[0]!.get();
        const a = engineAgreement(k, false);
        console.log(`parity ${arch} q8_0${tied ? ' tied' : ''} f32 activations: relL2 ${a.relL2.toExponential(2)}, top-1 ${(a.top1 * 100).toFixed(1)}%`);
        expect(a.relL2).toBeLessThanOrEqual(TOLERANCE.q8_0F32Activations.relL2);
        expect(a.relL2).toBeGreaterThan(100 * TOLERANCE.q8_0.relL2);
        expect(a.top1).toBeGreaterThanOrEqual(TOLERANCE.q8_0F32Activations.top1);
      });
    }
  });
}
