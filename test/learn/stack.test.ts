import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import type { LoraPair } from '../../src/engine/adapter/gguf-lora.js';
import { pairScale, readAdapterGguf, writeAdapterGguf, ggufAlpha, type AdapterData } from '../../src/engine/adapter/lora-file.js';
import { stackAdapters } from '../../src/learn/stack.js';

const { dir, cleanup } = tempDir('finesec-stack-');
afterAll(cleanup);

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
}

function pair(target: string, rank: number, inF: number, outF: number, next: () => number): LoraPair {
  return { target, rank, inFeatures: inF, outFeatures: outF, a: Float32Array.from({ length: rank * inF }, next), b: Float32Array.from({ length: outF * rank }, next) };
}

/** scale * B·A as a dense [out, in] matrix, in f64. */
function delta(p: LoraPair, scale: number): Float64Array {
  const out = new Float64Array(p.outFeatures * p.inFeatures);
  for (let o = 0; o < p.outFeatures; o++) {
    for (let i = 0; i < p.inFeatures; i++) {
      let s = 0;
      for (let k = 0; k < p.rank; k++) s += p.b[o * p.rank + k]! * p.a[k * p.inFeatures + i]!;
      out[o * p.inFeatures + i] = scale * s;
    }
  }
  return out;
}

function scaleOf(d: AdapterData, p: LoraPair): number {
  return pairScale(ggufAlpha(d, 'test'), p.rank);
}

describe('stacking two adapters', () => {
  it('gives exactly the sum of both adapters\' weight updates, with llama.cpp\'s scale rule, through a GGUF round trip', () => {
    const next = rng(11);
    const parent: AdapterData = {
      architecture: 'llama',
      alpha: 16,
      rsLora: false,
      dropout: 0,
      pairs: [pair('blk.0.attn_q.weight', 8, 12, 10, next), pair('blk.0.ffn_up.weight', 8, 12, 20, next)],
    };
    // The delta is rank 4 with rsLoRA (scale alpha / sqrt(rank)) and also adapts a target the parent does not.
    const child: AdapterData = {
      architecture: 'llama',
      alpha: 6,
      rsLora: true,
      dropout: 0.1,
      pairs: [pair('blk.0.attn_q.weight', 4, 12, 10, next), pair('blk.0.attn_v.weight', 4, 12, 6, next)],
    };
    const stacked = stackAdapters(parent, child, 'test');
    const file = join(dir, 'stacked.gguf');
    writeAdapterGguf(file, stacked);
    const read = readAdapterGguf(file);
    expect(read.pairs.map((p) => [p.target, p.rank])).toEqual([
      ['blk.0.attn_q.weight', 12],
      ['blk.0.ffn_up.weight', 12],
      ['blk.0.attn_v.weight', 12],
    ]);
    for (const target of ['blk.0.attn_q.weight', 'blk.0.ffn_up.weight', 'blk.0.attn_v.weight']) {
      const got = delta(read.pairs.find((p) => p.target === target)!, scaleOf(read, read.pairs.find((p) => p.target === target)!));
      const want = new Float64Array(got.length);
      for (const d of [parent, child]) {
        const p = d.pairs.find((x) => x.target === target);
        if (!p) continue;
        delta(p, scaleOf(d, p)).forEach((v, i) => (want[i]! += v));
      }
      let worst = 0;
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]!))));
      expect(worst, target).toBeLessThan(1e-6);
    }
  });

  it('refuses adapters of different architectures or shapes', () => {
    const next = rng(3);
    const a: AdapterData = { architecture: 'llama', alpha: 8, rsLora: false, dropout: 0, pairs: [pair('blk.0.attn_q.weight', 4, 12, 10, next)] };
    expect(() => stackAdapters(a, { ...a, architecture: 'qwen2' }, 'x.gguf')).toThrow(/x\.gguf: cannot stack a llama adapter with a qwen2 one/);
    expect(() => stackAdapters(a, { ...a, pairs: [pair('blk.0.attn_q.weight', 4, 16, 10, next)] }, 'x.gguf')).toThrow(/is 12->10 in one adapter and 16->10 in the other/);
  });
});
