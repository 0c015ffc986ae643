import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { checkLeakage, renderLeakage, type LeakageKind, type LeakageReport } from '../../src/corpus/leakage.js';
import { splitDataset } from '../../src/corpus/split.js';
import { updateNearDuplicates, type NearDupSettings } from '../../src/corpus/dedup.js';
import { openKb, type Db } from '../../src/kb/db.js';
import { ensureDataset, type DatasetRow } from '../../src/kb/datasets.js';
import { insertSamples, type SampleInput } from '../../src/kb/samples.js';
import { familyCode, julietLike } from '../helpers/corpus-fixtures.js';
import { tempDir } from '../helpers/cli.js';

const nearDup: NearDupSettings = { threshold: 0.8, shingle: 5, permutations: 128, bands: 32, identifiers: 'abstract' };

function kind(report: LeakageReport, k: LeakageKind) {
  return report.kinds.find((x) => x.kind === k)!;
}

describe('split checker', () => {
  let dir: { dir: string; cleanup: () => void };
  let db: Db;
  let dataset: DatasetRow;
  const setSplit = (id: number, split: string | null): void => {
    db.prepare('UPDATE samples SET split = ? WHERE id = ?').run(split, id);
  };
  const ids = (): number[] => (db.prepare('SELECT id FROM samples WHERE dataset_id = ? ORDER BY id').all(dataset.id) as Array<{ id: number }>).map((r) => r.id);

  beforeEach(() => {
    dir = tempDir();
    db = openKb(join(dir.dir, 'kb.sqlite'));
    dataset = ensureDataset(db, 'fam', 'jsonl', null);
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  it('refuses a dataset without splits', () => {
    insertSamples(db, dataset.id, julietLike(2, 2));
    expect(() => checkLeakage(db, dataset)).toThrow(/dataset "fam" has no splits yet \(run: finesec split fam --by group\)/);
  });

  it('passes a group split and reports kinds the dataset lacks as not applicable', () => {
    insertSamples(db, dataset.id, julietLike(10, 4));
    splitDataset(db, dataset, { by: 'group', ratios: [0.6, 0.2, 0.2], seed: 1 }, nearDup);
    const report = checkLeakage(db, dataset);
    expect(report.clean).toBe(true);
    expect(report.leaks).toBe(0);
    expect(report.splits.train + report.splits.valid + report.splits.test).toBe(80);
    expect(kind(report, 'commit').applicable).toBe(false);
    expect(kind(report, 'group').applicable).toBe(true);
    expect(kind(report, 'near_duplicate').applicable).toBe(true);
    expect(renderLeakage(report)).toMatch(/no leakage across splits/);
  });

  it('finds a pair, a group and a near-duplicate cluster cut by moving one sample', () => {
    insertSamples(db, dataset.id, julietLike(6, 3));
    splitDataset(db, dataset, { by: 'group', ratios: [0.5, 0.25, 0.25], seed: 1 }, nearDup);
    const first = db.prepare('SELECT id, split, pair_id, group_id FROM samples WHERE dataset_id = ? ORDER BY id LIMIT 1').get(dataset.id) as { id: number; split: string; pair_id: string; group_id: string };
    const other = first.split === 'train' ? 'test' : 'train';
    setSplit(first.id, other);
    const report = checkLeakage(db, dataset, { examples: 2 });
    expect(report.clean).toBe(false);
    expect(kind(report, 'pair')).toMatchObject({ units: 1, samples: 2 });
    expect(kind(report, 'pair').examples[0]!.key).toBe(first.pair_id);
    expect(kind(report, 'pair').examples[0]!.samples).toContainEqual({ id: first.id, split: other });
    expect(kind(report, 'group')).toMatchObject({ units: 1, samples: 6 });
    expect(kind(report, 'near_duplicate').units).toBe(1);
    expect(kind(report, 'code_hash').units).toBe(0);
    expect(report.leaks).toBe(3);
    expect(renderLeakage(report)).toMatch(/pair +1 leaking \(2 samples\)/);
  });

  it('checks commits, pairs and groups of every merged input row, not only of the sample', () => {
    const base = { language: 'c' as const, label: 1 as const, cwes: [], flawLines: [] };
    const rows: SampleInput[] = [
      { ...base, sourceKey: 'a', code: familyCode(0, 0), commitId: 'C1' },
      // Same normalised code as 'a': merged into it, bringing commit C2, pair P9 and group G7.
      { ...base, sourceKey: 'a2', code: familyCode(0, 0) + '\n\n', commitId: 'C2', pairId: 'P9', groupId: 'G7' },
      { ...base, sourceKey: 'b', code: familyCode(1, 0), commitId: 'C2' },
      { ...base, sourceKey: 'c', code: familyCode(2, 0), pairId: 'P9' },
      { ...base, sourceKey: 'd', code: familyCode(3, 0), groupId: 'G7' },
    ];
    insertSamples(db, dataset.id, rows);
    const [a, b, c, d] = ids();
    setSplit(a!, 'train');
    setSplit(b!, 'test');
    setSplit(c!, 'valid');
    setSplit(d!, 'test');
    updateNearDuplicates(db, dataset.id, nearDup);
    const report = checkLeakage(db, dataset);
    expect(kind(report, 'commit')).toMatchObject({ units: 1, samples: 2 });
    expect(kind(report, 'commit').examples[0]).toMatchObject({ key: 'C2', splits: { train: 1, test: 1 } });
    expect(kind(report, 'pair').examples[0]).toMatchObject({ key: 'P9', splits: { train: 1, valid: 1 } });
    expect(kind(report, 'group').examples[0]).toMatchObject({ key: 'G7', splits: { train: 1, test: 1 } });
    expect(kind(report, 'near_duplicate').units).toBe(0);
  });

  it('reports samples without a split and ignores them', () => {
    insertSamples(db, dataset.id, julietLike(3, 2));
    splitDataset(db, dataset, { by: 'group', ratios: [0.5, 0.25, 0.25], seed: 1 }, nearDup);
    setSplit(ids()[0]!, null);
    const report = checkLeakage(db, dataset);
    expect(report.unassigned).toBe(1);
    expect(report.clean).toBe(true);
    expect(renderLeakage(report)).toMatch(/1 without a split \(not checked\)/);
  });

  it('reports a random split of flow-variant near-duplicates as leaking', () => {
    insertSamples(db, dataset.id, julietLike(8, 6));
    splitDataset(db, dataset, { by: 'random', ratios: [0.6, 0.2, 0.2], seed: 1 }, nearDup);
    updateNearDuplicates(db, dataset.id, nearDup);
    const report = checkLeakage(db, dataset);
    expect(report.clean).toBe(false);
    expect(kind(report, 'near_duplicate').units).toBeGreaterThan(0);
    expect(kind(report, 'group').units).toBeGreaterThan(0);
    expect(renderLeakage(report)).toMatch(/LEAKAGE: \d+ units straddle splits/);
  });
});
