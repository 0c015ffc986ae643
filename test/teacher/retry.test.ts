import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/teacher/clock.js';
import { PriceTable } from '../../src/teacher/cost.js';
import { backoffDelayMs, serverRequestedDelayMs } from '../../src/teacher/http/retry.js';
import { OpenAiProvider } from '../../src/teacher/providers/openai.js';
import { renderPrompt, templateFor } from '../../src/teacher/prompts/index.js';
import { startFaultServer, type FaultAction, type FaultServer } from '../helpers/fault-server.js';

const prompt = renderPrompt(templateFor(false), { code: 'int f(void) { return 0; }', language: 'c', label: null, cwes: [], flaw_lines: [] });
const options = { temperature: 0.2, maxTokens: 256 };
const okAnswer: FaultAction = { kind: 'ok', content: '{"verdict":"not_vulnerable","findings":[],"reasoning":["ok"]}' };

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function providerFor(script: (n: number) => FaultAction, config: { maxRetries?: number; timeoutMs?: number } = {}) {
  server = await startFaultServer((_r, n) => script(n));
  const clock = new FakeClock();
  const provider = new OpenAiProvider({
    model: 'fault-model',
    baseUrl: server.url,
    timeoutMs: config.timeoutMs ?? 5_000,
    maxRetries: config.maxRetries ?? 2,
    prices: new PriceTable({}),
    clock,
    random: () => 0,
  });
  return { provider, clock, server };
}

describe('retry delays (openai-node semantics)', () => {
  it('backs off exponentially from 0.5 s to 8 s with at most 25% jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => backoffDelayMs(n, () => 0))).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(backoffDelayMs(0, () => 0.999999)).toBeCloseTo(375, 0);
    expect(backoffDelayMs(4, () => 0.5)).toBe(7000);
  });

  it('reads retry-after-ms first, then Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(serverRequestedDelayMs({ 'retry-after-ms': '250', 'retry-after': '9' }, now)).toBe(250);
    expect(serverRequestedDelayMs({ 'retry-after': '3' }, now)).toBe(3000);
    expect(serverRequestedDelayMs({ 'retry-after': 'Mon, 01 Jan 2024 00:00:07 GMT' }, now)).toBe(7000);
    expect(serverRequestedDelayMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(serverRequestedDelayMs({}, now)).toBeUndefined();
  });
});

describe('OpenAI-compatible provider against a fault-injecting server', () => {
  it('waits what Retry-After asks on a 429, then succeeds', async () => {
    const { provider, clock, server } = await providerFor((n) => (n === 0 ? { kind: 'status', status: 429, headers: { 'retry-after': '3' } } : okAnswer));
    const r = await provider.callApi(prompt, {}, options);
    expect(r.error).toBeUndefined();
    expect(r.output).toContain('not_vulnerable');
    expect(clock.sleeps).toEqual([3000]);
    expect(server.requests).toHaveLength(2);
    provider.close();
  });

  it('prefers retry-after-ms', async () => {
    const { provider, clock } = await providerFor((n) =>
      n === 0 ? { kind: 'status', status: 503, headers: { 'retry-after-ms': '150', 'retry-after': '30' } } : okAnswer,
    );
    expect((await provider.callApi(prompt, {}, options)).error).toBeUndefined();
    expect(clock.sleeps).toEqual([150]);
    provider.close();
  });

  it('retries 500s with exponential backoff and gives up after max_retries with a clear error', async () => {
    const { provider, clock, server } = await providerFor(() => ({ kind: 'status', status: 500, body: { error: { message: 'boom' } } }));
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('server');
    expect(r.error).toMatch(/HTTP 500.*boom/);
    expect(r.output).toBeUndefined();
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([500, 1000]);
    provider.close();
  });

  it('honours max_retries 0 for a 429: one request, no wait', async () => {
    const { provider, clock, server } = await providerFor(() => ({ kind: 'status', status: 429, headers: { 'retry-after': '1' } }), { maxRetries: 0 });
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('rate_limit');
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    provider.close();
  });

  it('does not replace a Retry-After over 60 s by a short backoff: the error is final and fatal', async () => {
    const { provider, clock, server } = await providerFor(() => ({ kind: 'status', status: 429, headers: { 'retry-after': '120' } }));
    const r = await provider.callApi(prompt, {}, options);
    expect(r.fatal).toBe(true);
    expect(r.error).toMatch(/wait 120 s/);
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    provider.close();
  });

  it('treats quota exhaustion as final', async () => {
    const { provider, server } = await providerFor(() => ({
      kind: 'status',
      status: 429,
      body: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } },
    }));
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('quota');
    expect(r.fatal).toBe(true);
    expect(server.requests).toHaveLength(1);
    provider.close();
  });

  it('obeys x-should-retry both ways', async () => {
    const no = await providerFor(() => ({ kind: 'status', status: 503, headers: { 'x-should-retry': 'false' } }));
    expect((await no.provider.callApi(prompt, {}, options)).errorKind).toBe('server');
    expect(no.server.requests).toHaveLength(1);
    no.provider.close();
    await server!.close();
    const yes = await providerFor((n) => (n === 0 ? { kind: 'status', status: 400, headers: { 'x-should-retry': 'true' } } : okAnswer));
    expect((await yes.provider.callApi(prompt, {}, options)).error).toBeUndefined();
    expect(yes.server.requests).toHaveLength(2);
    yes.provider.close();
  });

  it('does not retry a 400 and names it', async () => {
    const { provider, server } = await providerFor(() => ({ kind: 'status', status: 400, body: { error: { message: 'bad field' } } }));
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('bad_request');
    expect(r.error).toMatch(/bad field/);
    expect(server.requests).toHaveLength(1);
    provider.close();
  });

  it('times out a hung connection and retries it', async () => {
    const { provider, server, clock } = await providerFor((n) => (n === 0 ? { kind: 'hang' } : okAnswer), { timeoutMs: 200, maxRetries: 1 });
    const r = await provider.callApi(prompt, {}, options);
    expect(r.error).toBeUndefined();
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([500]);
    provider.close();
  });

  it('reports a timeout clearly once retries are used up', async () => {
    const { provider, server } = await providerFor(() => ({ kind: 'hang' }), { timeoutMs: 150, maxRetries: 1 });
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('timeout');
    expect(r.error).toMatch(/no complete response within 150 ms/);
    expect(server.requests).toHaveLength(2);
    provider.close();
  });

  it('treats a truncated body as a connection error and retries', async () => {
    const { provider, server } = await providerFor((n) => (n === 0 ? { kind: 'truncate', content: okAnswer.kind === 'ok' ? okAnswer.content : '' } : okAnswer));
    const r = await provider.callApi(prompt, {}, options);
    expect(r.error).toBeUndefined();
    expect(server.requests).toHaveLength(2);
    provider.close();
  });

  it('fails clearly on a 200 whose body is not JSON, without retrying', async () => {
    const { provider, server } = await providerFor(() => ({ kind: 'raw', status: 200, body: '<html>gateway</html>' }));
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('invalid_response');
    expect(r.error).toMatch(/not JSON: <html>gateway/);
    expect(server.requests).toHaveLength(1);
    provider.close();
  });

  it('retries a refused connection and then reports it', async () => {
    const { provider, clock, server } = await providerFor(() => okAnswer, { maxRetries: 2 });
    await server.close();
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('connection');
    expect(r.error).toMatch(/ECONNREFUSED/);
    expect(clock.sleeps).toEqual([500, 1000]);
    provider.close();
  });
});
