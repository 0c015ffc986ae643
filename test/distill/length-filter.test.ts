import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { LlamaModel } from 'node-llama-cpp';
import { loadConfig } from '../../src/config/load.js';
import { distill, type DistillOptions, type DistillSummary } from '../../src/distill/distill.js';
import { TokenCounter } from '../../src/distill/length-filter.js';
import { readExamples } from '../../src/distill/read-examples.js';
import { DISTILL_TASKS, type ExampleLine } from '../../src/distill/types.js';
import { getSharedLlama } from '../../src/runtime/llama.js';
import { UsageError } from '../../src/util/errors.js';
import { SilentLogger } from '../../src/util/log.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { synthWorkspace, withDbAsync, type DistillFixture } from './fixtures.js';

let fx: DistillFixture;
let base: string;
let model: LlamaModel;
let n = 0;

beforeAll(async () => {
  fx = await synthWorkspace({ count: 24, seed: 3 });
  base = await tinyModel();
  model = await (await getSharedLlama()).loadModel({ modelPath: base, gpuLayers: 0 });
}, 120_000);
afterAll(async () => {
  await model?.dispose();
  fx?.cleanup();
});

async function run(patch: Partial<DistillOptions>): Promise<{ summary: DistillSummary; examples: ExampleLine[] }> {
  const out = join(fx.dir, `len-${n++}.jsonl`);
  const summary = await withDbAsync(fx.kb, (db) =>
    distill(
      { dataset: 'syn', split: 'train', out, tasks: [...DISTILL_TASKS], curriculum: false, seed: 1, evalDatasets: [], force: true, ...patch },
      { db, config: loadConfig(join(fx.workspace, 'finesec.yaml')), logger: new SilentLogger() },
    ),
  );
  return { summary, examples: (await readExamples(out)).examples as unknown as ExampleLine[] };
}

/** BOS, then ChatML written by hand up to the answer's <|im_end|>, tokenized by llama.cpp with special tokens. */
function chatmlTokens(e: ExampleLine): number {
  const text = e.messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>`).join('\n');
  return 1 + model.tokenize(text, true).length;
}

describe('length filter with the base model\'s tokenizer', () => {
  it('counts every example under the base model\'s chat template', async () => {
    const { summary, examples } = await run({ base });
    expect(summary.length).toMatchObject({ chatFormat: 'ChatML', maxTokens: loadConfig(join(fx.workspace, 'finesec.yaml')).train.seq_len });
    for (const e of examples) {
      expect(e.tokens).not.toBeNull();
      // The counter goes through node-llama-cpp's template; the hand-written ChatML gives the same count.
      expect(e.tokens).toBe(chatmlTokens(e));
      expect(e.tokens!).toBeGreaterThan(model.tokenize(e.messages[2]!.content).length);
    }
    expect(summary.figures.tokens).toMatchObject({ counted: examples.length, max: Math.max(...examples.map((e) => e.tokens!)) });
  });

  it('drops and counts examples over --max-tokens', async () => {
    const all = await run({ base, maxTokens: 1_000_000 });
    expect(all.summary.length!.dropped).toBe(0);
    const sorted = all.examples.map((e) => e.tokens!).sort((a, b) => a - b);
    const limit = sorted[Math.floor(sorted.length / 2)]!;
    const over = all.examples.filter((e) => e.tokens! > limit);
    expect(over.length).toBeGreaterThan(0);
    const { summary, examples } = await run({ base, maxTokens: limit });
    expect(summary.length!.dropped).toBe(over.length);
    expect(summary.written).toBe(all.examples.length - over.length);
    expect(examples.every((e) => e.tokens! <= limit)).toBe(true);
    expect(new Set(examples.map((e) => e.id))).toEqual(new Set(all.examples.filter((e) => e.tokens! <= limit).map((e) => e.id)));
  });

  it('needs --base for --max-tokens, and says which base file is missing', async () => {
    await expect(run({ maxTokens: 100 })).rejects.toThrow(UsageError);
    await expect(run({ base: join(fx.dir, 'missing.gguf') })).rejects.toThrow(/missing\.gguf: no such file/);
  });

  it('TokenCounter counts plain text exactly as the model tokenizes it', async () => {
    const counter = await TokenCounter.load(base);
    try {
      const text = 'char buf[16];\nstrcpy(buf, src);';
      expect(counter.countText(text)).toBe(model.tokenize(text).length);
    } finally {
      await counter.close();
    }
  });
});
