import { describe, expect, it } from 'vitest';
import {
  MinHasher,
  bandKeys,
  estimatedJaccard,
  exactJaccard,
  forEachBucket,
  reachesThreshold,
  shingleHashes,
  tokenHashes,
  tokenize,
} from '../../src/corpus/minhash.js';
import { familyCode, rng } from '../helpers/corpus-fixtures.js';

describe('C/C++ tokenizer', () => {
  it('splits identifiers, numbers, strings, chars and multi-character operators', () => {
    const code = 'p->len <<= 0x1Fu; s = L"a\\"b" + \'c\'; x = 1.5e-3 ... y::z;';
    expect(tokenize(code, 'literal')).toEqual([
      'p', '->', 'len', '<<=', '0x1Fu', ';', 's', '=', 'L"a\\"b"', '+', "'c'", ';', 'x', '=', '1.5e-3', '...', 'y', '::', 'z', ';',
    ]);
  });

  it('abstracts variable names but keeps keywords, types, macros, calls and qualified names', () => {
    const code = 'size_t count = strlen(name); if (count > MAX_LEN) std::abort(); FILE *f = NULL;';
    expect(tokenize(code, 'abstract')).toEqual([
      'size_t', '$id', '=', 'strlen', '(', '$id', ')', ';',
      'if', '(', '$id', '>', 'MAX_LEN', ')', 'std', '::', 'abort', '(', ')', ';',
      'FILE', '*', '$id', '=', 'NULL', ';',
    ]);
  });

  it('gives renamed-variable copies the same token hashes only in abstract mode', () => {
    const a = 'int total = 0; for (i = 0; i < n; i++) total += data[i];';
    const b = 'int sum = 0; for (k = 0; k < len; k++) sum += values[k];';
    expect([...tokenHashes(a, 'abstract')]).toEqual([...tokenHashes(b, 'abstract')]);
    expect([...tokenHashes(a, 'literal')]).not.toEqual([...tokenHashes(b, 'literal')]);
    expect(tokenHashes(a, 'literal')).toHaveLength(tokenize(a, 'literal').length);
  });
});

describe('shingles', () => {
  it('are distinct and sorted; a short sequence gives one shingle and an empty one none', () => {
    const tokens = Int32Array.from([1, 2, 3, 1, 2, 3, 1, 2, 3]);
    const s = shingleHashes(tokens, 3);
    expect(s).toHaveLength(3); // 123, 231, 312
    expect([...s]).toEqual([...s].sort((x, y) => x - y));
    expect(shingleHashes(Int32Array.from([7, 8]), 5)).toHaveLength(1);
    expect(shingleHashes(new Int32Array(0), 5)).toHaveLength(0);
  });
});

/** Two shingle sets with a chosen overlap: `shared` common elements plus `own` private ones each. */
function overlapping(random: () => number, shared: number, own: number): [Int32Array, Int32Array] {
  const draw = (): number => Math.floor(random() * 4294967296) | 0;
  const common = Array.from({ length: shared }, draw);
  const a = Int32Array.from(new Set([...common, ...Array.from({ length: own }, draw)])).sort();
  const b = Int32Array.from(new Set([...common, ...Array.from({ length: own }, draw)])).sort();
  return [a, b];
}

describe('MinHash', () => {
  it('estimates the exact Jaccard similarity within the binomial error of 128 permutations', () => {
    const hasher = new MinHasher(128);
    const random = rng(42);
    const errors: number[] = [];
    for (let t = 0; t < 120; t++) {
      const size = 100 + Math.floor(random() * 400);
      const shared = Math.floor(random() * size);
      const [a, b] = overlapping(random, shared, size - shared);
      const exact = exactJaccard(a, b);
      const signatures = new Int32Array(256);
      hasher.signInto(a, signatures, 0);
      hasher.signInto(b, signatures, 128);
      errors.push(estimatedJaccard(signatures, 0, 1, 128) - exact);
    }
    const mean = errors.reduce((s, e) => s + e, 0) / errors.length;
    const rms = Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length);
    // The standard deviation of the estimate is at most sqrt(0.25 / 128) = 0.044.
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(rms).toBeLessThan(0.05);
    expect(Math.max(...errors.map(Math.abs))).toBeLessThan(0.16);
  });

  it('estimates real code pairs: flow variants close to their exact similarity, other families near 0', () => {
    const hasher = new MinHasher(128);
    const shingles = (code: string): Int32Array => shingleHashes(tokenHashes(code), 5);
    const pairs: Array<[string, string]> = [
      [familyCode(0, 0), familyCode(0, 3, { rename: '_r' })],
      [familyCode(1, 1, { bad: true }), familyCode(1, 1, { bad: false })],
      [familyCode(2, 0), familyCode(3, 0)],
    ];
    for (const [x, y] of pairs) {
      const a = shingles(x);
      const b = shingles(y);
      const sig = new Int32Array(256);
      hasher.signInto(a, sig, 0);
      hasher.signInto(b, sig, 128);
      expect(Math.abs(estimatedJaccard(sig, 0, 1, 128) - exactJaccard(a, b))).toBeLessThan(0.12);
    }
  });

  it('is deterministic, gives identical sets identical signatures, and verifies exactly as the estimate', () => {
    const random = rng(7);
    const [a, b] = overlapping(random, 300, 60);
    const sig = new Int32Array(128 * 3);
    const hasher = new MinHasher(128);
    hasher.signInto(a, sig, 0);
    hasher.signInto(b, sig, 128);
    new MinHasher(128).signInto(a, sig, 256);
    expect(estimatedJaccard(sig, 0, 2, 128)).toBe(1);
    const estimate = estimatedJaccard(sig, 0, 1, 128);
    for (const threshold of [0.5, 0.7, estimate, estimate + 0.01, 0.95]) {
      expect(reachesThreshold(sig, 0, 1, 128, threshold)).toBe(estimate >= threshold - 1e-12);
    }
  });
});

describe('LSH buckets', () => {
  it('put near-identical documents in a shared bucket and keep unrelated ones apart', () => {
    const hasher = new MinHasher(128);
    const codes = [familyCode(0, 0), familyCode(0, 1, { rename: '_b' }), familyCode(5, 0), familyCode(9, 2)];
    const sig = new Int32Array(128 * codes.length);
    codes.forEach((c, i) => hasher.signInto(shingleHashes(tokenHashes(c), 5), sig, i * 128));
    const keys = bandKeys(sig, codes.length, 128, 32);
    const together = new Set<string>();
    for (let band = 0; band < 32; band++) {
      forEachBucket(keys, codes.length, 32, band, (members) => {
        for (let i = 0; i < members.length; i++) for (let j = i + 1; j < members.length; j++) together.add(`${members[i]}-${members[j]}`);
      });
    }
    expect(together.has('0-1')).toBe(true);
    expect([...together].filter((p) => p !== '0-1')).toEqual([]);
  });
});
