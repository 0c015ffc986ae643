/**
 * Typed teacher API failures. Providers turn them into `{error, errorKind}` results; `retryable`
 * drives the retry loop and `fatal` stops a teach run (every later request would fail the same way).
 */
export type ApiErrorKind =
  | 'bad_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'request_timeout'
  | 'conflict'
  | 'unprocessable'
  | 'rate_limit'
  | 'quota'
  | 'server'
  | 'status'
  | 'timeout'
  | 'connection'
  | 'invalid_response'
  | 'budget';

export class TeacherApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly fatal: boolean;
  /** Response headers (lower-case names) of a status error; the retry delay is read from them. */
  readonly headers: Record<string, string>;
  constructor(
    kind: ApiErrorKind,
    message: string,
    options: { status?: number; retryable?: boolean; fatal?: boolean; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'TeacherApiError';
    this.kind = kind;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.fatal = options.fatal ?? false;
    this.headers = options.headers ?? {};
  }
}

const kindByStatus: Record<number, ApiErrorKind> = {
  400: 'bad_request',
  401: 'authentication',
  403: 'permission',
  404: 'not_found',
  408: 'request_timeout',
  409: 'conflict',
  422: 'unprocessable',
  429: 'rate_limit',
};

/** Whether openai-node would retry this status: 408, 409, 429 and 5xx, unless x-should-retry says otherwise. */
export function statusIsRetryable(status: number, headers: Record<string, string>): boolean {
  const override = headers['x-should-retry'];
  if (override === 'true') return true;
  if (override === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Quota or billing exhaustion looks like a 429 (OpenAI) or 400 (Anthropic) but waiting never helps. */
export function isQuotaExhausted(status: number, body: unknown): boolean {
  if (status !== 429 && status !== 400 && status !== 402) return false;
  const err = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  if (!err || typeof err !== 'object') return false;
  const { code, type, message } = err as { code?: unknown; type?: unknown; message?: unknown };
  if (code === 'insufficient_quota' || type === 'insufficient_quota') return true;
  if (status === 402) return true;
  return typeof message === 'string' && /credit balance is too low|exceeded your current quota|billing/i.test(message);
}

/** Builds the typed error for a non-2xx response. `body` is the parsed JSON body when it was JSON. */
export function statusError(status: number, headers: Record<string, string>, body: unknown, text: string): TeacherApiError {
  const detail = errorDetail(body, text);
  if (isQuotaExhausted(status, body)) {
    return new TeacherApiError('quota', `HTTP ${status}: quota or credit exhausted: ${detail}`, { status, headers, fatal: true });
  }
  const kind: ApiErrorKind = kindByStatus[status] ?? (status >= 500 ? 'server' : 'status');
  const fatal = kind === 'authentication' || kind === 'permission' || kind === 'not_found';
  return new TeacherApiError(kind, `HTTP ${status} (${kind.replace('_', ' ')}): ${detail}`, {
    status,
    headers,
    retryable: statusIsRetryable(status, headers),
    fatal,
  });
}

function errorDetail(body: unknown, text: string): string {
  const err = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  if (err && typeof err === 'object') {
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && message) return oneLine(message);
  }
  if (typeof err === 'string' && err) return oneLine(err);
  return oneLine(text) || '(empty body)';
}

export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max) + '…' : flat;
}

/**
 * Removes API keys from a message before it is logged or stored: the key itself, and anything
 * shaped like a provider key (servers echo keys back, partly masked, in 401 messages).
 */
export function redactKeys(message: string, apiKey?: string): string {
  let out = apiKey && apiKey.length >= 4 ? message.split(apiKey).join('[redacted]') : message;
  out = out.replace(/\bsk-[A-Za-z0-9_*.-]{6,}/g, '[redacted]');
  return out;
}
