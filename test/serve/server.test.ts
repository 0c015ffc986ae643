import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { LocalStudent } from '../../src/runtime/local-student.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { tinyModel } from '../helpers/tiny-model.js';

let student: LocalStudent;
let server: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  student = await LocalStudent.load({ model: await tinyModel(), contextSize: 1024, id: 'tiny' });
  server = await startServer({ backend: student, maxTokensLimit: 512 });
  client = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  await student?.close();
});

const ask = [{ role: 'user' as const, content: 'Is strcpy(dst, src) safe?' }];
/** A grammar that admits only a 300-character string: the model cannot stop early, so a request surely takes a while. */
const long = { type: 'json_schema' as const, json_schema: { name: 'long', schema: { type: 'string', minLength: 300, maxLength: 300 } } };

describe('finesec serve with the openai client', () => {
  it('listens on loopback and lists its one model', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
    expect((await client.models.retrieve('tiny')).id).toBe('tiny');
  });

  it('answers a chat completion with usage counts, greedy and repeatable', async () => {
    const a = await client.chat.completions.create({ model: 'tiny', messages: ask, max_tokens: 12 });
    const b = await client.chat.completions.create({ model: 'tiny', messages: ask, max_tokens: 12 });
    expect(a.object).toBe('chat.completion');
    expect(a.choices[0]!.message.role).toBe('assistant');
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
    expect(a.usage!.prompt_tokens).toBe(student.countPromptTokens(ask));
    expect(a.usage!.completion_tokens).toBeGreaterThan(0);
    expect(a.usage!.completion_tokens).toBeLessThanOrEqual(12);
    expect(a.usage!.total_tokens).toBe(a.usage!.prompt_tokens + a.usage!.completion_tokens);
    if (a.usage!.completion_tokens === 12) expect(a.choices[0]!.finish_reason).toBe('length');
  });

  it('streams the same text as SSE chunks, then usage and [DONE]', async () => {
    const plain = await client.chat.completions.create({ model: 'tiny', messages: ask, max_tokens: 16, seed: 3, temperature: 0.8 });
    const stream = await client.chat.completions.create({
      model: 'tiny',
      messages: ask,
      max_tokens: 16,
      seed: 3,
      temperature: 0.8,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(finish).toBe(plain.choices[0]!.finish_reason);
    expect(usage).toEqual(plain.usage);
  });

  it('ends the raw SSE stream with data: [DONE]', async () => {
    const res = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', messages: ask, max_tokens: 4, stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter((e) => e !== '');
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events[0]!.slice(6)).choices[0].delta).toEqual({ role: 'assistant', content: '' });
  });

  it('constrains output with response_format json_schema and json_object', async () => {
    const schema = {
      type: 'object',
      properties: {
        verdict: { type: 'string', enum: ['vulnerable', 'not_vulnerable'] },
        line: { type: 'integer', minimum: 1, maximum: 9 },
        note: { type: 'string', maxLength: 12 },
      },
      required: ['verdict', 'line', 'note'],
      additionalProperties: false,
    };
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.create({
        model: 'tiny',
        messages: ask,
        max_tokens: 200,
        temperature: 1,
        seed,
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
      });
      const value = JSON.parse(r.choices[0]!.message.content!) as { verdict: string; line: number; note: string };
      expect(Object.keys(value)).toEqual(['verdict', 'line', 'note']);
      expect(['vulnerable', 'not_vulnerable']).toContain(value.verdict);
      expect(Number.isInteger(value.line) && value.line >= 1 && value.line <= 9).toBe(true);
      expect(value.note.length).toBeLessThanOrEqual(12 * 4);
    }
    const obj = await client.chat.completions.create({
      model: 'tiny',
      messages: ask,
      max_tokens: 300,
      temperature: 1,
      seed: 5,
      response_format: { type: 'json_object' },
    });
    if (obj.choices[0]!.finish_reason === 'stop') expect(typeof JSON.parse(obj.choices[0]!.message.content!)).toBe('object');
  });

  it('reports schema keywords it cannot enforce in a response header', async () => {
    const res = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tiny',
        messages: ask,
        max_tokens: 40,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '^a', maxLength: 3 } } },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-finesec-ignored-schema-keywords')).toBe('/: pattern');
  });
});

describe('finesec serve errors (OpenAI error shape)', () => {
  it('rejects malformed requests with 400 and names the param', async () => {
    const err = await client.chat.completions
      .create({ model: 'tiny', messages: [{ role: 'robot', content: 'x' }] as never })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.type).toBe('invalid_request_error');
    expect(e.param).toBe('messages[0].role');

    const tooMany = await client.chat.completions.create({ model: 'tiny', messages: ask, max_tokens: 100_000 }).catch((x: unknown) => x);
    expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tooMany as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('max_tokens');

    const badSchema = await client.chat.completions
      .create({
        model: 'tiny',
        messages: ask,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { not: { type: 'string' } } } },
      })
      .catch((x: unknown) => x);
    expect(badSchema).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badSchema as Error).message).toMatch(/"not" is not supported/);

    const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{"model": "tiny", "messages": [' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.message).toMatch(/not valid JSON/);
  });

  it('rejects a prompt longer than the context with 400 context_length_exceeded', async () => {
    const long = 'strcpy(buffer, input); '.repeat(400);
    const err = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: long }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
  });

  it('answers 404 for an unknown model or route', async () => {
    const err = await client.chat.completions.create({ model: 'other', messages: ask }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    const res = await fetch(`${server.url}/embeddings`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });

  it('answers 413 for a body over the limit', async () => {
    const small = await startServer({ backend: student, maxBodyBytes: 2048 });
    try {
      const c = new OpenAI({ baseURL: small.url, apiKey: 'unused', maxRetries: 0 });
      const err = await c.chat.completions
        .create({ model: 'tiny', messages: [{ role: 'user', content: 'x'.repeat(4000) }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('request_too_large');
      const ok = await c.chat.completions.create({ model: 'tiny', messages: ask, max_tokens: 2 });
      expect(ok.choices).toHaveLength(1);
    } finally {
      await small.close();
    }
  });

  it('answers 429 with Retry-After when the queue is full', async () => {
    const busy = await startServer({ backend: student, maxQueue: 1 });
    try {
      const c = new OpenAI({ baseURL: busy.url, apiKey: 'unused', maxRetries: 0 });
      const results = await Promise.allSettled(
        [1, 2, 3, 4].map((seed) =>
          c.chat.completions.create({ model: 'tiny', messages: ask, max_tokens: 500, temperature: 1, seed, response_format: long }).withResponse(),
        ),
      );
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as InstanceType<typeof OpenAI.APIError>);
      const served = results.filter((r) => r.status === 'fulfilled');
      // One runs, one waits, the other two are refused.
      expect(served).toHaveLength(2);
      expect(refused).toHaveLength(2);
      for (const e of refused) {
        expect(e).toBeInstanceOf(OpenAI.RateLimitError);
        expect(e.code).toBe('queue_full');
        expect(Number(e.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await busy.close();
    }
  });

  it('stops generating when the client goes away and frees the queue', async () => {
    const abort = new AbortController();
    const gone = fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', messages: ask, max_tokens: 500, temperature: 1, seed: 9, response_format: long }),
      signal: abort.signal,
    }).catch((e: unknown) => e);
    const health = server.url.replace(/\/v1$/, '/health');
    for (let i = 0; i < 200 && ((await (await fetch(health)).json()) as { queued: number }).queued === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    abort.abort();
    expect(await gone).toBeInstanceOf(Error);
    const next = await client.chat.completions.create({ model: 'tiny', messages: ask, max_tokens: 3 });
    expect(next.choices[0]!.message.role).toBe('assistant');
    expect(((await (await fetch(health)).json()) as { queued: number }).queued).toBe(0);
  });

  it('requires the bearer token when an API key is set', async () => {
    const guarded = await startServer({ backend: student, apiKey: 'sekrit' });
    try {
      const wrong = new OpenAI({ baseURL: guarded.url, apiKey: 'nope', maxRetries: 0 });
      const err = await wrong.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
      const bare = await fetch(`${guarded.url}/models`);
      expect(bare.status).toBe(401);
      const right = new OpenAI({ baseURL: guarded.url, apiKey: 'sekrit', maxRetries: 0 });
      expect((await right.models.list()).data[0]!.id).toBe('tiny');
    } finally {
      await guarded.close();
    }
  });
});
