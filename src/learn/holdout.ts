import type { Sample } from '../kb/samples.js';
import { sha256 } from '../util/hash.js';

/**
 * Hard cases held out of training for the gate: whole units (a near-duplicate cluster, a
 * vulnerable/fixed pair, a group), chosen by a seeded hash so the same cases and seed always hold
 * out the same ones. round(fraction x units) units are held out, at least one when the fraction is
 * positive, and at least one unit is always left to train on.
 */
export function unitOf(s: Pick<Sample, 'id' | 'dataset_id' | 'near_dup_cluster' | 'pair_id' | 'group_id'>): string {
  if (s.near_dup_cluster !== null) return `cluster:${s.near_dup_cluster}`;
  if (s.pair_id !== null) return `pair:${s.dataset_id}:${s.pair_id}`;
  if (s.group_id !== null) return `group:${s.dataset_id}:${s.group_id}`;
  return `sample:${s.id}`;
}

export function splitHoldout<T extends { sample: Pick<Sample, 'id' | 'dataset_id' | 'near_dup_cluster' | 'pair_id' | 'group_id'> }>(
  items: readonly T[],
  fraction: number,
  seed: number,
): { train: T[]; held: T[] } {
  const units = [...new Set(items.map((i) => unitOf(i.sample)))];
  if (fraction <= 0 || units.length < 2) return { train: [...items], held: [] };
  const count = Math.min(units.length - 1, Math.max(1, Math.round(fraction * units.length)));
  const ranked = units.map((u) => ({ u, r: sha256(`${seed}:holdout:${u}`) })).sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0));
  const held = new Set(ranked.slice(0, count).map((x) => x.u));
  return { train: items.filter((i) => !held.has(unitOf(i.sample))), held: items.filter((i) => held.has(unitOf(i.sample))) };
}
