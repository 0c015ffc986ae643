/**
 * Two LoRA adapters of one base as one: for every adapted weight W,
 *   s1·B1·A1 + s2·B2·A2 = s·[B1·(s1/s) | B2·(s2/s)]·[A1; A2]
 * with rank r1 + r2 and s = alpha / rank chosen as 1 (alpha = r1 + r2), so llama.cpp (and the
 * engine) compute exactly the sum of both adapters. A weight only one adapter touches gets zero
 * rows/columns from the other, so every module keeps one rank. This is how a warm-started update
 * (a delta trained on top of the parent) becomes the candidate adapter over the original base.
 */
import { InputError } from '../util/errors.js';
import type { AdapterData } from '../engine/adapter/lora-file.js';
import { ggufAlpha, pairScale } from '../engine/adapter/lora-file.js';
import type { LoraPair } from '../engine/adapter/gguf-lora.js';

export function stackAdapters(first: AdapterData, second: AdapterData, source: string): AdapterData {
  if (first.architecture !== second.architecture) {
    throw new InputError(`${source}: cannot stack a ${first.architecture} adapter with a ${second.architecture} one (different base models?)`);
  }
  const rank = (d: AdapterData): number => {
    const ranks = new Set(d.pairs.map((p) => p.rank));
    if (ranks.size !== 1) throw new InputError(`${source}: an adapter with several ranks (${[...ranks].join(', ')}) cannot be stacked`);
    return d.pairs[0]!.rank;
  };
  const r1 = rank(first);
  const r2 = rank(second);
  const s1 = pairScale(ggufAlpha(first, source), r1);
  const s2 = pairScale(ggufAlpha(second, source), r2);
  const r = r1 + r2;
  const byTarget = new Map<string, { p1?: LoraPair; p2?: LoraPair }>();
  for (const p of first.pairs) byTarget.set(p.target, { p1: p });
  for (const p of second.pairs) byTarget.set(p.target, { ...byTarget.get(p.target), p2: p });
  const pairs: LoraPair[] = [];
  for (const [target, { p1, p2 }] of byTarget) {
    const inF = (p1 ?? p2)!.inFeatures;
    const outF = (p1 ?? p2)!.outFeatures;
    if (p1 && p2 && (p1.inFeatures !== p2.inFeatures || p1.outFeatures !== p2.outFeatures)) {
      throw new InputError(`${source}: ${target} is ${p1.inFeatures}->${p1.outFeatures} in one adapter and ${p2.inFeatures}->${p2.outFeatures} in the other`);
    }
    // A: [r, in], rows of the first adapter then the second's. B: [out, r], columns likewise, scaled.
    const a = new Float32Array(r * inF);
    const b = new Float32Array(outF * r);
    if (p1) a.set(p1.a, 0);
    if (p2) a.set(p2.a, r1 * inF);
    for (let o = 0; o < outF; o++) {
      for (let k = 0; k < r1 && p1; k++) b[o * r + k] = p1.b[o * r1 + k]! * s1;
      for (let k = 0; k < r2 && p2; k++) b[o * r + r1 + k] = p2.b[o * r2 + k]! * s2;
    }
    pairs.push({ target, rank: r, inFeatures: inF, outFeatures: outF, a, b });
  }
  return { architecture: first.architecture, alpha: r, rsLora: false, dropout: second.dropout, pairs };
}
