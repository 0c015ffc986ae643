import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { openKb } from '../../src/kb/db.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

function writeJsonl(path: string, count: number, options: { malformedEvery?: number } = {}): void {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    if (options.malformedEvery && i % options.malformedEvery === options.malformedEvery - 1) {
      lines.push(`{"idx": ${i}, "target": 1, "func": "int broken_${i}(void) {`);
      continue;
    }
    // Every row past 80% repeats an earlier function: exact duplicates to merge.
    const n = i < count * 0.8 ? i : i - Math.floor(count * 0.8);
    lines.push(JSON.stringify({ idx: i, target: i % 2, project: `p${i % 7}`, commit_id: `c${i % 97}`, func: `int f${n}(int x)\n{\n  return x + ${n};\n}` }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

/** Everything an import stores, in a comparable form. */
function snapshot(kbPath: string): { samples: number; sources: number; rejections: number; rows: string[] } {
  const db = openKb(kbPath, { readonly: true });
  try {
    const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    const rows = db
      .prepare(
        `SELECT so.source_key || ' ' || s.code_hash || ' ' || coalesce(s.label, 'null') || ' ' || s.occurrences || ' ' || s.label_conflict AS r
         FROM sample_sources so JOIN samples s ON s.id = so.sample_id ORDER BY so.source_key`,
      )
      .all() as Array<{ r: string }>;
    return {
      samples: count('SELECT COUNT(*) AS n FROM samples'),
      sources: count('SELECT COUNT(*) AS n FROM sample_sources'),
      rejections: count('SELECT COUNT(*) AS n FROM rejections'),
      rows: rows.map((x) => x.r),
    };
  } finally {
    db.close();
  }
}

async function workspaceWithBatch(name: string, batchSize: number): Promise<string> {
  const ws = join(dir, name);
  expect((await runCli(['init', ws, '--quiet'])).code).toBe(0);
  const config = join(ws, 'finesec.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/batch_size: \d+/, `batch_size: ${batchSize}`));
  return ws;
}

describe('finesec ingest', () => {
  it('exits 2 on an unknown or missing format, listing the formats', async () => {
    const file = join(dir, 'x.jsonl');
    writeJsonl(file, 1);
    const unknown = await runCli(['ingest', file, '--format', 'parquet', '--name', 'x', '--workspace', join(dir, 'ws'), '--json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error.message).toBe('ingest: unknown format "parquet" (formats: primevul, bigvul, juliet, source, jsonl)');
    const missing = await runCli(['ingest', file, '--name', 'x', '--workspace', join(dir, 'ws'), '--json']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error.message).toMatch(/missing --format \(formats: primevul, bigvul/);
    const noMap = await runCli(['ingest', file, '--format', 'jsonl', '--name', 'x', '--workspace', join(dir, 'ws'), '--json']);
    expect(noMap.code).toBe(2);
    expect(JSON.parse(noMap.stdout).error.message).toMatch(/needs --map code=FIELD/);
  });

  it('prints a summary (text and --json) and adds nothing when the same file is imported again', async () => {
    const file = join(dir, 'rows.jsonl');
    writeJsonl(file, 50, { malformedEvery: 10 });
    const ws = join(dir, 'ws');
    const text = await runCli(['ingest', file, '--format', 'primevul', '--name', 'rows', '--workspace', ws, '--quiet']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/read +50 rows from 1 input/);
    expect(text.stdout).toMatch(/inserted +36\n/);
    expect(text.stdout).toMatch(/merged duplicates +9\n/);
    expect(text.stdout).toMatch(/rejected +5\n/);
    const again = await runCli(['ingest', file, '--format', 'primevul', '--name', 'rows', '--workspace', ws, '--json', '--quiet']);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ dataset: 'rows', format: 'primevul', read: 0, inserted: 0, merged: 0, unchangedInputs: 1, unchangedUnits: 50 });
    expect(snapshot(join(ws, 'kb.sqlite'))).toMatchObject({ samples: 36, sources: 45, rejections: 5 });
  });

  it('warns with file:line for bad rows, up to --max-warnings, and counts the rest', async () => {
    const file = join(dir, 'bad.jsonl');
    writeJsonl(file, 12, { malformedEvery: 3 });
    const p = await spawnCli(['ingest', file, '--format', 'primevul', '--name', 'bad', '--workspace', join(dir, 'ws'), '--max-warnings', '2']);
    expect(p.code).toBe(0);
    expect(p.stderr).toContain(`warning: ${file}:3: malformed JSON`);
    expect(p.stderr).toContain(`warning: ${file}:6: malformed JSON`);
    expect(p.stderr).not.toContain(`${file}:9:`);
    expect(p.stderr).toContain('warning: 2 more rejected inputs not shown');
  });

  it('after a SIGKILL mid-import, running it again ends exactly like an uninterrupted import', async () => {
    const file = join(dir, 'big.jsonl');
    const rows = 40_000;
    writeJsonl(file, rows, { malformedEvery: 1000 });
    const args = (ws: string): string[] => ['ingest', file, '--format', 'primevul', '--name', 'big', '--workspace', ws];

    const reference = await workspaceWithBatch('reference', 500);
    expect((await runCli([...args(reference), '--json', '--quiet'])).code).toBe(0);
    const expected = snapshot(join(reference, 'kb.sqlite'));
    expect(expected.sources + expected.rejections).toBe(rows);

    const ws = await workspaceWithBatch('killed', 500);
    const killed = await spawnCli(args(ws), { killAfter: (stderr) => stderr.includes('(committed)') });
    expect(killed.signal).toBe('SIGKILL');
    const partial = snapshot(join(ws, 'kb.sqlite'));
    expect(partial.sources).toBeGreaterThan(0);
    expect(partial.sources).toBeLessThan(expected.sources);

    const resumed = await spawnCli(args(ws));
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming after \d+ rows committed by an earlier run/);
    expect(snapshot(join(ws, 'kb.sqlite'))).toEqual(expected);

    const db = openKb(join(ws, 'kb.sqlite'), { readonly: true });
    const runs = db.prepare("SELECT status FROM runs WHERE stage = 'ingest' ORDER BY started_at").all() as Array<{ status: string }>;
    db.close();
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'done']);
  });
});
