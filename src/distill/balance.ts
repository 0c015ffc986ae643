/**
 * Balancing of knowledge items before examples are built: a cap per CWE (per label), then a
 * target ratio of positives to negatives. Every choice is deterministic by the seed: items are
 * ranked by a hash of (seed, sample id), so adding or removing other items never reshuffles them.
 * Pairs are kept whole where the numbers allow: an item whose twin is kept ranks first.
 */
import { sha256 } from '../util/hash.js';
import type { KnowledgeItem } from './types.js';

export interface BalanceOptions {
  /** Most items per CWE and label (negatives without a CWE are not capped). */
  capPerCwe?: number;
  /** Target positives per negative, e.g. 1 for as many of each, 0.5 for two negatives per positive. */
  posRatio?: number;
  seed: number;
}

export interface BalanceResult {
  kept: KnowledgeItem[];
  droppedByCap: number;
  droppedByRatio: number;
  /** Positives and negatives before and after. */
  before: { positives: number; negatives: number };
  after: { positives: number; negatives: number };
  warnings: string[];
}

/** A stable pseudo-random rank of a sample under a seed. */
export function seededRank(seed: number, key: string | number): number {
  return parseInt(sha256(`${seed}:${key}`).slice(0, 12), 16);
}

export function balance(items: KnowledgeItem[], options: BalanceOptions): BalanceResult {
  const warnings: string[] = [];
  const isPositive = (i: KnowledgeItem): boolean => i.verdict === 'vulnerable';
  const before = { positives: items.filter(isPositive).length, negatives: items.filter((i) => !isPositive(i)).length };

  let kept = items;
  let droppedByCap = 0;
  if (options.capPerCwe !== undefined) {
    const groups = new Map<string, KnowledgeItem[]>();
    for (const item of items) {
      if (!isPositive(item) && item.cwe === null) continue;
      const key = `${item.verdict}/${item.cwe ?? 'none'}`;
      const list = groups.get(key);
      if (list) list.push(item);
      else groups.set(key, [item]);
    }
    const drop = new Set<KnowledgeItem>();
    for (const list of groups.values()) {
      if (list.length <= options.capPerCwe) continue;
      for (const item of rank(list, options.seed, new Set(items)).slice(options.capPerCwe)) drop.add(item);
    }
    droppedByCap = drop.size;
    kept = items.filter((i) => !drop.has(i));
  }

  let droppedByRatio = 0;
  if (options.posRatio !== undefined) {
    const positives = kept.filter(isPositive);
    const negatives = kept.filter((i) => !isPositive(i));
    if (positives.length === 0 || negatives.length === 0) {
      warnings.push(`--pos-ratio not applied: there are ${positives.length} positives and ${negatives.length} negatives`);
    } else {
      const R = options.posRatio;
      const keptSet = new Set(kept);
      let drop: KnowledgeItem[] = [];
      if (positives.length > R * negatives.length) {
        const want = Math.max(1, Math.round(R * negatives.length));
        drop = rank(positives, options.seed, keptSet).slice(want);
      } else {
        const want = Math.max(1, Math.round(positives.length / R));
        if (want < negatives.length) drop = rank(negatives, options.seed, keptSet).slice(want);
      }
      const dropSet = new Set(drop);
      droppedByRatio = drop.length;
      kept = kept.filter((i) => !dropSet.has(i));
    }
  }
  const after = { positives: kept.filter(isPositive).length, negatives: kept.filter((i) => !isPositive(i)).length };
  return { kept, droppedByCap, droppedByRatio, before, after, warnings };
}

/** Best first: items whose pair twin is still kept, then by seeded rank. */
function rank(list: KnowledgeItem[], seed: number, kept: ReadonlySet<KnowledgeItem>): KnowledgeItem[] {
  const keptIds = new Set([...kept].map((i) => i.knowledgeId));
  const paired = (i: KnowledgeItem): number => (i.pair?.twin_knowledge_id != null && keptIds.has(i.pair.twin_knowledge_id) ? 0 : 1);
  return [...list].sort((a, b) => paired(a) - paired(b) || seededRank(seed, a.sample.id) - seededRank(seed, b.sample.id) || a.sample.id - b.sample.id);
}
