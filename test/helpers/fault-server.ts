import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real local HTTP server that speaks the OpenAI chat-completions or the Anthropic messages
 * protocol and answers each request as a script says: a normal answer, any status with any
 * headers, a body that is not JSON, a body cut short, or no answer at all (a hung connection).
 */
export type FaultAction =
  /** A protocol-correct answer whose text (OpenAI content / Anthropic tool input or text) is `content`. */
  | { kind: 'ok'; content: string; usage?: { prompt: number; completion: number } | null; delayMs?: number; finishReason?: string }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  /** A raw body as given, e.g. not JSON. */
  | { kind: 'raw'; status: number; body: string; contentType?: string }
  /** Announces a long body, sends half of it, then drops the connection. */
  | { kind: 'truncate'; content: string }
  /** Reads the request and never answers. */
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FaultServer {
  /** Base URL as a teacher spec expects it: http://127.0.0.1:PORT/v1 for OpenAI, http://127.0.0.1:PORT for Anthropic. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type Script = (request: RecordedRequest, index: number) => FaultAction | Promise<FaultAction>;

export async function startFaultServer(script: Script, options: { protocol?: 'openai' | 'anthropic' } = {}): Promise<FaultServer> {
  const protocol = options.protocol ?? 'openai';
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      const index = requests.length;
      requests.push(recorded);
      const protocolError = checkProtocol(protocol, recorded);
      if (protocolError) {
        send(res, protocolError.status, JSON.stringify(protocolError.body));
        return;
      }
      void Promise.resolve(script(recorded, index)).then((action) => act(action, res, recorded, protocol));
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: protocol === 'openai' ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What a real server of that protocol would refuse: wrong path, missing headers or fields. */
function checkProtocol(protocol: 'openai' | 'anthropic', r: RecordedRequest): { status: number; body: unknown } | undefined {
  if (r.method !== 'POST') return { status: 405, body: { error: { message: 'method not allowed' } } };
  if (protocol === 'openai') {
    if (r.path !== '/v1/chat/completions') return { status: 404, body: { error: { message: `no route ${r.path}` } } };
    if (typeof r.body.model !== 'string' || !Array.isArray(r.body.messages)) return { status: 400, body: { error: { message: 'model and messages are required' } } };
    return undefined;
  }
  if (r.path !== '/v1/messages') return { status: 404, body: { type: 'error', error: { type: 'not_found_error', message: `no route ${r.path}` } } };
  if (typeof r.headers['x-api-key'] !== 'string' || r.headers['x-api-key'] === '') {
    return { status: 401, body: { type: 'error', error: { type: 'authentication_error', message: 'x-api-key header is required' } } };
  }
  if (typeof r.headers['anthropic-version'] !== 'string') {
    return { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version header is required' } } };
  }
  const messages = r.body.messages as Array<{ role?: string }> | undefined;
  if (typeof r.body.model !== 'string' || typeof r.body.max_tokens !== 'number' || !Array.isArray(messages) || messages[0]?.role !== 'user') {
    return { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'model, max_tokens and messages (starting with user) are required' } } };
  }
  if (messages.some((m) => m.role === 'system')) {
    return { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'system goes in the top-level system field' } } };
  }
  return undefined;
}

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function act(action: FaultAction, res: http.ServerResponse, r: RecordedRequest, protocol: 'openai' | 'anthropic'): void {
  switch (action.kind) {
    case 'ok': {
      const body = JSON.stringify(protocol === 'openai' ? openAiAnswer(action, r) : anthropicAnswer(action, r));
      if (action.delayMs) setTimeout(() => send(res, 200, body), action.delayMs);
      else send(res, 200, body);
      return;
    }
    case 'status':
      send(res, action.status, typeof action.body === 'string' ? action.body : JSON.stringify(action.body ?? { error: { message: `status ${action.status}` } }), action.headers);
      return;
    case 'raw':
      send(res, action.status, action.body, {}, action.contentType ?? 'text/html');
      return;
    case 'truncate': {
      const body = JSON.stringify(openAiAnswer({ kind: 'ok', content: action.content }, r));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.write(body.slice(0, Math.floor(body.length / 2)));
      setTimeout(() => res.socket?.destroy(), 10);
      return;
    }
    case 'hang':
      return;
  }
}

function openAiAnswer(a: Extract<FaultAction, { kind: 'ok' }>, r: RecordedRequest): unknown {
  return {
    id: 'chatcmpl-fault',
    object: 'chat.completion',
    created: 0,
    model: r.body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: a.content }, finish_reason: a.finishReason ?? 'stop' }],
    ...(a.usage === null ? {} : { usage: usageOf(a), }),
  };
}

function usageOf(a: Extract<FaultAction, { kind: 'ok' }>): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = a.usage?.prompt ?? 100;
  const completion = a.usage?.completion ?? 50;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function anthropicAnswer(a: Extract<FaultAction, { kind: 'ok' }>, r: RecordedRequest): unknown {
  const tools = r.body.tools as Array<{ name: string }> | undefined;
  let input: unknown;
  try {
    input = JSON.parse(a.content);
  } catch {
    input = undefined;
  }
  const content =
    tools?.length && input !== undefined && typeof input === 'object'
      ? [{ type: 'tool_use', id: 'toolu_fault', name: tools[0]!.name, input }]
      : [{ type: 'text', text: a.content }];
  const u = usageOf(a);
  return {
    id: 'msg_fault',
    type: 'message',
    role: 'assistant',
    model: r.body.model,
    content,
    stop_reason: content[0]!.type === 'tool_use' ? 'tool_use' : 'end_turn',
    usage: { input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens },
  };
}
