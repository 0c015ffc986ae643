/**
 * The engine model's loading, storage, options and bad input: Q8_0 kept as Q8_0, F32/F16 quantised
 * at load exactly like `finesec model quantize`, trainable (full) mode in f32, one-line errors for
 * unsupported architectures, tensor types, shapes and tensors, LoRA setup, dropout masks, masked
 * targets, batching and threads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { readGguf, readTensorBytes } from '../../src/engine/gguf/reader.js';
import { writeGguf } from '../../src/engine/gguf/writer.js';
import { gv } from '../../src/engine/gguf/metadata.js';
import { GgmlType, tensorByteSize } from '../../src/engine/gguf/types.js';
import { kernels, q8Bytes } from '../../src/engine/kernels/index.js';
import { InputError, UsageError } from '../../src/util/errors.js';
import { loadModel, type EngineModel } from '../../src/engine/model/weights.js';
import { PROJECTIONS, tensorManifest } from '../../src/engine/model/config.js';
import { activationSizes, createActivations, forward } from '../../src/engine/model/forward.js';
import { createLora, dropoutKeeps, loraScale } from '../../src/engine/model/lora.js';
import { crossEntropyLoss, IGNORE, maskedTargets } from '../../src/engine/model/loss.js';
import { createGradActivations } from '../../src/engine/model/backward.js';
import { loadNative } from '../../src/engine/kernels/native.js';

const tmp = tempDir('finesec-engine-model-');
afterAll(() => tmp.cleanup());

function tokensFor(model: EngineModel, n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % model.config.vocab);
}

function logitsOf(model: EngineModel, tokens: Int32Array, B: number, T: number, options: Parameters<typeof forward>[3] = {}): Float32Array {
  const acts = createActivations(model.config, B, T, options.lora ?? null);
  return Float32Array.from(forward(model, acts, tokens, options));
}

/** Rewrites a GGUF with changes to its metadata and tensors (data read from the original). */
function rewrite(
  src: string, out: string,
  change: (m: Map<string, ReturnType<typeof gv.str>>, tensors: Array<{ name: string; dims: number[]; type: GgmlType; data: Uint8Array | (() => Uint8Array) }>) => void,
): string {
  const file = readGguf(src);
  const metadata = new Map(file.metadata);
  const tensors = file.tensors.map((t) => ({ name: t.name, dims: [...t.dims], type: t.type, data: (): Uint8Array => readTensorBytes(file, t) }) as { name: string; dims: number[]; type: GgmlType; data: Uint8Array | (() => Uint8Array) });
  change(metadata, tensors);
  const path = join(tmp.dir, out);
  writeGguf(path, { metadata, tensors });
  return path;
}

describe('loading', () => {
  it('a Q8_0 GGUF keeps every matrix as its Q8_0 blocks; only norms are f32', async () => {
    const path = await tinyModel({ arch: 'llama', type: 'q8_0' });
    const model = loadModel(path);
    const c = model.config;
    const file = readGguf(path);
    for (const t of model.weights.tensors) {
      const info = file.tensors.find((x) => x.name === t.name)!;
      if (t.type === 'q8_0') expect(Buffer.from(t.data).equals(Buffer.from(readTensorBytes(file, info)))).toBe(true);
    }
    const matrices = model.weights.tensors.filter((t) => t.type === 'q8_0');
    expect(matrices.length).toBe(1 + 7 * c.layers + 1);
    expect(model.weights.q8.length).toBe(matrices.reduce((s, t) => s + q8Bytes(t.shape[0]!, t.shape[1]!), 0));
    expect(model.weights.f32.length).toBe((2 * c.layers + 1) * c.embd);
    expect(model.weights.layers[1]!.proj.down.shape).toEqual([c.embd, c.ff]);
    expect(model.weights.layers[0]!.bias.q).toBeNull();
  });

  it('an F32 GGUF is quantised at load to exactly the bytes and logits of `finesec model quantize`', async () => {
    const f32 = await tinyModel({ arch: 'qwen2', type: 'f32', initStd: 0.1 });
    const q8 = join(tmp.dir, 'quantized.gguf');
    expect((await runCli(['model', 'quantize', f32, '--out', q8, '--quiet'])).code).toBe(0);
    const a = loadModel(f32);
    const b = loadModel(q8);
    expect(a.weights.tensors.map((t) => `${t.name}:${t.type}`)).toEqual(b.weights.tensors.map((t) => `${t.name}:${t.type}`));
    expect(Buffer.from(a.weights.q8).equals(Buffer.from(b.weights.q8))).toBe(true);
    const tokens = tokensFor(a, 16, 1);
    expect(logitsOf(a, tokens, 1, 16)).toEqual(logitsOf(b, tokens, 1, 16));
    // qwen2's q/k/v biases stay f32.
    expect(a.weights.layers[0]!.bias.k?.shape).toEqual([a.config.kvDim]);
  });

  it('quantize: false keeps F32 matrices; an F16 GGUF loads as Q8_0 by default', async () => {
    const f32 = loadModel(await tinyModel({ arch: 'llama', type: 'f32' }), { quantize: false });
    expect(f32.weights.q8.length).toBe(0);
    expect(f32.weights.tensors.every((t) => t.type === 'f32')).toBe(true);
    const f16 = loadModel(await tinyModel({ arch: 'llama', type: 'f16' }));
    expect(f16.weights.tensors.filter((t) => t.type === 'q8_0').length).toBe(1 + 7 * f16.config.layers + 1);
  });

  it('trainable (full) mode dequantises Q8_0 into f32 parameters, one allocation', async () => {
    const path = await tinyModel({ arch: 'llama', type: 'q8_0', tied: true });
    const q8 = loadModel(path);
    const full = loadModel(path, { trainable: true });
    expect(full.trainable).toBe(true);
    expect(full.weights.q8.length).toBe(0);
    expect(full.weights.output).toBe(full.weights.tokenEmbd);
    expect(full.weights.f32.length).toBe(full.weights.tensors.reduce((s, t) => s + (t.type === 'f32' ? t.data.length : 0), 0));
    const wq = q8.weights.layers[0]!.proj.q;
    const expected = new Float32Array(wq.shape[0]! * wq.shape[1]!);
    kernels().dequantizeQ8_0(expected, wq.data as Uint8Array, wq.shape[0]!, wq.shape[1]!);
    expect(full.weights.layers[0]!.proj.q.data).toEqual(expected);
    // Same math in f32: f32 activations on Q8_0 weights vs the dequantised f32 weights.
    const tokens = tokensFor(q8, 12, 3);
    const a = logitsOf(q8, tokens, 1, 12);
    const b = logitsOf(full, tokens, 1, 12);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('the manifest marks optional tensors: qwen2 biases and output.bias, llama projection biases', async () => {
    const q = loadModel(await tinyModel({ arch: 'qwen2' })).config;
    const names = (c: typeof q): string[] => tensorManifest(c).filter((e) => e.optional).map((e) => e.name);
    expect(names(q)).toContain('output.bias');
    expect(names(q)).toContain('blk.0.attn_v.bias');
    expect(names(q)).not.toContain('blk.0.attn_output.bias');
    const l = loadModel(await tinyModel({ arch: 'llama' })).config;
    expect(names(l)).toContain('blk.1.ffn_down.bias');
    expect(names(l)).toContain('output.weight');
    expect(names(l)).not.toContain('output.bias');
  });
});

describe('bad input: one-line errors naming the problem', () => {
  const expectInputError = (fn: () => unknown, pattern: RegExp): void => {
    let error: unknown;
    try {
      fn();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  };

  it('unsupported architecture', async () => {
    const path = rewrite(await tinyModel({ arch: 'llama' }), 'gpt2.gguf', (m) => m.set('general.architecture', gv.str('gpt2')));
    expectInputError(() => loadModel(path), /unknown architecture "gpt2"/);
  });

  it('unsupported tensor type', async () => {
    const path = rewrite(await tinyModel({ arch: 'llama' }), 'q4.gguf', (_m, tensors) => {
      const t = tensors.find((x) => x.name === 'blk.1.ffn_up.weight')!;
      t.type = GgmlType.Q4_0;
      t.data = new Uint8Array(tensorByteSize(GgmlType.Q4_0, t.dims));
    });
    expectInputError(() => loadModel(path), /tensor blk\.1\.ffn_up\.weight has type Q4_0/);
  });

  it('a tensor shape that does not match the metadata', async () => {
    const path = rewrite(await tinyModel({ arch: 'qwen2' }), 'shape.gguf', (_m, tensors) => {
      const t = tensors.find((x) => x.name === 'blk.0.attn_k.weight')!;
      const full = tensors.find((x) => x.name === 'blk.0.attn_q.weight')!;
      t.dims = [...full.dims];
      t.data = full.data;
    });
    expectInputError(() => loadModel(path), /tensor blk\.0\.attn_k\.weight has shape 64x64, but the metadata implies 64x32/);
  });

  it('a missing tensor and an unknown one', async () => {
    const missing = rewrite(await tinyModel({ arch: 'llama' }), 'missing.gguf', (_m, tensors) => {
      tensors.splice(tensors.findIndex((x) => x.name === 'blk.1.ffn_norm.weight'), 1);
    });
    expectInputError(() => loadModel(missing), /tensor blk\.1\.ffn_norm\.weight is missing/);
    const extra = rewrite(await tinyModel({ arch: 'llama' }), 'extra.gguf', (_m, tensors) => {
      tensors.push({ name: 'rope_freqs.weight', dims: [8], type: GgmlType.F32, data: new Uint8Array(32) });
    });
    expectInputError(() => loadModel(extra), /tensor rope_freqs\.weight is not part of a llama model/);
  });

  it('unsupported RoPE scaling', async () => {
    const path = rewrite(await tinyModel({ arch: 'llama' }), 'yarn.gguf', (m) => m.set('llama.rope.scaling.type', gv.str('yarn')));
    expectInputError(() => loadModel(path), /rope\.scaling\.type "yarn" is not supported/);
  });

  it('tokens outside the vocabulary', async () => {
    const model = loadModel(await tinyModel({ arch: 'llama' }));
    const acts = createActivations(model.config, 2, 4);
    const tokens = new Int32Array(8);
    tokens[6] = model.config.vocab;
    expectInputError(() => forward(model, acts, tokens), /token 768 at \[1, 2\] is outside the vocabulary/);
    expect(() => forward(model, acts, new Int32Array(7))).toThrow(/expected 2x4 = 8 tokens/);
  });
});

describe('forward', () => {
  it('rows of a batch are independent; RoPE sees relative positions', async () => {
    const model = loadModel(await tinyModel({ arch: 'qwen2', type: 'q8_0', initStd: 0.1 }));
    const T = 10;
    const V = model.config.vocab;
    const tokens = tokensFor(model, 2 * T, 5);
    const both = logitsOf(model, tokens, 2, T);
    const second = logitsOf(model, tokens.subarray(T), 1, T);
    expect(both.subarray(T * V)).toEqual(second);
    const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
    // Shifting every position rotates q and k alike: attention scores, hence logits, stay (up to rounding).
    const shifted = logitsOf(model, tokens.subarray(T), 1, T, { positions: Int32Array.from({ length: T }, (_, i) => i + 7) });
    expect(maxDiff(shifted, second)).toBeLessThan(1e-4);
    // Spreading positions apart changes the relative distances, hence every row after the first.
    const spread = logitsOf(model, tokens.subarray(T), 1, T, { positions: Int32Array.from({ length: T }, (_, i) => 3 * i) });
    expect(maxDiff(spread.subarray(0, V), second.subarray(0, V))).toBeLessThan(1e-4);
    expect(maxDiff(spread.subarray(V), second.subarray(V))).toBeGreaterThan(1e-2);
  });

  it.runIf(loadNative().ok)('threads is an option (default 1) and does not change the result', async () => {
    const model = loadModel(await tinyModel({ arch: 'llama', type: 'q8_0', initStd: 0.1 }));
    const tokens = tokensFor(model, 2 * 16, 7);
    const one = logitsOf(model, tokens, 2, 16);
    const two = logitsOf(model, tokens, 2, 16, { threads: 2 });
    let maxDiff = 0;
    for (let i = 0; i < one.length; i++) maxDiff = Math.max(maxDiff, Math.abs(one[i]! - two[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('activations are named views of one allocation sized by activationSizes', async () => {
    const model = loadModel(await tinyModel({ arch: 'llama' }));
    const lora = createLora(model.config, { rank: 2, alpha: 4, dropout: 0.1, targets: ['q', 'down'] });
    const acts = createActivations(model.config, 2, 5, lora);
    const sizes = activationSizes(model.config, 2, 5, lora);
    expect(acts.all.length).toBe(sizes.reduce((s, e) => s + e.size, 0));
    expect(acts.views.get('blk.1.att')!.length).toBe(2 * model.config.heads * 5 * 5);
    expect(acts.views.get('blk.0.lora.down.xd')!.length).toBe(10 * model.config.ff);
    expect(acts.views.has('blk.0.lora.k.h')).toBe(false);
    expect(acts.layers[1]!.q.buffer).toBe(acts.all.buffer);
    const g = createGradActivations(model.config, 2, 5, lora);
    expect(g.dlogits.length).toBe(10 * model.config.vocab);
    expect(() => forward(model, createActivations(model.config, 2, 5), new Int32Array(10), { lora })).toThrow(/rank 0, not 2/);
  });
});

describe('LoRA', () => {
  it('validates its options and computes the scale (alpha/r, rsLoRA alpha/sqrt r)', async () => {
    const c = loadModel(await tinyModel({ arch: 'llama' })).config;
    expect(() => createLora(c, { rank: 0, alpha: 1 })).toThrow(UsageError);
    expect(() => createLora(c, { rank: 2, alpha: 0 })).toThrow(/alpha/);
    expect(() => createLora(c, { rank: 2, alpha: 1, dropout: 1 })).toThrow(/dropout/);
    expect(() => createLora(c, { rank: 2, alpha: 1, targets: [] })).toThrow(/at least one/);
    expect(() => createLora(c, { rank: 2, alpha: 1, targets: ['qkv' as 'q'] })).toThrow(/unknown LoRA target "qkv"/);
    expect(createLora(c, { rank: 8, alpha: 16 }).scale).toBe(2);
    expect(createLora(c, { rank: 16, alpha: 8, rsLora: true }).scale).toBe(2);
    expect(loraScale(4, 4, false)).toBe(1);
  });

  it('A is kaiming-uniform U(-1/sqrt(in), 1/sqrt(in)) and seeded, B is zero, so a fresh adapter changes nothing', async () => {
    const model = loadModel(await tinyModel({ arch: 'qwen2', type: 'q8_0', initStd: 0.1 }));
    const lora = createLora(model.config, { rank: 8, alpha: 16, seed: 4 });
    expect(lora.modules.length).toBe(7 * model.config.layers);
    expect(lora.modules.map((m) => m.name).slice(0, 7)).toEqual(PROJECTIONS.map((p) => `blk.0.${{ q: 'attn_q', k: 'attn_k', v: 'attn_v', o: 'attn_output', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down' }[p]}`));
    for (const m of lora.modules) {
      const bound = 1 / Math.sqrt(m.inDim);
      let sq = 0;
      for (const a of m.A) {
        expect(Math.abs(a)).toBeLessThanOrEqual(bound);
        sq += a * a;
      }
      expect(Math.sqrt(sq / m.A.length)).toBeCloseTo(bound / Math.sqrt(3), 1);
      expect(m.B.every((b) => b === 0)).toBe(true);
    }
    expect(createLora(model.config, { rank: 8, alpha: 16, seed: 4 }).params).toEqual(lora.params);
    expect(createLora(model.config, { rank: 8, alpha: 16, seed: 5 }).params).not.toEqual(lora.params);
    const tokens = tokensFor(model, 12, 9);
    expect(logitsOf(model, tokens, 1, 12, { lora, training: true })).toEqual(logitsOf(model, tokens, 1, 12));
  });

  it('dropout masks drop about p of the inputs, depend on seed and module, and apply only in training', async () => {
    const p = 0.3;
    let kept = 0;
    let sameAcrossModules = 0;
    let sameAcrossSeeds = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const k = dropoutKeeps(1, 0, i, p);
      kept += k ? 1 : 0;
      sameAcrossModules += k === dropoutKeeps(1, 1, i, p) ? 1 : 0;
      sameAcrossSeeds += k === dropoutKeeps(2, 0, i, p) ? 1 : 0;
    }
    expect(kept / n).toBeGreaterThan(0.68);
    expect(kept / n).toBeLessThan(0.72);
    // Independent masks agree on about 0.7^2 + 0.3^2 = 58% of the elements.
    expect(sameAcrossModules / n).toBeLessThan(0.62);
    expect(sameAcrossSeeds / n).toBeLessThan(0.62);

    const model = loadModel(await tinyModel({ arch: 'llama', type: 'q8_0', initStd: 0.1 }));
    const lora = createLora(model.config, { rank: 4, alpha: 8, dropout: p, seed: 1 });
    for (const m of lora.modules) m.B.fill(0.05);
    const tokens = tokensFor(model, 8, 2);
    const evalA = logitsOf(model, tokens, 1, 8, { lora });
    const trainA = logitsOf(model, tokens, 1, 8, { lora, training: true, dropoutSeed: 1 });
    const trainA2 = logitsOf(model, tokens, 1, 8, { lora, training: true, dropoutSeed: 1 });
    const trainB = logitsOf(model, tokens, 1, 8, { lora, training: true, dropoutSeed: 2 });
    expect(trainA2).toEqual(trainA);
    expect(trainA).not.toEqual(evalA);
    expect(trainB).not.toEqual(trainA);
  });
});

describe('loss', () => {
  it('targets are the next tokens the mask marks as the assistant\'s; the loss averages over them', async () => {
    const tokens = Int32Array.from([10, 11, 12, 13, 20, 21, 22, 23]);
    const mask = Uint8Array.from([0, 0, 1, 1, 0, 1, 1, 0]);
    expect([...maskedTargets(tokens, mask, 2, 4)]).toEqual([IGNORE, 12, 13, IGNORE, 21, 22, IGNORE, IGNORE]);
    expect(() => maskedTargets(tokens, mask.subarray(1), 2, 4)).toThrow(/2x4/);

    const model = loadModel(await tinyModel({ arch: 'llama' }));
    const acts = createActivations(model.config, 2, 4);
    forward(model, acts, tokens);
    const g = createGradActivations(model.config, 2, 4);
    const r = crossEntropyLoss(acts, model.config.vocab, maskedTargets(tokens, mask, 2, 4), { dlogits: g.dlogits });
    expect(r.count).toBe(4);
    expect(r.loss).toBeCloseTo(r.sum / 4, 6);
    expect(r.loss).toBeGreaterThan(0);
    // Rows of positions that are not counted get no gradient; counted rows sum to zero.
    const V = model.config.vocab;
    expect(g.dlogits.subarray(0, V).every((x) => x === 0)).toBe(true);
    expect(Math.abs(g.dlogits.subarray(V, 2 * V).reduce((s, x) => s + x, 0))).toBeLessThan(1e-6);
    const none = crossEntropyLoss(acts, V, new Int32Array(8).fill(IGNORE), { dlogits: g.dlogits });
    expect(none).toEqual({ loss: 0, sum: 0, count: 0 });
    expect(g.dlogits.every((x) => x === 0)).toBe(true);
  });
});
