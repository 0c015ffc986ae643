import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NearDupIndex, UnionFind, currentNearDuplicates, updateNearDuplicates, type NearDupSettings } from '../../src/corpus/dedup.js';
import { openKb, type Db } from '../../src/kb/db.js';
import { ensureDataset } from '../../src/kb/datasets.js';
import { insertSamples, type SampleInput } from '../../src/kb/samples.js';
import { familyCode } from '../helpers/corpus-fixtures.js';
import { tempDir } from '../helpers/cli.js';
import { join } from 'node:path';

const settings: NearDupSettings = { threshold: 0.8, shingle: 5, permutations: 128, bands: 32, identifiers: 'abstract' };

describe('UnionFind', () => {
  it('joins sets transitively and reports sizes', () => {
    const u = new UnionFind(6);
    expect(u.union(0, 1)).toBe(true);
    expect(u.union(2, 1)).toBe(true);
    expect(u.union(0, 2)).toBe(false);
    expect(u.find(0)).toBe(u.find(2));
    expect(u.find(3)).not.toBe(u.find(0));
    expect(u.setSize(1)).toBe(3);
    expect(u.setSize(5)).toBe(1);
  });
});

describe('near-duplicate clustering', () => {
  it('clusters flow variants, renamed variables and small edits, and keeps other families apart', () => {
    const index = new NearDupIndex(settings);
    const family: number[] = [];
    for (let f = 0; f < 6; f++) {
      for (let w = 0; w < 4; w++) {
        index.add(familyCode(f, w, { rename: `_${w}`, bad: w % 2 === 0 }));
        family.push(f);
      }
    }
    const { sets, stats } = index.cluster();
    for (let d = 0; d < family.length; d++) {
      for (let e = 0; e < family.length; e++) {
        expect(sets.find(d) === sets.find(e), `documents ${d} and ${e}`).toBe(family[d] === family[e]);
      }
    }
    expect(stats.clusters).toBe(6);
    expect(stats.clusteredSamples).toBe(24);
    expect(stats.largestCluster).toBe(4);
  });

  it('documents the identifier choice: renamed copies are near-duplicates only when identifiers are abstracted', () => {
    for (const identifiers of ['abstract', 'literal'] as const) {
      const index = new NearDupIndex({ ...settings, identifiers });
      index.add(familyCode(3, 0, { rename: '_a' }));
      index.add(familyCode(3, 0, { rename: '_b' }));
      const { sets } = index.cluster();
      expect(sets.find(0) === sets.find(1)).toBe(identifiers === 'abstract');
    }
  });

  it('does not cluster short unrelated functions or code without tokens', () => {
    const index = new NearDupIndex(settings);
    index.add('int f(int a) { return a + 1; }');
    index.add('void g(char *p) { free(p); }');
    index.add('/* only a comment */');
    index.add('');
    const { stats } = index.cluster();
    expect(stats.clusters).toBe(0);
    expect(stats.emptySamples).toBe(2);
  });

  it('rejects permutations that are not a multiple of bands', () => {
    expect(() => new NearDupIndex({ ...settings, permutations: 100, bands: 32 })).toThrow(/multiple of bands/);
  });
});

describe('near-duplicate clusters in the knowledge base', () => {
  let dir: { dir: string; cleanup: () => void };
  let db: Db;
  let datasetId: number;

  const row = (key: string, code: string): SampleInput => ({ sourceKey: key, code, language: 'c', label: 1, cwes: [], flawLines: [] });
  const clusters = (): Array<{ id: number; near_dup_cluster: number | null }> =>
    db.prepare('SELECT id, near_dup_cluster FROM samples WHERE dataset_id = ? ORDER BY id').all(datasetId) as Array<{ id: number; near_dup_cluster: number | null }>;

  beforeEach(() => {
    dir = tempDir();
    db = openKb(join(dir.dir, 'kb.sqlite'));
    datasetId = ensureDataset(db, 'fam', 'jsonl', null).id;
    insertSamples(db, datasetId, [
      row('a0', familyCode(0, 0)),
      row('b0', familyCode(1, 0)),
      row('a1', familyCode(0, 1, { rename: '_x' })),
      row('c0', familyCode(2, 0)),
    ]);
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  it('stores the smallest member id as the cluster id and NULL for singletons', () => {
    const outcome = updateNearDuplicates(db, datasetId, settings);
    expect(outcome.cached).toBe(false);
    const ids = clusters();
    expect(ids.map((r) => r.near_dup_cluster)).toEqual([ids[0]!.id, null, ids[0]!.id, null]);
    expect(outcome.clusters).toBe(1);
    expect(outcome.clusteredSamples).toBe(2);
  });

  it('reuses stored clusters until the samples or the settings change', () => {
    updateNearDuplicates(db, datasetId, settings);
    expect(updateNearDuplicates(db, datasetId, settings).cached).toBe(true);
    expect(currentNearDuplicates(db, datasetId, settings)?.clusters).toBe(1);

    insertSamples(db, datasetId, [row('b1', familyCode(1, 2, { rename: '_y' }))]);
    expect(currentNearDuplicates(db, datasetId, settings)).toBeUndefined();
    const again = updateNearDuplicates(db, datasetId, settings);
    expect(again.cached).toBe(false);
    expect(again.clusters).toBe(2);
    const ids = clusters();
    expect(ids[4]!.near_dup_cluster).toBe(ids[1]!.id);

    const stricter = { ...settings, threshold: 0.99 };
    const recomputed = updateNearDuplicates(db, datasetId, stricter);
    expect(recomputed.cached).toBe(false);
    expect(recomputed.clusters).toBe(0);
    expect(clusters().every((r) => r.near_dup_cluster === null)).toBe(true);
  });

  it('recomputes when a sample is replaced by another with the same id and count', () => {
    updateNearDuplicates(db, datasetId, settings);
    const last = clusters()[3]!.id;
    db.prepare('DELETE FROM samples WHERE id = ?').run(last);
    insertSamples(db, datasetId, [row('c-new', familyCode(0, 4, { rename: '_z' }))]);
    expect(clusters()[3]!.id).toBe(last); // SQLite reused the id: only the code hash tells
    const outcome = updateNearDuplicates(db, datasetId, settings);
    expect(outcome.cached).toBe(false);
    expect(outcome.clusteredSamples).toBe(3);
  });
});
