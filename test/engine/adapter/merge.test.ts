/**
 * `finesec adapters merge`: the merged model, run by llama.cpp with no adapter, gives the logits
 * llama.cpp gives for base + adapter. With --type f32 on an F32 base the only difference is
 * f32 rounding order (W x + s B(A x) vs (W + s B A) x); with Q8_0 the merged weights are
 * re-quantised, so that comparison has a quantisation-sized tolerance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { adapterFromEngine, readAdapterGguf, writeAdapterGguf } from '../../../src/engine/adapter/lora-file.js';
import { readGguf, readTensorBytes, readTensorF32 } from '../../../src/engine/gguf/reader.js';
import { quantizeQ8_0 } from '../../../src/engine/gguf/quant.js';
import { GgmlType } from '../../../src/engine/gguf/types.js';
import { modelConfig } from '../../../src/engine/model/config.js';
import { createLora } from '../../../src/engine/model/lora.js';
import { mulberry32 } from '../../../src/util/random.js';
import { runCli, tempDir } from '../../helpers/cli.js';
import { tinyModel } from '../../helpers/tiny-model.js';
import { agreement, llamaLogProbs } from './llama-logits.js';

const tmp = tempDir('finesec-merge-');
let llama: Llama;
const T = 32;
const TEXT = 'static int copy_name(char *dst, const char *src)\n{\n    char buf[16];\n    strcpy(buf, src);\n    return 0;\n}\n{"verdict":"vulnerable"}';

beforeAll(async () => {
  llama = await getLlama({ gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.error });
});
afterAll(async () => {
  await llama.dispose();
  tmp.cleanup();
});

function writeRandomAdapter(basePath: string, path: string): void {
  const c = modelConfig(readGguf(basePath));
  const lora = createLora(c, { rank: 4, alpha: 8, seed: 5, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] });
  const rand = mulberry32(17);
  for (const m of lora.modules) for (let i = 0; i < m.B.length; i++) m.B[i] = (rand() - 0.5) * 0.4;
  writeAdapterGguf(path, adapterFromEngine(lora, c.arch));
}

async function compareMerged(basePath: string, adapterPath: string, mergedPath: string): Promise<{ merged: ReturnType<typeof agreement>; base: ReturnType<typeof agreement> }> {
  const baseModel = await llama.loadModel({ modelPath: basePath, gpuLayers: 0 });
  const mergedModel = await llama.loadModel({ modelPath: mergedPath, gpuLayers: 0 });
  try {
    const tokens = baseModel.tokenize(TEXT).map(Number).slice(0, T);
    const reference = await llamaLogProbs(llama, baseModel, tokens, [{ filePath: adapterPath }]);
    const merged = await llamaLogProbs(llama, mergedModel, tokens);
    const plain = await llamaLogProbs(llama, baseModel, tokens);
    return { merged: agreement(merged, reference), base: agreement(plain, reference) };
  } finally {
    await baseModel.dispose();
    await mergedModel.dispose();
  }
}

async function merge(args: string[]): Promise<{ code: number; json: Record<string, any> }> {
  const r = await runCli(['adapters', 'merge', '--json', '--quiet', '--workspace', join(tmp.dir, 'ws'), ...args]);
  return { code: r.code, json: JSON.parse(r.stdout) as Record<string, any> };
}

describe('finesec adapters merge', () => {
  for (const arch of ['llama', 'qwen2'] as const) {
    it(`${arch} F32 base, --type f32: merged model = base + adapter (relative L2 <= 1e-5)`, async () => {
      const base = await tinyModel({ arch, type: 'f32', initStd: 0.15, seed: 3 });
      const adapter = join(tmp.dir, `${arch}-a.gguf`);
      writeRandomAdapter(base, adapter);
      const out = join(tmp.dir, `${arch}-merged-f32.gguf`);
      const r = await merge(['--base', base, '--lora', adapter, '--out', out, '--type', 'f32']);
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ merged: 14, outputType: 'f32' });
      const m = await compareMerged(base, adapter, out);
      console.log(`merge ${arch} f32: merged vs base+adapter relL2 ${m.merged.relL2.toExponential(2)} (base alone ${m.base.relL2.toFixed(3)})`);
      expect(m.base.relL2).toBeGreaterThan(0.1);
      expect(m.merged.relL2).toBeLessThanOrEqual(1e-5);
      expect(m.merged.top1).toBe(1);
    });
  }

  it('Q8_0 base, default --type q8_0: a Q8_0 model within re-quantisation error of base + adapter', async () => {
    const base = await tinyModel({ arch: 'llama', type: 'q8_0', initStd: 0.15, seed: 3 });
    const adapter = join(tmp.dir, 'q8-a.gguf');
    writeRandomAdapter(base, adapter);
    const out = join(tmp.dir, 'q8-merged.gguf');
    const r = await merge(['--base', base, '--lora', adapter, '--out', out]);
    expect(r.code).toBe(0);
    const merged = readGguf(out);
    expect(merged.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!.type).toBe(GgmlType.Q8_0);
    expect(merged.tensors.find((t) => t.name === 'blk.0.attn_norm.weight')!.type).toBe(GgmlType.F32);
    expect(merged.metadata.get('tokenizer.chat_template')).toEqual(readGguf(base).metadata.get('tokenizer.chat_template'));
    const m = await compareMerged(base, adapter, out);
    console.log(`merge llama q8_0: merged vs base+adapter relL2 ${m.merged.relL2.toExponential(2)}, top-1 ${(m.merged.top1 * 100).toFixed(1)}% (base alone ${m.base.relL2.toFixed(3)})`);
    // Measured 3.5e-2..4e-2 for any non-zero adapter on this random model: two Q8_0 roundings of
    // nearly equal weights (a zero adapter merges back to the identical Q8_0 blocks).
    expect(m.merged.relL2).toBeLessThanOrEqual(0.06);
    expect(m.merged.relL2).toBeLessThan(m.base.relL2 / 10);
    expect(m.merged.top1).toBeGreaterThanOrEqual(0.85);

    // The merged blocks are exactly quantize(dequantize(W) + alpha/r * B·A), computed here naively.
    const a = readAdapterGguf(adapter);
    const pair = a.pairs.find((p) => p.target === 'blk.1.ffn_down.weight')!;
    const baseFile = readGguf(base);
    const w = readTensorF32(baseFile, baseFile.tensors.find((t) => t.name === pair.target)!);
    const scale = a.alpha / pair.rank;
    for (let o = 0; o < pair.outFeatures; o++) {
      for (let i = 0; i < pair.inFeatures; i++) {
        let dot = 0;
        for (let r = 0; r < pair.rank; r++) dot += pair.b[o * pair.rank + r]! * pair.a[r * pair.inFeatures + i]!;
        w[o * pair.inFeatures + i] = Math.fround(w[o * pair.inFeatures + i]! + scale * dot);
      }
    }
    const mergedBytes = readTensorBytes(merged, merged.tensors.find((t) => t.name === pair.target)!);
    const want = quantizeQ8_0(w);
    let differing = 0;
    for (let i = 0; i < want.length; i++) if (want[i] !== mergedBytes[i]) differing++;
    // f32 summation order may flip a rounding in a rare block: allow a handful of bytes.
    expect(differing).toBeLessThanOrEqual(4);
  });

  it('refuses an adapter made for another base ("wrong base model?") and writes nothing', async () => {
    const base = await tinyModel({ arch: 'llama', type: 'f32', initStd: 0.15, seed: 3 });
    const adapter = join(tmp.dir, 'other-a.gguf');
    writeRandomAdapter(base, adapter);
    const other = await tinyModel({ arch: 'llama', type: 'f32', embd: 128, ff: 256 });
    const out = join(tmp.dir, 'never.gguf');
    const r = await merge(['--base', other, '--lora', adapter, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/other-a\.gguf: adapter does not fit base .*: blk\.0\.attn_q\.weight is 128->128 in the base but the adapter expects 64->64 \(wrong base model\?\)$/);
    const qwen = await tinyModel({ arch: 'qwen2', type: 'f32' });
    expect((await merge(['--base', qwen, '--lora', adapter, '--out', out])).json.error.message).toContain('adapter architecture llama, base qwen2 (wrong base model?)');
    const swapped = await merge(['--base', adapter, '--lora', base, '--out', out]);
    expect(swapped.json.error.message).toContain('this is a LoRA adapter, not a base model');
  });
});
