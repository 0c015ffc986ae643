import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readExamples } from '../../src/distill/read-examples.js';
import { exampleFigures } from '../../src/distill/stats.js';
import type { ExampleLine } from '../../src/distill/types.js';
import { runCli } from '../helpers/cli.js';
import { synthWorkspace, withDb, type DistillFixture } from '../distill/fixtures.js';

let fx: DistillFixture;
let out: string;
let first: Record<string, unknown>;

const runs = () => withDb(fx.kb, (db) => db.prepare("SELECT id, status, config, inputs FROM runs WHERE stage = 'distill' ORDER BY started_at, rowid").all() as Array<{ id: string; status: string; config: string; inputs: string }>);

beforeAll(async () => {
  fx = await synthWorkspace({ count: 40, seed: 13 });
  out = join(fx.dir, 'train.jsonl');
  const r = await fx.cli('distill', '--dataset', 'syn', '--out', out, '--cap-per-cwe', '3', '--json');
  expect(r.code).toBe(0);
  first = JSON.parse(r.stdout) as Record<string, unknown>;
}, 60_000);
afterAll(() => fx?.cleanup());

describe('finesec distill (CLI)', () => {
  it('writes the JSONL, keeps the examples in the KB and records a run for provenance', async () => {
    expect(first).toMatchObject({ cached: false, dataset: 'syn', split: 'train' });
    const read = await readExamples(out);
    expect(read.problems).toEqual([]);
    expect(read.examples.length).toBe(first.written);
    const [run] = runs();
    expect(run).toMatchObject({ id: first.run, status: 'done' });
    expect(JSON.parse(run!.config)).toMatchObject({ capPerCwe: 3, seed: 1, curriculum: false });
    expect(JSON.parse(run!.inputs)).toMatchObject({ dataset: 'syn', split: 'train', inputHash: first.inputHash });
    withDb(fx.kb, (db) => {
      const rows = db.prepare('SELECT example_id, run_id, position FROM examples ORDER BY position').all() as Array<{ example_id: string; run_id: string }>;
      expect(rows.map((r) => r.example_id)).toEqual(read.examples.map((e) => e.id));
      expect(new Set(rows.map((r) => r.run_id))).toEqual(new Set([first.run]));
    });
  });

  it('running again with the same inputs is a no-op that says so; a missing output is written again from the KB', async () => {
    const before = statSync(out).mtimeMs;
    const text = readFileSync(out, 'utf8');
    const again = await fx.cli('distill', '--dataset', 'syn', '--out', out, '--cap-per-cwe', '3', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ cached: true, restored: false, run: first.run, written: first.written });
    expect(statSync(out).mtimeMs).toBe(before);
    expect(runs().length).toBe(1);
    const plain = await fx.cli('distill', '--dataset', 'syn', '--out', out, '--cap-per-cwe', '3');
    expect(plain.stdout).toMatch(/^distill: up to date, nothing rebuilt \(run distill-/);

    rmSync(out);
    const restored = await fx.cli('distill', '--dataset', 'syn', '--out', out, '--cap-per-cwe', '3', '--json');
    expect(JSON.parse(restored.stdout)).toMatchObject({ cached: true, restored: true, run: first.run });
    expect(readFileSync(out, 'utf8')).toBe(text);
    expect(runs().length).toBe(1);
  });

  it('rebuilds when a setting changes or with --force', async () => {
    const other = join(fx.dir, 'other.jsonl');
    const changed = JSON.parse((await fx.cli('distill', '--dataset', 'syn', '--out', other, '--cap-per-cwe', '2', '--json')).stdout) as Record<string, unknown>;
    expect(changed.cached).toBe(false);
    expect(changed.inputHash).not.toBe(first.inputHash);
    const forced = JSON.parse((await fx.cli('distill', '--dataset', 'syn', '--out', out, '--cap-per-cwe', '3', '--force', '--json')).stdout) as Record<string, unknown>;
    expect(forced).toMatchObject({ cached: false, inputHash: first.inputHash });
    expect(forced.run).not.toBe(first.run);
    expect(runs().length).toBe(3);
  });

  it('distill stats: the data card figures for the examples in the KB', async () => {
    const examples = (await readExamples(out)).examples as unknown as ExampleLine[];
    const r = await fx.cli('distill', 'stats', '--json');
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(stats).toHaveLength(1);
    expect(stats[0]).toMatchObject({ dataset: 'syn', selection: 'train' });
    expect(stats[0]!.figures).toEqual(exampleFigures(examples));
    expect((stats[0]!.run as { written: number }).written).toBe(examples.length);
    const text = await fx.cli('distill', 'stats');
    expect(text.stdout).toMatch(/^syn \(train\): \d+ examples; \d+ accepted knowledge records/);
    expect(text.stdout).toContain('by task: detect');
    expect(text.stdout).toContain('prompt versions: detect-v1');
    expect(text.stdout).toContain('teachers: reference');
  });

  it('fails with a one-line reason and exit 2 on bad usage or missing knowledge', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['distill', '--out', out], /--dataset is required/],
      [['distill', '--dataset', 'syn'], /--out is required/],
      [['distill', '--dataset', 'syn', '--out', out, '--tasks', 'detect,guess'], /unknown task guess/],
      [['distill', '--dataset', 'syn', '--out', out, '--max-tokens', '100'], /--max-tokens needs --base/],
      [['distill', '--dataset', 'syn', '--out', out, '--pos-ratio', '0'], /--pos-ratio expects a positive number/],
      [['distill', '--dataset', 'nope', '--out', out], /no dataset named "nope"/],
      [['distill', '--dataset', 'syn', '--out', out, '--eval-dataset', 'syn'], /is the dataset being distilled/],
    ];
    for (const [argv, message] of cases) {
      const r = await fx.cli(...argv, '--json');
      expect(r.code, argv.join(' ')).toBe(2);
      expect((JSON.parse(r.stdout) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect((await fx.cli('synth', '--count', '4', '--name', 'untaught')).code).toBe(0);
    const untaught = await fx.cli('distill', '--dataset', 'untaught', '--split', 'all', '--out', out, '--json');
    expect(untaught.code).toBe(2);
    expect(untaught.stdout).toMatch(/no accepted knowledge \(run finesec teach first\)/);
    const noWs = await runCli(['distill', '--dataset', 'syn', '--out', out, '--workspace', join(fx.dir, 'none'), '--json']);
    expect(noWs.code).toBe(2);
  });
});
