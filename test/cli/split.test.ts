import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { initWorkspace } from '../../src/config/workspace.js';
import { openKb } from '../../src/kb/db.js';
import { ensureDataset } from '../../src/kb/datasets.js';
import { insertSamples } from '../../src/kb/samples.js';
import { julietLike } from '../helpers/corpus-fixtures.js';

describe('finesec split, datasets and dataset stats', () => {
  let dir: { dir: string; cleanup: () => void };
  let ws: string;

  beforeAll(() => {
    dir = tempDir();
    ws = join(dir.dir, 'ws');
    const { paths } = initWorkspace(ws);
    const db = openKb(paths.kb);
    insertSamples(db, ensureDataset(db, 'flows', 'jsonl', null).id, julietLike(20, 6));
    ensureDataset(db, 'nosplit', 'jsonl', null);
    insertSamples(db, ensureDataset(db, 'unsplit', 'jsonl', null).id, julietLike(2, 2));
    db.close();
  });
  afterAll(() => dir.cleanup());

  const cli = (...argv: string[]) => runCli([...argv, '--workspace', ws]);

  it('splits by group (the config default) and the check passes with exit 0', async () => {
    const split = await cli('split', 'flows', '--json');
    expect(split.code).toBe(0);
    const result = JSON.parse(split.stdout);
    expect(result).toMatchObject({ dataset: 'flows', by: 'group', ratios: [0.8, 0.1, 0.1], seed: 1, samples: 240, components: 20 });
    expect(result.counts.train.total + result.counts.valid.total + result.counts.test.total).toBe(240);
    expect(result.counts.valid.total).toBe(24);

    const check = await cli('split', 'flows', '--check', '--json');
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ clean: true, leaks: 0, splits: { train: result.counts.train.total, valid: 24 } });

    const text = await cli('split', 'flows', '--check');
    expect(text.stdout).toMatch(/near_duplicate +ok/);
  });

  it('reports a random split as leaking with exit 1, also as a real process', async () => {
    const split = await cli('split', 'flows', '--by', 'random', '--seed', '4');
    expect(split.code).toBe(0);
    expect(split.stdout).toMatch(/random split: related samples straddle splits/);
    const check = await cli('split', 'flows', '--check', '--json', '--examples', '1');
    expect(check.code).toBe(1);
    const report = JSON.parse(check.stdout);
    expect(report.clean).toBe(false);
    const near = report.kinds.find((k: { kind: string }) => k.kind === 'near_duplicate');
    expect(near.units).toBeGreaterThan(0);
    expect(near.examples).toHaveLength(1);

    const child = await spawnCli(['split', 'flows', '--check', '--workspace', ws]);
    expect(child.code).toBe(1);
    expect(child.stdout).toMatch(/LEAKAGE/);
    expect(child.stderr).toMatch(/split check failed/);
  });

  it('takes --ratios and --seed, and the same seed gives the same split', async () => {
    const a = JSON.parse((await cli('split', 'flows', '--by', 'group', '--ratios', '0.5,0.25,0.25', '--seed', '9', '--json')).stdout);
    const b = JSON.parse((await cli('split', 'flows', '--by', 'group', '--ratios', '0.5,0.25,0.25', '--seed', '9', '--json')).stdout);
    expect(a.counts).toEqual(b.counts);
    expect(a.counts.train.total).toBe(120);
    expect(b.nearDuplicates.cached).toBe(true);
  });

  it('reads defaults from finesec.yaml', async () => {
    const other = join(dir.dir, 'ws2');
    const { paths } = initWorkspace(other);
    writeFileSync(paths.config, 'split:\n  by: random\n  ratios: [0.5, 0.5, 0]\n  seed: 3\n');
    const db = openKb(paths.kb);
    insertSamples(db, ensureDataset(db, 'd', 'jsonl', null).id, julietLike(2, 3));
    db.close();
    const r = JSON.parse((await runCli(['split', 'd', '--json', '--workspace', other])).stdout);
    expect(r).toMatchObject({ by: 'random', ratios: [0.5, 0.5, 0], seed: 3 });
    expect(r.counts.test.total).toBe(0);
  });

  it('exits 2 with a clear message on a dataset without splits, an unknown dataset or bad flags', async () => {
    const unsplit = await cli('split', 'unsplit', '--check', '--json');
    expect(unsplit.code).toBe(2);
    expect(JSON.parse(unsplit.stdout).error.message).toMatch(/has no splits yet/);
    expect((await cli('split', 'missing')).code).toBe(2);
    expect((await cli('split', 'nosplit')).code).toBe(2);
    const mixed = await cli('split', 'flows', '--check', '--by', 'group', '--json');
    expect(mixed.code).toBe(2);
    expect(JSON.parse(mixed.stdout).error.message).toMatch(/--check reads the existing split/);
    expect((await cli('split', 'flows', '--by', 'sideways')).code).toBe(2);
    expect((await cli('split', 'flows', '--ratios', '0.8,0.2')).code).toBe(2);
    expect((await cli('split')).code).toBe(2);
    expect((await cli('split', 'flows', '--by', 'time')).code).toBe(2);
  });

  it('lists datasets and shows dataset stats as JSON and text', async () => {
    await cli('split', 'flows', '--by', 'group');
    const list = await cli('datasets', '--json');
    expect(list.code).toBe(0);
    const flows = JSON.parse(list.stdout).datasets.find((d: { name: string }) => d.name === 'flows');
    expect(flows).toMatchObject({ format: 'jsonl', samples: 240, rows: 240, labels: { vulnerable: 120, not_vulnerable: 120, unknown: 0 } });
    expect(flows.splits.train + flows.splits.valid + flows.splits.test).toBe(240);
    expect((await cli('datasets')).stdout).toMatch(/^NAME/);

    const stats = await cli('dataset', 'stats', 'flows', '--json', '--top', '2');
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.stdout);
    expect(s.cwes.top).toHaveLength(2);
    expect(s.cwes.distinct).toBe(5);
    expect(s.groups).toBe(20);
    expect(s.nearDuplicates).toMatchObject({ clusters: 20, upToDate: true });
    const text = await cli('dataset', 'stats', 'flows');
    expect(text.stdout).toMatch(/near-duplicates 20 clusters/);
    expect((await cli('dataset', 'stats', 'missing')).code).toBe(2);
  });

  it('fails clearly when there is no workspace', async () => {
    const r = await runCli(['datasets', '--workspace', join(dir.dir, 'nowhere'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/no workspace/);
  });
});
