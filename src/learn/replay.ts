/**
 * Replay against forgetting: the update batch is the new hard examples plus a sample of earlier
 * examples, `fraction` of the whole batch (0.3: 7 new examples bring 3 earlier ones), stratified
 * by CWE (each CWE's share of the replay is its share of the pool, largest remainders first) and
 * chosen by a seeded hash of each example's id, so the same pool and seed always give the same
 * replay whatever order the pool comes in.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Db } from '../kb/db.js';
import { exampleSets, loadExamples } from '../kb/examples.js';
import type { DistillTask, ExampleLine } from '../distill/types.js';
import { UsageError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';

/** Earlier examples to add to `fresh` new ones so they make `fraction` of the batch. */
export function replayCount(fresh: number, fraction: number): number {
  if (!(fraction >= 0 && fraction < 1)) throw new UsageError(`--replay expects a fraction in [0, 1), got ${fraction}`);
  if (fraction === 0 || fresh === 0) return 0;
  return Math.round((fresh * fraction) / (1 - fraction));
}

function rank(seed: number, id: string): string {
  return sha256(`${seed}:${id}`);
}

/** The stratum of an example: its CWE (a negative's is the weakness it is the safe side of). */
export function stratumOf(e: Pick<ExampleLine, 'cwe'>): string {
  return e.cwe ?? 'none';
}

/** `count` examples of the pool (all of it when count >= its size), stratified by CWE, deterministic by seed. */
export function stratifiedSample(pool: readonly ExampleLine[], count: number, seed: number): ExampleLine[] {
  if (count <= 0 || pool.length === 0) return [];
  if (count >= pool.length) return [...pool].sort((a, b) => (rank(seed, a.id) < rank(seed, b.id) ? -1 : 1));
  const strata = new Map<string, ExampleLine[]>();
  for (const e of pool) {
    const key = stratumOf(e);
    const list = strata.get(key);
    if (list) list.push(e);
    else strata.set(key, [e]);
  }
  const keys = [...strata.keys()].sort();
  const quotas = keys.map((key) => {
    const exact = (count * strata.get(key)!.length) / pool.length;
    return { key, quota: Math.floor(exact), remainder: exact - Math.floor(exact) };
  });
  let left = count - quotas.reduce((n, q) => n + q.quota, 0);
  for (const q of [...quotas].sort((a, b) => b.remainder - a.remainder || (a.key < b.key ? -1 : 1))) {
    if (left === 0) break;
    q.quota++;
    left--;
  }
  const chosen: ExampleLine[] = [];
  for (const q of quotas) {
    const ranked = strata.get(q.key)!.map((e) => ({ e, r: rank(seed, e.id) })).sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0));
    chosen.push(...ranked.slice(0, q.quota).map((x) => x.e));
  }
  return chosen;
}

/** A deterministic shuffle by seeded hash of each example's id. */
export function shuffleBySeed<T extends { id: string }>(items: readonly T[], seed: number): T[] {
  return items
    .map((item) => ({ item, r: rank(seed, `shuffle:${item.id}`) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .map((x) => x.item);
}

export interface PoolOptions {
  tasks: readonly DistillTask[];
  /** Samples the new examples are about: their earlier examples are not replayed. */
  excludeSamples: ReadonlySet<number>;
  /** Training files of earlier learn rounds (JSONL of examples) whose examples join the pool. */
  files?: readonly string[];
}

/**
 * Earlier examples: every distilled example in the knowledge base (never one whose sample is in a
 * valid or test split) and the examples of earlier promoted learn rounds, once each by id.
 */
export function loadReplayPool(db: Db, o: PoolOptions): ExampleLine[] {
  const tasks = new Set(o.tasks);
  const byId = new Map<string, ExampleLine>();
  const consider = (e: ExampleLine): void => {
    if (!tasks.has(e.task) || e.split === 'valid' || e.split === 'test' || o.excludeSamples.has(e.sample_id)) return;
    if (!byId.has(e.id)) byId.set(e.id, e);
  };
  for (const set of exampleSets(db)) {
    if (set.selection === 'valid' || set.selection === 'test') continue;
    for (const e of loadExamples(db, set.datasetId, set.selection)) consider(e);
  }
  for (const file of o.files ?? []) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      consider(JSON.parse(line) as ExampleLine);
    }
  }
  return [...byId.values()];
}
