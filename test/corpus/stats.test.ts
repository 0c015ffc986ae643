import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { datasetStats, percentile, renderDatasetList, renderDatasetStats, summarizeDataset } from '../../src/corpus/stats.js';
import { updateNearDuplicates, type NearDupSettings } from '../../src/corpus/dedup.js';
import { openKb, type Db } from '../../src/kb/db.js';
import { ensureDataset, type DatasetRow } from '../../src/kb/datasets.js';
import { insertSamples, type SampleInput } from '../../src/kb/samples.js';
import { recordRejection } from '../../src/kb/rejections.js';
import { tempDir } from '../helpers/cli.js';

const nearDup: NearDupSettings = { threshold: 0.8, shingle: 5, permutations: 128, bands: 32, identifiers: 'abstract' };

describe('percentile', () => {
  it('uses the nearest rank', () => {
    expect(percentile([1, 4, 5, 10], 50)).toBe(4);
    expect(percentile([1, 4, 5, 10], 90)).toBe(10);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 90)).toBe(90);
  });
});

describe('dataset statistics', () => {
  let dir: { dir: string; cleanup: () => void };
  let db: Db;
  let dataset: DatasetRow;

  // Four distinct samples of 1, 4, 5 and 10 lines (6, 19, 29 and 59 characters) from six rows.
  const c1 = 'int a;\n';
  const c2 = 'void f()\n{\n  x();\n}';
  const c3 = 'a1;\nb22;\nc333;\nd4444;\ne55555;';
  const c4 = Array.from({ length: 10 }, (_, i) => `x${i}=${i};`).join('\n');
  const row = (key: string, code: string, fields: Partial<SampleInput>): SampleInput => ({
    sourceKey: key,
    code,
    language: 'c',
    label: 1,
    cwes: [],
    flawLines: [],
    ...fields,
  });

  beforeEach(() => {
    dir = tempDir();
    db = openKb(join(dir.dir, 'kb.sqlite'));
    dataset = ensureDataset(db, 'hand', 'jsonl', 'hand.jsonl');
    insertSamples(db, dataset.id, [
      row('r1', c1, { label: 1, cwes: ['CWE-121'], pairId: 'P1', groupId: 'G1' }),
      row('r2', c2, { label: 0, cwes: ['CWE-121', 'CWE-787'], language: 'cpp', pairId: 'P1', project: 'proj' }),
      row('r3', c3, { label: 1, cwes: ['CWE-476'], groupId: 'G2' }),
      row('r3-dup', c3.replace('b22;', '  b22;') + '\n', { label: 0, cwes: ['CWE-476'], groupId: 'G3' }),
      row('r4', c4, { label: 0 }),
      row('r4-dup', c4, { label: 0 }),
    ]);
    const ids = (db.prepare('SELECT id FROM samples ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
    db.prepare('UPDATE samples SET split = ? WHERE id = ?').run('train', ids[0]);
    db.prepare('UPDATE samples SET split = ? WHERE id = ?').run('test', ids[1]);
    db.prepare('UPDATE samples SET split = ? WHERE id = ?').run('train', ids[2]);
    recordRejection(db, { stage: 'ingest', datasetId: dataset.id, source: 'hand.jsonl', line: 9, reason: 'bad JSON' });
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  it('counts labels, conflicts, duplicates, CWEs, splits, languages and relations', () => {
    const s = datasetStats(db, dataset, { topCwes: 2 });
    expect(s).toMatchObject({
      name: 'hand',
      format: 'jsonl',
      samples: 4,
      rows: 6,
      duplicatesMerged: 2,
      labelConflicts: 1,
      labels: { vulnerable: 1, not_vulnerable: 2, unknown: 1 },
      languages: { c: 3, cpp: 1 },
      splits: { train: 2, valid: 0, test: 1, unassigned: 1 },
      splitLabels: {
        train: { vulnerable: 1, not_vulnerable: 0, unknown: 1 },
        valid: { vulnerable: 0, not_vulnerable: 0, unknown: 0 },
        test: { vulnerable: 0, not_vulnerable: 1, unknown: 0 },
      },
      cwes: { distinct: 3, withoutCwe: 1, top: [{ cwe: 'CWE-121', samples: 2 }, { cwe: 'CWE-476', samples: 1 }] },
      pairs: 1,
      groups: 3,
      projects: 1,
      commits: 0,
      rejections: 1,
      nearDuplicates: null,
    });
  });

  it('gives code-length percentiles in lines and characters', () => {
    const s = datasetStats(db, dataset);
    expect(s.lines).toEqual({ p50: 4, p90: 10, p99: 10, max: 10, mean: 5 });
    expect(s.chars).toEqual({ p50: 19, p90: 59, p99: 59, max: 59, mean: 28.3 });
  });

  it('shows near-duplicate clusters once computed, and whether they are current', () => {
    updateNearDuplicates(db, dataset.id, nearDup);
    expect(datasetStats(db, dataset, { nearDup }).nearDuplicates).toMatchObject({ clusters: 0, upToDate: true });
    insertSamples(db, dataset.id, [row('r5', 'int z(void) { return 0; }', {})]);
    const s = datasetStats(db, dataset, { nearDup });
    expect(s.nearDuplicates?.upToDate).toBe(false);
    expect(renderDatasetStats(s)).toMatch(/stale/);
  });

  it('renders the stats and the dataset list as text', () => {
    const text = renderDatasetStats(datasetStats(db, dataset));
    expect(text).toMatch(/4 distinct from 6 rows read \(2 exact duplicates merged\)/);
    expect(text).toMatch(/1 vulnerable, 2 not vulnerable, 1 unknown; 1 label conflicts/);
    expect(text).toMatch(/lines +p50 4, p90 10, p99 10, max 10/);
    const other = ensureDataset(db, 'empty', 'source', null);
    const list = renderDatasetList([summarizeDataset(db, other), summarizeDataset(db, dataset)]);
    expect(list.split('\n')[0]).toMatch(/^NAME +FORMAT +SAMPLES +ROWS/);
    expect(list).toMatch(/empty +source +0 +0 +0 +0 +0 +-/);
    expect(list).toMatch(/hand +jsonl +4 +6 +1 +2 +1 +2\/0\/1 \(\+1 unassigned\)/);
  });
});
