import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { openKb } from '../../src/kb/db.js';
import { getDataset } from '../../src/kb/datasets.js';
import { iterateSamples } from '../../src/kb/samples.js';
import { generateSynth } from '../../src/corpus/synth/index.js';
import { groundReport } from '../../src/report/grounding.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function workspace(): { dir: string; ws: string } {
  const t = tempDir('finesec-synth-cli-');
  cleanups.push(t.cleanup);
  return { dir: t.dir, ws: join(t.dir, 'ws') };
}

describe('finesec synth', () => {
  it('creates the workspace, inserts the pairs with their ground truth in meta, and counts by CWE', async () => {
    const { ws } = workspace();
    const r = await runCli(['synth', '--count', '40', '--seed', '3', '--name', 'syn', '--workspace', ws, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as {
      generated: number;
      rejected: number;
      byCwe: Array<{ cwe: string; vulnerable: number; fixed: number }>;
      kb: { inserted: number; merged: number; alreadyImported: number };
      runId: string;
    };
    expect(result.generated).toBe(40);
    expect(result.rejected).toBe(0);
    expect(result.byCwe.reduce((n, c) => n + c.vulnerable + c.fixed, 0)).toBe(40);
    expect(result.byCwe.every((c) => c.vulnerable === c.fixed)).toBe(true);
    expect(result.kb).toEqual({ inserted: 40, merged: 0, alreadyImported: 0, conflicts: 0 });

    const db = openKb(join(ws, 'kb.sqlite'), { readonly: true });
    try {
      const dataset = getDataset(db, 'syn')!;
      expect(dataset.format).toBe('synth');
      const samples = [...iterateSamples(db, dataset.id)];
      expect(samples).toHaveLength(40);
      const expected = new Map(generateSynth({ count: 40, seed: 3 }).map((s) => [s.code, s]));
      for (const s of samples) {
        const source = expected.get(s.code)!;
        expect(source, 'stored code is the generated code').toBeDefined();
        expect(s.label).toBe(source.label);
        expect(s.cwes).toEqual([source.cwe]);
        expect(s.pair_id).toBe(source.pairId);
        expect(s.group_id).toBe(source.groupId);
        expect(s.function_name).toBe(source.functionName);
        expect(s.flaw_lines).toEqual(source.flawLines);
        expect(s.meta).toMatchObject({ template: source.templateId, seed: 3, wrapper: source.wrapper, variant: source.variant, flaw_lines: source.flawLines });
        expect(groundReport(s.meta.report, s.code).ok).toBe(true);
      }
      const run = db.prepare("SELECT stage, status, config FROM runs WHERE id = ?").get(result.runId) as { stage: string; status: string; config: string };
      expect(run.stage).toBe('synth');
      expect(run.status).toBe('done');
      expect(JSON.parse(run.config)).toMatchObject({ count: 40, seed: 3, dataset: 'syn' });
    } finally {
      db.close();
    }

    const again = await runCli(['synth', '--count', '40', '--seed', '3', '--name', 'syn', '--workspace', ws, '--json']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { kb: unknown }).kb).toEqual({ inserted: 0, merged: 0, alreadyImported: 40, conflicts: 0 });
  });

  it('prints a table by CWE and restricts to --cwe', async () => {
    const { ws } = workspace();
    const r = await runCli(['synth', '--count', '12', '--seed', '8', '--cwe', 'CWE-121,476', '--name', 'two', '--workspace', ws]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^synth seed 8: 12 samples from 3 templates/);
    expect(r.stdout).toMatch(/CWE-121 +\d+ +\d+ +Stack-based Buffer Overflow/);
    expect(r.stdout).toMatch(/CWE-476 +\d+ +\d+ +NULL Pointer Dereference/);
    expect(r.stdout).not.toMatch(/CWE-416/);
    expect(r.stdout).toMatch(/dataset two: 12 inserted/);
  });

  it('writes JSONL with --out, without touching a workspace when --name is absent', async () => {
    const { dir, ws } = workspace();
    const out = join(dir, 'synth.jsonl');
    const r = await runCli(['synth', '--count', '9', '--seed', '4', '--out', out, '--workspace', ws, '--json']);
    expect(r.code).toBe(0);
    expect(existsSync(ws)).toBe(false);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(9);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(JSON.parse(JSON.stringify(generateSynth({ count: 9, seed: 4 }))));
  });

  it('exits 2 on an unsupported CWE, listing the supported ones, and on a missing destination', async () => {
    const { ws } = workspace();
    const bad = await runCli(['synth', '--count', '4', '--cwe', 'CWE-79', '--name', 'x', '--workspace', ws, '--json']);
    expect(bad.code).toBe(2);
    const err = JSON.parse(bad.stdout) as { error: { message: string } };
    expect(err.error.message).toMatch(/^synth: unsupported CWE CWE-79 \(no template\); supported: CWE-22, CWE-78, CWE-121, /);
    expect(existsSync(ws)).toBe(false);

    const nowhere = await runCli(['synth', '--count', '4', '--workspace', ws, '--json']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stdout).toMatch(/--name NAME .* and\/or --out FILE.jsonl/);

    const zero = await runCli(['synth', '--count', '0', '--name', 'x', '--workspace', ws]);
    expect(zero.code).toBe(2);
  });

  it('lists the templates with --list', async () => {
    const r = await runCli(['synth', '--list', '--json']);
    expect(r.code).toBe(0);
    const listing = JSON.parse(r.stdout) as { cwes: string[]; templates: Array<{ template: string; cwe: string }> };
    expect(listing.cwes.length).toBeGreaterThanOrEqual(20);
    expect(listing.templates.some((t) => t.template === 'stack-copy' && t.cwe === 'CWE-121')).toBe(true);
  });
});
