import type { Db } from '../kb/db.js';
import { requireDataset } from '../kb/datasets.js';
import { iterateSamples, type Language, type Sample, type SplitName } from '../kb/samples.js';
import { codeLines } from '../runtime/report-prompt.js';
import { InputError, UsageError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';

/** One sample as every model sees it, with the ground truth that scores it. */
export interface SuiteSample {
  id: number;
  code: string;
  language: Language;
  label: 0 | 1;
  cwes: string[];
  flaw_lines: number[];
  pair_id: string | null;
  lines: number;
}

export interface Suite {
  dataset: string;
  datasetId: number;
  split: SplitName | null;
  samples: SuiteSample[];
  /** Samples left out because their label is unknown (conflicting duplicates). */
  unlabeled: number;
  /** Labeled samples the dataset (split) holds, before --limit. */
  available: number;
  limit: number | null;
  seed: number;
}

const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

export function parseSuiteSpec(text: string, command = 'eval'): { dataset: string; split: SplitName | null } {
  const [dataset, split, ...rest] = text.split(':');
  if (!dataset || rest.length > 0) throw new UsageError(`${command}: --suite ${text}: expected DATASET or DATASET:SPLIT`);
  if (split === undefined) return { dataset, split: null };
  if (!(SPLITS as readonly string[]).includes(split)) {
    throw new UsageError(`${command}: --suite ${text}: split must be one of ${SPLITS.join(', ')}, got "${split}"`);
  }
  return { dataset, split: split as SplitName };
}

/**
 * Loads the samples of a dataset (split). With a limit, whole pairs are kept together (the paired
 * metrics need both sides) and chosen in an order fixed by the seed and the pair ids, so the same
 * command picks the same samples across the whole dataset rather than its first rows.
 */
export function loadSuite(db: Db, spec: string, options: { limit?: number; seed?: number } = {}): Suite {
  const { dataset, split } = parseSuiteSpec(spec);
  const row = requireDataset(db, dataset);
  const seed = options.seed ?? 1;
  const all: Sample[] = [];
  let unlabeled = 0;
  for (const s of iterateSamples(db, row.id, split ?? undefined)) {
    if (s.label === null) unlabeled++;
    else all.push(s);
  }
  if (all.length === 0) {
    const where = split ? `split ${split} of dataset ${dataset}` : `dataset ${dataset}`;
    throw new InputError(`${where} has no labeled samples${split ? ` (run: finesec split ${dataset})` : ''}`);
  }
  const chosen = options.limit !== undefined ? choose(all, options.limit, seed) : all;
  return {
    dataset,
    datasetId: row.id,
    split,
    samples: chosen.map(toSuiteSample),
    unlabeled,
    available: all.length,
    limit: options.limit ?? null,
    seed,
  };
}

function choose(samples: Sample[], limit: number, seed: number): Sample[] {
  const units = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = s.pair_id !== null ? `pair:${s.pair_id}` : `sample:${s.code_hash}`;
    const unit = units.get(key);
    if (unit) unit.push(s);
    else units.set(key, [s]);
  }
  const order = [...units.entries()]
    .map(([key, members]) => ({ rank: sha256(`${seed}:${key}`), members }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  const picked: Sample[] = [];
  for (const unit of order) {
    if (picked.length + unit.members.length > limit) continue;
    picked.push(...unit.members);
    if (picked.length === limit) break;
  }
  return picked.sort((a, b) => a.id - b.id);
}

function toSuiteSample(s: Sample): SuiteSample {
  return {
    id: s.id,
    code: s.code,
    language: s.language,
    label: s.label as 0 | 1,
    cwes: s.cwes,
    flaw_lines: s.flaw_lines,
    pair_id: s.pair_id,
    lines: codeLines(s.code).length,
  };
}

/** Vulnerable/fixed pairs present in the suite (both sides), as sample ids. */
export function suitePairs(samples: readonly { id: number; label: 0 | 1; pair_id: string | null }[]): Array<{ pair: string; vulnerable: number; fixed: number }> {
  const byPair = new Map<string, { vulnerable?: number; fixed?: number; count: number }>();
  for (const s of samples) {
    if (s.pair_id === null) continue;
    const entry = byPair.get(s.pair_id) ?? { count: 0 };
    entry.count++;
    if (s.label === 1) entry.vulnerable = s.id;
    else entry.fixed = s.id;
    byPair.set(s.pair_id, entry);
  }
  const out: Array<{ pair: string; vulnerable: number; fixed: number }> = [];
  for (const [pair, e] of byPair) {
    // A pair is scored only when it is exactly one vulnerable and one fixed sample.
    if (e.count === 2 && e.vulnerable !== undefined && e.fixed !== undefined) out.push({ pair, vulnerable: e.vulnerable, fixed: e.fixed });
  }
  return out.sort((a, b) => a.vulnerable - b.vulnerable);
}
