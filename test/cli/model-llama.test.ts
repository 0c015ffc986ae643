/**
 * Models written by `finesec model init` / `model quantize`, loaded by llama.cpp through
 * node-llama-cpp 3.21.1 (CPU, 1 thread): they load, tokenize exactly like our tokenizer,
 * generate, and the Q8_0 model's next-token distribution stays close to the F32 model's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { getLlama, LlamaChatSession, LlamaCompletion, LlamaLogLevel, ChatMLChatWrapper, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import { runCli, tempDir } from '../helpers/cli.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { readGguf, readTensorF32 } from '../../src/engine/gguf/reader.js';
import { writeGguf } from '../../src/engine/gguf/writer.js';
import { f32ArrayToBytes } from '../../src/engine/gguf/quant.js';
import { GgmlType, LlamaFileType } from '../../src/engine/gguf/types.js';
import { gv } from '../../src/engine/gguf/metadata.js';
import { vocabFromGgufMetadata, chatmlIds } from '../../src/tokenizer/vocab.js';
import { BpeTokenizer } from '../../src/tokenizer/bpe-tokenizer.js';

const tmp = tempDir('finesec-model-llama-');
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

async function load(path: string): Promise<LlamaModel> {
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  loaded.push(model);
  return model;
}

function ourTokenizer(path: string): BpeTokenizer {
  return new BpeTokenizer(vocabFromGgufMetadata(readGguf(path).metadata, path));
}

const FIXED_TEXTS = [
  'static int copy_name(char *dst, const char *src)\n{\n    char buf[16];\n    strcpy(buf, src);\n    return 0;\n}\n',
  '{"verdict":"vulnerable","findings":[{"cwe":"CWE-121","location":{"function":"copy_name","lines":[3,4]}}]}',
  "héllo wörld 日本語テキスト 😀👍 it's I'LL don't we've\r\n\r\n  x  \t\ty",
  '\u0085 \u00a0 a\u2028b \uFEFFc 123456 ...!!! \t\t\n\n\n   ',
  '<|im_start|>user\nIs this safe?<|im_end|>\n<|im_start|>assistant\n',
  '<|endoftext|><|im_end|>',
  '\u0000\u0001\u001f\u007f',
];

/** Random strings over pieces that stress the pre-tokenizer's edge cases. */
function randomTexts(count: number, seed: number): string[] {
  const pieces = [
    'a', 'Z', 'é', 'ß', '日', 'ア', '😀', ' ', '  ', '\n', '\r\n', '\r', '\t', '\u0085', '\u00a0', '\uFEFF', '\u2028', '\u3000',
    "'s", "'LL", "'", "'re", '1', '23', '٣', '½', '(', ');', '{', '}', '"', '_', '-', '=', '==', '->', '/*', '*/', '#',
    '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|', '|>', 'int', ' main', 'strcpy', 'buf', '\u0000', '\u007f', '\u0301',
  ];
  let s = seed >>> 0;
  const rand = (n: number): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n);
  return Array.from({ length: count }, () => Array.from({ length: 1 + rand(24) }, () => pieces[rand(pieces.length)]).join(''));
}

for (const arch of ['llama', 'qwen2'] as const) {
  describe(`${arch} model from model init, loaded in node-llama-cpp`, () => {
    let path: string;
    let model: LlamaModel;
    let ours: BpeTokenizer;

    beforeAll(async () => {
      path = await tinyModel({ arch });
      model = await load(path);
      ours = ourTokenizer(path);
    });

    it('loads with the hparams and special tokens it was written with', () => {
      expect(model.trainContextSize).toBe(2048);
      expect(model.fileInfo.metadata.general.architecture).toBe(arch);
      const ids = chatmlIds(ours.vocab);
      expect(model.tokens.eos).toBe(ids.imEnd);
      expect(model.tokens.bos).toBe(ids.endoftext);
      expect(model.tokens.shouldPrependBosToken).toBe(false);
      expect(model.isSpecialToken(ids.imStart as Token)).toBe(true);
      expect(model.isEogToken(ids.imEnd as Token)).toBe(true);
    });

    it('tokenizes exactly like our tokenizer, with and without special tokens, and round-trips', () => {
      const texts = [...FIXED_TEXTS, ...randomTexts(300, arch === 'llama' ? 1 : 2)];
      for (const text of texts) {
        const theirs = model.tokenize(text, false);
        expect(ours.encode(text), JSON.stringify(text)).toEqual(theirs);
        expect(ours.encode(text, { special: true }), JSON.stringify(text)).toEqual(model.tokenize(text, true));
        expect(model.detokenize(theirs), JSON.stringify(text)).toBe(text);
        expect(ours.decode(theirs)).toBe(text);
      }
      const chat = FIXED_TEXTS[4]!;
      const ids = model.tokenize(chat, true);
      expect(ids[0]).toBe(chatmlIds(ours.vocab).imStart);
      expect(model.detokenize(ids, true)).toBe(chat);
    });

    it('generates greedily and deterministically', async () => {
      const context = await model.createContext({ contextSize: 256, threads: 1 });
      try {
        const sequence = context.getSequence();
        const completion = new LlamaCompletion({ contextSequence: sequence });
        const prompt = 'static int copy_name(char *dst';
        const a = await completion.generateCompletionWithMeta(prompt, { maxTokens: 12, temperature: 0 });
        await sequence.clearHistory();
        const b = await completion.generateCompletionWithMeta(prompt, { maxTokens: 12, temperature: 0 });
        expect(b.response).toBe(a.response);
        expect(['maxTokens', 'eogToken']).toContain(a.metadata.stopReason);
      } finally {
        await context.dispose();
      }
    });

    it('is recognised as ChatML and answers in a chat session', async () => {
      const context = await model.createContext({ contextSize: 2048, threads: 1 });
      try {
        const session = new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: 'You review C code.' });
        expect(session.chatWrapper).toBeInstanceOf(ChatMLChatWrapper);
        const answer = await session.prompt('Is strcpy safe?', { maxTokens: 8, temperature: 0 });
        expect(typeof answer).toBe('string');
      } finally {
        await context.dispose();
      }
    });
  });
}

/**
 * Next-token log-probabilities at every position of a prompt. node-llama-cpp exposes no raw
 * logits, but controlledEvaluate's `probabilities` is the softmax of the raw logits over the
 * whole vocabulary when no sampling option truncates it (greedy), so ln(p) = logit - logsumexp.
 */
async function logProbs(model: LlamaModel, tokens: Token[]): Promise<Float64Array[]> {
  const context = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const results = await context.getSequence().controlledEvaluate(tokens.map((t) => [t, { generateNext: { probabilities: true } }]));
    return results.map((r) => {
      const out = new Float64Array(r!.next.probabilities!.size);
      for (const [token, p] of r!.next.probabilities!) out[token] = Math.log(p);
      return out;
    });
  } finally {
    await context.dispose();
  }
}

function diffs(a: Float64Array[], b: Float64Array[]): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  let n = 0;
  a.forEach((row, i) =>
    row.forEach((x, j) => {
      const d = Math.abs(x - b[i]![j]!);
      max = Math.max(max, d);
      sum += d;
      n++;
    }),
  );
  return { max, mean: sum / n };
}

/** Spread of the log-probabilities (mean over positions of their standard deviation), for scale. */
function spread(rows: Float64Array[]): number {
  let total = 0;
  for (const row of rows) {
    const mean = row.reduce((s, x) => s + x, 0) / row.length;
    total += Math.sqrt(row.reduce((s, x) => s + (x - mean) ** 2, 0) / row.length);
  }
  return total / rows.length;
}

describe('other model init variants load and evaluate', () => {
  it('tied output, F16 and Q8_0 weights, a head size that is not a power of two', async () => {
    const variants = [
      { arch: 'llama', tied: true },
      { arch: 'qwen2', tied: true, type: 'q8_0' },
      { arch: 'llama', type: 'f16' },
      { arch: 'qwen2', embd: 96, heads: 4, kvHeads: 1, ff: 160 },
    ] as const;
    for (const v of variants) {
      const model = await load(await tinyModel(v));
      const rows = await logProbs(model, model.tokenize('int x = 1;'));
      expect(rows).toHaveLength(model.tokenize('int x = 1;').length);
      for (const row of rows) expect(row.every(Number.isFinite), JSON.stringify(v)).toBe(true);
    }
  });
});

describe('Q8_0 from model quantize, against the F32 model in llama.cpp', () => {
  for (const arch of ['llama', 'qwen2'] as const) {
    it(`${arch}: next-token log-probabilities stay close to F32 at every position`, async () => {
      const f32Path = await tinyModel({ arch });
      const q8Path = join(tmp.dir, `${arch}-q8.gguf`);
      expect((await runCli(['model', 'quantize', f32Path, '--out', q8Path, '--quiet'])).code).toBe(0);

      // The F32 model with the Q8_0 weights dequantised has exactly the Q8_0 model's weights, so
      // what remains between the two is llama.cpp quantising activations in its Q8_0 matmuls.
      const q8File = readGguf(q8Path);
      const dequantPath = join(tmp.dir, `${arch}-dequantised.gguf`);
      const metadata = new Map(q8File.metadata);
      metadata.set('general.file_type', gv.u32(LlamaFileType.ALL_F32));
      metadata.delete('general.quantization_version');
      writeGguf(dequantPath, {
        metadata,
        tensors: q8File.tensors.map((t) => ({ name: t.name, dims: t.dims, type: GgmlType.F32, data: () => f32ArrayToBytes(readTensorF32(q8File, t)) })),
      });

      const f32Model = await load(f32Path);
      const tokens = f32Model.tokenize('static int copy_name(char *dst, const char *src)\n{\n    char buf[16];\n    strcpy(buf, src);');
      const pf = await logProbs(f32Model, tokens);
      const pq = await logProbs(await load(q8Path), tokens);
      const pd = await logProbs(await load(dequantPath), tokens);
      const scale = spread(pf);
      const vsF32 = diffs(pq, pf);
      const vsDequant = diffs(pq, pd);
      console.log(
        `${arch} Q8_0: ${tokens.length} positions x ${pf[0]!.length} tokens, log-prob spread ${scale.toFixed(3)}; ` +
          `|dlogp| vs F32 max ${vsF32.max.toExponential(2)} mean ${vsF32.mean.toExponential(2)}; ` +
          `vs dequantised F32 max ${vsDequant.max.toExponential(2)} mean ${vsDequant.mean.toExponential(2)}`,
      );
      // Tolerances, relative to the spread of the F32 log-probabilities (measured: ~5% max / 1%
      // mean against F32, ~3% / 0.5% against the dequantised weights). A misread block layout or
      // scale moves log-probs by about the spread itself.
      expect(scale).toBeGreaterThan(0.1);
      expect(vsF32.max).toBeLessThan(0.1 * scale);
      expect(vsF32.mean).toBeLessThan(0.02 * scale);
      expect(vsDequant.max).toBeLessThan(0.06 * scale);
      expect(vsDequant.mean).toBeLessThan(0.01 * scale);
      // The greedy choice agrees wherever F32's top token is not a near-tie.
      pf.forEach((row, i) => {
        const sorted = [...row].sort((a, b) => b - a);
        if (sorted[0]! - sorted[1]! > 2 * vsF32.max) expect(pq[i]!.indexOf(Math.max(...pq[i]!))).toBe(row.indexOf(sorted[0]!));
      });
    });
  }
});
