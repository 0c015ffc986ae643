import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { tinyCorpusPath, tinyModel } from '../helpers/tiny-model.js';
import { readGguf, readTensorBytes, readTensorF32, findTensor } from '../../src/engine/gguf/reader.js';
import { GgmlType } from '../../src/engine/gguf/types.js';
import { MetadataView } from '../../src/engine/gguf/metadata.js';
import { vocabFromGgufMetadata } from '../../src/tokenizer/vocab.js';
import { readModelHparams } from '../../src/engine/gguf/hparams.js';
import { writeGguf } from '../../src/engine/gguf/writer.js';
import { gv } from '../../src/engine/gguf/metadata.js';
import { f32ArrayToBf16Bytes, quantizeQ8_0 } from '../../src/engine/gguf/quant.js';

const tmp = tempDir('finesec-model-cli-');
afterAll(() => tmp.cleanup());

describe('finesec model init', () => {
  it('writes a llama GGUF with every hparam llama.cpp requires, a tokenizer and ChatML', async () => {
    const path = await tinyModel({ arch: 'llama' });
    const file = readGguf(path);
    const m = new MetadataView(file.metadata, path);
    expect(m.string('general.architecture')).toBe('llama');
    expect(m.number('general.file_type')).toBe(0);
    expect(m.number('llama.context_length')).toBe(2048);
    expect(m.number('llama.embedding_length')).toBe(64);
    expect(m.number('llama.block_count')).toBe(2);
    expect(m.number('llama.feed_forward_length')).toBe(128);
    expect(m.number('llama.attention.head_count')).toBe(4);
    expect(m.number('llama.attention.head_count_kv')).toBe(2);
    expect(m.number('llama.rope.dimension_count')).toBe(16);
    expect(m.number('llama.rope.freq_base')).toBe(10000);
    expect(m.number('llama.attention.layer_norm_rms_epsilon')).toBeCloseTo(1e-5, 10);
    expect(m.string('tokenizer.chat_template')).toContain('<|im_start|>');
    const vocab = vocabFromGgufMetadata(file.metadata, path);
    expect(vocab.tokens).toHaveLength(768);
    expect(m.number('llama.vocab_size')).toBe(768);
    const embd = findTensor(file, 'token_embd.weight')!;
    expect(embd.dims).toEqual([64, 768]);
    expect(findTensor(file, 'output.weight')!.dims).toEqual([64, 768]);
    expect(findTensor(file, 'blk.1.attn_k.weight')!.dims).toEqual([64, 32]);
    expect(findTensor(file, 'blk.1.ffn_down.weight')!.dims).toEqual([128, 64]);
    expect(findTensor(file, 'blk.0.attn_q.bias')).toBeUndefined();
    expect(Array.from(readTensorF32(file, findTensor(file, 'blk.0.attn_norm.weight')!))).toEqual(new Array(64).fill(1));
    const w = readTensorF32(file, embd);
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect(file.tensors).toHaveLength(1 + 2 * 9 + 2);
  });

  it('writes qwen2 with q/k/v biases and its own rope base and epsilon; --tied drops output.weight', async () => {
    const path = await tinyModel({ arch: 'qwen2', tied: true });
    const file = readGguf(path);
    const m = new MetadataView(file.metadata, path);
    expect(m.string('general.architecture')).toBe('qwen2');
    expect(m.number('qwen2.rope.freq_base')).toBe(1_000_000);
    expect(m.number('qwen2.attention.layer_norm_rms_epsilon')).toBeCloseTo(1e-6, 12);
    expect(findTensor(file, 'blk.0.attn_q.bias')!.dims).toEqual([64]);
    expect(findTensor(file, 'blk.0.attn_k.bias')!.dims).toEqual([32]);
    expect(findTensor(file, 'blk.0.attn_v.bias')!.type).toBe(GgmlType.F32);
    expect(findTensor(file, 'output.weight')).toBeUndefined();
  });

  it('is deterministic: the same options give the same bytes; another seed changes only the weights', async () => {
    const a = join(tmp.dir, 'a.gguf');
    const b = join(tmp.dir, 'b.gguf');
    const c = join(tmp.dir, 'c.gguf');
    const base = ['model', 'init', '--quiet', '--vocab-size', '400', '--tokenizer-corpus', tinyCorpusPath()];
    expect((await runCli([...base, '--out', a])).code).toBe(0);
    expect((await runCli([...base, '--out', b])).code).toBe(0);
    expect((await runCli([...base, '--seed', '2', '--out', c])).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const fa = readGguf(a);
    const fc = readGguf(c);
    expect(fc.metadata).toEqual(fa.metadata);
    expect(Buffer.from(readTensorBytes(fc, fc.tensors[0]!)).equals(Buffer.from(readTensorBytes(fa, fa.tensors[0]!)))).toBe(false);
  });

  it('--type f16 and q8_0 store 2-D weights in that type and keep norms (and biases) F32', async () => {
    for (const [type, ggml, fileType] of [['f16', GgmlType.F16, 1], ['q8_0', GgmlType.Q8_0, 7]] as const) {
      const path = await tinyModel({ arch: 'qwen2', type });
      const file = readGguf(path);
      expect(new MetadataView(file.metadata, path).number('general.file_type')).toBe(fileType);
      for (const t of file.tensors) expect(t.type, t.name).toBe(t.dims.length === 2 ? ggml : GgmlType.F32);
    }
  });

  it('trains on the synthetic generator (code and report JSON) when no corpus is given', async () => {
    const out = join(tmp.dir, 'synth-vocab.gguf');
    const r = await runCli(['model', 'init', '--vocab-size', '600', '--tokenizer-samples', '200', '--seed', '3', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).tokenizer.corpus).toBe('synthetic generator (200 samples, seed 3)');
    const vocab = vocabFromGgufMetadata(readGguf(out).metadata, out);
    expect(vocab.tokens).toHaveLength(600);
    // Report keys and C keywords became single tokens.
    for (const token of ['verdict', 'findings', 'Ġreturn', 'char']) expect(vocab.tokens, token).toContain(token);
  });

  it('reports a usage error for bad shapes and an unknown architecture', async () => {
    const out = join(tmp.dir, 'bad.gguf');
    const r1 = await runCli(['model', 'init', '--arch', 'mamba', '--out', out]);
    expect(r1.code).toBe(2);
    const r2 = await runCli(['model', 'init', '--embd', '60', '--heads', '8', '--out', out, '--json']);
    expect(r2.code).toBe(2);
    expect(JSON.parse(r2.stdout).error.message).toMatch(/--embd 60 is not divisible by --heads 8/);
    const r3 = await runCli(['model', 'init', '--heads', '4', '--kv-heads', '3', '--out', out]);
    expect(r3.code).toBe(2);
    const r4 = await runCli(['model', 'init', '--vocab-size', '100', '--tokenizer-corpus', tinyCorpusPath(), '--out', out, '--json']);
    expect(r4.code).toBe(2);
    expect(JSON.parse(r4.stdout).error.message).toMatch(/--vocab-size expects an integer >= 259/);
    const r5 = await runCli(['model', 'init', '--tokenizer-corpus', join(tmp.dir, 'nope.txt'), '--out', out, '--json']);
    expect(r5.code).toBe(2);
    expect(JSON.parse(r5.stdout).error.message).toMatch(/nope.txt: cannot read tokenizer corpus/);
  });
});

describe('finesec model info', () => {
  it('summarises a model as text and as JSON', async () => {
    const path = await tinyModel({ arch: 'qwen2', type: 'q8_0' });
    const text = await runCli(['model', 'info', path]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/architecture\s+qwen2/);
    expect(text.stdout).toMatch(/file type\s+Q8_0/);
    expect(text.stdout).toMatch(/chat template\s+yes/);
    const r = await runCli(['model', 'info', path, '--json']);
    const info = JSON.parse(r.stdout);
    // 768*64 embeddings + 768*64 output + per layer: q 64*64, k/v 64*32 each, o 64*64, gate/up/down 64*128 each,
    // biases 64+32+32, norms 2*64; plus the output norm.
    const perLayer = 64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 128 + 64 + 32 + 32 + 2 * 64;
    expect(info.parameters).toBe(2 * 768 * 64 + 2 * perLayer + 64);
    expect(info).toMatchObject({ architecture: 'qwen2', fileType: 'Q8_0', vocabSize: 768, contextLength: 2048, chatTemplate: true, tiedOutput: false });
    expect(info.tensorTypes.map((t: { type: string }) => t.type).sort()).toEqual(['F32', 'Q8_0']);
  });
});

describe('finesec model quantize', () => {
  it('converts 2-D weights to Q8_0, keeps norms and biases F32 and sets the file type', async () => {
    const input = await tinyModel({ arch: 'qwen2' });
    const out = join(tmp.dir, 'q8.gguf');
    const r = await runCli(['model', 'quantize', input, '--type', 'q8_0', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    const src = readGguf(input);
    const dst = readGguf(out);
    expect(summary.quantized).toBe(src.tensors.filter((t) => t.dims.length === 2).length);
    expect(new MetadataView(dst.metadata, out).number('general.file_type')).toBe(7);
    expect(new MetadataView(dst.metadata, out).number('general.quantization_version')).toBe(2);
    for (const t of dst.tensors) {
      const s = findTensor(src, t.name)!;
      expect(t.type, t.name).toBe(t.dims.length === 2 ? GgmlType.Q8_0 : GgmlType.F32);
      if (t.type === GgmlType.F32) expect(Buffer.from(readTensorBytes(dst, t)).equals(Buffer.from(readTensorBytes(src, s)))).toBe(true);
    }
    // Everything but the file type is carried over.
    for (const [k, v] of src.metadata) if (k !== 'general.file_type') expect(dst.metadata.get(k), k).toEqual(v);
  });

  it('gives the same bytes as model init --type q8_0 with the same seed', async () => {
    const f32 = await tinyModel({ arch: 'llama' });
    const q8 = await tinyModel({ arch: 'llama', type: 'q8_0' });
    const out = join(tmp.dir, 'q8-from-f32.gguf');
    expect((await runCli(['model', 'quantize', f32, '--out', out, '--quiet'])).code).toBe(0);
    const a = readGguf(out);
    const b = readGguf(q8);
    for (const t of a.tensors) {
      expect(Buffer.from(readTensorBytes(a, t)).equals(Buffer.from(readTensorBytes(b, findTensor(b, t.name)!))), t.name).toBe(true);
    }
  });

  it('quantizes F16 and BF16 weights from their values', async () => {
    const f16 = await tinyModel({ arch: 'llama', type: 'f16' });
    const src = readGguf(f16);
    // A BF16 copy of the F16 model (norms stay F32).
    const bf16 = join(tmp.dir, 'bf16.gguf');
    writeGguf(bf16, {
      metadata: src.metadata,
      tensors: src.tensors.map((t) => ({
        name: t.name,
        dims: t.dims,
        type: t.type === GgmlType.F16 ? GgmlType.BF16 : t.type,
        data: t.type === GgmlType.F16 ? f32ArrayToBf16Bytes(readTensorF32(src, t)) : readTensorBytes(src, t),
      })),
    });
    for (const input of [f16, bf16]) {
      const out = `${input}.q8.gguf`;
      expect((await runCli(['model', 'quantize', input, '--out', out, '--quiet'])).code).toBe(0);
      const inFile = readGguf(input);
      const outFile = readGguf(out);
      const t = findTensor(outFile, 'blk.0.ffn_up.weight')!;
      expect(t.type).toBe(GgmlType.Q8_0);
      const expected = quantizeQ8_0(readTensorF32(inFile, findTensor(inFile, t.name)!));
      expect(Buffer.from(readTensorBytes(outFile, t)).equals(Buffer.from(expected))).toBe(true);
    }
  });

  it('falls back to F16 for rows that are not a multiple of 32, as llama.cpp does', async () => {
    const input = await tinyModel({ arch: 'llama', embd: 48, heads: 4, kvHeads: 4, ff: 96, vocabSize: 300 });
    const out = join(tmp.dir, 'q8-48.gguf');
    const r = await runCli(['model', 'quantize', input, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const file = readGguf(out);
    expect(findTensor(file, 'blk.0.attn_q.weight')!.type).toBe(GgmlType.F16); // rows of 48
    expect(findTensor(file, 'blk.0.ffn_down.weight')!.type).toBe(GgmlType.Q8_0); // rows of 96
    expect(JSON.parse(r.stdout).fallbackF16).toBeGreaterThan(0);
  });
});

describe('bad model files: one-line errors naming the file, exit 2', () => {
  it('truncated and corrupt files, as a real process', async () => {
    const good = readFileSync(await tinyModel());
    const truncated = join(tmp.dir, 'truncated.gguf');
    writeFileSync(truncated, good.subarray(0, good.length - 5000));
    const corrupt = join(tmp.dir, 'corrupt.gguf');
    const copy = Buffer.from(good);
    copy.write('XXXX', 0, 'latin1');
    writeFileSync(corrupt, copy);
    for (const [argv, pattern] of [
      [['model', 'info', truncated], /^error: .*truncated.gguf: tensor output.weight data ends at byte \d+ but the file has \d+ bytes \(truncated\?\)$/],
      [['model', 'quantize', truncated, '--out', join(tmp.dir, 'x.gguf')], /truncated.gguf: tensor output.weight data ends/],
      [['model', 'info', corrupt], /^error: .*corrupt.gguf: not a GGUF file \(magic "XXXX", expected "GGUF"\)$/],
    ] as const) {
      const p = await spawnCli([...argv]);
      expect(p.code).toBe(2);
      expect(p.stderr.trim().split('\n')).toHaveLength(1);
      expect(p.stderr.trim()).toMatch(pattern);
    }
  });

  it('an unknown architecture is named with the file', () => {
    const path = join(tmp.dir, 'mamba.gguf');
    writeGguf(path, { metadata: new Map([['general.architecture', gv.str('mamba9')]]), tensors: [] });
    expect(() => readModelHparams(readGguf(path))).toThrow(new RegExp(`^${path}: unknown architecture "mamba9" \\(finesec supports llama, qwen2\\)$`));
  });

  it('a missing hparam is named with the file', () => {
    const path = join(tmp.dir, 'nohp.gguf');
    writeGguf(path, { metadata: new Map([['general.architecture', gv.str('llama')], ['llama.block_count', gv.u32(2)]]), tensors: [] });
    expect(() => readModelHparams(readGguf(path))).toThrow(/nohp.gguf: missing metadata key llama.context_length/);
  });
});
