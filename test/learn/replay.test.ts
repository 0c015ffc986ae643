import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExampleLine } from '../../src/distill/types.js';
import { loadReplayPool, replayCount, shuffleBySeed, stratifiedSample, stratumOf } from '../../src/learn/replay.js';
import { splitHoldout, unitOf } from '../../src/learn/holdout.js';
import { runCli } from '../helpers/cli.js';
import { splitWorkspace, type LearnFixture } from './fixtures.js';

function example(id: string, cwe: string | null, sample = 1): ExampleLine {
  return {
    messages: [{ role: 'user', content: id }],
    id,
    task: 'detect',
    dataset: 'd',
    split: 'train',
    sample_id: sample,
    knowledge_id: 1,
    teacher: 'reference',
    prompt_version: 'detect-v1',
    prompt_hash: 'h',
    label: 'vulnerable',
    cwe,
    pair: null,
    code_lines: 3,
    tokens: null,
    content_hash: id,
    run_id: 'r',
  };
}

describe('replay size', () => {
  it('makes the replay `fraction` of the whole batch', () => {
    expect(replayCount(7, 0.3)).toBe(3);
    expect(replayCount(70, 0.3)).toBe(30);
    expect(replayCount(10, 0.5)).toBe(10);
    expect(replayCount(10, 0)).toBe(0);
    expect(replayCount(0, 0.3)).toBe(0);
    expect(() => replayCount(10, 1)).toThrow(/--replay expects a fraction in \[0, 1\)/);
    expect(() => replayCount(10, -0.1)).toThrow(/fraction/);
  });
});

describe('stratified replay sample', () => {
  // 60 CWE-121, 30 CWE-476, 10 without a CWE.
  const pool = [
    ...Array.from({ length: 60 }, (_, i) => example(`a${i}`, 'CWE-121')),
    ...Array.from({ length: 30 }, (_, i) => example(`b${i}`, 'CWE-476')),
    ...Array.from({ length: 10 }, (_, i) => example(`c${i}`, null)),
  ];

  it('takes each CWE in proportion to its share of the pool', () => {
    const chosen = stratifiedSample(pool, 20, 1);
    expect(chosen).toHaveLength(20);
    const count = (k: string) => chosen.filter((e) => stratumOf(e) === k).length;
    expect([count('CWE-121'), count('CWE-476'), count('none')]).toEqual([12, 6, 2]);
    expect(new Set(chosen.map((e) => e.id)).size).toBe(20);
  });

  it('gives remainders to the largest fractions, so the total is exact', () => {
    const chosen = stratifiedSample(pool, 7, 1);
    const count = (k: string) => chosen.filter((e) => stratumOf(e) === k).length;
    // exact shares 4.2, 2.1, 0.7: floors 4, 2, 0 and the one left goes to 'none' (0.7).
    expect([count('CWE-121'), count('CWE-476'), count('none')]).toEqual([4, 2, 1]);
  });

  it('is deterministic by seed and independent of the pool order; another seed picks others', () => {
    const a = stratifiedSample(pool, 20, 7).map((e) => e.id).sort();
    const b = stratifiedSample([...pool].reverse(), 20, 7).map((e) => e.id).sort();
    const c = stratifiedSample(pool, 20, 8).map((e) => e.id).sort();
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(stratifiedSample(pool, 500, 1)).toHaveLength(100);
    expect(stratifiedSample(pool, 0, 1)).toEqual([]);
  });

  it('shuffles deterministically', () => {
    const s1 = shuffleBySeed(pool, 3).map((e) => e.id);
    expect(shuffleBySeed([...pool].reverse(), 3).map((e) => e.id)).toEqual(s1);
    expect(shuffleBySeed(pool, 4).map((e) => e.id)).not.toEqual(s1);
  });
});

describe('held-out hard cases', () => {
  const item = (id: number, pair: string | null, cluster: number | null = null) => ({ sample: { id, dataset_id: 1, near_dup_cluster: cluster, pair_id: pair, group_id: null } });

  it('holds out whole pairs and clusters, by seed, and always leaves something to train on', () => {
    const items = [item(1, 'p1'), item(2, 'p1'), item(3, 'p2'), item(4, 'p2'), item(5, null, 5), item(6, null, 5), item(7, null), item(8, null), item(9, null), item(10, null)];
    expect(unitOf(items[4]!.sample)).toBe('cluster:5');
    const { train, held } = splitHoldout(items, 0.25, 1);
    expect(train.length + held.length).toBe(items.length);
    const units = (xs: typeof items) => new Set(xs.map((x) => unitOf(x.sample)));
    for (const u of units(held)) expect(units(train).has(u)).toBe(false);
    expect(units(held).size).toBe(2); // round(0.25 x 7 units)
    expect(splitHoldout(items, 0.25, 1).held.map((x) => x.sample.id)).toEqual(held.map((x) => x.sample.id));
    expect(splitHoldout(items, 0, 1).held).toEqual([]);
    expect(splitHoldout([item(1, 'p'), item(2, 'p')], 0.9, 1).held).toEqual([]);
    expect(splitHoldout([item(1, 'p'), item(2, 'q')], 0.9, 1).train).toHaveLength(1);
  });
});

describe('replay pool from the knowledge base', () => {
  let f: LearnFixture;
  beforeAll(async () => {
    f = await splitWorkspace({ teach: true, count: 24 });
    // Distilled examples of the train split, and (as a careless user might) of the test split.
    for (const split of ['train', 'test']) {
      const r = await runCli(['distill', '--workspace', f.ws, '--dataset', 'syn', '--split', split, '--tasks', 'detect,classify', '--out', `${f.dir}/${split}.jsonl`, '--quiet']);
      expect(r.code).toBe(0);
    }
  });
  afterAll(() => f.cleanup());

  it('holds earlier examples of the chosen tasks, never one of an evaluation split or of the new hard cases', () => {
    const w = f.open();
    try {
      const all = loadReplayPool(w.db, { tasks: ['detect', 'classify'], excludeSamples: new Set() });
      expect(all.length).toBeGreaterThan(0);
      expect(all.every((e) => e.split === 'train')).toBe(true);
      const detect = loadReplayPool(w.db, { tasks: ['detect'], excludeSamples: new Set() });
      expect(detect.every((e) => e.task === 'detect')).toBe(true);
      const excluded = detect[0]!.sample_id;
      expect(loadReplayPool(w.db, { tasks: ['detect'], excludeSamples: new Set([excluded]) }).some((e) => e.sample_id === excluded)).toBe(false);
    } finally {
      w.close();
    }
  });
});
