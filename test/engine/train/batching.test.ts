import { describe, expect, it } from 'vitest';
import { assembleBatch, BatchStream, packMicroBatches, shuffledOrder, totalSteps } from '../../../src/engine/train/batching.js';
import { IGNORE } from '../../../src/engine/model/loss.js';

describe('batches by token budget', () => {
  it('packs in order while rows x padded length stays within the budget', () => {
    const lengths = [10, 20, 30, 5, 60];
    const batches = packMicroBatches(lengths, [0, 1, 2, 3, 4], { batchTokens: 96, seqLen: 64, seed: 1, padMultiple: 16 });
    // 10 -> T16; +20 -> T32 x2 = 64; +30 -> T32 x3 = 96; +5 -> x4 = 128 > 96: new batch; +60 -> T64 x2 = 128 > 96: new batch
    expect(batches).toEqual([
      { examples: [0, 1, 2], T: 32 },
      { examples: [3], T: 16 },
      { examples: [4], T: 64 },
    ]);
    for (const b of batches) expect(b.examples.length === 1 || b.examples.length * b.T <= 96).toBe(true);
  });

  it('gives an example longer than the budget a batch of its own, and refuses one over seqLen', () => {
    expect(packMicroBatches([50, 50], [0, 1], { batchTokens: 16, seqLen: 64, seed: 1 })).toEqual([
      { examples: [0], T: 64 },
      { examples: [1], T: 64 },
    ]);
    expect(() => packMicroBatches([65], [0], { batchTokens: 128, seqLen: 64, seed: 1 })).toThrow(/65 tokens/);
  });

  it('shuffles each epoch differently, deterministically from the seed', () => {
    const a = shuffledOrder(50, 7, 0);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffledOrder(50, 7, 0)).toEqual(a);
    expect(shuffledOrder(50, 7, 1)).not.toEqual(a);
    expect(shuffledOrder(50, 8, 0)).not.toEqual(a);
  });

  it('streams micro-batches across epochs; every epoch covers every example once', () => {
    const lengths = Array.from({ length: 23 }, (_, i) => 5 + ((i * 37) % 40));
    const stream = new BatchStream(lengths, { batchTokens: 128, seqLen: 64, seed: 3 });
    const perEpoch = stream.countIn(0);
    const seen: number[][] = [[], []];
    let index = 0;
    for (let e = 0; e < 2; e++) {
      const n = stream.countIn(e);
      for (let i = 0; i < n; i++, index++) {
        const at = stream.at(index);
        expect(at.epoch).toBe(e);
        expect(at.indexInEpoch).toBe(i);
        seen[e]!.push(...at.batch.examples);
      }
    }
    for (const s of seen) expect([...s].sort((x, y) => x - y)).toEqual(lengths.map((_, i) => i));
    expect(seen[0]).not.toEqual(seen[1]);
    // Random access (resume) gives the same batch as streaming from the start.
    const fresh = new BatchStream(lengths, { batchTokens: 128, seqLen: 64, seed: 3 });
    expect(fresh.at(perEpoch + 1)).toEqual(stream.at(perEpoch + 1));
    expect(totalSteps(stream, 2, { epochs: 1 })).toBe(Math.ceil(perEpoch / 2));
    expect(totalSteps(stream, 2, { epochs: 2 })).toBe(Math.ceil((perEpoch + stream.countIn(1)) / 2));
    expect(totalSteps(stream, 2, { maxSteps: 7 })).toBe(7);
  });

  it('assembles padded rows whose targets are the next assistant tokens only', () => {
    const sequences = [
      { tokens: Int32Array.from([1, 2, 3, 4]), mask: Uint8Array.from([0, 0, 1, 1]) },
      { tokens: Int32Array.from([5, 6]), mask: Uint8Array.from([0, 1]) },
    ];
    const b = assembleBatch({ examples: [1, 0], T: 4 }, sequences);
    expect(b.B).toBe(2);
    expect(Array.from(b.tokens)).toEqual([5, 6, 0, 0, 1, 2, 3, 4]);
    const I = IGNORE;
    expect(Array.from(b.targets)).toEqual([6, I, I, I, I, 3, 4, I]);
    expect(b.count).toBe(3);
    expect(b.realTokens).toBe(6);
  });
});
