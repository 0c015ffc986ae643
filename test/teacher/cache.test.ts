import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openKb } from '../../src/kb/db.js';
import { countCachedResponses } from '../../src/kb/teacher-cache.js';
import { CachedProvider, cacheKey } from '../../src/teacher/cache.js';
import { FakeClock } from '../../src/teacher/clock.js';
import { PriceTable } from '../../src/teacher/cost.js';
import { OpenAiProvider } from '../../src/teacher/providers/openai.js';
import { renderPrompt, repairPrompt, templateFor } from '../../src/teacher/prompts/index.js';
import { startFaultServer, type FaultAction, type FaultServer } from '../helpers/fault-server.js';
import { tempDir } from '../helpers/cli.js';

const template = templateFor(false);
const prompt = renderPrompt(template, { code: 'int g(int x) { return x + 1; }', language: 'c', label: null, cwes: [], flaw_lines: [] });
const options = { temperature: 0.2, maxTokens: 256 };
const ok: FaultAction = { kind: 'ok', content: '{"verdict":"not_vulnerable","findings":[],"reasoning":["adds one"]}', usage: { prompt: 300, completion: 40 } };

let server: FaultServer | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const c of cleanups.splice(0)) c();
});

async function setup(script: (n: number) => FaultAction) {
  server = await startFaultServer((_r, n) => script(n));
  const { dir, cleanup } = tempDir();
  const db = openKb(join(dir, 'kb.sqlite'));
  const inner = new OpenAiProvider({
    model: 'm',
    baseUrl: server.url,
    timeoutMs: 5000,
    maxRetries: 0,
    prices: new PriceTable({ m: { input: 1, output: 2 } }),
    clock: new FakeClock(),
  });
  cleanups.push(() => {
    inner.close();
    db.close();
    cleanup();
  });
  return { db, inner, server };
}

describe('teacher cache in the knowledge base', () => {
  it('stores a successful answer; the next identical call is a free hit with no request', async () => {
    const { db, inner, server } = await setup(() => ok);
    const cached = new CachedProvider(inner, db);
    const first = await cached.callApi(prompt, {}, options);
    expect(first.cached).toBe(false);
    expect(first.cost).toBeGreaterThan(0);
    const second = await cached.callApi(prompt, {}, options);
    expect(second).toMatchObject({ cached: true, cost: 0, output: first.output, tokenUsage: first.tokenUsage });
    expect(server.requests).toHaveLength(1);
    // A fresh wrapper over the same database (a new run) hits too.
    const again = await new CachedProvider(inner, db).callApi(prompt, {}, options);
    expect(again.cached).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('makes one fetch for concurrent misses of the same request', async () => {
    const { db, inner, server } = await setup(() => ({ ...ok, delayMs: 100 }));
    const cached = new CachedProvider(inner, db);
    const results = await Promise.all(Array.from({ length: 6 }, () => cached.callApi(prompt, {}, options)));
    expect(server.requests).toHaveLength(1);
    expect(results.filter((r) => !r.cached)).toHaveLength(1);
    expect(results.every((r) => r.output === results[0]!.output)).toBe(true);
    expect(cached.stats).toMatchObject({ misses: 1, shared: 5, stored: 1 });
    expect(countCachedResponses(db)).toBe(1);
  });

  it('never caches errors: a failed call (also shared by concurrent waiters) is asked again next time', async () => {
    const { db, inner, server } = await setup((n) => (n === 0 ? { kind: 'status', status: 500, body: { error: { message: 'down' } }, headers: {} } : ok));
    const cached = new CachedProvider(inner, db);
    const failed = await Promise.all([cached.callApi(prompt, {}, options), cached.callApi(prompt, {}, options)]);
    expect(failed.every((r) => r.errorKind === 'server')).toBe(true);
    expect(countCachedResponses(db)).toBe(0);
    const retried = await cached.callApi(prompt, {}, options);
    expect(retried.error).toBeUndefined();
    expect(retried.cached).toBe(false);
    expect(server.requests).toHaveLength(2);
    expect(countCachedResponses(db)).toBe(1);
  });

  it('never caches a 200 whose body is an error', async () => {
    const { db, inner, server } = await setup((n) =>
      n === 0 ? { kind: 'raw', status: 200, body: '{"error":{"message":"upstream failed"}}', contentType: 'application/json' } : ok,
    );
    const cached = new CachedProvider(inner, db);
    expect((await cached.callApi(prompt, {}, options)).error).toMatch(/upstream failed/);
    expect(countCachedResponses(db)).toBe(0);
    expect((await cached.callApi(prompt, {}, options)).error).toBeUndefined();
    expect(server.requests).toHaveLength(2);
  });

  it('keys on the full effective request: temperature, token limit, messages, model and endpoint all matter', async () => {
    const { inner } = await setup(() => ok);
    const base = cacheKey(inner, prompt, {}, options);
    expect(cacheKey(inner, prompt, {}, { ...options })).toBe(base);
    expect(cacheKey(inner, prompt, {}, { ...options, temperature: 0.6 })).not.toBe(base);
    expect(cacheKey(inner, prompt, {}, { ...options, maxTokens: 257 })).not.toBe(base);
    expect(cacheKey(inner, repairPrompt(template, prompt, 'oops', 'not JSON'), {}, options)).not.toBe(base);
    const other = new OpenAiProvider({ model: 'm2', baseUrl: server!.url, timeoutMs: 1, maxRetries: 0, prices: new PriceTable({}), clock: new FakeClock() });
    expect(cacheKey(other, prompt, {}, options)).not.toBe(base);
    const elsewhere = new OpenAiProvider({ model: 'm', baseUrl: 'http://127.0.0.2:1/v1', timeoutMs: 1, maxRetries: 0, prices: new PriceTable({}), clock: new FakeClock() });
    expect(cacheKey(elsewhere, prompt, {}, options)).not.toBe(base);
  });

  it('--refresh skips reading the cache but stores the new answer', async () => {
    const { db, inner, server } = await setup(() => ok);
    await new CachedProvider(inner, db).callApi(prompt, {}, options);
    const refreshed = await new CachedProvider(inner, db, { refresh: true }).callApi(prompt, {}, options);
    expect(refreshed.cached).toBe(false);
    expect(server.requests).toHaveLength(2);
    expect(countCachedResponses(db)).toBe(1);
  });
});
