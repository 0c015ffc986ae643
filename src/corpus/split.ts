/**
 * Leakage-free train/valid/test splits. Samples that must stay together form a component (union of
 * the relations below); whole components are assigned to splits, so none straddles two.
 *
 * Always together (every mode except random): the same pair id (from the sample and from every
 * input row merged into it), the same commit, and the same near-duplicate cluster. Per mode:
 * - group: also the same group id (a merged sample joins all its rows' groups);
 * - project: also the same project;
 * - commit: nothing more (commits are always kept together);
 * - time: components ordered by their earliest commit time, oldest to train, newest to test;
 * - random: a plain per-sample seeded shuffle, the naive baseline that leaks (see split --check).
 * Assignment (group, project, commit) is greedy and deterministic by seed: components in a seeded
 * shuffle, then largest first, each into the split furthest below its target for the labels the
 * component brings, which keeps both the ratios and the label balance.
 */
import type { Db } from '../kb/db.js';
import type { SplitName } from '../kb/samples.js';
import type { DatasetRow } from '../kb/datasets.js';
import { finishRun, startRun } from '../kb/runs.js';
import { UnionFind, updateNearDuplicates, type NearDupOutcome, type NearDupSettings } from './dedup.js';
import { InputError, UsageError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export const SPLIT_MODES = ['group', 'project', 'commit', 'time', 'random'] as const;
export type SplitMode = (typeof SPLIT_MODES)[number];
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'valid', 'test'];

export interface SplitPlanOptions {
  by: SplitMode;
  /** train, valid, test; normalised to sum 1. */
  ratios: [number, number, number];
  seed: number;
}

/** What the planner needs of one sample (relations already merged over its input rows). */
export interface SplitItem {
  id: number;
  label: 0 | 1 | null;
  pairIds: string[];
  groupIds: string[];
  projects: string[];
  commitIds: string[];
  commitTime: string | null;
  nearDupCluster: number | null;
}

export type LabelKey = 'vulnerable' | 'not_vulnerable' | 'unknown';
export type LabelCounts = Record<LabelKey, number>;

export interface SplitCounts {
  total: number;
  labels: LabelCounts;
}

export interface SplitPlan {
  /** Split of each item, in the order given. */
  assignment: SplitName[];
  counts: Record<SplitName, SplitCounts>;
  /** Components (units that cannot be separated); for random, every sample is its own. */
  components: number;
  /** Sizes of the largest components, largest first. */
  largestComponents: number[];
  /** Component count by size range, e.g. {"1": 500, "2": 300, "3-5": 40, ...}. */
  componentSizes: Record<string, number>;
  /** Targets in samples for each split. */
  targets: Record<SplitName, number>;
  warnings: string[];
}

export function labelKey(label: 0 | 1 | null): LabelKey {
  return label === 1 ? 'vulnerable' : label === 0 ? 'not_vulnerable' : 'unknown';
}

export function emptyLabelCounts(): LabelCounts {
  return { vulnerable: 0, not_vulnerable: 0, unknown: 0 };
}

const LABELS: LabelKey[] = ['vulnerable', 'not_vulnerable', 'unknown'];

/** Checks and normalises --ratios: three non-negative numbers with a positive sum. */
export function parseRatios(values: Array<string | number>): [number, number, number] {
  const nums = values.map((v) => (typeof v === 'number' ? v : Number(v)));
  if (nums.length !== 3 || nums.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new UsageError(`split: --ratios expects three non-negative numbers train,valid,test (e.g. 0.8,0.1,0.1), got "${values.join(',')}"`);
  }
  const sum = nums[0]! + nums[1]! + nums[2]!;
  if (sum <= 0) throw new UsageError('split: --ratios must not all be 0');
  return [nums[0]! / sum, nums[1]! / sum, nums[2]! / sum];
}

/** A small seeded generator (32-bit state, Math.imul), so splits do not depend on the platform. */
export function seededRandom(seed: number): () => number {
  let state = (seed | 0) ^ 0x9e3779b9;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

interface Component {
  members: number[];
  labels: LabelCounts;
  /** Earliest known commit time (ms since epoch), NaN when no member has one. */
  earliest: number;
}

/** Unions items that share any key of the given kinds. */
function buildComponents(items: SplitItem[], by: SplitMode): Component[] {
  const sets = new UnionFind(items.length);
  const firstWithKey = new Map<string, number>();
  const join = (index: number, key: string): void => {
    const first = firstWithKey.get(key);
    if (first === undefined) firstWithKey.set(key, index);
    else sets.union(index, first);
  };
  items.forEach((item, index) => {
    for (const p of item.pairIds) join(index, `pair\u0000${p}`);
    for (const c of item.commitIds) join(index, `commit\u0000${c}`);
    if (item.nearDupCluster !== null) join(index, `near\u0000${item.nearDupCluster}`);
    if (by === 'group') for (const g of item.groupIds) join(index, `group\u0000${g}`);
    if (by === 'project') for (const p of item.projects) join(index, `project\u0000${p}`);
  });
  const byRoot = new Map<number, Component>();
  items.forEach((item, index) => {
    const root = sets.find(index);
    let component = byRoot.get(root);
    if (!component) {
      component = { members: [], labels: emptyLabelCounts(), earliest: Number.NaN };
      byRoot.set(root, component);
    }
    component.members.push(index);
    component.labels[labelKey(item.label)]++;
    const time = item.commitTime ? Date.parse(item.commitTime) : Number.NaN;
    if (!Number.isNaN(time) && !(time >= component.earliest)) component.earliest = time;
  });
  return [...byRoot.values()];
}

const SIZE_RANGES: Array<[string, number, number]> = [
  ['1', 1, 1],
  ['2', 2, 2],
  ['3-5', 3, 5],
  ['6-10', 6, 10],
  ['11-50', 11, 50],
  ['51-100', 51, 100],
  ['101-500', 101, 500],
  ['501-1000', 501, 1000],
  ['1001-5000', 1001, 5000],
  ['>5000', 5001, Number.POSITIVE_INFINITY],
];

function sizeHistogram(sizes: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const size of sizes) {
    const range = SIZE_RANGES.find(([, lo, hi]) => size >= lo && size <= hi)!;
    out[range[0]] = (out[range[0]] ?? 0) + 1;
  }
  return Object.fromEntries(SIZE_RANGES.filter(([name]) => out[name]).map(([name]) => [name, out[name]!]));
}

/** Plans a split of the items (pure: reads nothing, writes nothing). */
export function planSplit(items: SplitItem[], options: SplitPlanOptions): SplitPlan {
  const ratios = parseRatios(options.ratios);
  const n = items.length;
  const targets = { train: ratios[0] * n, valid: ratios[1] * n, test: ratios[2] * n };
  const random = seededRandom(options.seed);
  const warnings: string[] = [];
  const assignment: SplitName[] = new Array<SplitName>(n);
  let components: Component[];

  if (options.by === 'random') {
    const order = shuffle(
      items.map((_, i) => i),
      random,
    );
    const trainEnd = Math.round(targets.train);
    const validEnd = trainEnd + Math.round(targets.valid);
    order.forEach((index, position) => {
      assignment[index] = position < trainEnd ? 'train' : position < validEnd ? 'valid' : 'test';
    });
    components = items.map((item, index) => ({ members: [index], labels: { ...emptyLabelCounts(), [labelKey(item.label)]: 1 }, earliest: Number.NaN }));
  } else {
    components = shuffle(buildComponents(items, options.by), random);
    if (options.by === 'time') assignByTime(components, targets, assignment, warnings);
    else assignGreedy(components, items, ratios, assignment);
  }

  const counts = countSplits(items, assignment);
  const sizes = components.map((c) => c.members.length).sort((a, b) => b - a);
  warnings.push(...ratioWarnings(counts, targets, n, sizes));
  return {
    assignment,
    counts,
    components: components.length,
    largestComponents: sizes.slice(0, 10),
    componentSizes: sizeHistogram(sizes),
    targets,
    warnings,
  };
}

/** Largest component first, each into the split whose per-label deficit is largest for it. */
function assignGreedy(components: Component[], items: SplitItem[], ratios: [number, number, number], assignment: SplitName[]): void {
  const labelTotals = emptyLabelCounts();
  for (const item of items) labelTotals[labelKey(item.label)]++;
  const open = SPLIT_NAMES.filter((_, k) => ratios[k]! > 0);
  const current = Object.fromEntries(SPLIT_NAMES.map((s) => [s, emptyLabelCounts()])) as Record<SplitName, LabelCounts>;
  const target = (split: SplitName, label: LabelKey): number => ratios[SPLIT_NAMES.indexOf(split)]! * labelTotals[label];
  // Stable sort: equal sizes keep their seeded order.
  const ordered = [...components].sort((a, b) => b.members.length - a.members.length);
  for (const component of ordered) {
    let best = open[0]!;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const split of open) {
      let score = 0;
      for (const label of LABELS) score += component.labels[label] * (target(split, label) - current[split][label]);
      score /= component.members.length;
      if (score > bestScore) {
        bestScore = score;
        best = split;
      }
    }
    for (const label of LABELS) current[best][label] += component.labels[label];
    for (const index of component.members) assignment[index] = best;
  }
}

/**
 * Oldest components to train, newest to test: a component goes to the split whose share of the
 * timeline contains the component's midpoint. Components without any commit time count as oldest.
 */
function assignByTime(components: Component[], targets: Record<SplitName, number>, assignment: SplitName[], warnings: string[]): void {
  const unknown = components.filter((c) => Number.isNaN(c.earliest));
  if (unknown.length === components.length) {
    throw new InputError('split --by time: no sample has a commit time (samples.commit_time); split --by commit, project or group instead');
  }
  if (unknown.length > 0) {
    const samples = unknown.reduce((sum, c) => sum + c.members.length, 0);
    warnings.push(`${samples} samples in ${unknown.length} components have no commit time: treated as oldest (train)`);
  }
  // Stable sort keeps the seeded order among equal times.
  const time = (c: Component): number => (Number.isNaN(c.earliest) ? Number.MIN_SAFE_INTEGER : c.earliest);
  const ordered = [...components].sort((a, b) => time(a) - time(b));
  const trainEnd = targets.train;
  const validEnd = targets.train + targets.valid;
  let position = 0;
  for (const component of ordered) {
    const middle = position + component.members.length / 2;
    const split: SplitName = middle <= trainEnd ? 'train' : middle <= validEnd ? 'valid' : 'test';
    for (const index of component.members) assignment[index] = split;
    position += component.members.length;
  }
}

function countSplits(items: SplitItem[], assignment: SplitName[]): Record<SplitName, SplitCounts> {
  const counts = Object.fromEntries(SPLIT_NAMES.map((s) => [s, { total: 0, labels: emptyLabelCounts() }])) as Record<SplitName, SplitCounts>;
  items.forEach((item, index) => {
    const c = counts[assignment[index]!];
    c.total++;
    c.labels[labelKey(item.label)]++;
  });
  return counts;
}

/**
 * Says when the achieved ratios are off by more than 2 points (or a split meant to have samples
 * got none), and why: the components that could not be cut.
 */
function ratioWarnings(counts: Record<SplitName, SplitCounts>, targets: Record<SplitName, number>, n: number, sizes: number[]): string[] {
  if (n === 0) return [];
  const warnings: string[] = [];
  const largest = sizes[0] ?? 0;
  for (const split of SPLIT_NAMES) {
    const target = targets[split];
    const got = counts[split].total;
    if (target > 0 && (got === 0 || Math.abs(got - target) / n > 0.02)) {
      warnings.push(
        `${split} has ${got} samples (${pct(got, n)}) instead of about ${Math.round(target)} (${pct(target, n)}): ` +
          `samples that must stay together form ${sizes.length} components, the largest ${sizes.slice(0, 5).join(', ')}` +
          (largest > target ? `; the largest alone (${largest}) exceeds the ${split} share` : ''),
      );
    }
  }
  return warnings;
}

function pct(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

/** Loads the split items of a dataset: each sample with its relations merged over its input rows. */
export function loadSplitItems(db: Db, datasetId: number): SplitItem[] {
  const rows = db
    .prepare(
      `SELECT id, label, pair_id, group_id, project, commit_id, commit_time, near_dup_cluster
       FROM samples WHERE dataset_id = ? ORDER BY id`,
    )
    .all(datasetId) as Array<{
    id: number;
    label: 0 | 1 | null;
    pair_id: string | null;
    group_id: string | null;
    project: string | null;
    commit_id: string | null;
    commit_time: string | null;
    near_dup_cluster: number | null;
  }>;
  const items: SplitItem[] = [];
  const byId = new Map<number, SplitItem>();
  const addUnique = (list: string[], value: string | null): void => {
    if (value !== null && value !== '' && !list.includes(value)) list.push(value);
  };
  for (const r of rows) {
    const item: SplitItem = {
      id: r.id,
      label: r.label,
      pairIds: [],
      groupIds: [],
      projects: [],
      commitIds: [],
      commitTime: r.commit_time,
      nearDupCluster: r.near_dup_cluster,
    };
    addUnique(item.pairIds, r.pair_id);
    addUnique(item.groupIds, r.group_id);
    addUnique(item.projects, r.project);
    addUnique(item.commitIds, r.commit_id);
    items.push(item);
    byId.set(r.id, item);
  }
  const sources = db
    .prepare('SELECT sample_id, pair_id, group_id, project, commit_id FROM sample_sources WHERE dataset_id = ?')
    .raw()
    .iterate(datasetId) as IterableIterator<[number, string | null, string | null, string | null, string | null]>;
  for (const [sampleId, pairId, groupId, project, commitId] of sources) {
    const item = byId.get(sampleId);
    if (!item) continue;
    addUnique(item.pairIds, pairId);
    addUnique(item.groupIds, groupId);
    addUnique(item.projects, project);
    addUnique(item.commitIds, commitId);
  }
  return items;
}

/** Writes the plan into samples.split in one transaction (every sample of the dataset is set). */
export function writeSplit(db: Db, datasetId: number, items: SplitItem[], assignment: SplitName[]): void {
  const clear = db.prepare('UPDATE samples SET split = NULL WHERE dataset_id = ?');
  const set = db.prepare('UPDATE samples SET split = ? WHERE id = ?');
  db.transaction(() => {
    clear.run(datasetId);
    items.forEach((item, index) => set.run(assignment[index]!, item.id));
  })();
}

export interface SplitResult {
  dataset: string;
  runId: string;
  by: SplitMode;
  ratios: [number, number, number];
  seed: number;
  samples: number;
  counts: Record<SplitName, SplitCounts>;
  components: number;
  largestComponents: number[];
  componentSizes: Record<string, number>;
  nearDuplicates: Omit<NearDupOutcome, 'settings'> | null;
  warnings: string[];
  seconds: number;
}

/**
 * Splits a dataset: brings near-duplicate clusters up to date (not for random), plans, writes
 * samples.split in one transaction and records a 'split' run with the config and the counts.
 */
export function splitDataset(
  db: Db,
  dataset: DatasetRow,
  options: SplitPlanOptions,
  nearDup: NearDupSettings,
  logger?: Logger,
): SplitResult {
  const started = Date.now();
  const ratios = parseRatios(options.ratios);
  const runId = startRun(db, 'split', { by: options.by, ratios, seed: options.seed, near_duplicates: nearDup }, { dataset: dataset.name });
  try {
    let nearDuplicates: SplitResult['nearDuplicates'] = null;
    if (options.by !== 'random') {
      const { settings: _settings, ...outcome } = updateNearDuplicates(db, dataset.id, nearDup, { logger });
      nearDuplicates = outcome;
    }
    const items = loadSplitItems(db, dataset.id);
    if (items.length === 0) throw new InputError(`dataset "${dataset.name}" has no samples to split`);
    const warnings = missingRelationWarnings(items, options.by);
    const plan = planSplit(items, { ...options, ratios });
    warnings.push(...plan.warnings);
    writeSplit(db, dataset.id, items, plan.assignment);
    const result: SplitResult = {
      dataset: dataset.name,
      runId,
      by: options.by,
      ratios,
      seed: options.seed,
      samples: items.length,
      counts: plan.counts,
      components: plan.components,
      largestComponents: plan.largestComponents,
      componentSizes: plan.componentSizes,
      nearDuplicates,
      warnings,
      seconds: (Date.now() - started) / 1000,
    };
    const { dataset: _name, runId: _run, ...stats } = result;
    finishRun(db, runId, 'done', stats);
    return result;
  } catch (err) {
    finishRun(db, runId, 'failed', { error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}

/** Says when the relation a mode splits by is missing from some or all samples. */
function missingRelationWarnings(items: SplitItem[], by: SplitMode): string[] {
  const field = by === 'group' ? 'groupIds' : by === 'project' ? 'projects' : by === 'commit' ? 'commitIds' : undefined;
  if (!field) return [];
  const missing = items.filter((item) => item[field].length === 0).length;
  if (missing === 0) return [];
  const what = by === 'group' ? 'group id' : by;
  if (missing === items.length) return [`no sample has a ${what}: only pairs, commits and near-duplicates are kept together`];
  return [`${missing} of ${items.length} samples have no ${what}: each is kept only with its pair, commit and near-duplicates`];
}
