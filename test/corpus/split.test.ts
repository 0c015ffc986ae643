import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadSplitItems, parseRatios, planSplit, splitDataset, type SplitItem, type SplitPlan } from '../../src/corpus/split.js';
import type { NearDupSettings } from '../../src/corpus/dedup.js';
import { openKb, type Db } from '../../src/kb/db.js';
import { ensureDataset, type DatasetRow } from '../../src/kb/datasets.js';
import { insertSamples, type SplitName } from '../../src/kb/samples.js';
import { julietLike, rng } from '../helpers/corpus-fixtures.js';
import { tempDir } from '../helpers/cli.js';

const nearDup: NearDupSettings = { threshold: 0.8, shingle: 5, permutations: 128, bands: 32, identifiers: 'abstract' };

function item(id: number, fields: Partial<SplitItem> = {}): SplitItem {
  return { id, label: id % 2 === 0 ? 1 : 0, pairIds: [], groupIds: [], projects: [], commitIds: [], commitTime: null, nearDupCluster: null, ...fields };
}

/** Items in groups of random size 1..maxGroup, paired two by two inside a group, some near-duplicate clusters across groups. */
function groupedItems(groups: number, maxGroup: number, seed: number): SplitItem[] {
  const random = rng(seed);
  const items: SplitItem[] = [];
  for (let g = 0; g < groups; g++) {
    const size = 1 + Math.floor(random() * maxGroup);
    for (let k = 0; k < size; k++) {
      const id = items.length + 1;
      items.push(
        item(id, {
          groupIds: [`g${g}`],
          pairIds: [`g${g}-p${k >> 1}`],
          label: k % 2 === 0 ? 1 : 0,
          nearDupCluster: g % 10 === 3 && k === 0 ? 999 : null,
        }),
      );
    }
  }
  return items;
}

/** Every key of the given kind has all its items in one split. */
function expectTogether(items: SplitItem[], plan: SplitPlan, key: (i: SplitItem) => Array<string | number>): void {
  const splitOfKey = new Map<string, SplitName>();
  items.forEach((it, index) => {
    for (const k of key(it)) {
      const have = splitOfKey.get(String(k));
      if (have === undefined) splitOfKey.set(String(k), plan.assignment[index]!);
      else expect(plan.assignment[index], `key ${k}`).toBe(have);
    }
  });
}

describe('split planning', () => {
  it('keeps groups, pairs and near-duplicate clusters together and meets the ratios', () => {
    const items = groupedItems(300, 8, 1);
    const plan = planSplit(items, { by: 'group', ratios: [0.8, 0.1, 0.1], seed: 3 });
    expectTogether(items, plan, (i) => i.groupIds);
    expectTogether(items, plan, (i) => i.pairIds);
    expectTogether(items, plan, (i) => (i.nearDupCluster === null ? [] : [i.nearDupCluster]));
    const n = items.length;
    expect(Math.abs(plan.counts.train.total / n - 0.8)).toBeLessThan(0.01);
    expect(Math.abs(plan.counts.valid.total / n - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(plan.counts.test.total / n - 0.1)).toBeLessThan(0.01);
    expect(plan.warnings).toEqual([]);
    // 30 groups share near-duplicate cluster 999, so they form one component.
    expect(plan.largestComponents[0]).toBeGreaterThanOrEqual(30);
    expect(plan.components).toBe(300 - 30 + 1);
  });

  it('is deterministic by seed, and another seed gives another split', () => {
    const items = groupedItems(200, 6, 2);
    const a = planSplit(items, { by: 'group', ratios: [0.8, 0.1, 0.1], seed: 11 });
    const b = planSplit(items, { by: 'group', ratios: [0.8, 0.1, 0.1], seed: 11 });
    const c = planSplit(items, { by: 'group', ratios: [0.8, 0.1, 0.1], seed: 12 });
    expect(b.assignment).toEqual(a.assignment);
    expect(c.assignment).not.toEqual(a.assignment);
    const r1 = planSplit(items, { by: 'random', ratios: [0.8, 0.1, 0.1], seed: 5 });
    expect(planSplit(items, { by: 'random', ratios: [0.8, 0.1, 0.1], seed: 5 }).assignment).toEqual(r1.assignment);
  });

  it('keeps the label balance when components carry a single label', () => {
    // Half of the groups are all vulnerable, half all fixed, in very different sizes.
    const random = rng(9);
    const items: SplitItem[] = [];
    for (let g = 0; g < 400; g++) {
      const size = 1 + Math.floor(random() * 10);
      for (let k = 0; k < size; k++) items.push(item(items.length + 1, { groupIds: [`g${g}`], label: g % 3 === 0 ? 1 : 0 }));
    }
    const plan = planSplit(items, { by: 'group', ratios: [0.7, 0.15, 0.15], seed: 1 });
    const overall = items.filter((i) => i.label === 1).length / items.length;
    for (const split of ['train', 'valid', 'test'] as const) {
      const c = plan.counts[split];
      expect(Math.abs(c.labels.vulnerable / c.total - overall), split).toBeLessThan(0.02);
    }
  });

  it('by project and by commit keep projects and commits together; commits and pairs always', () => {
    const random = rng(4);
    const items: SplitItem[] = [];
    for (let p = 0; p < 40; p++) {
      for (let c = 0; c < 1 + Math.floor(random() * 5); c++) {
        for (let f = 0; f < 1 + Math.floor(random() * 4); f++) {
          items.push(item(items.length + 1, { projects: [`proj${p}`], commitIds: [`p${p}c${c}`], pairIds: [`p${p}c${c}f${f >> 1}`] }));
        }
      }
    }
    const byProject = planSplit(items, { by: 'project', ratios: [0.8, 0.1, 0.1], seed: 1 });
    expectTogether(items, byProject, (i) => i.projects);
    const byCommit = planSplit(items, { by: 'commit', ratios: [0.8, 0.1, 0.1], seed: 1 });
    expectTogether(items, byCommit, (i) => i.commitIds);
    expectTogether(items, byCommit, (i) => i.pairIds);
    // Commits are finer than projects: some project spans splits, and the ratios are closer.
    expect(byCommit.components).toBeGreaterThan(byProject.components);
    const projectSplits = new Map<string, Set<string>>();
    items.forEach((it, i) => {
      const set = projectSplits.get(it.projects[0]!) ?? new Set();
      set.add(byCommit.assignment[i]!);
      projectSplits.set(it.projects[0]!, set);
    });
    expect([...projectSplits.values()].some((s) => s.size > 1)).toBe(true);
  });

  it('by time puts the oldest commits in train and the newest in test', () => {
    const items: SplitItem[] = [];
    for (let c = 0; c < 100; c++) {
      const time = new Date(Date.UTC(2015, 0, 1) + c * 86_400_000 * 7).toISOString();
      for (let f = 0; f < 1 + (c % 3); f++) items.push(item(items.length + 1, { commitIds: [`c${c}`], commitTime: time }));
    }
    const plan = planSplit(items, { by: 'time', ratios: [0.8, 0.1, 0.1], seed: 1 });
    expectTogether(items, plan, (i) => i.commitIds);
    const times = (split: SplitName): number[] => items.filter((_, i) => plan.assignment[i] === split).map((i) => Date.parse(i.commitTime!));
    expect(Math.max(...times('train'))).toBeLessThan(Math.min(...times('valid')));
    expect(Math.max(...times('valid'))).toBeLessThan(Math.min(...times('test')));
    expect(Math.abs(plan.counts.train.total / items.length - 0.8)).toBeLessThan(0.03);
  });

  it('by time treats unknown times as oldest with a warning, and refuses when no time is known', () => {
    const items = [item(1, { commitTime: '2020-01-01T00:00:00Z' }), item(2), item(3, { commitTime: '2021-01-01T00:00:00Z' }), item(4, { commitTime: 'not a date' })];
    const plan = planSplit(items, { by: 'time', ratios: [0.5, 0.25, 0.25], seed: 1 });
    expect(plan.assignment[1]).toBe('train');
    expect(plan.assignment[3]).toBe('train');
    expect(plan.assignment[2]).toBe('test');
    expect(plan.warnings.join('\n')).toMatch(/2 samples in 2 components have no commit time: treated as oldest/);
    expect(() => planSplit([item(1), item(2)], { by: 'time', ratios: [0.8, 0.1, 0.1], seed: 1 })).toThrow(/no sample has a commit time/);
  });

  it('says so, with sizes, when one component is too large for the ratios', () => {
    const items = [...Array.from({ length: 60 }, (_, i) => item(i + 1, { groupIds: ['giant'] })), ...Array.from({ length: 40 }, (_, i) => item(100 + i, { groupIds: [`g${i}`] }))];
    const plan = planSplit(items, { by: 'group', ratios: [0.34, 0.33, 0.33], seed: 1 });
    expect(plan.largestComponents[0]).toBe(60);
    const text = plan.warnings.join('\n');
    expect(text).toMatch(/train has 60 samples \(60\.0%\) instead of about 34/);
    expect(text).toMatch(/the largest 60, 1, 1/);
    expect(text).toMatch(/the largest alone \(60\) exceeds the train share/);
  });

  it('random is a plain per-sample shuffle that ignores groups and pairs', () => {
    const items = groupedItems(100, 6, 5);
    const plan = planSplit(items, { by: 'random', ratios: [0.8, 0.1, 0.1], seed: 1 });
    expect(plan.counts.valid.total).toBe(Math.round(items.length * 0.1));
    const groupsSplit = new Map<string, Set<string>>();
    items.forEach((it, i) => groupsSplit.set(it.groupIds[0]!, (groupsSplit.get(it.groupIds[0]!) ?? new Set()).add(plan.assignment[i]!)));
    expect([...groupsSplit.values()].filter((s) => s.size > 1).length).toBeGreaterThan(10);
  });

  it('never gives samples to a split whose ratio is 0', () => {
    const plan = planSplit(groupedItems(50, 4, 8), { by: 'group', ratios: [0.9, 0, 0.1], seed: 1 });
    expect(plan.counts.valid.total).toBe(0);
    expect(plan.counts.test.total).toBeGreaterThan(0);
  });

  it('validates ratios', () => {
    expect(parseRatios(['8', '1', '1'])).toEqual([0.8, 0.1, 0.1]);
    expect(() => parseRatios(['0.8', '0.2'])).toThrow(/three non-negative numbers/);
    expect(() => parseRatios(['0.8', '-0.1', '0.3'])).toThrow(/three non-negative numbers/);
    expect(() => parseRatios(['a', '0.1', '0.1'])).toThrow(/three non-negative numbers/);
    expect(() => parseRatios([0, 0, 0])).toThrow(/must not all be 0/);
  });
});

describe('splitting a dataset in the knowledge base', () => {
  let dir: { dir: string; cleanup: () => void };
  let db: Db;
  let dataset: DatasetRow;

  beforeEach(() => {
    dir = tempDir();
    db = openKb(join(dir.dir, 'kb.sqlite'));
    dataset = ensureDataset(db, 'fam', 'jsonl', null);
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  it('merges the relations of every input row of a sample: two groups of one merged sample are joined', () => {
    const base = { language: 'c' as const, label: 1 as const, cwes: [], flawLines: [] };
    insertSamples(db, dataset.id, [
      { ...base, sourceKey: 'r1', code: 'int a(void) { return 1; }', groupId: 'G1', pairId: 'P1' },
      { ...base, sourceKey: 'r2', code: 'int a(void)  {  return 1; }', groupId: 'G2', pairId: 'P2' },
      { ...base, sourceKey: 'r3', code: 'int b(void) { return 2; }', groupId: 'G2' },
      { ...base, sourceKey: 'r4', code: 'int c(void) { return 3; }', groupId: 'G1' },
    ]);
    const items = loadSplitItems(db, dataset.id);
    expect(items).toHaveLength(3);
    expect(items[0]!.groupIds).toEqual(['G1', 'G2']);
    expect(items[0]!.pairIds).toEqual(['P1', 'P2']);
    const plan = planSplit(items, { by: 'group', ratios: [0.4, 0.3, 0.3], seed: 1 });
    expect(plan.components).toBe(1);
  });

  it('writes the split, records a run with config and counts, and reuses near-duplicate clusters', () => {
    insertSamples(db, dataset.id, julietLike(12, 4));
    const result = splitDataset(db, dataset, { by: 'group', ratios: [0.5, 0.25, 0.25], seed: 2 }, nearDup);
    expect(result.samples).toBe(96);
    expect(result.components).toBe(12);
    expect(result.nearDuplicates?.clusters).toBe(12);
    expect(result.nearDuplicates?.cached).toBe(false);
    const stored = db.prepare('SELECT split, COUNT(*) AS n FROM samples WHERE dataset_id = ? GROUP BY split ORDER BY split').all(dataset.id);
    expect(stored).toEqual([
      { split: 'test', n: result.counts.test.total },
      { split: 'train', n: result.counts.train.total },
      { split: 'valid', n: result.counts.valid.total },
    ]);
    expect(result.counts.train.total).toBe(48);
    const run = db.prepare('SELECT stage, status, config, stats FROM runs WHERE id = ?').get(result.runId) as { stage: string; status: string; config: string; stats: string };
    expect(run.stage).toBe('split');
    expect(run.status).toBe('done');
    expect(JSON.parse(run.config)).toMatchObject({ by: 'group', ratios: [0.5, 0.25, 0.25], seed: 2, near_duplicates: { threshold: 0.8 } });
    expect(JSON.parse(run.stats).counts.train.total).toBe(48);

    const again = splitDataset(db, dataset, { by: 'group', ratios: [0.5, 0.25, 0.25], seed: 2 }, nearDup);
    expect(again.nearDuplicates?.cached).toBe(true);
  });

  it('records a failed run and leaves the previous split when a split cannot be made', () => {
    insertSamples(db, dataset.id, julietLike(4, 2));
    splitDataset(db, dataset, { by: 'group', ratios: [0.5, 0.25, 0.25], seed: 1 }, nearDup);
    const before = db.prepare('SELECT id, split FROM samples ORDER BY id').all();
    expect(() => splitDataset(db, dataset, { by: 'time', ratios: [0.8, 0.1, 0.1], seed: 1 }, nearDup)).toThrow(/no sample has a commit time/);
    expect(db.prepare('SELECT id, split FROM samples ORDER BY id').all()).toEqual(before);
    expect(db.prepare("SELECT status FROM runs WHERE stage = 'split' ORDER BY started_at DESC, rowid DESC LIMIT 1").get()).toEqual({ status: 'failed' });
  });
});
