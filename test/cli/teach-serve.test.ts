import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStudent } from '../../src/runtime/local-student.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { tinyModel } from '../helpers/tiny-model.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { fixtureSample, makeWorkspace, sampleInput, withDb } from '../teacher/fixtures.js';

/**
 * The teacher path against a real OpenAI-compatible server (`finesec serve`'s server running a
 * tiny random GGUF model). Its answers are nonsense, so they are rejected with reasons: that is
 * the point; the run must record every sample, make no errors, and cache what it got.
 */
let student: LocalStudent;
let server: RunningServer;
const dir = tempDir();

beforeAll(async () => {
  student = await LocalStudent.load({ model: await tinyModel(), contextSize: 4096, id: 'tiny' });
  server = await startServer({ backend: student, maxTokensLimit: 1024 });
});

afterAll(async () => {
  await server?.close();
  await student?.close();
  dir.cleanup();
});

describe('finesec teach against finesec serve with a tiny model', () => {
  it('records every answer (rejected with reasons), caches them, and re-runs for free', async () => {
    const samples = [fixtureSample('copy_name', true), fixtureSample('copy_title', false), fixtureSample('copy_label', true, 32)];
    const { workspace: ws, kb } = makeWorkspace(dir.dir, 'fx', samples.map((s) => sampleInput(s)));
    const args = ['teach', '--workspace', ws, '--dataset', 'fx', '--teacher', `openai:tiny@${server.url}`, '--resamples', '0', '--max-tokens', '96', '--concurrency', '1', '--json'];
    const first = await runCli(args);
    expect(first.code).toBe(0);
    const s = JSON.parse(first.stdout);
    expect(s).toMatchObject({ todo: 3, errors: 0, left: 0 });
    expect(s.accepted + s.rejected).toBe(3);
    expect(s.calls).toBeGreaterThanOrEqual(3);
    expect(s.promptTokens).toBeGreaterThan(300);
    const rows = withDb(kb, (db) => db.prepare('SELECT status, reasons, raw_output, prompt_tokens, is_llm FROM knowledge').all()) as Array<{
      status: string;
      reasons: string;
      raw_output: string | null;
      prompt_tokens: number;
      is_llm: number;
    }>;
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.is_llm).toBe(1);
      expect(row.raw_output).not.toBeNull();
      expect(row.prompt_tokens).toBeGreaterThan(100);
      const reasons = JSON.parse(row.reasons) as Array<{ code: string; detail: string }>;
      if (row.status === 'rejected') {
        expect(reasons.length).toBeGreaterThan(0);
        for (const r of reasons) expect(r.code).toMatch(/^(not_json|schema|grounding\.[a-z_]+|truth\.(verdict|cwe))$/);
      }
    }
    const again = JSON.parse((await runCli(args)).stdout);
    expect(again).toMatchObject({ alreadyDone: 3, todo: 0, calls: 0 });
    withDb(kb, (db) => db.prepare('DELETE FROM knowledge').run());
    const cached = JSON.parse((await runCli(args)).stdout);
    expect(cached).toMatchObject({ todo: 3, calls: 0, accepted: s.accepted, rejected: s.rejected });
    expect(cached.cacheHits).toBe(s.calls);
  });
});
