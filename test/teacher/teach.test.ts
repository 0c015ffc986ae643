import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/load.js';
import type { FinesecConfig } from '../../src/config/schema.js';
import { listKnowledge } from '../../src/kb/knowledge.js';
import { FakeClock } from '../../src/teacher/clock.js';
import { teach, type TeachOptions, type TeachSummary } from '../../src/teacher/teach.js';
import { SilentLogger } from '../../src/util/log.js';
import { openKb } from '../../src/kb/db.js';
import { tempDir } from '../helpers/cli.js';
import { startFaultServer, type FaultAction, type FaultServer, type RecordedRequest } from '../helpers/fault-server.js';
import { fixtureSample, isRepair, makeWorkspace, sampleInput, sampleNameOf, type FixtureSample } from './fixtures.js';

const servers: FaultServer[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const c of cleanups.splice(0)) c();
});

function config(spec: string, patch: Partial<FinesecConfig['teacher']> = {}): FinesecConfig {
  const c = defaultConfig();
  c.teacher = { ...c.teacher, spec, max_retries: 1, timeout_seconds: 0.3, resamples: 1, prices: { m: { input: 1, output: 2 } }, ...patch };
  return c;
}

function options(patch: Partial<TeachOptions> = {}): TeachOptions {
  return { dataset: 'fx', teachers: [], hinted: false, refresh: false, concurrency: 4, dryRun: false, resamples: 1, maxTokens: 512, logEverySeconds: 0, ...patch };
}

function answer(report: unknown): FaultAction {
  return { kind: 'ok', content: JSON.stringify(report), usage: { prompt: 400, completion: 200 } };
}

async function setup(samples: FixtureSample[], script: (r: RecordedRequest, n: number) => FaultAction) {
  const { dir, cleanup } = tempDir();
  const server = await startFaultServer(script);
  servers.push(server);
  const { kb } = makeWorkspace(dir, 'fx', samples.map((s) => sampleInput(s)));
  const db = openKb(kb);
  cleanups.push(() => {
    db.close();
    cleanup();
  });
  return { db, server };
}

describe('teach against a fault-injecting server (fake clock)', () => {
  it('ends every fault as a retry, a rejection with its reason, or a clear error, and the run goes on', async () => {
    const names = ['ok_a', 'ok_b', 'rl_a', 'err_a', 'hang_a', 'trunc_a', 'nonjson_a', 'schema_a', 'ungrounded_a', 'wrongcwe_a', 'repair_a', 'resample_a'];
    const samples = [...names.map((n) => fixtureSample(n, true)), fixtureSample('safe_a', false)];
    const byName = new Map(samples.map((s) => [s.name, s]));
    const seen = new Map<string, number>();
    const { db, server } = await setup(samples, (r) => {
      const name = sampleNameOf(r.body);
      const n = seen.get(name) ?? 0;
      seen.set(name, n + 1);
      const good = byName.get(name)!.report;
      const kind = name.replace(/_a$/, '');
      switch (kind) {
        case 'rl':
          return n === 0 ? { kind: 'status', status: 429, headers: { 'retry-after': '2' } } : answer(good);
        case 'err':
          return { kind: 'status', status: 500, body: { error: { message: 'internal failure' } } };
        case 'hang':
          return { kind: 'hang' };
        case 'trunc':
          return n === 0 ? { kind: 'truncate', content: JSON.stringify(good) } : answer(good);
        case 'nonjson':
          return { kind: 'ok', content: 'The function looks fine to me.' };
        case 'schema':
          return answer({ ...good, verdict: 'maybe' });
        case 'ungrounded':
          return answer({ ...good, findings: [{ ...good.findings[0]!, fragment: 'memcpy(dst, src, 99);' }] });
        case 'wrongcwe':
          return answer({ ...good, findings: [{ ...good.findings[0]!, cwe: 'CWE-78' }] });
        case 'repair':
          return isRepair(r.body) ? answer(good) : { kind: 'ok', content: 'Sure! Here is my analysis: it overflows.' };
        case 'resample':
          return (r.body.temperature as number) < 0.5 ? answer({ ...good, findings: [{ ...good.findings[0]!, cwe: 'CWE-78' }] }) : answer(good);
        default:
          return answer(good);
      }
    });
    const clock = new FakeClock();
    const logger = new SilentLogger();
    const summary = (await teach(options(), { db, config: config(`openai:m@${server.url}`), logger, clock })) as TeachSummary;

    expect(summary).toMatchObject({ todo: 13, accepted: 7, rejected: 4, errors: 2, left: 2, stopped: null });
    const rows = listKnowledge(db);
    const status = Object.fromEntries(rows.map((k) => [db.prepare('SELECT function_name FROM samples WHERE id = ?').pluck().get(k.sample_id) as string, k]));
    for (const n of ['ok_a', 'ok_b', 'rl_a', 'trunc_a', 'repair_a', 'resample_a', 'safe_a']) expect(status[n]?.status, n).toBe('accepted');
    const codes = (n: string) => (JSON.parse(status[n]!.reasons) as Array<{ code: string }>).map((r) => r.code);
    expect(codes('nonjson_a')).toEqual(['not_json']);
    expect(codes('schema_a')).toEqual(['schema']);
    expect(codes('ungrounded_a')).toContain('grounding.fragment_not_found');
    expect(codes('wrongcwe_a')).toEqual(['truth.cwe']);
    expect(status.err_a).toBeUndefined();
    expect(status.hang_a).toBeUndefined();
    // Retries: the 429 waited what Retry-After said (on the fake clock).
    expect(clock.sleeps).toContain(2000);
    // A non-JSON answer gets one repair per attempt, and one resample: 4 requests.
    expect(seen.get('nonjson_a')).toBe(4);
    expect(status.nonjson_a!.attempt).toBe(2);
    // The repaired answer is accepted and marked as repaired.
    expect(JSON.parse(status.repair_a!.attempts)).toMatchObject([{ attempt: 1, status: 'accepted', repaired: true }]);
    // Rejection sampling: the second attempt, at a higher temperature, is accepted.
    expect(status.resample_a!.attempt).toBe(2);
    expect(JSON.parse(status.resample_a!.attempts).map((a: { temperature: number }) => a.temperature)).toEqual([0.2, 0.6]);
    // Provenance.
    expect(status.ok_a).toMatchObject({ is_llm: 1, verified: 1, hinted: 0, prompt_version: 'detect-v1', teacher_provider: 'openai', teacher_model: 'm' });
    expect(status.ok_a!.cost_usd).toBeCloseTo((400 * 1 + 200 * 2) / 1e6, 12);
    expect(JSON.parse(status.ok_a!.report!)).toEqual(byName.get('ok_a')!.report);
    expect(summary.errorMessages).toMatchObject({ [Object.keys(summary.errorMessages).find((m) => /internal failure/.test(m))!]: 1 });
    expect(Object.keys(summary.errorMessages).some((m) => /no complete response within 300 ms/.test(m))).toBe(true);

    // A second run asks only about the samples that failed: everything else is done or cached.
    const before = server.requests.length;
    const again = (await teach(options(), { db, config: config(`openai:m@${server.url}`), logger, clock })) as TeachSummary;
    expect(again).toMatchObject({ alreadyDone: 11, todo: 2, errors: 2, accepted: 0, rejected: 0 });
    const asked = server.requests.slice(before).map((r) => sampleNameOf(r.body));
    expect(new Set(asked)).toEqual(new Set(['err_a', 'hang_a']));
    expect(listKnowledge(db)).toHaveLength(11);
  });

  it('records hinted answers under their own prompt version, and the prompt shows the label only then', async () => {
    const f = fixtureSample('hint_a', true);
    const { db, server } = await setup([f], () => answer(f.report));
    const logger = new SilentLogger();
    await teach(options(), { db, config: config(`openai:m@${server.url}`), logger, clock: new FakeClock() });
    await teach(options({ hinted: true }), { db, config: config(`openai:m@${server.url}`), logger, clock: new FakeClock() });
    const rows = listKnowledge(db);
    expect(rows.map((r) => [r.prompt_version, r.hinted])).toEqual([
      ['detect-v1', 0],
      ['detect-v1-hinted', 1],
    ]);
    const users = server.requests.map((r) => (r.body.messages as Array<{ content: string }>)[1]!.content);
    expect(users[0]).not.toMatch(/CWE-121/);
    expect(users[1]).toMatch(/ground truth.*CWE-121/);
  });

  it('stops at once on a fatal error (bad key) and keeps what was done', async () => {
    const samples = Array.from({ length: 6 }, (_, i) => fixtureSample(`auth_${i}`, true));
    const { db, server } = await setup(samples, () => ({ kind: 'status', status: 401, body: { error: { message: 'Incorrect API key provided' } } }));
    const summary = (await teach(options({ concurrency: 1 }), { db, config: config(`openai:m@${server.url}`), logger: new SilentLogger(), clock: new FakeClock() })) as TeachSummary;
    expect(summary.stopped).toMatchObject({ reason: 'fatal', message: expect.stringMatching(/401.*Incorrect API key/) });
    expect(server.requests).toHaveLength(1);
    expect(summary.left).toBe(6);
  });
});

describe('jury of teachers', () => {
  it('takes the majority verdict and records the votes; without a majority the answer is rejected', async () => {
    const f = fixtureSample('jury_a', true);
    const safe = { verdict: 'not_vulnerable', findings: [], reasoning: ['looks bounded'] };
    const a = await startFaultServer(() => answer(f.report));
    const b = await startFaultServer(() => answer({ ...f.report, findings: [{ ...f.report.findings[0]!, confidence: 0.5 }] }));
    const c = await startFaultServer(() => answer(safe));
    const d = await startFaultServer(() => ({ kind: 'ok', content: 'no idea' }));
    servers.push(a, b, c, d);
    const { dir, cleanup } = tempDir();
    const { kb } = makeWorkspace(dir, 'fx', [sampleInput(f)]);
    const db = openKb(kb);
    cleanups.push(() => {
      db.close();
      cleanup();
    });
    const specs = [a, b, c].map((s) => `openai:m@${s.url}`);
    const s1 = (await teach(options({ teachers: specs, resamples: 0 }), { db, config: config('reference'), logger: new SilentLogger(), clock: new FakeClock() })) as TeachSummary;
    expect(s1.accepted).toBe(1);
    const [row] = listKnowledge(db);
    expect(row!.teacher_provider).toBe('jury');
    expect(row!.teacher).toMatch(/^jury\(openai:m@.*,openai:m@.*,openai:m@.*\)$/);
    expect(JSON.parse(row!.meta)).toEqual({ votes: { vulnerable: 2, not_vulnerable: 1 } });
    expect(JSON.parse(row!.report!).findings[0].confidence).toBe(0.9);

    const split = [a, c, d].map((s) => `openai:m@${s.url}`);
    const s2 = (await teach(options({ teachers: split, resamples: 0 }), { db, config: config('reference'), logger: new SilentLogger(), clock: new FakeClock() })) as TeachSummary;
    expect(s2.rejected).toBe(1);
    expect(s2.rejectionReasons).toMatchObject({ jury_no_majority: 1, not_json: 1 });
  });
});
