import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { getSharedLlama } from '../../src/runtime/llama.js';
import { LocalStudent } from '../../src/runtime/local-student.js';
import { PromptTooLongError } from '../../src/runtime/chat-types.js';
import { writeGgufLora, type LoraPair } from '../../src/engine/adapter/gguf-lora.js';
import { readGguf, readTensorBytes, readTensorF32 } from '../../src/engine/gguf/reader.js';
import { writeGguf } from '../../src/engine/gguf/writer.js';
import { gv } from '../../src/engine/gguf/metadata.js';
import { GgmlType } from '../../src/engine/gguf/types.js';
import { f32ArrayToBytes } from '../../src/engine/gguf/quant.js';
import { InputError } from '../../src/util/errors.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { tempDir } from '../helpers/cli.js';

let llama: Llama;
let llamaBase: string;
let qwenBase: string;
const tmp = tempDir('finesec-runtime-');

beforeAll(async () => {
  llama = await getSharedLlama();
  llamaBase = await tinyModel();
  qwenBase = await tinyModel({ arch: 'qwen2' });
});

afterAll(() => tmp.cleanup());

const question = [
  { role: 'system' as const, content: 'You review C code.' },
  { role: 'user' as const, content: 'char b[4]; strcpy(b, input);' },
];

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

const modules = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];

/** A random adapter (A and B both nonzero) for every projection of `basePath`. */
function randomAdapter(basePath: string, out: string, options: { seed: number; rank?: number; alpha?: number; architecture?: string }): LoraPair[] {
  const base = readGguf(basePath);
  const rank = options.rank ?? 4;
  const rand = random(options.seed);
  const pairs: LoraPair[] = base.tensors
    .filter((t) => modules.some((m) => t.name.endsWith(`.${m}.weight`)))
    .map((t) => {
      const [inFeatures, outFeatures] = t.dims as [number, number];
      return {
        target: t.name,
        rank,
        inFeatures,
        outFeatures,
        a: Float32Array.from({ length: rank * inFeatures }, () => rand()),
        b: Float32Array.from({ length: outFeatures * rank }, () => rand()),
      };
    });
  const arch = options.architecture ?? String(base.metadata.get('general.architecture')!.value);
  writeGgufLora(out, { architecture: arch, alpha: options.alpha ?? rank, pairs });
  return pairs;
}

/** The base with W + scale * (alpha / rank) * B A folded in, as a plain model file. */
function mergedModel(basePath: string, pairs: LoraPair[], scale: number, alpha: number, out: string): void {
  const base = readGguf(basePath);
  const byTarget = new Map(pairs.map((p) => [p.target, p]));
  const tensors = base.tensors.map((t) => {
    const values = readTensorF32(base, t);
    const p = byTarget.get(t.name);
    if (p) {
      const s = (scale * alpha) / p.rank;
      // W is stored [out][in] row-major (ggml dims [in, out]); delta[o][i] = sum_r B[o][r] A[r][i].
      for (let o = 0; o < p.outFeatures; o++) {
        for (let i = 0; i < p.inFeatures; i++) {
          let sum = 0;
          for (let r = 0; r < p.rank; r++) sum += p.b[o * p.rank + r]! * p.a[r * p.inFeatures + i]!;
          values[o * p.inFeatures + i] = values[o * p.inFeatures + i]! + s * sum;
        }
      }
    }
    return { name: t.name, dims: t.dims, type: GgmlType.F32, data: f32ArrayToBytes(values) };
  });
  writeGguf(out, { metadata: base.metadata, tensors });
}

async function greedy(student: LocalStudent, maxTokens = 24): Promise<string> {
  return (await student.complete({ messages: question, maxTokens })).text;
}

describe('LocalStudent: tiny models through node-llama-cpp', () => {
  it('loads llama and qwen2 models, formats chats with their ChatML template and generates', async () => {
    for (const model of [llamaBase, qwenBase]) {
      const student = await LocalStudent.load({ model, llama, contextSize: 512 });
      try {
        expect(student.chatFormat).toBe('ChatML');
        expect(student.contextSize).toBeGreaterThanOrEqual(512);
        const text = 'int main(void) { return 0; } // é 长';
        expect(student.detokenize(student.tokenize(text))).toBe(text);
        const prompt = student.detokenize(student.promptTokens(question), true);
        expect(prompt).toContain('<|im_start|>system\nYou review C code.<|im_end|>');
        expect(prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
        const a = await student.complete({ messages: question, maxTokens: 16 });
        expect(a.usage.completionTokens).toBeGreaterThan(0);
        expect(a.usage.promptTokens).toBe(student.countPromptTokens(question));
        expect(await greedy(student, 16)).toBe(a.text);
        const s1 = await student.complete({ messages: question, maxTokens: 16, temperature: 1, seed: 11 });
        const s2 = await student.complete({ messages: question, maxTokens: 16, temperature: 1, seed: 11 });
        expect(s2.text).toBe(s1.text);
      } finally {
        await student.close();
      }
    }
  });

  it('applies a LoRA adapter exactly as the merged weights, and scale 0 gives the base output', async () => {
    const adapter = join(tmp.dir, 'random.lora.gguf');
    const pairs = randomAdapter(llamaBase, adapter, { seed: 5, rank: 4, alpha: 8 });
    const merged = join(tmp.dir, 'merged.gguf');
    mergedModel(llamaBase, pairs, 0.5, 8, merged);

    const base = await LocalStudent.load({ model: llamaBase, llama, contextSize: 512 });
    const adapted = await LocalStudent.load({ model: llamaBase, llama, contextSize: 512, adapters: [{ path: adapter, scale: 0.5 }] });
    const off = await LocalStudent.load({ model: llamaBase, llama, contextSize: 512, adapters: [{ path: adapter, scale: 0 }] });
    const folded = await LocalStudent.load({ model: merged, llama, contextSize: 512 });
    try {
      const baseText = await greedy(base);
      expect(await greedy(adapted)).not.toBe(baseText);
      expect(await greedy(off)).toBe(baseText);
      expect(await greedy(folded)).toBe(await greedy(adapted));

      const tokens = base.promptTokens(question);
      const p = {
        base: await base.nextTokenProbabilities(tokens),
        adapted: await adapted.nextTokenProbabilities(tokens),
        folded: await folded.nextTokenProbabilities(tokens),
      };
      const maxDiff = (x: Map<number, number>, y: Map<number, number>): number =>
        Math.max(...[...x.keys(), ...y.keys()].map((t) => Math.abs((x.get(t) ?? 0) - (y.get(t) ?? 0))));
      // llama.cpp computes W x + s B (A x) for the adapter and W' x for the folded model: the same
      // function up to float rounding. Against the base the adapter moves the distribution a lot.
      const folding = maxDiff(p.adapted, p.folded);
      expect(folding).toBeLessThan(1e-3);
      expect(maxDiff(p.adapted, p.base)).toBeGreaterThan(50 * Math.max(folding, 1e-5));
    } finally {
      await Promise.all([base.close(), adapted.close(), off.close(), folded.close()]);
    }
  });

  it('refuses an adapter made for another base with one line naming the file and the mismatch', async () => {
    const qwenAdapter = join(tmp.dir, 'qwen.lora.gguf');
    randomAdapter(qwenBase, qwenAdapter, { seed: 1 });
    const wide = await tinyModel({ embd: 96, heads: 4, kvHeads: 2 });
    const wideAdapter = join(tmp.dir, 'wide.lora.gguf');
    randomAdapter(wide, wideAdapter, { seed: 2 });

    const failure = async (adapterPath: string): Promise<string> => {
      const err = await LocalStudent.load({ model: llamaBase, llama, contextSize: 256, adapters: [{ path: adapterPath }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      const message = (err as Error).message;
      expect(message).not.toContain('\n');
      expect(message.startsWith(`${adapterPath}: `)).toBe(true);
      return message;
    };
    expect(await failure(qwenAdapter)).toMatch(/adapter architecture qwen2, base llama \(wrong base model\?\)/);
    expect(await failure(wideAdapter)).toMatch(/blk\.0\.attn_q\.weight is 64->64 in the base but the adapter expects 96->96/);
    expect(await failure(llamaBase)).toMatch(/not a LoRA adapter \(general\.type is missing/);
  });

  it('refuses truncated, corrupt and unknown-architecture models with the file named', async () => {
    const bytes = readFileSync(llamaBase);
    const truncated = join(tmp.dir, 'truncated.gguf');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const junk = join(tmp.dir, 'junk.gguf');
    writeFileSync(junk, 'not a model at all');
    const alien = join(tmp.dir, 'alien.gguf');
    const file = readGguf(llamaBase);
    const metadata = new Map(file.metadata);
    metadata.set('general.architecture', gv.str('zorblax'));
    for (const [k, v] of file.metadata) if (k.startsWith('llama.')) metadata.set(`zorblax.${k.slice(6)}`, v);
    writeGguf(alien, { metadata, tensors: file.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: () => readTensorBytes(file, t) })) });

    for (const [path, pattern] of [
      [truncated, /truncated/i],
      [junk, /not a GGUF file/],
      [alien, /unknown model architecture: 'zorblax'/],
    ] as const) {
      const err = await LocalStudent.load({ model: path, llama, contextSize: 256 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message.startsWith(path)).toBe(true);
      expect((err as Error).message).toMatch(pattern);
    }
  });

  it('keeps every character a grammar counted: control tokens cannot hide inside JSON strings', async () => {
    // Before control tokens were banned under grammars, seed 1 put <|im_start|> inside this string:
    // the grammar counted its 12 characters, the response dropped them, and the string came out short.
    const student = await LocalStudent.load({ model: llamaBase, llama, contextSize: 512 });
    try {
      const schema = { type: 'string', minLength: 300, maxLength: 300 };
      for (let seed = 1; seed <= 6; seed++) {
        const r = await student.complete({
          messages: [{ role: 'user', content: 'hi' }],
          maxTokens: 500,
          temperature: 1,
          seed,
          responseFormat: { type: 'json_schema', name: 's', schema },
        });
        const value = JSON.parse(r.text) as string;
        // 300 grammar characters decode to 300..1200 UTF-16 units (see report-schema.ts).
        expect(value.length).toBeGreaterThanOrEqual(300);
        expect(value.length).toBeLessThanOrEqual(1200);
        expect(value).not.toContain('<|im_');
      }
    } finally {
      await student.close();
    }
  });

  it('does not stop or cut the JSON when a string holds a stop trigger\'s text', async () => {
    const student = await LocalStudent.load({ model: llamaBase, llama, contextSize: 512 });
    try {
      // The grammar forces the literal text; ChatML's chat format stops on the text "<|im_end|>".
      const schema = { type: 'object', properties: { a: { const: 'x <|im_end|> <think> y' }, b: { type: 'string', maxLength: 5 } } };
      const r = await student.complete({ messages: question, maxTokens: 100, responseFormat: { type: 'json_schema', name: 's', schema } });
      expect(r.finishReason).toBe('stop');
      expect((JSON.parse(r.text) as { a: string }).a).toBe('x <|im_end|> <think> y');
    } finally {
      await student.close();
    }
  });

  it('rejects a prompt longer than the context, and reports max tokens as finish reason length', async () => {
    const student = await LocalStudent.load({ model: llamaBase, llama, contextSize: 256 });
    try {
      const long = [{ role: 'user' as const, content: 'memcpy(dst, src, n); '.repeat(200) }];
      const err = await student.complete({ messages: long }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PromptTooLongError);
      expect((err as PromptTooLongError).contextSize).toBe(256);
      expect((err as Error).message).toMatch(/^prompt is \d+ tokens but the context holds 256/);

      const cut = await student.complete({
        messages: question,
        maxTokens: 6,
        responseFormat: { type: 'json_schema', name: 'x', schema: { type: 'object', properties: { a: { type: 'string' } } } },
      });
      expect(cut.finishReason).toBe('length');
      expect(cut.usage.completionTokens).toBe(6);
      expect(() => JSON.parse(cut.text)).toThrow();
    } finally {
      await student.close();
    }
  });
});
