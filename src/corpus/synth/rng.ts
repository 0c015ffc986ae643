import { createHash } from 'node:crypto';

/**
 * A small seeded PRNG (sfc32) keyed by (seed, key): every pair of the corpus draws from its own
 * stream, so sample i is the same whatever the total count, and the output is byte-identical for
 * the same seed on every platform.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private frozen = false;

  constructor(seed: number, key: string) {
    const h = createHash('sha256').update(`${seed}\u0000${key}`).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.next();
  }

  /**
   * After this, drawing throws: templates must make every random choice while building, so that
   * rendering the vulnerable and the fixed variant draws nothing and the two differ only by design.
   */
  freeze(): void {
    this.frozen = true;
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    if (this.frozen) throw new Error('synth template bug: random draw while rendering a variant (draw everything in build)');
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/**
 * The round-th element of an endless sequence that visits every item once per cycle, in an order
 * reshuffled for each cycle: spreads choices evenly (every wrapper for every template) without
 * making them predictable.
 */
export function cycled<T>(seed: number, key: string, round: number, items: readonly T[]): T {
  const cycle = Math.floor(round / items.length);
  const order = new Rng(seed, `${key}#${cycle}`).shuffle(items);
  return order[round % items.length]!;
}
