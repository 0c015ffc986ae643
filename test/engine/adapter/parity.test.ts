/**
 * An adapter the engine writes, loaded by llama.cpp (node-llama-cpp) onto its base, gives the
 * engine's own logits for the base plus that adapter, within the forward-parity tolerances of
 * test/engine/model-parity.test.ts (F32 1e-5, Q8_0 with quantised activations 1e-4 relative L2),
 * for llama and qwen2, plain and rsLoRA. The adapter is far from zero (random A and B), so it
 * moves the logits much more than the tolerance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from 'node-llama-cpp';
import { createActivations, forward } from '../../../src/engine/model/forward.js';
import { createLora, type LoraTarget } from '../../../src/engine/model/lora.js';
import { loadModel } from '../../../src/engine/model/weights.js';
import { adapterFromEngine, engineLoraFromAdapter, readAdapterGguf, writeAdapterGguf } from '../../../src/engine/adapter/lora-file.js';
import { mulberry32 } from '../../../src/util/random.js';
import { tempDir } from '../../helpers/cli.js';
import { tinyModel } from '../../helpers/tiny-model.js';
import { agreement, llamaLogProbs } from './llama-logits.js';

const TOLERANCE = { f32: 1e-5, q8_0: 1e-4 } as const;
const T = 32;
const TEXT = 'static int copy_name(char *dst, const char *src)\n{\n    char buf[16];\n    strcpy(buf, src);\n    return 0;\n}\n{"verdict":"vulnerable"}';

const tmp = tempDir('finesec-adapter-parity-');
let llama: Llama;
const loaded: LlamaModel[] = [];

beforeAll(async () => {
  llama = await getLlama({ gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.error });
});

afterAll(async () => {
  for (const m of loaded) await m.dispose();
  await llama.dispose();
  tmp.cleanup();
});

interface Case {
  arch: 'llama' | 'qwen2';
  type: 'f32' | 'q8_0';
  rsLora: boolean;
  targets: LoraTarget[];
}

const CASES: Case[] = [
  { arch: 'llama', type: 'f32', rsLora: false, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
  { arch: 'llama', type: 'q8_0', rsLora: true, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
  { arch: 'qwen2', type: 'f32', rsLora: true, targets: ['q', 'v', 'down'] },
  { arch: 'qwen2', type: 'q8_0', rsLora: false, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
];

describe('GGUF LoRA exported by the engine, in llama.cpp', () => {
  for (const c of CASES) {
    it(`${c.arch} ${c.type}${c.rsLora ? ' rsLoRA' : ''} (${c.targets.join(',')}): llama.cpp logits = engine logits within ${TOLERANCE[c.type]}`, async () => {
      const basePath = await tinyModel({ arch: c.arch, type: c.type, initStd: 0.15, seed: 3 });
      const model = loadModel(basePath, { quantize: c.type === 'q8_0' });
      const lora = createLora(model.config, { rank: 4, alpha: 6, rsLora: c.rsLora, targets: c.targets, seed: 9 });
      const rand = mulberry32(21);
      for (const m of lora.modules) for (let i = 0; i < m.B.length; i++) m.B[i] = (rand() * 2 - 1) * 0.3;
      const adapterPath = join(tmp.dir, `${c.arch}-${c.type}-${c.rsLora}.gguf`);
      writeAdapterGguf(adapterPath, adapterFromEngine(lora, model.config.arch));

      const lm = await llama.loadModel({ modelPath: basePath, gpuLayers: 0 });
      loaded.push(lm);
      const tokens = lm.tokenize(TEXT).map(Number).slice(0, T);
      expect(tokens).toHaveLength(T);
      const withAdapter = await llamaLogProbs(llama, lm, tokens, [{ filePath: adapterPath }]);
      const without = await llamaLogProbs(llama, lm, tokens);

      // The engine, with the adapter read back from the file.
      const reloaded = engineLoraFromAdapter(model, readAdapterGguf(adapterPath), adapterPath);
      expect(reloaded.scale).toBeCloseTo(lora.scale, 6);
      const acts = createActivations(model.config, 1, T, reloaded);
      const logits = forward(model, acts, Int32Array.from(tokens), { lora: reloaded, quantizeActivations: c.type === 'q8_0' });
      const V = model.config.vocab;
      const rows = Array.from({ length: T }, (_, i) => logits.subarray(i * V, (i + 1) * V));

      const a = agreement(rows, withAdapter);
      const moved = agreement(without, withAdapter);
      console.log(`adapter parity ${c.arch} ${c.type}${c.rsLora ? ' rsLoRA' : ''}: relL2 ${a.relL2.toExponential(2)}, top-1 ${(a.top1 * 100).toFixed(1)}%; adapter moves llama.cpp's logits by relL2 ${moved.relL2.toFixed(3)}`);
      expect(moved.relL2).toBeGreaterThan(1000 * TOLERANCE[c.type]);
      expect(a.relL2).toBeLessThanOrEqual(TOLERANCE[c.type]);
      expect(a.top1).toBeGreaterThanOrEqual(c.type === 'f32' ? 1 : 0.99);
    });
  }
});
