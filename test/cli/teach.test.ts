import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { startFaultServer, type FaultAction, type FaultServer } from '../helpers/fault-server.js';
import { fixtureSample, makeWorkspace, sampleInput, sampleNameOf, withDb } from '../teacher/fixtures.js';
import { countCachedResponses } from '../../src/kb/teacher-cache.js';
import { listRejections } from '../../src/kb/rejections.js';
import { getDataset } from '../../src/kb/datasets.js';
import { insertSamples } from '../../src/kb/samples.js';
import { join } from 'node:path';

const servers: FaultServer[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const c of cleanups.splice(0)) c();
});

function workspace(samples: ReturnType<typeof sampleInput>[], config?: string) {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return makeWorkspace(dir, 'fx', samples, config);
}

const pricedConfig = `teacher:\n  prices:\n    m: { input: 1000, output: 1000 }\n`;

function synthetic(n: number) {
  return Array.from({ length: n }, (_, i) => fixtureSample(`fn_${i}`, i % 3 !== 2, 16 + i));
}

async function okServer() {
  const byName = new Map(synthetic(40).map((s) => [s.name, s]));
  const server = await startFaultServer((r): FaultAction => ({ kind: 'ok', content: JSON.stringify(byName.get(sampleNameOf(r.body))!.report), usage: { prompt: 400, completion: 200 } }));
  servers.push(server);
  return server;
}

function rowCount(kb: string): { rows: number; samples: number } {
  return withDb(kb, (db) => db.prepare('SELECT COUNT(*) AS rows, COUNT(DISTINCT sample_id) AS samples FROM knowledge').get() as { rows: number; samples: number });
}

describe('finesec teach with the reference teacher on synthetic samples', () => {
  it('accepts, stores with provenance and caches; a re-run makes no calls; knowledge stats and show report it', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const ws = join(dir, 'ws');
    expect((await runCli(['synth', '--workspace', ws, '--count', '24', '--seed', '5', '--name', 'syn', '--quiet'])).code).toBe(0);
    const kb = join(ws, 'kb.sqlite');
    const { truthCwes } = withDb(kb, (db) => {
      const ds = getDataset(db, 'syn')!;
      insertSamples(db, ds.id, [sampleInput(fixtureSample('unlabelled', true), { label: null, withReport: false })]);
      const cwes = (db.prepare("SELECT cwes FROM samples WHERE label = 1").all() as Array<{ cwes: string }>).map((r) => JSON.parse(r.cwes)[0] as string);
      return { truthCwes: cwes };
    });
    const first = await runCli(['teach', '--workspace', ws, '--dataset', 'syn', '--json']);
    expect(first.code).toBe(0);
    const s1 = JSON.parse(first.stdout);
    expect(s1).toMatchObject({ teacher: 'reference', selected: 25, todo: 25, accepted: 24, rejected: 0, refused: 1, errors: 0, cacheHits: 0 });
    withDb(kb, (db) => {
      const rows = db.prepare('SELECT k.*, s.meta AS sample_meta FROM knowledge k JOIN samples s ON s.id = k.sample_id ORDER BY k.id').all() as Array<Record<string, unknown>>;
      expect(rows).toHaveLength(24);
      expect(rows.every((r) => r.is_llm === 0 && r.status === 'accepted' && r.verified === 1 && r.teacher === 'reference' && r.run_id === s1.run)).toBe(true);
      // The knowledge is the generator's ground-truth report.
      expect(rows.every((r) => JSON.stringify(JSON.parse(r.report as string)) === JSON.stringify(JSON.parse(r.sample_meta as string).report))).toBe(true);
      expect(countCachedResponses(db)).toBe(24);
      expect(listRejections(db, 'teach', getDataset(db, 'syn')!.id).map((r) => r.reason)).toEqual([expect.stringMatching(/sample \d+: it has no label/)]);
    });

    const second = JSON.parse((await runCli(['teach', '--workspace', ws, '--dataset', 'syn', '--json'])).stdout);
    expect(second).toMatchObject({ alreadyDone: 24, todo: 1, accepted: 0, calls: 0, cacheHits: 0 });
    expect(rowCount(kb)).toEqual({ rows: 24, samples: 24 });

    // With the records gone, the answers come from the cache.
    withDb(kb, (db) => db.prepare('DELETE FROM knowledge').run());
    const third = JSON.parse((await runCli(['teach', '--workspace', ws, '--dataset', 'syn', '--json'])).stdout);
    expect(third).toMatchObject({ accepted: 24, calls: 0, cacheHits: 24 });

    const stats = JSON.parse((await runCli(['knowledge', 'stats', '--workspace', ws, '--json'])).stdout);
    expect(stats).toMatchObject({ records: 24, accepted: 24, acceptanceRate: 1 });
    expect(stats.byCwe.find((c: { cwe: string }) => c.cwe === 'not vulnerable').records).toBe(12);
    expect(stats.byCwe.filter((c: { cwe: string }) => c.cwe.startsWith('CWE-')).reduce((n: number, c: { records: number }) => n + c.records, 0)).toBe(truthCwes.length);
    const text = await runCli(['knowledge', 'stats', '--workspace', ws]);
    expect(text.stdout).toMatch(/24 records: 24 accepted, 0 rejected \(100\.0% accepted\)/);
    const show = await runCli(['knowledge', 'show', '1', '--workspace', ws]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/teacher reference \(not an LLM\); prompt detect-v1/);
    expect(show.stdout).toMatch(/"verdict": "(not_)?vulnerable"/);
    expect((await runCli(['knowledge', 'show', '999', '--workspace', ws])).code).toBe(2);
  });

  it('rejects bad command lines with a one-line reason (exit 2)', async () => {
    const { workspace: ws } = workspace([sampleInput(fixtureSample('a', true))]);
    expect((await runCli(['teach', '--workspace', ws])).code).toBe(2);
    expect((await runCli(['teach', '--workspace', ws, '--dataset', 'nope'])).code).toBe(2);
    const bad = await runCli(['teach', '--workspace', ws, '--dataset', 'fx', '--teacher', 'gpt4', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.message).toMatch(/expected reference, openai:MODEL/);
    const unpriced = await runCli(['teach', '--workspace', ws, '--dataset', 'fx', '--teacher', 'openai:x@http://127.0.0.1:9/v1', '--max-cost', '1', '--json']);
    expect(JSON.parse(unpriced.stdout).error.message).toMatch(/--max-cost needs a price for x/);
  });
});

describe('finesec teach with an OpenAI-compatible teacher', () => {
  it('--dry-run estimates tokens and cost and makes no call', async () => {
    const server = await okServer();
    const { workspace: ws } = workspace(synthetic(6).map((s) => sampleInput(s)), pricedConfig);
    const r = await runCli(['teach', '--workspace', ws, '--dataset', 'fx', '--teacher', `openai:m@${server.url}`, '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e).toMatchObject({ dryRun: true, todo: 6, priced: true, cachedFirstAttempts: 0 });
    expect(e.promptTokens).toBeGreaterThan(6 * 300);
    expect(e.costUsd).toBeCloseTo((e.promptTokens + e.completionTokens) * 1000 / 1e6, 9);
    expect(e.worstCaseCostUsd).toBeCloseTo(e.costUsd * 6, 9);
    expect(server.requests).toHaveLength(0);
    const text = await runCli(['teach', '--workspace', ws, '--dataset', 'fx', '--teacher', `openai:m@${server.url}`, '--dry-run']);
    expect(text.stdout).toMatch(/dry run: .*no request made/);
    expect(server.requests).toHaveLength(0);
  });

  it('--max-cost stops cleanly before overspending; a re-run with more budget finishes without duplicates', async () => {
    const server = await okServer();
    const { workspace: ws, kb } = workspace(synthetic(8).map((s) => sampleInput(s)), pricedConfig);
    const args = ['teach', '--workspace', ws, '--dataset', 'fx', '--teacher', `openai:m@${server.url}`, '--concurrency', '1', '--json'];
    const r = await runCli([...args, '--max-cost', '3']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.stopped).toMatchObject({ reason: 'max_cost' });
    expect(s.costUsd).toBeLessThanOrEqual(3);
    expect(s.accepted).toBeGreaterThan(0);
    expect(s.accepted).toBeLessThan(8);
    expect(s.left).toBe(8 - s.accepted);
    expect(server.requests).toHaveLength(s.accepted);
    const text = await runCli(['teach', '--workspace', ws, '--dataset', 'fx', '--teacher', `openai:m@${server.url}`, '--max-cost', '0']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/stopped: spend limit of \$0 reached; \d+ samples left \(run again to continue\)/);
    const rest = JSON.parse((await runCli([...args, '--max-cost', '100'])).stdout);
    expect(rest).toMatchObject({ alreadyDone: s.accepted, accepted: 8 - s.accepted, stopped: null });
    expect(server.requests).toHaveLength(8);
    expect(rowCount(kb)).toEqual({ rows: 8, samples: 8 });
  });

  it('survives a kill mid-run: the re-run completes with no duplicate rows and nothing lost', async () => {
    const byName = new Map(synthetic(30).map((s) => [s.name, s]));
    let open = false;
    const server = await startFaultServer((r, n): FaultAction => {
      if (n >= 8 && !open) return { kind: 'hang' };
      return { kind: 'ok', content: JSON.stringify(byName.get(sampleNameOf(r.body))!.report) };
    });
    servers.push(server);
    const { workspace: ws, kb } = workspace([...byName.values()].map((s) => sampleInput(s)));
    const args = ['teach', '--workspace', ws, '--dataset', 'fx', '--teacher', `openai:m@${server.url}`, '--concurrency', '1'];
    const killed = await spawnCli([...args, '--log-every', '0.1'], { killAfter: (stderr) => server.requests.length >= 9 && /teach: 8\/30 samples/.test(stderr) });
    expect(killed.signal).toBe('SIGKILL');
    expect(rowCount(kb)).toEqual({ rows: 8, samples: 8 });
    open = true;
    const resumed = await runCli([...args, '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ alreadyDone: 8, todo: 22, accepted: 22 });
    expect(rowCount(kb)).toEqual({ rows: 30, samples: 30 });
    // The 8 finished samples were not asked again; the one in flight at the kill was.
    expect(server.requests).toHaveLength(9 + 22);
    expect(new Set(server.requests.map((r) => sampleNameOf(r.body))).size).toBe(30);
  });
});
