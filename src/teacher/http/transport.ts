import http from 'node:http';
import https from 'node:https';
import { TeacherApiError, oneLine, statusError } from './errors.js';

export interface HttpResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with ", ". Built on first read. */
  readonly headers: Record<string, string>;
  text: string;
}

/**
 * POSTs JSON over node:http(s) with keep-alive sockets. One instance per provider; close() ends
 * its idle sockets. The whole exchange (connect, send, read the full body) must finish within the
 * timeout. A body that ends early (truncated) is a connection error, as is a reset socket.
 */
export class HttpTransport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: Infinity });
  private lastUrl: URL | undefined;
  private lastTarget: http.RequestOptions | undefined;

  post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpResponse> {
    const target = this.target(url);
    const request = target.protocol === 'https:' ? https.request : http.request;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, value?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(value!);
      };
      const req = request({
        method: target.method,
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        agent: target.agent,
        headers: withBodyHeaders(headers, Buffer.byteLength(body)),
      });
      const timer = setTimeout(() => {
        const err = new TeacherApiError('timeout', `no complete response within ${formatSeconds(timeoutMs)} from ${url.host}`, { retryable: true });
        finish(err);
        req.destroy(err);
      }, timeoutMs);
      req.on('error', (err) => finish(connectionError(url, err)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => finish(connectionError(url, err)));
        res.on('aborted', () => finish(connectionError(url, new Error('response aborted'))));
        res.on('end', () => {
          if (!res.complete) {
            finish(new TeacherApiError('connection', `response from ${url.host} ended before its body was complete`, { retryable: true }));
            return;
          }
          const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
          finish(undefined, lazyResponse(res.statusCode ?? 0, res.headers, text));
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Request options for a URL; a provider posts to one URL, so the last one is kept. */
  private target(url: URL): http.RequestOptions {
    if (url !== this.lastUrl || !this.lastTarget) {
      const secure = url.protocol === 'https:';
      this.lastTarget = {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (secure ? 443 : 80),
        path: url.pathname + url.search,
        agent: secure ? this.httpsAgent : this.httpAgent,
      };
      this.lastUrl = url;
    }
    return this.lastTarget;
  }
}

function lazyResponse(status: number, raw: http.IncomingHttpHeaders, text: string): HttpResponse {
  return new LazyResponse(status, raw, text);
}

/** A response whose flat header record is built only when read (status errors and retries read it). */
class LazyResponse implements HttpResponse {
  private flat: Record<string, string> | undefined = undefined;
  constructor(
    readonly status: number,
    private readonly raw: http.IncomingHttpHeaders,
    readonly text: string,
  ) {}
  get headers(): Record<string, string> {
    this.flat ??= flattenHeaders(this.raw);
    return this.flat;
  }
}

function withBodyHeaders(headers: Record<string, string>, length: number): Record<string, string | number> {
  const out: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': length };
  for (const name in headers) out[name] = headers[name]!;
  return out;
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function connectionError(url: URL, err: Error): TeacherApiError {
  if (err instanceof TeacherApiError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new TeacherApiError('connection', `connection to ${url.host} failed: ${code ? code + ' ' : ''}${oneLine(err.message)}`, {
    retryable: true,
    cause: err,
  });
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}

/**
 * POSTs and returns the parsed JSON body of a 2xx answer. Non-2xx answers throw their typed status
 * error; a 2xx body that is not JSON, or that is an error object, throws 'invalid_response'.
 */
export async function postJson(
  transport: HttpTransport,
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ json: unknown; text: string }> {
  const res = await transport.post(url, headers, body, timeoutMs);
  const parsed = safeJson(res.text);
  if (res.status < 200 || res.status >= 300) throw statusError(res.status, res.headers, parsed, res.text);
  if (parsed === undefined) {
    throw new TeacherApiError('invalid_response', `HTTP ${res.status} with a body that is not JSON: ${oneLine(res.text, 120) || '(empty)'}`, {
      status: res.status,
    });
  }
  if (parsed && typeof parsed === 'object' && 'error' in parsed && (parsed as { error: unknown }).error) {
    const err = statusError(500, {}, parsed, res.text);
    throw new TeacherApiError('invalid_response', `HTTP ${res.status} carrying an error: ${err.message.replace(/^HTTP 500 \(server\): /, '')}`, {
      status: res.status,
    });
  }
  return { json: parsed, text: res.text };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
