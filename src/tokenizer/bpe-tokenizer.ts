import { byteLevelToBytes, toByteLevel } from './byte-level.js';
import { forEachQwen2Piece } from './pretokenize.js';
import type { BpeVocab } from './vocab.js';

export interface EncodeOptions {
  /** Match special token texts (e.g. <|im_start|>) as their tokens; otherwise they are plain text. */
  special?: boolean;
}

const CACHE_LIMIT = 100_000;

/**
 * Encodes and decodes with a byte-level BPE vocabulary the way llama.cpp does for
 * tokenizer.ggml.model = gpt2 with the qwen2 pre-tokenizer: split into pieces, write each piece
 * in the byte-level alphabet, then repeatedly merge the adjacent pair with the lowest merge rank
 * (the leftmost one on a tie) until no pair has a rank.
 */
export class BpeTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly specials: Array<{ text: string; id: number }>;
  private readonly specialIds: Set<number>;
  private readonly specialPattern: RegExp | undefined;
  private readonly cache = new Map<string, number[]>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(readonly vocab: BpeVocab) {
    vocab.tokens.forEach((t, i) => {
      if (!this.ids.has(t)) this.ids.set(t, i);
    });
    vocab.merges.forEach(([a, b], rank) => {
      const key = `${a} ${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
    this.specialIds = new Set(vocab.special);
    this.specials = vocab.special.map((id) => ({ text: vocab.tokens[id]!, id })).sort((a, b) => b.text.length - a.text.length);
    this.specialPattern =
      this.specials.length > 0 ? new RegExp(this.specials.map((s) => s.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : undefined;
  }

  get size(): number {
    return this.vocab.tokens.length;
  }

  tokenId(text: string): number | undefined {
    return this.ids.get(text);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (!options.special || !this.specialPattern) {
      this.encodeOrdinary(text, out);
      return out;
    }
    let last = 0;
    for (const m of text.matchAll(this.specialPattern)) {
      this.encodeOrdinary(text.slice(last, m.index), out);
      out.push(this.specials.find((s) => s.text === m[0])!.id);
      last = m.index + m[0].length;
    }
    this.encodeOrdinary(text.slice(last), out);
    return out;
  }

  private encodeOrdinary(text: string, out: number[]): void {
    if (text.length === 0) return;
    forEachQwen2Piece(text, (start, end) => {
      const piece = text.slice(start, end);
      let ids = this.cache.get(piece);
      if (!ids) {
        ids = this.encodePiece(toByteLevel(piece));
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    });
  }

  private encodePiece(word: string): number[] {
    const symbols = Array.from(word);
    // pairRank[i] is the rank of (symbols[i], symbols[i+1]), Infinity when it has none.
    const pairRank: number[] = [];
    for (let i = 0; i + 1 < symbols.length; i++) pairRank.push(this.rankOf(symbols[i]!, symbols[i + 1]!));
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < pairRank.length; i++) {
        if (pairRank[i]! < bestRank) {
          bestRank = pairRank[i]!;
          best = i;
        }
      }
      if (best < 0) break;
      symbols.splice(best, 2, symbols[best]! + symbols[best + 1]!);
      pairRank.splice(best, 1);
      if (best > 0) pairRank[best - 1] = this.rankOf(symbols[best - 1]!, symbols[best]!);
      if (best < symbols.length - 1) pairRank[best] = this.rankOf(symbols[best]!, symbols[best + 1]!);
    }
    const ids: number[] = [];
    for (const s of symbols) {
      const id = this.ids.get(s);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      // Like llama.cpp: a symbol missing from the vocabulary falls back to its byte tokens.
      for (const ch of s) {
        const byteId = this.ids.get(ch);
        if (byteId !== undefined) ids.push(byteId);
      }
    }
    return ids;
  }

  private rankOf(a: string, b: string): number {
    return this.ranks.get(`${a} ${b}`) ?? Infinity;
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The bytes a token stands for (special tokens: their text as UTF-8). */
  tokenBytes(id: number): Uint8Array {
    const text = this.vocab.tokens[id];
    if (text === undefined) throw new Error(`token id ${id} is outside the vocabulary (${this.size} tokens)`);
    if (this.specialIds.has(id)) return Buffer.from(text, 'utf8');
    return byteLevelToBytes(text) ?? Buffer.from(text, 'utf8');
  }

  /** Text of the tokens; special tokens are left out unless options.special is set. */
  decode(ids: readonly number[], options: EncodeOptions = {}): string {
    const parts: Uint8Array[] = [];
    for (const id of ids) {
      if (this.specialIds.has(id) && !options.special) continue;
      parts.push(this.tokenBytes(id));
    }
    return this.decoder.decode(Buffer.concat(parts));
  }
}
