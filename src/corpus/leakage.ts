/**
 * The split checker: finds samples related to each other that ended up in different splits.
 * Kinds: the same normalised code (code hash), the same near-duplicate cluster, the same commit,
 * the same pair and, when the dataset has groups, the same group. Pair, group and commit ids are
 * taken from the samples and from every input row merged into them (sample_sources).
 */
import type { Db } from '../kb/db.js';
import type { SplitName } from '../kb/samples.js';
import { InputError } from '../util/errors.js';
import { SPLIT_NAMES } from './split.js';

export const LEAKAGE_KINDS = ['code_hash', 'near_duplicate', 'commit', 'pair', 'group'] as const;
export type LeakageKind = (typeof LEAKAGE_KINDS)[number];

export interface LeakExample {
  /** The shared pair / group / commit id, code hash or cluster id. */
  key: string;
  /** Splits the unit's samples are in, with how many samples in each. */
  splits: Partial<Record<SplitName, number>>;
  /** A few of its samples (id, split), at least one from each split. */
  samples: Array<{ id: number; split: SplitName }>;
}

export interface LeakageByKind {
  kind: LeakageKind;
  /** Whether the dataset has this relation at all (no commits: the commit check has nothing to do). */
  applicable: boolean;
  /** Units (pairs, groups, ...) with samples in more than one split. */
  units: number;
  /** Distinct samples in those units. */
  samples: number;
  examples: LeakExample[];
}

export interface LeakageReport {
  dataset: string;
  splits: Record<SplitName, number>;
  /** Samples without a split (e.g. imported after the split): not checked. */
  unassigned: number;
  kinds: LeakageByKind[];
  /** Leaking units over all kinds. */
  leaks: number;
  clean: boolean;
}

interface Unit {
  splits: Map<SplitName, Array<number>>;
}

/** Accumulates (key, sample, split) triples of one kind, each sample counted once per key. */
class KindCollector {
  private readonly units = new Map<string, Unit>();
  private readonly seen = new Set<string>();

  add(key: string | number | null, id: number, split: SplitName): void {
    if (key === null || key === '') return;
    const k = String(key);
    const dedupKey = `${k}\u0000${id}`;
    if (this.seen.has(dedupKey)) return;
    this.seen.add(dedupKey);
    let unit = this.units.get(k);
    if (!unit) {
      unit = { splits: new Map() };
      this.units.set(k, unit);
    }
    const ids = unit.splits.get(split);
    if (ids) ids.push(id);
    else unit.splits.set(split, [id]);
  }

  get applicable(): boolean {
    return this.units.size > 0;
  }

  result(kind: LeakageKind, exampleCount: number, applicable = this.applicable): LeakageByKind {
    let units = 0;
    // A sample can be in several units (a merged sample with two groups): count it once.
    const samples = new Set<number>();
    const examples: LeakExample[] = [];
    for (const [key, unit] of this.units) {
      if (unit.splits.size < 2) continue;
      units++;
      for (const ids of unit.splits.values()) for (const id of ids) samples.add(id);
      if (examples.length < exampleCount) examples.push(example(key, unit));
    }
    return { kind, applicable, units, samples: samples.size, examples };
  }
}

function example(key: string, unit: Unit): LeakExample {
  const splits: Partial<Record<SplitName, number>> = {};
  const samples: Array<{ id: number; split: SplitName }> = [];
  for (const split of SPLIT_NAMES) {
    const ids = unit.splits.get(split);
    if (!ids) continue;
    splits[split] = ids.length;
    for (const id of ids.slice(0, 2)) samples.push({ id, split });
  }
  return { key, splits, samples };
}

/**
 * Checks a split dataset. Near-duplicate clusters are read from samples.near_dup_cluster, so bring
 * them up to date first (updateNearDuplicates). A dataset without any split is an input error.
 */
export function checkLeakage(db: Db, dataset: { id: number; name: string }, options: { examples?: number } = {}): LeakageReport {
  const exampleCount = options.examples ?? 3;
  const splits = { train: 0, valid: 0, test: 0 } as Record<SplitName, number>;
  let unassigned = 0;
  const collectors = Object.fromEntries(LEAKAGE_KINDS.map((k) => [k, new KindCollector()])) as Record<LeakageKind, KindCollector>;
  const splitOf = new Map<number, SplitName>();

  const samples = db
    .prepare('SELECT id, split, code_hash, near_dup_cluster, commit_id, pair_id, group_id FROM samples WHERE dataset_id = ? ORDER BY id')
    .raw()
    .iterate(dataset.id) as IterableIterator<[number, SplitName | null, string, number | null, string | null, string | null, string | null]>;
  for (const [id, split, hash, cluster, commit, pair, group] of samples) {
    if (split === null) {
      unassigned++;
      continue;
    }
    splits[split]++;
    splitOf.set(id, split);
    collectors.code_hash.add(hash, id, split);
    collectors.near_duplicate.add(cluster, id, split);
    collectors.commit.add(commit, id, split);
    collectors.pair.add(pair, id, split);
    collectors.group.add(group, id, split);
  }
  if (splitOf.size === 0) {
    throw new InputError(`dataset "${dataset.name}" has no splits yet (run: finesec split ${dataset.name} --by group)`);
  }
  const sources = db
    .prepare('SELECT sample_id, commit_id, pair_id, group_id FROM sample_sources WHERE dataset_id = ?')
    .raw()
    .iterate(dataset.id) as IterableIterator<[number, string | null, string | null, string | null]>;
  for (const [sampleId, commit, pair, group] of sources) {
    const split = splitOf.get(sampleId);
    if (!split) continue;
    collectors.commit.add(commit, sampleId, split);
    collectors.pair.add(pair, sampleId, split);
    collectors.group.add(group, sampleId, split);
  }

  const kinds = LEAKAGE_KINDS.map((kind) => collectors[kind].result(kind, exampleCount, kind === 'code_hash' ? true : undefined));
  const leaks = kinds.reduce((sum, k) => sum + k.units, 0);
  return { dataset: dataset.name, splits, unassigned, kinds, leaks, clean: leaks === 0 };
}

/** Human-readable report: one line per kind, then the examples of leaking kinds. */
export function renderLeakage(report: LeakageReport): string {
  const lines = [
    `dataset ${report.dataset}: train ${report.splits.train}, valid ${report.splits.valid}, test ${report.splits.test}` +
      (report.unassigned ? `, ${report.unassigned} without a split (not checked)` : ''),
  ];
  for (const k of report.kinds) {
    if (!k.applicable) {
      lines.push(`  ${k.kind.padEnd(15)} n/a (the dataset has none)`);
      continue;
    }
    lines.push(`  ${k.kind.padEnd(15)} ${k.units === 0 ? 'ok' : `${k.units} leaking (${k.samples} samples)`}`);
    for (const e of k.examples) {
      const where = e.samples.map((s) => `#${s.id} ${s.split}`).join(', ');
      const label = k.kind === 'near_duplicate' ? `cluster ${e.key}` : e.key;
      lines.push(`    ${label}: ${Object.entries(e.splits).map(([s, n]) => `${s} ${n}`).join(' / ')} (e.g. ${where})`);
    }
  }
  lines.push(report.clean ? 'no leakage across splits' : `LEAKAGE: ${report.leaks} units straddle splits`);
  return lines.join('\n');
}
