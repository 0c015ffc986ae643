import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { InvalidRequestError, PromptTooLongError, type ChatBackend, type ChatResult } from '../runtime/chat-types.js';
import { LocalStudent, type AdapterSpec } from '../runtime/local-student.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { parseChatRequest, type ParsedChatRequest } from './chat-request.js';
import { HttpError, httpErrors } from './errors.js';
import { RequestQueue } from './queue.js';

export interface ServeOptions {
  /** A loaded student (kept open on close), or `model` to load one (closed on close). */
  backend?: ChatBackend;
  model?: string;
  adapters?: AdapterSpec[];
  threads?: number;
  contextSize?: number;
  /** The id served in /v1/models when loading `model` (default: the file name without .gguf). */
  modelId?: string;
  /** Default 127.0.0.1: loopback only unless asked. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** When set, every /v1 request needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Requests that may wait behind the running one; more get 429. Default 16. */
  maxQueue?: number;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest max_tokens a request may ask for; also the default. Default: the context size (or 4096). */
  maxTokensLimit?: number;
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  modelId: string;
  /** Stops accepting, refuses waiting requests (503), lets the running one finish, then closes. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 1 << 20;

/** An OpenAI-compatible HTTP server for one student: GET /v1/models, POST /v1/chat/completions. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const owned = options.backend === undefined;
  let backend: ChatBackend;
  if (options.backend) backend = options.backend;
  else if (options.model) {
    backend = await LocalStudent.load({
      model: options.model,
      ...(options.adapters ? { adapters: options.adapters } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
      ...(options.modelId !== undefined ? { id: options.modelId } : {}),
    });
  } else throw new Error('startServer needs a backend or a model path');

  const queue = new RequestQueue(options.maxQueue ?? 16);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const maxTokensLimit = options.maxTokensLimit ?? backend.contextSize ?? 4096;
  const created = Math.floor(Date.now() / 1000);
  const keyHash = options.apiKey !== undefined ? sha256(options.apiKey) : undefined;
  const inFlight = new Set<Promise<unknown>>();

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (path === '/health') {
        if (req.method !== 'GET') throw httpErrors.methodNotAllowed(req.method ?? '?', path);
        return sendJson(res, 200, { status: 'ok', model: backend.id, queued: queue.pending });
      }
      if (!path.startsWith('/v1/')) throw httpErrors.notFound(`no route ${path}`, 'unknown_url');
      if (keyHash !== undefined) checkBearer(req, keyHash);
      if (path === '/v1/models') {
        if (req.method !== 'GET') throw httpErrors.methodNotAllowed(req.method ?? '?', path);
        return sendJson(res, 200, { object: 'list', data: [modelCard(backend.id, created)] });
      }
      if (path.startsWith('/v1/models/')) {
        if (req.method !== 'GET') throw httpErrors.methodNotAllowed(req.method ?? '?', path);
        const id = decodeURIComponent(path.slice('/v1/models/'.length));
        if (id !== backend.id) throw httpErrors.notFound(`the model ${id} does not exist`, 'model_not_found');
        return sendJson(res, 200, modelCard(backend.id, created));
      }
      if (path === '/v1/chat/completions') {
        if (req.method !== 'POST') throw httpErrors.methodNotAllowed(req.method ?? '?', path);
        const json = await readJsonBody(req, maxBody);
        const request = parseChatRequest(json, maxTokensLimit);
        if (request.model !== backend.id) {
          throw httpErrors.notFound(`the model ${request.model} does not exist (this server has ${backend.id})`, 'model_not_found');
        }
        return await completeChat(req, res, request);
      }
      throw httpErrors.notFound(`no route ${path}`, 'unknown_url');
    } catch (err) {
      sendError(res, err, options.logger);
    }
  };

  const completeChat = async (req: IncomingMessage, res: ServerResponse, request: ParsedChatRequest): Promise<void> => {
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new Error('client closed the connection'));
    });
    const id = `chatcmpl-${randomUUID()}`;
    const createdAt = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finish: string | null): Record<string, unknown> => ({
      id,
      object: 'chat.completion.chunk',
      created: createdAt,
      model: backend.id,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    let streamStarted = false;
    const startStream = (): void => {
      if (streamStarted) return;
      streamStarted = true;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
      writeEvent(res, chunk({ role: 'assistant', content: '' }, null));
    };
    let result: ChatResult;
    try {
      result = await queue.run(
        () =>
          backend.complete({
            messages: request.messages,
            ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
            ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
            ...(request.topP !== undefined ? { topP: request.topP } : {}),
            ...(request.seed !== undefined ? { seed: request.seed } : {}),
            ...(request.stop ? { stop: request.stop } : {}),
            ...(request.responseFormat ? { responseFormat: request.responseFormat } : {}),
            signal: abort.signal,
            ...(request.stream
              ? {
                  onTextChunk: (text: string) => {
                    startStream();
                    if (text) writeEvent(res, chunk({ content: text }, null));
                  },
                }
              : {}),
          }),
        abort.signal,
      );
    } catch (err) {
      if (abort.signal.aborted) return;
      const httpError = toHttpError(err);
      if (streamStarted) {
        writeEvent(res, httpError.body());
        res.end();
        return;
      }
      throw httpError;
    }
    const usage = {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
      total_tokens: result.usage.promptTokens + result.usage.completionTokens,
    };
    const ignored: Record<string, string> = result.ignoredSchemaKeywords?.length
      ? { 'x-finesec-ignored-schema-keywords': result.ignoredSchemaKeywords.join(', ') }
      : {};
    if (request.stream) {
      if (!streamStarted) {
        for (const [k, v] of Object.entries(ignored)) res.setHeader(k, v);
        startStream();
      }
      writeEvent(res, chunk({}, result.finishReason));
      if (request.includeUsage) writeEvent(res, { ...chunk({}, null), choices: [], usage });
      res.write('data: [DONE]\n\n');
      res.end();
      return;
    }
    sendJson(
      res,
      200,
      {
        id,
        object: 'chat.completion',
        created: createdAt,
        model: backend.id,
        choices: [
          { index: 0, message: { role: 'assistant', content: result.text, refusal: null }, logprobs: null, finish_reason: result.finishReason },
        ],
        usage,
      },
      ignored,
    );
  };

  const server: Server = createServer((req, res) => {
    const p = handler(req, res).catch((err: unknown) => sendError(res, err, options.logger));
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });
  // Generation can take minutes; keep Node's default request timeout from cutting it off.
  server.requestTimeout = 0;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/v1`;

  let closing: Promise<void> | undefined;
  return {
    url,
    modelId: backend.id,
    close() {
      closing ??= (async () => {
        queue.close();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.allSettled([...inFlight]);
        server.closeAllConnections();
        await stopped;
        if (owned) await backend.close();
      })();
      return closing;
    },
  };
}

function modelCard(id: string, created: number): Record<string, unknown> {
  return { id, object: 'model', created, owned_by: 'finesec' };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function checkBearer(req: IncomingMessage, keyHash: Buffer): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) throw httpErrors.unauthorized('missing API key: send "Authorization: Bearer <key>"');
  if (!timingSafeEqual(sha256(match[1]!.trim()), keyHash)) throw httpErrors.unauthorized('incorrect API key');
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw httpErrors.tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const piece of req) {
    const buf = piece as Buffer;
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw httpErrors.tooLarge(limit);
    }
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw httpErrors.badRequest('the request body is empty; expected a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw httpErrors.badRequest(`the request body is not valid JSON (${errorMessage(err)})`);
  }
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof PromptTooLongError) return httpErrors.badRequest(err.message, 'messages', 'context_length_exceeded');
  if (err instanceof InvalidRequestError) return httpErrors.badRequest(err.message, err.param);
  return httpErrors.internal(`generation failed: ${errorMessage(err)}`);
}

function sendError(res: ServerResponse, err: unknown, logger: Logger | undefined): void {
  const httpError = toHttpError(err);
  if (httpError.status >= 500) logger?.error(httpError.message);
  if (res.headersSent) {
    res.end();
    return;
  }
  const closeAfter: Record<string, string> = httpError.status === 413 ? { connection: 'close' } : {};
  sendJson(res, httpError.status, httpError.body(), { ...httpError.headers, ...closeAfter });
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function writeEvent(res: ServerResponse, value: unknown): void {
  res.write(`data: ${JSON.stringify(value)}\n\n`);
}
