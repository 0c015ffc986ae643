import { toByteLevel, BYTE_TO_CHAR } from './byte-level.js';
import { forEachQwen2Piece } from './pretokenize.js';
import { CHATML_SPECIAL_TOKENS } from './chatml.js';
import type { BpeVocab } from './vocab.js';

export interface BpeTrainOptions {
  /** Total vocabulary size, special tokens included. */
  vocabSize: number;
  /** A pair must occur at least this often (weighted by word counts) to be merged. */
  minFrequency?: number;
  /** Called now and then with the number of merges learned so far. */
  onProgress?: (merges: number, target: number) => void;
}

export interface BpeTrainResult {
  vocab: BpeVocab;
  /** Distinct pre-tokenized words the merges were learned from. */
  words: number;
  /** False when the corpus ran out of pairs before the vocabulary reached vocabSize. */
  reachedTarget: boolean;
}

/** Counts pre-tokenized words (qwen2 pre-tokenizer, byte-level), the input the trainer needs. */
export class WordCounter {
  readonly counts = new Map<string, number>();

  add(text: string): void {
    forEachQwen2Piece(text, (start, end) => {
      const piece = text.slice(start, end);
      this.counts.set(piece, (this.counts.get(piece) ?? 0) + 1);
    });
  }
}

const PAIR_SHIFT = 2 ** 21;

/**
 * Learns byte-level BPE merges, most frequent pair first; ties go to the pair with the smaller
 * (left id, right id), so the result is fully determined by the corpus. Ids 0..255 are the bytes
 * in byte order, then merged tokens in the order learned, then the ChatML special tokens.
 */
export function trainBpe(counter: WordCounter, options: BpeTrainOptions): BpeTrainResult {
  const specials = CHATML_SPECIAL_TOKENS.length;
  const targetTokens = options.vocabSize - specials;
  if (!Number.isInteger(options.vocabSize) || targetTokens < 256) {
    throw new Error(`vocabulary size must be an integer of at least ${256 + specials} (256 bytes + ${specials} special tokens), got ${options.vocabSize}`);
  }
  if (options.vocabSize >= PAIR_SHIFT) throw new Error(`vocabulary size ${options.vocabSize} is too large`);
  const minFrequency = options.minFrequency ?? 2;

  const tokens: string[] = [...BYTE_TO_CHAR];
  const tokenIds = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const merges: Array<[string, string]> = [];

  // Words in a stable order (sorted), so insertion order of the corpus does not matter.
  const entries = [...counter.counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [piece, count] of entries) {
    const chars = Array.from(toByteLevel(piece));
    words.push(chars.map((c) => tokenIds.get(c)!));
    freqs.push(count);
  }

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  for (let w = 0; w < words.length; w++) {
    const word = words[w]!;
    for (let i = 0; i + 1 < word.length; i++) {
      const key = word[i]! * PAIR_SHIFT + word[i + 1]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + freqs[w]!);
      let set = pairWords.get(key);
      if (!set) pairWords.set(key, (set = new Set()));
      set.add(w);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  const delta = new Map<number, number>();
  while (tokens.length < targetTokens) {
    const top = heap.popValid(pairCounts);
    if (top === undefined || top.count < minFrequency) break;
    const left = Math.floor(top.key / PAIR_SHIFT);
    const right = top.key % PAIR_SHIFT;
    const text = tokens[left]! + tokens[right]!;
    let merged = tokenIds.get(text);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(text);
      tokenIds.set(text, merged);
    }
    merges.push([tokens[left]!, tokens[right]!]);

    delta.clear();
    const affected = pairWords.get(top.key);
    pairWords.delete(top.key);
    for (const w of affected ?? []) {
      const word = words[w]!;
      if (!containsPair(word, left, right)) continue;
      const f = freqs[w]!;
      for (let i = 0; i + 1 < word.length; i++) addDelta(delta, word[i]! * PAIR_SHIFT + word[i + 1]!, -f);
      const next: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
          next.push(merged);
          i++;
        } else {
          next.push(word[i]!);
        }
      }
      words[w] = next;
      for (let i = 0; i + 1 < next.length; i++) {
        const key = next[i]! * PAIR_SHIFT + next[i + 1]!;
        addDelta(delta, key, f);
        if (next[i] === merged || next[i + 1] === merged) {
          let set = pairWords.get(key);
          if (!set) pairWords.set(key, (set = new Set()));
          set.add(w);
        }
      }
    }
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const count = (pairCounts.get(key) ?? 0) + d;
      if (count > 0) {
        pairCounts.set(key, count);
        heap.push(count, key);
      } else {
        pairCounts.delete(key);
      }
    }
    pairCounts.delete(top.key);
    if (merges.length % 64 === 0) options.onProgress?.(tokens.length - 256, targetTokens - 256);
  }

  const normalCount = tokens.length;
  const vocab: BpeVocab = {
    tokens: [...tokens, ...CHATML_SPECIAL_TOKENS],
    merges,
    special: CHATML_SPECIAL_TOKENS.map((_, i) => normalCount + i),
  };
  return { vocab, words: words.length, reachedTarget: tokens.length >= targetTokens };
}

function containsPair(word: number[], left: number, right: number): boolean {
  for (let i = 0; i + 1 < word.length; i++) if (word[i] === left && word[i + 1] === right) return true;
  return false;
}

function addDelta(delta: Map<number, number>, key: number, d: number): void {
  delta.set(key, (delta.get(key) ?? 0) + d);
}

/**
 * Max-heap of (count, pair key); larger count first, then smaller key. Entries go stale when a
 * count changes; popValid skips any entry whose count no longer matches.
 */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  popValid(current: Map<number, number>): { count: number; key: number } | undefined {
    while (this.counts.length > 0) {
      const count = this.counts[0]!;
      const key = this.keys[0]!;
      this.removeTop();
      if (current.get(key) === count) return { count, key };
    }
    return undefined;
  }

  private removeTop(): void {
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.counts.length === 0) return;
    this.counts[0] = lastCount;
    this.keys[0] = lastKey;
    let i = 0;
    const n = this.counts.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.before(l, best)) best = l;
      if (r < n && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
  }

  private before(a: number, b: number): boolean {
    const ca = this.counts[a]!;
    const cb = this.counts[b]!;
    return ca > cb || (ca === cb && this.keys[a]! < this.keys[b]!);
  }

  private swap(a: number, b: number): void {
    [this.counts[a], this.counts[b]] = [this.counts[b]!, this.counts[a]!];
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
  }
}
