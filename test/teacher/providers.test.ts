import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/teacher/clock.js';
import { PriceTable } from '../../src/teacher/cost.js';
import { OpenAiProvider } from '../../src/teacher/providers/openai.js';
import { AnthropicProvider, anthropicVersion } from '../../src/teacher/providers/anthropic.js';
import { createProvider } from '../../src/teacher/providers/index.js';
import { parseTeacherSpec, formatTeacherSpec } from '../../src/teacher/spec.js';
import { renderPrompt, templateFor } from '../../src/teacher/prompts/index.js';
import { defaultConfig } from '../../src/config/load.js';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';

const prompt = renderPrompt(templateFor(false), { code: 'int f(void) { return 0; }', language: 'c', label: null, cwes: [], flaw_lines: [] });
const report = { verdict: 'not_vulnerable', findings: [], reasoning: ['returns a constant'] };
const options = { temperature: 0.6, maxTokens: 300 };

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('teacher specs', () => {
  it('parses reference, openai and anthropic specs, with and without URL', () => {
    expect(parseTeacherSpec('reference')).toEqual({ kind: 'reference' });
    expect(parseTeacherSpec('openai:gpt-4o-mini')).toEqual({ kind: 'openai', model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1' });
    expect(parseTeacherSpec('openai:qwen2.5:7b@http://127.0.0.1:11434/v1/')).toEqual({
      kind: 'openai',
      model: 'qwen2.5:7b',
      baseUrl: 'http://127.0.0.1:11434/v1',
    });
    expect(parseTeacherSpec('anthropic:claude-x')).toMatchObject({ kind: 'anthropic', model: 'claude-x', baseUrl: 'https://api.anthropic.com' });
    expect(formatTeacherSpec(parseTeacherSpec('openai:m@http://h:1/v1'))).toBe('openai:m@http://h:1/v1');
  });

  it('rejects bad specs with a usage error', () => {
    expect(() => parseTeacherSpec('gpt4')).toThrow(/expected reference, openai:MODEL/);
    expect(() => parseTeacherSpec('openai:')).toThrow(/model name is missing/);
    expect(() => parseTeacherSpec('mystery:model')).toThrow(/expected reference/);
  });

  it('throws on missing credentials, reads the key only from the named variable, and never keeps it in its id', () => {
    const teacher = { ...defaultConfig().teacher, api_key_env: 'FINESEC_TEST_KEY' };
    const clock = new FakeClock();
    expect(() => createProvider('openai:gpt-4o', teacher, { clock, env: {} })).toThrow(/FINESEC_TEST_KEY.*teacher.api_key_env/);
    expect(() => createProvider('anthropic:claude-x', defaultConfig().teacher, { clock, env: {} })).toThrow(/ANTHROPIC_API_KEY/);
    expect(() => createProvider('openai:gpt-4o', defaultConfig().teacher, { clock, env: {} })).toThrow(/OPENAI_API_KEY/);
    // A local server needs no key unless one was named; a dry run needs none at all.
    expect(createProvider('openai:m@http://127.0.0.1:9/v1', defaultConfig().teacher, { clock, env: {} }).id()).toBe('openai:m@http://127.0.0.1:9/v1');
    expect(() => createProvider('openai:gpt-4o', teacher, { clock, env: {}, requireKey: false })).not.toThrow();
    const p = createProvider('openai:gpt-4o', teacher, { clock, env: { FINESEC_TEST_KEY: 'sk-secret-123' } });
    expect(p.id()).not.toContain('sk-secret');
    expect(JSON.stringify(p.request(prompt, {}, options))).not.toContain('sk-secret');
  });
});

describe('OpenAI-compatible provider', () => {
  it('sends the full request with the report schema as response_format and reads content, usage and cost', async () => {
    server = await startFaultServer(() => ({ kind: 'ok', content: JSON.stringify(report), usage: { prompt: 1000, completion: 500 } }));
    const provider = new OpenAiProvider({
      model: 'm1',
      baseUrl: server.url,
      apiKey: 'k-123',
      timeoutMs: 5000,
      maxRetries: 0,
      prices: new PriceTable({ m1: { input: 2, output: 10 } }),
      clock: new FakeClock(),
    });
    const r = await provider.callApi(prompt, {}, options);
    expect(r).toMatchObject({ output: JSON.stringify(report), cached: false, tokenUsage: { prompt: 1000, completion: 500, total: 1500 } });
    expect(r.cost).toBeCloseTo((1000 * 2 + 500 * 10) / 1e6, 12);
    const sent = server.requests[0]!;
    expect(sent.headers.authorization).toBe('Bearer k-123');
    expect(sent.body).toMatchObject({ model: 'm1', temperature: 0.6, max_tokens: 300, messages: prompt.messages });
    expect((sent.body.response_format as { type: string; json_schema: { schema: unknown } }).type).toBe('json_schema');
    expect((sent.body.response_format as { json_schema: { schema: unknown } }).json_schema.schema).toEqual(prompt.responseSchema);
    expect(sent.body).toEqual(provider.request(prompt, {}, options));
    expect(JSON.parse(provider.requestBody(prompt, options))).toEqual(provider.request(prompt, {}, options));
    provider.close();
  });

  it('falls back to plain JSON instructions when the server rejects response_format, and estimates missing usage', async () => {
    server = await startFaultServer((r) =>
      r.body.response_format
        ? { kind: 'status', status: 400, body: { error: { message: "Unrecognized request argument: response_format" } } }
        : { kind: 'ok', content: JSON.stringify(report), usage: null },
    );
    const provider = new OpenAiProvider({ model: 'm', baseUrl: server.url, timeoutMs: 5000, maxRetries: 0, prices: new PriceTable({}), clock: new FakeClock() });
    const r = await provider.callApi(prompt, {}, options);
    expect(r.error).toBeUndefined();
    expect(r.tokenUsage.estimated).toBe(true);
    expect(r.tokenUsage.prompt).toBeGreaterThan(100);
    expect(server.requests.map((q) => 'response_format' in q.body)).toEqual([true, false]);
    // The logical request (the cache key) keeps response_format; only the body sent drops it.
    expect('response_format' in (provider.request(prompt, {}, options) as object)).toBe(true);
    expect(JSON.parse(provider.requestBody(prompt, options))).toEqual({ ...provider.request(prompt, {}, options), response_format: undefined });
    provider.close();
  });

  it('builds the same body as JSON.stringify of the request, also after the prompt or options change', () => {
    const provider = new OpenAiProvider({ model: 'm"q', baseUrl: 'http://127.0.0.1:9/v1', timeoutMs: 5000, maxRetries: 0, prices: new PriceTable({}), clock: new FakeClock() });
    const expected = (p: typeof prompt, o: typeof options) => JSON.stringify(provider.request(p, {}, o));
    const copy = { ...prompt, messages: prompt.messages.map((m) => ({ ...m })) };
    expect(provider.requestBody(copy, options)).toBe(expected(copy, options));
    expect(provider.requestBody(copy, options)).toBe(expected(copy, options));
    copy.messages[0]!.content += ' changed "in place"\n';
    expect(provider.requestBody(copy, options)).toBe(expected(copy, options));
    copy.messages.push({ role: 'user', content: 'one more' });
    expect(provider.requestBody(copy, options)).toBe(expected(copy, options));
    const other = { temperature: 0, maxTokens: 7 };
    expect(provider.requestBody(copy, other)).toBe(expected(copy, other));
    expect(provider.requestBody(copy, options)).toBe(expected(copy, options));
    provider.close();
  });

  it('never puts the API key into an error message, even when the server echoes it', async () => {
    const key = 'sk-live-0123456789abcdef';
    server = await startFaultServer(() => ({ kind: 'status', status: 401, body: { error: { message: `Incorrect API key provided: ${key}. Also sk-proj-****wxyz.` } } }));
    const provider = new OpenAiProvider({ model: 'm', baseUrl: server.url, apiKey: key, timeoutMs: 5000, maxRetries: 0, prices: new PriceTable({}), clock: new FakeClock() });
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('authentication');
    expect(r.error).toMatch(/Incorrect API key provided: \[redacted\]/);
    expect(r.error).not.toMatch(/sk-/);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${key}`);
    provider.close();
  });

  it('turns an answer without content into a clear error', async () => {
    server = await startFaultServer(() => ({ kind: 'raw', status: 200, body: '{"choices":[]}', contentType: 'application/json' }));
    const provider = new OpenAiProvider({ model: 'm', baseUrl: server.url, timeoutMs: 5000, maxRetries: 0, prices: new PriceTable({}), clock: new FakeClock() });
    const r = await provider.callApi(prompt, {}, options);
    expect(r.errorKind).toBe('invalid_response');
    expect(r.error).toMatch(/choices\[0\]\.message\.content/);
    provider.close();
  });
});

describe('Anthropic provider against a local server speaking the Messages API', () => {
  const make = (url: string, apiKey = 'ak-1', maxRetries = 0) =>
    new AnthropicProvider({
      model: 'claude-test',
      baseUrl: url,
      apiKey,
      timeoutMs: 5000,
      maxRetries,
      prices: new PriceTable({ 'anthropic:claude-test': { input: 3, output: 15 } }),
      clock: new FakeClock(),
    });

  it('sends x-api-key, anthropic-version, a top-level system prompt and a forced report tool; reads the tool input', async () => {
    server = await startFaultServer(() => ({ kind: 'ok', content: JSON.stringify(report), usage: { prompt: 200, completion: 100 } }), { protocol: 'anthropic' });
    const provider = make(server.url);
    const r = await provider.callApi(prompt, {}, options);
    expect(r.error).toBeUndefined();
    expect(JSON.parse(r.output!)).toEqual(report);
    expect(r.finishReason).toBe('tool_use');
    expect(r.cost).toBeCloseTo((200 * 3 + 100 * 15) / 1e6, 12);
    const sent = server.requests[0]!;
    expect(sent.headers['x-api-key']).toBe('ak-1');
    expect(sent.headers['anthropic-version']).toBe(anthropicVersion);
    expect(sent.body.system).toBe(prompt.messages[0]!.content);
    expect(sent.body.tool_choice).toEqual({ type: 'tool', name: (sent.body.tools as Array<{ name: string }>)[0]!.name });
    expect((sent.body.tools as Array<{ input_schema: unknown }>)[0]!.input_schema).toEqual(prompt.responseSchema);
    provider.close();
  });

  it('accepts a text answer, retries 529 overloaded, and reports authentication failures as fatal', async () => {
    server = await startFaultServer(
      (_r, n) =>
        n === 0
          ? { kind: 'status', status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }
          : { kind: 'ok', content: 'Here it is: ' + JSON.stringify(report) },
      { protocol: 'anthropic' },
    );
    const provider = make(server.url, 'ak-1', 1);
    const r = await provider.callApi(prompt, {}, options);
    expect(r.output).toContain('Here it is');
    expect(server.requests).toHaveLength(2);
    provider.close();
    const keyless = make(server.url, '');
    const denied = await keyless.callApi(prompt, {}, options);
    expect(denied.errorKind).toBe('authentication');
    expect(denied.fatal).toBe(true);
    expect(denied.error).toMatch(/x-api-key header is required/);
    keyless.close();
  });
});
